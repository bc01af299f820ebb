#!/bin/bash
# Secrets never reach the log (DESIGN.md: "Keys are never logged and never
# world-readable"; issue 7: nor EAB HMAC keys, TSIG secrets or the
# private side of key authorizations), at log-level = debug, on stderr,
# through everything the daemon does with them:
#   - an EAB-requiring Pebble: the account registered with eab-kid +
#     eab-hmac-key-file; a second CA section with a wrong HMAC key (refused,
#     so the error paths run too);
#   - dns-01 by RFC 2136 to BIND with a TSIG key; a second certificate with
#     a wrong TSIG secret (BADSIG);
#   - http-01 certificates, one RSA, one with reuse-key = yes;
#   - forced renewals (new versions), a config reload (the key files are
#     read again), an account key rollover, a restart (keys read back from
#     disk) and a renewal after it.
# Then the whole daemon log and every acmectl answer are searched for each
# secret in the encodings a program would print it in: the EAB key
# (base64url as given, base64, hex), the TSIG secrets (base64 as in the key
# file, base64url, hex), every private key's PEM body lines (of each
# certificate version's privkey.pem and of each account key, the one
# before the rollover too) and its private numbers (EC private scalar, RSA
# private exponent and primes...) in hex, base64 and base64url; for each,
# pieces of 20 characters (32 for hex), so a truncated secret is found
# too.  A key authorization's thumbprint part is public and allowed.
# Files: privkey.pem, combined.pem and account-key.pem are 0600, and no
# other file of the state dir (state.json, account.json, ...) holds key
# material.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/bind.sh
. "$(dirname "$0")/bind.sh"

command -v basenc >/dev/null || fail "basenc not found (coreutils)"

b64url_key() {
	openssl rand 32 | basenc --base64url -w 0 | tr -d '='
}

KEYS=$T/keys			# a copy of every private key seen, by content
CTL=$T/ctl			# every acmectl answer
SECRETS=$T/secrets.tsv		# LABEL <tab> PATTERN
mkdir -p "$KEYS" "$CTL"
: >"$SECRETS"

# ---------------------------------------------------------------------------
# Secrets and how they may be spelt

