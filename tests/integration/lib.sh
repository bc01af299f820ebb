# shellcheck shell=bash
# tests/integration/lib.sh: shared machinery for the integration tests and
# scripts/demo.sh.  Source it from bash:
#
#	. "$(dirname "$0")/lib.sh"
#
# On sourcing it creates a private directory $T (mktemp -d, or $LIB_DIR when
# the caller sets it, as the demo does) and installs a trap that, whatever
# way the script ends, kills every process started through `spawn` and
# removes $T (kept when KEEP=1 or when LIB_DIR was given).
#
# Inputs from the environment:
#   ACME_RENEWD, ACMECTL  absolute paths of the binaries under test
#   KEEP=1                keep $T after the test (its path is printed)
#   TEST_TIME_SCALE=N     multiply the time limits of the wait helpers
#                         below by N (a whole number, default 1): the
#                         binaries may run under valgrind (tests/memcheck.sh)
#
# What a test gets:
#   free_port                 a free loopback port, never the same one twice
#   pebble_start [VAR=VAL..]  minica + pebble-challtestsrv + Pebble; exports
#                             PEBBLE_DIR_URL, PEBBLE_CA (trust-bundle),
#                             PEBBLE_ROOT, PEBBLE_INTERMEDIATE, HTTP01_PORT
#   write_config [options]    writes $CONF (see the function)
#   daemon_start / daemon_stop, status_json, cert_field, wait_state
#   fail, assert_eq, assert_match, assert_file_mode, ...

set -eu

LIB_SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TEST_NAME=$(basename "$0" .sh)
export TEST_NAME	# names the valgrind logs of tests/memcheck.sh
: "${SRCDIR:=$(cd "$LIB_SRCDIR/../.." && pwd)}"

# The version the build says it is (AC_INIT in configure.ac).
package_version() {
	sed -n 's/^AC_INIT(\[[^]]*\], *\[\([^]]*\)\].*/\1/p' "$SRCDIR/configure.ac"
}

# ---------------------------------------------------------------------------
# Private directory, process tracking, cleanup

if [ -n "${LIB_DIR:-}" ]; then
	T=$LIB_DIR
	rm -rf "$T"
	mkdir -p "$T"
	T=$(cd "$T" && pwd)
	LIB_KEEP_DIR=1
else
	T=$(mktemp -d "${TMPDIR:-/tmp}/acme-renewd-${TEST_NAME}.XXXXXX")
	LIB_KEEP_DIR=${KEEP:-0}
fi
export T

LIB_PIDS=()			# every process started by spawn
LIB_PORT_LOCKS="${TMPDIR:-/tmp}/acme-renewd-test-ports"
DAEMON_PID=
CONF=$T/acme-renewd.conf
SOCK=$T/control.sock
STATE_DIR=$T/state

# scaled SECONDS: a time limit, multiplied by TEST_TIME_SCALE.
scaled() {
	echo $(($1 * ${TEST_TIME_SCALE:-1}))
}
case ${TEST_TIME_SCALE:-1} in
''|*[!0-9]*|0) echo "TEST_TIME_SCALE must be a whole number >= 1, not '$TEST_TIME_SCALE'" >&2
	exit 2 ;;
esac

log() {
	printf '%s: %s\n' "$TEST_NAME" "$*" >&2
}

# Print the end of a log file, if it exists, to stderr.
show_log() {
	local f=$1 n=${2:-30}

	[ -s "$f" ] || return 0
	printf -- '--- last %s lines of %s ---\n' "$n" "$f" >&2
	tail -n "$n" "$f" >&2
	printf -- '--- end of %s ---\n' "$(basename "$f")" >&2
}

lib_cleanup() {
	local rc=$? pid i

	trap - EXIT INT TERM HUP
	# Cleanup must finish even when whoever reads our output went away
	# (`t-foo.sh | head`): a write to a closed pipe must not kill us.
	trap '' PIPE INT TERM HUP
	set +e
	if [ "$rc" -ne 0 ]; then
		show_log "$T/daemon.log" 40
	fi
	for pid in "${LIB_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${LIB_PIDS[@]}"; do
		for i in $(seq $((50 * ${TEST_TIME_SCALE:-1}))); do
			pid_alive "$pid" || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	lib_release_ports
	if [ "$LIB_KEEP_DIR" = 1 ]; then
		log "kept $T"
	else
		rm -rf "$T"
	fi
	exit "$rc"
}
trap lib_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# spawn LOGFILE CMD [ARGS...]: run CMD in the background with stdout and
# stderr to LOGFILE, remember its PID (in LAST_PID) for cleanup.
spawn() {
	local logfile=$1

	shift
	"$@" >>"$logfile" 2>&1 </dev/null &
	LAST_PID=$!
	LIB_PIDS+=("$LAST_PID")
}

