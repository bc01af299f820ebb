#!/bin/bash
# The shipped Prometheus alert rules: `promtool check rules` accepts them,
# they hold the four documented alerts, and the `promtool test rules`
# cases in tests/prometheus/ (each alert firing, and staying quiet) pass.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

rules=$SRCDIR/etc/prometheus/acme-renewd-alerts.yml
tests=$SRCDIR/tests/prometheus/acme-renewd-alerts.test.yml
assert_file "$rules"
assert_file "$tests"
command -v promtool >/dev/null || fail "promtool is not installed (package prometheus)"

out=$(promtool check rules "$rules" 2>&1) || fail "promtool check rules: $out"
assert_contains "promtool check rules" "SUCCESS: 4 rules found" "$out"
for a in AcmeRenewdCertificateExpiringSoon AcmeRenewdRenewalFailing \
	AcmeRenewdCertificateFailedOrExpired AcmeRenewdDown; do
	grep -qE "^ *- alert: $a\$" "$rules" || fail "$rules: no alert $a"
	# Every alert is tested, firing and quiet.
	[ "$(grep -cE "^ *alertname: $a\$" "$tests")" -ge 2 ] ||
		fail "$tests: alert $a is not tested at two points"
done

out=$(promtool test rules "$tests" 2>&1) || fail "promtool test rules: $out"
assert_contains "promtool test rules" "SUCCESS" "$out"
