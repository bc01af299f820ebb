#!/bin/bash
# Key types: an rsa-4096 certificate key and an rsa-2048 account key are
# made off the loop (acmectl status answers within a second while the
# certificate key is generated), and an ec-p384 certificate gets a P-384 key.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

check_cert() {
	local cur
	cur=$(cert_dir "$1")/current
	out=$(openssl verify -CAfile "$PEBBLE_ROOT" -untrusted "$cur/chain.pem" \
		"$cur/cert.pem" 2>&1) || fail "$1: openssl verify: $out"
	assert_eq "$1: public key of privkey.pem vs cert.pem" \
		"$(openssl x509 -in "$cur/cert.pem" -noout -pubkey)" \
		"$(openssl pkey -in "$cur/privkey.pem" -pubout)"
}

pebble_start
write_config --name www --domains "a.example.test b.example.test" \
	--ca-line "account-key-type = rsa-2048" \
	--cert-line "key-type = rsa-4096" \
	--append "[certificate p384]
domains = c.example.test
ca = pebble
challenge = http-01
key-type = ec-p384"
daemon_start

# The certificate key is made when the order is ready to finalize.
deadline=$((SECONDS + 60))
until grep -q '\[www\].*: phase finalize' "$T/daemon.log"; do
	daemon_alive || fail "daemon exited before finalizing www"
	[ "$SECONDS" -lt "$deadline" ] || fail "www did not reach finalize within 60 s"
	sleep 0.05
done
renewing=0
for i in 1 2 3 4 5; do
	t0=$(now_ms)
	js=$("$ACMECTL" -s "$SOCK" --json status) ||
		fail "acmectl status #$i failed (exit $?) during the rsa-4096 renewal"
	ms=$(($(now_ms) - t0))
	state=$(jq -r '.certificates[] | select(.name=="www") | .state' <<<"$js")
	log "status #$i: ${ms} ms, state $state"
	[ "$ms" -lt "$(scaled 1000)" ] ||
		fail "acmectl status #$i took ${ms} ms during the rsa-4096 renewal: expected < $(scaled 1000) ms"
	[ "$state" = renewing ] && renewing=$((renewing + 1))
	sleep 0.1
done
[ "$renewing" -ge 1 ] || fail "no status answer was taken while www was renewing"

wait_state www valid 90
wait_state p384 valid 60
check_cert www
check_cert p384

# rsa-4096 certificate key
text=$(openssl x509 -in "$(cert_dir www)/current/cert.pem" -noout -text)
assert_contains "www: public key algorithm" "rsaEncryption" "$text"
assert_contains "www: key size" "Public-Key: (4096 bit)" "$text"

# rsa-2048 account key
acct=$STATE_DIR/accounts/pebble/account-key.pem
assert_file_mode "$acct" 600
openssl rsa -in "$acct" -check -noout >/dev/null 2>&1 ||
	fail "account key $acct is not an RSA key: $(openssl pkey -in "$acct" -noout -text 2>&1 | head -n 1)"
assert_match "account key size" '^Private-Key: \(2048 bit' \
	"$(openssl pkey -in "$acct" -noout -text | head -n 1)"

# ec-p384 certificate key
text=$(openssl x509 -in "$(cert_dir p384)/current/cert.pem" -noout -text)
assert_contains "p384: public key algorithm" "id-ecPublicKey" "$text"
assert_contains "p384: curve" "NIST CURVE: P-384" "$text"
assert_contains "p384: curve OID" "secp384r1" "$text"

daemon_stop
