#!/bin/bash
# bench/first-cert.sh [RUNS]: one certificate for two names (http-01),
# from a cold start (new account, new key) to installed files, by
# acme-renewd and by uacme, certbot and lego, against one Pebble on
# loopback, RUNS times each (default 5, interleaved: run i of every client,
# then run i+1, so a noisy neighbour hits every client alike).
#
# Clients and what is timed (wall clock, from the exec to the end):
#   acme-renewd webroot     daemon start -> current/fullchain.pem exists
#                           (then SIGTERM; "to exit" adds the shutdown)
#   acme-renewd standalone  the same with its own http-01 responder
#   uacme                   `uacme new` + `uacme issue` (EC P-256, hook
#                           writing the token into the webroot)
#   certbot                 `certbot certonly --webroot` (ECDSA P-256)
#   lego                    `lego run --http --http.webroot` (ec256)
# The webroot is served by `busybox httpd` on Pebble's http-01 port.
# Peak RSS (max over the process tree) and CPU (user+sys) come from GNU
# time.  Targets (issue 9): acme-renewd <= 0.5x uacme, < 0.1x certbot and
# lego, measured with the same method (webroot); standalone is shown too.
set -eu
BENCH_NAME=first-cert
. "$(dirname "$0")/common.sh"

RUNS=${1:-${RUNS:-5}}
TIMEOUT=${RUN_TIMEOUT:-120}	# seconds, per client run
DOMAINS="a.example.test b.example.test"
CLIENTS=${CLIENTS:-"renewd-webroot renewd-standalone uacme certbot lego"}

for c in $CLIENTS; do
	case $c in
	uacme|certbot|lego) need_peer "$c" "$c" ;;
	renewd-webroot|renewd-standalone) ;;
	*) fail "unknown client $c" ;;
	esac
done
need_peer busybox busybox

results_header
out "# runs per client: $RUNS"
load_line

pebble_start
case " $CLIENTS " in *" uacme "*) peer_ns_init ;; esac
WWW=$T/www
mkdir -p "$WWW"
HTTPD_PID=

httpd_start() {
	[ -z "$HTTPD_PID" ] || return 0
	spawn "$T/httpd.log" busybox httpd -f -p "127.0.0.1:$HTTP01_PORT" -h "$WWW"
	HTTPD_PID=$LAST_PID
	wait_port "$HTTP01_PORT" 10 || fail "busybox httpd did not listen on $HTTP01_PORT"
}

httpd_stop() {
	[ -n "$HTTPD_PID" ] || return 0
	kill -TERM "$HTTPD_PID" 2>/dev/null || true
	wait "$HTTPD_PID" 2>/dev/null || true
	lib_forget_pid "$HTTPD_PID"
	HTTPD_PID=
	for _ in $(seq 100); do
		ss -Htln "sport = :$HTTP01_PORT" | grep -q . || return 0
		sleep 0.05
	done
	fail "port $HTTP01_PORT still busy after busybox httpd stopped"
}

HOOK=$T/uacme-hook.sh
write_uacme_hook "$HOOK" "$WWW"

# record CLIENT RUN WALL_MS TOEXIT_MS TIMEFILE OK
# appends "client run wall_s toexit_s rss_kib cpu_s ok" to $T/runs
record() {
	local rss=nan cpu=nan e m u s

	if [ -s "$5" ]; then
		read -r e m u s <<<"$(tail -n 1 "$5")"
		rss=$m
		cpu=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
	fi
	printf '%s %s %s %s %s %s %s\n' "$1" "$2" \
		"$(awk -v x="$3" 'BEGIN { printf "%.3f", x / 1000 }')" \
		"$(awk -v x="$4" 'BEGIN { printf "%.3f", x / 1000 }')" \
		"$rss" "$cpu" "$6" >>"$T/runs"
}

# run_renewd MODE I
run_renewd() {
	local mode=$1 i=$2 d t0 tpid dpid wall=0 total ok=0 deadline
	local webroot_line=""

	d=$T/renewd-$mode-$i
	mkdir -p "$d"
	[ "$mode" = webroot ] && webroot_line="webroot = $WWW"
	cat >"$d/acme-renewd.conf" <<EOF
[daemon]
state-dir = $d/state
control-socket = $d/control.sock
control-group = root
http-01-listen = 127.0.0.1:$HTTP01_PORT
log-level = info
log-target = stderr

[ca pebble]
directory = $PEBBLE_DIR_URL
contact = mailto:ops@example.test
accept-tos = yes
trust-bundle = $PEBBLE_CA

[certificate www]
domains = $DOMAINS
ca = pebble
challenge = http-01
$webroot_line
EOF
	t0=$(now_ns)
	/usr/bin/time -f '%e %M %U %S' -o "$d/time" \
		"$ACME_RENEWD" -c "$d/acme-renewd.conf" >"$d/daemon.log" 2>&1 </dev/null &
	tpid=$!
	LIB_PIDS+=("$tpid")
	deadline=$((SECONDS + TIMEOUT))
	while [ "$SECONDS" -lt "$deadline" ]; do
		if [ -e "$d/state/certs/www/current/fullchain.pem" ]; then
			wall=$(ms_since "$t0")
			ok=1
			break
		fi
		kill -0 "$tpid" 2>/dev/null || break
		sleep 0.005
	done
	dpid=$(pgrep -P "$tpid" || true)
	[ -n "$dpid" ] && kill -TERM "$dpid" 2>/dev/null
	wait "$tpid" 2>/dev/null || true
	total=$(ms_since "$t0")
	lib_forget_pid "$tpid"
	[ "$ok" = 1 ] || { show_log "$d/daemon.log"; wall=$total; }
	record "renewd-$mode" "$i" "$wall" "$total" "$d/time" "$ok"
}

