# shellcheck shell=bash
# tests/integration/bind.sh: dns-01 helpers for the integration tests.
# Source it after lib.sh (it uses T, spawn, free_port, fail, show_log):
#
#	. "$(dirname "$0")/lib.sh"
#	. "$(dirname "$0")/bind.sh"
#
# What a test gets:
#   bind_start                 BIND 9 primary for example.test on a free
#                              loopback port, updates allowed by TSIG;
#                              exports BIND_PORT, BIND_DIR, BIND_KEY
#                              (hmac-sha256 key "acme-key"), BIND_KEY_384
#                              (hmac-sha384 key "acme-key-384")
#   bind_txt NAME              the TXT values BIND holds for NAME, sorted
#   pebble_start_dns ADDR:PORT [VAR=VAL..]
#                              pebble_start, with Pebble's -dnsserver ADDR:PORT
#   write_dns01_config [write_config options]
#                              write_config, then challenge = dns-01
#   write_dns_hook FILE LOG    a dns-01 hook that appends its arguments to LOG
#                              and keeps each name's TXT values in
#                              pebble-challtestsrv (after pebble_start)
#   wait_file_lines FILE PATTERN N SECONDS
#                              wait until N lines of FILE match PATTERN
# Needs the packages bind9 (named), bind9-utils (tsig-keygen) and
# bind9-dnsutils (dig).

# bind_start: PEERS.md's recipe, in $T/bind.
bind_start() {
	local d=$T/bind deadline

	command -v named >/dev/null || fail "named not found: install bind9"
	command -v tsig-keygen >/dev/null ||
		fail "tsig-keygen not found: install bind9-utils"
	command -v dig >/dev/null || fail "dig not found: install bind9-dnsutils"
	mkdir -p "$d"
	BIND_DIR=$d
	BIND_PORT=$(free_port)
	BIND_KEY=$d/tsig.key
	BIND_KEY_384=$d/tsig-384.key
	tsig-keygen -a hmac-sha256 acme-key >"$BIND_KEY"
	tsig-keygen -a hmac-sha384 acme-key-384 >"$BIND_KEY_384"
	chmod 600 "$BIND_KEY" "$BIND_KEY_384"
	cat >"$d/named.conf" <<EOF
options {
	directory "$d";
	pid-file "$d/named.pid";
	session-keyfile "$d/session.key";
	managed-keys-directory "$d";
	listen-on port $BIND_PORT { 127.0.0.1; };
	listen-on-v6 { none; };
	recursion no;
	dnssec-validation no;
	notify no;
};
controls { };
include "$BIND_KEY";
include "$BIND_KEY_384";
zone "example.test" {
	type primary;
	file "$d/example.test.db";
	update-policy {
		grant acme-key zonesub TXT;
		grant acme-key-384 zonesub TXT;
	};
};
EOF
	cat >"$d/example.test.db" <<'EOF'
$TTL 60
@  IN SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 60
@  IN NS ns.example.test.
ns IN A 127.0.0.1
*  IN A 127.0.0.1
EOF
	spawn "$T/named.log" named -g -4 -c "$d/named.conf"
	BIND_PID=$LAST_PID
	export BIND_DIR BIND_PORT BIND_KEY BIND_KEY_384 BIND_PID
	deadline=$((SECONDS + 20))
	until dig +short +norec +time=1 +tries=1 @127.0.0.1 -p "$BIND_PORT" \
	    SOA example.test 2>/dev/null | grep -q hostmaster; do
		if ! kill -0 "$BIND_PID" 2>/dev/null; then
			show_log "$T/named.log"
			fail "named exited at startup"
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			show_log "$T/named.log"
			fail "named did not answer for example.test within 20 s"
		fi
		sleep 0.1
	done
}

# bind_txt NAME: one value per line, sorted; nothing when there is none.
bind_txt() {
	dig +short +norec +time=2 +tries=2 @127.0.0.1 -p "$BIND_PORT" TXT "$1" |
		tr -d '"' | sort
}

