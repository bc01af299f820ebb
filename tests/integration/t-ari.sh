#!/bin/bash
# ACME Renewal Information (RFC 9773).  Pebble 2.4 has no renewalInfo, so
# a small front of ours (busybox httpd with two CGI scripts) serves a
# directory that is Pebble's plus "renewalInfo", and answers renewalInfo
# with a window this test controls (Retry-After: 5).  The daemon must ask
# for the right certificate ID (AKI keyIdentifier . serial), renew inside
# a window moved near, send "replaces", and renew at once when the window
# is moved into the past (the CA's signal after a mass revocation).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

command -v busybox >/dev/null || fail "busybox is not installed"
pebble_start
FRONT_PORT=$(free_port)
front=$T/front
mkdir -p "$front/cgi-bin"
windows=$T/windows	# one file per certificate ID, else "default"
requests=$T/ari-requests
mkdir -p "$windows"

set_window() {	# set_window ID START-OFFSET END-OFFSET (seconds from now)
	local now
	now=$(date -u +%s)
	printf '{"suggestedWindow": {"start": "%s", "end": "%s"}}\n' \
		"$(date -u -d "@$((now + $2))" +%FT%TZ)" \
		"$(date -u -d "@$((now + $3))" +%FT%TZ)" >"$windows/.tmp"
	mv "$windows/.tmp" "$windows/$1"
}

# The certificate ID (RFC 9773 §4.1) of the certificate in service,
# computed from the certificate itself.
b64url() { basenc --base64url | tr -d '=\n'; }
cert_ari_id() {
	local pem=$1 aki serial
	aki=$(openssl x509 -in "$pem" -noout -ext authorityKeyIdentifier |
		tail -n +2 | sed 's/^ *//; s/keyid://; s/://g' | head -1)
	serial=$(openssl x509 -in "$pem" -noout -serial | sed 's/serial=//')
	[ $((${#serial} % 2)) -eq 0 ] || serial=0$serial
	case $serial in [89A-Fa-f]*) serial=00$serial ;; esac
	echo "$(printf '%s' "$aki" | xxd -r -p | b64url).$(printf '%s' \
		"$serial" | xxd -r -p | b64url)"
}

# The CGI scripts, with this test's values written in.
{
	echo '#!/bin/sh'
	echo "printf 'Content-Type: application/json\\r\\n\\r\\n'"
	echo "curl -fsS --cacert '$PEBBLE_CA' '$PEBBLE_DIR_URL' |"
	echo "	jq --arg u 'http://127.0.0.1:$FRONT_PORT/cgi-bin/ari' '. + {renewalInfo: \$u}'"
} >"$front/cgi-bin/dir"
{
	echo '#!/bin/sh'
	echo "echo \"\$PATH_INFO\" >>'$requests'"
	echo "f='$windows'/\"\${PATH_INFO#/}\""
	echo "[ -f \"\$f\" ] || f='$windows/default'"
	echo "printf 'Content-Type: application/json\\r\\nRetry-After: 5\\r\\n\\r\\n'"
	echo "cat \"\$f\""
} >"$front/cgi-bin/ari"
chmod 755 "$front/cgi-bin/dir" "$front/cgi-bin/ari"
set_window default $((1000 * 86400)) $((1001 * 86400))
spawn "$T/front.log" busybox httpd -f -p "127.0.0.1:$FRONT_PORT" -h "$front"
wait_port "$FRONT_PORT" 10 || fail "the ARI front did not start"
curl -fsS "http://127.0.0.1:$FRONT_PORT/cgi-bin/dir" | jq -e .renewalInfo >/dev/null ||
	fail "the ARI front serves no directory with renewalInfo"

write_config --name www --domains "a.example.test" \
	--directory "http://127.0.0.1:$FRONT_PORT/cgi-bin/dir"
daemon_start
wait_state www valid 60
cur=$(cert_dir www)/current

want_id=$(cert_ari_id "$cur/cert.pem")

for _ in $(seq 100); do grep -q . "$requests" 2>/dev/null && break; sleep 0.1; done
assert_eq "renewalInfo path asked for" "/$want_id" "$(head -1 "$requests" 2>/dev/null)"

# show reports the window, and the renewal stays far away.
for _ in $(seq 50); do
	[ -n "$(acmectl --json show www | jq -r '.ari_window.start // empty')" ] && break
	sleep 0.2
done
js=$(acmectl --json show www)
assert_eq "ari_window.start" "$(jq -r .suggestedWindow.start "$windows/default")" \
	"$(jq -r .ari_window.start <<<"$js")"
assert_eq "ari_window.end" "$(jq -r .suggestedWindow.end "$windows/default")" \
	"$(jq -r .ari_window.end <<<"$js")"
next=$(to_epoch "$(jq -r .next_renewal <<<"$js")")
[ "$next" -ge $(($(date +%s) + 999 * 86400)) ] ||
	fail "next renewal $next is not inside the CA's far window"

# The CA moves this certificate's window near: renewed inside it, v2.
set_window "$want_id" 8 15
deadline=$((SECONDS + 40))
until [ "$(readlink "$cur")" = v2 ]; do
	[ "$SECONDS" -lt "$deadline" ] || fail "no renewal inside the near window"
	daemon_alive || fail "daemon died"
	sleep 0.3
done
grep -q "replaces $want_id" "$T/daemon.log" ||
	fail "newOrder did not carry replaces $want_id"

# The CA moves v2's window into the past: renewed at once, v3.
wait_state www valid 30
set_window "$(cert_ari_id "$cur/cert.pem")" -60 -30
deadline=$((SECONDS + 30))
until [ "$(readlink "$cur")" = v3 ]; do
	[ "$SECONDS" -lt "$deadline" ] || fail "a window in the past did not renew at once"
	daemon_alive || fail "daemon died"
	sleep 0.3
done
grep -q "already past: renewing now" "$T/daemon.log" ||
	fail "the log does not say the window is past"
out=$(openssl verify -CAfile "$PEBBLE_ROOT" -untrusted "$cur/chain.pem" \
	"$cur/cert.pem" 2>&1) || fail "openssl verify: $out"
daemon_stop
