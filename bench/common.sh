# shellcheck shell=bash
# bench/common.sh: what every benchmark in bench/ shares.  Sourced (never
# run) by bench/*.sh, after it set BENCH_NAME.  It
#   - finds (or builds) acme-renewd and acmectl: $ACME_RENEWD/$ACMECTL when
#     set, else an in-tree build, else a build of its own in
#     ${BENCH_BUILD:-${TMPDIR:-/tmp}/acme-renewd-bench-build};
#   - sources tests/integration/lib.sh (Pebble, free ports, cleanup): its
#     private directory $T is removed at the end unless KEEP=1, or kept
#     when BENCH_WORKDIR is given (it becomes lib.sh's LIB_DIR);
#   - gives the helpers below: now_ns, median, fmt_ratio, proc_cpu_s,
#     proc_rss_kib, peer_* (how each peer client is run), results_write.
# Results go to ${BENCH_RESULTS:-bench/results}/<bench>-<date>.txt.

BENCH_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRCDIR=$(cd "$BENCH_SRC/.." && pwd)
export SRCDIR

bench_die() {
	printf '%s: %s\n' "${BENCH_NAME:-bench}" "$*" >&2
	exit 1
}

# ---------------------------------------------------------------------------
# The binaries under test

bench_find_binaries() {
	local b

	if [ -n "${ACME_RENEWD:-}" ] && [ -n "${ACMECTL:-}" ]; then
		:
	elif [ -x "$SRCDIR/acme-renewd" ] && [ -x "$SRCDIR/acmectl" ]; then
		ACME_RENEWD=$SRCDIR/acme-renewd ACMECTL=$SRCDIR/acmectl
	else
		b=${BENCH_BUILD:-${TMPDIR:-/tmp}/acme-renewd-bench-build}
		if [ ! -x "$b/acme-renewd" ] || [ ! -x "$b/acmectl" ] ||
			[ -n "$(find "$SRCDIR/daemon" "$SRCDIR/common" "$SRCDIR/ctl" \
				-newer "$b/acme-renewd" -name '*.[ch]' -print -quit)" ]; then
			printf '%s: building acme-renewd in %s (-O2 -g)\n' \
				"$BENCH_NAME" "$b" >&2
			if [ ! -x "$SRCDIR/configure" ]; then
				(cd "$SRCDIR" && autoreconf -fi) >&2 ||
					bench_die "autoreconf failed"
			fi
			mkdir -p "$b"
			(cd "$b" && { [ -f Makefile ] ||
				"$SRCDIR/configure" -q CFLAGS="-O2 -g"; } &&
				make -j"$(nproc)" >build.log 2>&1) ||
				bench_die "build failed (see $b/build.log)"
		fi
		ACME_RENEWD=$b/acme-renewd ACMECTL=$b/acmectl
	fi
	[ -x "$ACME_RENEWD" ] || bench_die "not executable: $ACME_RENEWD"
	[ -x "$ACMECTL" ] || bench_die "not executable: $ACMECTL"
	export ACME_RENEWD ACMECTL
}
bench_find_binaries

# ---------------------------------------------------------------------------
# The integration harness: Pebble, free_port, process cleanup

if [ -n "${BENCH_WORKDIR:-}" ]; then
	LIB_DIR=$BENCH_WORKDIR
	export LIB_DIR
fi
# lib.sh names its directory and messages after $0.
# shellcheck source=tests/integration/lib.sh
. "$SRCDIR/tests/integration/lib.sh"

# Process groups of our own (setsid) to kill whole at the end, then lib.sh's
# cleanup (which reads the exit status first: keep it).
BENCH_PGIDS=()
bench_kill_groups() {
	local g

	for g in ${BENCH_PGIDS[@]+"${BENCH_PGIDS[@]}"}; do
		kill -TERM -- "-$g" 2>/dev/null || true
	done
}
# shellcheck disable=SC2154
trap 'bench_rc=$?; bench_kill_groups; (exit $bench_rc); lib_cleanup' EXIT

