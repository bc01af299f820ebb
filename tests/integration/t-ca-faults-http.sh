#!/bin/bash
# The CA fails at the HTTP level (through tests/helpers/acmeproxy.py in
# front of Pebble), with a certificate already in service: HTTP 500; 503
# and 429 rateLimited with Retry-After; the connection dropped in the
# middle of an answer; the directory refused when the daemon starts.
# Each time the daemon stays up, keeps the certificate, backs off (1 min,
# or the CA's Retry-After), names the cause, and renews once the CA
# behaves again (faults.sh says what is checked).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/faults.sh
. "$(dirname "$0")/faults.sh"

faults_setup
url_re='https://127\.0\.0\.1:[0-9]+'

acmeproxy_fault newOrder respond status=500 >/dev/null
expect_failure "newOrder answered 500" \
	"^CA pebble answered HTTP 500 for $url_re/order-plz\$" 54 66
expect_recovery "newOrder answered 500"

acmeproxy_fault finalize respond status=503 retry_after=300 >/dev/null
expect_failure "finalize answered 503, Retry-After: 300" \
	"^CA pebble answered HTTP 503 for $url_re/finalize-order/" 300 301
expect_recovery "finalize answered 503"

acmeproxy_fault newOrder respond status=429 problem=rateLimited \
	"detail=too many new orders recently" retry_after=7200 >/dev/null
expect_failure "newOrder answered 429 rateLimited, Retry-After: 7200" \
	"HTTP 429 for $url_re/order-plz: rateLimited: too many new orders recently\$" \
	7200 7201
expect_recovery "newOrder answered 429"

acmeproxy_fault newOrder drop >/dev/null
expect_failure "newOrder answer cut off" \
	"request to CA pebble at $url_re/order-plz failed: .*(partial|closed)" 54 66
expect_recovery "newOrder answer cut off"

acmeproxy_fault certificate drop >/dev/null
expect_failure "certificate download cut off" \
	"request to CA pebble at $url_re/certZ/[^ ]+ failed: .*(partial|closed)" 54 66
expect_recovery "certificate download cut off"

# A daemon that starts while the CA refuses its directory: the daemon has
# no directory yet, so the next renewal asks for it, and the CA's
# Retry-After holds for that failure too.
daemon_stop
acmeproxy_fault directory respond status=503 retry_after=900 >/dev/null
daemon_start
wait_state www valid 10
expect_failure "directory answered 503 at start, Retry-After: 900" \
	"^CA pebble answered HTTP 503 for $url_re/dir\$" 900 901
expect_recovery "directory answered 503"

acmeproxy_requests newOrder | jq -e 'select(.fault == null)' >/dev/null ||
	fail "no newOrder went through to Pebble"
daemon_stop
