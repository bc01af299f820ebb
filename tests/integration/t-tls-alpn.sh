#!/bin/bash
# tls-alpn-01 (RFC 8737): the daemon's own responder on tls-alpn-01-listen
# proves the names to Pebble; an ordinary TLS client (no ALPN acme-tls/1)
# is refused while the daemon runs.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

pebble_start
write_config --name www --domains "a.example.test b.example.test" \
	--daemon "tls-alpn-01-listen = 127.0.0.1:$TLSALPN01_PORT"
# write_config always says http-01; this certificate uses tls-alpn-01.
sed -i 's/^challenge = http-01$/challenge = tls-alpn-01/' "$CONF"
grep -q '^challenge = tls-alpn-01$' "$CONF" || fail "could not set challenge = tls-alpn-01"
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
assert_eq "subjectAltName" "DNS:a.example.test DNS:b.example.test " "$sans"

# Pebble validated by tls-alpn-01, not by anything else.
grep -q 'answering tls-alpn-01' "$T/daemon.log" ||
	fail "the daemon log shows no 'answering tls-alpn-01'"

# The responder listens, and refuses a client that does not offer ALPN
# acme-tls/1: the handshake fails (not the connection).
ss -Htln "sport = :$TLSALPN01_PORT" | grep -q . ||
	fail "nothing listens on the tls-alpn-01 port $TLSALPN01_PORT"
if out=$(timeout 10 openssl s_client -connect "127.0.0.1:$TLSALPN01_PORT" \
	-servername a.example.test </dev/null 2>&1); then
	fail "a TLS client without ALPN completed a handshake with the tls-alpn-01 responder: $out"
fi
case $out in
*"Connection refused"*|*"connect:errno"*)
	fail "s_client could not connect at all (expected a refused handshake): $out" ;;
esac
grep -Eq 'tls-alpn-01: refused .*ALPN' "$T/daemon.log" ||
	fail "the daemon log does not show it refusing the client for want of ALPN"
daemon_alive || fail "the daemon died after refusing a TLS client"

daemon_stop