[ -x /usr/bin/time ] || fail "/usr/bin/time is not installed (Debian package time)"

# ---------------------------------------------------------------------------
# Numbers

now_ns() { date +%s%N; }

# ms_since NS: milliseconds from NS (a now_ns value) to now.
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# median: the median of the numbers on stdin (one per line).
median() {
	sort -g | awk '{ a[NR] = $1 } END {
		if (NR == 0) { print "nan"; exit }
		if (NR % 2) print a[(NR + 1) / 2]
		else printf "%.6g\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# percentile P: the P-th percentile (nearest rank) of the numbers on stdin.
percentile() {
	sort -g | awk -v p="$1" '{ a[NR] = $1 } END {
		if (NR == 0) { print "nan"; exit }
		r = int(p / 100 * NR + 0.999999); if (r < 1) r = 1; if (r > NR) r = NR
		print a[r] }'
}

# fmt_ratio A B: A/B with two decimals ("-" when either is missing).
fmt_ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "" || b == "" || a == "nan" || b == "nan" || b + 0 == 0) print "-"
		else printf "%.3f\n", a / b }'
}

# verdict OK-EXPRESSION: "MET" or "MISSED" from an awk condition.
verdict() {
	if awk "BEGIN { exit !($1) }"; then echo MET; else echo MISSED; fi
}

# proc_cpu_s PID: user+system CPU seconds of a running process so far.
proc_cpu_s() {
	awk -v hz="$(getconf CLK_TCK)" '{
		sub(/^.*\) /, ""); printf "%.3f\n", ($12 + $13) / hz }' "/proc/$1/stat"
}

# proc_field PID FIELD: a kB field of /proc/PID/status (VmHWM, VmRSS, ...),
# or a counter (voluntary_ctxt_switches, ...).
proc_field() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

# watch_progress PID TARGET STALL_S LIMIT_S CMD...: wait while PID lives,
# until CMD (prints a number) reaches TARGET, nothing moved for STALL_S
# seconds, or LIMIT_S passed.  Sets PROGRESS (the last count) and
# PROGRESS_END (done | exited | stalled | timeout); logs every 10 s.
# shellcheck disable=SC2034  # PROGRESS, PROGRESS_END: for the caller
watch_progress() {
	local pid=$1 target=$2 stall=$3 limit=$4 n last_n=-1 t0 changed now logged=0

	shift 4
	t0=$SECONDS
	changed=$SECONDS
	PROGRESS=0
	while :; do
		n=$("$@" 2>/dev/null || echo 0)
		now=$SECONDS
		PROGRESS=$n
		if [ "$n" != "$last_n" ]; then
			last_n=$n
			changed=$now
		fi
		if [ "$n" -ge "$target" ]; then PROGRESS_END="done"; return 0; fi
		if ! kill -0 "$pid" 2>/dev/null; then
			PROGRESS=$("$@" 2>/dev/null || echo 0)
			if [ "$PROGRESS" -ge "$target" ]; then PROGRESS_END="done"; else PROGRESS_END=exited; fi
			return 0
		fi
		if [ $((now - changed)) -ge "$stall" ]; then PROGRESS_END=stalled; return 0; fi
		if [ $((now - t0)) -ge "$limit" ]; then PROGRESS_END=timeout; return 0; fi
		if [ $(((now - t0) / 10)) != "$logged" ]; then
			logged=$(((now - t0) / 10))
			log "$n of $target after $((now - t0)) s"
		fi
		sleep 0.1
	done
}

