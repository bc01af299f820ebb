#!/bin/bash
# failure-hook runs after each failed renewal attempt with the hook
# environment plus ACME_RENEWD_ERROR (naming what failed: here the CA's
# URL) and ACME_RENEWD_FAILURES (consecutive failures), so an operator
# can page someone without Prometheus.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

HOOKS=$LIB_SRCDIR/hooks
REC=$T/failure-runs

rec_get() {
	sed -n "s/^$2=//p" "$REC/run.$1.env" | head -n 1
}

wait_runs() {
	local n=$1 deadline=$((SECONDS + $2))

	until [ -f "$REC/run.$n.env" ] && grep -qx 'END=1' "$REC/run.$n.env"; do
		daemon_alive || fail "daemon exited while waiting for failure-hook run $n"
		[ "$SECONDS" -lt "$deadline" ] ||
			fail "failure hook: expected $n recorded runs within $2 s, found $(ls "$REC" 2>/dev/null | wc -l)"
		sleep 0.2
	done
}

port=$(free_port)
url=https://127.0.0.1:$port/dir
write_config --name www --domains "a.example.test b.example.test" \
	--ca nowhere --directory "$url" --trust-bundle "" \
	--cert-line "failure-hook = $HOOKS/record.sh $REC paged"
daemon_start
wait_runs 1 20
assert_eq "run 1: argv" paged "$(rec_get 1 ARG1)"
assert_eq "run 1: ACME_RENEWD_NAME" www "$(rec_get 1 ACME_RENEWD_NAME)"
assert_eq "run 1: ACME_RENEWD_DOMAINS" "a.example.test b.example.test" \
	"$(rec_get 1 ACME_RENEWD_DOMAINS)"
assert_eq "run 1: ACME_RENEWD_FAILURES" 1 "$(rec_get 1 ACME_RENEWD_FAILURES)"
assert_contains "run 1: ACME_RENEWD_ERROR" "$url" "$(rec_get 1 ACME_RENEWD_ERROR)"
assert_eq "run 1: ACME_RENEWD_ERROR vs status last_error" \
	"$(cert_field www last_error)" "$(rec_get 1 ACME_RENEWD_ERROR)"

# Another attempt now: another failure, another run, FAILURES=2.
acmectl renew www >"$T/renew.out" 2>&1 || true
wait_runs 2 20
assert_eq "run 2: ACME_RENEWD_FAILURES" 2 "$(rec_get 2 ACME_RENEWD_FAILURES)"
assert_contains "run 2: ACME_RENEWD_ERROR" "$url" "$(rec_get 2 ACME_RENEWD_ERROR)"
assert_eq "run 2: ACME_RENEWD_NAME" www "$(rec_get 2 ACME_RENEWD_NAME)"
sleep 1
n=$(find "$REC" -name 'run.*.env' | wc -l)
assert_eq "failure-hook runs after two failed attempts" 2 "$n"
assert_eq "status failures" 2 "$(cert_field www failures)"

daemon_stop
