#!/bin/bash
# bench/memcheck.sh [BUILDDIR]: the whole integration suite with acme-renewd
# and acmectl under valgrind's memcheck (tests/memcheck.sh does the work:
# see there).  Fails (exit status 1) when any test fails or any process
# reports a memory error or a definite or indirect leak, naming the test
# and printing valgrind's first report.  Takes ~13 min on 2 cores.
#
# BUILDDIR: a plain (not sanitized) build; default $ACME_RENEWD's
# directory, else ./build, else the source tree itself.
# The summary goes to ${BENCH_RESULTS:-bench/results}/memcheck-<UTC>.txt,
# valgrind's logs stay in BUILDDIR/memcheck/logs (and
# BUILDDIR/memcheck-daemon-only/logs for the second pass).
# MEMCHECK_SKIP adds names to the list of tests left out below.
set -u -o pipefail

SRCDIR=$(cd "$(dirname "$0")/.." && pwd)

# Left out, and why: these do not run the daemon as a child of the test.
SKIP="
t-journal	the daemon runs in a container's mount namespace (nsenter), where the wrapper and the build are not at their paths
t-systemd-unit	runs the installed acme-renewd under systemd in a container, not \$ACME_RENEWD
"
# Run with the daemon alone under valgrind (a second pass), and why: their
# acmectl clients come in crowds, each one a valgrind of its own would
# make seconds of CPU out of every request and measure valgrind.
DAEMON_ONLY="
t-ctl-load	200 acmectl status at once
t-crash-safety	two clients forcing renewals in a loop, under timeout 20, through 25 restarts
"

if [ $# -ge 1 ]; then
	build=$1
elif [ -n "${ACME_RENEWD:-}" ]; then
	build=$(dirname "$ACME_RENEWD")
elif [ -x "$SRCDIR/build/acme-renewd" ]; then
	build=$SRCDIR/build
else
	build=$SRCDIR
fi
[ -x "$build/acme-renewd" ] || {
	echo "memcheck: no acme-renewd in $build: build it first (or give BUILDDIR)" >&2
	exit 1
}
if grep -q -- '-fsanitize' "$build/Makefile" 2>/dev/null; then
	echo "memcheck: $build is a sanitizer build; valgrind needs a plain one" >&2
	exit 1
fi

names() {
	printf '%s\n' "$1" | awk -F'\t' 'NF { print $1 }' | tr '\n' ' '
}
skip=" $(names "$SKIP") ${MEMCHECK_SKIP:-} "
daemon_only=" $(names "$DAEMON_ONLY") "
tests=()
dtests=()
for t in "$SRCDIR"/tests/integration/t-*.sh; do
	n=$(basename "$t" .sh)
	case $skip in
	*" $n "*) continue ;;
	esac
	case $daemon_only in
	*" $n "*) dtests+=("$n") ;;
	*) tests+=("$n") ;;
	esac
done

results=${BENCH_RESULTS:-$SRCDIR/bench/results}
mkdir -p "$results"
out=$results/memcheck-$(date -u +%Y%m%dT%H%M%SZ).txt
{
	echo "# bench/memcheck.sh $(date -u '+%F %T') UTC on $(uname -n), $(nproc) cores"
	echo "# binary: $build/acme-renewd (built $(date -u -r "$build/acme-renewd" '+%F %T') UTC)"
	echo "# $(valgrind --version)"
	echo "# left out:"
	printf '%s\n' "$SKIP" | awk -F'\t' 'NF { printf "#   %s: %s\n", $1, $2 }'
	echo "# acme-renewd alone under valgrind:"
	printf '%s\n' "$DAEMON_ONLY" | awk -F'\t' 'NF { printf "#   %s: %s\n", $1, $2 }'
} | tee "$out"
t0=$SECONDS
rc=0
"$SRCDIR/tests/memcheck.sh" "$build" "${tests[@]}" 2>&1 | tee -a "$out" ||
	rc=1
p1=$(tail -n 1 "$out")
if [ ${#dtests[@]} -gt 0 ]; then
	MEMCHECK_DIR=$build/memcheck-daemon-only MEMCHECK_WRAP=acme-renewd \
		"$SRCDIR/tests/memcheck.sh" "$build" "${dtests[@]}" 2>&1 |
		tee -a "$out" || rc=1
	p2=$(tail -n 1 "$out")
	# One total over both passes.
	echo "$p1 / $p2" | awk '{ print $1 + $6 " passed, " $3 + $8 " failed" }' |
		tee -a "$out"
fi
echo "# wall time $((SECONDS - t0)) s" | tee -a "$out"
echo "memcheck: results in $out" >&2
exit "$rc"
