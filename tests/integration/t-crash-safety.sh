#!/bin/bash
# Crash safety (DESIGN.md, "Files on disk"): eight short-lived certificates
# (Pebble certificateValidityPeriod 30 s, so each renews every ~20 s on its
# own) plus forced renewals from two background clients, while the daemon
# is killed with SIGKILL and started again, CRASH_KILLS times (default 25;
# a bench/ script can run many hundreds): every other kill at a random
# moment 0.05-1.5 s after the start, the others 0-15 ms after a renewal
# logged the start of its install.  After every kill, for every
# certificate that ever had a `current`:
#   - current is a symlink to an existing v<N>, and N never goes back;
#   - privkey.pem and combined.pem hold the key of cert.pem;
#   - cert.pem verifies with chain.pem up to Pebble's root;
#   - fullchain.pem is cert.pem + chain.pem, combined.pem ends with it;
#   - the private files are 0600;
#   - state.json, where present, parses;
# and every temporary file ("*.tmp.*") and every unfinished version (newer
# than current) the kill left behind is gone once the daemon has started
# again.  At the end every certificate is valid again and the daemon stops
# cleanly.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

KILLS=${CRASH_KILLS:-25}
NCERTS=8
names=""
for i in $(seq "$NCERTS"); do
	names="$names c$i"
