#!/usr/bin/env bash
# Runs every test project and ends with one summary line "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
dotnet test Conclave.slnx -c Release --logger "console;verbosity=normal" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# CI shows only the tail of this output, so each failure's name, message and first stack lines are repeated here.
awk '/^ *Failed [A-Za-z]/ { n = 0; shown = 1; print "FAILED:"; }
     /^ *(Passed|Skipped) [A-Za-z]/ || /^\[xUnit/ || /^Results File/ { shown = 0 }
     shown && n < 25 { print "  " $0; n++ }' "$log"
# VSTest's normal verbosity ends each project with "Total tests: N", then "Passed: N", "Failed: N", "Skipped: N" lines.
awk '/^ *Passed: +[0-9]+$/ { p += $2 } /^ *Failed: +[0-9]+$/ { f += $2 } /^ *Skipped: +[0-9]+$/ { s += $2 }
     END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
rm -f "$log"
exit "$status"
