#!/bin/bash
# One certificate for two names is issued by Pebble over http-01 and
# installed as DESIGN.md says: a chain that verifies, exactly the asked
# names, a matching key, private files 0600, current -> v1, and a status
# that tells the truth about it.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

pebble_start
write_config --name www --domains "a.example.test b.example.test"
daemon_start
wait_state www valid 60

d=$(cert_dir www)
cur=$d/current
[ -L "$cur" ] || fail "$cur is not a symlink"
assert_eq "current symlink target" v1 "$(readlink "$cur")"
for f in privkey.pem cert.pem chain.pem fullchain.pem combined.pem; do
	assert_file "$cur/$f"
done

# The chain verifies up to Pebble's root.
out=$(openssl verify -CAfile "$PEBBLE_ROOT" -untrusted "$cur/chain.pem" \
	"$cur/cert.pem" 2>&1) || fail "openssl verify: $out"

# Exactly the two names, nothing else.
sans=$(openssl x509 -in "$cur/cert.pem" -noout -ext subjectAltName |
	tail -n +2 | tr ',' '\n' | sed 's/^ *//' | grep . | sort | tr '\n' ' ')
assert_eq "subjectAltName" "DNS:a.example.test DNS:b.example.test " "$sans"

# The private key belongs to the certificate.
kpub=$(openssl pkey -in "$cur/privkey.pem" -pubout) || fail "privkey.pem is not a key"
cpub=$(openssl x509 -in "$cur/cert.pem" -noout -pubkey)
assert_eq "public key of privkey.pem vs cert.pem" "$cpub" "$kpub"
# combined.pem (key + fullchain, for HAProxy) holds the same key.
combpub=$(openssl pkey -in "$cur/combined.pem" -pubout) ||
	fail "combined.pem holds no private key"
assert_eq "public key in combined.pem" "$cpub" "$combpub"

# Secrets are private.
assert_file_mode "$cur/privkey.pem" 600
assert_file_mode "$cur/combined.pem" 600
assert_file_mode "$STATE_DIR/accounts/pebble/account-key.pem" 600
assert_file "$STATE_DIR/accounts/pebble/account.json"

# fullchain = cert + chain
cat "$cur/cert.pem" "$cur/chain.pem" >"$T/expect-fullchain.pem"
cmp -s "$T/expect-fullchain.pem" "$cur/fullchain.pem" ||
	fail "fullchain.pem is not cert.pem followed by chain.pem"

# What acmectl says matches the files.
js=$(status_json)
assert_eq "state" valid "$(jq -r '.certificates[] | select(.name=="www") | .state' <<<"$js")"
assert_eq "failures" 0 "$(jq -r '.certificates[] | select(.name=="www") | .failures' <<<"$js")"
assert_eq "ca" pebble "$(jq -r '.certificates[] | select(.name=="www") |
	(.ca | if type == "array" then .[0] else . end)' <<<"$js")"
assert_eq "domains" "a.example.test b.example.test" \
	"$(jq -r '.certificates[] | select(.name=="www") |
	(.domains | if type == "array" then join(" ") else . end)' <<<"$js")"
st_na=$(jq -r '.certificates[] | select(.name=="www") | .not_after' <<<"$js")
cert_na=$(openssl x509 -in "$cur/cert.pem" -noout -enddate | sed 's/^notAfter=//')
assert_eq "not_after (epoch) in status vs cert.pem" \
	"$(to_epoch "$cert_na")" "$(to_epoch "$st_na")"

daemon_stop
