#!/bin/bash
# The control socket against many hostile clients at once (one client at a
# time is t-ctl-framing.sh's; 200 honest ones are t-ctl-load.sh's), through
# tests/helpers/ctlhostile.c, with the daemon's descriptor limit at 128:
#  (a) 1,000 connections at once, more than the daemon has descriptors:
#      accept() fails with EMFILE; the daemon must not spin on it (its CPU
#      time stays near zero while they are held), says so once in its log,
#      and answers `acmectl status` again once they are closed;
#  (b) 40 clients that each drip a valid request one byte a second do not
#      slow `acmectl status` down, and each is cut off, with a reply that
#      says why, 10 s after its request's first byte;
#  (c) clients sending random bytes, binary, invalid UTF-8, NUL bytes and
#      lines of 2 MiB each get error replies or are disconnected, none an
#      ok; the daemon stays up and keeps answering meanwhile.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

HOSTILE=${HELPERS:-$(dirname "$ACME_RENEWD")/tests/helpers}/ctlhostile
[ -x "$HOSTILE" ] || fail "no $HOSTILE (make check builds tests/helpers/ctlhostile)"
NOFILE=128

# status_ok WHAT: acmectl status answers, with the certificate, within 3 s
# (blocked behind the hostile clients, it would wait for their 10 s or
# longer; 3 s leaves room for a sanitizer build on a busy machine).
status_ok() {
	local rc=0 t0 t1 max=3000

	t0=$(now_ms)
	timeout 10 "$ACMECTL" -s "$SOCK" status >"$T/status.out" 2>&1 || rc=$?
	t1=$(now_ms)
	assert_eq "acmectl status $1: exit status" 0 "$rc"
	assert_contains "acmectl status $1" www "$(cat "$T/status.out")"
	[ $((t1 - t0)) -lt "$max" ] ||
		fail "acmectl status $1 took $((t1 - t0)) ms (at most $max expected)"
	daemon_alive || fail "the daemon died $1"
}

