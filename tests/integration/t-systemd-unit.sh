#!/bin/bash
# The systemd integration as `make install` puts it on disk, then run by a
# real systemd.
#
#  1. `make install DESTDIR=$T/root` (from the build directory of
#     $ACME_RENEWD) installs the units, sysusers.d and tmpfiles.d files,
#     the polkit rule generator, man pages, completion and the example
#     config (0640 in a 0750 directory).
#  2. systemd-analyze verify --root on the installed units: no finding
#     (the man pages they name are found in the installed tree).
#  3. systemd-analyze security --offline=yes: the service's exposure is
#     2.0 or less (printed), lower again with the no-bind drop-in, which
#     leaves no capability at all.
#  4. systemd-sysusers and systemd-tmpfiles --root apply our files.
#  5. acme-renewd-polkit-gen: a rule naming exactly the reload-units of
#     the main file and conf.d/*.conf; untouched when nothing changed or
#     the config does not pass --check-config; removed when no unit is
#     left; a file it did not write is never removed.
#  6. A container booted with systemd-nspawn from this machine's /usr with
#     the installed tree bound at the prefix and Pebble running in its
#     network namespace: acme-renewd.socket and acme-renewd.service start
#     at boot, the daemon (user acme-renewd, sandboxed as the unit says)
#     reaches READY on the socket systemd hands it, issues a certificate,
#     reloads a unit of reload-units through the generated polkit rule;
#     polkit refuses that user any other unit or verb; `systemctl reload`
#     (ExecReload=acmectl reload, as acme-renewd) works; `systemctl stop`
#     ends it cleanly.
#
# Needs systemd-analyze, systemd-nspawn (systemd-container), nsenter,
# setpriv, busctl and polkitd: a missing one is a failure.  The build must
# use a prefix other than /usr (the default /usr/local), which is bound
# over the container's.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

MAX_EXPOSURE=2.0

for c in systemd-analyze systemd-sysusers systemd-tmpfiles systemd-nspawn \
	nsenter setpriv busctl unshare make jq; do
	command -v "$c" >/dev/null || fail "$c not found"
done
[ -e /usr/lib/polkit-1/polkitd ] || [ -e /usr/libexec/polkitd ] ||
	fail "polkitd is not installed (Debian: polkitd)"

# ---------------------------------------------------------------------------
# 1. make install

builddir=$(dirname "$ACME_RENEWD")
[ -f "$builddir/Makefile" ] || fail "no Makefile beside $ACME_RENEWD"
R=$T/root
# Not the jobserver of the make that runs the tests.
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	make -C "$builddir" install DESTDIR="$R" >"$T/install.log" 2>&1 || {
	show_log "$T/install.log"
	fail "make install DESTDIR=$R failed"
}

# find_one WHAT FIND-ARGS...: the one installed path (relative to $R).
find_one() {
	local what=$1 found

	shift
	found=$(cd "$R" && find . "$@" | sed 's|^\.||')
	[ -n "$found" ] || fail "make install did not install $what"
	[ "$(printf '%s\n' "$found" | wc -l)" -eq 1 ] ||
		fail "$what installed more than once: $found"
	printf '%s\n' "$found"
}

