#!/bin/bash
# scripts/demo.sh: issue one certificate from a local Pebble, show what
# acme-renewd made of it, and stop everything.  Everything it wrote stays
# under ./demo/ (config, state dir, logs) for you to look at afterwards.
#
# Uses the binaries in ./build/ (scripts/bootstrap.sh demo builds them),
# or ACME_RENEWD / ACMECTL from the environment.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
export SRCDIR=$ROOT
export ACME_RENEWD=${ACME_RENEWD:-$ROOT/build/acme-renewd}
export ACMECTL=${ACMECTL:-$ROOT/build/acmectl}
export LIB_DIR=$ROOT/demo
export LOG_LEVEL=info
for b in "$ACME_RENEWD" "$ACMECTL"; do
	if [ ! -x "$b" ]; then
		echo "demo: $b is missing: build first (scripts/bootstrap.sh demo)" >&2
		exit 1
	fi
done

# The same machinery as the integration tests: Pebble and
# pebble-challtestsrv on free loopback ports, a private directory ($T =
# ./demo), and a trap that stops every process it started.
# shellcheck source=tests/integration/lib.sh
. "$ROOT/tests/integration/lib.sh"

section() {
	printf '\n=== %s\n' "$*"
}

section "Starting Pebble (a test ACME CA) and pebble-challtestsrv (its DNS)"
pebble_start
echo "ACME directory: $PEBBLE_DIR_URL"
echo "Pebble validates http-01 at 127.0.0.1:$HTTP01_PORT, where acme-renewd listens"

write_config --name demo --domains "demo.example.test www.demo.example.test"
section "Config $CONF"
cat "$CONF"

section "Starting acme-renewd (log: $T/daemon.log)"
daemon_start
echo "pid $DAEMON_PID, control socket $SOCK"
start=$SECONDS
wait_state demo valid 60
echo "certificate 'demo' is valid after $((SECONDS - start)) s"

section "acmectl -s $SOCK status"
acmectl status || true

section "State directory $STATE_DIR"
(cd "$STATE_DIR" && find . -mindepth 1 \
	\( -type l -printf '%M  %P -> %l\n' \) -o -printf '%M  %P\n' | sort -k2)

section "The certificate (current/cert.pem)"
openssl x509 -in "$STATE_DIR/certs/demo/current/cert.pem" -noout \
	-subject -issuer -dates -ext subjectAltName

section "Stopping"
daemon_stop
echo "acme-renewd exited with status 0; Pebble stops with this script."
echo "Everything is kept in $T (config, state/, daemon.log, pebble.log)."
