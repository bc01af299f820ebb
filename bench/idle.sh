#!/bin/bash
# bench/idle.sh [COUNT]: acme-renewd managing COUNT (default 10,000) valid
# certificates and idle: nothing is due, no CA is needed.
#
# The state directory is seeded by bench/seed.c (built here with cc and
# OpenSSL): a local test CA and COUNT certificates, one name and one EC
# P-256 key each, valid since yesterday for 90 days, laid out as DESIGN.md
# "Files on disk" says (no state.json).  The config lists them; its [ca]
# points at a closed loopback port.  Measured:
#   ready      exec -> READY=1 on NOTIFY_SOCKET (a socat datagram socket,
#              as systemd would) and -> control socket answering
#   RSS        VmRSS / VmHWM after READY, and at the end
#   idle       over IDLE_SECONDS (default 60): CPU seconds (utime+stime),
#              context switches of all its threads (voluntary + not),
#              then over STRACE_SECONDS (default 20) every syscall it
#              makes, by strace (0 expected)
#   latency    `acmectl status` (table), `acmectl --json status` and a
#              GET /metrics (metrics-listen): median and max of 10 each
# Targets (issue 9): ready < 2 s, RSS < 32 MiB, no wake-up while nothing is
# due (no watchdog here: WATCHDOG_USEC is unset), status and scrape < 250 ms.
set -eu
BENCH_NAME=idle
. "$(dirname "$0")/common.sh"

COUNT=${1:-${COUNT:-10000}}
IDLE_SECONDS=${IDLE_SECONDS:-60}
STRACE_SECONDS=${STRACE_SECONDS:-20}
REPEAT=${REPEAT:-10}
LOG_LEVEL=${LOG_LEVEL:-info}

need socat socat
need strace strace
need cc gcc
need pkg-config pkg-config

BENCH_NAME=idle-$COUNT
RESULTS_FILE=$BENCH_RESULTS/$BENCH_NAME-$BENCH_DATE.txt
results_header
out "# certificates: $COUNT; idle window ${IDLE_SECONDS}s (+${STRACE_SECONDS}s under strace); $REPEAT requests per latency"
load_line

# --- the seed ---------------------------------------------------------------
# shellcheck disable=SC2046
cc -O2 -o "$T/seed" "$BENCH_SRC/seed.c" $(pkg-config --cflags --libs openssl) ||
	fail "cannot build bench/seed.c (needs libssl-dev)"
cc -O2 -pthread -o "$T/ctlload" "$BENCH_SRC/ctlload.c" || fail "cannot build bench/ctlload.c"
STATE_DIR=$T/state
t0=$(now_ns)
"$T/seed" "$STATE_DIR" "$COUNT" s example.test 90 1 || fail "seed failed"
out "# seeding $COUNT certificates took $(awk -v x="$(ms_since "$t0")" 'BEGIN { printf "%.1f", x / 1000 }') s"

MPORT=$(free_port)
CLOSED_PORT=$(free_port)
{
	cat <<EOF
[daemon]
state-dir = $STATE_DIR
control-socket = $SOCK
control-group = root
http-01-listen = 127.0.0.1:$(free_port)
metrics-listen = 127.0.0.1:$MPORT
log-level = $LOG_LEVEL
log-target = stderr

[ca closed]
directory = https://127.0.0.1:$CLOSED_PORT/dir
contact = mailto:ops@example.test
accept-tos = yes
EOF
	for i in $(seq "$COUNT"); do
		printf '\n[certificate s%d]\ndomains = s%d.example.test\nca = closed\nchallenge = http-01\n' "$i" "$i"
	done
} >"$CONF"

# --- start to READY -------------------------------------------------------------
msgs=$T/notify.msgs
spawn "$msgs" socat -u "UNIX-RECVFROM:$T/notify.sock,fork" "SYSTEM:cat; echo"
for _ in $(seq 100); do [ -S "$T/notify.sock" ] && break; sleep 0.05; done
[ -S "$T/notify.sock" ] || fail "socat did not create the notify socket"

# start_daemon: exec -> READY=1 (ready_ms) and -> control socket answering
# (sock_ms).
start_daemon() {
	local t0 deadline

	: >"$msgs"
	t0=$(now_ns)
	NOTIFY_SOCKET=$T/notify.sock "$ACME_RENEWD" -c "$CONF" >>"$T/daemon.log" 2>&1 </dev/null &
	DAEMON_PID=$!
	LIB_PIDS+=("$DAEMON_PID")
	ready_ms="" sock_ms=""
	deadline=$((SECONDS + 120))
	while [ "$SECONDS" -lt "$deadline" ]; do
		if [ -z "$sock_ms" ] && [ -S "$SOCK" ] && "$ACMECTL" -s "$SOCK" version >/dev/null 2>&1; then
			sock_ms=$(ms_since "$t0")
		fi
		if [ -z "$ready_ms" ] && grep -q 'READY=1' "$msgs"; then
			ready_ms=$(ms_since "$t0")
		fi
		[ -n "$ready_ms" ] && [ -n "$sock_ms" ] && break
		kill -0 "$DAEMON_PID" 2>/dev/null || fail "acme-renewd exited at startup"
		sleep 0.005
	done
	[ -n "$ready_ms" ] || fail "no READY=1 within 120 s"
	[ -n "$sock_ms" ] || sock_ms=nan
}

