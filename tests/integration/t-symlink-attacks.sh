#!/bin/bash
# Symbolic links planted where the daemon writes are never written through
# (issue 10): whoever can write in the webroot or, by mistake, in the
# state directory must not make the daemon create, overwrite, sweep or
# remove a file elsewhere.  A victim file and a victim directory (holding
# files with the names the daemon uses) are outside both; links to them
# are planted
#   1. before the first start: certs/api (a certificate's directory),
#      accounts/evil (a CA's account directory), the acme-challenge
#      directory of a webroot: those certificates fail with an error
#      naming the link, the others are issued;
#   2. before a restart: temporary names (swept: the link goes, not its
#      target), state.json, the next version's v<N>, account-key.pem.next
#      (where a rollover stages its key): the rollover and a renewal work;
#   3. during renewals: an attacker loop plants links at the next versions'
#      names, swaps a new empty v<N> for a link, replaces state.json; then
#      in the webroot it turns every challenge file into a link to the
#      victim (the renewal fails cleanly if Pebble reads the victim).
# After each step the victims are unchanged (content, mode, owner, time),
# the error is clear, and `current` is a complete, valid certificate.
# (t-webroot.sh covers the webroot without links; t-key-file-modes.sh the
# modes of what is written.)
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

need busybox busybox

run() {
	local rc=0

	"$ACMECTL" -s "$SOCK" "$@" >"$T/out" 2>"$T/err" </dev/null || rc=$?
	echo "$rc"
}

# The victims, with names the daemon writes, so a followed link would
# change them.
victim=$T/victim
vdir=$T/victim-dir
echo "the victim: must stay as it is" >"$victim"
mkdir -p "$vdir/v1"
for f in privkey.pem cert.pem state.json account-key.pem account.json \
	account-key.pem.next x.tmp.ABCDEFGH v1/privkey.pem; do
	echo "victim's $f" >"$vdir/$f"
