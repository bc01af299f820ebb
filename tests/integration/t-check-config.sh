#!/bin/bash
# --check-config validates and exits: 0 for a good config, 1 with
# FILE:LINE: and the key for a bad one.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

check() {
	local rc=0
	"$ACME_RENEWD" --check-config -c "$1" >"$T/check.out" 2>"$T/check.err" </dev/null || rc=$?
	assert_no_sanitizer_report "$T/check.err"
	echo "$rc"
}

# A good config; no CA needs to run for this.
minica "$T/minica"
write_config --directory https://127.0.0.1:14000/dir --trust-bundle "$T/minica/ca.pem"
rc=$(check "$CONF")
assert_eq "--check-config exit status on a good config (stderr: $(cat "$T/check.err"))" 0 "$rc"
if grep -Eiq 'error|warn|fatal|unknown|invalid|not supported' "$T/check.out" "$T/check.err"; then
	fail "--check-config on a good config printed: $(cat "$T/check.out" "$T/check.err")"
fi
[ ! -e "$SOCK" ] || fail "--check-config created the control socket"

# An unknown key in [certificate www], on a known line.
bad=$T/unknown-key.conf
cp "$CONF" "$bad"
echo "frobnicate-level = 11" >>"$bad"
line=$(wc -l <"$bad")
rc=$(check "$bad")
assert_eq "--check-config exit status with an unknown key" 1 "$rc"
err=$(cat "$T/check.err")
assert_contains "stderr for an unknown key" "$bad:$line:" "$err"
assert_contains "stderr for an unknown key" frobnicate-level "$err"

# A certificate that names a CA with no [ca] section.
missing=$T/missing-ca.conf
write_config --directory https://127.0.0.1:14000/dir --trust-bundle "$T/minica/ca.pem" \
	--out "$missing" --append "[certificate other]
domains = c.example.test
ca = nosuchca"
rc=$(check "$missing")
assert_eq "--check-config exit status with a missing [ca]" 1 "$rc"
err=$(cat "$T/check.err")
assert_contains "stderr for a missing [ca]" nosuchca "$err"
assert_contains "stderr for a missing [ca]" "$missing:" "$err"
