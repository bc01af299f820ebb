#!/bin/bash
# Disk full and read-only (issue 10, item 2): the state-dir is on a 512 KiB
# tmpfs of the test's own.  A renewal on a full disk, on a disk that fills
# up in the middle of the install, and on a disk remounted read-only fails
# cleanly: acmectl force-renew exits 1, the daemon stays up, the status
# shows backoff and names the cause, the log has it, `current` still holds
# the same key and certificate, no unfinished version and no temporary
# file is left.  Once the disk is writable again the renewal succeeds
# without a restart.  (Needs root, for mount.)
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || fail "this test mounts a tmpfs: it needs root"

FS=$T/fs
mkdir -p "$FS"
mount -t tmpfs -o size=512k,mode=0755 tmpfs "$FS" ||
	fail "cannot mount a tmpfs on $FS"

# Whatever way the test ends: the daemon goes first (it holds files on the
# tmpfs), then the tmpfs, then lib.sh's cleanup (which removes $T and
# exits with the test's status, passed on through $?).
disk_cleanup() {
	local rc=$?

	set +e		# a failing command must not cut the cleanup short
	if [ -n "${DAEMON_PID:-}" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
		kill -TERM "$DAEMON_PID" 2>/dev/null
		for _ in $(seq 50); do
			kill -0 "$DAEMON_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$DAEMON_PID" 2>/dev/null
	fi
	if mountpoint -q "$FS"; then
		umount "$FS" 2>/dev/null || umount -l "$FS" ||
			printf '%s: cannot unmount %s\n' "$TEST_NAME" "$FS" >&2
	fi
	return "$rc"
}
trap 'disk_cleanup; lib_cleanup' EXIT

pebble_start
MPORT=$(free_port)
write_config --name www --domains "a.example.test" --state-dir "$FS/state" \
	--daemon "metrics-listen = 127.0.0.1:$MPORT"
daemon_start
wait_state www valid 60

d=$(cert_dir www)
cur=$d/current

serial_of() {
	openssl x509 -in "$cur/cert.pem" -noout -serial
}

# check_intact WHAT VERSION SERIAL: current is VERSION with that serial and
# a matching key that verifies; nothing unfinished lies around.
check_intact() {
	local what=$1 ver=$2 serial=$3 v out left

	assert_eq "$what: current" "$ver" "$(readlink "$cur")"
	assert_eq "$what: serial of current/cert.pem" "$serial" "$(serial_of)"
	assert_eq "$what: public key of privkey.pem vs cert.pem" \
		"$(openssl x509 -in "$cur/cert.pem" -noout -pubkey)" \
		"$(openssl pkey -in "$cur/privkey.pem" -pubout)"
	assert_eq "$what: public key in combined.pem vs cert.pem" \
		"$(openssl x509 -in "$cur/cert.pem" -noout -pubkey)" \
		"$(openssl pkey -in "$cur/combined.pem" -pubout)"
	cat "$cur/cert.pem" "$cur/chain.pem" | cmp -s - "$cur/fullchain.pem" ||
		fail "$what: fullchain.pem is not cert.pem + chain.pem"
	out=$(openssl verify -CAfile "$PEBBLE_ROOT" -untrusted "$cur/chain.pem" \
		"$cur/cert.pem" 2>&1) || fail "$what: openssl verify: $out"
	v=${ver#v}
	[ ! -e "$d/v$((v + 1))" ] ||
		fail "$what: an unfinished version v$((v + 1)) was left: $(ls -laR "$d/v$((v + 1))")"
	left=$(find "$FS" -name '*.tmp.*')
	[ -z "$left" ] || fail "$what: temporary files left: $left"
	if [ -f "$d/state.json" ]; then
		jq -e . "$d/state.json" >/dev/null 2>&1 ||
			fail "$what: state.json does not parse: $(head -c 300 "$d/state.json")"
	fi
}

storage_errors=0	# acme_renewd_storage_errors_total{name="www"} so far

# expect_failure WHAT CAUSE-REGEX: force-renew fails, cleanly, for CAUSE,
# and the storage error counter grows.
expect_failure() {
	local what=$1 re=$2 rc=0 js st err errors

	log_lines=$(wc -l <"$T/daemon.log")
	acmectl force-renew www >"$T/renew.out" 2>&1 || rc=$?
	daemon_alive ||
		fail "$what: the daemon exited during the renewal (acmectl: $(tr '\n' ' ' <"$T/renew.out"))"
	assert_eq "$what: acmectl force-renew exit status ($(tr '\n' ' ' <"$T/renew.out"))" 1 "$rc"
	sleep 0.5
	daemon_alive || fail "$what: the daemon exited"
	js=$(status_json)
	st=$(jq -r '.certificates[] | select(.name == "www") | .state' <<<"$js")
	err=$(jq -r '.certificates[] | select(.name == "www") | .last_error' <<<"$js")
	assert_eq "$what: state (status: $js)" backoff "$st"
	errors=$(curl -fsS "http://127.0.0.1:$MPORT/metrics" |
		awk '/^acme_renewd_storage_errors_total\{name="www"\}/ { print $2 }')
	[ -n "$errors" ] && [ "$errors" -gt "$storage_errors" ] ||
		fail "$what: acme_renewd_storage_errors_total{name=\"www\"} did not grow (was $storage_errors, now '$errors')"
	storage_errors=$errors
	assert_imatch "$what: last_error in the status" "$re" "$err"
	tail -n +"$((log_lines + 1))" "$T/daemon.log" | grep -E 'renewal failed' |
		grep -Eiq -- "$re" ||
		fail "$what: no 'renewal failed' line naming /$re/ in the log: $(tail -n +"$((log_lines + 1))" "$T/daemon.log" | grep -Ei 'warn|fail|error' | head -5)"
	log "$what: failed as it should: $err"
}

# no_restart: the daemon started once and still runs.
no_restart() {
	daemon_alive || fail "the daemon is not running"
	assert_eq "daemon starts in the log (no restart)" 1 \
		"$(grep -c ': started: ' "$T/daemon.log")"
}

# free_blocks: blocks the tmpfs has free
free_blocks() {
	stat -f -c %a "$FS"
}

# fill [LEAVE-BYTES]: fill the tmpfs up, then give LEAVE-BYTES back.
fill() {
	dd if=/dev/zero of="$FS/filler" bs=4096 2>/dev/null || true
	sync
	assert_eq "free blocks on the full tmpfs" 0 "$(free_blocks)"
	if [ "${1:-0}" -gt 0 ]; then
		truncate -s "-$1" "$FS/filler"
	fi
}

check_intact "v1" v1 "$(serial_of)"
s1=$(serial_of)

# --- full: nothing can be written ------------------------------------------
fill
expect_failure "full disk" 'No space left on device|ENOSPC|disk full'
check_intact "after the failure on a full disk" v1 "$s1"

# --- it fills up mid-install: two pages free, five files to write ----------
rm -f "$FS/filler"
fill 8192
expect_failure "disk filling up mid-install" 'No space left on device|ENOSPC|disk full'
check_intact "after the failure mid-install" v1 "$s1"
grep -Eiq 'cannot save state.*(No space left|ENOSPC)' "$T/daemon.log" &&
	log "(state.json could not be saved on the full disk, as expected; the daemon stayed up)"

# --- space returns: the renewal succeeds, no restart ----------------------
rm -f "$FS/filler"
rc=0
acmectl renew www >"$T/renew.out" 2>&1 || rc=$?
assert_eq "renew once space returned: exit status ($(tr '\n' ' ' <"$T/renew.out"))" 0 "$rc"
wait_state www valid 30
no_restart
s2=$(serial_of)
assert_ne "serial after the renewal" "$s1" "$s2"
check_intact "v2" v2 "$s2"

# --- read-only --------------------------------------------------------------
mount -o remount,ro "$FS" || fail "cannot remount $FS read-only"
expect_failure "read-only state-dir" 'Read-only file system|EROFS'
check_intact "after the failure on a read-only disk" v2 "$s2"
mount -o remount,rw "$FS" || fail "cannot remount $FS read-write"
rc=0
acmectl renew www >"$T/renew.out" 2>&1 || rc=$?
assert_eq "renew once writable again: exit status ($(tr '\n' ' ' <"$T/renew.out"))" 0 "$rc"
wait_state www valid 30
no_restart
s3=$(serial_of)
assert_ne "serial after the renewal" "$s2" "$s3"
check_intact "v3" v3 "$s3"
assert_eq "failures once renewed" 0 "$(cert_field www failures)"

daemon_stop
