#!/bin/bash
# `acmectl revoke www --reason keyCompromise` after a key compromise: Pebble
# (its management interface) reports the old serial revoked with reason 1,
# and a new certificate with another serial is installed.  A reason that
# RFC 5280 does not name is refused as bad_request.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

run() {
	local rc=0

	"$ACMECTL" -s "$SOCK" "$@" >"$T/out" 2>"$T/err" </dev/null || rc=$?
	assert_no_sanitizer_report "$T/err"
	echo "$rc"
}

# serial of a PEM file: lower-case hex without leading zeros (how Pebble's
# management interface spells it)
file_serial() {
	local s

	s=$(openssl x509 -in "$1" -noout -serial | sed 's/^serial=//' |
		tr A-F a-f | sed 's/^0*//')
	echo "${s:-0}"
}

# pebble_cert_status SERIAL: Pebble's view of that certificate (JSON)
pebble_cert_status() {
	curl -fsS --cacert "$PEBBLE_CA" \
		"https://127.0.0.1:$PEBBLE_MGMT_PORT/cert-status-by-serial/$1"
}

pebble_start
write_config --name www
daemon_start
wait_state www valid 60
cur=$(cert_dir www)/current
old=$(file_serial "$cur/cert.pem")

st=$(pebble_cert_status "$old") || fail "Pebble does not know serial $old"
assert_eq "Pebble's status of the certificate before revoke" Valid \
	"$(jq -r .Status <<<"$st")"

# A reason RFC 5280 does not name: refused, nothing revoked.
assert_eq "acmectl revoke www --reason bogus: exit status" 1 \
	"$(run revoke www --reason bogus)"
assert_contains "acmectl revoke --reason bogus: stderr" bad_request "$(cat "$T/err")"
assert_eq "Pebble's status after a refused revoke" Valid \
	"$(pebble_cert_status "$old" | jq -r .Status)"

# The real thing.
assert_eq "acmectl revoke www --reason keyCompromise: exit status" 0 \
	"$(run revoke www --reason keyCompromise)"
# The answer comes once the CA has revoked it: no waiting here.
st=$(pebble_cert_status "$old") || fail "Pebble does not know serial $old any more"
assert_eq "Pebble's status of the revoked serial $old" Revoked "$(jq -r .Status <<<"$st")"
assert_eq "Pebble's revocation reason (1 = keyCompromise)" 1 "$(jq -r .Reason <<<"$st")"

# Then a new certificate is issued and installed.
deadline=$((SECONDS + 45))
while :; do
	new=$(file_serial "$cur/cert.pem" 2>/dev/null || true)
	[ -n "$new" ] && [ "$new" != "$old" ] &&
		[ "$(cert_field www state)" = valid ] && break
	daemon_alive || fail "daemon exited after revoke"
	[ "$SECONDS" -lt "$deadline" ] ||
		fail "no new certificate within 45 s of revoke (current serial $new, state $(cert_field www state))"
	sleep 0.2
done
assert_eq "current after revoke" v2 "$(readlink "$cur")"
assert_eq "Pebble's status of the new serial $new" Valid \
	"$(pebble_cert_status "$new" | jq -r .Status)"
out=$(openssl verify -CAfile "$PEBBLE_ROOT" -untrusted "$cur/chain.pem" \
	"$cur/cert.pem" 2>&1) || fail "the new certificate does not verify: $out"
assert_eq "show: serial after revoke" "$new" \
	"$(acmectl --json show www | jq -r '.certificate.serial // .serial' |
		tr A-F a-f | sed 's/^0*//')"

daemon_stop
