#!/bin/bash
# While Pebble takes seconds to validate, the daemon's one event loop
# must still answer the control socket at once.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

# Each validation sleeps a random 0..7 s; three per name, two names.
pebble_start PEBBLE_VA_NOSLEEP= PEBBLE_VA_SLEEPTIME=8
write_config --name www --domains "a.example.test b.example.test"
daemon_start
wait_state www renewing 20

renewing=0
for i in 1 2 3 4 5; do
	t0=$(now_ms)
	js=$("$ACMECTL" -s "$SOCK" --json status) ||
		fail "acmectl status #$i failed (exit $?) while renewing"
	ms=$(($(now_ms) - t0))
	state=$(jq -r '.certificates[] | select(.name=="www") | .state' <<<"$js")
	log "status #$i: ${ms} ms, state $state"
	[ "$ms" -lt "$(scaled 1000)" ] ||
		fail "acmectl status #$i took ${ms} ms while renewing: expected < $(scaled 1000) ms"
	[ "$state" = renewing ] && renewing=$((renewing + 1))
	sleep 0.2
done
# The first answer came right after we saw "renewing"; if none of them
# saw it, this test measured nothing.
[ "$renewing" -ge 1 ] || fail "no status answer was taken during the renewal"

wait_state www valid 90
daemon_stop
