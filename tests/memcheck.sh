#!/bin/bash
# tests/memcheck.sh BUILDDIR TEST...: run integration tests (names as in
# tests/integration, e.g. t-issue) with every acme-renewd and acmectl they
# start under valgrind's memcheck, and fail a test on any memory error or
# leak valgrind reports, even when the test itself passed.
#
# How: two wrapper scripts, acme-renewd and acmectl, exec valgrind on the
# binaries in BUILDDIR; ACME_RENEWD and ACMECTL point at them, so every
# start of either (lib.sh's daemon_start and acmectl, and a test's own
# "$ACME_RENEWD" / "$ACMECTL") goes through valgrind with
#   --leak-check=full --errors-for-leak-kinds=definite,indirect
#   --error-exitcode=99 --track-fds=no
# and the suppressions in tests/memcheck.supp.  Each process writes its
# own log, named after the test (lib.sh exports TEST_NAME) and the pid.
# A log with "ERROR SUMMARY: N errors" and N > 0 fails its test; the first
# report of it is printed.  A process that a signal ended (the tests'
# cleanup or `timeout` sending SIGTERM before it set up its handlers) was
# stopped in the middle of its work: what it held then is no leak, so only
# its other errors count (a crash, SIGSEGV, SIGABRT..., is one).  A log
# without a summary (SIGKILL) is counted, not failed.
#
# Output: PASS/FAIL per test, the last line "N passed, N failed" (each test
# counts once); exit status 1 when anything failed.
#
# Environment: MEMCHECK_DIR (logs and wrappers; default: a directory under
# BUILDDIR that is replaced at each run), MEMCHECK_WRAP (the binaries run
# under valgrind, default "acme-renewd acmectl"; the others run as they
# are), TEST_TIME_SCALE (default 6: the time limits of lib.sh's wait
# helpers), INTEGRATION_TIMEOUT (default 900 s per test), INTEGRATION_JOBS
# (default 2), VALGRIND (default valgrind).
set -u

if [ $# -lt 2 ]; then
	echo "usage: memcheck.sh BUILDDIR TEST..." >&2
	exit 2
fi
builddir=$(cd "$1" && pwd) || exit 2
shift
srcdir=$(cd "$(dirname "$0")/.." && pwd)
valgrind=${VALGRIND:-valgrind}
dir=${MEMCHECK_DIR:-$builddir/memcheck}
supp=$srcdir/tests/memcheck.supp

command -v "$valgrind" >/dev/null 2>&1 || {
	echo "memcheck: $valgrind is not installed (Debian package valgrind; scripts/bootstrap.sh installs it)" >&2
	exit 1
}
for b in acme-renewd acmectl; do
	[ -x "$builddir/$b" ] || {
		echo "memcheck: no executable $builddir/$b (build first)" >&2
		exit 1
	}
done

rm -rf "$dir"
mkdir -p "$dir/bin" "$dir/logs" || exit 1
# Tests run acmectl as other users too (t-ctl-permissions): valgrind must
# be able to write their logs.
chmod 1777 "$dir/logs"

# wrapper NAME: $dir/bin/NAME, which runs BUILDDIR/NAME under valgrind.
# exec keeps the pid: the tests signal and wait for what they started.
wrapper() {
	cat >"$dir/bin/$1" <<EOF
#!/bin/sh
exec $valgrind --tool=memcheck --leak-check=full \\
	--errors-for-leak-kinds=definite,indirect --error-exitcode=99 \\
	--track-fds=no --child-silent-after-fork=yes --num-callers=40 \\
	--suppressions=$supp \\
	--log-file="$dir/logs/\${TEST_NAME:-unknown}.$1.%p.\$(date +%s%N).log" \\
	$builddir/$1 "\$@"
EOF
	chmod 755 "$dir/bin/$1"
}
wrap=${MEMCHECK_WRAP:-acme-renewd acmectl}
for b in acme-renewd acmectl; do
	case " $wrap " in
	*" $b "*) wrapper "$b" ;;
	*) ln -s "$builddir/$b" "$dir/bin/$b" ;;
	esac
