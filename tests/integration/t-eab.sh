#!/bin/bash
# External Account Binding (RFC 8555 §7.3.4) against a Pebble that
# requires it: no binding is a clear error, the right kid + HMAC key
# registers and issues, a wrong HMAC key is refused by the CA and the
# error says so.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

b64url_key() {
	openssl rand 32 | base64 | tr '+/' '-_' | tr -d '=\n'
}

key=$(b64url_key)
export PEBBLE_CONFIG_EXTRA='"externalAccountBindingRequired": true, "externalAccountMACKeys": {"kid-1": "'$key'"}'
pebble_start
jq -e '.meta.externalAccountRequired == true' "$T/pebble/dir.json" >/dev/null ||
	fail "Pebble's directory does not require EAB: $(cat "$T/pebble/dir.json")"

# The key files as an operator keeps them: 0600.
(umask 077 && printf '%s\n' "$key" >"$T/eab.key" &&
	printf '%s\n' "$(b64url_key)" >"$T/eab-wrong.key")
assert_file_mode "$T/eab.key" 600

# 1. No binding configured: backoff, and the error says EAB is required.
write_config --name www --domains "a.example.test"
daemon_start
wait_state www backoff 60
err=$(cert_field www last_error)
assert_imatch "last_error without EAB" 'external ?account|eab' "$err"
[ ! -e "$STATE_DIR/accounts/pebble/account.json" ] ||
	fail "an account.json was stored although the CA refused the account"
daemon_stop

# 2. The right kid and key (a new state dir: the backoff of 1. persists
#    across restarts, by design): the account is registered, the
#    certificate issued.
write_config --name www --domains "a.example.test" --state-dir "$T/state-eab" \
	--ca-line "eab-kid = kid-1" --ca-line "eab-hmac-key-file = $T/eab.key"
daemon_start
wait_state www valid 60
cur=$(cert_dir www)/current
out=$(openssl verify -CAfile "$PEBBLE_ROOT" -untrusted "$cur/chain.pem" \
	"$cur/cert.pem" 2>&1) || fail "openssl verify: $out"
assert_eq "public key of privkey.pem vs cert.pem" \
	"$(openssl x509 -in "$cur/cert.pem" -noout -pubkey)" \
	"$(openssl pkey -in "$cur/privkey.pem" -pubout)"
assert_file "$STATE_DIR/accounts/pebble/account.json"
assert_eq "failures after a good EAB" 0 "$(cert_field www failures)"
# The HMAC key is a secret: never in the log.
! grep -qF -- "$key" "$T/daemon.log" || fail "the EAB HMAC key appears in the daemon log"
daemon_stop

# 3. A wrong HMAC key (new state, so a new account is asked for): the CA
#    refuses it, and the error carries its answer.
write_config --name www --domains "a.example.test" --state-dir "$T/state-wrong" \
	--ca-line "eab-kid = kid-1" --ca-line "eab-hmac-key-file = $T/eab-wrong.key"
daemon_start
wait_state www backoff 60
err=$(cert_field www last_error)
assert_imatch "last_error with a wrong EAB key" 'unauthorized' "$err"
[ ! -e "$T/state-wrong/accounts/pebble/account.json" ] ||
	fail "an account.json was stored although the CA refused the binding"
[ ! -e "$(cert_dir www)/current" ] || fail "a certificate was installed without an account"
daemon_stop
