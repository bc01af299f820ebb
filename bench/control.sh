#!/bin/bash
# bench/control.sh: the control socket under load.  1,000 `status`
# requests from 100 concurrent clients (bench/ctlload.c: 100 threads x 10
# requests, a connection per request as acmectl does) against acme-renewd
# with 50 certificates, first idle (baseline), then while all 50 are being
# force-renewed at once (max-parallel = 50) against a Pebble whose VA
# sleeps up to VA_SLEEP seconds (default 3) before it validates, so the
# renewals are in flight during the whole load.  Every request must be
# answered (ok, with its id); reported: p50/p90/p99/max latency, requests
# per second, how many certificates the replies showed "renewing", the
# daemon's CPU, and that all 50 renewals succeeded.
set -eu
BENCH_NAME=control
. "$(dirname "$0")/common.sh"

NCERTS=${NCERTS:-50}
CLIENTS=${CLIENTS:-100}
PER_CLIENT=${PER_CLIENT:-10}
VA_SLEEP=${VA_SLEEP:-3}
LOG_LEVEL=${LOG_LEVEL:-info}

need cc gcc

results_header
out "# $NCERTS certificates, $CLIENTS clients x $PER_CLIENT status requests; Pebble VA sleeps up to ${VA_SLEEP}s"
load_line

cc -O2 -pthread -o "$T/ctlload" "$BENCH_SRC/ctlload.c" || fail "cannot build bench/ctlload.c"

pebble_start PEBBLE_VA_NOSLEEP= PEBBLE_VA_SLEEPTIME="$VA_SLEEP"
extra=""
for i in $(seq 2 "$NCERTS"); do
	extra="$extra
[certificate r$i]
domains = r$i.example.test
ca = pebble
challenge = http-01
"
done
write_config --name r1 --domains r1.example.test \
	--daemon "max-parallel = $NCERTS" --append "$extra"
daemon_start

nstate() {	# nstate STATE: how many certificates are in STATE
	status_json | jq --arg s "$1" '[.certificates[] | select(.state == $s)] | length' 2>/dev/null || echo 0
}

log "issuing $NCERTS certificates"
deadline=$((SECONDS + 300))
until [ "$(nstate valid)" = "$NCERTS" ]; do
	daemon_alive || fail "the daemon exited"
	[ "$SECONDS" -lt "$deadline" ] || fail "not all $NCERTS valid within 300 s"
	sleep 0.5
done

# pct P FILE
pct() { percentile "$1" <"$2"; }
report() {	# report LABEL FILE SUMMARY
	local n rps

	n=$(wc -l <"$2")
	rps=$(awk -v n="$n" -v w="$(sed -n 's/.*wall_ms \([0-9.]*\).*/\1/p' <<<"$3")" \
		'BEGIN { if (w > 0) printf "%.0f", n * 1000 / w; else print "nan" }')
	out "$(printf '%-22s answered %4s/%-4s  p50 %7s  p90 %7s  p99 %7s  max %7s ms  %6s req/s  renewing seen %s..%s' \
		"$1" "$n" "$((CLIENTS * PER_CLIENT))" "$(pct 50 "$2")" "$(pct 90 "$2")" \
		"$(pct 99 "$2")" "$(sort -g "$2" | tail -1)" "$rps" \
		"$(sed -n 's/.*renewing_min \([-0-9]*\).*/\1/p' <<<"$3")" \
		"$(sed -n 's/.*renewing_max \([-0-9]*\).*/\1/p' <<<"$3")")"
}

log "baseline: $CLIENTS clients x $PER_CLIENT, nothing running"
rc=0
"$T/ctlload" "$SOCK" "$CLIENTS" "$PER_CLIENT" >"$T/lat.idle" 2>"$T/sum.idle" || rc=$?
sum_idle=$(cat "$T/sum.idle")
[ "$rc" = 0 ] || log "baseline: $sum_idle"

log "force-renewing $NCERTS certificates"
cpu0=$(proc_cpu_s "$DAEMON_PID")
pids=()
for i in $(seq "$NCERTS"); do
	"$ACMECTL" -s "$SOCK" force-renew "r$i" >"$T/renew-r$i.log" 2>&1 </dev/null &
	pids+=($!)
done
# Wait until they are all running (max-parallel = NCERTS).
for _ in $(seq 100); do
	[ "$(nstate renewing)" -ge "$NCERTS" ] && break
	sleep 0.05
done
log "under load: $CLIENTS clients x $PER_CLIENT while renewals run"
rc=0
"$T/ctlload" "$SOCK" "$CLIENTS" "$PER_CLIENT" >"$T/lat.load" 2>"$T/sum.load" || rc=$?
sum_load=$(cat "$T/sum.load")
[ "$rc" = 0 ] || log "under load: $sum_load"
still=$(nstate renewing)

renew_ok=0
for p in "${pids[@]}"; do
	if wait "$p"; then renew_ok=$((renew_ok + 1)); fi
done
cpu1=$(proc_cpu_s "$DAEMON_PID")
rss=$(proc_field "$DAEMON_PID" VmHWM)
nvalid=$(nstate valid)
daemon_stop

out ""
report "idle (baseline)" "$T/lat.idle" "$sum_idle"
report "during $NCERTS renewals" "$T/lat.load" "$sum_load"
out ""
out "renewals still running when the load ended: $still of $NCERTS"
out "force-renew succeeded: $renew_ok of $NCERTS; valid at the end: $nvalid"
out "daemon CPU from the force-renews to their end: $(awk -v a="$cpu1" -v b="$cpu0" 'BEGIN { printf "%.2f", a - b }') s; peak RSS $(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }') MiB"
[ -z "$(sed -n 's/.*first_error //p' <<<"$sum_load")" ] ||
	out "first error under load: $(sed -n 's/.*first_error //p' <<<"$sum_load")"
answered=$(wc -l <"$T/lat.load")
out ""
out "control: $answered/$((CLIENTS * PER_CLIENT)) answered during $NCERTS renewals (still running at the end: $still), p50 $(pct 50 "$T/lat.load") ms, p99 $(pct 99 "$T/lat.load") ms (idle p99 $(pct 99 "$T/lat.idle") ms); renewals ok $renew_ok/$NCERTS"
log "results in $RESULTS_FILE"
[ "$answered" = $((CLIENTS * PER_CLIENT)) ] && [ "$renew_ok" = "$NCERTS" ]