# secret_add LABEL STRING [WIDTH]: STRING and its pieces of WIDTH
# characters (default 20) every WIDTH/5 characters, the last one flush
# with the end: any 6/5 WIDTH characters of STRING hold a piece.
secret_add() {
	local label=$1 s=$2 w=${3:-20} i n

	n=${#s}
	[ "$n" -ge 12 ] || fail "secret_add $label: '$s' is too short to search for"
	printf '%s\t%s\n' "$label" "$s" >>"$SECRETS"
	[ "$n" -gt "$w" ] || return 0
	for ((i = 0; i + w <= n; i += w / 5)); do
		printf '%s\t%s\n' "$label" "${s:i:w}" >>"$SECRETS"
	done
	printf '%s\t%s\n' "$label" "${s:n-w:w}" >>"$SECRETS"
}

# hex_bytes HEX: the bytes (to stdout).
hex_bytes() {
	# shellcheck disable=SC2059
	printf "$(printf '%s' "$1" | sed 's/../\\x&/g')"
}

# secret_add_bytes LABEL HEX: the bytes HEX spells, as hex, base64 and
# base64url.  Inside a longer base64 text (a DER key on one line, say)
# the secret may start at any of the 3 byte positions of a base64 group:
# so also the base64 of the bytes without the first one or two.
secret_add_bytes() {
	local label=$1 hex=$2 k

	hex=$(printf '%s' "$hex" | tr 'A-F' 'a-f')
	secret_add "$label (hex)" "$hex" 32
	for k in 0 1 2; do
		secret_add "$label (base64, +$k)" \
			"$(hex_bytes "${hex:2*k}" | base64 -w 0 | tr -d '=')"
		secret_add "$label (base64url, +$k)" \
			"$(hex_bytes "${hex:2*k}" | basenc --base64url -w 0 | tr -d '=')"
	done
}

# secret_add_b64 LABEL BASE64-OR-BASE64URL: a secret given in base64.
secret_add_b64() {
	local label=$1 text=$2 std hex

	secret_add "$label (as written)" "$text"
	std=$(printf '%s' "$text" | tr -- '-_' '+/' | tr -d '=')
	while [ $((${#std} % 4)) -ne 0 ]; do std="$std="; done
	hex=$(printf '%s' "$std" | base64 -d | od -An -v -tx1 | tr -d ' \n')
	[ -n "$hex" ] || fail "secret_add_b64 $label: '$text' is not base64"
	secret_add_bytes "$label" "$hex"
}

# secret_add_key LABEL PEM-FILE: the key's private numbers (EC private
# scalar; RSA private exponent, primes, CRT values), and the PEM body
# lines (as base64 and base64url) that hold any of their bytes: the other
# lines hold the public key only, which a CSR or a certificate in a log
# may show at the same alignment.
secret_add_key() {
	local label=$1 f=$2 line name hex der idx lo hi n=0 k=0 private
	local -a ranges=()

	der=$(sed '/^-----/d' "$f" | base64 -d | od -An -v -tx1 | tr -d ' \n')
	[ -n "$der" ] || fail "no PEM body in $f"
	# openssl's text form: "name:" then indented hex lines.
	while read -r name hex; do
		hex=$(printf '%s' "$hex" | sed 's/^\(00\)*//')
		[ -n "$hex" ] || continue
		secret_add_bytes "$label ($name)" "$hex"
		idx=$(awk -v d="$der" -v h="$hex" 'BEGIN { print index(d, h) }')
		if [ "$idx" -eq 0 ] || [ $(((idx - 1) % 2)) -ne 0 ]; then
			fail "secret_add_key: $name of $f not found in its DER"
		fi
		ranges+=("$(((idx - 1) / 2)) $(((idx - 1 + ${#hex}) / 2))")
		n=$((n + 1))
	done < <(openssl pkey -in "$f" -noout -text | awk '
		/^[A-Za-z0-9-]+:/ { name = $1; sub(/:.*/, "", name); next }
		/^ / && name ~ /^(priv|privateExponent|prime1|prime2|exponent1|exponent2|coefficient)$/ {
			h = $0; gsub(/[ :]/, "", h); hex[name] = hex[name] h
		}
		END { for (n in hex) print n, hex[n] }')
	[ "$n" -gt 0 ] || fail "no private numbers in $f (openssl pkey -text)"
	# Body line k holds DER bytes [48k, 48k + 48).
	while read -r line; do
		case $line in
		-----*) continue ;;
		esac
		private=0
		for r in "${ranges[@]}"; do
			lo=${r% *}
			hi=${r#* }
			if [ "$lo" -lt $((48 * k + 48)) ] && [ "$hi" -gt $((48 * k)) ]; then
				private=1
			fi
		done
		k=$((k + 1))
		[ "$private" = 1 ] || continue
		[ "${#line}" -ge 20 ] || continue
		printf '%s\t%s\n' "$label (PEM line)" "$line" >>"$SECRETS"
		printf '%s\t%s\n' "$label (PEM line, base64url)" \
			"$(printf '%s' "$line" | tr '+/' '-_' | tr -d '=')" >>"$SECRETS"
	done <"$f"
}

# snapshot_keys: copy every private key now in the state dirs to $KEYS,
# named by content: later versions, a rollover or pruning must not make
# us forget one.
snapshot_keys() {
	local f sum

	while read -r f; do
		sum=$(sha256sum <"$f" | cut -c1-16)
		[ -e "$KEYS/$sum.pem" ] || cp "$f" "$KEYS/$sum.pem"
	done < <(find "$T"/state* \( -name privkey.pem -o -name account-key.pem \) -type f)
}

# scan FILE...: print "FILE:LINE: LABEL" for every secret found.
scan() {
	local hits line pat

	cut -f2 "$SECRETS" | sort -u >"$T/patterns"
	hits=$(grep -F -n -i -f "$T/patterns" "$@" /dev/null || true)
	[ -n "$hits" ] || return 0
	while IFS= read -r line; do
		while read -r pat; do
			case ${line,,} in
			*"${pat,,}"*)
				printf '%s: %s (%s)\n' "$(printf '%s' "$line" | cut -d: -f1-2)" \
					"$(grep -F -m 1 "	$pat" "$SECRETS" | cut -f1)" "$pat"
				;;
			esac
		done <"$T/patterns"
	done <<<"$hits" | sort -u | head -n 20
}

# ---------------------------------------------------------------------------
# Peers: BIND with TSIG, Pebble that requires EAB and resolves through BIND

eab=$(b64url_key)
eab_wrong=$(b64url_key)
(umask 077 && printf '%s\n' "$eab" >"$T/eab.key" &&
	printf '%s\n' "$eab_wrong" >"$T/eab-wrong.key")
export PEBBLE_CONFIG_EXTRA='"externalAccountBindingRequired": true, "externalAccountMACKeys": {"kid-1": "'$eab'"}'
bind_start
tsig-keygen -a hmac-sha256 acme-key >"$T/wrong-tsig.key"
chmod 600 "$T/wrong-tsig.key"
pebble_start_dns "127.0.0.1:$BIND_PORT"
jq -e '.meta.externalAccountRequired == true' "$T/pebble/dir.json" >/dev/null ||
	fail "Pebble's directory does not require EAB: $(cat "$T/pebble/dir.json")"

tsig_secret() {
	sed -n 's/.*secret "\([^"]*\)".*/\1/p' "$1"
}
tsig=$(tsig_secret "$BIND_KEY")
tsig_wrong=$(tsig_secret "$T/wrong-tsig.key")
[ -n "$tsig" ] || fail "no secret in $BIND_KEY"
[ -n "$tsig_wrong" ] || fail "no secret in $T/wrong-tsig.key"
assert_ne "the two TSIG secrets" "$tsig" "$tsig_wrong"

write_config --name web --domains "w.example.test" \
	--cert-line "key-type = rsa-2048" \
	--ca-line "eab-kid = kid-1" --ca-line "eab-hmac-key-file = $T/eab.key" \
	--append "[ca wrongeab]
directory = $PEBBLE_DIR_URL
contact = mailto:ops@example.test
accept-tos = yes
trust-bundle = $PEBBLE_CA
eab-kid = kid-1
eab-hmac-key-file = $T/eab-wrong.key

[certificate dns]
domains = d.example.test
ca = pebble
challenge = dns-01
dns-01-rfc2136-server = 127.0.0.1:$BIND_PORT
dns-01-tsig-key-file = $BIND_KEY
dns-01-resolvers = 127.0.0.1:$BIND_PORT

[certificate keep]
domains = k.example.test
ca = pebble
challenge = http-01
reuse-key = yes

[certificate wrongtsig]
domains = t.example.test
ca = pebble
challenge = dns-01
dns-01-rfc2136-server = 127.0.0.1:$BIND_PORT
dns-01-tsig-key-file = $T/wrong-tsig.key
dns-01-resolvers = 127.0.0.1:$BIND_PORT

[certificate wrongeab]
domains = e.example.test
ca = wrongeab
challenge = http-01"
grep -q '^log-level = debug$' "$CONF" || fail "no log-level = debug in $CONF"
grep -q '^log-target = stderr$' "$CONF" || fail "no log-target = stderr in $CONF"

# ctl NAME ARGS...: acmectl ARGS, its output kept as $CTL/NAME; fails
# unless it exits 0.
ctl() {
	local name=$1 rc=0

	shift
	acmectl "$@" >"$CTL/$name" 2>&1 || rc=$?
	[ "$rc" -eq 0 ] || {
		cat "$CTL/$name" >&2
		fail "acmectl $*: exit status $rc"
	}
}

# ---------------------------------------------------------------------------
# Everything the daemon does with its secrets

t0=$SECONDS
daemon_start
for c in web dns keep; do
	wait_state "$c" valid 90
done
wait_state wrongtsig backoff 60
wait_state wrongeab backoff 60
log "first issuance: $((SECONDS - t0)) s"
assert_imatch "wrongeab's last_error" 'unauthorized' "$(cert_field wrongeab last_error)"
assert_imatch "wrongtsig's last_error" 'BADSIG|bad|refused' "$(cert_field wrongtsig last_error)"
assert_file_contains "$T/named.log" "acme-key: updating zone 'example.test/IN': adding an RR"
snapshot_keys

for c in web dns keep; do
	ctl "force-renew-$c" force-renew "$c"
done
snapshot_keys
ctl reload reload
ctl rollover rollover pebble
snapshot_keys
ctl force-renew-dns-2 force-renew dns
snapshot_keys
ctl status --json status
for c in web dns keep wrongtsig wrongeab; do
	ctl "show-$c" --json show "$c"
done
ctl version version
daemon_stop

# A restart: the account key and certificate keys are read back.
daemon_start
wait_state web valid 30
ctl force-renew-web-2 force-renew web
ctl status-2 --json status
daemon_stop
snapshot_keys
log "all runs: $((SECONDS - t0)) s"

assert_eq "versions of web" "v1 v2 v3" \
	"$(find "$STATE_DIR/certs/web" -mindepth 1 -maxdepth 1 -type d -name 'v*' \
		-printf '%f\n' | sort -V | tr '\n' ' ' | sed 's/ $//')"
cmp -s "$STATE_DIR/certs/keep/v1/privkey.pem" "$STATE_DIR/certs/keep/v2/privkey.pem" ||
	fail "reuse-key = yes: keep's v2 has another key than v1"

# The log is the verbose one: debug lines, challenge tokens.
grep -q '^acme-renewd: debug' "$T/daemon.log" || fail "no debug line in the daemon log"

# ---------------------------------------------------------------------------
# The secrets

secret_add_b64 "EAB HMAC key" "$eab"
secret_add_b64 "wrong EAB HMAC key" "$eab_wrong"
secret_add_b64 "TSIG secret" "$tsig"
secret_add_b64 "wrong TSIG secret" "$tsig_wrong"
nkeys=0
for k in "$KEYS"/*.pem; do
	secret_add_key "private key $(basename "$k" .pem)" "$k"
	nkeys=$((nkeys + 1))
done
# web v1-v3, dns v1-v3, keep (one key), two account keys at least.
[ "$nkeys" -ge 9 ] || fail "only $nkeys distinct private keys seen: $(ls "$KEYS")"
log "$nkeys private keys, $(cut -f2 "$SECRETS" | sort -u | wc -l) patterns"

# The search finds what it looks for, in forms a leak could take: the
# EAB key in standard base64, an account key as a JWK, a piece of a TSIG
# secret, a piece of an RSA key's DER in one line; and public keys, a CSR
# and certificates are not secrets.
acc=$STATE_DIR/accounts/pebble/account-key.pem
d=$(openssl pkey -in "$acc" -noout -text |
	awk '/^priv:/ { f = 1; next } /^[A-Za-z]/ { f = 0 } f' | tr -d ' :\n' | sed 's/^\(00\)*//')
[ -n "$d" ] || fail "self-test: no private scalar in $acc"
rsa_der=$(sed '/^-----/d' "$STATE_DIR/certs/web/v2/privkey.pem" | tr -d '\n')
while read -r leak; do
	printf 'acme-renewd: debug: %s\n' "$leak" >"$T/selftest"
	[ -n "$(scan "$T/selftest")" ] || fail "self-test: the search misses '$leak'"
done <<EOF
eab $(printf '%s' "$eab" | tr -- '-_' '+/')=
{"kty":"EC","d":"$(hex_bytes "$d" | basenc --base64url -w 0 | tr -d '=')"}
tsig ${tsig:3:24}
key ${rsa_der:401:80}
EOF
openssl pkey -in "$acc" -pubout >"$T/selftest"
openssl req -new -key "$STATE_DIR/certs/web/v2/privkey.pem" -subj /CN=w.example.test \
	-outform DER | base64 -w 0 >>"$T/selftest"
cat "$STATE_DIR"/certs/*/v*/fullchain.pem >>"$T/selftest"
found=$(scan "$T/selftest")
[ -z "$found" ] || fail "self-test: public keys, a CSR and certificates taken for secrets:
$found"

found=$(scan "$T/daemon.log")
[ -z "$found" ] || fail "secrets in the daemon log:
$found"
found=$(scan "$CTL"/*)
[ -z "$found" ] || fail "secrets in acmectl's answers:
$found"

# ---------------------------------------------------------------------------
# Files

n=0
while read -r f; do
	assert_file_mode "$f" 600
	n=$((n + 1))
done < <(find "$STATE_DIR" \( -name privkey.pem -o -name combined.pem -o -name account-key.pem \) -type f)
[ "$n" -ge 10 ] || fail "only $n key files under $STATE_DIR"

# No other file of the state dir holds a secret or a private key.
mapfile -t others < <(find "$STATE_DIR" -type f ! -name privkey.pem ! -name combined.pem \
	! -name account-key.pem)
[ "${#others[@]}" -gt 0 ] || fail "no other file in $STATE_DIR"
bad=$(grep -l -e 'PRIVATE KEY' "${others[@]}" || true)
assert_eq "files of the state dir with 'PRIVATE KEY' (other than the key files)" "" "$bad"
found=$(scan "${others[@]}")
[ -z "$found" ] || fail "secrets in files of the state dir:
$found"
for f in "$STATE_DIR"/certs/*/state.json "$STATE_DIR"/accounts/*/account.json; do
	[ -f "$f" ] || continue
	jq -e '[.. | objects | select(has("d") or has("p") or has("q") or has("dp") or has("k"))] | length == 0' \
		"$f" >/dev/null || fail "$f holds a private JWK member (d, p, q, dp or k)"
done
assert_file "$STATE_DIR/certs/web/state.json"
assert_file "$STATE_DIR/accounts/pebble/account.json"