# The first start reads every certificate and key the seed wrote (there is
# no state.json yet) and caches what it needs in state.json; a restart,
# what a daemon in service does, trusts that cache while the files are
# unchanged.  Both are reported; the target is for the restart.
start_daemon
first_ready_ms=$ready_ms first_sock_ms=$sock_ms
first_hwm=$(proc_field "$DAEMON_PID" VmHWM)
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" || fail "acme-renewd exited with status $? after SIGTERM"
lib_forget_pid "$DAEMON_PID"
start_daemon
# Let the start-up work that follows READY settle: the first STATUS=, the
# first renewalInfo probes, the heap trim two seconds after READY.
sleep "${IDLE_SETTLE:-3}"
rss_ready=$(proc_field "$DAEMON_PID" VmRSS)
hwm_ready=$(proc_field "$DAEMON_PID" VmHWM)
cpu_start=$(proc_cpu_s "$DAEMON_PID")

# Correctness: every certificate is valid and nothing is due (from the
# scrape: `acmectl --json status` is what is measured below).
curl -fsS -o "$T/scrape0.txt" "http://127.0.0.1:$MPORT/metrics" || fail "GET /metrics failed"
nvalid=$(grep -c '^acme_renewd_certificate_state{.*state="valid"} 1' "$T/scrape0.txt" || true)
# That scrape (8 MB at 10,000) hands its heap back two seconds later: a
# wake-up caused by the request, not by idling.
sleep "${IDLE_SETTLE:-3}"
[ "$nvalid" = "$COUNT" ] || fail "$nvalid of $COUNT certificates are valid in the scrape"

