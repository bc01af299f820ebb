#!/bin/bash
# Fallback CA: `ca = first second` with `ca-fallback-after = 1`.  The first
# Pebble is stopped before the daemon starts; after its one failure there,
# the next attempt goes to the second Pebble with an account of its own,
# and the certificate it issues is installed.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

# The first Pebble, through lib.sh (with the DNS server both use).
pebble_start
FIRST_URL=$PEBBLE_DIR_URL
FIRST_CA=$PEBBLE_CA
FIRST_PID=$PEBBLE_PID

# The second Pebble: started here, because the daemon has one http-01
# listener, so both must validate against the same port ($HTTP01_PORT).
p2=$T/pebble2
minica "$p2/minica"
SECOND_CA=$p2/minica/ca.pem
port2=$(free_port)
mgmt2=$(free_port)
tls2=$(free_port)
cat >"$p2/pebble.json" <<EOF2
{
  "pebble": {
    "listenAddress": "127.0.0.1:$port2",
    "managementListenAddress": "127.0.0.1:$mgmt2",
    "certificate": "$p2/minica/cert.pem",
    "privateKey": "$p2/minica/key.pem",
    "httpPort": $HTTP01_PORT,
    "tlsPort": $tls2,
    "ocspResponderURL": "",
    "externalAccountBindingRequired": false
  }
}
EOF2
spawn "$T/pebble2.log" env PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 \
	PEBBLE_AUTHZREUSE=0 \
	pebble -config "$p2/pebble.json" -dnsserver "127.0.0.1:$DNS_PORT"
SECOND_PID=$LAST_PID
SECOND_URL=https://127.0.0.1:$port2/dir
deadline=$((SECONDS + 20))
until curl -fsS --cacert "$SECOND_CA" -o /dev/null "$SECOND_URL" 2>/dev/null; do
	kill -0 "$SECOND_PID" 2>/dev/null || { show_log "$T/pebble2.log"; fail "second pebble exited"; }
	[ "$SECONDS" -lt "$deadline" ] || fail "second pebble did not answer within 20 s"
	sleep 0.1
done
SECOND_ROOT=$T/pebble2-root.pem
curl -fsS --cacert "$SECOND_CA" -o "$SECOND_ROOT" "https://127.0.0.1:$mgmt2/roots/0" ||
	fail "cannot fetch the second Pebble's root"
cmp -s "$SECOND_ROOT" "$PEBBLE_ROOT" && fail "both Pebbles have the same root"

# Stop the first Pebble.
kill -TERM "$FIRST_PID"
wait "$FIRST_PID" 2>/dev/null || true
lib_forget_pid "$FIRST_PID"
curl -fsS --cacert "$FIRST_CA" -o /dev/null "$FIRST_URL" 2>/dev/null &&
	fail "the first Pebble still answers"

write_config --name www --domains "a.example.test" \
	--ca first --directory "$FIRST_URL" --trust-bundle "$FIRST_CA" \
	--cert-line "ca-fallback-after = 1" \
	--append "[ca second]
directory = $SECOND_URL
contact = mailto:ops@example.test
accept-tos = yes
trust-bundle = $SECOND_CA"
# write_config names one CA in the certificate: make it the list.
sed -i 's/^ca = first$/ca = first second/' "$CONF"
grep -qx 'ca = first second' "$CONF" || fail "could not set 'ca = first second' in $CONF"

daemon_start
STATE=$(cert_dir www)/state.json
wait_state www backoff 30
assert_eq "failures after the attempt at the stopped CA" 1 "$(cert_field www failures)"
assert_contains "last_error after the attempt at the stopped CA" "$FIRST_URL" \
	"$(cert_field www last_error)"
assert_eq "state.json history[0].ca of the failed attempt" first \
	"$(jq -r '.history[0].ca' "$STATE")"
[ ! -e "$(cert_dir www)/current" ] || fail "a certificate was installed although the first CA is down"

# The next attempt (now) goes to the second CA.
rc=0
acmectl renew www >"$T/renew.out" 2>&1 || rc=$?
assert_eq "acmectl renew www exit status (at the second CA): $(cat "$T/renew.out")" 0 "$rc"
wait_state www valid 30

d=$(cert_dir www)
out=$(openssl verify -CAfile "$SECOND_ROOT" -untrusted "$d/current/chain.pem" \
	"$d/current/cert.pem" 2>&1) || fail "the certificate does not verify against the second Pebble's root: $out"
[ -s "$STATE_DIR/accounts/second/account-key.pem" ] ||
	fail "no account key for the second CA in $STATE_DIR/accounts/second/"
assert_file_mode "$STATE_DIR/accounts/second/account-key.pem" 600
assert_eq "state.json ca (the current certificate's CA)" second "$(jq -r '.ca' "$STATE")"
assert_eq "state.json history[0]" "second true" \
	"$(jq -r '.history[0] | "\(.ca) \(.ok)"' "$STATE")"
assert_eq "failures after the success" 0 "$(cert_field www failures)"
grep -q 'ca=second' "$T/daemon.log" || fail "no log line tagged ca=second"
assert_eq "status ca after the certificate came from the second CA" second \
	"$(cert_field www ca)"

daemon_stop
