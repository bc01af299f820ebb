#!/bin/bash
# bench/crash.sh [KILLS]: the long variant of tests/integration/
# t-crash-safety.sh: KILLS (default 500) SIGKILLs of a daemon renewing
# eight 30-second certificates, every invariant of DESIGN.md "Files on
# disk" checked after each restart (see the test's header).  About 2 s per
# kill.  Exit status 0 when every check held; the test's log and the kill
# count go to bench/results/crash-<UTC time>.txt.
set -eu
BENCH_NAME=crash
. "$(dirname "$0")/common.sh"

KILLS=${1:-${KILLS:-500}}
BENCH_NAME=crash-$KILLS
RESULTS_FILE=$BENCH_RESULTS/$BENCH_NAME-$BENCH_DATE.txt
results_header
load_line
rc=0
t0=$(now_ns)
CRASH_KILLS=$KILLS bash "$SRCDIR/tests/integration/t-crash-safety.sh" \
	>"$T/crash.log" 2>&1 </dev/null || rc=$?
secs=$(awk -v x="$(ms_since "$t0")" 'BEGIN { printf "%.0f", x / 1000 }')
grep -E 'kills in|FAIL' "$T/crash.log" | while IFS= read -r l; do out "$l"; done
if [ "$rc" = 0 ]; then
	out "crash-$KILLS: every invariant held after each of $KILLS kills ($secs s)"
else
	tail -n 40 "$T/crash.log" >>"$RESULTS_FILE"
	out "crash-$KILLS: FAILED (exit status $rc after $secs s; see the log above)"
fi
log "results in $RESULTS_FILE"
exit "$rc"
