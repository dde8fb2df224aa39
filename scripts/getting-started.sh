#!/usr/bin/env bash
# The steps of docs/getting-started.md, run end to end: three daemons on this host (127.0.0.1, .2, .3)
# with sealed daemon links, three members with Ed25519 identities, and a secure chat among them in
# which every member reads the other two members' lines under one agreed group key.
#   PORT         the segment's UDP port (default 4803); CLIENT_PORT the daemons' TCP client port (default PORT)
#   SKIP_BUILD=1 use the existing Release build (the test that runs this script in CI sets it)
# Run from CI by tests/Conclave.Distribution.Tests (GettingStartedTests). Exit 0 when every check passed.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 MSBUILDDISABLENODEREUSE=1
PORT=${PORT:-4803}
CLIENT_PORT=${CLIENT_PORT:-$PORT}

# Step 1: build (the conclave command and the samples).
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  dotnet build Conclave.slnx -c Release -v quiet --nologo
fi
conclave() { dotnet src/Conclave.Cli/bin/Release/net10.0/conclave.dll "$@"; }

demo=$(mktemp -d "${TMPDIR:-/tmp}/conclave-demo-XXXXXX")
pids=()
chats=()
cleanup() {
  # The daemons get SIGTERM: they close their sessions and leave the ring.
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$demo"
}
trap cleanup EXIT

# Step 2: a cluster key, shared by the three daemons, seals every packet between them.
conclave keygen --cluster "$demo/cluster.key"

# Step 3: spread.conf with three daemons, one per loopback address.
cat > "$demo/spread.conf" <<CONF
ClusterKeyFile = cluster.key
Spread_Segment 127.0.0.1:$PORT {
    d1 127.0.0.1
}
Spread_Segment 127.0.0.2:$PORT {
    d2 127.0.0.2
}
Spread_Segment 127.0.0.3:$PORT {
    d3 127.0.0.3
}
CONF

# Step 4: start the daemons (each names itself with -n, since all three addresses are this host's).
for i in 1 2 3; do
  dotnet src/Conclave.Cli/bin/Release/net10.0/conclave.dll daemon -c "$demo/spread.conf" -n "d$i" --port "$CLIENT_PORT" --no-unix-socket \
    --state-dir "$demo/state-d$i" --status-socket "$demo/d$i.status" > "$demo/d$i.log" 2>&1 &
  pids+=($!)
done
for i in 1 2 3; do
  for _ in $(seq 1 600); do   # wait (at most ~60 s) until the daemon accepts clients
    if (exec 3<>"/dev/tcp/127.0.0.$i/$CLIENT_PORT") 2>/dev/null; then break; fi
    kill -0 "${pids[$((i - 1))]}" 2>/dev/null || { echo "daemon d$i exited:"; cat "$demo/d$i.log"; exit 1; }
    sleep 0.1
  done
done
echo "three daemons are listening on 127.0.0.1-3:$CLIENT_PORT"

# Step 5: one identity per member, and a trust file naming each member's public key.
for member in alice:1 bob:2 carol:3; do
  name=${member%%:*} i=${member##*:}
  conclave keygen --member "$demo/$name.key" > /dev/null
  echo "#$name#d$i $(sed -n 's/^public: //p' "$demo/$name.key")" >> "$demo/trust.txt"
done
cat "$demo/trust.txt"

# Step 6: the secure chat. Each member sends one line once a keyed view holds all three, and leaves
# after reading the other two members' lines.
for member in alice:1 bob:2 carol:3; do
  name=${member%%:*} i=${member##*:}
  echo "hello from $name" | timeout 180 dotnet samples/SecureChat/bin/Release/net10.0/Conclave.Samples.SecureChat.dll \
    --daemon "$CLIENT_PORT@127.0.0.$i" --name "$name" --key "$demo/$name.key" --trust "$demo/trust.txt" \
    --wait-members 3 --exit-after 2 > "$demo/$name.out" 2>&1 &
  chats+=($!)
done
status=0
for pid in "${chats[@]}"; do wait "$pid" || status=1; done
for name in alice bob carol; do echo "--- $name"; cat "$demo/$name.out"; done
[ "$status" = 0 ] || { echo "a secure chat member failed"; exit 1; }

# Step 7: check that everyone read everyone else, and that all three agreed on the key of their view.
for name in alice bob carol; do
  for other in alice bob carol; do
    [ "$name" = "$other" ] && continue
    grep -q "> hello from $other\$" "$demo/$name.out" || { echo "$name did not read $other's line"; exit 1; }
  done
done
fingerprints=$(grep -h " of 3: " "$demo"/{alice,bob,carol}.out | sed 's/.*key fingerprint //' | sort -u | wc -l)
[ "$fingerprints" -ge 1 ] || { echo "no keyed view of three members"; exit 1; }
for name in alice bob carol; do grep -h " of 3: " "$demo/$name.out" | tail -1 | sed 's/.*key fingerprint //'; done | sort -u > "$demo/last-keys"
[ "$(wc -l < "$demo/last-keys")" = 1 ] || { echo "members ended with different keys:"; cat "$demo/last-keys"; exit 1; }

# Step 8: what the daemons report.
conclave monitor "$demo/d1.status" "$demo/d2.status" "$demo/d3.status"
echo "getting started: OK (secure chat across three daemons, key fingerprint $(cat "$demo/last-keys"))"
