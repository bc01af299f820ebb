#!/bin/bash
# A restart neither registers a new account nor re-issues a certificate
# that is still good: the daemon picks up its state from disk.
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

daemon_stop
