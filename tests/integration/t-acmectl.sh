#!/bin/bash
# acmectl's contract: exit 3 when the daemon cannot be reached, 2 on
# usage errors, and `version` answers from the daemon it talks to.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

run() {
	local rc=0
	"$ACMECTL" "$@" >"$T/out" 2>"$T/err" </dev/null || rc=$?
	assert_no_sanitizer_report "$T/err"
	echo "$rc"
}

assert_eq "acmectl status on a nonexistent socket: exit status" 3 \
	"$(run -s "$T/nonexistent.sock" status)"
[ -s "$T/err" ] || fail "acmectl printed no error for a nonexistent socket"

# A CA that is not there: the daemon runs, it only keeps failing.
write_config --directory "https://127.0.0.1:$(free_port)/dir" --trust-bundle ""
daemon_start

assert_eq "acmectl frobnicate: exit status" 2 "$(run -s "$SOCK" frobnicate)"
[ -s "$T/err" ] || fail "acmectl printed nothing on an unknown command"
assert_eq "acmectl with no command: exit status" 2 "$(run -s "$SOCK")"

version=$(package_version)
assert_eq "acmectl version: exit status" 0 "$(run -s "$SOCK" version)"
assert_contains "acmectl version output" "$version" "$(cat "$T/out")"

assert_eq "acmectl --json version: exit status" 0 "$(run -s "$SOCK" --json version)"
assert_eq "pid in --json version" "$DAEMON_PID" "$(jq -r .pid "$T/out")"
assert_eq "version in --json version" "$version" "$(jq -r .version "$T/out")"
started=$(jq -r .started "$T/out")
s=$(to_epoch "$started" 2>/dev/null) || fail "started is not a time: '$started'"
now=$(date +%s)
if [ "$s" -gt "$now" ] || [ "$s" -lt $((now - 120)) ]; then
	fail "started: expected a time in the last 2 minutes, got '$started'"
fi

# Once the daemon is gone, a monitoring check must say so: exit 3.
daemon_stop
assert_eq "acmectl status after the daemon stopped: exit status" 3 \
	"$(run -s "$SOCK" status)"
