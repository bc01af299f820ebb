#!/bin/bash
# systemd's notify protocol, read from a datagram socket of our own as
# systemd would: READY=1 once the control socket listens, a STATUS= line
# that follows the certificate's state, WATCHDOG=1 at half of
# WATCHDOG_USEC, RELOADING=1 then READY=1 around a reload, STOPPING=1.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

pebble_start
write_config --name www --domains "a.example.test"

# One process reads every datagram as it comes, one per line: sd_notify
# never blocks, so a slow reader would lose messages (the kernel queues
# only a few datagrams per socket).  perl-base is on every Debian system.
msgs=$T/notify.msgs
spawn "$msgs" perl -MIO::Socket::UNIX -e '
	$| = 1;
	my $s = IO::Socket::UNIX->new(Type => SOCK_DGRAM(), Local => $ARGV[0])
	    or die "notify socket: $!";
	while (defined $s->recv(my $m, 4096)) { print "$m\n"; }' \
	"$T/notify.sock"
for _ in $(seq 50); do [ -S "$T/notify.sock" ] && break; sleep 0.1; done
[ -S "$T/notify.sock" ] || fail "the notify socket was not created"

export NOTIFY_SOCKET=$T/notify.sock WATCHDOG_USEC=1000000
daemon_start
wait_state www valid 60
sleep 1.2	# at least two watchdog periods of 0.5 s
kill -HUP "$DAEMON_PID"
for _ in $(seq 50); do grep -q '^RELOADING=1' "$msgs" && break; sleep 0.1; done
sleep 0.3
daemon_stop
unset NOTIFY_SOCKET WATCHDOG_USEC

grep -q '^READY=1$' "$msgs" || fail "no READY=1 (got: $(tr '\n' '|' <"$msgs"))"
grep -q '^STATUS=0 valid, 1 renewing, 0 failed' "$msgs" ||
	fail "no STATUS line while renewing (got: $(tr '\n' '|' <"$msgs"))"
grep -q '^STATUS=1 valid, 0 renewing, 0 failed; next renewal www in ' "$msgs" ||
	fail "no STATUS line once valid (got: $(tr '\n' '|' <"$msgs"))"
n=$(grep -c '^WATCHDOG=1$' "$msgs" || true)
[ "$n" -ge 2 ] || fail "expected >= 2 WATCHDOG=1 in 1.2 s at 0.5 s, got $n"
# RELOADING=1 is followed by READY=1 again, then STOPPING=1 comes last.
order=$(grep -E '^(READY|RELOADING|STOPPING)=1$' "$msgs" | tr '\n' ' ')
assert_eq "lifecycle messages in order" \
	"READY=1 RELOADING=1 READY=1 STOPPING=1 " "$order"