# pebble_dump_if_deadlocked: after a stall, ask Pebble for its goroutines
# (SIGQUIT: Go prints them and exits) and say whether it is stuck in its
# MemoryStore locks (Pebble 2.4.0 can deadlock under concurrent newOrder
# and challenge requests).  Prints "pebble-deadlock" or "stall".
pebble_dump_if_deadlocked() {
	local from n

	from=$(($(wc -l <"$T/pebble.log") + 1))
	kill -QUIT "$PEBBLE_PID" 2>/dev/null || { echo stall; return; }
	for _ in $(seq 50); do
		kill -0 "$PEBBLE_PID" 2>/dev/null || break
		sleep 0.1
	done
	tail -n +"$from" "$T/pebble.log" >"$T/pebble-goroutines.txt"
	n=$(grep -c '^goroutine .*\[semacquire' "$T/pebble-goroutines.txt" || true)
	if [ "${n:-0}" -ge 3 ] && grep -q 'pebble/db.(\*MemoryStore)' "$T/pebble-goroutines.txt"; then
		cp "$T/pebble-goroutines.txt" "$RESULTS_FILE.pebble-goroutines-$(date +%H%M%S).txt" 2>/dev/null || true
		echo pebble-deadlock
	else
		echo stall
	fi
}

# ---------------------------------------------------------------------------
# Peers

# A peer that cannot be told which CA to trust (uacme: libcurl-gnutls,
# no option, no environment variable) runs in a private mount namespace
# where the system bundle is Pebble's minica (nothing outside changes).
# Pebble's CA certificate file is bind-mounted over the system bundle:
# call peer_ns_init after pebble_start, then run "${PEER_NS[@]}" CMD ARGS.
peer_ns_init() {
	[ "$(id -u)" = 0 ] || fail "uacme needs root here (a private mount namespace to trust Pebble's CA)"
	command -v unshare >/dev/null || fail "unshare is not installed (util-linux)"
	# shellcheck disable=SC2016,SC2034  # PEER_NS: for the caller
	PEER_NS=(unshare -m sh -c 'mount --bind "$0" /etc/ssl/certs/ca-certificates.crt && exec "$@"'
		"$PEBBLE_CA")
}

# write_uacme_hook FILE WEBROOT: uacme's http-01 hook (as uacme.sh does,
# for http-01 only): begin writes the token file, done/failed removes it.
write_uacme_hook() {
	cat >"$1" <<EOF
#!/bin/sh
d=$2/.well-known/acme-challenge
case \$1 in
begin) [ "\$2" = http-01 ] || exit 1
	mkdir -p "\$d" && printf '%s' "\$5" >"\$d/\$4" ;;
*) rm -f "\$d/\$4" ;;
esac
EOF
	chmod +x "$1"
}

# need_peer CMD PACKAGE
need_peer() {
	command -v "$1" >/dev/null 2>&1 ||
		fail "$1 is not installed (apt-get install $2)"
}

# ---------------------------------------------------------------------------
# Results

BENCH_DATE=$(date -u +%Y-%m-%dT%H%M%SZ)
BENCH_RESULTS=${BENCH_RESULTS:-$BENCH_SRC/results}
mkdir -p "$BENCH_RESULTS"
RESULTS_FILE=$BENCH_RESULTS/$BENCH_NAME-$BENCH_DATE.txt

# machine_line: one line describing where this ran.
machine_line() {
	printf '%s, %s CPUs (%s), %s MiB RAM, kernel %s\n' \
		"$(hostname)" "$(nproc)" \
		"$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)" \
		"$(awk '/^MemTotal/ { print int($2 / 1024) }' /proc/meminfo)" \
		"$(uname -r)"
}

# out TEXT...: print to stdout and append to the results file.
out() {
	printf '%s\n' "$*" | tee -a "$RESULTS_FILE"
}

results_header() {
	out "# $BENCH_NAME  $(date -u '+%F %T UTC')"
	out "# machine: $(machine_line)"
	out "# acme-renewd: $("$ACME_RENEWD" -V 2>&1 | head -1) ($ACME_RENEWD, built $(date -u -r "$ACME_RENEWD" '+%F %T UTC'))"
	out "# source tree: $(git -C "$SRCDIR" describe --always --dirty 2>/dev/null || echo '?') (the binary may be older: see its build time)"
	out "# pebble: $(dpkg-query -W -f '${Version}' pebble 2>/dev/null || echo '?')"
}

# load_line: the machine's load before a run (noisy neighbours show here).
load_line() {
	out "# load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
}
