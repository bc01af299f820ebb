#!/bin/bash
# The control socket's framing and error codes, on the raw socket (socat):
# invalid JSON -> bad_request with id null, and the connection stays usable;
# a missing or mistyped command/args -> bad_request, an unknown command ->
# unknown_command, with the request's id echoed; a line over 1 MiB ->
# bad_request and the connection is closed; a client that sends half a line
# and vanishes, one that sends half a line and waits, and one that floods
# requests without ever reading cost the daemon nothing and block no one.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

need socat socat

# session: send stdin on one connection, print every reply line.
session() {
	socat -t 5 - "UNIX-CONNECT:$SOCK"
}

# reply JSON-LINES ID: the reply with that id (jq's --argjson form)
reply() {
	jq -c --argjson id "$2" 'select(.id == $id)' <<<"$1"
}

# status_ok WHAT: acmectl status answers, fast, with the certificate.
status_ok() {
	local rc=0 t0 t1

	t0=$(now_ms)
	timeout "$(scaled 10)" "$ACMECTL" -s "$SOCK" status >"$T/status.out" 2>&1 || rc=$?
	t1=$(now_ms)
	assert_eq "acmectl status $1: exit status" 0 "$rc"
	assert_contains "acmectl status $1" www "$(cat "$T/status.out")"
	[ $((t1 - t0)) -lt "$(scaled 3000)" ] ||
		fail "acmectl status $1 took $((t1 - t0)) ms"
	daemon_alive || fail "the daemon died $1"
}

# No CA needed: the daemon answers whatever its certificates do.
write_config --name www --directory "https://127.0.0.1:$(free_port)/dir" \
	--trust-bundle ""
daemon_start

# --- errors that keep the connection open -----------------------------
out=$(printf '%s\n' \
	'this is not json' \
	'{"id": 2, "command": "version", "args": {}}' \
	'{"id": 3, "args": {}}' \
	'{"id": "four", "command": "frobnicate", "args": {}}' \
	'{"id": 5, "command": "status", "args": [1, 2]}' \
	'{"id": 6, "command": 42, "args": {}}' \
	'{"id": 7, "command": "show", "args": {"name": 5}}' \
	'{"id": 8, "command": "status", "args": {}}' | session)
jq -e . >/dev/null <<<"$out" || fail "replies are not JSON lines: $out"
assert_eq "number of replies on one connection" 8 "$(jq -s length <<<"$out")"

r=$(head -n 1 <<<"$out")
assert_eq "invalid JSON: id" null "$(jq -r .id <<<"$r")"
assert_eq "invalid JSON: ok" false "$(jq -r .ok <<<"$r")"
assert_eq "invalid JSON: error code" bad_request "$(jq -r .error.code <<<"$r")"
[ -n "$(jq -r '.error.message // empty' <<<"$r")" ] ||
	fail "invalid JSON: no error message: $r"

r=$(reply "$out" 2)
assert_eq "version after invalid JSON on the same connection: ok" true "$(jq -r .ok <<<"$r")"
assert_eq "version after invalid JSON: pid" "$DAEMON_PID" "$(jq -r .result.pid <<<"$r")"

r=$(reply "$out" 3)
[ -n "$r" ] || fail "missing command: no reply with id 3 in: $out"
assert_eq "missing command: error code" bad_request "$(jq -r .error.code <<<"$r")"

r=$(reply "$out" '"four"')
[ -n "$r" ] || fail "unknown command: no reply with id \"four\" in: $out"
assert_eq "unknown command: error code" unknown_command "$(jq -r .error.code <<<"$r")"

r=$(reply "$out" 5)
[ -n "$r" ] || fail "args not an object: no reply with id 5 in: $out"
assert_eq "args not an object: error code" bad_request "$(jq -r .error.code <<<"$r")"

r=$(reply "$out" 6)
[ -n "$r" ] || fail "command not a string: no reply with id 6 in: $out"
assert_eq "command not a string: error code" bad_request "$(jq -r .error.code <<<"$r")"

r=$(reply "$out" 7)
[ -n "$r" ] || fail "show with a number for name: no reply with id 7 in: $out"
assert_eq "show with a number for name: error code" bad_request "$(jq -r .error.code <<<"$r")"

r=$(reply "$out" 8)
assert_eq "status at the end of the same connection: ok" true "$(jq -r .ok <<<"$r")"
assert_eq "status at the end of the same connection: certificate" www \
	"$(jq -r '.result.certificates[0].name' <<<"$r")"

# --- a 2 MiB line: bad_request, then the daemon closes -----------------
{ head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' 'a'; echo; } >"$T/big"
cat >"$T/big.sh" <<'SH'
# stdin/stdout: the connection.  The writer keeps its end open after the
# big line (sleep), so the reader's EOF can only be the daemon's close.
{
	cat "$T/big"
	printf '{"id": 9, "command": "version", "args": {}}\n'
	exec sleep 20
} 2>/dev/null &
cat >"$T/big.reply"
kill $! 2>/dev/null
SH
t0=$(now_ms)
timeout "$(scaled 30)" socat "UNIX-CONNECT:$SOCK" "EXEC:bash $T/big.sh,nofork" \
	2>/dev/null || true
t1=$(now_ms)
[ $((t1 - t0)) -lt "$(scaled 15000)" ] ||
	fail "the daemon did not close the connection after a 2 MiB line (still open after $((t1 - t0)) ms)"
out=$(cat "$T/big.reply")
assert_eq "replies to a 2 MiB line then a request" 1 "$(grep -c . <<<"$out")"
assert_eq "2 MiB line: error code" bad_request "$(jq -r .error.code <<<"$out")"
assert_eq "2 MiB line: ok" false "$(jq -r .ok <<<"$out")"
status_ok "after a 2 MiB line"

# --- half a line, then gone ------------------------------------------
printf '{"id": 10, "command": "sta' | socat -t 1 - "UNIX-CONNECT:$SOCK" >/dev/null 2>&1 || true
status_ok "after a client sent half a line and hung up"

# --- half a line, then silence: others are served meanwhile ------------
cat >"$T/half.sh" <<'SH'
printf '{"id": 11, "command": "sta'
exec sleep 30
SH
spawn "$T/half.log" socat "UNIX-CONNECT:$SOCK" "EXEC:bash $T/half.sh,nofork"
half=$LAST_PID
sleep 0.5
kill -0 "$half" 2>/dev/null || fail "the half-line client was dropped at once: $(cat "$T/half.log")"
status_ok "while another client sits on half a line"

# --- a client that floods requests and never reads ---------------------
cat >"$T/flood.sh" <<'SH'
exec yes '{"id": 12, "command": "status", "args": {}}'
SH
spawn "$T/flood.log" socat "UNIX-CONNECT:$SOCK" "EXEC:bash $T/flood.sh,nofork"
flood=$LAST_PID
sleep 1
status_ok "while a client floods requests without reading"
deadline=$((SECONDS + 30))
while kill -0 "$flood" 2>/dev/null; do
	[ "$SECONDS" -lt "$deadline" ] ||
		fail "a client flooding requests without reading was not dropped within 30 s"
	status_ok "while a client floods requests without reading"
	sleep 0.5
done
wait "$flood" 2>/dev/null || true
lib_forget_pid "$flood"
status_ok "after the flooding client was dropped"

kill -TERM "$half" 2>/dev/null || true
wait "$half" 2>/dev/null || true
lib_forget_pid "$half"
status_ok "at the end"

daemon_stop
