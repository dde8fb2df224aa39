#!/usr/bin/env bash
# Idle CPU of three `conclave daemon` processes forming one ring on loopback (127.0.0.1-3, sealed
# links, default timers), for each token hold period given (µs; 0 = never hold): the daemons' CPU
# time (utime + stime from /proc) over SECONDS seconds once the ring has formed and settled, in cores.
# Prints one JSON line per hold period with the load average. Usage:
#   bash scripts/bench-ring-idle.sh [seconds] [hold-us ...]      e.g. bash scripts/bench-ring-idle.sh 5 0 2000 36000
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}
shift || true
holds=("$@")
[ ${#holds[@]} -gt 0 ] || holds=(0 2000)
dotnet build -c Release src/Conclave.Cli -o artifacts/bench >/dev/null
conclave="dotnet $PWD/artifacts/bench/conclave.dll"
work=$(mktemp -d /tmp/conclave-bench-idle-XXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
wait_ring() {
  local deadline=$(( $(date +%s) + 60 ))
  for i in 1 2 3; do
    until grep -Eq 'regular [0-9.]+: d1, d2, d3$' "$work/d$i.log"; do
      [ "$(date +%s)" -lt $deadline ] || { echo "timeout: no ring of three" >&2; exit 1; }
      sleep 0.05
    done
  done
}

$conclave keygen --cluster "$work/cluster.key" >/dev/null
hz=$(getconf CLK_TCK)
for hold in "${holds[@]}"; do
  conf=$work/spread-$hold.conf
  port=$((25900 + RANDOM % 1000))
  printf "ClusterKeyFile = %s\nTokenHoldTimeoutUs = %s\nSpread_Segment 127.0.0.255:%s {\n  d1 127.0.0.1\n  d2 127.0.0.2\n  d3 127.0.0.3\n}\n" \
    "$work/cluster.key" "$hold" "$port" > "$conf"
  pids=()
  for i in 1 2 3; do
    $conclave daemon -c "$conf" -n d$i --port $((port + 10 + i)) --state-dir "$work/state-$hold-d$i" > "$work/d$i.log" 2>&1 &
    pids+=($!)
  done
  wait_ring
  sleep 2 # settle: the ring's first idle visits, JIT
  before=0; for pid in "${pids[@]}"; do before=$((before + $(ticks "$pid"))); done
  sleep "$seconds"
  after=0; for pid in "${pids[@]}"; do after=$((after + $(ticks "$pid"))); done
  cores=$(awk -v t=$((after - before)) -v hz="$hz" -v s="$seconds" 'BEGIN { printf "%.3f", t / hz / s }')
  echo "{\"holdUs\":$hold,\"seconds\":$seconds,\"idleCores\":$cores,\"load\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}"
  for pid in "${pids[@]}"; do kill "$pid"; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pids=()
  rm -f "$work"/d?.log
done
