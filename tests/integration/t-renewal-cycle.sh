#!/bin/bash
# With 90 s certificates from Pebble the daemon renews on its own, with
# nobody asking: the certificate is replaced (new serial, current -> v2)
# before the first one expires, and the deploy hook ran after each install
# with the environment of DESIGN.md ("Hooks"), at a moment when the key
# and the certificate it was handed belong together.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

HOOKS=$LIB_SRCDIR/hooks
REC=$T/deploy-runs

# rec_get N VAR: VAR from the record of the Nth deploy-hook run
rec_get() {
	sed -n "s/^$2=//p" "$REC/run.$1.env" | head -n 1
}

# wait_runs N SECS: until the hook finished recording N runs
wait_runs() {
	local n=$1 deadline=$((SECONDS + $2))

	until [ -f "$REC/run.$n.env" ] && grep -qx 'END=1' "$REC/run.$n.env"; do
		[ "$SECONDS" -lt "$deadline" ] ||
			fail "deploy hook: expected $n recorded runs within $2 s, found $(ls "$REC" 2>/dev/null | wc -l)"
		sleep 0.2
	done
}

PEBBLE_CONFIG_EXTRA='"certificateValidityPeriod": 90' pebble_start
write_config --name www --domains "a.example.test b.example.test" \
	--cert-line "deploy-hook = $HOOKS/record.sh $REC first-arg"
daemon_start
wait_state www valid 60

d=$(cert_dir www)
assert_eq "current after issuance" v1 "$(readlink "$d/current")"
serial1=$(openssl x509 -in "$d/current/cert.pem" -noout -serial)
na1=$(to_epoch "$(openssl x509 -in "$d/current/cert.pem" -noout -enddate | sed 's/^notAfter=//')")
nb1=$(to_epoch "$(openssl x509 -in "$d/current/cert.pem" -noout -startdate | sed 's/^notBefore=//')")
life=$((na1 - nb1))
[ "$life" -ge 80 ] && [ "$life" -le 100 ] ||
	fail "Pebble's certificate lifetime: expected ~90 s, got $life s (certificateValidityPeriod not applied?)"
wait_runs 1 15

# The renewal is the daemon's own doing: wait for v2, without any acmectl
# command, at most 80 s, and it must be in place before the first expires.
deadline=$((SECONDS + 80))
while [ "$(readlink "$d/current")" = v1 ]; do
	daemon_alive || fail "daemon exited while waiting for the renewal"
	[ "$SECONDS" -lt "$deadline" ] || {
		status_json >&2
		fail "the certificate was not renewed on its own within 80 s of issuance (lifetime $life s)"
	}
	sleep 0.5
done
swapped=$(date +%s)
assert_eq "current after the renewal" v2 "$(readlink "$d/current")"
[ "$swapped" -lt "$na1" ] ||
	fail "renewed at $(date -u -d "@$swapped" +%T), not before the first certificate's notAfter $(date -u -d "@$na1" +%T)"
serial2=$(openssl x509 -in "$d/current/cert.pem" -noout -serial)
assert_ne "serial after the renewal" "$serial1" "$serial2"
out=$(openssl verify -CAfile "$PEBBLE_ROOT" -untrusted "$d/current/chain.pem" \
	"$d/current/cert.pem" 2>&1) || fail "the renewed certificate does not verify: $out"
assert_eq "public key of the renewed privkey.pem vs cert.pem" \
	"$(openssl x509 -in "$d/current/cert.pem" -noout -pubkey)" \
	"$(openssl pkey -in "$d/current/privkey.pem" -pubout)"
wait_state www valid 15

# The deploy hook ran once per install, each time with the full environment.
wait_runs 2 15
sleep 2		# a third run would be a bug: give it the time to show
n=$(find "$REC" -name 'run.*.env' | wc -l)
assert_eq "deploy hook runs (issuance + one renewal)" 2 "$n"
for i in 1 2; do
	assert_eq "run $i: argv" "first-arg" "$(rec_get $i ARG1)"
	assert_eq "run $i: ACME_RENEWD_NAME" www "$(rec_get $i ACME_RENEWD_NAME)"
	assert_eq "run $i: ACME_RENEWD_DOMAINS" "a.example.test b.example.test" \
		"$(rec_get $i ACME_RENEWD_DOMAINS)"
	assert_eq "run $i: ACME_RENEWD_CERT_DIR" "$d/current" "$(rec_get $i ACME_RENEWD_CERT_DIR)"
	assert_eq "run $i: ACME_RENEWD_CERT_DIR existed" yes "$(rec_get $i EXISTS_CERT_DIR)"
	for v in CERT KEY FULLCHAIN CHAIN; do
		[ -n "$(rec_get $i ACME_RENEWD_$v)" ] ||
			fail "run $i: ACME_RENEWD_$v is not set: $(cat "$REC/run.$i.env")"
		assert_eq "run $i: file ACME_RENEWD_$v ($(rec_get $i ACME_RENEWD_$v)) existed" \
			yes "$(rec_get $i EXISTS_$v)"
	done
	assert_eq "run $i: ACME_RENEWD_KEY matched ACME_RENEWD_CERT at hook time" \
		yes "$(rec_get $i KEY_MATCH)"
done
assert_eq "serial the first deploy hook saw" "$serial1" "$(rec_get 1 SERIAL)"
assert_eq "serial the second deploy hook saw" "$serial2" "$(rec_get 2 SERIAL)"

daemon_stop
