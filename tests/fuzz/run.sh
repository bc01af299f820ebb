#!/bin/bash
# tests/fuzz/run.sh BUILD_DIR SECONDS [TARGET...]: runs the libFuzzer
# targets built in BUILD_DIR (configure CC=clang --enable-fuzzers), each
# for SECONDS, FUZZ_JOBS at a time (default 2), from a copy of its seed
# corpus tests/fuzz/corpus/TARGET/ with tests/fuzz/TARGET.dict when there
# is one.  TARGET: acme certinfo config control tsigkey (all by default).
#
# Prints one line per target (executions, coverage, corpus size, verdict),
# then "N passed, N failed": a target passes when it ran its whole time
# without a crash, a leak, a timeout or running out of memory.  Exit 0
# when all passed.
#
# Environment: FUZZ_WORKDIR (default: a temporary directory, removed when
# everything passed) gets TARGET/{corpus,log,crash-*...}; FUZZ_LEAKS=0
# turns LeakSanitizer off where it cannot run (see scripts/bootstrap.sh);
# FUZZ_ARGS adds libFuzzer options.
set -u

ALL_TARGETS=(acme certinfo config control tsigkey)

usage() {
	echo "usage: $0 BUILD_DIR SECONDS [TARGET...]" >&2
	exit 2
}

[ $# -ge 2 ] || usage
BUILD=$(cd "$1" && pwd) || usage
SECS=$2
shift 2
case $SECS in
'' | *[!0-9]*) usage ;;
esac
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL_TARGETS[@]}")
SRC=$(cd "$(dirname "$0")" && pwd)
JOBS=${FUZZ_JOBS:-2}

if [ -n "${FUZZ_WORKDIR:-}" ]; then
	WORK=$FUZZ_WORKDIR
	mkdir -p "$WORK" || exit 1
	keep=1
else
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/acme-renewd-fuzz.XXXXXX") || exit 1
	keep=0
fi

# fuzz_one TARGET: runs it; writes WORK/TARGET/{log,rc}.
fuzz_one() {
	local t=$1 bin="$BUILD/tests/fuzz/fuzz_$1" d="$WORK/$1" rc=0
	local args=()

	mkdir -p "$d/corpus"
	cp -n "$SRC/corpus/$t"/* "$d/corpus/" 2>/dev/null
	[ -f "$SRC/$t.dict" ] && args+=("-dict=$SRC/$t.dict")
	[ "${FUZZ_LEAKS:-1}" = 0 ] && args+=(-detect_leaks=0)
	# shellcheck disable=SC2086  # FUZZ_ARGS: words on purpose
	"$bin" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$d/" "${args[@]}" \
		${FUZZ_ARGS:-} "$d/corpus" \
		>"$d/log" 2>&1 </dev/null || rc=$?
	echo "$rc" >"$d/rc"
}

# report TARGET: one line; returns 1 on a failure.
report() {
	local t=$1 d="$WORK/$1" rc runs rate cov ft corp artifacts

	rc=$(cat "$d/rc" 2>/dev/null || echo '?')
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$d/log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$d/log" | tail -n 1)
	cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$d/log" | tail -n 1)
	ft=${cov##*ft: }
	cov=${cov#cov: }
	cov=${cov%% *}
	corp=$(find "$d/corpus" -type f | wc -l)
	artifacts=$(cd "$d" && ls -d crash-* leak-* timeout-* oom-* slow-unit-* 2>/dev/null | tr '\n' ' ')
	if [ "$rc" = 0 ] && [ -z "${artifacts// /}" ]; then
		printf '%-10s pass  %4s s  %10s runs  %7s/s  cov %5s  ft %6s  corpus %5s\n' \
			"$t" "$SECS" "${runs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$corp"
		return 0
	fi
	printf '%-10s FAIL  exit %s  %s runs  cov %s  %s(log: %s)\n' \
		"$t" "$rc" "${runs:-?}" "${cov:-?}" "${artifacts:+$artifacts}" "$d/log"
	grep -m 3 -E 'ERROR: |SUMMARY: |runtime error:' "$d/log" | sed 's/^/    /'
	return 1
}

for t in "${TARGETS[@]}"; do
	[ -x "$BUILD/tests/fuzz/fuzz_$t" ] || {
		echo "run.sh: no $BUILD/tests/fuzz/fuzz_$t (configure CC=clang --enable-fuzzers, then make)" >&2
		exit 2
	}
done

running=0
for t in "${TARGETS[@]}"; do
	if [ "$running" -ge "$JOBS" ]; then
		wait -n
		running=$((running - 1))
	fi
	fuzz_one "$t" &
	running=$((running + 1))
done
wait

passed=0
failed=0
for t in "${TARGETS[@]}"; do
	if report "$t"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
	fi
done
if [ "$failed" -eq 0 ] && [ "$keep" = 0 ]; then
	rm -rf "$WORK"
elif [ "$failed" -ne 0 ]; then
	echo "inputs and logs kept in $WORK"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
