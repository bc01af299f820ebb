#!/bin/bash
# log-target = journal against a real journald: a container booted with
# systemd-nspawn (PID 1 here is not systemd) runs systemd-journald, and the
# daemon runs in the container's mount namespace, so sd_journal_send's
# fixed /run/systemd/journal/socket is the container's.  The daemon keeps
# this machine's network (and PID) namespace: Pebble stays on our loopback
# and lib.sh's daemon_start/daemon_stop work on the daemon's own PID.
#
# 1. log-level = debug, certificates www and api issued by Pebble:
#    `journalctl ACME_RENEWD_NAME=www` (run in the container) tells www's
#    story (phases order, finalize, install in that order, the "installed"
#    notice with PRIORITY=5) and nothing of api's; ACME_RENEWD_CA=pebble
#    finds entries; lines where a field does not apply (daemon-wide, a
#    CA's own, a certificate's outside a phase) are there too with that
#    field empty; nothing went to stderr.
# 2. log-level = warning, a fresh state dir and a certificate whose CA is
#    unreachable: only PRIORITY <= 4 entries, and at least one.
# 3. log-target = stderr: the same facts in plain lines
#    ("info [www] ca=pebble phase=install: ...").
# 4. The story is whole: no entry that names www or the CA pebble in its
#    text lacks the field that says so.
#
# Needs systemd-nspawn (Debian: systemd-container), nsenter (util-linux),
# journalctl and jq; a missing one is a failure, not a skip.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

CT_NSPAWN_PID=		# systemd-nspawn
CT_PID=			# the container's systemd (PID 1 inside)

# ct_stop: power the container off (nspawn turns SIGTERM into a clean
# shutdown), then make sure nothing of it is left: killing the PID 1 of a
# PID namespace kills every process in it.  (As in t-reload-units.sh.)
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
# Ours first (the daemon lives in the container's mount namespace: stop
# it before the container goes), then lib.sh's, which reads the exit
# status from $?.
ct_exit() {
	local rc=$?

	set +e
	if [ -n "$DAEMON_PID" ]; then
		kill -TERM "$DAEMON_PID" 2>/dev/null
		for _ in $(seq 50); do
			kill -0 "$DAEMON_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$DAEMON_PID" 2>/dev/null
	fi
	if [ "$rc" -ne 0 ] && [ -n "$CT_PID" ]; then
		echo "--- journal of acme-renewd in the container (last 40) ---" >&2
		ct_run journalctl --no-pager -q -n 40 SYSLOG_IDENTIFIER=acme-renewd \
			-o short-precise >&2
	fi
	ct_stop
	(exit "$rc")
	lib_cleanup
}
trap ct_exit EXIT

# ct_run CMD...: run CMD inside the container (all its namespaces).
ct_run() {
	nsenter -t "$CT_PID" -a "$@"
}

# ct_start DIR...: boot the container with each DIR bind-mounted at the
# same path, and wait until it has finished booting.
ct_start() {
	local deadline state d
	local -a binds=()

	command -v systemd-nspawn >/dev/null ||
		fail "systemd-nspawn not found: install systemd-container"
	command -v nsenter >/dev/null || fail "nsenter not found (util-linux)"
	command -v journalctl >/dev/null || fail "journalctl not found (systemd)"
	command -v jq >/dev/null || fail "jq not found"
	for d in "$@"; do
		binds+=("--bind=$d")
	done
	# --keep-unit: without it nspawn wants a system bus of its own.  The
	# masked units are services that packages installed on this machine
	# and that cannot run in the container.
	systemd-nspawn -D / --volatile=yes -b --register=no --keep-unit \
		--private-network --console=pipe -M "acmejournal$$" \
		"${binds[@]}" \
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
	[ -S "/proc/$CT_PID/root/run/systemd/journal/socket" ] ||
		fail "no journald socket in the container"
}

# jctl ARGS...: journalctl in the container, acme-renewd's entries only,
# one JSON object per line; everything written so far is in.
jctl() {
	ct_run journalctl --sync 2>/dev/null || true
	ct_run journalctl --no-pager -q -o json SYSLOG_IDENTIFIER=acme-renewd "$@"
}

# jcursor: the journal's current end, for --after-cursor.
jcursor() {
	ct_run journalctl --sync 2>/dev/null || true
	ct_run journalctl --no-pager -q -o json -n 1 | jq -r '.__CURSOR'
}

# wait_journal SECONDS JQ-FILTER ARGS...: wait until an entry matched by
# journalctl ARGS passes the jq filter (journald reads its socket on its
# own time).
wait_journal() {
	local secs=$1 deadline=$((SECONDS + $1)) filter=$2

	shift 2
	until jctl "$@" | jq -e "select($filter)" 2>/dev/null | grep -q .; do
		[ "$SECONDS" -lt "$deadline" ] ||
			fail "no journal entry ($*) matching '$filter' within $secs s"
		sleep 0.2
	done
}

