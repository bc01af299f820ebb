#!/bin/bash
# `acmectl watch` shows a renewal as it happens: renewal events for the
# certificate, phase by phase in order (order, finalize, download, install),
# ending valid.  A watcher that is killed, even in the middle of a renewal,
# costs the daemon nothing: the renewal completes and status still answers.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

# wait_watching PID: until the daemon has taken the watch request of the
# acmectl with that pid (it logs each request at debug level); at most 5 s.
wait_watching() {
	for _ in $(seq 50); do
		grep -q "pid $1 uid [0-9]*): watch" "$T/daemon.log" && return 0
		kill -0 "$1" 2>/dev/null || fail "acmectl watch (pid $1) exited"
		sleep 0.1
	done
}

# phases FILE: the phases of www's renewal events in FILE, one line
phases() {
	grep -E '(^|[^a-z])renewal' "$1" | grep -E '(^|[^a-z.])www([^a-z.]|$)' |
		sed -nE 's/.*phase[": =]+([a-z_]+).*/\1/p' | tr '\n' ' '
}

pebble_start
write_config --name www
daemon_start
wait_state www valid 60

spawn "$T/watch.txt" "$ACMECTL" -s "$SOCK" watch
watcher=$LAST_PID
wait_watching "$watcher"

rc=0
acmectl force-renew www >"$T/renew.out" 2>&1 || rc=$?
assert_eq "acmectl force-renew www: exit status" 0 "$rc"

# The events reach the watcher asynchronously; give it a moment.
for _ in $(seq 30); do
	case " $(phases "$T/watch.txt")" in *" install "*) break ;; esac
	sleep 0.1
done
kill -0 "$watcher" 2>/dev/null || fail "acmectl watch exited during a renewal"
seen=$(phases "$T/watch.txt")
[ -n "$seen" ] || fail "acmectl watch printed no renewal event for www: '$(cat "$T/watch.txt")'"
assert_match "phases seen by acmectl watch, in order" \
	'(^| )order( .*)? finalize( .*)? download( .*)? install( |$)' "$seen"
assert_match "acmectl watch: the renewal ends valid" \
	'state[": =]+valid' "$(tail -n 1 "$T/watch.txt")"

# A second watcher; kill both hard (SIGKILL) in
# the middle of the next renewal.
spawn "$T/watch2.txt" "$ACMECTL" -s "$SOCK" watch
watcher2=$LAST_PID
wait_watching "$watcher2"
spawn "$T/renew2.out" "$ACMECTL" -s "$SOCK" force-renew www
renewer=$LAST_PID
for _ in $(seq 100); do
	grep -q . "$T/watch2.txt" && break
	sleep 0.05
done
kill -KILL "$watcher" "$watcher2"
wait "$watcher" "$watcher2" 2>/dev/null || true
lib_forget_pid "$watcher"
lib_forget_pid "$watcher2"

rc=0
for _ in $(seq 300); do
	kill -0 "$renewer" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$renewer" 2>/dev/null && fail "force-renew did not finish within 30 s of killing the watchers"
wait "$renewer" || rc=$?
lib_forget_pid "$renewer"
assert_eq "force-renew while its watchers were killed: exit status" 0 "$rc"

daemon_alive || fail "the daemon died after its watchers were killed"
rc=0
acmectl status >"$T/status.out" 2>&1 || rc=$?
assert_eq "acmectl status after the watchers were killed: exit status" 0 "$rc"
assert_contains "acmectl status output" www "$(cat "$T/status.out")"
assert_eq "current after two renewals" v3 "$(readlink "$(cert_dir www)/current")"

daemon_stop
