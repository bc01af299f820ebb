#!/bin/bash
# A restart neither registers a new account nor re-issues a certificate
# that is still good: the daemon picks up its state from disk.  What it
# knows of `current` is cached in state.json (a fleet starts without
# parsing every certificate again): after the restart `show` still reports
# the certificate's serial and dates, and a key replaced behind the
# daemon's back while it was down is noticed at the next start anyway.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

# The account URL ("kid") in account.json, whatever the key is called.
account_kid() {
	jq -r '.kid // ([.. | strings | select(test("^https://.*/my-account/"))] | first) // empty' \
		"$STATE_DIR/accounts/pebble/account.json"
}

pebble_start
write_config --name www --domains "a.example.test b.example.test"
daemon_start
wait_state www valid 60

d=$(cert_dir www)
key_sum=$(sha256sum <"$STATE_DIR/accounts/pebble/account-key.pem")
kid=$(account_kid)
[ -n "$kid" ] || fail "no account URL (https://.../my-account/...) in account.json: $(cat "$STATE_DIR/accounts/pebble/account.json")"
serial=$(openssl x509 -in "$d/current/cert.pem" -noout -serial)
assert_eq "current before restart" v1 "$(readlink "$d/current")"

daemon_stop		# asserts exit status 0
daemon_start
wait_state www valid 15
# Give a wrongly scheduled renewal the time to start.
sleep 3
wait_state www valid 1

assert_eq "account key (sha256) after restart" "$key_sum" \
	"$(sha256sum <"$STATE_DIR/accounts/pebble/account-key.pem")"
assert_eq "account kid after restart" "$kid" "$(account_kid)"
assert_eq "current after restart" v1 "$(readlink "$d/current")"
[ ! -e "$d/v2" ] || fail "a second version v2 was issued after the restart"
assert_eq "serial after restart" "$serial" \
	"$(openssl x509 -in "$d/current/cert.pem" -noout -serial)"
assert_eq "failures after restart" 0 "$(cert_field www failures)"

hex_serial() { openssl x509 -in "$1" -noout -serial | sed 's/serial=//; s/^0*//'; }
assert_eq "cached serial in state.json" "$(hex_serial "$d/current/cert.pem")" \
	"$(jq -r '.current.serial' "$d/state.json")"
assert_eq "show serial after restart" "$(hex_serial "$d/current/cert.pem")" \
	"$(acmectl --json show www | jq -r '.certificate.serial')"
assert_eq "show not_after after restart" \
	"$(to_epoch "$(openssl x509 -in "$d/current/cert.pem" -noout -enddate | sed 's/notAfter=//')")" \
	"$(to_epoch "$(acmectl --json show www | jq -r '.certificate.not_after')")"
daemon_stop

# Behind the daemon's back: a key that does not match the certificate.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	-out "$d/v1/privkey.pem" 2>/dev/null || fail "openssl genpkey"
daemon_start
wait_state www valid 60
assert_eq "current after the key was swapped" v2 "$(readlink "$d/current")"
assert_file_contains "$T/daemon.log" "current key does not match"
openssl x509 -in "$d/current/cert.pem" -noout -pubkey >"$T/pub.cert"
openssl pkey -in "$d/current/privkey.pem" -pubout >"$T/pub.key"
cmp -s "$T/pub.cert" "$T/pub.key" || fail "the new key does not match the new certificate"
daemon_stop