# Everything the daemon reads or writes (and the binary) must be visible
# at the same path inside the container.
REAL_DAEMON=$ACME_RENEWD
[ -x "$REAL_DAEMON" ] || fail "ACME_RENEWD is not set to an executable"
case $REAL_DAEMON in
/*) ;;
*) REAL_DAEMON=$(cd "$(dirname "$REAL_DAEMON")" && pwd)/$(basename "$REAL_DAEMON") ;;
esac
BIN_DIR=$(dirname "$REAL_DAEMON")
case $BIN_DIR in
/usr|/usr/*) ct_start "$T" ;;		# /usr is the host's in the container
*) ct_start "$T" "$BIN_DIR" ;;
esac
log "container up (init pid $CT_PID) after ${SECONDS}s"

# lib.sh's daemon_start runs $ACME_RENEWD: a wrapper that enters the
# container's mount namespace (root and cwd too) and execs the daemon,
# so DAEMON_PID is the daemon's.
# ct_daemon_stop: daemon_stop for the daemon inside the container's mount
# namespace.  There /proc is the container's while the daemon keeps this
# machine's pid namespace, so a sanitizer build's LeakSanitizer cannot
# find its own threads and exits 1 with "LeakSanitizer has encountered a
# fatal error" (and cannot be told not to run: the runtime reads its
# options from /proc/self/environ).  Only that exit is excused; any real
# sanitizer report still fails, and every other test checks for leaks.
ct_daemon_stop() {
	local pid=$DAEMON_PID rc=0

	kill -TERM "$pid" 2>/dev/null || fail "daemon (pid $pid) not running at SIGTERM"
	for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$pid" 2>/dev/null && { kill -KILL "$pid"; fail "daemon did not exit within 15 s"; }
	wait "$pid" || rc=$?
	DAEMON_PID=
	lib_forget_pid "$pid"
	if [ "$rc" -ne 0 ] && grep -q "LeakSanitizer has encountered a fatal error" "$T/daemon.log" &&
	    ! grep -qE "ERROR: (AddressSanitizer|LeakSanitizer: detected)|runtime error:" "$T/daemon.log"; then
		log "sanitizer build: LeakSanitizer cannot run in the container's /proc; exit $rc excused"
		rc=0
	fi
	assert_eq "daemon exit status after SIGTERM" 0 "$rc"
}

cat >"$T/acme-renewd-in-ct" <<EOF
#!/bin/sh
exec nsenter -t $CT_PID -m -r -w -- $REAL_DAEMON "\$@"
EOF
chmod 755 "$T/acme-renewd-in-ct"
ACME_RENEWD=$T/acme-renewd-in-ct

pebble_start

two_certs="[certificate api]
domains = api.example.test
ca = pebble
challenge = http-01"

# next_log_line: the number of the next line daemon.log will get.
next_log_line() {
	if [ -f "$T/daemon.log" ]; then
		echo $(($(wc -l <"$T/daemon.log") + 1))
	else
		echo 1
	fi
}

# daemon_log_from LINE: daemon.log from line LINE on.
daemon_log_from() {
	tail -n "+$1" "$T/daemon.log"
}

# ---------------------------------------------------------------------------
# 1. debug, to the journal

start_line=$(next_log_line)
LOG_LEVEL=debug write_config --name www --domains "www.example.test" \
	--daemon "log-target = journal" --state-dir "$T/state-debug" \
	--append "$two_certs"
grep -q '^log-target = journal$' "$CONF" || fail "no log-target = journal in $CONF"
# write_config writes log-target = stderr first: keep only ours.
sed -i '/^log-target = stderr$/d' "$CONF"
t0=$SECONDS
daemon_start
wait_state www valid 60
wait_state api valid 60
wait_journal 10 '.MESSAGE | test("^installed v[0-9]+, serial ")' ACME_RENEWD_NAME=www
wait_journal 10 '.MESSAGE | test("^installed v[0-9]+, serial ")' ACME_RENEWD_NAME=api
ct_daemon_stop
log "run 1 (journal, debug): $((SECONDS - t0)) s"

# Nothing of it on stderr: every line went to the journal.
out=$(daemon_log_from "$start_line" | grep -E '^acme-renewd: ' || true)
assert_eq "daemon's stderr lines under log-target = journal" "" "$out"

jctl ACME_RENEWD_NAME=www >"$T/www.json"
jctl ACME_RENEWD_NAME=api >"$T/api.json"
jctl ACME_RENEWD_CA=pebble >"$T/ca.json"
jctl >"$T/all.json"
log "journal: $(wc -l <"$T/all.json") entries, www $(wc -l <"$T/www.json"), api $(wc -l <"$T/api.json"), ca=pebble $(wc -l <"$T/ca.json")"

# Every entry carries the documented fields (empty where they do not
# apply) and a syslog priority.
bad=$(jq -c 'select((has("ACME_RENEWD_NAME") and has("ACME_RENEWD_CA") and
	has("ACME_RENEWD_PHASE") and (.PRIORITY | test("^[0-7]$"))) | not)
	| {MESSAGE, PRIORITY}' "$T/all.json" | head -n 5)
assert_eq "entries without ACME_RENEWD_NAME/CA/PHASE or PRIORITY" "" "$bad"

# Entries where a field does not apply are there too, with that field
# empty: a daemon-wide line, a CA's own line, a certificate's line outside
# any phase.
assert_ne "daemon-wide entry 'started: ...' (ACME_RENEWD_NAME empty)" "" \
	"$(jq -r 'select(.ACME_RENEWD_NAME == "" and (.MESSAGE | startswith("started: "))) | .MESSAGE' "$T/all.json")"
assert_ne "CA pebble's entry 'account ... registered' (ACME_RENEWD_NAME empty)" "" \
	"$(jq -r 'select(.ACME_RENEWD_NAME == "" and .ACME_RENEWD_CA == "pebble" and
		(.MESSAGE | test("^account .* registered"))) | .MESSAGE' "$T/all.json")"
assert_ne "www's entry 'valid; next renewal ...' (ACME_RENEWD_PHASE empty)" "" \
	"$(jq -r 'select(.ACME_RENEWD_PHASE == "" and
		(.MESSAGE | startswith("valid; next renewal"))) | .MESSAGE' "$T/www.json")"

# www's story, in order: order, finalize, install.
phases=$(jq -r '.ACME_RENEWD_PHASE | select(. != "")' "$T/www.json" | awk '!seen[$0]++' | tr '\n' ' ')
for p in order finalize install; do
	assert_match "phases in www's journal" "(^| )$p " "$phases"
done
assert_match "order of www's phases" '(^| )order .*finalize .*install ' "$phases"

# Only www's: no api entry, no api name in a message.
others=$(jq -r 'select(.ACME_RENEWD_NAME != "www") | .ACME_RENEWD_NAME' "$T/www.json" | sort -u)
assert_eq "ACME_RENEWD_NAME values in journalctl ACME_RENEWD_NAME=www" "" "$others"
leak=$(jq -r '.MESSAGE | select(test("api\\.example\\.test|^api[: ]"))' "$T/www.json")
assert_eq "api's messages in www's journal" "" "$leak"
[ -s "$T/api.json" ] || fail "journalctl ACME_RENEWD_NAME=api found nothing"
leak=$(jq -r '.MESSAGE | select(test("www\\.example\\.test|^www[: ]"))' "$T/api.json")
assert_eq "www's messages in api's journal" "" "$leak"

# The install notice: PRIORITY 5, phase install, CA pebble.
inst=$(jq -c 'select(.MESSAGE | test("^installed v[0-9]+, serial ")) |
	{PRIORITY, ACME_RENEWD_PHASE, ACME_RENEWD_CA}' "$T/www.json")
assert_eq "www's installed entry" \
	'{"PRIORITY":"5","ACME_RENEWD_PHASE":"install","ACME_RENEWD_CA":"pebble"}' "$inst"
serial=$(openssl x509 -in "$T/state-debug/certs/www/current/cert.pem" -noout -serial | cut -d= -f2)
assert_match "www's installed message" "installed v1, serial 0*${serial#"${serial%%[!0]*}"}" \
	"$(jq -r 'select(.MESSAGE | test("^installed v[0-9]+, serial ")) | .MESSAGE' "$T/www.json")"

# debug entries are there at log-level = debug.
assert_ne "debug entries (PRIORITY=7) of www" 0 \
	"$(jq -r 'select(.PRIORITY == "7") | .MESSAGE' "$T/www.json" | wc -l)"

# The CA field.
[ -s "$T/ca.json" ] || fail "journalctl ACME_RENEWD_CA=pebble found nothing"
assert_eq "ACME_RENEWD_CA values in journalctl ACME_RENEWD_CA=pebble" pebble \
	"$(jq -r '.ACME_RENEWD_CA' "$T/ca.json" | sort -u)"
assert_ne "entries of both certificates under ACME_RENEWD_CA=pebble" "" \
	"$(jq -r 'select(.ACME_RENEWD_NAME == "api")' "$T/ca.json")"

# ---------------------------------------------------------------------------
# 2. warning: a fresh state dir (www and api are issued again, with all
#    their info and debug lines) and a certificate whose CA does not
#    answer (warnings).

cursor=$(jcursor)
case $cursor in
''|null) fail "no journal cursor" ;;
esac
dead_port=$(free_port)
start_line=$(next_log_line)
LOG_LEVEL=warning write_config --name www --domains "www.example.test" \
	--daemon "log-target = journal" --state-dir "$T/state-warning" \
	--append "$two_certs

[ca dead]
directory = https://127.0.0.1:$dead_port/dir
contact = mailto:ops@example.test
accept-tos = yes
trust-bundle = $PEBBLE_CA

[certificate broken]
domains = broken.example.test
ca = dead
challenge = http-01"
sed -i '/^log-target = stderr$/d' "$CONF"
grep -q '^log-level = warning$' "$CONF" || fail "no log-level = warning in $CONF"
t0=$SECONDS
daemon_start
wait_state www valid 60
wait_state api valid 60
wait_state broken backoff 60
wait_journal 10 '.ACME_RENEWD_NAME == "broken"' --after-cursor="$cursor"
ct_daemon_stop
log "run 2 (journal, warning): $((SECONDS - t0)) s"

jctl --after-cursor="$cursor" >"$T/warning.json"
n=$(wc -l <"$T/warning.json")
[ "$n" -gt 0 ] || fail "no journal entry at all at log-level = warning"
loud=$(jq -c 'select((.PRIORITY | tonumber) > 4) | {PRIORITY, MESSAGE}' "$T/warning.json" | head -n 5)
assert_eq "entries above PRIORITY 4 at log-level = warning" "" "$loud"
assert_match "broken's warning" '"PRIORITY":"4"' \
	"$(jq -c 'select(.ACME_RENEWD_NAME == "broken") | {PRIORITY}' "$T/warning.json")"
out=$(daemon_log_from "$start_line" | grep -E '^acme-renewd: ' || true)
assert_eq "daemon's stderr lines under log-target = journal" "" "$out"

# ---------------------------------------------------------------------------
# 3. The same facts on stderr (run on this side: no journal involved).

ACME_RENEWD=$REAL_DAEMON
start_line=$(next_log_line)
LOG_LEVEL=debug write_config --name www --domains "www.example.test" \
	--state-dir "$T/state-stderr" --append "$two_certs"
grep -q '^log-target = stderr$' "$CONF" || fail "no log-target = stderr in $CONF"
t0=$SECONDS
daemon_start
wait_state www valid 60
wait_state api valid 60
daemon_stop
log "run 3 (stderr, debug): $((SECONDS - t0)) s"
daemon_log_from "$start_line" >"$T/stderr.log"

grep -E '^acme-renewd: notice \[www\] ca=pebble phase=install: installed v1, ' "$T/stderr.log" >/dev/null ||
	fail "no 'acme-renewd: notice [www] ca=pebble phase=install: installed v1, ...' line on stderr"
for p in order finalize install; do
	grep -qE "^acme-renewd: [a-z]+ \[www\] ca=pebble phase=$p: " "$T/stderr.log" ||
		fail "no '[www] ca=pebble phase=$p' line on stderr"
done
grep -qE '^acme-renewd: debug ' "$T/stderr.log" ||
	fail "no debug line on stderr at log-level = debug"
bad=$(grep -vE '^(=== |acme-renewd: (debug|info|notice|warning|err)( \[[^]]+\])?( ca=[^ :]+)?( phase=[^ :]+)?: )' \
	"$T/stderr.log" | head -n 5 || true)
assert_eq "stderr lines not in the form 'acme-renewd: LEVEL [NAME] ca=CA phase=PHASE: message'" "" "$bad"
leak=$(grep -F '[www]' "$T/stderr.log" | grep -E 'api\.example\.test' || true)
assert_eq "api's name in www's stderr lines" "" "$leak"

# ---------------------------------------------------------------------------
# 4. A whole story: an entry whose text is about www, or about the CA
#    pebble, carries the field (`journalctl ACME_RENEWD_NAME=www` must
#    find it).

untagged=$(jq -r 'select(.ACME_RENEWD_NAME == "" and
	(.MESSAGE | test("^(www|api): "))) | .MESSAGE' "$T/all.json" | head -n 5)
[ -z "$untagged" ] ||
	fail "entries about a certificate without ACME_RENEWD_NAME (journalctl ACME_RENEWD_NAME= misses them): $untagged"
untagged=$(jq -r 'select(.ACME_RENEWD_CA == "" and
	(.MESSAGE | test("^CA pebble: "))) | .MESSAGE' "$T/all.json" | head -n 5)
[ -z "$untagged" ] ||
	fail "entries about CA pebble without ACME_RENEWD_CA (journalctl ACME_RENEWD_CA=pebble misses them): $untagged"
