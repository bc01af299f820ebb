#!/bin/bash
# lib.sh's own helpers that the other tests lean on to tell a failure:
# pid_alive (and so daemon_alive) says no for an exited process that its
# parent has not reaped (a zombie: kill -0 still succeeds on it), and
# scaled multiplies time limits by TEST_TIME_SCALE.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

# The shell forks `sleep 0`, then becomes `sleep 30`, which never waits
# for its children: the child stays a zombie while sleep 30 runs.
spawn "$T/parent.log" sh -c 'sleep 0 & echo $! >"$1"; exec sleep 30' sh "$T/child.pid"
parent=$LAST_PID
deadline=$((SECONDS + 10))
child=
while [ -z "$child" ] || [ "$(awk '{ print $3 }' "/proc/$child/stat" 2>/dev/null)" != Z ]; do
	[ "$SECONDS" -lt "$deadline" ] || fail "no zombie child appeared within 10 s"
	sleep 0.05
	child=$(cat "$T/child.pid" 2>/dev/null || true)
done
kill -0 "$child" 2>/dev/null || fail "kill -0 on the zombie $child failed: the test proves nothing"
! pid_alive "$child" || fail "pid_alive says zombie $child is alive"
pid_alive "$parent" || fail "pid_alive says the running parent $parent is dead"

# daemon_alive goes through pid_alive.
DAEMON_PID=$child
! daemon_alive || fail "daemon_alive says zombie $child is alive"
DAEMON_PID=$parent
daemon_alive || fail "daemon_alive says running $parent is dead"
DAEMON_PID=
! daemon_alive || fail "daemon_alive without a daemon says yes"

assert_eq "scaled 15 with TEST_TIME_SCALE=${TEST_TIME_SCALE:-1}" \
	$((15 * ${TEST_TIME_SCALE:-1})) "$(scaled 15)"
assert_eq "scaled 15 with TEST_TIME_SCALE=4" 60 "$(TEST_TIME_SCALE=4 scaled 15)"
