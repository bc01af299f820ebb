#!/bin/bash
# `failed` is a failing renewal of a certificate that runs out within 7
# days: someone has to look.  Pebble issues certificates for one hour here,
# so the first failed renewal makes the state `failed` (not `backoff`):
# `acmectl status` exits 1 (a monitoring check), the state gauge says
# failed, the certificate in service stays; the daemon retries by itself,
# and once the CA behaves the certificate is `valid` again and `acmectl
# status` exits 0.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

PEBBLE_CONFIG_EXTRA='"certificateValidityPeriod": 3600' pebble_start
acmeproxy_start
MPORT=$(free_port)
write_config --name www --directory "$ACMEPROXY_DIR_URL" \
	--daemon "metrics-listen = 127.0.0.1:$MPORT"
daemon_start
wait_state www valid 60
d=$(cert_dir www)
serial=$(openssl x509 -in "$d/current/cert.pem" -noout -serial)
rc=0
acmectl status >/dev/null || rc=$?
assert_eq "acmectl status with a valid certificate: exit status" 0 "$rc"

# The CA fails every new order.
acmeproxy_fault newOrder respond status=500 >/dev/null
rc=0
acmectl force-renew www >/dev/null 2>&1 || rc=$?
assert_eq "force-renew against a failing CA: exit status" 1 "$rc"
assert_eq "state of a one-hour certificate whose renewal fails" failed \
	"$(cert_field www state)"
rc=0
acmectl status >"$T/status.txt" 2>&1 || rc=$?
assert_eq "acmectl status with a failed certificate: exit status" 1 "$rc"
assert_file_contains "$T/status.txt" "failed"
curl -fsS -o "$T/scrape.txt" "http://127.0.0.1:$MPORT/metrics" ||
	fail "GET /metrics failed"
assert_file_contains "$T/scrape.txt" \
	'acme_renewd_certificate_state{name="www",state="failed"} 1'
assert_eq "serial in service while failing" "$serial" \
	"$(openssl x509 -in "$d/current/cert.pem" -noout -serial)"
next=$(to_epoch "$(cert_field www next_renewal)")
[ "$next" -gt "$(date +%s)" ] ||
	fail "no retry scheduled while failed (next_renewal $(cert_field www next_renewal))"

# The CA behaves again: the next renewal succeeds and all is well.
acmeproxy_clear
acmectl force-renew www >/dev/null || fail "force-renew after the CA recovered failed"
assert_eq "state after the CA recovered" valid "$(cert_field www state)"
rc=0
acmectl status >/dev/null || rc=$?
assert_eq "acmectl status after recovery: exit status" 0 "$rc"
assert_ne "serial after recovery" "$serial" \
	"$(openssl x509 -in "$d/current/cert.pem" -noout -serial)"
daemon_stop