sbin_daemon=$(find_one acme-renewd -type f -path '*/sbin/acme-renewd')
prefix=${sbin_daemon%/sbin/acme-renewd}
service=$(find_one acme-renewd.service -path '*/systemd/system/acme-renewd.service')
unitdir=${service%/*}
socket=$(find_one acme-renewd.socket -path '*/systemd/system/acme-renewd.socket')
sysusers=$(find_one sysusers.d -path '*/sysusers.d/acme-renewd.conf')
tmpfiles=$(find_one tmpfiles.d -path '*/tmpfiles.d/acme-renewd.conf')
polkitgen=$(find_one acme-renewd-polkit-gen -type f -name acme-renewd-polkit-gen)
conf=$(find_one "the config" -path '*/acme-renewd/acme-renewd.conf' ! -path '*/doc/*')
for m in man8/acme-renewd.8 man1/acmectl.1 man5/acme-renewd.conf.5; do
	find_one "$m" -path "*/man/$m" >/dev/null
done
mandir=$(find_one man8 -type d -path '*/man/man8')
mandir=${mandir%/man8}
find_one "the bash completion" -path '*/bash-completion/completions/acmectl' >/dev/null
find_one "the no-bind drop-in" -path '*/examples/acme-renewd-no-bind.conf' >/dev/null
find_one "acmectl" -type f -path '*/bin/acmectl' ! -path '*/sbin/*' >/dev/null

assert_file_mode "$R$conf" 640
assert_file_mode "$(dirname "$R$conf")" 750
[ -x "$R$polkitgen" ] || fail "$polkitgen is not executable"
assert_file_contains "$R$service" "ExecStart=$prefix/sbin/acme-renewd"
assert_file_contains "$R$service" "ExecReload=$prefix/bin/acmectl reload"
assert_file_contains "$R$service" "ExecStartPre=-+$polkitgen"
! grep -n '@[a-z]*@' "$R$service" "$R$polkitgen" ||
	fail "unsubstituted @VARIABLES@ in the installed files"

# ---------------------------------------------------------------------------
# 2. systemd-analyze verify, in $R with this machine's units for the
#    targets ours refer to.

mkdir -p "$R/lib/systemd/system"
cp -an /lib/systemd/system/. "$R/lib/systemd/system/"
# With --root, systemd-analyze finds units in systemd's search path only
# (/usr/local/lib/systemd/system is in it); outside it, as under
# `make distcheck`'s prefix, the installed files are checked from /etc.
case $unitdir in
/usr/local/lib/systemd/system | /usr/lib/systemd/system | /lib/systemd/system)
	vservice=$service vsocket=$socket
	;;
*)
	mkdir -p "$R/etc/systemd/system"
	cp "$R$service" "$R$socket" "$R/etc/systemd/system/"
	vservice=/etc/systemd/system/acme-renewd.service
	vsocket=/etc/systemd/system/acme-renewd.socket
	;;
esac
out=$(MANPATH=$R$mandir systemd-analyze verify --root="$R" \
	"$vservice" "$vsocket" 2>&1) || fail "systemd-analyze verify failed: $out"
assert_eq "systemd-analyze verify findings" "" "$out"

# ---------------------------------------------------------------------------
# 3. systemd-analyze security

# exposure: the overall exposure level systemd-analyze prints.
exposure() {
	systemd-analyze security --offline=yes --root="$R" acme-renewd.service \
		>"$T/security.txt" 2>&1 || true
	sed -n 's/^.*Overall exposure level for acme-renewd\.service: \([0-9.]*\).*/\1/p' \
		"$T/security.txt"
}

score=$(exposure)
[ -n "$score" ] || { cat "$T/security.txt" >&2; fail "no exposure level from systemd-analyze security"; }
log "exposure level of acme-renewd.service: $score (at most $MAX_EXPOSURE)"
grep '✗' "$T/security.txt" >&2 || true
awk -v s="$score" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(s <= m) }' ||
	fail "exposure $score is above $MAX_EXPOSURE"

dropins=$R/etc/systemd/system/acme-renewd.service.d
mkdir -p "$dropins"
cp "$R$(find_one no-bind -path '*/examples/acme-renewd-no-bind.conf')" "$dropins/no-bind.conf"
score_nb=$(exposure)
log "exposure with the no-bind drop-in: $score_nb"
awk -v a="$score_nb" -v b="$score" 'BEGIN { exit !(a < b) }' ||
	fail "the no-bind drop-in did not lower the exposure ($score_nb, was $score)"
if grep -E '✗ (AmbientCapabilities=|CapabilityBoundingSet=)' "$T/security.txt"; then
	fail "capabilities left with the no-bind drop-in"
fi
out=$(MANPATH=$R$mandir systemd-analyze verify --root="$R" "$vservice" 2>&1) ||
	fail "systemd-analyze verify with the drop-in failed: $out"
assert_eq "systemd-analyze verify findings with the drop-in" "" "$out"
rm -rf "$dropins"

# ---------------------------------------------------------------------------
# 4. sysusers.d and tmpfiles.d

systemd-sysusers --root="$R" "$R$sysusers" >"$T/sysusers.log" 2>&1 ||
	{ cat "$T/sysusers.log" >&2; fail "systemd-sysusers failed"; }
