#!/bin/bash
# badNonce is retried transparently: with Pebble rejecting 30% of good
# nonces, two certificates of two names each are still issued, and the
# debug log shows the retries.
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

pebble_start PEBBLE_WFE_NONCEREJECT=30
write_config --name one --domains "a.example.test b.example.test" \
	--append "[certificate two]
domains = c.example.test d.example.test
ca = pebble
challenge = http-01"
daemon_start
t0=$SECONDS
wait_state one valid 90
left=$((90 - (SECONDS - t0)))
wait_state two valid $((left > 1 ? left : 1))
check_cert one
check_cert two

n=$(grep -ci 'bad nonce' "$T/daemon.log" || true)
log "bad nonce retries in the log: $n"
[ "$n" -ge 1 ] || fail "no bad nonce retry in the daemon log"

daemon_stop
