#!/bin/bash
# 200 `acmectl status` at once while a renewal runs (Pebble's VA sleeping,
# so the renewal takes a while): every one exits 0 and prints the table,
# the renewal still succeeds, and the daemon is alive afterwards.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

N=200

pebble_start PEBBLE_VA_NOSLEEP= PEBBLE_VA_SLEEPTIME=3
write_config --name www
LOG_LEVEL=info daemon_start
wait_state www valid 60
cur=$(cert_dir www)/current

spawn "$T/renew.out" "$ACMECTL" -s "$SOCK" force-renew www
renewer=$LAST_PID
wait_state www renewing 10

mkdir "$T/load"
pids=()
t0=$(now_ms)
for i in $(seq "$N"); do
	"$ACMECTL" -s "$SOCK" status >"$T/load/$i.out" 2>"$T/load/$i.err" </dev/null &
	pids+=("$!")
done
bad=0
for i in $(seq "$N"); do
	rc=0
	wait "${pids[$((i - 1))]}" || rc=$?
	echo "$rc" >"$T/load/$i.rc"
	[ "$rc" = 0 ] || bad=$((bad + 1))
done
t1=$(now_ms)
log "$N concurrent status requests answered in $((t1 - t0)) ms"

if [ "$bad" -ne 0 ]; then
	for i in $(seq "$N"); do
		[ "$(cat "$T/load/$i.rc")" = 0 ] && continue
		printf 'client %s: exit %s: %s\n' "$i" "$(cat "$T/load/$i.rc")" \
			"$(head -c 300 "$T/load/$i.err")" >&2
	done | head -n 10 >&2
	fail "$bad of $N concurrent acmectl status failed"
fi
assert_no_sanitizer_report "$T"/load/*.err
for i in $(seq "$N"); do
	out=$(cat "$T/load/$i.out")
	assert_match "acmectl status #$i: the table's header" '^NAME +STATE' "$out"
	assert_match "acmectl status #$i: the certificate's row" \
		'(^|[[:space:]])www +(renewing|valid) ' "$out"
done

# The renewal was under way when they were answered, and it still ends well.
grep -hEq '(^|[[:space:]])www +renewing ' "$T"/load/*.out ||
	log "note: the renewal had ended before the first answer"
for _ in $(seq 600); do
	kill -0 "$renewer" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$renewer" 2>/dev/null && fail "force-renew did not end within 60 s"
rc=0
wait "$renewer" || rc=$?
lib_forget_pid "$renewer"
assert_eq "force-renew during the load: exit status" 0 "$rc"
assert_eq "current after the renewal" v2 "$(readlink "$cur")"

daemon_alive || fail "the daemon died under load"
rc=0
acmectl status >"$T/status.out" 2>&1 || rc=$?
assert_eq "acmectl status after the load: exit status" 0 "$rc"
assert_match "acmectl status after the load" '(^|[[:space:]])www +valid ' "$(cat "$T/status.out")"

daemon_stop
