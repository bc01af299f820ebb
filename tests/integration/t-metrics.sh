#!/bin/bash
# The Prometheus endpoint on metrics-listen, after Pebble issued a
# certificate: the scrape passes `promtool check metrics` without a
# finding, carries every metric of DESIGN.md, and its values are exact
# (the not_after gauge is the installed certificate's notAfter).  Then a
# renewal fails (Pebble gone) and the failure counters move.  Other paths
# answer 404, other methods 405, a malformed request 400.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

command -v promtool >/dev/null || fail "promtool is not installed (package prometheus)"

MPORT=$(free_port)
MURL=http://127.0.0.1:$MPORT/metrics

# scrape: GET /metrics into $T/scrape.txt.
scrape() {
	curl -fsS -o "$T/scrape.txt" "$MURL" || fail "GET $MURL failed"
}

# sample SERIES [FILE]: the value of one exact series line, "" if absent.
sample() {
	awk -v k="$1" '$1 == k { print $2 }' "${2:-$T/scrape.txt}"
}

# assert_sample SERIES VALUE [FILE]
assert_sample() {
	assert_eq "$1" "$2" "$(sample "$1" "${3:-$T/scrape.txt}")"
}

# promtool_ok FILE: promtool check metrics exits 0 and finds nothing.
promtool_ok() {
	local out rc=0

	out=$(promtool check metrics <"$1" 2>&1) || rc=$?
	if [ "$rc" -ne 0 ] || [ -n "$out" ]; then
		fail "promtool check metrics (exit $rc) on $1: $out"
	fi
}

# wait_sample SERIES VALUE SECONDS: scrape until the series has VALUE.
wait_sample() {
	local deadline=$((SECONDS + $3))

	while :; do
		scrape
		[ "$(sample "$1")" = "$2" ] && return 0
		[ "$SECONDS" -lt "$deadline" ] ||
			fail "$1: expected $2 within $3 s, last '$(sample "$1")'"
		daemon_alive || fail "daemon exited while waiting for $1"
		sleep 0.2
	done
}

printf '#!/bin/sh\nexit 0\n' >"$T/deploy.sh"
chmod 755 "$T/deploy.sh"

pebble_start
t0=$(date +%s)
write_config --name www --domains "a.example.test b.example.test" \
	--daemon "metrics-listen = 127.0.0.1:$MPORT" \
	--cert-line "deploy-hook = $T/deploy.sh"
daemon_start
wait_port "$MPORT" 10 || fail "nothing listens on metrics-listen 127.0.0.1:$MPORT"
wait_state www valid 60
W='name="www"'
wait_sample "acme_renewd_hook_runs_total{$W,hook=\"deploy-hook\",result=\"success\"}" 1 30

# The format: headers, and promtool finds nothing to complain about.
curl -fsS -D "$T/headers.txt" -o "$T/scrape.txt" "$MURL" || fail "GET $MURL failed"
ctype=$(sed -n 's/^[Cc]ontent-[Tt]ype: *//p' "$T/headers.txt" | tr -d '\r')
assert_eq "Content-Type" "text/plain; version=0.0.4; charset=utf-8" "$ctype"
promtool_ok "$T/scrape.txt"

# Every metric of DESIGN.md, with HELP and TYPE.
while read -r name type; do
	grep -qx "# TYPE $name $type" "$T/scrape.txt" ||
		fail "no '# TYPE $name $type' in the scrape"
	grep -q "^# HELP $name " "$T/scrape.txt" ||
		fail "no '# HELP $name' in the scrape"
	case $type in
	histogram) pat="^${name}_(bucket|sum|count)[{ ]" ;;
	*) pat="^${name}[{ ]" ;;
	esac
	grep -Eq "$pat" "$T/scrape.txt" || fail "no sample of $name"
done <<'EOF'
acme_renewd_certificate_not_after_timestamp_seconds gauge
acme_renewd_certificate_not_before_timestamp_seconds gauge
acme_renewd_certificate_next_renewal_timestamp_seconds gauge
acme_renewd_certificate_last_success_timestamp_seconds gauge
acme_renewd_certificate_consecutive_failures gauge
acme_renewd_certificate_state gauge
acme_renewd_renewals_total counter
acme_renewd_acme_requests_total counter
acme_renewd_acme_request_duration_seconds histogram
acme_renewd_hook_runs_total counter
acme_renewd_build_info gauge
process_start_time_seconds gauge
process_resident_memory_bytes gauge
process_cpu_seconds_total counter
EOF

# Exact values: the gauges are the certificate's own dates.
cur=$(cert_dir www)/current/cert.pem
na=$(to_epoch "$(openssl x509 -in "$cur" -noout -enddate | sed 's/^notAfter=//')")
nb=$(to_epoch "$(openssl x509 -in "$cur" -noout -startdate | sed 's/^notBefore=//')")
assert_sample "acme_renewd_certificate_not_after_timestamp_seconds{$W}" "$na"
assert_sample "acme_renewd_certificate_not_before_timestamp_seconds{$W}" "$nb"
now=$(date +%s)
ls=$(sample "acme_renewd_certificate_last_success_timestamp_seconds{$W}")
# between: A <= X <= B, integers
between() {
	[ "$2" -le "$1" ] 2>/dev/null && [ "$1" -le "$3" ] 2>/dev/null
}
between "$ls" "$t0" "$now" ||
	fail "last_success $ls is not between $t0 and $now"
