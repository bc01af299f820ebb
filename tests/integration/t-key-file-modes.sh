#!/bin/bash
# Private keys are never readable by anyone else, at any moment (DESIGN.md:
# "Keys are never logged and never world-readable"; issue 10), proved from
# the daemon's own system calls: strace follows it through two issuances
# (www, and shared with key-owner = nobody:nogroup), a forced renewal of
# each and an account key rollover, with the daemon's umask 000 so that
# nothing the umask would hide goes unseen.  For every file named
# privkey.pem, combined.pem, account-key.pem, account-key.pem.next or a
# temporary file of one of them (*.tmp.*):
#   - every open that may write it creates it: O_CREAT | O_EXCL (no file
#     or link already there is reused or followed), mode 0600, and only
#     under a temporary name;
#   - fchmod only ever sets 0600, or 0640 for shared's key files, and
#     shared's get their owner (fchown) and 0640 before the first byte;
#     no chmod by name, no link();
#   - every rename onto a key file's name moves a file made that way;
# and each kind of file was seen made (the test cannot pass on a trace
# that lacks them).  At the end the files are 0600 (0640 nobody:nogroup
# for shared).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

need strace strace
need pgrep procps
getent passwd nobody >/dev/null || fail "this machine has no user nobody"
getent group nogroup >/dev/null || fail "this machine has no group nogroup"

run() {
	local rc=0

	"$ACMECTL" -s "$SOCK" "$@" >"$T/out" 2>"$T/err" </dev/null || rc=$?
	echo "$rc"
}

pebble_start
LOG_LEVEL=info write_config --name www --domains "a.example.test" \
	--append "[certificate shared]
domains = shared.example.test
ca = pebble
challenge = http-01
key-owner = nobody:nogroup"

# The daemon under strace, one trace file per process or thread (-ff: no
# interleaved lines), file descriptors shown with their paths (-y).  A
# sanitizer build's LeakSanitizer needs ptrace, which strace holds: leaks
# are every other test's business.
REAL=$ACME_RENEWD
cat >"$T/traced" <<EOF
#!/bin/sh
ASAN_OPTIONS="\${ASAN_OPTIONS:+\$ASAN_OPTIONS:}detect_leaks=0"
export ASAN_OPTIONS
exec strace -f -ff -qq -y -s 0 -o "$T/trace" -e signal=none \
	-e trace=open,openat,openat2,creat,chmod,fchmod,fchmodat,chown,fchown,fchownat,lchown,link,linkat,rename,renameat,renameat2,write,pwrite64,writev \
	"$REAL" "\$@"
EOF
chmod 755 "$T/traced"
ACME_RENEWD=$T/traced
umask 000
daemon_start
umask 022
ACME_RENEWD=$REAL
STRACE_PID=$DAEMON_PID

wait_state www valid 60
wait_state shared valid 60
assert_eq "force-renew www: exit status" 0 "$(run force-renew www)"
assert_eq "force-renew shared: exit status" 0 "$(run force-renew shared)"
assert_eq "rollover pebble: exit status" 0 "$(run rollover pebble)"

# Stop the daemon itself (strace's child); strace exits with its status.
dpid=$(pgrep -P "$STRACE_PID" | head -n 1)
[ -n "$dpid" ] || fail "no daemon under strace (pid $STRACE_PID)"
kill -TERM "$dpid"
rc=0
wait "$STRACE_PID" || rc=$?
lib_forget_pid "$STRACE_PID"
DAEMON_PID=
assert_eq "daemon exit status after SIGTERM (through strace)" 0 "$rc"

# ---------------------------------------------------------------------------
# The trace

key_re='/(privkey\.pem|combined\.pem|account-key\.pem(\.next)?)(\.tmp\.[A-Za-z0-9]+)?$'
tmp_re='\.tmp\.[A-Za-z0-9]+$'
shared_re='/certs/shared/v[0-9]+/'

declare -A made=()	# path -> created O_CREAT|O_EXCL 0600 (then renamed)
declare -A owned=()	# path -> fchown seen
declare -A mode=()	# path -> last fchmod mode
declare -A kinds=()	# what was made: "www privkey.pem" -> count
nlines=0

# bad LINE WHY
bad() {
	fail "$2: $1"
}

