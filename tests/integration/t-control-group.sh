#!/bin/bash
# control-group on a machine where the package was never installed, so
# there is no group acme-renewd.  The daemon runs in a mount namespace of
# its own with a group database we wrote bound over /etc/group, so the
# test says the same on a machine that has the group.
#
# 1. The README's minimal config minus its control-group line: the daemon
#    starts, says once at notice level that the socket is root's only,
#    makes the socket 0660 root:root (nobody else can connect: acmectl
#    exits 3) and issues the certificate; --check-config passes with a
#    note.
# 2. The same config naming control-group = acme-renewd: --check-config
#    exits 1 with FILE:LINE: control-group: ...: no such group, and the
#    daemon does not start: the same line, then an error that says it
#    stops.
# 3. With a group acme-renewd in the database: the socket is that group's
#    and there is no notice.
# 4. A start-up failure that only the start finds (the http-01 port is
#    taken): logged at error level, saying the daemon stops; exit 1.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

need unshare util-linux
need setpriv util-linux
[ "$(id -u)" = 0 ] || fail "must run as root (mount namespaces, setpriv)"
getent passwd nobody >/dev/null || fail "no user nobody"
chmod 0711 "$T"		# nobody must reach the socket's directory

NOTICE="control-group is not set and this machine has no group 'acme-renewd'"
REAL_DAEMON=$ACME_RENEWD

# with_groups FILE: from now on $ACME_RENEWD runs the daemon with FILE
# bound over /etc/group in a mount namespace of its own.  unshare and sh
# exec, so the PID lib.sh keeps is the daemon's.
with_groups() {
	cat >"$T/in-ns" <<EOF
#!/bin/sh
exec unshare --mount --propagation private -- sh -c 'mount --bind "\$0" /etc/group && exec "\$@"' "$1" "$REAL_DAEMON" "\$@"
EOF
	chmod 755 "$T/in-ns"
	ACME_RENEWD=$T/in-ns
}

# /etc/group without any acme-renewd line, and one with it.
grep -v '^acme-renewd:' /etc/group >"$T/group-without"
cp "$T/group-without" "$T/group-with"
echo "acme-renewd:x:4242:" >>"$T/group-with"

# check_config: --check-config of $CONF under the current database; its
# stdout and stderr in $T/check.out and $T/check.err; prints the status.
check_config() {
	local rc=0

	"$ACME_RENEWD" --check-config -c "$CONF" >"$T/check.out" 2>"$T/check.err" \
		</dev/null || rc=$?
	assert_no_sanitizer_report "$T/check.err"
	echo "$rc"
}

pebble_start

# ---------------------------------------------------------------------------
# 1. No control-group line, no group: root only, said once.

with_groups "$T/group-without"
write_config --name www
sed -i '/^control-group = /d' "$CONF"
grep -q '^control-group' "$CONF" && fail "control-group is still in $CONF"

rc=$(check_config)
assert_eq "--check-config without the group (stderr: $(cat "$T/check.err"))" 0 "$rc"
assert_contains "--check-config's note" "$NOTICE" "$(cat "$T/check.out")"
assert_contains "--check-config's verdict" "configuration OK" "$(cat "$T/check.out")"

daemon_start
wait_state www valid 60
assert_eq "notices about the missing group" 1 \
	"$(grep -c "^acme-renewd: notice: control: $NOTICE" "$T/daemon.log")"
assert_eq "socket mode and owner" "660 root:root" "$(stat -c '%a %U:%G' "$SOCK")"
rc=0
setpriv --reuid nobody --regid nogroup --clear-groups \
	"$ACMECTL" -s "$SOCK" status >"$T/nobody.out" 2>"$T/nobody.err" </dev/null || rc=$?
assert_eq "acmectl status as nobody: exit status" 3 "$rc"
assert_eq "warnings or errors in the log" "" \
	"$(grep -E '^acme-renewd: (warning|err)' "$T/daemon.log" || true)"
cur=$(cert_dir www)/current
openssl verify -CAfile "$PEBBLE_ROOT" -untrusted "$cur/chain.pem" "$cur/cert.pem" \
	>/dev/null 2>&1 || fail "the certificate does not verify against Pebble's root"
daemon_stop

# ---------------------------------------------------------------------------
# 2. control-group = acme-renewd, which does not exist: a config error.

echo "control-group = acme-renewd" >"$T/line"
sed -i "/^\[daemon\]/r $T/line" "$CONF"
line=$(grep -n '^control-group = acme-renewd$' "$CONF" | cut -d: -f1)
[ -n "$line" ] || fail "no control-group line in $CONF"

rc=$(check_config)
assert_eq "--check-config with a missing control-group: exit status" 1 "$rc"
assert_eq "--check-config's error" \
	"$CONF:$line: control-group: acme-renewd: no such group" "$(cat "$T/check.err")"

rc=0
"$ACME_RENEWD" -c "$CONF" >"$T/start.out" 2>"$T/start.err" </dev/null || rc=$?
assert_no_sanitizer_report "$T/start.err"
assert_eq "exit status of a start with a missing control-group" 1 "$rc"
assert_eq "what the refused start printed" \
	"$CONF:$line: control-group: acme-renewd: no such group
acme-renewd: err: $CONF: the configuration has 1 error; stopping" "$(cat "$T/start.err")"
[ ! -e "$SOCK" ] || fail "a refused start left the control socket"

# ---------------------------------------------------------------------------
# 3. The group exists: the socket is its, no notice.

with_groups "$T/group-with"
rc=$(check_config)
assert_eq "--check-config with the group (stderr: $(cat "$T/check.err"))" 0 "$rc"
assert_eq "--check-config's output with the group" "$CONF: configuration OK" \
	"$(cat "$T/check.out")"
sed -i '/^control-group = acme-renewd$/d' "$CONF"	# the default again
start_line=$(($(wc -l <"$T/daemon.log") + 1))
daemon_start
wait_state www valid 60
assert_eq "socket's group id" "660 4242" "$(stat -c '%a %g' "$SOCK")"
assert_eq "notices about the group" "" \
	"$(tail -n "+$start_line" "$T/daemon.log" | grep -F "$NOTICE" || true)"
daemon_stop

# ---------------------------------------------------------------------------
# 4. A failure only the start can find: the http-01 port is taken.

ACME_RENEWD=$REAL_DAEMON
port=$(sed -n 's/^http-01-listen = 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$CONF")
[ -n "$port" ] || fail "no http-01-listen in $CONF"
spawn "$T/holder.log" python3 -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $port)); s.listen(1); time.sleep(600)"
wait_port "$port" 10 || fail "nothing holds port $port"
rc=0
"$ACME_RENEWD" -c "$CONF" >"$T/start.out" 2>"$T/start.err" </dev/null || rc=$?
assert_no_sanitizer_report "$T/start.err"
assert_eq "exit status with the http-01 port taken" 1 "$rc"
assert_match "the last line of a failed start" \
	"^acme-renewd: err: http-01 responder: cannot listen on 127\.0\.0\.1:$port: .*; stopping$" \
	"$(grep -v '^acme-renewd: \(info\|debug\|notice\)' "$T/start.err" | tail -n 1)"
