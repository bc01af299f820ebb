#!/bin/bash
# IP address identifiers (RFC 8738): 127.0.0.1 next to a DNS name, proved
# by http-01, ends up as an IP Address SAN.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

pebble_start
write_config --name www --domains "127.0.0.1 a.example.test"
daemon_start
wait_state www valid 60

cur=$(cert_dir www)/current
out=$(openssl verify -CAfile "$PEBBLE_ROOT" -untrusted "$cur/chain.pem" \
	"$cur/cert.pem" 2>&1) || fail "openssl verify: $out"
assert_eq "public key of privkey.pem vs cert.pem" \
	"$(openssl x509 -in "$cur/cert.pem" -noout -pubkey)" \
	"$(openssl pkey -in "$cur/privkey.pem" -pubout)"
sans=$(openssl x509 -in "$cur/cert.pem" -noout -ext subjectAltName |
	tail -n +2 | tr ',' '\n' | sed 's/^ *//' | grep . | sort | tr '\n' ' ')
assert_eq "subjectAltName" "DNS:a.example.test IP Address:127.0.0.1 " "$sans"

# A later status still lists the IP as one of the domains.
assert_eq "domains in status" "127.0.0.1 a.example.test" \
	"$(status_json | jq -r '.certificates[] | select(.name=="www") |
	(.domains | if type == "array" then join(" ") else . end)')"

daemon_stop
