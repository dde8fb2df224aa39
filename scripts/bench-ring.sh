#!/usr/bin/env bash
# Three `conclave daemon`s in network namespaces (10.77.0.1-3 behind a bridge, as in
# ../shared/bench/corosync/netns-3node.sh), default ring timers. For links sealed (AES-256-GCM) and
# plaintext: one sender on d1, AGREED 100 B / 1 KB / 10 KB (`conclave flood`, its own messages come
# back through the ring's total order), the round trip to self (window 1), then CYCLES cuts of d3's
# bridge port: time from the cut to d1's new regular configuration without d3, and from the restore
# to the merged one (the daemons' log lines, polled every 5 ms). Run as root; prints JSON lines and
# one "cut"/"merge" line per cycle. Usage: bash scripts/bench-ring.sh [messages] [cycles]
# SEGMENT=239.192.77.1 makes the segment address a multicast group (one send per ring broadcast).
# RING_SETTINGS='TokenHoldTimeoutUs = 0' adds spread.conf lines (several: separated by newlines).
# LINKS="sealed" and SIZES="10000" narrow a run to some link kinds and message sizes (A/B comparisons);
# ROUND_TRIP=0 skips the round trip; CONCLAVE_BUILD=DIR runs that build instead of building this tree. After each flood a line gives the daemons' CPU and voluntary
# context switches per message (the three processes summed, from /proc).
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-50000}
cycles=${2:-3}
segment=${SEGMENT:-10.77.0.255}
[ "$(id -u)" = 0 ] || { echo "bench-ring.sh: needs root for network namespaces" >&2; exit 2; }
# CONCLAVE_BUILD=DIR: run a conclave.dll built elsewhere (e.g. an older commit, for an A/B), without building.
if [ -n "${CONCLAVE_BUILD:-}" ]; then
  conclave="dotnet $CONCLAVE_BUILD/conclave.dll"
else
  dotnet build -c Release src/Conclave.Cli -o artifacts/bench >/dev/null
  conclave="dotnet $PWD/artifacts/bench/conclave.dll"
fi
work=$(mktemp -d /tmp/conclave-bench-ring-XXXX)
p="cb$$"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  for ns in ${p}n1 ${p}n2 ${p}n3 ${p}br; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

ip netns add ${p}br; ip -n ${p}br link set lo up
ip -n ${p}br link add br0 type bridge; ip -n ${p}br link set br0 up
for i in 1 2 3; do
  ip netns add ${p}n$i; ip -n ${p}n$i link set lo up
  ip -n ${p}n$i link add eth0 type veth peer name vb$i netns ${p}br
  ip -n ${p}n$i addr add 10.77.0.$i/24 dev eth0; ip -n ${p}n$i link set eth0 up
  ip -n ${p}br link set vb$i master br0; ip -n ${p}br link set vb$i up
done

