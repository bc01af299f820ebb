#!/bin/bash
# Alternate chains: with preferred-chain = the issuer CN of an alternate
# chain's top certificate, that chain is installed; without it, the
# default chain (to Pebble's /roots/0).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

# cn_of FILE subject|issuer: the commonName of a certificate's name
cn_of() {
	openssl x509 -in "$1" -noout "-$2" -nameopt multiline |
		sed -n 's/^ *commonName *= *//p'
}

# last_cert FILE: the last certificate of a PEM bundle
last_cert() {
	awk '/-----BEGIN CERTIFICATE-----/ { b = "" } { b = b $0 ORS }
	     /-----END CERTIFICATE-----/ { last = b } END { printf "%s", last }' "$1"
}

pebble_start PEBBLE_ALTERNATE_ROOTS=2
root1=$T/root1.pem
curl -fsS --cacert "$PEBBLE_CA" -o "$root1" \
	"https://127.0.0.1:$PEBBLE_MGMT_PORT/roots/1" ||
	fail "cannot fetch Pebble's alternate root /roots/1"
want=$(cn_of "$root1" subject)
[ -n "$want" ] || fail "no subject CN in /roots/1"
assert_ne "CN of /roots/1 vs /roots/0" "$(cn_of "$PEBBLE_ROOT" subject)" "$want"
log "preferred chain: $want"

write_config --name alt --domains "a.example.test" \
	--cert-line "preferred-chain = $want" \
	--append "[certificate dflt]
domains = b.example.test
ca = pebble
challenge = http-01"
daemon_start
wait_state alt valid 60
wait_state dflt valid 60

# alt: the chain ends at a certificate issued by the asked root, and
# verifies against that root (not against the default one).
cur=$(cert_dir alt)/current
last_cert "$cur/chain.pem" >"$T/alt-top.pem"
assert_eq "alt: issuer CN of chain.pem's last certificate" "$want" \
	"$(cn_of "$T/alt-top.pem" issuer)"
out=$(openssl verify -CAfile "$root1" -untrusted "$cur/chain.pem" \
	"$cur/cert.pem" 2>&1) || fail "alt: openssl verify against /roots/1: $out"
if openssl verify -CAfile "$PEBBLE_ROOT" -untrusted "$cur/chain.pem" \
	"$cur/cert.pem" >/dev/null 2>&1; then
	fail "alt: the installed chain verifies against /roots/0: the default chain was installed"
fi
assert_eq "alt: public key of privkey.pem vs cert.pem" \
	"$(openssl x509 -in "$cur/cert.pem" -noout -pubkey)" \
	"$(openssl pkey -in "$cur/privkey.pem" -pubout)"
cat "$cur/cert.pem" "$cur/chain.pem" | cmp -s - "$cur/fullchain.pem" ||
	fail "alt: fullchain.pem is not cert.pem followed by the chosen chain.pem"

# dflt: no preference, the default chain to /roots/0.
cur=$(cert_dir dflt)/current
out=$(openssl verify -CAfile "$PEBBLE_ROOT" -untrusted "$cur/chain.pem" \
	"$cur/cert.pem" 2>&1) || fail "dflt: openssl verify against /roots/0: $out"
last_cert "$cur/chain.pem" >"$T/dflt-top.pem"
assert_eq "dflt: issuer CN of chain.pem's last certificate" \
	"$(cn_of "$PEBBLE_ROOT" subject)" "$(cn_of "$T/dflt-top.pem" issuer)"
assert_eq "dflt: public key of privkey.pem vs cert.pem" \
	"$(openssl x509 -in "$cur/cert.pem" -noout -pubkey)" \
	"$(openssl pkey -in "$cur/privkey.pem" -pubout)"

daemon_stop
