#!/bin/bash
# A small run of the idle and control-socket benchmarks (bench/idle.sh with
# 500 seeded certificates, bench/control.sh with 10 renewals under status
# load), so they keep working from a clean clone.  Correctness only, never
# speed: each exits 0 only when every status request and scrape was
# answered and (idle) the scrape covered all 500 certificates.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

bench=$LIB_SRCDIR/../../bench

run_bench idle env IDLE_SECONDS=2 STRACE_SECONDS=1 REPEAT=2 "$bench/idle.sh" 500
grep -Eq 'acmectl status \(table\) +median .*\(500 rows\)' "$T/idle.out" ||
	fail "idle: the status table does not list 500 certificates: $(grep 'acmectl status' "$T/idle.out")"
grep -q '500 certificates)' "$T/idle.out" ||
	fail "idle: the scrape does not cover 500 certificates"

run_bench control env NCERTS=10 CLIENTS=20 PER_CLIENT=5 VA_SLEEP=1 "$bench/control.sh"
grep -q 'force-renew succeeded: 10 of 10; valid at the end: 10' "$T/control.out" ||
	fail "control: not all 10 renewals succeeded: $(tail -n 5 "$T/control.out")"
