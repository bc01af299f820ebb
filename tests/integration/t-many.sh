#!/bin/bash
# Many at once: four certificates, two by http-01 and two by tls-alpn-01,
# with max-parallel = 2: all are issued, and never more than two
# renewals run at the same time (but two do).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

names="web1 web2 alpn1 alpn2"

pebble_start
write_config --name web1 --domains "a.example.test b.example.test" \
	--daemon "tls-alpn-01-listen = 127.0.0.1:$TLSALPN01_PORT" \
	--daemon "max-parallel = 2" \
	--append "[certificate web2]
domains = c.example.test
ca = pebble
challenge = http-01

[certificate alpn1]
domains = d.example.test e.example.test
ca = pebble
challenge = tls-alpn-01

[certificate alpn2]
domains = f.example.test
ca = pebble
challenge = tls-alpn-01"
daemon_start
t0=$SECONDS
for n in $names; do
	left=$((90 - (SECONDS - t0)))
	wait_state "$n" valid $((left > 1 ? left : 1))
done
log "all four valid after $((SECONDS - t0)) s"

serials=""
for n in $names; do
	cur=$(cert_dir "$n")/current
	out=$(openssl verify -CAfile "$PEBBLE_ROOT" -untrusted "$cur/chain.pem" \
		"$cur/cert.pem" 2>&1) || fail "$n: openssl verify: $out"
	assert_eq "$n: public key of privkey.pem vs cert.pem" \
		"$(openssl x509 -in "$cur/cert.pem" -noout -pubkey)" \
		"$(openssl pkey -in "$cur/privkey.pem" -pubout)"
	assert_eq "$n: failures" 0 "$(cert_field "$n" failures)"
	serials="$serials$(openssl x509 -in "$cur/cert.pem" -noout -serial)
"
done
assert_eq "distinct serials" 4 "$(printf '%s' "$serials" | sort -u | grep -c .)"
# Each got its own challenge type.
for n in web1 web2; do
	grep -Eq "\\[$n\\].*answering http-01" "$T/daemon.log" ||
		fail "$n: the log shows no http-01 answer"
done
for n in alpn1 alpn2; do
	grep -Eq "\\[$n\\].*answering tls-alpn-01" "$T/daemon.log" ||
		fail "$n: the log shows no tls-alpn-01 answer"
done

# Renewals in flight, from the log: +1 at "renewal started", -1 when it
# ends (installed or failed).
max=$(awk '
	/\]/ && / renewal started for / { if (++run > max) max = run }
	/\]/ && (/: installed v[0-9]/ || /: renewal failed: /) { run-- }
	END { print max + 0 }' "$T/daemon.log")
log "at most $max renewals ran at once"
[ "$max" -le 2 ] || fail "$max renewals ran at once with max-parallel = 2"
[ "$max" -eq 2 ] || fail "renewals ran one at a time ($max) with max-parallel = 2 and four due"

daemon_stop
