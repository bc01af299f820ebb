#!/bin/bash
# acmectl's certificate commands against Pebble, as an operator uses them:
# `show` tells the truth about the installed certificate, `show` of an
# unknown name fails, `force-renew` returns only once a new certificate is
# installed, `renew` leaves a valid certificate alone, `renew --no-wait`
# returns at once and the renewal runs on, an unknown command is a usage
# error, and `version --json` names the daemon it talked to.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

# run ARGS...: acmectl with stdout in $T/out, stderr in $T/err; prints
# its exit status.
run() {
	local rc=0

	"$ACMECTL" -s "$SOCK" "$@" >"$T/out" 2>"$T/err" </dev/null || rc=$?
	assert_no_sanitizer_report "$T/err"
	echo "$rc"
}

# norm_serial HEX: upper case, no leading zeros (openssl pads to bytes).
norm_serial() {
	local s

	s=$(printf '%s' "$1" | tr a-f A-F | sed 's/^0*//')
	echo "${s:-0}"
}

file_serial() {
	norm_serial "$(openssl x509 -in "$1" -noout -serial | sed 's/^serial=//')"
}

pebble_start
write_config --name www --domains "a.example.test b.example.test"
daemon_start
wait_state www valid 60
cur=$(cert_dir www)/current

# --- show: everything matches the installed cert.pem --------------------
assert_eq "acmectl --json show www: exit status" 0 "$(run --json show www)"
js=$(cat "$T/out")
jq -e . >/dev/null <<<"$js" || fail "show --json printed no JSON: $js"
assert_eq "show: name" www "$(jq -r .name <<<"$js")"
assert_eq "show: state" valid "$(jq -r .state <<<"$js")"

serial=$(jq -r '.certificate.serial // .serial' <<<"$js")
assert_eq "show: serial vs openssl x509 -serial of current/cert.pem" \
	"$(file_serial "$cur/cert.pem")" "$(norm_serial "$serial")"

issuer_cn=$(openssl x509 -in "$cur/cert.pem" -noout -issuer -nameopt RFC2253 |
	sed -n 's/^issuer=.*CN=\([^,]*\).*/\1/p')
[ -n "$issuer_cn" ] || fail "cannot read the issuer CN of $cur/cert.pem"
assert_contains "show: issuer" "$issuer_cn" \
	"$(jq -r '.certificate.issuer // .issuer' <<<"$js")"

assert_eq "show: key type" ec-p256 \
	"$(jq -r '.certificate.key_type // .key_type' <<<"$js")"

nb=$(openssl x509 -in "$cur/cert.pem" -noout -startdate | sed 's/^notBefore=//')
na=$(openssl x509 -in "$cur/cert.pem" -noout -enddate | sed 's/^notAfter=//')
assert_eq "show: not_before (epoch) vs cert.pem" "$(to_epoch "$nb")" \
	"$(to_epoch "$(jq -r '.certificate.not_before // .not_before' <<<"$js")")"
assert_eq "show: not_after (epoch) vs cert.pem" "$(to_epoch "$na")" \
	"$(to_epoch "$(jq -r '.certificate.not_after // .not_after' <<<"$js")")"

nhist=$(jq -r '.history | length' <<<"$js")
[ "$nhist" -ge 1 ] 2>/dev/null || fail "show: history: expected at least one attempt, got '$nhist'"
assert_eq "show: every attempt so far succeeded (history[].ok)" true \
	"$(jq -r '[.history[].ok] | all' <<<"$js")"

# The text form names the same serial.
assert_eq "acmectl show www: exit status" 0 "$(run show www)"
assert_imatch "show (text) mentions the serial" "$(norm_serial "$serial")" "$(cat "$T/out")"

# --- show of a name that does not exist --------------------------------
assert_eq "acmectl show nosuchcert: exit status" 1 "$(run show nosuchcert)"
assert_contains "acmectl show nosuchcert: stderr" not_found "$(cat "$T/err")"

