#!/bin/bash
# `acmectl rollover pebble` replaces the account key at the CA (keyChange):
# account-key.pem on disk is a new key, still 0600, the account (kid) is the
# same, and issuing keeps working with the new key, also after a restart
# (so the key on disk is the one the CA accepted).  An unknown CA is
# not_found.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

run() {
	local rc=0

	"$ACMECTL" -s "$SOCK" "$@" >"$T/out" 2>"$T/err" </dev/null || rc=$?
	assert_no_sanitizer_report "$T/err"
	echo "$rc"
}

pebble_start
write_config --name www
daemon_start
wait_state www valid 60

acct=$STATE_DIR/accounts/pebble
key=$acct/account-key.pem
assert_file "$key"
assert_file "$acct/account.json"
old_sum=$(sha256sum <"$key")
old_pub=$(openssl pkey -in "$key" -pubout) || fail "account-key.pem is not a key"
kid=$(jq -r .kid "$acct/account.json")
assert_match "kid in account.json" '^https://' "$kid"

assert_eq "acmectl rollover pebble: exit status" 0 "$(run rollover pebble)"

assert_ne "sha256 of account-key.pem after rollover" "$old_sum" "$(sha256sum <"$key")"
new_pub=$(openssl pkey -in "$key" -pubout) ||
	fail "account-key.pem after rollover is not a key"
assert_ne "public account key after rollover" "$old_pub" "$new_pub"
assert_file_mode "$key" 600
assert_eq "kid in account.json after rollover" "$kid" "$(jq -r .kid "$acct/account.json")"
# No temporary files left behind next to the key.
left=$(find "$acct" -mindepth 1 ! -name account-key.pem ! -name account.json)
assert_eq "other files in $acct" "" "$left"

# The CA accepts the new key: a forced renewal goes through.
cur=$(cert_dir www)/current
assert_eq "acmectl force-renew www after rollover: exit status" 0 "$(run force-renew www)"
assert_eq "current after force-renew" v2 "$(readlink "$cur")"

# The key on disk is the one the CA now knows: after a restart it still
# issues, with the same account.
daemon_stop
daemon_start
assert_eq "acmectl force-renew www after restart: exit status" 0 "$(run force-renew www)"
assert_eq "current after force-renew after restart" v3 "$(readlink "$cur")"
assert_eq "kid in account.json after restart" "$kid" "$(jq -r .kid "$acct/account.json")"
assert_eq "account-key.pem after restart" "$new_pub" "$(openssl pkey -in "$key" -pubout)"

# A CA that is not configured.
assert_eq "acmectl rollover nope: exit status" 1 "$(run rollover nope)"
assert_contains "acmectl rollover nope: stderr" not_found "$(cat "$T/err")"
assert_eq "account-key.pem after a refused rollover" "$new_pub" \
	"$(openssl pkey -in "$key" -pubout)"

daemon_stop