# lib_forget_pid PID: a process that was waited for needs no cleanup.
lib_forget_pid() {
	local p keep=()

	for p in "${LIB_PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	LIB_PIDS=(${keep[@]+"${keep[@]}"})
}

# ---------------------------------------------------------------------------
# Assertions: each prints what was expected and what was found, then fails.

fail() {
	printf '%s: FAIL: %s\n' "$TEST_NAME" "$*" >&2
	if [ -s "$T/acmectl.err" ]; then
		printf '(the last acmectl --json status said on stderr: %s)\n' \
			"$(cat "$T/acmectl.err")" >&2
	fi
	exit 1
}

# assert_eq WHAT EXPECTED ACTUAL
assert_eq() {
	[ "$2" = "$3" ] ||
		fail "$1: expected '$2', got '$3'"
}

# assert_ne WHAT UNEXPECTED ACTUAL
assert_ne() {
	[ "$2" != "$3" ] ||
		fail "$1: expected anything but '$2'"
}

# assert_match WHAT EXTENDED-REGEX ACTUAL (case-sensitive)
assert_match() {
	printf '%s\n' "$3" | grep -Eq -- "$2" ||
		fail "$1: expected to match /$2/, got '$3'"
}

# assert_imatch: the same, ignoring case
assert_imatch() {
	printf '%s\n' "$3" | grep -Eiq -- "$2" ||
		fail "$1: expected to match /$2/ (ignoring case), got '$3'"
}

# assert_contains WHAT FIXED-STRING ACTUAL
assert_contains() {
	case $3 in
	*"$2"*) ;;
	*) fail "$1: expected to contain '$2', got '$3'" ;;
	esac
}

# assert_file_contains FILE FIXED-STRING [WHAT]
assert_file_contains() {
	grep -qF -- "$2" "$1" ||
		fail "${3:-$1}: expected a line containing '$2'"
}

# assert_file_mode FILE MODE (octal, e.g. 600)
assert_file_mode() {
	local mode

	[ -e "$1" ] || fail "expected file $1 to exist"
	mode=$(stat -c %a "$1")
	[ "$mode" = "$2" ] ||
		fail "mode of $1: expected $2, got $mode"
}

assert_file() {
	[ -f "$1" ] || fail "expected regular file $1"
}

# assert_no_sanitizer_report FILE...: a sanitized build reports with exit
# status 1 (ASan) or 23 (LSan), which may pass for an expected failure.
assert_no_sanitizer_report() {
	local f

	for f in "$@"; do
		[ -f "$f" ] || continue
		if grep -Eq 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:' "$f"; then
			grep -E -m 5 -A 10 'Sanitizer|runtime error:' "$f" >&2
			fail "sanitizer report in $f"
		fi
	done
}

# need CMD PACKAGE: a missing tool is a failure, never a skip.
need() {
	command -v "$1" >/dev/null 2>&1 ||
		fail "$1 is not installed (Debian package $2; scripts/bootstrap.sh installs it)"
}
need jq jq
need ss iproute2
need openssl openssl
need curl curl

# ---------------------------------------------------------------------------
# Ports

# Ports in use on this machine: TCP and UDP, any state, any address.
lib_ports_in_use() {
	ss -Htuan | awk '{ n = split($5, a, ":"); print a[n] }' | sort -u
}

# Give back this test's cross-test reservations.
lib_release_ports() {
	local p

	[ -f "$T/ports" ] || return 0
	while read -r p; do
		rm -rf "${LIB_PORT_LOCKS:?}/$p"
	done <"$T/ports"
}