# --- force-renew: waits until a new certificate is installed -----------
old=$(file_serial "$cur/cert.pem")
assert_eq "acmectl force-renew www: exit status" 0 "$(run force-renew www)"
# No waiting here: it must already be installed when acmectl returns.
assert_eq "current after force-renew" v2 "$(readlink "$cur")"
new=$(file_serial "$cur/cert.pem")
assert_ne "serial after force-renew" "$old" "$new"
assert_eq "show: serial after force-renew" "$new" \
	"$(norm_serial "$(acmectl --json show www | jq -r '.certificate.serial // .serial')")"
assert_eq "state after force-renew" valid "$(cert_field www state)"

# --- renew without force on a valid certificate: nothing started -------
assert_eq "acmectl --json renew www (valid, not due): exit status" 0 \
	"$(run --json renew www)"
assert_eq "renew of a valid certificate: started" false "$(jq -r .started "$T/out")"
assert_eq "current after a renew that did not start" v2 "$(readlink "$cur")"

# --- unknown command: usage error, not a daemon error --------------------
assert_eq "acmectl frobnicate: exit status" 2 "$(run frobnicate)"
[ -s "$T/err" ] || fail "acmectl frobnicate printed nothing on stderr"

# --- version --json: the daemon's pid ----------------------------------
assert_eq "acmectl --json version: exit status" 0 "$(run --json version)"
assert_eq "pid in version --json" "$DAEMON_PID" "$(jq -r .pid "$T/out")"

# --- renew --no-wait: returns at once, the renewal runs on ---------------
# A certificate that is due: make the next attempt fail by taking Pebble's
# DNS (pebble-challtestsrv) away, so the certificate lands in backoff.
kill -TERM "$CHALLTESTSRV_PID"
wait "$CHALLTESTSRV_PID" 2>/dev/null || true
lib_forget_pid "$CHALLTESTSRV_PID"
rc=$(run force-renew www)
assert_eq "force-renew while the CA cannot validate: exit status" 1 "$rc"
state=$(cert_field www state)
case $state in
backoff|failed) ;;
*) fail "state after a failed renewal: expected backoff or failed, got '$state'" ;;
esac

# DNS back, on the same port, so the next attempt can succeed.
spawn "$T/challtestsrv.log" pebble-challtestsrv \
	-dns01 "127.0.0.1:$DNS_PORT" -http01 "" -https01 "" -tlsalpn01 "" \
	-management "127.0.0.1:$CHALLTESTSRV_PORT" \
	-defaultIPv4 127.0.0.1 -defaultIPv6 ""
wait_port "$CHALLTESTSRV_PORT" 10 || fail "pebble-challtestsrv did not restart"

# Every event from here on: the renewal must be seen to run and end.
spawn "$T/watch.json" "$ACMECTL" -s "$SOCK" --json watch
watch_pid=$LAST_PID
# Ready once the daemon logged its watch request (debug log).
for _ in $(seq 50); do
	grep -q "pid $watch_pid uid [0-9]*): watch" "$T/daemon.log" && break
	sleep 0.1
done

t0=$(now_ms)
assert_eq "acmectl --json renew www --no-wait: exit status" 0 \
	"$(run --json renew www --no-wait)"
t1=$(now_ms)
assert_eq "renew --no-wait of a certificate in $state: started" true \
	"$(jq -r .started "$T/out")"
[ $((t1 - t0)) -lt "$(scaled 2000)" ] ||
	fail "renew --no-wait took $((t1 - t0)) ms: expected it to return at once"
# (Not "current is still v2 now": against a local Pebble the whole renewal
# can be over before this shell gets to look.)

wait_state www valid 60
assert_eq "current after the --no-wait renewal" v3 "$(readlink "$cur")"
# The watcher saw it: renewing first, valid at the end.
for _ in $(seq 50); do
	grep -q '"state": *"valid"' "$T/watch.json" && break
	sleep 0.1
done
kill -TERM "$watch_pid" 2>/dev/null || true
states=$(jq -r 'select(.event == "renewal" and .name == "www") | .state' \
	"$T/watch.json" 2>/dev/null | uniq | tr '\n' ' ')
assert_match "states of www seen by watch after renew --no-wait" \
	'^renewing .*valid $' "$states"
assert_ne "serial after the --no-wait renewal" "$new" "$(file_serial "$cur/cert.pem")"

daemon_stop
