#!/bin/bash
# A failing deploy hook is reported (state.json deploy.*, the log with the
# hook's own output tagged with the certificate) and retried by itself
# about a minute later until it succeeds, without ever causing a new
# issuance.  A hook that hangs is killed, with its whole process group,
# after [daemon] hook-timeout, and reported.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

HOOKS=$LIB_SRCDIR/hooks

# deploy_field NAME FIELD: state.json's deploy.FIELD of certificate NAME
deploy_field() {
	jq -r --arg f "$2" '.deploy[$f]' "$(cert_dir "$1")/state.json" 2>/dev/null || true
}

# wait_deploy NAME FIELD VALUE SECS
wait_deploy() {
	local deadline=$((SECONDS + $4))

	until [ "$(deploy_field "$1" "$2")" = "$3" ]; do
		daemon_alive || fail "daemon exited while waiting for $1 deploy.$2 = $3"
		[ "$SECONDS" -lt "$deadline" ] ||
			fail "$1: expected state.json deploy.$2 = $3 within $4 s, got '$(deploy_field "$1" "$2")': $(jq -c .deploy "$(cert_dir "$1")/state.json" 2>&1)"
		sleep 0.2
	done
}

pebble_start
write_config --name www --domains "a.example.test" \
	--daemon "hook-timeout = 2s" \
	--cert-line "deploy-hook = $HOOKS/flaky.sh $T/flaky.count 1" \
	--append "[certificate hang]
domains = hang.example.test
ca = pebble
challenge = http-01
deploy-hook = $HOOKS/hang.sh $T/hang.pids"
daemon_start
wait_state www valid 60
wait_state hang valid 60

# 1. The flaky hook failed once: pending, 1 failure, exit status 1 reported.
wait_deploy www failures 1 15
t_fail=$SECONDS
assert_eq "www deploy.pending after the failed hook" true "$(deploy_field www pending)"
assert_eq "www deploy.version" 1 "$(deploy_field www version)"
assert_match "www deploy.last_error" 'status 1' "$(deploy_field www last_error)"
assert_eq "flaky hook runs so far" 1 "$(cat "$T/flaky.count")"
grep -F 'flaky-hook run 1: failing on purpose' "$T/daemon.log" | grep -qF '[www]' ||
	fail "the hook's output is not in the log tagged [www]"
next=$(to_epoch "$(deploy_field www next)")
[ -n "$next" ] || fail "www: state.json deploy.next is not set"
gap=$((next - $(date +%s)))
[ "$gap" -ge 40 ] && [ "$gap" -le 70 ] ||
	fail "www: deploy retry expected ~60 s after the failure, deploy.next is $gap s away"

# 2. The hanging hook was killed after 2 s, child included, and reported.
deadline=$((SECONDS + 10))
until [ -s "$T/hang.pids" ]; do
	[ "$SECONDS" -lt "$deadline" ] || fail "the hang hook never started"
	sleep 0.1
done
read -r hook_pid child_pid <"$T/hang.pids"
wait_deploy hang failures 1 15
assert_eq "hang deploy.pending" true "$(deploy_field hang pending)"
assert_contains "hang deploy.last_error" "timed out" "$(deploy_field hang last_error)"
grep -F 'timed out' "$T/daemon.log" | grep -qF '[hang]' ||
	fail "no log line tagged [hang] says 'timed out'"
sleep 0.5
! pid_alive "$hook_pid" || fail "the timed-out hook (pid $hook_pid) still runs"
! pid_alive "$child_pid" ||
	fail "the timed-out hook's child (pid $child_pid, same process group) still runs"
daemon_alive || fail "daemon exited after killing a hook"

# 3. The retry of the flaky hook succeeds, without a new certificate.
wait_deploy www pending false $((75 - (SECONDS - t_fail)))
assert_eq "flaky hook runs" 2 "$(cat "$T/flaky.count")"
grep -F 'flaky-hook run 2: ok' "$T/daemon.log" | grep -qF '[www]' ||
	fail "the second run's output is not in the log tagged [www]"
d=$(cert_dir www)
assert_eq "current after the deploy retry (no new issuance)" v1 "$(readlink "$d/current")"
[ ! -e "$d/v2" ] || fail "a failing deploy hook caused a new issuance (v2 exists)"
n=$(grep -c 'phase=install: installed v' "$T/daemon.log" || true)
assert_eq "certificates installed (www and hang, once each)" 2 "$n"
assert_eq "www state" valid "$(cert_field www state)"
assert_eq "www renewal failures (a deploy failure is not one)" 0 "$(cert_field www failures)"

daemon_stop