# lib_port_range: where free_port picks, "LOW-HIGH": below the kernel's
# ephemeral range (ip_local_port_range), where no outgoing connection can
# take a port between free_port and the bind, when that leaves enough.
lib_port_range() {
	local low

	read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || low=
	case $low in
	''|*[!0-9]*) echo 20000-60000 ;;
	*) [ "$low" -gt 25000 ] && echo "20000-$((low - 1))" || echo 20000-60000 ;;
	esac
}

# free_port: print a port (see lib_port_range) that nothing listens on or
# uses, that this test was not handed before, and that no other test
# running in parallel reserved (a directory per port under
# $LIB_PORT_LOCKS, made atomically with mkdir, released at cleanup; stale
# ones are reclaimed).
free_port() {
	local p i used owner range

	mkdir -p "$LIB_PORT_LOCKS"
	touch "$T/ports"
	used=$(lib_ports_in_use)
	range=$(lib_port_range)
	for i in $(seq 200); do
		p=$(shuf -i "$range" -n 1)
		grep -qx "$p" "$T/ports" && continue
		printf '%s\n' "$used" | grep -qx "$p" && continue
		if ! mkdir "$LIB_PORT_LOCKS/$p" 2>/dev/null; then
			owner=$(cat "$LIB_PORT_LOCKS/$p/owner" 2>/dev/null || true)
			if [ -n "$owner" ] && ! kill -0 "$owner" 2>/dev/null; then
				rm -rf "${LIB_PORT_LOCKS:?}/$p"
			fi
			continue
		fi
		echo $$ >"$LIB_PORT_LOCKS/$p/owner"
		echo "$p" >>"$T/ports"
		echo "$p"
		return 0
	done
	fail "free_port: no free port found after 200 tries"
}

