#!/usr/bin/env bash
# Flood matrix through one `conclave daemon`: AGREED 100 B, 1 KB, 10 KB over TCP and the Unix socket,
# one sender and one receiver, then the round trip to self (window 1). Prints one JSON object per run.
# Usage: bash scripts/bench-daemon.sh [messages]   (default 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-100000}
port=4913
dotnet build -c Release src/Conclave.Cli -o artifacts/bench >/dev/null
conclave="dotnet artifacts/bench/conclave.dll"
$conclave daemon --port $port --log-level Warning &
daemon=$!
trap 'kill $daemon 2>/dev/null || true' EXIT
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
for transport in "$port@127.0.0.1" "$port"; do
  for size in 100 1000 10000; do
    $conclave flood -s "$transport" -n "$count" -b "$size" --service agreed --json
  done
  $conclave flood -s "$transport" -n 20000 -b 100 -w 1 --receivers 0 --json
done
