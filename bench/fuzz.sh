#!/bin/bash
# bench/fuzz.sh [SECONDS]: every libFuzzer target of tests/fuzz/ for
# SECONDS (default 600), FUZZ_JOBS (default 2) at a time, built with
# `configure CC=clang --enable-fuzzers` in a build directory of its own,
# ${FUZZ_BUILD:-${TMPDIR:-/tmp}/acme-renewd-fuzz-build} (configured there
# the first time, then brought up to date with make).  Each target starts
# from its seed corpus (tests/fuzz/corpus/TARGET) and dictionary.
#
# Reported per target: executions and executions per second, coverage
# (edges of the daemon's own code; libraries are not instrumented) and
# features, the corpus it grew, and any crash, leak or timeout with the
# input that caused it.  Written to bench/results/fuzz-<UTC time>.txt; the
# grown corpora, logs and crash inputs to bench/results/fuzz-<UTC time>/.
# Exit status 1 when any target failed.
#
# Packages (Debian 12): clang libclang-rt-14-dev, plus the daemon's build.
set -u

SECS=${1:-600}
case $SECS in
'' | *[!0-9]*)
	echo "usage: $0 [SECONDS]" >&2
	exit 2
	;;
esac
BENCH=$(cd "$(dirname "$0")" && pwd)
SRCDIR=$(cd "$BENCH/.." && pwd)
BUILD=${FUZZ_BUILD:-${TMPDIR:-/tmp}/acme-renewd-fuzz-build}
RESULTS=${BENCH_RESULTS:-$BENCH/results}
DATE=$(date -u +%Y-%m-%dT%H%M%SZ)
OUT=$RESULTS/fuzz-$DATE.txt
WORK=$RESULTS/fuzz-$DATE

die() {
	echo "fuzz.sh: $*" >&2
	exit 1
}

out() {
	printf '%s\n' "$*" | tee -a "$OUT"
}

command -v clang >/dev/null || die "clang is not installed (apt-get install clang libclang-rt-14-dev)"
mkdir -p "$RESULTS" "$BUILD" || die "cannot create $RESULTS or $BUILD"
if [ ! -x "$SRCDIR/configure" ]; then
	(cd "$SRCDIR" && autoreconf -fi) >&2 || die "autoreconf failed"
fi
echo "fuzz.sh: building the fuzzers in $BUILD" >&2
(cd "$BUILD" && { [ -f Makefile ] ||
	"$SRCDIR/configure" -q CC=clang --enable-fuzzers; } &&
	make -j"$(nproc)" >build.log 2>&1) ||
	die "the build failed (see $BUILD/build.log)"
grep -q -- '--enable-fuzzers' "$BUILD/config.status" ||
	die "$BUILD is not configured with --enable-fuzzers"

out "# fuzz  $(date -u '+%F %T UTC'), $SECS s per target, ${FUZZ_JOBS:-2} at a time"
out "# machine: $(hostname), $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), kernel $(uname -r)"
out "# source tree: $(git -C "$SRCDIR" describe --always --dirty 2>/dev/null || echo '?'); $(clang --version | head -n 1)"
out "# load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
rc=0
FUZZ_WORKDIR=$WORK "$SRCDIR/tests/fuzz/run.sh" "$BUILD" "$SECS" >"$WORK.run" 2>&1 || rc=$?
tee -a "$OUT" <"$WORK.run"
rm -f "$WORK.run"
out "# corpora, logs and any failing input: $WORK/"
exit $((rc != 0))