# wait_port PORT SECONDS: wait until something listens on 127.0.0.1:PORT (TCP).
wait_port() {
	local port=$1 deadline=$((SECONDS + $(scaled "$2")))

	while [ "$SECONDS" -lt "$deadline" ]; do
		ss -Htln "sport = :$port" | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

# ---------------------------------------------------------------------------
# Pebble

# minica DIR: a CA and a certificate for localhost/127.0.0.1 signed by it
# (what Pebble serves on its HTTPS ports).  DIR/ca.pem is the trust bundle.
minica() {
	local d=$1

	mkdir -p "$d"
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		-nodes -keyout "$d/ca-key.pem" -out "$d/ca.pem" -days 30 \
		-subj "/CN=acme-renewd test minica $$" \
		-addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		-nodes -keyout "$d/key.pem" -out "$d/server.csr" \
		-subj "/CN=localhost" 2>/dev/null
	printf '%s\n' \
		'basicConstraints = critical,CA:FALSE' \
		'keyUsage = critical,digitalSignature' \
		'extendedKeyUsage = serverAuth' \
		'subjectAltName = DNS:localhost,IP:127.0.0.1' >"$d/server.ext"
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" \
		-CAkey "$d/ca-key.pem" -CAcreateserial -days 30 \
		-extfile "$d/server.ext" -out "$d/cert.pem" 2>/dev/null
	chmod 600 "$d/ca-key.pem" "$d/key.pem"
}

# pebble_start [VAR=VALUE ...]: start pebble-challtestsrv (DNS only) and
# Pebble.  The arguments are extra environment for Pebble and override the
# defaults PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0
# (give VAR= to clear one, e.g. PEBBLE_VA_NOSLEEP= PEBBLE_VA_SLEEPTIME=8).
# PEBBLE_CONFIG_EXTRA, if set, is JSON members added to Pebble's config
# (e.g. '"certificateValidityPeriod": 3600').
# Exports: PEBBLE_DIR_URL, PEBBLE_CA, PEBBLE_ROOT, PEBBLE_INTERMEDIATE,
# PEBBLE_PORT, PEBBLE_MGMT_PORT, HTTP01_PORT, TLSALPN01_PORT, DNS_PORT,
# CHALLTESTSRV_PORT.
pebble_start() {
	local d=$T/pebble extra=${PEBBLE_CONFIG_EXTRA:-} deadline

	need pebble pebble
	need pebble-challtestsrv pebble
	mkdir -p "$d"
	minica "$d/minica"
	PEBBLE_CA=$d/minica/ca.pem
	PEBBLE_PORT=$(free_port)
	PEBBLE_MGMT_PORT=$(free_port)
	HTTP01_PORT=$(free_port)
	TLSALPN01_PORT=$(free_port)
	DNS_PORT=$(free_port)
	CHALLTESTSRV_PORT=$(free_port)
	export PEBBLE_CA PEBBLE_PORT PEBBLE_MGMT_PORT HTTP01_PORT \
		TLSALPN01_PORT DNS_PORT CHALLTESTSRV_PORT

	# DNS for Pebble's VA: every A query is answered 127.0.0.1, no AAAA,
	# so Pebble validates http-01 at 127.0.0.1:$HTTP01_PORT.
	spawn "$T/challtestsrv.log" pebble-challtestsrv \
		-dns01 "127.0.0.1:$DNS_PORT" -http01 "" -https01 "" -tlsalpn01 "" \
		-management "127.0.0.1:$CHALLTESTSRV_PORT" \
		-defaultIPv4 127.0.0.1 -defaultIPv6 ""
	CHALLTESTSRV_PID=$LAST_PID

	[ -n "$extra" ] && extra=",
    $extra"
	cat >"$d/pebble.json" <<EOF
{
  "pebble": {
    "listenAddress": "127.0.0.1:$PEBBLE_PORT",
    "managementListenAddress": "127.0.0.1:$PEBBLE_MGMT_PORT",
    "certificate": "$d/minica/cert.pem",
    "privateKey": "$d/minica/key.pem",
    "httpPort": $HTTP01_PORT,
    "tlsPort": $TLSALPN01_PORT,
    "ocspResponderURL": "",
    "externalAccountBindingRequired": false$extra
  }
}
EOF
	spawn "$T/pebble.log" env PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 \
		PEBBLE_AUTHZREUSE=0 "$@" \
		pebble -config "$d/pebble.json" -dnsserver "127.0.0.1:$DNS_PORT"
	PEBBLE_PID=$LAST_PID

	PEBBLE_DIR_URL=https://127.0.0.1:$PEBBLE_PORT/dir
	export PEBBLE_DIR_URL
	deadline=$((SECONDS + 20))
	until curl -fsS --cacert "$PEBBLE_CA" -o "$d/dir.json" "$PEBBLE_DIR_URL" 2>/dev/null; do
		if ! kill -0 "$PEBBLE_PID" 2>/dev/null; then
			show_log "$T/pebble.log"
			fail "pebble exited at startup"
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			show_log "$T/pebble.log"
			fail "pebble's directory $PEBBLE_DIR_URL did not answer within 20 s"
		fi
		sleep 0.1
	done
	wait_port "$CHALLTESTSRV_PORT" 10 || {
		show_log "$T/challtestsrv.log"
		fail "pebble-challtestsrv did not start"
	}

	# The CA that signs the certificates Pebble issues (Pebble makes a new
	# one at every start).
	PEBBLE_ROOT=$T/pebble-root.pem
	PEBBLE_INTERMEDIATE=$T/pebble-intermediate.pem
	curl -fsS --cacert "$PEBBLE_CA" -o "$PEBBLE_ROOT" \
		"https://127.0.0.1:$PEBBLE_MGMT_PORT/roots/0" ||
		fail "cannot fetch Pebble's root from its management port"
	curl -fsS --cacert "$PEBBLE_CA" -o "$PEBBLE_INTERMEDIATE" \
		"https://127.0.0.1:$PEBBLE_MGMT_PORT/intermediates/0" ||
		fail "cannot fetch Pebble's intermediate from its management port"
	export PEBBLE_ROOT PEBBLE_INTERMEDIATE
}

# ---------------------------------------------------------------------------
# bench/ smoke runs (t-bench-smoke-*)

# run_bench NAME CMD...: run a bench/ script with its results in
# $T/results; its output in $T/NAME.out; fail (showing its end) unless it
# exits 0.
run_bench() {
	local name=$1 rc=0

	shift
	mkdir -p "$T/results"
	env BENCH_RESULTS="$T/results" "$@" >"$T/$name.out" 2>&1 </dev/null || rc=$?
	[ "$rc" = 0 ] || {
		tail -n 30 "$T/$name.out"
		fail "$name: exit status $rc"
	}
}

# ---------------------------------------------------------------------------
# The fault-injecting proxy (tests/helpers/acmeproxy.py; its header says
# what it can do)

# acmeproxy_start [ARGS...]: after pebble_start, start the proxy in front of
# Pebble, with Pebble's own HTTPS certificate (so $PEBBLE_CA trusts both).
# ARGS go to acmeproxy.py (e.g. --rules FILE).  Exports ACMEPROXY_DIR_URL
# (the directory through the proxy), ACMEPROXY_CTL (its control URL),
# ACMEPROXY_LOG (the JSONL record of every request).
acmeproxy_start() {
	local port ctl deadline

	need python3 python3
	[ -n "${PEBBLE_PORT:-}" ] || fail "acmeproxy_start: start Pebble first"
	port=$(free_port)
	ctl=$(free_port)
	ACMEPROXY_LOG=$T/acmeproxy.jsonl
	ACMEPROXY_CTL=http://127.0.0.1:$ctl
	ACMEPROXY_DIR_URL=https://127.0.0.1:$port/dir
	export ACMEPROXY_LOG ACMEPROXY_CTL ACMEPROXY_DIR_URL
	: >"$ACMEPROXY_LOG"
	spawn "$T/acmeproxy.log" python3 "$LIB_SRCDIR/../helpers/acmeproxy.py" \
		--listen "$port" --control "$ctl" \
		--upstream "https://127.0.0.1:$PEBBLE_PORT" \
		--upstream-ca "$PEBBLE_CA" \
		--cert "$T/pebble/minica/cert.pem" --key "$T/pebble/minica/key.pem" \
		--log "$ACMEPROXY_LOG" --workdir "$T/acmeproxy" "$@"
	ACMEPROXY_PID=$LAST_PID
	deadline=$((SECONDS + 15))
	# Ready when both ports answer; "/" (Pebble's 404) so that no rule
	# from --rules is used up.
	until curl -fsS -o /dev/null "$ACMEPROXY_CTL/rules" 2>/dev/null &&
		curl -sS --cacert "$PEBBLE_CA" -o /dev/null \
			"https://127.0.0.1:$port/" 2>/dev/null; do
		kill -0 "$ACMEPROXY_PID" 2>/dev/null || {
			show_log "$T/acmeproxy.log"
			fail "acmeproxy exited at startup"
		}
		[ "$SECONDS" -lt "$deadline" ] || {
			show_log "$T/acmeproxy.log"
			fail "acmeproxy did not answer within 15 s"
		}
		sleep 0.1
	done
	# That request is no request of the daemon's.
	: >"$ACMEPROXY_LOG"
}

# acmeproxy_fault ENDPOINT|PATH-REGEX ACTION [KEY=VALUE ...]: add a rule
# for an endpoint by name (newOrder, finalize, order, certificate,
# directory, ...) or for paths matching a regex starting with / or ^/.  A
# VALUE that is JSON (a number, an object, true) goes in as such, anything
# else as a string: times=1 retry_after=120 problem=rateLimited
# 'set={"status":"processing"}' method=POST.  Prints the rule's id.
acmeproxy_fault() {
	local where=$1 action=$2 rule kv k v

	shift 2
	case $where in
	/*|^/*) rule=$(jq -nc --arg p "$where" --arg a "$action" '{path: $p, action: $a}') ;;
	*) rule=$(jq -nc --arg e "$where" --arg a "$action" '{endpoint: $e, action: $a}') ;;
	esac
	for kv in "$@"; do
		k=${kv%%=*}
		v=${kv#*=}
		if jq -e . >/dev/null 2>&1 <<<"$v"; then
			rule=$(jq -c --arg k "$k" --argjson v "$v" '.[$k] = $v' <<<"$rule")
		else
			rule=$(jq -c --arg k "$k" --arg v "$v" '.[$k] = $v' <<<"$rule")
		fi
	done
	curl -sS -X POST --data-binary "$rule" "$ACMEPROXY_CTL/rules" >"$T/acmeproxy.ctl" ||
		fail "acmeproxy_fault: control port unreachable"
	jq -e '.ids[0]' "$T/acmeproxy.ctl" 2>/dev/null ||
		fail "acmeproxy_fault $where $action: $(cat "$T/acmeproxy.ctl")"
}

# acmeproxy_clear: remove every rule (a stalled request then goes on).
acmeproxy_clear() {
	curl -fsS -X DELETE -o /dev/null "$ACMEPROXY_CTL/rules" ||
		fail "acmeproxy_clear: control port unreachable"
}

# acmeproxy_hits ID: how often rule ID was applied so far.
acmeproxy_hits() {
	curl -fsS "$ACMEPROXY_CTL/rules" | jq -r --argjson id "$1" \
		'(.[] | select(.id == $id) | .hits) // 0'
}

# acmeproxy_requests [ENDPOINT]: the recorded requests (to ENDPOINT), one
# compact JSON object per line, oldest first.
acmeproxy_requests() {
	jq -c --arg e "${1:-}" 'select($e == "" or .endpoint == $e)' "$ACMEPROXY_LOG"
}

# ---------------------------------------------------------------------------
# The daemon

# write_config [options]: write the daemon's config to $CONF.
#   --name NAME          certificate section name (default: www)
#   --domains "A B"      its domains (default: a.example.test b.example.test)
#   --ca NAME            the CA section name (default: pebble)
#   --directory URL      the CA's directory (default: $PEBBLE_DIR_URL)
#   --trust-bundle FILE  default: $PEBBLE_CA; "" leaves the key out
#   --daemon LINE        an extra line in [daemon]    (repeatable)
#   --ca-line LINE       an extra line in [ca NAME]    (repeatable)
#   --cert-line LINE     an extra line in [certificate NAME] (repeatable)
#   --append TEXT        raw text at the end (more sections)
#   --state-dir DIR      default: $STATE_DIR ($T/state)
#   --socket PATH        default: $SOCK ($T/control.sock)
#   --out FILE           default: $CONF
# LOG_LEVEL (default debug) sets [daemon] log-level.  CERT_NAME and
# CA_NAME are set for the helpers below.
write_config() {
	local name=www domains="a.example.test b.example.test" ca=pebble
	local directory=${PEBBLE_DIR_URL:-} bundle=${PEBBLE_CA:-}
	local out=$CONF append="" l
	local -a dlines=() clines=() certlines=()

	while [ $# -gt 0 ]; do
		case $1 in
		--name) name=$2 ;;
		--domains) domains=$2 ;;
		--ca) ca=$2 ;;
		--directory) directory=$2 ;;
		--trust-bundle) bundle=$2 ;;
		--daemon) dlines+=("$2") ;;
		--ca-line) clines+=("$2") ;;
		--cert-line) certlines+=("$2") ;;
		--append) append=$2 ;;
		--state-dir) STATE_DIR=$2 ;;
		--socket) SOCK=$2 ;;
		--out) out=$2 ;;
		*) fail "write_config: unknown option $1" ;;
		esac
		shift 2
	done
	[ -n "$directory" ] || fail "write_config: no --directory and no Pebble started"
	CERT_NAME=$name
	CA_NAME=$ca
	{
		echo "[daemon]"
		echo "state-dir = $STATE_DIR"
		echo "control-socket = $SOCK"
		echo "control-group = root"
		echo "http-01-listen = 127.0.0.1:${HTTP01_PORT:-$(free_port)}"
		echo "log-level = ${LOG_LEVEL:-debug}"
		echo "log-target = stderr"
		for l in ${dlines[@]+"${dlines[@]}"}; do echo "$l"; done
		echo
		echo "[ca $ca]"
		echo "directory = $directory"
		echo "contact = mailto:ops@example.test"
		echo "accept-tos = yes"
		[ -z "$bundle" ] || echo "trust-bundle = $bundle"
		for l in ${clines[@]+"${clines[@]}"}; do echo "$l"; done
		echo
		echo "[certificate $name]"
		echo "domains = $domains"
		echo "ca = $ca"
		echo "challenge = http-01"
		for l in ${certlines[@]+"${certlines[@]}"}; do echo "$l"; done
		[ -z "$append" ] || printf '\n%s\n' "$append"
	} >"$out"
}

# daemon_start [ARGS...]: start $ACME_RENEWD -c $CONF in the foreground
# (as a child of this shell), output to $T/daemon.log; wait until its
# control socket listens.  Sets DAEMON_PID.
daemon_start() {
	local deadline

	[ -x "${ACME_RENEWD:-}" ] || fail "ACME_RENEWD is not set to an executable"
	echo "=== $(date '+%F %T') daemon_start $*" >>"$T/daemon.log"
	spawn "$T/daemon.log" "$ACME_RENEWD" -c "$CONF" "$@"
	DAEMON_PID=$LAST_PID
	deadline=$((SECONDS + $(scaled 15)))
	# Ready when its control socket listens (a stale socket file left by
	# an earlier run does not count).
	until [ -S "$SOCK" ] && ss -Hxl src "$SOCK" | grep -q .; do
		daemon_alive ||
			fail "acme-renewd exited at startup (see daemon.log)"
		[ "$SECONDS" -lt "$deadline" ] ||
			fail "acme-renewd did not listen on its control socket $SOCK within $(scaled 15) s"
		sleep 0.1
	done
}

# daemon_stop: SIGTERM, wait (bounded), assert exit status 0.
daemon_stop() {
	local pid=$DAEMON_PID rc=0

	[ -n "$pid" ] || fail "daemon_stop: no daemon running"
	kill -TERM "$pid" 2>/dev/null || fail "daemon (pid $pid) was not running at SIGTERM"
	for _ in $(seq $((150 * ${TEST_TIME_SCALE:-1}))); do
		pid_alive "$pid" || break
		sleep 0.1
	done
	if pid_alive "$pid"; then
		kill -KILL "$pid"
		fail "daemon did not exit within $(scaled 15) s of SIGTERM"
	fi
	wait "$pid" || rc=$?
	DAEMON_PID=
	lib_forget_pid "$pid"
	assert_no_sanitizer_report "$T/daemon.log"
	assert_eq "daemon exit status after SIGTERM" 0 "$rc"
}

# pid_alive PID: the process exists and is not a zombie (kill -0 alone
# succeeds on an exited child that was not waited for yet).
pid_alive() {
	local stat

	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	# The state follows the command name, which is in parentheses and
	# may itself contain ") ".
	stat=${stat##*) }
	case ${stat%% *} in
	Z|X|x) return 1 ;;
	esac
	return 0
}

# daemon_alive: the daemon started by daemon_start still runs.
daemon_alive() {
	[ -n "$DAEMON_PID" ] && pid_alive "$DAEMON_PID"
}

# acmectl ARGS...: $ACMECTL -s $SOCK ARGS
acmectl() {
	"$ACMECTL" -s "$SOCK" "$@"
}

# status_json: `acmectl --json status` (whatever its exit status: it is 1
# when a certificate is failed or expired); empty when it printed nothing.
# acmectl's stderr is kept in $T/acmectl.err for the failure messages.
status_json() {
	"$ACMECTL" -s "$SOCK" --json status 2>"$T/acmectl.err" || true
}

# cert_field NAME FIELD: one field of one certificate from status_json,
# as jq -r prints it ("null" when absent).
cert_field() {
	status_json | jq -r --arg n "$1" --arg f "$2" \
		'.certificates[] | select(.name == $n) | .[$f]' 2>/dev/null || true
}

# wait_state NAME STATE TIMEOUT-SECONDS: poll until the certificate NAME
# is in STATE.  Fails, showing the last status, when the time runs out or
# the daemon exits.
wait_state() {
	local name=$1 want=$2 limit deadline js state=

	limit=$(scaled "$3")
	deadline=$((SECONDS + limit))

	while :; do
		js=$(status_json)
		state=$(printf '%s' "$js" | jq -r --arg n "$name" \
			'.certificates[] | select(.name == $n) | .state' 2>/dev/null || true)
		[ "$state" = "$want" ] && return 0
		daemon_alive ||
			fail "daemon exited while waiting for $name to be $want (last state '$state')"
		if [ "$SECONDS" -ge "$deadline" ]; then
			printf 'last status: %s\n' "$js" >&2
			[ ! -s "$T/acmectl.err" ] ||
				printf 'acmectl said: %s\n' "$(cat "$T/acmectl.err")" >&2
			fail "certificate $name: expected state $want within $limit s, last state '$state'"
		fi
		sleep 0.2
	done
}

# to_epoch TIME: RFC 3339 / openssl date text / epoch seconds -> epoch seconds
to_epoch() {
	case $1 in
	''|null) echo "" ;;
	*[!0-9]*) date -u -d "$1" +%s ;;
	*) echo "$1" ;;
	esac
}

# now_ms: milliseconds since the epoch
now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# Paths of the certificate's files
cert_dir() {
	echo "$STATE_DIR/certs/${1:-$CERT_NAME}"
}