pw=$(grep '^acme-renewd:' "$R/etc/passwd") || fail "no user acme-renewd in $R/etc/passwd"
assert_match "passwd entry" '^acme-renewd:x:[0-9]+:[0-9]+:[^:]*:/var/lib/acme-renewd:/usr/sbin/nologin$' "$pw"
grep -q '^acme-renewd:' "$R/etc/group" || fail "no group acme-renewd in $R/etc/group"
uid=$(printf '%s\n' "$pw" | cut -d: -f3)
gid=$(printf '%s\n' "$pw" | cut -d: -f4)

systemd-tmpfiles --root="$R" --create "$R$tmpfiles" >"$T/tmpfiles.log" 2>&1 ||
	{ cat "$T/tmpfiles.log" >&2; fail "systemd-tmpfiles --create failed"; }
assert_eq "/var/lib/acme-renewd" "750 $uid:$gid" "$(stat -c '%a %u:%g' "$R/var/lib/acme-renewd")"
assert_eq "/run/acme-renewd" "755 $uid:$gid" "$(stat -c '%a %u:%g' "$R/run/acme-renewd")"
assert_eq "/etc/acme-renewd" "750 0:$gid" "$(stat -c '%a %u:%g' "$R/etc/acme-renewd")"

# ---------------------------------------------------------------------------
# 5. The polkit rule generator

P=$T/polkit
mkdir -p "$P/conf.d"
RULES=$P/rules.d/50-acme-renewd.rules
write_config --out "$P/acme-renewd.conf" --directory https://127.0.0.1:9/dir \
	--trust-bundle "" --name www \
	--cert-line "reload-units = nginx.service foo@bar.service  # comment"
printf '[certificate mail]\ndomains = mail.example.test\nca = pebble\nchallenge = http-01\nreload-units = postfix.service nginx.service\n' \
	>"$P/conf.d/20-mail.conf"

polkit_gen() {
	"$R$polkitgen" -d "$ACME_RENEWD" -c "$P/acme-renewd.conf" -o "$RULES" "$@"
}

polkit_gen 2>"$T/polkit-gen.err" || fail "polkit-gen failed: $(cat "$T/polkit-gen.err")"
assert_file "$RULES"
assert_file_mode "$RULES" 644
assert_file_contains "$RULES" 'var units = ["nginx.service", "foo@bar.service", "postfix.service"];'
assert_file_contains "$RULES" 'action.id !== "org.freedesktop.systemd1.manage-units"'
assert_file_contains "$RULES" 'subject.user !== "acme-renewd"'
assert_file_contains "$RULES" 'action.lookup("verb") === "reload-or-restart"'
cp "$RULES" "$T/rules.before"
touch -d '2000-01-01' "$RULES"

# Same config: the file is not rewritten.
polkit_gen 2>"$T/polkit-gen.err" || fail "polkit-gen failed the second time"
assert_eq "mtime of an unchanged rule" 2000 "$(date -r "$RULES" +%Y)"

# A config the daemon refuses: the rule stays as it was.
printf 'bogus-key = 1\n' >>"$P/conf.d/20-mail.conf"
polkit_gen 2>"$T/polkit-gen.err" || fail "polkit-gen failed on a bad config (must exit 0)"
assert_file_contains "$T/polkit-gen.err" "does not pass"
cmp -s "$RULES" "$T/rules.before" || fail "a bad config changed the rule"

# No reload-units left: the rule goes.
rm "$P/conf.d/20-mail.conf"
sed -i '/^reload-units/d' "$P/acme-renewd.conf"
polkit_gen 2>"$T/polkit-gen.err" || fail "polkit-gen failed without reload-units"
[ ! -e "$RULES" ] || fail "the rule is still there without reload-units"

# ... but a rules file somebody else wrote is left alone.
echo '// mine' >"$RULES"
polkit_gen 2>/dev/null || fail "polkit-gen failed"
assert_file_contains "$RULES" '// mine'

# ---------------------------------------------------------------------------
# 6. A real systemd: boot a container with the installed tree.

