#!/bin/sh
# hooks/flaky.sh COUNTER FAILS: a deploy hook that fails (exit 1) on its
# first FAILS runs and succeeds afterwards; COUNTER is a file holding the
# number of runs so far.  Prints one line per run (for the daemon's log).
counter=$1
fails=$2
n=$(cat "$counter" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" >"$counter"
if [ "$n" -le "$fails" ]; then
	echo "flaky-hook run $n: failing on purpose"
	exit 1
fi
echo "flaky-hook run $n: ok"
exit 0