# cpu_ticks PID: user+system clock ticks the process used so far.
cpu_ticks() {
	awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

# field NAME LINE: the number after NAME in a ctlhostile summary line.
field() {
	sed -n "s/.* $1 \([-0-9]*\).*/\1/p" <<<"$2"
}

# wait_exit PID SECONDS WHAT: the helper ends in time; its exit status.
wait_exit() {
	local deadline=$((SECONDS + $2)) rc=0

	while kill -0 "$1" 2>/dev/null; do
		[ "$SECONDS" -lt "$deadline" ] || fail "$3 still running after $2 s"
		sleep 0.2
	done
	wait "$1" || rc=$?
	lib_forget_pid "$1"
	return "$rc"
}

# No CA needed: the daemon answers whatever its certificates do.
LOG_LEVEL=info write_config --name www \
	--directory "https://127.0.0.1:$(free_port)/dir" --trust-bundle ""
saved_nofile=$(ulimit -Sn)
ulimit -Sn "$NOFILE"
daemon_start
ulimit -Sn "$saved_nofile"
assert_eq "the daemon's descriptor limit" "$NOFILE" \
	"$(awk '/^Max open files/ { print $4 }' "/proc/$DAEMON_PID/limits")"
status_ok "at the start"

# --- (a) more connections than descriptors ------------------------------
spawn "$T/hold.out" "$HOSTILE" hold "$SOCK" 1000 6
holder=$LAST_PID
for _ in $(seq 100); do
	grep -q '^connected' "$T/hold.out" && break
	sleep 0.1
done
line=$(grep '^connected' "$T/hold.out") || fail "ctlhostile hold did not connect: $(cat "$T/hold.out")"
held=$(awk '{ print $2 }' <<<"$line")
log "holding $held of 1000 connections (accepted, then the backlog)"
[ "$held" -gt "$NOFILE" ] ||
	fail "only $held connections held: the daemon's $NOFILE descriptors were not exhausted"
sleep 1
c0=$(cpu_ticks "$DAEMON_PID")
sleep 3
c1=$(cpu_ticks "$DAEMON_PID")
hz=$(getconf CLK_TCK)
log "daemon CPU over 3 s with $held connections held: $((c1 - c0)) ticks of 1/$hz s"
# Spinning on accept() would be ~3 s of CPU; a retry a second is nothing.
[ $(((c1 - c0) * 1000 / hz)) -lt 300 ] ||
	fail "the daemon used $(((c1 - c0) * 1000 / hz)) ms of CPU in 3 s while out of descriptors (spinning on accept?)"
daemon_alive || fail "the daemon died out of descriptors"
n=$(grep -c 'control: accept: Too many open files' "$T/daemon.log" || true)
assert_eq "log lines about EMFILE while the connections were held" 1 "$n"
wait_exit "$holder" 15 "ctlhostile hold" || fail "ctlhostile hold failed: $(cat "$T/hold.out")"
t0=$(now_ms)
deadline=$((SECONDS + 10))
until timeout 5 "$ACMECTL" -s "$SOCK" status >/dev/null 2>&1; do
	[ "$SECONDS" -lt "$deadline" ] ||
		fail "acmectl status did not answer within 10 s of the 1,000 connections closing"
	sleep 0.2
done
log "status answered again $(($(now_ms) - t0)) ms after the connections closed"
status_ok "after the 1,000 connections"

# --- (b) slow drip ----------------------------------------------------
spawn "$T/drip.out" "$HOSTILE" drip "$SOCK" 40 1000 20
dripper=$LAST_PID
sleep 1
for i in 1 2 3 4 5 6; do
	status_ok "while 40 clients drip requests (#$i)"
	sleep 1
done
wait_exit "$dripper" 30 "ctlhostile drip" || fail "ctlhostile drip failed: $(cat "$T/drip.out")"
line=$(grep '^drip:' "$T/drip.out") || fail "ctlhostile drip said: $(cat "$T/drip.out")"
log "$line"
assert_eq "dripping clients cut off" 40 "$(field cut "$line")"
assert_eq "dripping clients told why (request not finished)" 40 "$(field told "$line")"
assert_eq "dripping clients answered as if their request had come" 0 "$(field answered "$line")"
min=$(field min_ms "$line")
max=$(field max_ms "$line")
[ "$min" -ge 9500 ] || fail "a dripping client was cut off after $min ms (the limit is 10 s)"
[ "$max" -le 13000 ] || fail "a dripping client was cut off only after $max ms (the limit is 10 s)"
[ "$(field bytes_max "$line")" -lt 43 ] ||
	fail "a dripping client got its whole request in: $line"

# --- (c) garbage ------------------------------------------------------
spawn "$T/garbage.out" "$HOSTILE" garbage "$SOCK" 48 30
garbler=$LAST_PID
while kill -0 "$garbler" 2>/dev/null; do
	status_ok "while 48 clients send garbage"
	sleep 0.3
done
rc=0
wait_exit "$garbler" 35 "ctlhostile garbage" || rc=$?
cat "$T/garbage.out" >&2
assert_eq "ctlhostile garbage: every client got errors or was disconnected, none an ok" 0 "$rc"
for kind in random-lines random binary bad-utf8 nul huge-line; do
	line=$(grep "^garbage $kind:" "$T/garbage.out") || fail "no result for $kind"
	assert_eq "$kind: clients" 8 "$(field clients "$line")"
done
line=$(grep '^garbage huge-line:' "$T/garbage.out")
assert_eq "2 MiB lines: error replies" 8 "$(field errors "$line")"
assert_eq "2 MiB lines: connections closed by the daemon" 8 "$(field closed "$line")"
line=$(grep '^garbage random:' "$T/garbage.out")
assert_eq "random bytes without a newline, then EOF: connections closed" 8 "$(field closed "$line")"
for kind in random-lines binary bad-utf8 nul; do
	line=$(grep "^garbage $kind:" "$T/garbage.out")
	[ "$(field errors "$line")" -ge 8 ] || fail "$kind: fewer error replies than clients: $line"
done

status_ok "at the end"
daemon_stop
