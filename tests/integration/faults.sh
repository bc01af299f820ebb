# shellcheck shell=bash
# tests/integration/faults.sh: what the t-ca-faults-*.sh tests share.
# Source it after lib.sh.
#
# faults_setup issues a certificate "www" through the fault-injecting proxy
# (tests/helpers/acmeproxy.py) in front of Pebble.  Each test then turns
# one fault on with acmeproxy_fault and calls
#
#	expect_failure WHAT ERE MIN MAX    # the renewal fails as it should
#	expect_recovery WHAT               # and succeeds once the CA behaves
#
# (expect_backoff WHAT ERE MIN MAX checks an attempt made otherwise.)
#
# A failure must leave the daemon up and answering, the certificate in
# service untouched (same version and serial, still verifying up to
# Pebble's root, still matching its key), the certificate in backoff after
# one failure, its next attempt MIN..MAX seconds after the failed one ended
# (DESIGN.md: 1 min +-10 %, or the CA's Retry-After), and last_error, in
# status and in show, matching ERE (the cause, precisely).

# faults_setup [write_config options...]
faults_setup() {
	pebble_start
	acmeproxy_start
	write_config --name www --domains "a.example.test b.example.test" \
		--directory "$ACMEPROXY_DIR_URL" "$@"
	daemon_start
	wait_state www valid 60
	FAULTS_STATE=$(cert_dir www)/state.json
	faults_remember
}

# The certificate in service, to compare with after a failure.
faults_remember() {
	local cur

	cur=$(cert_dir www)/current
	FAULTS_VERSION=$(readlink "$cur")
	FAULTS_SERIAL=$(openssl x509 -in "$cur/cert.pem" -noout -serial)
}

# faults_cert_kept WHAT: the remembered certificate is in service, verifies
# up to Pebble's root and matches its key.
faults_cert_kept() {
	local cur out kpub cpub

	cur=$(cert_dir www)/current
	assert_eq "$1: current ->" "$FAULTS_VERSION" "$(readlink "$cur")"
	assert_eq "$1: serial in service" "$FAULTS_SERIAL" \
		"$(openssl x509 -in "$cur/cert.pem" -noout -serial)"
	out=$(openssl verify -CAfile "$PEBBLE_ROOT" -untrusted "$cur/chain.pem" \
		"$cur/cert.pem" 2>&1) ||
		fail "$1: the certificate in service does not verify: $out"
	kpub=$(openssl pkey -in "$cur/privkey.pem" -pubout)
	cpub=$(openssl x509 -in "$cur/cert.pem" -noout -pubkey)
	assert_eq "$1: the key of the certificate in service" "$cpub" "$kpub"
}

# expect_failure WHAT ERE MIN MAX: see the top of this file.
expect_failure() {
	local rc=0

	acmectl force-renew www >"$T/force-renew.out" 2>&1 || rc=$?
	assert_eq "$1: force-renew exit status ($(tr '\n' ' ' <"$T/force-renew.out"))" 1 "$rc"
	expect_backoff "$@"
}

# expect_backoff WHAT ERE MIN MAX: the checks of expect_failure, after an
# attempt that failed.
expect_backoff() {
	local what=$1 re=$2 min=$3 max=$4 js err next fin gap

	daemon_alive || fail "$what: the daemon exited"
	js=$(status_json)
	[ -n "$js" ] || fail "$what: acmectl status got no answer"
	js=$(jq -c '.certificates[] | select(.name == "www")' <<<"$js")
	assert_eq "$what: state" backoff "$(jq -r .state <<<"$js")"
	assert_eq "$what: failures" 1 "$(jq -r .failures <<<"$js")"
	err=$(jq -r .last_error <<<"$js")
	assert_match "$what: last_error in status" "$re" "$err"
	assert_match "$what: last_error in show" "$re" \
		"$(acmectl --json show www | jq -r .last_error)"
	next=$(to_epoch "$(jq -r .next_renewal "$FAULTS_STATE")")
	fin=$(to_epoch "$(jq -r '.history[0].finished' "$FAULTS_STATE")")
	assert_eq "$what: next_renewal in status vs state.json" "$next" \
		"$(to_epoch "$(jq -r .next_renewal <<<"$js")")"
	gap=$((next - fin))
	[ "$gap" -ge "$min" ] && [ "$gap" -le "$max" ] ||
		fail "$what: next attempt $gap s after the failed one, expected $min..$max"
	faults_cert_kept "$what"
	log "$what: retry in $gap s; last_error: $err"
}

# expect_recovery WHAT: with every fault cleared, force-renew installs a
# new certificate and the failures are forgotten.
expect_recovery() {
	local what="$1, then the CA recovers"

	acmeproxy_clear
	acmectl force-renew www >"$T/force-renew.out" 2>&1 ||
		fail "$what: force-renew failed: $(cat "$T/force-renew.out")"
	assert_eq "$what: state" valid "$(cert_field www state)"
	assert_eq "$what: failures" 0 "$(cert_field www failures)"
	assert_ne "$what: current ->" "$FAULTS_VERSION" \
		"$(readlink "$(cert_dir www)/current")"
	faults_remember
	faults_cert_kept "$what"
}