# run_peer NAME I CMD...: time CMD (to its exit) under GNU time.
run_peer() {
	local name=$1 i=$2 d t0 wall ok=1

	shift 2
	d=$T/$name-$i
	mkdir -p "$d"
	t0=$(now_ns)
	(cd "$d" && timeout "$TIMEOUT" /usr/bin/time -f '%e %M %U %S' -o "$d/time" \
		"$@" >"$d/out.log" 2>&1 </dev/null) || ok=0
	wall=$(ms_since "$t0")
	[ "$ok" = 1 ] || show_log "$d/out.log"
	record "$name" "$i" "$wall" "$wall" "$d/time" "$ok"
}

run_uacme() {
	local d=$T/uacme-$1

	run_peer uacme "$1" "${PEER_NS[@]}" sh -c '
		uacme -y -t EC -c "$1" -a "$2" new &&
		uacme -y -t EC -c "$1" -a "$2" -h "$3" issue $4' \
		sh "$d/conf" "$PEBBLE_DIR_URL" "$HOOK" "$DOMAINS"
	[ -s "$d/conf/a.example.test/cert.pem" ] || sed -i '$ s/1$/0/' "$T/runs"
}

run_certbot() {
	local d=$T/certbot-$1 args=() n

	for n in $DOMAINS; do args+=(-d "$n"); done
	run_peer certbot "$1" env REQUESTS_CA_BUNDLE="$PEBBLE_CA" \
		certbot certonly --webroot -w "$WWW" --server "$PEBBLE_DIR_URL" \
		--config-dir "$d/config" --work-dir "$d/work" --logs-dir "$d/logs" \
		--agree-tos --register-unsafely-without-email -n \
		--key-type ecdsa --elliptic-curve secp256r1 "${args[@]}"
	[ -s "$d/config/live/a.example.test/fullchain.pem" ] || sed -i '$ s/1$/0/' "$T/runs"
}

run_lego() {
	local d=$T/lego-$1 args=() n

	for n in $DOMAINS; do args+=(-d "$n"); done
	run_peer lego "$1" env LEGO_CA_CERTIFICATES="$PEBBLE_CA" \
		lego --server "$PEBBLE_DIR_URL" --accept-tos --email x@example.test \
		--http --http.webroot "$WWW" --path "$d/lego" --key-type ec256 \
		"${args[@]}" run
	[ -s "$d/lego/certificates/a.example.test.crt" ] || sed -i '$ s/1$/0/' "$T/runs"
}

wanted() { case " $CLIENTS " in *" $1 "*) return 0 ;; esac; return 1; }

: >"$T/runs"
for i in $(seq "$RUNS"); do
	log "run $i of $RUNS"
	httpd_start
	! wanted renewd-webroot || run_renewd webroot "$i"
	! wanted uacme || run_uacme "$i"
	! wanted certbot || run_certbot "$i"
	! wanted lego || run_lego "$i"
	httpd_stop
	! wanted renewd-standalone || run_renewd standalone "$i"
done
cp "$T/runs" "$RESULTS_FILE.runs"

# col CLIENT FIELD: the median of one column over the successful runs.
col() {
	awk -v c="$1" -v f="$2" '$1 == c && $7 == 1 { print $f }' "$T/runs" | median
}

out ""
out "client               ok/runs  wall s (median)  to exit s  peak RSS MiB  CPU s"
for c in $CLIENTS; do
	okn=$(awk -v c="$c" '$1 == c && $7 == 1' "$T/runs" | wc -l)
	out "$(printf '%-20s %3s/%-4s %15s %10s %13s %6s' "$c" "$okn" "$RUNS" \
		"$(col "$c" 3)" "$(col "$c" 4)" \
		"$(awk -v k="$(col "$c" 5)" 'BEGIN { if (k == "nan") print "nan"; else printf "%.1f", k / 1024 }')" \
		"$(col "$c" 6)")"
done

W=$(col renewd-webroot 3)
S=$(col renewd-standalone 3)
U=$(col uacme 3)
C=$(col certbot 3)
L=$(col lego 3)
out ""
out "ratios of median wall time (acme-renewd / peer)    webroot  standalone  target"
rv() { fmt_ratio "$1" "$2"; }
line() {
	local r
	r=$(rv "$W" "$2")
	if [ "$r" = - ]; then v=n/a; else v=$(verdict "$r $3"); fi
	out "$(printf '  vs %-8s %36s %11s  %s  %s' "$1" "$r" "$(rv "$S" "$2")" "$3" "$v")"
}
line uacme "$U" "<= 0.5"
line certbot "$C" "< 0.1"
line lego "$L" "< 0.1"

ok_all=$(awk '$7 != 1' "$T/runs" | wc -l)
summary="first-cert: acme-renewd ${W}s (webroot) ${S}s (standalone); uacme ${U}s, certbot ${C}s, lego ${L}s; ratio vs uacme $(rv "$W" "$U") (target <= 0.5), vs certbot $(rv "$W" "$C"), vs lego $(rv "$W" "$L") (targets < 0.1); failed runs: $ok_all"
out ""
out "$summary"
log "results in $RESULTS_FILE"
# Exit status: 1 when a run of any client failed.
[ "$ok_all" = 0 ]
