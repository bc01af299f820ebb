#!/bin/bash
# dns-01 by RFC 2136 UPDATE to a real BIND primary for example.test, with
# the TSIG key file tsig-keygen wrote; Pebble resolves through that BIND.
# The records are added, checked at dns-01-resolvers, validated and
# deleted again.  A key with the wrong secret is refused by BIND (BADSIG)
# and its certificate goes to backoff saying so.  An hmac-sha384 key
# (signed by our own HMAC: ldns 1.8.3 lacks it) works too.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/bind.sh
. "$(dirname "$0")/bind.sh"

bind_start
pebble_start_dns "127.0.0.1:$BIND_PORT"

# Same key name, another secret.
tsig-keygen -a hmac-sha256 acme-key >"$T/wrong.key"

dns01_lines() {
	printf '%s\n' "ca = pebble" "challenge = dns-01" \
		"dns-01-rfc2136-server = 127.0.0.1:$BIND_PORT" \
		"dns-01-tsig-key-file = $1" \
		"dns-01-resolvers = 127.0.0.1:$BIND_PORT"
}

write_dns01_config --name www --domains "a.example.test b.example.test" \
	--cert-line "dns-01-rfc2136-server = 127.0.0.1:$BIND_PORT" \
	--cert-line "dns-01-tsig-key-file = $BIND_KEY" \
	--cert-line "dns-01-resolvers = 127.0.0.1:$BIND_PORT" \
	--append "[certificate wrong]
domains = w.example.test
$(dns01_lines "$T/wrong.key")

[certificate sha384]
domains = s.example.test
$(dns01_lines "$BIND_KEY_384")"
daemon_start
wait_state www valid 90
wait_state sha384 valid 90
wait_state wrong backoff 60

# BIND saw the updates, made with the right key.
assert_file_contains "$T/named.log" "acme-key: updating zone 'example.test/IN': adding an RR"
assert_file_contains "$T/named.log" "acme-key-384: updating zone 'example.test/IN': adding an RR"

# After issuance the records are deleted (in the background: wait).
for n in a b s; do
	fqdn=_acme-challenge.$n.example.test
	deadline=$((SECONDS + 20))
	while [ -n "$(bind_txt "$fqdn")" ]; do
		[ "$SECONDS" -lt "$deadline" ] ||
			fail "TXT $fqdn still at BIND: $(bind_txt "$fqdn")"
		sleep 0.2
	done
done
assert_file_contains "$T/named.log" "updating zone 'example.test/IN': deleting an RR"
assert_eq "TXT records left in the zone" "" \
	"$(dig +short +norec @127.0.0.1 -p "$BIND_PORT" TXT _acme-challenge.a.example.test)"

cur=$(cert_dir www)/current
out=$(openssl verify -CAfile "$PEBBLE_ROOT" -untrusted "$cur/chain.pem" \
	"$cur/cert.pem" 2>&1) || fail "openssl verify: $out"
assert_eq "subjectAltName" "DNS:a.example.test DNS:b.example.test " \
	"$(cert_sans "$cur/cert.pem")"
assert_eq "subjectAltName of sha384" "DNS:s.example.test " \
	"$(cert_sans "$(cert_dir sha384)/current/cert.pem")"

# The wrong secret: refused, and the status says why.
err=$(cert_field wrong last_error)
assert_imatch "last_error of wrong" "BADSIG|bad|refused" "$err"
assert_contains "last_error of wrong" \
	"UPDATE _acme-challenge.w.example.test. at 127.0.0.1:$BIND_PORT" "$err"
[ ! -e "$(cert_dir wrong)/current" ] || fail "wrong got a certificate"
assert_eq "TXT for the refused name" "" "$(bind_txt _acme-challenge.w.example.test)"

daemon_stop