done

export ACME_RENEWD=$dir/bin/acme-renewd
export ACMECTL=$dir/bin/acmectl
export TEST_TIME_SCALE=${TEST_TIME_SCALE:-6}
export INTEGRATION_TIMEOUT=${INTEGRATION_TIMEOUT:-900}
export SRCDIR=$srcdir

echo "memcheck: $# test(s), $wrap under valgrind, logs in $dir/logs"
TESTS="$*" sh "$srcdir/tests/run-tests.sh" "$dir/run" >"$dir/run.log" 2>&1
grep -E '^(PASS|FAIL) ' "$dir/run.log" | sed 's/^/  run-tests: /'

# reports LOG [noleaks]: valgrind's error records in LOG (paragraphs
# between "==PID== " lines), each ending with a line "@@"; with noleaks,
# leak records are left out.
reports() {
	awk -v noleaks="${2:-}" '
	function flush() { if (keep) printf "%s@@\n", buf; buf = ""; keep = 0 }
	/^==[0-9]+== $/ { flush(); next }
	{ buf = buf $0 "\n" }
	/Invalid (read|write|free)|uninitialised|Conditional jump|Syscall param|Mismatched free|Source and destination overlap|Argument .* of function|Jump to the invalid address|fishy/ { keep = 1 }
	/Process terminating with default action of signal ([4-8]|11) / { keep = 1 }
	/are (definitely|indirectly) lost/ && noleaks == "" { keep = 1 }
	END { flush() }' "$1"
}

# first_report LOG [noleaks]; a kind of report the patterns above miss
# still shows: then the log from its first record on.
first_report() {
	local out

	out=$(reports "$@" | awk '/^@@$/ { exit } { print }' | head -n 60)
	if [ -n "$out" ]; then
		printf '%s\n' "$out"
	else
		awk 'started { print } /^==[0-9]+== Parent PID:/ { started = 1 }' "$1" |
			head -n 60
	fi
}

passed=0
failed=0
for t in "$@"; do
	t=${t##*/}
	t=${t%.sh}
	bad=""
	n=0
	unfinished=0
	signalled=0
	for log in "$dir/logs/$t".*.log; do
		[ -f "$log" ] || continue
		n=$((n + 1))
		errs=$(sed -n 's/^==[0-9]*== ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" | tail -n 1)
		if [ -z "$errs" ]; then
			unfinished=$((unfinished + 1))
		elif grep -q '== Process terminating with default action of signal' "$log"; then
			signalled=$((signalled + 1))
			[ -z "$(reports "$log" noleaks)" ] || bad="$bad $log"
		elif [ "$errs" -gt 0 ]; then
			bad="$bad $log"
		fi
	done
	result=$(grep -E "^(PASS|FAIL) $t( |\$)" "$dir/run.log" | head -n 1)
	if [ -n "$bad" ]; then
		failed=$((failed + 1))
		echo "FAIL $t (valgrind reported errors in $(echo $bad | wc -w) of $n processes)"
		for log in $bad; do
			echo "---- $log ----"
			grep -m1 '== Command:' "$log"
			if grep -q '== Process terminating with default action of signal' "$log"; then
				first_report "$log" noleaks
			else
				first_report "$log"
			fi
		done
	elif [ "${result%% *}" != PASS ]; then
		failed=$((failed + 1))
		echo "FAIL $t (the test failed under valgrind: ${result:-no result})"
		sed -n "/^---- last 40 lines of .*\/$t.log ----\$/,/^---- end of $t ----\$/p" "$dir/run.log"
	elif [ "$n" -eq 0 ]; then
		passed=$((passed + 1))
		echo "PASS $t (ran neither acme-renewd nor acmectl)"
	else
		passed=$((passed + 1))
		extra=""
		[ "$signalled" -eq 0 ] ||
			extra="$extra, $signalled ended by a signal (leaks not counted)"
		[ "$unfinished" -eq 0 ] ||
			extra="$extra, $unfinished killed before their summary"
		echo "PASS $t ($((n - signalled - unfinished)) of $n processes clean$extra)"
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
