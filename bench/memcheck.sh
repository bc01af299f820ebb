#!/bin/bash
# bench/memcheck.sh [BUILDDIR]: the whole integration suite with acme-renewd
# and acmectl under valgrind's memcheck (tests/memcheck.sh does the work:
# see there).  Fails (exit status 1) when any test fails or any process
# reports a memory error or a definite or indirect leak, naming the test
# and printing valgrind's first report.  Takes ~30 min on 2 cores.
#
# BUILDDIR: a plain (not sanitized) build; default $ACME_RENEWD's
# directory, else ./build, else the source tree itself.
# The summary goes to ${BENCH_RESULTS:-bench/results}/memcheck-<UTC>.txt,
# valgrind's logs stay in BUILDDIR/memcheck/logs.
# MEMCHECK_SKIP adds names to the list of tests left out below.
set -u -o pipefail

SRCDIR=$(cd "$(dirname "$0")/.." && pwd)

# Left out, and why: these do not run the daemon as a child of the test.
SKIP="
t-journal	the daemon runs in a container's mount namespace (nsenter), where the wrapper and the build are not at their paths
t-systemd-unit	runs the installed acme-renewd under systemd in a container, not \$ACME_RENEWD
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

skip=$(printf '%s\n' "$SKIP" | awk -F'\t' 'NF { print $1 }')
skip="$skip ${MEMCHECK_SKIP:-}"
tests=()
for t in "$SRCDIR"/tests/integration/t-*.sh; do
	n=$(basename "$t" .sh)
	case " $(echo $skip) " in
	*" $n "*) continue ;;
	esac
	tests+=("$n")
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
} | tee "$out"
t0=$SECONDS
rc=0
"$SRCDIR/tests/memcheck.sh" "$build" "${tests[@]}" 2>&1 | tee -a "$out" ||
	rc=1
echo "# wall time $((SECONDS - t0)) s" | tee -a "$out"
echo "memcheck: results in $out" >&2
exit "$rc"