# --- idle ---------------------------------------------------------------------
# ctxsw: voluntary + involuntary context switches of all threads.
ctxsw() {
	cat /proc/"$DAEMON_PID"/task/*/status 2>/dev/null |
		awk '/^(voluntary|nonvoluntary)_ctxt_switches:/ { n += $2 } END { print n + 0 }'
}
threads() { ls /proc/"$DAEMON_PID"/task | wc -l; }

log "idle for ${IDLE_SECONDS}s"
cpu0=$(proc_cpu_s "$DAEMON_PID")
cs0=$(ctxsw)
sleep "$IDLE_SECONDS"
cpu1=$(proc_cpu_s "$DAEMON_PID")
cs1=$(ctxsw)
idle_cpu=$(awk -v a="$cpu1" -v b="$cpu0" 'BEGIN { printf "%.3f", a - b }')
idle_cs=$((cs1 - cs0))

log "strace for ${STRACE_SECONDS}s"
timeout -s INT "$STRACE_SECONDS" strace -f -tt -o "$T/idle.strace" -p "$DAEMON_PID" 2>/dev/null || true
# Lines that are syscalls (not attach/detach notes, not "resumed" halves).
nsys=$(grep -Ev 'resumed>|\+\+\+|---|strace:' "$T/idle.strace" | grep -c '(' || true)
# The syscall the loop sleeps in when strace attached is "<unfinished ...>".
nsys_after=$(grep -Ev 'unfinished|detached|resumed>|\+\+\+|---|strace:' "$T/idle.strace" | grep -c '(' || true)

# --- latency ----------------------------------------------------------------------
lat() {	# lat NAME CMD...: run CMD REPEAT times; ms per good run in $T/lat.NAME
	local f=$T/lat.$1 t i rc

	shift
	: >"$f"
	: >"$f.failed"
	for i in $(seq "$REPEAT"); do
		t=$(now_ns)
		rc=0
		"$@" >"$T/lat.out" 2>"$T/lat.err" || rc=$?
		# acmectl status exits 1 when a certificate failed: still an answer.
		if [ "$rc" = 0 ] || { [ "$rc" = 1 ] && [ -s "$T/lat.out" ]; }; then
			echo $((($(now_ns) - t) / 1000)) | awk '{ printf "%.1f\n", $1 / 1000 }' >>"$f"
		else
			echo "exit $rc: $(head -c 300 "$T/lat.err")" >>"$f.failed"
		fi
	done
}
# lat_line NAME: "median X ms, max Y ms" or the failure.
lat_line() {
	local f=$T/lat.$1 nf

	nf=$(wc -l <"$f.failed")
	if [ -s "$f" ]; then
		printf 'median %s ms, max %s ms' "$(median <"$f")" "$(sort -g "$f" | tail -1)"
	else
		printf 'no answer'
	fi
	[ "$nf" = 0 ] || printf ' -- %s of %s FAILED (%s)' "$nf" "$REPEAT" "$(head -1 "$f.failed")"
}
lat_med() { if [ -s "$T/lat.$1" ]; then median <"$T/lat.$1"; else echo 1e9; fi; }
# lat_txt NAME: the median in ms, or FAILED
lat_txt() { if [ -s "$T/lat.$1" ]; then echo "$(median <"$T/lat.$1") ms"; else echo FAILED; fi; }

lat status "$ACMECTL" -s "$SOCK" status
status_rows=$(grep -c 'valid' "$T/lat.out" || true)
lat json "$ACMECTL" -s "$SOCK" --json status
json_bytes=$(wc -c <"$T/lat.out")
# The daemon's side alone: the raw reply read off the socket (ctlload, one
# connection per request), without acmectl's parsing and printing.
: >"$T/lat.raw"
: >"$T/lat.raw.failed"
if "$T/ctlload" "$SOCK" 1 "$REPEAT" >"$T/lat.raw" 2>"$T/lat.raw.err"; then :; else
	echo "$(cat "$T/lat.raw.err")" >"$T/lat.raw.failed"
	: >"$T/lat.raw"
fi
lat metrics curl -fsS -o "$T/scrape.txt" "http://127.0.0.1:$MPORT/metrics"
scrape_bytes=$(wc -c <"$T/scrape.txt" 2>/dev/null || echo 0)
scrape_certs=$(grep -c '^acme_renewd_certificate_not_after_timestamp_seconds{' "$T/scrape.txt" 2>/dev/null || true)
[ "$scrape_certs" = "$COUNT" ] || log "WARNING: the scrape has $scrape_certs not_after series, expected $COUNT"

rss_end=$(proc_field "$DAEMON_PID" VmRSS)
hwm_end=$(proc_field "$DAEMON_PID" VmHWM)
sleep "${IDLE_SETTLE:-3}"	# the heap handed back after the large replies
rss_settled=$(proc_field "$DAEMON_PID" VmRSS)
nthreads=$(threads)
cpu_end=$(proc_cpu_s "$DAEMON_PID")

t0=$(now_ns)
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
stop_ms=$(ms_since "$t0")
lib_forget_pid "$DAEMON_PID"

mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
st_med=$(lat_med status)
js_med=$(lat_med json)
mx_med=$(lat_med metrics)
rss_mib=$(mib "$rss_ready")

out ""
out "first start (no state.json) READY  $first_ready_ms ms   (control socket answering: $first_sock_ms ms; peak RSS $(mib "$first_hwm") MiB)"
out "restart to READY=1                $ready_ms ms   (control socket answering: $sock_ms ms)"
out "CPU for start-up (to READY + ${IDLE_SETTLE:-3} s) $cpu_start s"
out "RSS after READY                   $rss_mib MiB (peak so far $(mib "$hwm_ready") MiB)"
out "RSS at the end                    $(mib "$rss_end") MiB (peak $(mib "$hwm_end") MiB), $nthreads thread(s)"
out "RSS ${IDLE_SETTLE:-3} s later               $(mib "$rss_settled") MiB (the heap handed back after the large replies)"
out "idle ${IDLE_SECONDS}s: CPU                    $idle_cpu s"
out "idle ${IDLE_SECONDS}s: context switches       $idle_cs"
out "idle ${STRACE_SECONDS}s under strace: syscalls $nsys_after (lines: $nsys; see below)"
out "acmectl status (table)            $(lat_line status)  ($status_rows rows)"
out "acmectl --json status             $(lat_line json)  ($json_bytes bytes)"
out "status reply, raw (daemon side)   $(lat_line raw)"
out "GET /metrics                      $(lat_line metrics)  ($scrape_bytes bytes, $scrape_certs certificates)"
out "SIGTERM to exit                   $stop_ms ms"
if [ "$nsys_after" -gt 0 ]; then
	out ""
	out "syscalls while idle (strace -f, first 15):"
	grep -Ev 'resumed>|\+\+\+|---|strace:' "$T/idle.strace" | head -15 | while IFS= read -r l; do out "  $l"; done
fi
out ""
out "target ready < 2 s (restart):          $(verdict "$ready_ms < 2000")"
out "target RSS < 32 MiB (idle):   $(verdict "$rss_mib < 32 && $(mib "$rss_settled") < 32") (after READY $rss_mib, after the requests settled $(mib "$rss_settled"); peak while answering them $(mib "$hwm_end"))"
out "target no wake-up when idle:  $(verdict "$idle_cs == 0 && $nsys_after == 0") ($idle_cs context switches, $nsys_after syscalls)"
out "target status < 250 ms:       $(verdict "$st_med < 250 && $js_med < 250")"
out "target scrape < 250 ms:       $(verdict "$mx_med < 250")"
out ""
out "idle-$COUNT: ready ${ready_ms} ms, RSS ${rss_mib} MiB (peak $(mib "$hwm_end")), idle ${IDLE_SECONDS}s CPU ${idle_cpu}s ${idle_cs} ctx-switches ${nsys_after} syscalls, status $(lat_txt status) (json $(lat_txt json)), scrape $(lat_txt metrics)"
log "results in $RESULTS_FILE"
# Exit status: 1 when a status request or a scrape was not answered.
for f in status json raw metrics; do
	[ ! -s "$T/lat.$f.failed" ] || exit 1
done
[ "$scrape_certs" = "$COUNT" ]
