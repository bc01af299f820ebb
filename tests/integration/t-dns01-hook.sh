#!/bin/bash
# dns-01 through dns-01-hook: Pebble validates against pebble-challtestsrv,
# which the hook feeds through its management API.  The hook runs as
# DESIGN.md says ("HOOK add NAME VALUE", later "HOOK remove NAME VALUE"
# with the same arguments), the daemon waits until the record is visible
# at dns-01-resolvers, and the certificate is issued.  A hook that fails
# puts its certificate in backoff with the hook's output in last_error,
# and the record is still removed.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/bind.sh
. "$(dirname "$0")/bind.sh"

pebble_start
write_dns_hook "$T/hook.sh" "$T/hook.log"

# The failing hook: refuses to add, removes fine.
cat >"$T/bad-hook.sh" <<EOF
#!/bin/sh
echo "\$*" >>"$T/bad-hook.log"
if [ "\$1" = add ]; then
	echo "provider says: zone c.example.test is not ours" >&2
	exit 4
fi
EOF
chmod 755 "$T/bad-hook.sh"

write_dns01_config --name www --domains "a.example.test b.example.test" \
	--cert-line "dns-01-hook = $T/hook.sh" \
	--cert-line "dns-01-resolvers = 127.0.0.1:$DNS_PORT" \
	--append "[certificate broken]
domains = c.example.test
ca = pebble
challenge = dns-01
dns-01-hook = $T/bad-hook.sh
dns-01-resolvers = 127.0.0.1:$DNS_PORT"
daemon_start
wait_state www valid 90
wait_state broken backoff 60

# Every name: one add, then one remove with the same arguments.
wait_file_lines "$T/hook.log" '^remove ' 2 20
for n in a b; do
	fqdn=_acme-challenge.$n.example.test.
	adds=$(grep -c "^add $fqdn " "$T/hook.log" || true)
	assert_eq "adds for $fqdn" 1 "$adds"
	add=$(grep "^add $fqdn " "$T/hook.log")
	assert_match "hook add arguments" \
		"^add _acme-challenge\.$n\.example\.test\. [A-Za-z0-9_-]{43}\$" "$add"
	rm_line=$(grep "^remove $fqdn " "$T/hook.log") ||
		fail "no remove for $fqdn in hook.log: $(cat "$T/hook.log")"
	assert_eq "remove arguments for $fqdn" "remove ${add#add }" "$rm_line"
	# remove comes after add
	addno=$(grep -n "^add $fqdn " "$T/hook.log" | cut -d: -f1)
	rmno=$(grep -n "^remove $fqdn " "$T/hook.log" | cut -d: -f1)
	[ "$addno" -lt "$rmno" ] || fail "remove before add for $fqdn"
	# and the record is gone from the DNS
	assert_eq "TXT left at challtestsrv for $fqdn" "" "$(challtestsrv_txt "$fqdn")"
done

# The daemon checked visibility before telling the CA.
assert_file_contains "$T/daemon.log" \
	"TXT _acme-challenge.a.example.test. is visible at 1 server"
# The hook's output reached the log, tagged with the certificate's name.
assert_file_contains "$T/daemon.log" "[www]: dns-01-hook: add _acme-challenge.a.example.test.: done"

# The certificate: chain to Pebble's root, exactly the two names.
cur=$(cert_dir www)/current
out=$(openssl verify -CAfile "$PEBBLE_ROOT" -untrusted "$cur/chain.pem" \
	"$cur/cert.pem" 2>&1) || fail "openssl verify: $out"
assert_eq "subjectAltName" "DNS:a.example.test DNS:b.example.test " \
	"$(cert_sans "$cur/cert.pem")"

# The failing hook: its exit status and output in last_error, no
# certificate, and the record withdrawn all the same.
err=$(cert_field broken last_error)
assert_contains "last_error of broken" "exited with status 4" "$err"
assert_contains "last_error of broken" "zone c.example.test is not ours" "$err"
assert_contains "last_error of broken" "dns-01-hook add _acme-challenge.c.example.test." "$err"
wait_file_lines "$T/bad-hook.log" '^remove _acme-challenge\.c\.example\.test\. ' 1 20
[ ! -e "$(cert_dir broken)/current" ] || fail "broken got a certificate"

daemon_stop
