#!/bin/bash
# reuse-key = yes keeps the certificate's key across a re-issue (here
# forced by a changed list of names); reuse-key = no makes a new one.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

# config [EXTRA-NAME-FOR-keep EXTRA-NAME-FOR-fresh]
config() {
	write_config --name keep --domains "a.example.test b.example.test${1:+ $1}" \
		--cert-line "reuse-key = yes" \
		--append "[certificate fresh]
domains = d.example.test e.example.test${2:+ $2}
ca = pebble
challenge = http-01
reuse-key = no"
}

# wait_version NAME vN SECONDS: until current -> vN and the state is valid
wait_version() {
	local deadline=$((SECONDS + $3)) cur

	cur=$(cert_dir "$1")/current
	until [ "$(readlink "$cur" 2>/dev/null)" = "$2" ] &&
		[ "$(cert_field "$1" state)" = valid ]; do
		daemon_alive || fail "daemon exited while waiting for $1 $2"
		[ "$SECONDS" -lt "$deadline" ] ||
			fail "$1: expected current -> $2 and valid within $3 s, got '$(readlink "$cur")', state '$(cert_field "$1" state)'"
		sleep 0.2
	done
}

check_cert() {
	local cur
	cur=$(cert_dir "$1")/current
	out=$(openssl verify -CAfile "$PEBBLE_ROOT" -untrusted "$cur/chain.pem" \
		"$cur/cert.pem" 2>&1) || fail "$1: openssl verify: $out"
	assert_eq "$1: public key of privkey.pem vs cert.pem" \
		"$(openssl x509 -in "$cur/cert.pem" -noout -pubkey)" \
		"$(openssl pkey -in "$cur/privkey.pem" -pubout)"
}

sans() {
	openssl x509 -in "$1" -noout -ext subjectAltName | tail -n +2 |
		tr ',' '\n' | sed 's/^ *//' | grep . | sort | tr '\n' ' '
}

pubkey() {
	openssl pkey -in "$1" -pubout
}

pebble_start
config
daemon_start
wait_version keep v1 60
wait_version fresh v1 60
check_cert keep
check_cert fresh
keep_d=$(cert_dir keep)
fresh_d=$(cert_dir fresh)
keep_serial=$(openssl x509 -in "$keep_d/v1/cert.pem" -noout -serial)
fresh_serial=$(openssl x509 -in "$fresh_d/v1/cert.pem" -noout -serial)
daemon_stop

# One more name each: the certificates no longer match, so they are re-issued.
config c.example.test f.example.test
daemon_start
wait_version keep v2 60
wait_version fresh v2 60
check_cert keep
check_cert fresh

assert_eq "keep: SANs of v2" \
	"DNS:a.example.test DNS:b.example.test DNS:c.example.test " \
	"$(sans "$keep_d/v2/cert.pem")"
assert_eq "fresh: SANs of v2" \
	"DNS:d.example.test DNS:e.example.test DNS:f.example.test " \
	"$(sans "$fresh_d/v2/cert.pem")"
assert_ne "keep: serial of v2" "$keep_serial" \
	"$(openssl x509 -in "$keep_d/v2/cert.pem" -noout -serial)"
assert_ne "fresh: serial of v2" "$fresh_serial" \
	"$(openssl x509 -in "$fresh_d/v2/cert.pem" -noout -serial)"

# The point: the same key with reuse-key = yes, a new one with no.
assert_eq "keep (reuse-key = yes): public key of v2 vs v1" \
	"$(pubkey "$keep_d/v1/privkey.pem")" "$(pubkey "$keep_d/v2/privkey.pem")"
assert_ne "fresh (reuse-key = no): public key of v2 vs v1" \
	"$(pubkey "$fresh_d/v1/privkey.pem")" "$(pubkey "$fresh_d/v2/privkey.pem")"
assert_file_mode "$keep_d/v2/privkey.pem" 600

daemon_stop
