#!/bin/bash
# A wildcard and its base name by dns-01 through the hook: both
# authorizations put a value at the same name, _acme-challenge.example.test.,
# at the same time; each is added and removed with its own value, and the
# certificate carries exactly *.example.test and example.test.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/bind.sh
. "$(dirname "$0")/bind.sh"

pebble_start
write_dns_hook "$T/hook.sh" "$T/hook.log"
write_dns01_config --name wild --domains "*.example.test example.test" \
	--cert-line "dns-01-hook = $T/hook.sh" \
	--cert-line "dns-01-resolvers = 127.0.0.1:$DNS_PORT"
daemon_start
wait_state wild valid 90

fqdn=_acme-challenge.example.test.
wait_file_lines "$T/hook.log" "^remove $fqdn " 2 20
assert_eq "adds" 2 "$(grep -c "^add $fqdn " "$T/hook.log")"
assert_eq "lines in hook.log" 4 "$(wc -l <"$T/hook.log")"
v1=$(grep "^add $fqdn " "$T/hook.log" | sed -n 1p | cut -d' ' -f3)
v2=$(grep "^add $fqdn " "$T/hook.log" | sed -n 2p | cut -d' ' -f3)
assert_match "first value" '^[A-Za-z0-9_-]{43}$' "$v1"
assert_match "second value" '^[A-Za-z0-9_-]{43}$' "$v2"
assert_ne "the two values" "$v1" "$v2"
assert_file_contains "$T/hook.log" "remove $fqdn $v1"
assert_file_contains "$T/hook.log" "remove $fqdn $v2"
assert_eq "TXT left at challtestsrv" "" "$(challtestsrv_txt "$fqdn")"

cur=$(cert_dir wild)/current
out=$(openssl verify -CAfile "$PEBBLE_ROOT" -untrusted "$cur/chain.pem" \
	"$cur/cert.pem" 2>&1) || fail "openssl verify: $out"
assert_eq "subjectAltName" "DNS:*.example.test DNS:example.test " \
	"$(cert_sans "$cur/cert.pem")"

daemon_stop