now_ms() { date +%s%3N; }
# CPU ticks (user, system) and voluntary context switches of the three daemons, summed, then each daemon's
# CPU ticks (user + system): which daemon the time goes to (the sender d1, or the receivers d2 and d3).
daemon_cpu() {
  local user=0 system=0 switches=0 pid each=""
  for pid in "${pids[@]}"; do
    user=$(( user + $(awk '{print $14}' "/proc/$pid/stat") ))
    system=$(( system + $(awk '{print $15}' "/proc/$pid/stat") ))
    switches=$(( switches + $(cat /proc/$pid/task/*/status 2>/dev/null | awk '/^voluntary_ctxt_switches/ {n += $2} END {print n + 0}') ))
    each="$each $(awk '{print $14 + $15}' "/proc/$pid/stat")"
  done
  echo "$user $system $switches$each"
}
# Runs one flood and prints, after its JSON, the daemons' CPU per message (µs: all, user, system) and
# voluntary context switches per message, and each daemon's CPU per message.
flood() {
  local n=$1 before after
  shift
  before=$(daemon_cpu)
  $conclave flood -s $((port + 1)) -n "$n" "$@" --receivers 0 --json
  after=$(daemon_cpu)
  awk -v b="$before" -v a="$after" -v n="$n" -v hz="$(getconf CLK_TCK)" 'BEGIN {
    split(b, x, " "); split(a, y, " "); u = (y[1] - x[1]) * 1e6 / hz / n; s = (y[2] - x[2]) * 1e6 / hz / n;
    printf "{\"daemonCpuUsPerMessage\":%.1f,\"daemonUserUsPerMessage\":%.1f,\"daemonSystemUsPerMessage\":%.1f,\"daemonVoluntarySwitchesPerMessage\":%.2f,\"d1d2d3CpuUsPerMessage\":[%.1f,%.1f,%.1f]}\n", u + s, u, s, (y[3] - x[3]) / n,
      (y[4] - x[4]) * 1e6 / hz / n, (y[5] - x[5]) * 1e6 / hz / n, (y[6] - x[6]) * 1e6 / hz / n }'
}
# Waits until FILE gets a line matching REGEX after line AFTER; prints the ms clock when seen.
wait_line() {
  local file=$1 after=$2 regex=$3 deadline=$(( $(date +%s) + 60 ))
  while [ "$(date +%s)" -lt $deadline ]; do
    if tail -n +"$((after + 1))" "$file" | grep -Eq "$regex"; then now_ms; return 0; fi
    sleep 0.005
  done
  echo "timeout waiting for /$regex/ in $file" >&2; return 1
}

for links in ${LINKS:-sealed plaintext}; do
  conf=$work/spread-$links.conf
  if [ $links = sealed ]; then
    $conclave keygen --cluster "$work/cluster.key" >/dev/null
    echo "ClusterKeyFile = $work/cluster.key" > "$conf"
  else
    echo "DaemonLinkEncryption = off" > "$conf"
  fi
  # FRAGMENT_SIZE=N: ring payload size to try (spread.conf FragmentSize); the default otherwise.
  if [ -n "${FRAGMENT_SIZE:-}" ]; then echo "FragmentSize = $FRAGMENT_SIZE" >> "$conf"; fi
  # RING_SETTINGS="TokenHoldTimeoutUs = 0": extra spread.conf lines to try (e.g. the token hold settings).
  if [ -n "${RING_SETTINGS:-}" ]; then printf '%s\n' "$RING_SETTINGS" >> "$conf"; fi
  printf "Spread_Segment $segment:4803 {\n  d1 10.77.0.1\n  d2 10.77.0.2\n  d3 10.77.0.3\n}\n" >> "$conf"
  port=$((24900 + RANDOM % 1000))
  pids=()
  for i in 1 2 3; do
    ip netns exec ${p}n$i $conclave daemon -c "$conf" -n d$i --port $((port + i)) --state-dir "$work/state-d$i" --status-socket "$work/d$i-$links.status" \
      > "$work/d$i-$links.log" 2>&1 &
    pids+=($!)
  done
  for i in 1 2 3; do wait_line "$work/d$i-$links.log" 0 'regular [0-9.]+: d1, d2, d3$' >/dev/null; done
  grep -ho 'Ring link segments.*' "$work/d1-$links.log" | sed 's/^/# d1: /' || true
  # Daemons are long-running servers: measure them warm. A first flood (not reported) lets the runtime's
  # tiered JIT finish compiling the hot paths of all three daemons; without it the first size measured
  # pays for the compilation.
  $conclave flood -s $((port + 1)) -n 60000 -b 1000 --service agreed --receivers 0 --json > /dev/null
  echo "# links $links, segment $segment, load: $(cut -d' ' -f1-3 /proc/loadavg)"
  for size in ${SIZES:-100 1000 10000}; do
    flood "$count" -b $size --service agreed
  done
  if [ "${ROUND_TRIP:-1}" != 0 ]; then flood 20000 -b 100 -w 1; fi
  # How often the token was kept after sending, held idle, and asked back, retransmissions, split frames (docs/daemon-link.md), per daemon (conclave monitor).
  for i in 1 2 3; do
    echo "# d$i token: $($conclave monitor --json "$work/d$i-$links.status" 2>/dev/null | grep -ioE '"(token(visits|holds|keeps|holdcancels)|retransmitted|splitframes[a-z]*|droppedmalformed)": *[0-9]+' | tr -d '"' | tr '\n' ' ')"
  done
  for c in $(seq "$cycles"); do
    lines=$(wc -l < "$work/d1-$links.log")
    t0=$(now_ms); ip -n ${p}br link set vb3 down
    t1=$(wait_line "$work/d1-$links.log" "$lines" 'regular [0-9.]+: d1, d2$')
    sleep 2
    lines=$(wc -l < "$work/d1-$links.log")
    t2=$(now_ms); ip -n ${p}br link set vb3 up
    t3=$(wait_line "$work/d1-$links.log" "$lines" 'regular [0-9.]+: d1, d2, d3$')
    echo "{\"links\":\"$links\",\"cycle\":$c,\"cutToMembershipMs\":$((t1 - t0)),\"restoreToMergeMs\":$((t3 - t2))}"
    sleep 1
  done
  # A daemon that drops out of a merged ring for a moment shows up as extra regular configurations.
  echo "# regular configurations installed: $(for i in 1 2 3; do printf 'd%s %s  ' $i "$(grep -c 'configuration regular' "$work/d$i-$links.log")"; done)"
  for pid in "${pids[@]}"; do kill "$pid"; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
done
