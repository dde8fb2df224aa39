#!/usr/bin/env bash
# Runs every test project and ends with one summary line "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
dotnet test Conclave.slnx -c Release --logger "console;verbosity=normal" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# VSTest's normal verbosity ends each project with "Total tests: N", then "Passed: N", "Failed: N", "Skipped: N" lines.
awk '/^ *Passed: +[0-9]+$/ { p += $2 } /^ *Failed: +[0-9]+$/ { f += $2 } /^ *Skipped: +[0-9]+$/ { s += $2 }
     END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
rm -f "$log"
exit "$status"
