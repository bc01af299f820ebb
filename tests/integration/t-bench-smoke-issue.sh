#!/bin/bash
# A small run of the issuing benchmarks (bench/first-cert.sh, one run of
# acme-renewd's two set-ups; bench/fleet.sh, 20 certificates at
# max-parallel 32), so they keep working from a clean clone.  Correctness
# only, never speed: each must exit 0 (every certificate issued) and its
# result file must say so.  The peers (uacme, certbot, lego) are for the
# real runs by hand, see bench/README.md.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

bench=$LIB_SRCDIR/../../bench
results=$T/results	# run_bench puts them there

run_bench first-cert env CLIENTS="renewd-webroot renewd-standalone" \
	"$bench/first-cert.sh" 1
for c in renewd-webroot renewd-standalone; do
	grep -Eq "^$c +1/1 " "$T/first-cert.out" ||
		fail "first-cert: no successful run of $c: $(grep -E "^$c" "$T/first-cert.out")"
done

run_bench fleet env CLIENTS=renewd-mp32 STALL_SECONDS=60 "$bench/fleet.sh" 20
grep -Eq '^renewd-mp32 +20/20 ' "$T/fleet.out" ||
	fail "fleet: not 20/20 issued: $(grep -E '^renewd-mp32' "$T/fleet.out")"
grep -q 'user .* ms + kernel .* ms per certificate' "$T/fleet.out" ||
	fail "fleet: no CPU split line"
ls "$results"/first-cert-*.txt "$results"/fleet-20-*.txt >/dev/null ||
	fail "no result files in $results"
