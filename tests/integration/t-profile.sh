#!/bin/bash
# ACME profiles (draft-ietf-acme-profiles).  Pebble 2.4 has none, so
# tests/helpers/acmeproxy.py adds "meta": {"profiles": {...}} to the
# directory it serves, and records what the daemon sends.
#   www    profile = tlsserver, offered: newOrder carries "profile"
#   plain  no profile: newOrder carries none
#   odd    profile = shortlived, not offered: no order at all; the error
#          names the certificate, the CA and the profiles on offer
#   fb     profile = classic, at CA "direct" (Pebble itself, no profiles)
#          and then, after one failure there, at the proxied CA
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

pebble_start
acmeproxy_start
acmeproxy_fault directory rewrite 'set={"meta": {"profiles": {
	"tlsserver": "Only what TLS servers need",
	"classic": "The profile you know"}}}' >/dev/null

write_config --ca proxied --directory "$ACMEPROXY_DIR_URL" \
	--name www --domains "www.example.test" \
	--cert-line "profile = tlsserver" \
	--append "[ca direct]
directory = $PEBBLE_DIR_URL
contact = mailto:ops@example.test
accept-tos = yes
trust-bundle = $PEBBLE_CA

[certificate plain]
domains = plain.example.test
ca = proxied

[certificate odd]
domains = odd.example.test
ca = proxied
profile = shortlived

[certificate fb]
domains = fb.example.test
ca = direct proxied
ca-fallback-after = 1
profile = classic"
"$ACME_RENEWD" -c "$CONF" --check-config >"$T/check.out" 2>&1 ||
	fail "--check-config refuses profile: $(cat "$T/check.out")"
daemon_start
wait_state www valid 60
wait_state plain valid 60
wait_state odd backoff 30
wait_state fb backoff 30

# new_order NAME: the payload of the newOrder for NAME.example.test
new_order() {
	acmeproxy_requests newOrder | jq -c --arg d "$1.example.test" \
		'select(.payload.identifiers[0].value == $d) | .payload'
}

assert_eq "www: newOrder profile" tlsserver "$(new_order www | jq -r .profile)"
assert_eq "plain: newOrder has no profile" false \
	"$(new_order plain | jq 'has("profile")')"
assert_eq "odd: newOrders sent" "" "$(new_order odd)"

assert_eq "odd: last_error" \
	"certificate 'odd' asks for profile 'shortlived', but CA 'proxied' offers no such profile (offered: classic, tlsserver)" \
	"$(cert_field odd last_error)"
grep -F "[odd] ca=proxied" "$T/daemon.log" | grep -qF "offers no such profile" ||
	fail "no log line of certificate odd at CA proxied names the missing profile"
assert_eq "fb: last_error at CA direct" \
	"certificate 'fb' asks for profile 'classic', but CA 'direct' offers no profiles (its directory has no meta.profiles)" \
	"$(cert_field fb last_error)"
assert_eq "fb: failures" 1 "$(cert_field fb failures)"
assert_eq "fb: the next attempt goes to" proxied \
	"$(acmectl --json show fb | jq -r .next_ca)"

# The fallback CA offers the profile: the next attempt issues with it.
acmectl renew fb >"$T/renew-fb.out" 2>&1 ||
	fail "fb at the fallback CA: $(cat "$T/renew-fb.out")"
assert_eq "fb: state" valid "$(cert_field fb state)"
assert_eq "fb: newOrder profile" classic "$(new_order fb | jq -r .profile)"

# And the certificates issued with a profile are real ones.
for n in www fb; do
	out=$(openssl verify -CAfile "$PEBBLE_ROOT" \
		-untrusted "$(cert_dir $n)/current/chain.pem" \
		"$(cert_dir $n)/current/cert.pem" 2>&1) || fail "$n: $out"
done
daemon_stop
