#!/bin/bash
# A CA that cannot be reached makes the daemon back off exponentially, as
# DESIGN.md "Renewal policy" says (1 min doubling, +-10 % jitter): the gap
# between an attempt's end and the next scheduled one, as state.json
# records it, is 54..66 s after one failure, 108..132 s after two and
# 216..264 s after three.  The daemon stays up, in state backoff.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

port=$(free_port)
url=https://127.0.0.1:$port/dir
write_config --name www --ca nowhere --directory "$url" --trust-bundle ""
STATE=$(cert_dir www)/state.json

# state_failures: "failures" from state.json ("" while there is none)
state_failures() {
	jq -r '.failures // empty' "$STATE" 2>/dev/null || true
}

# wait_failures N SECS: until state.json says N failures
wait_failures() {
	local deadline=$((SECONDS + $2))

	until [ "$(state_failures)" = "$1" ]; do
		daemon_alive || fail "daemon exited while waiting for failure $1"
		[ "$SECONDS" -lt "$deadline" ] ||
			fail "state.json: expected failures=$1 within $2 s, got '$(state_failures)': $(cat "$STATE" 2>&1)"
		sleep 0.2
	done
}

# check_gap N MIN MAX: next_renewal - history[0].finished is in [MIN, MAX]
check_gap() {
	local js next fin ok gap

	js=$(cat "$STATE")
	ok=$(jq -r '.history[0].ok' <<<"$js")
	assert_eq "failure $1: state.json history[0].ok" false "$ok"
	next=$(to_epoch "$(jq -r '.next_renewal' <<<"$js")")
	fin=$(to_epoch "$(jq -r '.history[0].finished' <<<"$js")")
	[ -n "$next" ] && [ -n "$fin" ] ||
		fail "failure $1: state.json lacks next_renewal or history[0].finished: $js"
	gap=$((next - fin))
	log "after failure $1: next_renewal - finished = $gap s (expected $2..$3)"
	[ "$gap" -ge "$2" ] && [ "$gap" -le "$3" ] ||
		fail "failure $1: next_renewal - history[0].finished = $gap s, expected $2..$3: $js"
	GAP=$gap
}

daemon_start
wait_failures 1 20
check_gap 1 54 66
gap1=$GAP
err=$(jq -r '.last_error' "$STATE")
assert_contains "state.json last_error" "$url" "$err"
wait_state www backoff 5

# Two more attempts now, through acmectl (no --force needed: nothing valid).
acmectl renew www >"$T/renew2.out" 2>&1 || true
wait_failures 2 20
check_gap 2 108 132
gap2=$GAP
acmectl renew www >"$T/renew3.out" 2>&1 || true
wait_failures 3 20
check_gap 3 216 264
gap3=$GAP
[ "$gap1" -lt "$gap2" ] && [ "$gap2" -lt "$gap3" ] ||
	fail "retry intervals do not grow: $gap1 s, $gap2 s, $gap3 s"
n=$(jq '.history | length' "$STATE")
[ "$n" -ge 3 ] || fail "state.json history: expected >= 3 entries, got $n"

sleep 1
daemon_alive || fail "daemon exited while backing off"
wait_state www backoff 5
assert_eq "status failures" 3 "$(cert_field www failures)"
assert_eq "status next_renewal vs state.json" \
	"$(to_epoch "$(jq -r '.next_renewal' "$STATE")")" \
	"$(to_epoch "$(cert_field www next_renewal)")"

daemon_stop
