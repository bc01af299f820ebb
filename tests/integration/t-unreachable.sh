#!/bin/bash
# A CA that cannot be reached, or whose TLS certificate cannot be verified,
# is a failure of this renewal only: the daemon keeps running, backs off,
# and says what went wrong and where.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

# 1. Nothing listens at the directory URL.
port=$(free_port)
url=https://127.0.0.1:$port/dir
write_config --ca unreachable-ca --directory "$url" --trust-bundle ""
daemon_start
wait_state www backoff 20
sleep 5
daemon_alive || fail "daemon exited after the CA turned out unreachable"
err=$(cert_field www last_error)
assert_contains "last_error" "$url" "$err"
grep -F "$url" "$T/daemon.log" | grep -qF unreachable-ca ||
	fail "no log line names both the CA 'unreachable-ca' and $url"
assert_eq "state after 5 s" backoff "$(cert_field www state)"
failures=$(cert_field www failures)
[ "$failures" -ge 1 ] 2>/dev/null || fail "failures: expected >= 1, got '$failures'"
daemon_stop

# 2. Pebble is there, but no trust-bundle is configured: Pebble's HTTPS
# certificate comes from our own minica, so verification must fail (and
# must not be rescued by CURL_CA_BUNDLE/SSL_CERT_FILE from the environment).
pebble_start
rm -rf "$STATE_DIR"
write_config --ca pebble --trust-bundle "" --socket "$T/control2.sock"
daemon_start
wait_state www backoff 20
daemon_alive || fail "daemon exited after TLS verification failed"
err=$(cert_field www last_error)
both="$err
$(grep -F "$PEBBLE_DIR_URL" "$T/daemon.log" || true)"
assert_imatch "last_error/log on an unverifiable CA" \
	'verif|certificate problem|local issuer' "$both"
assert_contains "last_error/log on an unverifiable CA" trust-bundle "$both"
[ ! -e "$(cert_dir www)/current" ] || fail "a certificate was installed although TLS verification must fail"
daemon_stop
