#!/bin/bash
# A corrupt state.json is moved aside with a warning naming where it went;
# the daemon rebuilds the certificate's state from the files on disk,
# stays up and does not re-issue a certificate that is still good.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

pebble_start
write_config --name www --domains "a.example.test b.example.test"
daemon_start
wait_state www valid 60
d=$(cert_dir www)
serial=$(openssl x509 -in "$d/current/cert.pem" -noout -serial)
assert_eq "current before the restart" v1 "$(readlink "$d/current")"
daemon_stop

printf '{"version": 1, "next_renewal": \x00\x01 garbage <<<\n' >"$d/state.json"
log_start=$(($(wc -l <"$T/daemon.log") + 1))
daemon_start
wait_state www valid 15
sleep 3		# time for a wrong re-issue to start
wait_state www valid 1

newlog=$(tail -n "+$log_start" "$T/daemon.log")
line=$(grep -E 'warning.*state\.json\.corrupt-[0-9]+' <<<"$newlog" | head -n 1) ||
	fail "no warning naming state.json.corrupt-<epoch> in the log after the restart"
aside=$(grep -oE '[^ ]*state\.json\.corrupt-[0-9]+' <<<"$line" | head -n 1)
case $aside in
/*) ;;
*) aside=$d/$(basename "$aside") ;;
esac
[ -f "$aside" ] || fail "the log names $aside, which does not exist: $(ls -la "$d")"
grep -qa garbage "$aside" || fail "$aside does not hold the corrupt state.json"

assert_eq "current after the restart" v1 "$(readlink "$d/current")"
[ ! -e "$d/v2" ] || fail "the certificate was re-issued (v2 exists)"
assert_eq "serial after the restart" "$serial" \
	"$(openssl x509 -in "$d/current/cert.pem" -noout -serial)"
grep -q 'phase=install: installed v2' "$T/daemon.log" && fail "a second version was installed"
assert_eq "state" valid "$(cert_field www state)"
assert_eq "failures" 0 "$(cert_field www failures)"
[ ! -e "$d/state.json" ] || jq -e . "$d/state.json" >/dev/null ||
	fail "state.json after the rebuild is not JSON: $(cat "$d/state.json")"
daemon_alive || fail "daemon exited"

daemon_stop
