#!/bin/bash
# The CA takes a request and never answers (tests/helpers/acmeproxy.py
# holds it), with a certificate already in service: the daemon gives up
# after its 30 s request timeout, answers acmectl all the while, keeps the
# certificate, backs off 1 min, says the request timed out, and renews
# once the CA answers again (faults.sh says what is checked).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/faults.sh
. "$(dirname "$0")/faults.sh"

faults_setup
url_re='https://127\.0\.0\.1:[0-9]+'

id=$(acmeproxy_fault newOrder stall)
spawn "$T/force-renew.out" "$ACMECTL" -s "$SOCK" force-renew www
renew_pid=$LAST_PID
deadline=$((SECONDS + 10))
until [ "$(acmeproxy_hits "$id")" = 1 ]; do
	[ "$SECONDS" -lt "$deadline" ] || fail "newOrder never reached the proxy"
	sleep 0.2
done
started=$SECONDS

# While the request hangs, the daemon answers.
sleep 2
assert_eq "state while newOrder hangs" renewing "$(cert_field www state)"
acmectl version >/dev/null || fail "acmectl version while newOrder hangs"

rc=0
wait "$renew_pid" || rc=$?
lib_forget_pid "$renew_pid"
waited=$((SECONDS - started))
assert_eq "force-renew exit status ($(tr '\n' ' ' <"$T/force-renew.out"))" 1 "$rc"
[ "$waited" -ge 25 ] && [ "$waited" -le 40 ] ||
	fail "the daemon gave up on a hanging request after $waited s, not its 30 s timeout"
expect_backoff "newOrder never answered" \
	"^request to CA pebble at $url_re/order-plz failed: .*timed out after 3[0-9]{4} milliseconds" \
	54 66
expect_recovery "newOrder never answered"
daemon_stop