done
chmod 644 "$victim"
touch -d '2020-01-01 00:00:00' "$victim" "$vdir"/* "$vdir/v1"/* "$vdir/v1" "$vdir"

snapshot() {
	find "$victim" "$vdir" -printf '%p %y %m %U:%G %s %T@ %l\n' | sort
	find "$victim" "$vdir" -type f -exec sha256sum {} + | sort
}
before=$(snapshot)
assert_victims() {
	local now

	now=$(snapshot)
	[ "$now" = "$before" ] ||
		fail "$1: the victims changed: $(diff <(echo "$before") <(echo "$now"))"
}

# check_current NAME: current is a v<N> directory with a valid certificate
# and its key.
check_current() {
	local d cur tgt out

	d=$(cert_dir "$1")
	cur=$d/current
	tgt=$(readlink "$cur") || fail "$1: no current"
	[[ $tgt =~ ^v[0-9]+$ ]] || fail "$1: current -> '$tgt', not v<N>"
	[ -d "$d/$tgt" ] && [ ! -L "$d/$tgt" ] ||
		fail "$1: current -> $tgt, which is not a real directory: $(ls -la "$d")"
	out=$(openssl verify -CAfile "$PEBBLE_ROOT" -untrusted "$cur/chain.pem" \
		"$cur/cert.pem" 2>&1) || fail "$1: openssl verify $tgt: $out"
	assert_eq "$1: key of $tgt/privkey.pem vs cert.pem" \
		"$(openssl x509 -in "$cur/cert.pem" -noout -pubkey)" \
		"$(openssl pkey -in "$cur/privkey.pem" -pubout 2>&1)"
	echo "$tgt"
}

pebble_start
www=$T/www
mkdir -p "$www"
spawn "$T/httpd.log" busybox httpd -f -p "127.0.0.1:$HTTP01_PORT" -h "$www"
wait_port "$HTTP01_PORT" 10 || fail "busybox httpd did not listen on $HTTP01_PORT"

# --- 1. before the first start ----------------------------------------------

mkdir -p "$STATE_DIR/certs" "$STATE_DIR/accounts" "$T/www2/.well-known"
ln -s "$vdir" "$STATE_DIR/certs/api"
ln -s "$vdir" "$STATE_DIR/accounts/evil"
ln -s "$vdir" "$T/www2/.well-known/acme-challenge"

write_config --name www --domains "a.example.test" \
	--cert-line "webroot = $www" \
	--append "[certificate api]
domains = api.example.test
ca = pebble
challenge = http-01
webroot = $www

[ca evil]
directory = $PEBBLE_DIR_URL
contact = mailto:ops@example.test
accept-tos = yes
trust-bundle = $PEBBLE_CA

[certificate acct]
domains = acct.example.test
ca = evil
challenge = http-01
webroot = $www

[certificate wr]
domains = wr.example.test
ca = pebble
challenge = http-01
webroot = $T/www2"
daemon_start
wait_state www valid 60
for n in api acct wr; do
	wait_state "$n" backoff 60
done
assert_contains "api: last_error" "$STATE_DIR/certs/api: a symbolic link, refused" \
	"$(cert_field api last_error)"
assert_contains "acct: last_error" "$STATE_DIR/accounts/evil: a symbolic link, refused" \
	"$(cert_field acct last_error)"
assert_contains "wr: last_error" "a symlink is refused" "$(cert_field wr last_error)"
assert_victims "after the first issuance"
v=$(check_current www)
assert_eq "www's first version" v1 "$v"

# --- 2. before a restart ----------------------------------------------------

daemon_stop
acct=$STATE_DIR/accounts/pebble
cd_www=$(cert_dir www)
ln -s "$victim" "$acct/account-key.pem.tmp.AAAAAAAA"
echo leftover >"$acct/account.json.tmp.BBBBBBBB"
ln -s "$victim" "$acct/account-key.pem.next"
ln -s "$victim" "$cd_www/state.json.tmp.CCCCCCCC"
ln -s "$victim" "$cd_www/v1/privkey.pem.tmp.DDDDDDDD"
ln -sfn "$victim" "$cd_www/state.json"
ln -s "$vdir" "$cd_www/v2"
daemon_start
wait_state www valid 30
left=$(find "$acct" "$cd_www" -name '*.tmp.*')
assert_eq "temporary files left after the start" "" "$left"
[ ! -e "$cd_www/v2" ] || fail "the link at v2 (newer than current) is still there"
assert_victims "after the restart's sweep"

assert_eq "rollover with a link at account-key.pem.next: exit status" 0 \
	"$(run rollover pebble)"
[ -f "$acct/account-key.pem" ] && [ ! -L "$acct/account-key.pem" ] ||
	fail "account-key.pem is not a regular file after the rollover: $(ls -la "$acct")"
assert_file_mode "$acct/account-key.pem" 600
[ ! -e "$acct/account-key.pem.next" ] && [ ! -L "$acct/account-key.pem.next" ] ||
	fail "account-key.pem.next is still there after the rollover"
assert_eq "force-renew www after the rollover: exit status" 0 "$(run force-renew www)"
[ -f "$cd_www/state.json" ] && [ ! -L "$cd_www/state.json" ] ||
	fail "state.json is not a regular file after a renewal"
assert_victims "after the rollover and a renewal"
check_current www >/dev/null

# --- 3. during renewals -----------------------------------------------------

# attack_state: links ahead of the next versions, an empty new version
# swapped for a link, state.json replaced, until $T/stop exists.
attack_state() {
	local n k d

	while [ ! -e "$T/stop" ]; do
		n=$(readlink "$cd_www/current")
		n=${n#v}
		for k in 1 2 3; do
			ln -sn "$vdir" "$cd_www/v$((n + k))" 2>/dev/null || true
		done
		for d in "$cd_www"/v*; do
			[ -d "$d" ] && [ ! -L "$d" ] || continue
			rmdir "$d" 2>/dev/null && ln -sn "$vdir" "$d" 2>/dev/null
		done
		ln -sfn "$victim" "$cd_www/state.json"
		sleep 0.01
	done
}
spawn "$T/attack-state.log" attack_state
ATTACKER=$LAST_PID
for i in 1 2 3 4; do
	rc=$(run force-renew www)
	if [ "$rc" != 0 ]; then
		log "renewal $i under attack failed (exit $rc): $(cat "$T/out" "$T/err")"
		[ -s "$T/err" ] || [ -s "$T/out" ] ||
			fail "renewal $i failed without a word"
	fi
	assert_victims "renewal $i with links planted in $cd_www"
	check_current www >/dev/null
done
touch "$T/stop"
wait "$ATTACKER" 2>/dev/null || true
lib_forget_pid "$ATTACKER"
rm -f "$T/stop"
log "versions after the attack: $(ls "$cd_www" | tr '\n' ' ')"

# Every challenge file turned into a link to the victim as it appears:
# Pebble may have read it already (the renewal works) or read the victim
# (it fails); either way the daemon's clean-up removes the link only.
attack_webroot() {
	local ch=$www/.well-known/acme-challenge f

	while [ ! -e "$T/stop" ]; do
		for f in "$ch"/*; do
			[ -f "$f" ] && [ ! -L "$f" ] || continue
			ln -sfn "$victim" "$f" 2>/dev/null && echo "swapped $f"
		done
		sleep 0.005
	done
}
before_v=$(check_current www)
spawn "$T/attack-webroot.log" attack_webroot
ATTACKER=$LAST_PID
rc=$(run force-renew www)
touch "$T/stop"
wait "$ATTACKER" 2>/dev/null || true
lib_forget_pid "$ATTACKER"
grep -q '^swapped ' "$T/attack-webroot.log" ||
	fail "the webroot attacker never caught a challenge file: the test proved nothing"
if [ "$rc" = 0 ]; then
	log "the renewal with swapped challenge files worked (Pebble was faster)"
	assert_ne "current after that renewal" "$before_v" "$(check_current www)"
else
	assert_imatch "the error of the renewal with swapped challenge files" \
		'validation failed.*did not match' \
		"$(cat "$T/out" "$T/err") $(cert_field www last_error)"
	assert_eq "current after the failed renewal" "$before_v" "$(check_current www)"
fi
assert_victims "a renewal whose challenge files were swapped for links"
left=$(find "$www/.well-known/acme-challenge" -mindepth 1)
assert_eq "files left in the webroot" "" "$left"

daemon_stop
assert_victims "at the end"