# The installed tree is bound at $prefix in the container.  Over /usr it
# would hide the system; under /tmp, /run, /home or /root the sandbox hides
# it from the service (PrivateTmp=, ProtectHome=), as with the prefix of
# `make distcheck`: then the container part cannot run, and says so.
case $prefix in
/usr/local) ;;
/usr | /usr/* | / | /etc | /etc/* | /var | /var/* | /proc/* | /sys/* | /dev/*)
	fail "prefix $prefix cannot be bound over the container's (configure with the default /usr/local)"
	;;
/tmp/* | /var/tmp/* | /run/* | /home/* | /root/*)
	log "prefix $prefix is hidden by the unit's sandbox: no container run (parts 1-5 passed)"
	exit 0
	;;
esac
# Outside /usr/local, systemd looks for none of our files: bind them
# into /etc.
ct_etc_binds=()
if [ "$prefix" != /usr/local ]; then
	ct_etc_binds=(
		--bind-ro="$R$service:/etc/systemd/system/acme-renewd.service"
		--bind-ro="$R$socket:/etc/systemd/system/acme-renewd.socket"
		--bind-ro="$R$sysusers:/etc/sysusers.d/acme-renewd.conf"
		--bind-ro="$R$tmpfiles:/etc/tmpfiles.d/acme-renewd.conf"
	)
fi

CT_NSPAWN_PID=
CT_PID=
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
}
# Ours first, then lib.sh's, which reads the exit status from $?.
ct_exit() {
	local rc=$?

	set +e
	if [ "$rc" -ne 0 ] && [ -n "$CT_PID" ] && kill -0 "$CT_PID" 2>/dev/null; then
		echo "--- journal of acme-renewd.service in the container ---" >&2
		ct_run journalctl --no-pager -o short-monotonic -u acme-renewd.service \
			-u acme-renewd.socket -u polkit.service 2>&1 | tail -n 40 >&2
	fi
	ct_stop
	(exit "$rc")
	lib_cleanup
}
trap ct_exit EXIT

ct_run() {
	nsenter -t "$CT_PID" -a "$@"
}

# The network namespace the container will boot into, made first so that
# Pebble listens there before the daemon starts at boot.  Held by a
# process of ours; lib.sh's cleanup ends it.
spawn "$T/netns.log" unshare --net sleep infinity
NETNS_PID=$LAST_PID
for _ in $(seq 50); do
	[ "$(readlink "/proc/$NETNS_PID/ns/net")" != "$(readlink /proc/self/ns/net)" ] && break
	sleep 0.1
done
NETNS=/proc/$NETNS_PID/ns/net
nsenter --net="$NETNS" ip link set lo up || fail "cannot bring lo up in the new network namespace"

# Pebble, its DNS and what lib.sh runs to watch them, in that namespace:
# lib.sh starts Pebble through env and pebble-challtestsrv directly, in
# the background (a subshell, which exec turns into the program, so that
# the PID lib.sh keeps is the program's); it runs curl and ss itself.
in_netns() {
	if [ "$BASH_SUBSHELL" -gt "$TOP_SUBSHELL" ]; then
		exec nsenter --net="$NETNS" "$@"
	fi
	nsenter --net="$NETNS" "$@"
}
TOP_SUBSHELL=$BASH_SUBSHELL
env() { in_netns env "$@"; }
pebble-challtestsrv() { in_netns pebble-challtestsrv "$@"; }
curl() { in_netns curl "$@"; }
ss() { in_netns ss "$@"; }
pebble_start
unset -f env pebble-challtestsrv curl

# What the container sees at /etc/acme-renewd (read-only): the config and
# Pebble's CA, which the sandbox (PrivateTmp=) could not read under /tmp.
E=$T/ct-etc
S=$T/ct-shared
mkdir -p "$E" "$S"
cp "$PEBBLE_CA" "$E/pebble-ca.pem"
write_config --out "$E/acme-renewd.conf" --name www --domains "a.example.test" \
	--state-dir /var/lib/acme-renewd --socket /run/acme-renewd/control.sock \
	--trust-bundle /etc/acme-renewd/pebble-ca.pem \
	--cert-line "reload-units = acme-target.service"
sed -i -e 's/^control-group = .*/control-group = acme-renewd/' \
	-e 's/^log-target = .*/log-target = auto/' "$E/acme-renewd.conf"
