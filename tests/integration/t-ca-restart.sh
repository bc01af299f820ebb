#!/bin/bash
# The CA restarts under a running daemon (issue 9: connection reuse must
# survive it): the daemon keeps one kept-alive connection and a pool of
# nonces per CA, all of which die with Pebble, and Pebble forgets every
# account.  The next renewal must still succeed, without a daemon
# restart: a fresh connection, fresh nonces (badNonce retried), the
# account registered again; the certificate verifies against the new
# Pebble's root.  Then a second renewal over the new connection.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

pebble_start
write_config --name www
daemon_start
wait_state www valid 60
acmectl force-renew www >/dev/null || fail "force-renew before the CA restart failed"
d=$(cert_dir www)
assert_eq "current before the CA restart" v2 "$(readlink "$d/current")"

# Pebble again, same config and port; a new root, no accounts, no nonces.
kill -TERM "$PEBBLE_PID"
wait "$PEBBLE_PID" 2>/dev/null || true
lib_forget_pid "$PEBBLE_PID"
spawn "$T/pebble.log" env PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 \
	PEBBLE_AUTHZREUSE=0 \
	pebble -config "$T/pebble/pebble.json" -dnsserver "127.0.0.1:$DNS_PORT"
PEBBLE_PID=$LAST_PID
wait_port "$PEBBLE_PORT" 20 || fail "Pebble did not come back on port $PEBBLE_PORT"
for _ in $(seq 100); do
	curl -fsS --cacert "$PEBBLE_CA" -o "$PEBBLE_ROOT" \
		"https://127.0.0.1:$PEBBLE_MGMT_PORT/roots/0" 2>/dev/null && break
	sleep 0.1
done
[ -s "$PEBBLE_ROOT" ] || fail "cannot fetch the new Pebble's root"

for round in 1 2; do
	rc=0
	acmectl force-renew www >"$T/renew.out" 2>&1 || rc=$?
	assert_eq "force-renew $round after the CA restart ($(tr '\n' ' ' <"$T/renew.out"))" 0 "$rc"
	assert_eq "current after renewal $round" "v$((round + 2))" "$(readlink "$d/current")"
	out=$(openssl verify -CAfile "$PEBBLE_ROOT" -untrusted "$d/current/chain.pem" \
		"$d/current/cert.pem" 2>&1) || fail "renewal $round: openssl verify: $out"
done
assert_eq "state after the CA restart" valid "$(cert_field www state)"
assert_eq "daemon starts (no restart of the daemon)" 1 \
	"$(grep -c ': started: ' "$T/daemon.log")"
grep -q "account .* registered" "$T/daemon.log" ||
	fail "no new account registered with the restarted CA"
daemon_stop