nr=$(sample "acme_renewd_certificate_next_renewal_timestamp_seconds{$W}")
between "$nr" "$now" "$na" ||
	fail "next_renewal $nr is not between now ($now) and notAfter ($na)"
assert_eq "next_renewal in the scrape vs acmectl status" \
	"$(to_epoch "$(cert_field www next_renewal)")" "$nr"
assert_sample "acme_renewd_certificate_consecutive_failures{$W}" 0

# State: 1 for valid, 0 for every other state.
for s in pending valid renewing backoff failed expired; do
	v=0
	[ "$s" = valid ] && v=1
	assert_sample "acme_renewd_certificate_state{$W,state=\"$s\"}" "$v"
done
assert_sample "acme_renewd_renewals_total{$W,result=\"success\"}" 1
assert_sample "acme_renewd_renewals_total{$W,result=\"failure\"}" 0
assert_sample "acme_renewd_hook_runs_total{$W,hook=\"deploy-hook\",result=\"failure\"}" 0

# ACME requests: newOrder answered 201, finalize 200.
C='ca="pebble"'
[ "$(sample "acme_renewd_acme_requests_total{$C,endpoint=\"newOrder\",code=\"201\"}")" -ge 1 ] 2>/dev/null ||
	fail "no acme_requests_total for newOrder with code 201"
[ "$(sample "acme_renewd_acme_requests_total{$C,endpoint=\"finalize\",code=\"200\"}")" -ge 1 ] 2>/dev/null ||
	fail "no acme_requests_total for finalize with code 200"
# The histogram: cumulative buckets ending in +Inf = _count.
for ep in newOrder finalize; do
	L="$C,endpoint=\"$ep\""
	cnt=$(sample "acme_renewd_acme_request_duration_seconds_count{$L}")
	[ "$cnt" -ge 1 ] 2>/dev/null || fail "no duration observations for $ep"
	assert_sample "acme_renewd_acme_request_duration_seconds_bucket{$L,le=\"+Inf\"}" "$cnt"
	grep -F "acme_renewd_acme_request_duration_seconds_bucket{$L," "$T/scrape.txt" |
		awk '$2 < prev { bad = 1 } { prev = $2 } END { exit bad }' ||
		fail "the $ep buckets are not cumulative"
	sum=$(sample "acme_renewd_acme_request_duration_seconds_sum{$L}")
	awk -v s="$sum" 'BEGIN { exit !(s > 0 && s < 60) }' ||
		fail "duration _sum for $ep: $sum"
done

assert_sample "acme_renewd_build_info{version=\"$(package_version)\"}" 1
st=$(sample process_start_time_seconds)
between "$st" $((t0 - 1)) "$now" ||
	fail "process_start_time_seconds $st is not between $t0 and $now"
rss=$(sample process_resident_memory_bytes)
[ "$rss" -gt 1000000 ] 2>/dev/null || fail "process_resident_memory_bytes: '$rss'"
awk -v c="$(sample process_cpu_seconds_total)" 'BEGIN { exit !(c >= 0) }' ||
	fail "process_cpu_seconds_total is not a number"

# Other paths, methods and malformed requests.
code() {
	curl -s -o /dev/null -w '%{http_code}' "$@"
}
assert_eq "GET /other" 404 "$(code "http://127.0.0.1:$MPORT/other")"
assert_eq "GET /" 404 "$(code "http://127.0.0.1:$MPORT/")"
assert_eq "GET /metrics?x=1" 200 "$(code "$MURL?x=1")"
assert_eq "HEAD /metrics" 200 "$(code -I "$MURL")"
assert_eq "POST /metrics" 405 "$(code -X POST -d x=1 "$MURL")"
assert_eq "DELETE /metrics" 405 "$(code -X DELETE "$MURL")"
resp=$(exec 3<>"/dev/tcp/127.0.0.1/$MPORT" &&
	printf 'NONSENSE\r\n\r\n' >&3 && timeout 5 head -n 1 <&3 | tr -d '\r')
assert_match "a malformed request" '^HTTP/1\.[01] 400' "$resp"
big=$(head -c 20000 /dev/zero | tr '\0' a)
rc=$(code -H "X-Big: $big" "$MURL")
assert_match "a request with 20 kB of headers" '^4[0-9][0-9]$' "$rc"
daemon_alive || fail "the daemon died of a bad request"
# Still serving, and still clean.
scrape
promtool_ok "$T/scrape.txt"

# A failed renewal: Pebble is gone.
kill -TERM "$PEBBLE_PID"
wait "$PEBBLE_PID" 2>/dev/null || true
lib_forget_pid "$PEBBLE_PID"
acmectl force-renew www >"$T/renew.out" 2>&1 || true
wait_sample "acme_renewd_renewals_total{$W,result=\"failure\"}" 1 60
assert_sample "acme_renewd_renewals_total{$W,result=\"success\"}" 1
f=$(sample "acme_renewd_certificate_consecutive_failures{$W}")
[ "$f" -ge 1 ] 2>/dev/null || fail "consecutive_failures after a failed renewal: '$f'"
assert_eq "consecutive_failures vs acmectl status" "$(cert_field www failures)" "$f"
st=$(cert_field www state)
assert_sample "acme_renewd_certificate_state{$W,state=\"$st\"}" 1
assert_sample "acme_renewd_certificate_state{$W,state=\"valid\"}" "$([ "$st" = valid ] && echo 1 || echo 0)"
# The certificate is still the one installed.
assert_sample "acme_renewd_certificate_not_after_timestamp_seconds{$W}" "$na"
promtool_ok "$T/scrape.txt"

daemon_stop
