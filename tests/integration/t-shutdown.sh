#!/bin/bash
# SIGTERM in the middle of a renewal (Pebble's VA sleeps up to 10 s before
# it validates): the daemon exits 0 within 5 s, leaves no temporary file
# (*.tmp.*) in its state directory and no half-installed version; a new
# start removes temporary files a crash left behind and resumes the work.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

pebble_start PEBBLE_VA_NOSLEEP= PEBBLE_VA_SLEEPTIME=10
write_config --name www --domains "a.example.test b.example.test"
daemon_start
wait_state www renewing 15
# Wait until the challenges are out, so the renewal is mid-flight.
deadline=$((SECONDS + 15))
until grep -q 'answering http-01' "$T/daemon.log"; do
	[ "$SECONDS" -lt "$deadline" ] || fail "the renewal never got to its challenges"
	sleep 0.1
done
assert_eq "state at SIGTERM" renewing "$(cert_field www state)"

pid=$DAEMON_PID
t0=$(now_ms)
kill -TERM "$pid"
while pid_alive "$pid"; do
	[ $(($(now_ms) - t0)) -lt "$(scaled 10000)" ] || break
	sleep 0.05
done
elapsed=$(($(now_ms) - t0))
if pid_alive "$pid"; then
	kill -KILL "$pid"
	fail "daemon still running $(scaled 10) s after SIGTERM"
fi
rc=0
wait "$pid" || rc=$?
lib_forget_pid "$pid"
DAEMON_PID=
log "exited ${elapsed} ms after SIGTERM, status $rc"
assert_no_sanitizer_report "$T/daemon.log"
assert_eq "exit status after SIGTERM mid-renewal" 0 "$rc"
[ "$elapsed" -lt "$(scaled 5000)" ] ||
	fail "daemon took ${elapsed} ms to exit after SIGTERM (limit $(scaled 5000))"

tmps=$(find "$STATE_DIR" -name '*.tmp.*' 2>/dev/null)
[ -z "$tmps" ] || fail "temporary files left after SIGTERM: $tmps"
d=$(cert_dir www)
if [ -e "$d/current" ] || [ -L "$d/current" ]; then
	for f in privkey.pem cert.pem chain.pem fullchain.pem combined.pem; do
		[ -f "$d/current/$f" ] || fail "current is half-installed: no $f"
	done
fi
[ ! -f "$d/state.json" ] || jq -e . "$d/state.json" >/dev/null ||
	fail "state.json is not JSON after SIGTERM: $(cat "$d/state.json")"

# What a crash would leave behind: a new start must remove it.
mkdir -p "$d"
echo junk >"$d/state.json.tmp.AbC123"
echo junk >"$d/cert.pem.tmp.XyZ789"
daemon_start
wait_state www valid 60
for f in "$d/state.json.tmp.AbC123" "$d/cert.pem.tmp.XyZ789"; do
	[ ! -e "$f" ] || fail "the start left a crash's temporary file $f"
done
out=$(openssl verify -CAfile "$PEBBLE_ROOT" -untrusted "$d/current/chain.pem" \
	"$d/current/cert.pem" 2>&1) || fail "the certificate after the restart does not verify: $out"
tmps=$(find "$STATE_DIR" -name '*.tmp.*' 2>/dev/null)
[ -z "$tmps" ] || fail "temporary files left after the restart: $tmps"

daemon_stop
