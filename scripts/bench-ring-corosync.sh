#!/usr/bin/env bash
# The Corosync peer of scripts/bench-ring.sh, for the same run: three corosync 3.1.7 nodes in
# network namespaces with ../shared/bench/corosync (copied to a temp directory, so its logs stay
# out of shared/): crypto (aes256+sha256) and nocrypto, one sender in n1 with receivers in n2 and
# n3, AGREED 100 B / 1 KB / 10 KB, round trip to self, then CYCLES cuts of n3's bridge port
# (partition.py). Run as root with corosync and libcpg-dev installed (apt-get install corosync
# libcpg-dev gcc). Uses the namespaces n1 n2 n3 nbr of netns-3node.sh: run one at a time.
# Usage: bash scripts/bench-ring-corosync.sh [messages] [cycles]
set -euo pipefail
count=${1:-50000}
cycles=${2:-2}
src=$(cd "$(dirname "$0")/../.." && pwd)/shared/bench/corosync
[ -d "$src" ] || src=/work/shared/bench/corosync
[ "$(id -u)" = 0 ] || { echo "bench-ring-corosync.sh: needs root" >&2; exit 2; }
command -v corosync >/dev/null || { echo "bench-ring-corosync.sh: corosync is not installed" >&2; exit 2; }
work=$(mktemp -d /tmp/corosync-bench-XXXX)
cp -r "$src"/. "$work"/
cd "$work"
mkdir -p logs
gcc -O2 -Wall -o cpgbench cpgbench.c -lcpg
[ -f /etc/corosync/authkey ] || corosync-keygen -l -k /etc/corosync/authkey >/dev/null
./netns-3node.sh setup >/dev/null
trap './netns-3node.sh stop >/dev/null; ./netns-3node.sh teardown; rm -rf "$work"' EXIT
for mode in crypto nocrypto; do
  ./netns-3node.sh start $mode >/dev/null
  echo "# corosync $mode, load: $(cut -d' ' -f1-3 /proc/loadavg)"
  N=$count RUNS=1 TAG=-ring ./bench-3node.sh $mode | grep -E '^(send|lat)'
  ./partition.py $mode "$cycles" bridge | grep SUMMARY
  ./netns-3node.sh stop >/dev/null
done