chmod 755 "$E" "$S"
chmod 644 "$E"/*

# acme-target.service is the unit to reload; acme-other.service the one
# the daemon's user must not touch.
for u in acme-target acme-other; do
	cat >"$T/$u.service" <<EOF
[Unit]
Description=acme-renewd test unit $u

[Service]
ExecStart=/bin/sh -c 'echo start >>/acme-test/$u.log; exec sleep infinity'
ExecReload=/bin/sh -c 'echo reload >>/acme-test/$u.log'
EOF
done
# A sanitizer build cannot run LeakSanitizer under the seccomp filter
# (ptrace): the leak check is the other tests' business.
printf '[Service]\nEnvironment=ASAN_OPTIONS=detect_leaks=0\n' >"$T/asan.conf"

# --keep-unit: without it nspawn wants a system bus of its own.  Masked:
# services of packages on this machine that cannot run in the container,
# and the wait for a network that never comes.
systemd-nspawn -D / --volatile=yes -b --register=no --keep-unit \
	--network-namespace-path="$NETNS" --console=pipe -M "acmeunit$$" \
	--bind-ro="$R$prefix:$prefix" \
	--bind-ro="$E:/etc/acme-renewd" \
	--bind="$S:/acme-test" \
	--bind-ro="$T/acme-target.service:/etc/systemd/system/acme-target.service" \
	--bind-ro="$T/acme-other.service:/etc/systemd/system/acme-other.service" \
	--bind-ro="$T/asan.conf:/etc/systemd/system/acme-renewd.service.d/asan.conf" \
	${ct_etc_binds[@]+"${ct_etc_binds[@]}"} \
	systemd.mask=named.service systemd.mask=prometheus.service \
	systemd.mask=prometheus-node-exporter.service \
	systemd.mask=systemd-networkd-wait-online.service \
	>"$T/nspawn.log" 2>&1 </dev/null &
CT_NSPAWN_PID=$!

# The container's init is nspawn's child named systemd (nspawn forks
# short-lived helpers first).
deadline=$((SECONDS + 30))
until [ -n "$CT_PID" ]; do
	CT_PID=$(pgrep -P "$CT_NSPAWN_PID" -x systemd | head -n 1 || true)
	kill -0 "$CT_NSPAWN_PID" 2>/dev/null || {
		show_log "$T/nspawn.log"
		fail "systemd-nspawn exited at startup"
	}
	[ "$SECONDS" -lt "$deadline" ] || fail "systemd-nspawn started no init within 30 s"
	sleep 0.1
done
while :; do
	state=$(ct_run systemctl is-system-running 2>/dev/null || true)
	case $state in
	running | degraded) break ;;
	esac
	[ "$SECONDS" -lt "$deadline" ] || {
		show_log "$T/nspawn.log"
		fail "container did not boot within 30 s (state '$state')"
	}
	sleep 0.2
done

ct_run systemctl start acme-target.service acme-other.service ||
	fail "cannot start the test units"
# Enabled by the first boot's presets (an empty /etc), so normally already
# started; start waits for READY=1 either way.
ct_run systemctl start acme-renewd.service || fail "systemctl start acme-renewd.service failed"
assert_eq "acme-renewd.socket" active "$(ct_run systemctl is-active acme-renewd.socket || true)"
assert_eq "acme-renewd.service" "active running" \
	"$(ct_run systemctl show -P ActiveState acme-renewd.service) $(ct_run systemctl show -P SubState acme-renewd.service)"
main_pid=$(ct_run systemctl show -P MainPID acme-renewd.service)
assert_eq "the daemon's user" acme-renewd "$(ct_run ps -o user= -p "$main_pid" | tr -d ' ')"
# The socket is systemd's (root's file), not one the daemon made.
assert_eq "control socket" "660 root acme-renewd" \
	"$(ct_run stat -c '%a %U %G' /run/acme-renewd/control.sock)"

# acmectl inside the container, as root.
cat >"$T/acmectl-ct" <<EOF
#!/bin/sh
exec nsenter -t $CT_PID -a $prefix/bin/acmectl "\$@"
EOF
chmod +x "$T/acmectl-ct"
ACMECTL=$T/acmectl-ct
SOCK=/run/acme-renewd/control.sock
DAEMON_PID=$CT_PID	# for wait_state: "alive" while the container is
wait_state www valid 60
assert_eq "restarts of acme-renewd.service" 0 "$(ct_run systemctl show -P NRestarts acme-renewd.service)"
assert_eq "the daemon's PID after issuance" "$main_pid" "$(ct_run systemctl show -P MainPID acme-renewd.service)"
assert_eq "key file" "600 acme-renewd" \
	"$(ct_run stat -L -c '%a %U' /var/lib/acme-renewd/certs/www/current/privkey.pem)"
assert_eq "state directory" "750 acme-renewd" "$(ct_run stat -c '%a %U' /var/lib/acme-renewd)"

# reload-units went through the generated rule.
rules=$(ct_run cat /etc/polkit-1/rules.d/50-acme-renewd.rules) ||
	fail "ExecStartPre did not write the polkit rule"
assert_contains "polkit rule" 'var units = ["acme-target.service"];' "$rules"
# The first deploy can race the test units' start: the daemon, enabled by
# the presets, may issue before `systemctl start acme-target` above
# returned, and systemd folds a reload of a starting unit into its start.
# acme-target is active now: one more renewal, one more reload.
"$ACMECTL" -s "$SOCK" force-renew www >/dev/null ||
	fail "acmectl force-renew www in the container failed"
deadline=$((SECONDS + 30))
until grep -qx reload "$S/acme-target.log" 2>/dev/null; do
	[ "$SECONDS" -lt "$deadline" ] ||
		fail "acme-target.service was not reloaded within 30 s of issuance (its log: $(cat "$S/acme-target.log" 2>/dev/null))"
	sleep 0.2
done
# The daemon records the outcome once systemd's job is over.
until [ "$("$ACMECTL" --json show www 2>/dev/null | jq -r '.deploy.pending')" = false ]; do
	[ "$SECONDS" -lt "$deadline" ] || fail "the deploy of www is still pending"
	sleep 0.2
done
assert_eq "deploy of www (failures, last error)" "0 null" \
	"$("$ACMECTL" --json show www | jq -r '"\(.deploy.failures) \(.deploy.last_error)"')"

# polkit: the daemon's user may reload-or-restart acme-target.service and
# nothing else.
as_daemon_user() {
	ct_run setpriv --reuid=acme-renewd --regid=acme-renewd --init-groups \
		busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1 \
		org.freedesktop.systemd1.Manager "$1" ss "$2" replace
}
as_daemon_user ReloadOrRestartUnit acme-target.service >/dev/null 2>"$T/busctl.err" ||
	fail "acme-renewd may not reload acme-target.service: $(cat "$T/busctl.err")"
for call in "ReloadOrRestartUnit acme-other.service" "RestartUnit acme-target.service" \
	"StopUnit acme-target.service"; do
	# shellcheck disable=SC2086
	if as_daemon_user $call >/dev/null 2>"$T/busctl.err"; then
		fail "acme-renewd was allowed $call"
	fi
	assert_imatch "refusal of $call" 'access denied|authentication required|not authorized' \
		"$(cat "$T/busctl.err")"
done
assert_eq "acme-other.service log" start "$(cat "$S/acme-other.log")"

# systemctl reload: ExecReload runs acmectl reload as acme-renewd.
ct_run systemctl reload acme-renewd.service || fail "systemctl reload acme-renewd.service failed"
assert_eq "acme-renewd.service after reload" active "$(ct_run systemctl is-active acme-renewd.service || true)"
assert_eq "the daemon's PID after reload" "$main_pid" "$(ct_run systemctl show -P MainPID acme-renewd.service)"
journal=$(ct_run journalctl --no-pager -o cat -u acme-renewd.service)
assert_contains "journal after reload" "Reloaded acme-renewd.service" "$journal"

# Stopped with SIGTERM: exit status 0, within the unit's timeout.
t0=$SECONDS
ct_run systemctl stop acme-renewd.service || fail "systemctl stop acme-renewd.service failed"
[ $((SECONDS - t0)) -le 6 ] || fail "stopping took $((SECONDS - t0)) s"
assert_eq "result of acme-renewd.service" "success 0" \
	"$(ct_run systemctl show -P Result acme-renewd.service) $(ct_run systemctl show -P ExecMainStatus acme-renewd.service)"

# Under systemd the daemon logs to the journal, with its fields; also the
# lines that carry only some of them (the certificate's name here).
journal=$(ct_run journalctl --no-pager -o cat -u acme-renewd.service)
assert_contains "journal of acme-renewd.service" "installed v1" "$journal"
assert_contains "journal of acme-renewd.service" \
	"reload-units: acme-target.service reloaded" "$journal"
log "the service issued, reloaded acme-target.service, reloaded and stopped under systemd"