# join DIR NAME: NAME if absolute, else DIR/NAME
join() {
	case $2 in
	/*) echo "$2" ;;
	*) echo "$1/$2" ;;
	esac
}

check_open() {
	local line=$1 args=$2 path=$3 m k

	[[ $path =~ $key_re ]] || return 0
	case $args in
	*O_WRONLY*|*O_RDWR*|*O_CREAT*|*O_TRUNC*) ;;
	*) return 0 ;;	# read-only
	esac
	case $args in
	*O_CREAT*O_EXCL*|*O_EXCL*O_CREAT*) ;;
	*) bad "$line" "a key file opened for writing without O_CREAT|O_EXCL" ;;
	esac
	m=${args##*, }
	assert_eq "mode of the new key file in '$line'" 0600 "$m"
	[[ $path =~ $tmp_re ]] ||
		bad "$line" "a key file created under its final name, not a temporary one"
	made[$path]=1
	k=$(basename "${path%.tmp.*}")
	case $path in
	*/certs/www/*) k="www $k" ;;
	*/certs/shared/*) k="shared $k" ;;
	*/accounts/pebble/*) k="account $k" ;;
	*) bad "$line" "a key file in an unexpected place" ;;
	esac
	kinds[$k]=$((${kinds[$k]:-0} + 1))
}

check_line() {
	local line=$1 p m old new

	if [[ $line =~ ^(open|openat|openat2|creat)\((.*)\)\ =\ [0-9]+\<([^>]*)\>$ ]]; then
		check_open "$line" "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}"
	elif [[ $line =~ ^fchmod\([0-9]+\<([^>]*)\>,\ (0[0-7]*)\) ]]; then
		p=${BASH_REMATCH[1]} m=${BASH_REMATCH[2]}
		[[ $p =~ $key_re ]] || return 0
		if [[ $p =~ $shared_re ]] && [[ ! $p =~ /account-key ]]; then
			[ "$m" = 0640 ] || [ "$m" = 0600 ] ||
				bad "$line" "shared's key file made $m, not 0640"
			[ "$m" != 0640 ] || [ -n "${owned[$p]:-}" ] ||
				bad "$line" "0640 before the owner was set (fchown)"
		else
			[ "$m" = 0600 ] || bad "$line" "a key file made $m, not 0600"
		fi
		mode[$p]=$m
	elif [[ $line =~ ^fchown\([0-9]+\<([^>]*)\>, ]]; then
		p=${BASH_REMATCH[1]}
		[[ $p =~ $key_re ]] || return 0
		[[ $p =~ $shared_re ]] ||
			bad "$line" "a key file given away without key-owner"
		owned[$p]=1
	elif [[ $line =~ ^(write|pwrite64|writev)\([0-9]+\<([^>]*)\>, ]]; then
		p=${BASH_REMATCH[2]}
		[[ $p =~ $key_re ]] || return 0
		[ -n "${made[$p]:-}" ] ||
			bad "$line" "a write to a key file this trace did not see made"
		if [[ $p =~ $shared_re ]] && [[ ! $p =~ /account-key ]]; then
			[ -n "${owned[$p]:-}" ] && [ "${mode[$p]:-}" = 0640 ] ||
				bad "$line" "shared's key written before its owner and mode were set"
		fi
	elif [[ $line =~ ^(chmod|fchmodat|chown|lchown|fchownat|link|linkat)\( ]]; then
		[[ $line =~ (privkey|combined|account-key)\.pem ]] &&
			bad "$line" "a key file changed by name"
		return 0
	elif [[ $line =~ ^renameat2?\([^\<]*\<([^>]*)\>,\ \"([^\"]*)\",\ [^\<]*\<([^>]*)\>,\ \"([^\"]*)\"(,\ [A-Z_0-9]+)?\)\ =\ 0 ]]; then
		old=$(join "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}")
		new=$(join "${BASH_REMATCH[3]}" "${BASH_REMATCH[4]}")
		check_rename "$line" "$old" "$new"
	elif [[ $line =~ ^rename\(\"([^\"]*)\",\ \"([^\"]*)\"\)\ =\ 0 ]]; then
		check_rename "$line" "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
	fi
}

check_rename() {
	[[ $3 =~ $key_re ]] || return 0
	[ -n "${made[$2]:-}" ] ||
		bad "$1" "renamed onto a key file from $2, which this trace did not see made O_EXCL 0600"
	made[$3]=1
}

# Trace files in the order their processes started (the lowest pid is the
# daemon's main thread, which makes every file).
for f in $(ls "$T"/trace.* | sort -t. -k2 -n); do
	while IFS= read -r line; do
		nlines=$((nlines + 1))
		check_line "$line"
	done < <(grep -E '(privkey|combined|account-key)\.pem' "$f" || true)
done
log "$nlines trace lines about key files checked"

for k in "www privkey.pem" "www combined.pem" "shared privkey.pem" \
	"shared combined.pem" "account account-key.pem" \
	"account account-key.pem.next"; do
	[ "${kinds[$k]:-0}" -ge 1 ] ||
		fail "the trace shows no $k made (got: ${!kinds[*]})"
done
# issue + forced renewal: two versions each
assert_eq "privkey.pem of www made" 2 "${kinds[www privkey.pem]}"
assert_eq "privkey.pem of shared made" 2 "${kinds[shared privkey.pem]}"
[ "${#owned[@]}" -ge 4 ] ||
	fail "fchown seen on ${#owned[@]} of shared's key files, expected >= 4"

# ---------------------------------------------------------------------------
# The files as they are, made under umask 000

for f in privkey.pem combined.pem; do
	assert_file_mode "$(cert_dir www)/current/$f" 600
	assert_file_mode "$(cert_dir shared)/current/$f" 640
	assert_eq "owner of shared's $f" nobody:nogroup \
		"$(stat -c %U:%G "$(cert_dir shared)/current/$f")"
done
assert_file_mode "$STATE_DIR/accounts/pebble/account-key.pem" 600
left=$(find "$STATE_DIR" -name '*.tmp.*' -o -name 'account-key.pem.next')
assert_eq "temporary files left" "" "$left"