done
names=${names# }

PEBBLE_CONFIG_EXTRA='"certificateValidityPeriod": 30' pebble_start

extra=""
for n in $names; do
	[ "$n" = c1 ] && continue
	extra="${extra}[certificate $n]
domains = $n.example.test
ca = pebble
challenge = http-01

"
done
write_config --name c1 --domains "c1.example.test" --append "$extra"

t0=$SECONDS
daemon_start
for n in $names; do
	left=$((90 - (SECONDS - t0)))
	wait_state "$n" valid $((left > 1 ? left : 1))
done
log "all $NCERTS certificates valid after $((SECONDS - t0)) s"

# --- invariants ------------------------------------------------------------

declare -A last_ver=()		# highest current version seen, per certificate
declare -A verified=()		# sha256 of the five files -> already checked
tmp_left=0			# temporary files left behind by the kills

# check_cert NAME WHEN: the invariants for one certificate.
check_cert() {
	local n=$1 when=$2 d cur tgt ver sums cpub out f

	d=$(cert_dir "$n")
	cur=$d/current
	if [ -f "$d/state.json" ]; then
		jq -e . "$d/state.json" >/dev/null 2>&1 ||
			fail "$n ($when): state.json does not parse: $(head -c 300 "$d/state.json")"
	fi
	if [ ! -L "$cur" ]; then
		[ -z "${last_ver[$n]:-}" ] ||
			fail "$n ($when): current is gone (it was v${last_ver[$n]}); $(ls -la "$d")"
		return 0
	fi
	tgt=$(readlink "$cur")
	[[ $tgt =~ ^v([0-9]+)$ ]] ||
		fail "$n ($when): current points at '$tgt', not v<N>"
	ver=${BASH_REMATCH[1]}
	[ -d "$d/$tgt" ] ||
		fail "$n ($when): current -> $tgt, which does not exist; $(ls -la "$d")"
	[ "$ver" -ge "${last_ver[$n]:-0}" ] ||
		fail "$n ($when): current went back from v${last_ver[$n]} to v$ver"
	last_ver[$n]=$ver
	# From here on the version itself, not `current`: after a restart
	# the daemon renews while we look, and `current` may move on between
	# two reads.
	cur=$d/$tgt
	for f in privkey.pem cert.pem chain.pem fullchain.pem combined.pem; do
		# -s: exists and is not empty
		[ -s "$cur/$f" ] ||
			fail "$n ($when): $tgt/$f is missing or empty; $(ls -la "$d/$tgt")"
	done
	# Files already checked with this exact content need no openssl.
	sums=$(cd "$cur" && cat privkey.pem cert.pem chain.pem fullchain.pem \
		combined.pem | sha256sum)
	[ -n "${verified[$sums]:-}" ] && return 0

	cpub=$(openssl x509 -in "$cur/cert.pem" -noout -pubkey 2>&1) ||
		fail "$n ($when): $tgt/cert.pem is not a certificate: $cpub"
	assert_eq "$n ($when): public key of $tgt/privkey.pem vs cert.pem" \
		"$cpub" "$(openssl pkey -in "$cur/privkey.pem" -pubout 2>&1)"
	assert_eq "$n ($when): public key in $tgt/combined.pem vs cert.pem" \
		"$cpub" "$(openssl pkey -in "$cur/combined.pem" -pubout 2>&1)"
	# Pebble's certificates live 30 s: verify whatever the time.
	out=$(openssl verify -no_check_time -CAfile "$PEBBLE_ROOT" \
		-untrusted "$cur/chain.pem" "$cur/cert.pem" 2>&1) ||
		fail "$n ($when): openssl verify $tgt: $out"
	cat "$cur/cert.pem" "$cur/chain.pem" | cmp -s - "$cur/fullchain.pem" ||
		fail "$n ($when): $tgt/fullchain.pem is not cert.pem + chain.pem"
	tail -c "$(stat -c %s "$cur/fullchain.pem")" "$cur/combined.pem" |
		cmp -s - "$cur/fullchain.pem" ||
		fail "$n ($when): $tgt/combined.pem does not end with fullchain.pem"
	assert_file_mode "$cur/privkey.pem" 600
	assert_file_mode "$cur/combined.pem" 600
	verified[$sums]=1
}

check_all() {
	local n

	for n in $names; do
		check_cert "$n" "$1"
	done
}

check_all "before the first kill"
log_off=1

# --- load: forced renewals in the background -------------------------------

# Two clients force renewals of random certificates, whether or not the
# daemon is up (acmectl fails at once while it is down).
forcer() {
	local -a all
	read -r -a all <<<"$names"
	while [ ! -e "$T/stop-forcers" ]; do
		n=${all[RANDOM % ${#all[@]}]}
		rc=0
		timeout 20 "$ACMECTL" -s "$SOCK" force-renew "$n" >/dev/null 2>&1 || rc=$?
		echo "$n $rc"
		sleep 0.$((RANDOM % 5))
	done
}
spawn "$T/forcer1.log" forcer
F1=$LAST_PID
spawn "$T/forcer2.log" forcer
F2=$LAST_PID

# --- the kill loop ---------------------------------------------------------

inflight_kills=0		# kills with at least one renewal under way
inflight_total=0		# renewals under way at a kill, summed
install_kills=0			# kills while a renewal was in its install phase

# The renewals the log shows under way at its end, since the last start:
# "N-under-way N-in-install".
log_inflight() {
	awk '
	/^=== .* daemon_start/ { delete run; delete inst; next }
	/renewal started for / && match($0, /\[c[0-9]+/) {
		n = substr($0, RSTART + 1, RLENGTH - 1); run[n] = 1; inst[n] = 0 }
	/phase install/ && match($0, /\[c[0-9]+/) {
		n = substr($0, RSTART + 1, RLENGTH - 1); inst[n] = 1 }
	(/: installed v[0-9]/ || /renewal failed: /) && match($0, /\[c[0-9]+/) {
		n = substr($0, RSTART + 1, RLENGTH - 1); run[n] = 0; inst[n] = 0 }
	END {
		r = 0; i = 0
		for (n in run) { r += run[n]; i += inst[n] }
		print r, i
	}' "$T/daemon.log"
}

# wait_log SECONDS REGEX: wait (bounded) until a line the log got since the
# last start matches.  tail -f follows it with inotify: the return comes
# within a millisecond or two of the line.
wait_log() {
	grep -E -m1 -q -- "$2" < <(timeout "$1" tail -c +"$log_off" -f "$T/daemon.log")
}

partial_kills=0			# kills that left a version newer than current

loop_t0=$SECONDS
for k in $(seq "$KILLS"); do
	if [ $((k % 2)) = 1 ]; then
		# Anywhere: 0.05 to 1.5 s after the start.
		sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.05 + (r % 146) / 100 }')"
	else
		# Aimed at the install: up to 15 ms after it began.
		if wait_log 5 'phase=install: phase install'; then
			sleep "0.0$(printf '%02d' $((RANDOM % 16)))"
		fi
	fi
	if ! daemon_alive; then
		fail "the daemon died on its own before kill $k"
	fi
	kill -KILL "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null || true
	lib_forget_pid "$DAEMON_PID"
	DAEMON_PID=
	echo "=== $(date '+%F %T') SIGKILL $k" >>"$T/daemon.log"

	read -r r i <<<"$(log_inflight)"
	[ "$r" -gt 0 ] && inflight_kills=$((inflight_kills + 1))
	inflight_total=$((inflight_total + r))
	[ "$i" -gt 0 ] && install_kills=$((install_kills + 1))

	check_all "after kill $k"
	# Versions newer than current: installs the kill cut short (with
	# inode and ctime: once the start has swept one, a renewal of the
	# restarted daemon may well install a new one under the same name).
	partial=""
	for n in $names; do
		[ -n "${last_ver[$n]:-}" ] || continue
		f=$(cert_dir "$n")/v$((last_ver[$n] + 1))
		[ ! -e "$f" ] || partial="$partial $f:$(stat -c %i-%.9Z "$f")"
	done
	[ -z "$partial" ] || partial_kills=$((partial_kills + 1))
	left=$(find "$STATE_DIR" -name '*.tmp.*' 2>/dev/null | sort)
	[ -z "$left" ] || tmp_left=$((tmp_left + $(grep -c . <<<"$left")))

	log_off=$(($(stat -c %s "$T/daemon.log") + 1))
	daemon_start
	# The control socket answers once the start (and its sweep) is done.
	status_json | jq -e .certificates >/dev/null ||
		fail "after kill $k: acmectl status did not answer after the restart"
	if [ -n "$left" ]; then
		while read -r f; do
			[ ! -e "$f" ] || fail "after kill $k: temporary file $f survived the restart; $(ls -la "$(dirname "$f")")"
		done <<<"$left"
	fi
	for p in $partial; do
		f=${p%:*}
		[ "$(stat -c %i-%.9Z "$f" 2>/dev/null)" != "${p##*:}" ] ||
			fail "after kill $k: the unfinished version $f survived the restart; $(ls -la "$f")"
	done
	check_all "after restart $k"
done
loop_secs=$((SECONDS - loop_t0))

touch "$T/stop-forcers"
for p in $F1 $F2; do
	# A forcer waits at most 20 s on a renewal (timeout above).
	wait "$p" || true
	lib_forget_pid "$p"
done

installs=$(grep -c ': installed v[0-9]' "$T/daemon.log" || true)
forced=$(cat "$T/forcer1.log" "$T/forcer2.log" | grep -c ' 0$' || true)
log "$KILLS kills in $loop_secs s: $inflight_kills landed during a renewal" \
	"($inflight_total renewals cut in all, $install_kills kills in an install" \
	"phase, $partial_kills left an unfinished version); $installs installs; $forced forced renewals succeeded;" \
	"$tmp_left temporary files left by kills, all swept at the next start"
[ "$installs" -gt "$NCERTS" ] ||
	fail "only $installs installs: the loop renewed nothing"
[ "$inflight_kills" -gt 0 ] ||
	fail "no kill landed during a renewal: the test exercised nothing"

# --- the end: every certificate valid again ---------------------------------

# A renewal failed under the kills would sit in backoff (1 min), or be
# "failed" (these certificates live 30 s): retry now.
for n in $names; do
	st=$(cert_field "$n" state)
	if [ "$st" = backoff ] || [ "$st" = failed ]; then
		log "$n is in backoff ($(cert_field "$n" last_error)); renewing now"
		acmectl renew "$n" >/dev/null 2>&1 || true
	fi
done
t1=$SECONDS
for n in $names; do
	left=$((60 - (SECONDS - t1)))
	wait_state "$n" valid $((left > 1 ? left : 1))
done
check_all "at the end"
for n in $names; do
	[ -n "${last_ver[$n]:-}" ] || fail "$n never had a current version"
done
daemon_stop
