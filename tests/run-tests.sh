#!/bin/sh
# tests/run-tests.sh BUILDDIR [UNIT-TEST-BINARY...]: the one test runner
# behind `make check`.
#
# 1. Runs each cmocka unit test binary (paths relative to BUILDDIR) with
#    CMOCKA_MESSAGE_OUTPUT=TAP; every "ok N" / "not ok N" line counts as one
#    test; a binary that exits non-zero without any "not ok" line (a crash,
#    a sanitizer report) counts as one failure, and so does one that reports
#    no test at all.
# 2. Runs every tests/integration/t-*.sh under SRCDIR, two at a time; each
#    script is one test, exit status 0 = pass.
#
# Each test's output goes to BUILDDIR/test-results/NAME.log; a failure
# prints the end of its log.  TESTS="t-issue test_config ..." runs only
# those.  The last line is always "N passed, N failed"; the exit status is 1
# when anything failed.
#
# Environment: SRCDIR (source tree; default: this script's parent dir),
# ACME_RENEWD, ACMECTL (absolute paths, passed on to the integration tests),
# HELPERS (where the tests/helpers programs are; default BUILDDIR/tests/helpers),
# TESTS, KEEP=1 (integration tests keep their directories),
# INTEGRATION_JOBS (default 2), INTEGRATION_TIMEOUT (seconds, default 300).
#
# POSIX sh: make runs it with $(SHELL), which is dash on Debian.

set -u

if [ $# -lt 1 ]; then
	echo "usage: run-tests.sh BUILDDIR [UNIT-TEST...]" >&2
	exit 2
fi
builddir=$1
shift
: "${SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
jobs=${INTEGRATION_JOBS:-2}
timeout_s=${INTEGRATION_TIMEOUT:-300}
results=$builddir/test-results
selected=${TESTS:-}
passed=0
failed=0

export SRCDIR
export ACME_RENEWD="${ACME_RENEWD:-$builddir/acme-renewd}"
export ACMECTL="${ACMECTL:-$builddir/acmectl}"
export HELPERS="${HELPERS:-$builddir/tests/helpers}"

rm -rf "$results"
mkdir -p "$results" || exit 1

# wanted NAME: is NAME selected by $TESTS (everything when TESTS is empty)?
wanted() {
	[ -z "$selected" ] && return 0
	for w in $selected; do
		w=${w##*/}
		w=${w%.sh}
		[ "$w" = "$1" ] && return 0
	done
	return 1
}

# report_failure NAME LOG
report_failure() {
	echo "---- last 40 lines of $2 ----"
	tail -n 40 "$2"
	echo "---- end of $1 ----"
}

# Every name in $TESTS must exist: a typo must not pass as "0 failed".
known=""

# ---------------------------------------------------------------------------
# Unit tests

for bin in "$@"; do
	name=${bin##*/}
	known="$known $name"
	wanted "$name" || continue
	logf=$results/$name.log
	case $bin in
	/*) path=$bin ;;
	*) path=$builddir/$bin ;;
	esac
	if [ ! -x "$path" ]; then
		echo "missing test binary $path" >"$logf"
		echo "FAIL $name (binary missing)"
		failed=$((failed + 1))
		continue
	fi
	CMOCKA_MESSAGE_OUTPUT=TAP "$path" >"$logf" 2>&1 </dev/null
	rc=$?
	ok=$(grep -cE '^ok [0-9]+' "$logf")
	notok=$(grep -cE '^not ok [0-9]+' "$logf")
	passed=$((passed + ok))
	failed=$((failed + notok))
	if [ "$rc" -ne 0 ] && [ "$notok" -eq 0 ]; then
		failed=$((failed + 1))
		echo "FAIL $name (exit status $rc without a failed test: crash or sanitizer report?)"
		report_failure "$name" "$logf"
	elif [ $((ok + notok)) -eq 0 ]; then
		failed=$((failed + 1))
		echo "FAIL $name (no test results in its output)"
		report_failure "$name" "$logf"
	elif [ "$notok" -ne 0 ]; then
		echo "FAIL $name ($notok of $((ok + notok)) failed)"
		grep -E '^not ok [0-9]+' "$logf" | sed 's/^/    /'
		report_failure "$name" "$logf"
	else
		echo "PASS $name ($ok tests)"
	fi
done

# ---------------------------------------------------------------------------
# Integration tests, $jobs at a time.  Each runs in the background and
# writes its exit status to NAME.rc when it ends; the loop below collects
# finished ones and starts the next.

itests=""
for t in "$SRCDIR"/tests/integration/t-*.sh; do
	[ -f "$t" ] || continue
	name=${t##*/}
	name=${name%.sh}
	known="$known $name"
	wanted "$name" || continue
	itests="$itests $t"
done

running=""	# names of tests in flight

# collect: report every running test that has written its .rc file.
collect() {
	still=""
	for n in $running; do
		if [ -f "$results/$n.rc" ]; then
			rc=$(cat "$results/$n.rc")
			if [ "$rc" = 0 ]; then
				passed=$((passed + 1))
				echo "PASS $n"
			else
				failed=$((failed + 1))
				if [ "$rc" = 124 ]; then
					echo "FAIL $n (timed out after ${timeout_s}s)"
				else
					echo "FAIL $n (exit status $rc)"
				fi
				report_failure "$n" "$results/$n.log"
			fi
			rm -f "$results/$n.rc"
		else
			still="$still $n"
		fi
	done
	running=$still
}

count() {
	set -- $1
	echo $#
}

for t in $itests; do
	while [ "$(count "$running")" -ge "$jobs" ]; do
		sleep 0.2
		collect
	done
	name=${t##*/}
	name=${name%.sh}
	(
		cd "$results" || exit 1
		timeout -k 10 "$timeout_s" bash "$t" >"$results/$name.log" 2>&1 </dev/null
		echo $? >"$results/$name.rc.tmp"
		mv "$results/$name.rc.tmp" "$results/$name.rc"
	) &
	running="$running $name"
done
while [ -n "$running" ]; do
	sleep 0.2
	collect
done
wait

# ---------------------------------------------------------------------------

for w in $selected; do
	w=${w##*/}
	w=${w%.sh}
	case " $known " in
	*" $w "*) ;;
	*)
		echo "FAIL $w (no such test)"
		failed=$((failed + 1))
		;;
	esac
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