# pebble_start_dns ADDR:PORT [VAR=VALUE ...]: lib.sh's pebble_start, but
# Pebble resolves (and checks dns-01 TXT records) at ADDR:PORT instead of
# pebble-challtestsrv.  pebble_start runs `pebble` through PATH, so a
# wrapper first in PATH swaps the -dnsserver value; lib.sh may one day
# take the address itself and make this unnecessary.
pebble_start_dns() {
	local server=$1 real bin=$T/pebble-dns-bin

	shift
	real=$(command -v pebble) || fail "pebble not found: install pebble"
	mkdir -p "$bin"
	cat >"$bin/pebble" <<EOF
#!/bin/sh
# Pebble, with its DNS server replaced by $server (see bind.sh).
prev=
for a do
	shift
	[ "\$prev" = -dnsserver ] && a=$server
	set -- "\$@" "\$a"
	prev=\$a
done
exec $real "\$@"
EOF
	chmod 755 "$bin/pebble"
	PATH=$bin:$PATH pebble_start "$@"
	grep -q -- "-dnsserver" "$bin/pebble" ||
		fail "pebble_start_dns: wrapper lost"
}

# write_dns01_config [write_config options]: write_config always writes
# "challenge = http-01", which a --cert-line cannot repeat.
write_dns01_config() {
	write_config "$@"
	sed -i 's/^challenge = http-01$/challenge = dns-01/' "$CONF"
	grep -q '^challenge = dns-01$' "$CONF" ||
		fail "write_dns01_config: no challenge line in $CONF"
}

# write_dns_hook FILE LOG: the hook of DESIGN.md ("HOOK add|remove NAME
# VALUE") for pebble-challtestsrv.  Its /clear-txt drops every value of a
# name, while the wildcard and the base name share one: so the hook keeps
# each name's values in a file and, on remove, sets the rest again.
write_dns_hook() {
	local file=$1 hooklog=$2 state=$T/hook-state

	mkdir -p "$state"
	cat >"$file" <<EOF
#!/bin/sh
set -eu
echo "\$*" >>"$hooklog"
[ \$# -eq 3 ] || { echo "usage: \$0 add|remove NAME VALUE" >&2; exit 2; }
verb=\$1 name=\$2 value=\$3
mgmt=http://127.0.0.1:$CHALLTESTSRV_PORT
values="$state/\$name"
exec 9>"\$values.lock"
flock 9
touch "\$values"
case \$verb in
add)
	echo "\$value" >>"\$values"
	curl -fsS -d "{\"host\":\"\$name\",\"value\":\"\$value\"}" "\$mgmt/set-txt"
	;;
remove)
	grep -vxF -- "\$value" "\$values" >"\$values.new" || true
	mv "\$values.new" "\$values"
	curl -fsS -d "{\"host\":\"\$name\"}" "\$mgmt/clear-txt"
	while read -r v; do
		curl -fsS -d "{\"host\":\"\$name\",\"value\":\"\$v\"}" "\$mgmt/set-txt"
	done <"\$values"
	;;
*)
	echo "unknown verb \$verb" >&2
	exit 2
	;;
esac
echo "\$verb \$name: done"
EOF
	chmod 755 "$file"
}

# wait_file_lines FILE EXTENDED-REGEX N SECONDS
wait_file_lines() {
	local deadline=$((SECONDS + $4)) n

	while :; do
		n=$(grep -Ec -- "$2" "$1" 2>/dev/null || true)
		[ "${n:-0}" -ge "$3" ] && return 0
		[ "$SECONDS" -lt "$deadline" ] ||
			fail "$1: expected $3 lines matching /$2/ within $4 s, found ${n:-0}"
		sleep 0.2
	done
}

# challtestsrv_txt NAME: the TXT values pebble-challtestsrv serves, sorted.
challtestsrv_txt() {
	dig +short +time=2 +tries=2 @127.0.0.1 -p "$DNS_PORT" TXT "$1" |
		tr -d '"' | sort
}

# cert_sans FILE: "DNS:a DNS:b " sorted, as t-issue.sh prints them.
cert_sans() {
	openssl x509 -in "$1" -noout -ext subjectAltName |
		tail -n +2 | tr ',' '\n' | sed 's/^ *//' | grep . | sort | tr '\n' ' '
}
