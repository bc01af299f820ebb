#!/bin/bash
# reload-units against a real systemd: a container booted with
# systemd-nspawn (PID 1 here is not systemd) runs acme-test.service, whose
# ExecReload appends a line to a file we can read.  The daemon runs on the
# host and reaches the container's system bus through
# DBUS_SYSTEM_BUS_ADDRESS=unix:path=/proc/<container init>/root/run/dbus/...
# After Pebble issues the certificate, acme-test.service was reloaded
# exactly once (not restarted: same main PID), and missing.service failed
# with systemd's own "not found" message, named in the log.
#
# Needs systemd-nspawn (Debian: systemd-container) and dbus, which the
# bootstrap installs; a missing one is a failure, not a skip.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

CT_NSPAWN_PID=		# systemd-nspawn
CT_PID=			# the container's systemd (PID 1 inside)
CT_SHARED=$T/ct		# bind-mounted at /acme-test inside
CT_UNIT=acme-test.service

# ct_stop: power the container off (nspawn turns SIGTERM into a clean
# shutdown), then make sure nothing of it is left: killing the PID 1 of a
# PID namespace kills every process in it.
ct_stop() {
	[ -n "$CT_NSPAWN_PID" ] || return 0
	kill -TERM "$CT_NSPAWN_PID" 2>/dev/null
	for _ in $(seq 100); do
		kill -0 "$CT_NSPAWN_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$CT_NSPAWN_PID" 2>/dev/null; then
		[ -z "$CT_PID" ] || kill -KILL "$CT_PID" 2>/dev/null
		kill -KILL "$CT_NSPAWN_PID" 2>/dev/null
	fi
	wait "$CT_NSPAWN_PID" 2>/dev/null || true
	CT_NSPAWN_PID=
	CT_PID=
}
# Ours first, then lib.sh's, which reads the exit status from $?.  Under
# set -e a failing command here would end the shell before lib_cleanup.
ct_exit() {
	local rc=$?

	set +e
	ct_stop
	(exit "$rc")
	lib_cleanup
}
trap ct_exit EXIT

# ct_run CMD...: run CMD inside the container (all its namespaces).
ct_run() {
	nsenter -t "$CT_PID" -a "$@"
}

# ct_start: boot the container and wait until it has finished booting.
ct_start() {
	local deadline state

	command -v systemd-nspawn >/dev/null ||
		fail "systemd-nspawn not found: install systemd-container (the bootstrap should)"
	command -v nsenter >/dev/null || fail "nsenter not found (util-linux)"
	[ -x /usr/bin/dbus-daemon ] || fail "dbus-daemon not found: install dbus"
	mkdir -p "$CT_SHARED"
	# --keep-unit: without it nspawn wants a system bus of its own
	# ("Failed to open system bus").  The masked units are services
	# that packages installed on this machine and that cannot run in
	# the container.
	systemd-nspawn -D / --volatile=yes -b --register=no --keep-unit \
		--private-network --console=pipe -M "acmetest$$" \
		--bind="$CT_SHARED:/acme-test" \
		systemd.mask=named.service systemd.mask=prometheus.service \
		systemd.mask=prometheus-node-exporter.service \
		>"$T/nspawn.log" 2>&1 </dev/null &
	CT_NSPAWN_PID=$!

	# Generous: a loaded 2-core machine boots it in seconds, not one.
	deadline=$((SECONDS + 60))
	until [ -n "$CT_PID" ]; do
		CT_PID=$(pgrep -P "$CT_NSPAWN_PID" | head -n 1 || true)
		kill -0 "$CT_NSPAWN_PID" 2>/dev/null || {
			show_log "$T/nspawn.log"
			fail "systemd-nspawn exited at startup"
		}
		[ "$SECONDS" -lt "$deadline" ] ||
			fail "systemd-nspawn started no init within 60 s"
		sleep 0.1
	done
	# "starting" until the boot is over; "degraded" is fine for us.
	while :; do
		# nspawn's first child may be a short-lived helper, not
		# the container's init: look again until init answers.
		kill -0 "$CT_PID" 2>/dev/null ||
			CT_PID=$(pgrep -P "$CT_NSPAWN_PID" | head -n 1 || true)
		state=$(ct_run systemctl is-system-running 2>/dev/null || true)
		case $state in
		running|degraded) break ;;
		esac
		[ "$SECONDS" -lt "$deadline" ] || {
			show_log "$T/nspawn.log"
			fail "container did not boot within 60 s (state '$state')"
		}
		sleep 0.2
	done
	CT_BUS=/proc/$CT_PID/root/run/dbus/system_bus_socket
	[ -S "$CT_BUS" ] || fail "no D-Bus system bus in the container ($CT_BUS)"
}

ct_start

# The unit to reload, in the container's /run; its reloads land in
# $CT_SHARED/reloads on the host.
cat >"/proc/$CT_PID/root/run/systemd/system/$CT_UNIT" <<'EOF'
[Unit]
Description=acme-renewd test service

[Service]
Type=simple
ExecStart=/bin/sleep infinity
ExecReload=/bin/sh -c 'date +%%s%%N >>/acme-test/reloads'
EOF
ct_run systemctl daemon-reload || fail "systemctl daemon-reload failed"
ct_run systemctl start "$CT_UNIT" || fail "cannot start $CT_UNIT"
main_pid=$(ct_run systemctl show -P MainPID "$CT_UNIT")
assert_ne "MainPID of $CT_UNIT" 0 "$main_pid"
[ ! -e "$CT_SHARED/reloads" ] || fail "$CT_UNIT was reloaded before the test"

pebble_start
write_config --name www --cert-line "reload-units = $CT_UNIT missing.service"
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$CT_BUS
daemon_start
wait_state www valid 60

# The reloads come after the install: wait until both units have an outcome.
deadline=$((SECONDS + 30))
until grep -qF "reload-units: missing.service:" "$T/daemon.log"; do
	daemon_alive || fail "daemon exited before reloading the units"
	[ "$SECONDS" -lt "$deadline" ] ||
		fail "no outcome for missing.service in the log within 30 s of issuance"
	sleep 0.2
done

# Reloaded once, not restarted.
assert_file "$CT_SHARED/reloads"
assert_eq "lines in $CT_SHARED/reloads (reloads of $CT_UNIT)" 1 \
	"$(wc -l <"$CT_SHARED/reloads")"
assert_eq "MainPID of $CT_UNIT after the reload" "$main_pid" \
	"$(ct_run systemctl show -P MainPID "$CT_UNIT")"
assert_eq "$CT_UNIT state" active "$(ct_run systemctl is-active "$CT_UNIT" || true)"
assert_match "log line for $CT_UNIT" "\[www\].*reload-units: $CT_UNIT reloaded" \
	"$(grep -F "reload-units: $CT_UNIT" "$T/daemon.log")"

# systemd's own reason, tagged with the certificate.
line=$(grep -F "reload-units: missing.service:" "$T/daemon.log" | head -n 1)
assert_match "log line for missing.service" '\[www\]' "$line"
assert_imatch "systemd's reason for missing.service" \
	'Unit missing\.service not found' "$line"

daemon_stop
