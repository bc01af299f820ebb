#!/bin/bash
# An empty *-listen turns that listener off.  A webroot-only host says
# "http-01-listen =" and "tls-alpn-01-listen =": the daemon starts, issues
# through the web server's files and listens on no TCP port at all.  A
# certificate that needs a listener that is off is a config error naming
# both lines: --check-config exits 1 with it, a reload is refused with it
# (acmectl exits 1) and the running configuration stays.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

need busybox busybox
pebble_start
www=$T/www
mkdir -p "$www"
spawn "$T/httpd.log" busybox httpd -f -p "127.0.0.1:$HTTP01_PORT" -h "$www"
wait_port "$HTTP01_PORT" 10 || fail "busybox httpd did not listen on $HTTP01_PORT"

write_config --name blog --cert-line "webroot = $www"
sed -i -e 's/^http-01-listen = .*/http-01-listen =/' "$CONF"
echo "tls-alpn-01-listen =" >"$T/line"
sed -i "/^http-01-listen =/r $T/line" "$CONF"
grep -qx 'http-01-listen =' "$CONF" || fail "no empty http-01-listen in $CONF"

rc=0
"$ACME_RENEWD" --check-config -c "$CONF" >"$T/check.out" 2>&1 </dev/null || rc=$?
assert_eq "--check-config of a webroot-only config ($(cat "$T/check.out"))" 0 "$rc"

daemon_start
wait_state blog valid 60
tcp=$(ss -Htlnp | grep -F "pid=$DAEMON_PID," || true)
assert_eq "TCP sockets the daemon listens on" "" "$tcp"

# A standalone http-01 certificate and a tls-alpn-01 one: both lines named.
cp "$CONF" "$T/good.conf"
cat >>"$CONF" <<EOF

[certificate www]
domains = www.example.test
ca = pebble

[certificate edge]
domains = edge.example.test
ca = pebble
challenge = tls-alpn-01
EOF
http_line=$(grep -n '^http-01-listen =$' "$CONF" | cut -d: -f1)
alpn_line=$(grep -n '^tls-alpn-01-listen =$' "$CONF" | cut -d: -f1)
www_line=$(grep -n '^\[certificate www\]$' "$CONF" | cut -d: -f1)
edge_line=$(grep -n '^challenge = tls-alpn-01$' "$CONF" | cut -d: -f1)
want="$CONF:$www_line: [certificate www]: http-01 without webroot needs http-01-listen, which is off ($CONF:$http_line)
$CONF:$edge_line: challenge: tls-alpn-01 needs tls-alpn-01-listen, which is off ($CONF:$alpn_line)"

rc=0
"$ACME_RENEWD" --check-config -c "$CONF" >"$T/check.out" 2>"$T/check.err" </dev/null || rc=$?
assert_no_sanitizer_report "$T/check.err"
assert_eq "--check-config with listeners off that certificates need" 1 "$rc"
assert_eq "--check-config's errors" "$want" "$(cat "$T/check.err")"

rc=0
"$ACMECTL" -s "$SOCK" reload >"$T/reload.out" 2>"$T/reload.err" </dev/null || rc=$?
assert_eq "acmectl reload exit status" 1 "$rc"
reply=$(cat "$T/reload.out" "$T/reload.err")
assert_contains "reload refusal" "$CONF:$www_line: [certificate www]: http-01 without webroot needs http-01-listen, which is off ($CONF:$http_line)" "$reply"
assert_contains "reload refusal" "$CONF:$edge_line: challenge: tls-alpn-01 needs tls-alpn-01-listen, which is off ($CONF:$alpn_line)" "$reply"
assert_eq "certificates after the refused reload" blog \
	"$("$ACMECTL" -s "$SOCK" --json status | jq -r '[.certificates[].name] | join(" ")')"
assert_eq "state of blog after the refused reload" valid "$(cert_field blog state)"
daemon_stop
