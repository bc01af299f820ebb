#!/bin/bash
# http-01 by webroot: a web server that already owns the http-01 port
# (busybox httpd here) serves the key authorizations the daemon writes to
# WEBROOT/.well-known/acme-challenge/<token>; the files are gone afterwards.
# A webroot that does not exist is a clear error naming the path, and the
# daemon does not create it.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

pebble_start
www=$T/www
missing=$T/no-such-webroot
mkdir -p "$www"
# The web server owns HTTP01_PORT: the daemon must not open its own
# responder there, since every certificate uses a webroot.
spawn "$T/httpd.log" busybox httpd -f -vv -p "127.0.0.1:$HTTP01_PORT" -h "$www"
wait_port "$HTTP01_PORT" 10 || fail "busybox httpd did not listen on $HTTP01_PORT"

write_config --name www --domains "a.example.test b.example.test" \
	--cert-line "webroot = $www" \
	--append "[certificate lost]
domains = c.example.test
ca = pebble
challenge = http-01
webroot = $missing"
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

# Pebble fetched the tokens from busybox (200, one per name), not from
# a responder of the daemon's.
n=$(grep -c 'response:200' "$T/httpd.log" || true)
[ "$n" -ge 2 ] || fail "busybox httpd served $n challenge files, expected >= 2: $(cat "$T/httpd.log")"

# The challenge files are gone; the directories may stay.
ch=$www/.well-known/acme-challenge
[ -d "$ch" ] || fail "$ch was never created"
left=$(find "$ch" -mindepth 1 -printf '%P ')
assert_eq "files left in $ch" "" "$left"

# A missing webroot: backoff, an error that names the path, nothing made.
wait_state lost backoff 60
err=$(cert_field lost last_error)
assert_contains "last_error of a missing webroot" "$missing" "$err"
[ ! -e "$missing" ] || fail "the daemon created the missing webroot $missing"
assert_eq "state of www after the other one failed" valid "$(cert_field www state)"

daemon_stop
