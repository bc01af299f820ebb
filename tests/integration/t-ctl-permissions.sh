#!/bin/bash
# Who may do what on the control socket (SO_PEERCRED): the socket is 0660
# with the configured control-group; a user outside that group is refused
# (cannot connect at all, and permission_denied when the socket is opened
# up); a member of control-group (primary or supplementary group) may read
# `status` but not `reload`; root may do everything.  A second daemon on the
# same socket refuses to start; a stale socket left by a killed daemon is
# replaced at the next start.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

need setpriv util-linux
# Running as root is a precondition (setpriv to nobody; root's rights).
[ "$(id -u)" = 0 ] || fail "must run as root (it switches to user nobody)"
getent passwd nobody >/dev/null || fail "no user nobody"
getent group nogroup >/dev/null || fail "no group nogroup"
other_group=daemon
getent group "$other_group" >/dev/null || fail "no group $other_group"

# as_user ID-OPTIONS... -- ARGS...: acmectl as another user; stdout in
# $T/out, stderr in $T/err; prints the exit status.
as_user() {
	local rc=0 opts=()

	while [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	setpriv "${opts[@]}" "$ACMECTL" -s "$SOCK" "$@" \
		>"$T/out" 2>"$T/err" </dev/null || rc=$?
	assert_no_sanitizer_report "$T/err"
	echo "$rc"
}
NOBODY=(--reuid nobody --regid nogroup --clear-groups)

run() {
	local rc=0

	"$ACMECTL" -s "$SOCK" "$@" >"$T/out" 2>"$T/err" </dev/null || rc=$?
	assert_no_sanitizer_report "$T/err"
	echo "$rc"
}

# nobody must reach the socket's directory (mktemp made $T 0700).
chmod 0711 "$T"

pebble_start
write_config --name www

# --- control-group = root: nobody is outside it ------------------------
daemon_start
wait_state www valid 60
assert_eq "socket mode" 660 "$(stat -c %a "$SOCK")"
assert_eq "socket group" root "$(stat -c %G "$SOCK")"
assert_eq "acmectl status as nobody (socket 0660 root:root): exit status" 3 \
	"$(as_user "${NOBODY[@]}" -- status)"
[ -s "$T/err" ] || fail "acmectl printed nothing when it could not connect"

# Open the socket up: the daemon itself must still refuse.
chmod 0666 "$SOCK"
for cmd in status version "show www" reload "force-renew www"; do
	# shellcheck disable=SC2086
	assert_eq "acmectl $cmd as nobody, not in control-group: exit status" 1 \
		"$(as_user "${NOBODY[@]}" -- $cmd)"
	assert_contains "acmectl $cmd as nobody: stderr" permission_denied "$(cat "$T/err")"
done
assert_eq "current after refused force-renew" v1 "$(readlink "$(cert_dir www)/current")"
daemon_stop

# --- control-group = nogroup: nobody is a member -----------------------
sed -i 's/^control-group = .*/control-group = nogroup/' "$CONF"
daemon_start
wait_state www valid 60
assert_eq "socket mode (control-group nogroup)" 660 "$(stat -c %a "$SOCK")"
assert_eq "socket group (control-group nogroup)" nogroup "$(stat -c %G "$SOCK")"
assert_eq "socket owner" root "$(stat -c %U "$SOCK")"

for cmd in status version "show www"; do
	# shellcheck disable=SC2086
	assert_eq "acmectl $cmd as nobody (primary group nogroup): exit status" 0 \
		"$(as_user "${NOBODY[@]}" -- $cmd)"
done
as_user "${NOBODY[@]}" -- status >/dev/null
assert_contains "acmectl status as nobody" www "$(cat "$T/out")"

for cmd in reload "force-renew www" "renew www" "revoke www" "rollover pebble"; do
	# shellcheck disable=SC2086
	assert_eq "acmectl $cmd as nobody (control-group member): exit status" 1 \
		"$(as_user "${NOBODY[@]}" -- $cmd)"
	assert_contains "acmectl $cmd as nobody: stderr" permission_denied "$(cat "$T/err")"
done
assert_eq "current after refused commands" v1 "$(readlink "$(cert_dir www)/current")"

# A supplementary member counts too; its primary group is another one.
SUPP=(--reuid nobody --regid "$other_group" --groups nogroup)
assert_eq "acmectl status as nobody (supplementary group nogroup): exit status" 0 \
	"$(as_user "${SUPP[@]}" -- status)"
assert_eq "acmectl reload as nobody (supplementary group nogroup): exit status" 1 \
	"$(as_user "${SUPP[@]}" -- reload)"
assert_contains "acmectl reload as a supplementary member: stderr" \
	permission_denied "$(cat "$T/err")"

# Root may do everything.
assert_eq "acmectl reload as root: exit status" 0 "$(run reload)"
assert_eq "acmectl force-renew www as root: exit status" 0 "$(run force-renew www)"
assert_eq "current after force-renew as root" v2 "$(readlink "$(cert_dir www)/current")"

# --- a second daemon on the same socket refuses to start --------------
conf2=$T/second.conf
saved_state=$STATE_DIR saved_conf=$CONF
HTTP01_PORT=$(free_port) write_config --name www --out "$conf2" \
	--state-dir "$T/state2"
STATE_DIR=$saved_state CONF=$saved_conf
rc=0
timeout 20 "$ACME_RENEWD" -c "$conf2" >"$T/second.log" 2>&1 || rc=$?
[ "$rc" != 124 ] || fail "a second acme-renewd on the same socket kept running"
assert_ne "exit status of a second acme-renewd on the same socket" 0 "$rc"
assert_file_contains "$T/second.log" "another acme-renewd is listening" \
	"the second acme-renewd's output"
assert_no_sanitizer_report "$T/second.log"
assert_eq "acmectl status to the first daemon after that: exit status" 0 "$(run status)"
assert_eq "socket group after the second daemon gave up" nogroup "$(stat -c %G "$SOCK")"

# --- a stale socket (daemon killed with SIGKILL) is replaced ------------
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
lib_forget_pid "$DAEMON_PID"
DAEMON_PID=
[ -S "$SOCK" ] || fail "no socket file left after SIGKILL (nothing stale to test)"
assert_eq "acmectl status with a stale socket: exit status" 3 "$(run status)"
daemon_start
assert_eq "acmectl status after restart over a stale socket: exit status" 0 "$(run status)"
assert_eq "socket mode after replacing a stale one" 660 "$(stat -c %a "$SOCK")"
assert_eq "socket group after replacing a stale one" nogroup "$(stat -c %G "$SOCK")"
assert_eq "acmectl status as nobody after restart: exit status" 0 \
	"$(as_user "${NOBODY[@]}" -- status)"
daemon_stop
