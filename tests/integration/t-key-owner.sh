#!/bin/bash
# key-owner = USER:GROUP hands the private key to another user and group:
# privkey.pem and combined.pem are 0640 with that owner and group, while
# the public files stay 0644 and the account key stays the daemon's (0600).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

getent passwd nobody >/dev/null || fail "this machine has no user nobody"
getent group nogroup >/dev/null || fail "this machine has no group nogroup"

pebble_start
write_config --name www --domains "a.example.test" \
	--cert-line "key-owner = nobody:nogroup"
daemon_start
wait_state www valid 60

cur=$(cert_dir www)/current
assert_eq "current" v1 "$(readlink "$cur")"
for f in privkey.pem combined.pem; do
	assert_file_mode "$cur/$f" 640
	assert_eq "owner:group of $f" nobody:nogroup "$(stat -c %U:%G "$cur/$f")"
done
for f in cert.pem chain.pem fullchain.pem; do
	assert_file_mode "$cur/$f" 644
done
assert_eq "public key of privkey.pem vs cert.pem" \
	"$(openssl x509 -in "$cur/cert.pem" -noout -pubkey)" \
	"$(openssl pkey -in "$cur/privkey.pem" -pubout)"
assert_file_mode "$STATE_DIR/accounts/pebble/account-key.pem" 600
assert_eq "owner of the account key" root "$(stat -c %U "$STATE_DIR/accounts/pebble/account-key.pem")"

daemon_stop
