#!/bin/bash
# The CA answers, but with the wrong content (through
# tests/helpers/acmeproxy.py in front of Pebble), with a certificate
# already in service: malformed JSON; a certificate bigger than the
# daemon's 1 MiB body cap; a certificate for another key; an order kept
# in "processing" with a Retry-After past the daemon's 10 min poll limit.
# Each time the daemon stays up, keeps the certificate, backs off, names
# the cause, and renews once the CA behaves again (faults.sh says what is
# checked).  And an order that stays "processing" for a while is polled no
# faster than its Retry-After asks.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/faults.sh
. "$(dirname "$0")/faults.sh"

faults_setup
url_re='https://127\.0\.0\.1:[0-9]+'

acmeproxy_fault newOrder malformed >/dev/null
expect_failure "newOrder answer is malformed JSON" \
	"^CA pebble sent malformed JSON \(HTTP 201\) for $url_re/order-plz: .* at line [0-9]+, column [0-9]+\$" \
	54 66
expect_recovery "newOrder answer is malformed JSON"

acmeproxy_fault finalize malformed 'body={"status": "valid", "certificate": ' >/dev/null
expect_failure "finalize answer is malformed JSON" \
	"^CA pebble sent malformed JSON \(HTTP 200\) for $url_re/finalize-order/" 54 66
expect_recovery "finalize answer is malformed JSON"

acmeproxy_fault certificate oversize bytes=$((1024 * 1024 + 4096)) >/dev/null
expect_failure "certificate bigger than 1 MiB" \
	"^request to CA pebble at $url_re/certZ/[^ ]+ failed: response body larger than 1048576 bytes\$" \
	54 66
expect_recovery "certificate bigger than 1 MiB"

acmeproxy_fault certificate wrongkey >/dev/null
expect_failure "certificate for another key" \
	"^the CA's certificate does not match our key\$" 54 66
expect_recovery "certificate for another key"

# "processing" for good, and the CA asks to come back in 15 min: past the
# poll limit, so the daemon gives up now (rather than wait for nothing or
# ask early), and its next attempt waits the 15 min.
acmeproxy_fault '^/(finalize-order|my-order)/' rewrite \
	'set={"status": "processing"}' retry_after=900 >/dev/null
expect_failure "order kept processing, Retry-After: 900" \
	"^order $url_re/my-order/[^ ]+ still processing after [0-9]+ s, and the CA asks to wait 900 s more, past the 600 s limit\$" \
	900 901
expect_recovery "order kept processing"

# "processing" twice with Retry-After: 2 (the answer to finalize and to
# the first poll), then the truth: the requests are 2 s apart, and the
# renewal succeeds.
: >"$ACMEPROXY_LOG"
id=$(acmeproxy_fault '^/(finalize-order|my-order)/' rewrite \
	'set={"status": "processing"}' retry_after=2 times=2)
acmectl force-renew www >"$T/force-renew.out" 2>&1 ||
	fail "order processing for 4 s: renewal failed: $(cat "$T/force-renew.out")"
assert_eq "answers rewritten to 'processing'" 2 "$(acmeproxy_hits "$id")"
mapfile -t polls < <(acmeproxy_requests | jq -r \
	'select(.endpoint == "finalize" or .endpoint == "order") | .time * 1000 | floor')
[ "${#polls[@]}" -ge 3 ] ||
	fail "expected finalize and >= 2 order polls, got ${#polls[@]} requests"
for i in 1 2; do
	gap=$((polls[i] - polls[i - 1]))
	[ "$gap" -ge 1950 ] ||
		fail "order poll $i came $gap ms after an answer with Retry-After: 2"
done
assert_eq "state after processing for 4 s" valid "$(cert_field www state)"
faults_remember
faults_cert_kept "after an order processing for 4 s"

daemon_stop
