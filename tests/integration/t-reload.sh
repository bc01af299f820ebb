#!/bin/bash
# Reloading the configuration without a restart: SIGHUP with a new
# conf.d/ file schedules and issues the new certificate; a bad config is
# refused as a whole by `acmectl reload` (exit 1, file:line and the key on
# stderr) while the daemon and its control socket keep going with the old
# one; a certificate whose file is removed is no longer managed but its
# files stay on disk.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

# names: the certificate names `acmectl --json status` lists, sorted
names() {
	status_json | jq -r '[.certificates[].name] | sort | join(" ")'
}

pebble_start
write_config --name www --domains "a.example.test"
CONFD=$(dirname "$CONF")/conf.d
mkdir -p "$CONFD"
daemon_start
wait_state www valid 60
assert_eq "certificates before the reload" www "$(names)"

# 1. SIGHUP picks up a new conf.d file and issues its certificate.
cat >"$CONFD/second.conf" <<EOF2
[certificate second]
domains = second.example.test
ca = pebble
challenge = http-01
EOF2
kill -HUP "$DAEMON_PID"
wait_state second valid 60
daemon_alive || fail "daemon exited after SIGHUP"
assert_eq "certificates after SIGHUP" "second www" "$(names)"
d2=$(cert_dir second)
[ -f "$d2/current/cert.pem" ] || fail "no $d2/current/cert.pem after SIGHUP"
sans=$(openssl x509 -in "$d2/current/cert.pem" -noout -ext subjectAltName | tail -n +2)
assert_contains "second certificate's subjectAltName" "DNS:second.example.test" "$sans"
www_serial=$(openssl x509 -in "$(cert_dir www)/current/cert.pem" -noout -serial)

# 2. A bad file (unknown key on line 4) is refused: exit 1, the error names
# file:line and the key; nothing changes and the daemon keeps answering.
cat >"$CONFD/zz-bad.conf" <<EOF2
[certificate third]
domains = third.example.test
ca = pebble
no-such-key = 1
EOF2
rc=0
acmectl reload >"$T/reload.out" 2>"$T/reload.err" || rc=$?
assert_eq "acmectl reload exit status with a bad conf.d file" 1 "$rc"
err=$(cat "$T/reload.err")
assert_contains "acmectl reload's stderr" "zz-bad.conf:4" "$err"
assert_contains "acmectl reload's stderr" "no-such-key" "$err"
grep -F "zz-bad.conf:4" "$T/daemon.log" | grep -qF "no-such-key" ||
	fail "the daemon's log has no line naming zz-bad.conf:4 and no-such-key"
sleep 1
daemon_alive || fail "daemon exited after a bad reload"
rc=0
acmectl status >"$T/status.out" 2>&1 || rc=$?
assert_eq "acmectl status exit status after the bad reload" 0 "$rc"
assert_contains "acmectl status after the bad reload" www "$(cat "$T/status.out")"
assert_contains "acmectl status after the bad reload" second "$(cat "$T/status.out")"
assert_eq "certificates after the bad reload (old config kept)" "second www" "$(names)"
assert_eq "state of www after the bad reload" valid "$(cert_field www state)"
assert_eq "state of second after the bad reload" valid "$(cert_field second state)"

# 3. Without the bad file and without second.conf: second is no longer
# managed, its files stay; www is untouched.
rm -f "$CONFD/zz-bad.conf" "$CONFD/second.conf"
rc=0
acmectl reload >"$T/reload.out" 2>"$T/reload.err" || rc=$?
assert_eq "acmectl reload exit status (second.conf removed): $(cat "$T/reload.err")" 0 "$rc"
assert_eq "certificates after removing second.conf" www "$(names)"
[ -f "$d2/current/cert.pem" ] && [ -f "$d2/current/privkey.pem" ] ||
	fail "the removed certificate's files were deleted: $(ls -lR "$d2" 2>&1)"
wait_state www valid 5
assert_eq "current of www after the reloads" v1 "$(readlink "$(cert_dir www)/current")"
assert_eq "serial of www after the reloads" "$www_serial" \
	"$(openssl x509 -in "$(cert_dir www)/current/cert.pem" -noout -serial)"

daemon_stop
