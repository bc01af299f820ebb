#!/bin/bash
# scripts/bootstrap.sh MODE: from a fresh Debian 12 (as root, no stdin) to
# a running demo or a full test run.
#
#   demo  install packages, build in build/, run scripts/demo.sh
#   test  install packages, build in build/ and `make check` there, then the
#         same with AddressSanitizer/UBSan in build-asan/, then the libFuzzer
#         targets with clang in build-fuzz/, each run for FUZZ_SECONDS
#         (default 12) and counted as one test, then a few integration
#         tests against build/ under valgrind's memcheck
#         (tests/memcheck.sh); prints the results and a last line
#         "N passed, N failed" over all; exits non-zero when anything
#         failed.
#
# Packages are only installed when one is missing, so a second run skips
# apt entirely (BOOTSTRAP_FORCE_APT=1 runs apt anyway).
set -euo pipefail

# Every Debian package the build, the tests and the demo use.
PACKAGES=(
	# build
	build-essential autoconf automake pkg-config
	libssl-dev libcurl4-openssl-dev libevent-dev libjansson-dev
	libsystemd-dev libinih-dev libldns-dev libcmocka-dev
	# the fuzzers (tests/fuzz/): clang and its libFuzzer runtime
	clang libclang-rt-14-dev
	# the peers of the integration tests
	pebble bind9 bind9-utils bind9-dnsutils prometheus
	# tests/integration tools: curl/openssl/jq/ss everywhere, busybox
	# httpd (webroot), socat (sd_notify), a booted systemd with D-Bus in
	# a container (reload-units), python3 (tests/helpers/acmeproxy.py,
	# the fault-injecting proxy in front of Pebble)
	curl openssl iproute2 ca-certificates jq procps coreutils util-linux
	busybox socat systemd-container dbus polkitd python3
	# memory checks (tests/memcheck.sh), system calls (t-key-file-modes)
	valgrind strace
)

die() {
	echo "bootstrap: $*" >&2
	exit 1
}

usage() {
	echo "usage: $0 demo|test" >&2
	exit 2
}

[ $# -eq 1 ] || usage
MODE=$1
case $MODE in
demo|test) ;;
*) usage ;;
esac

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
exec </dev/null
[ "$(id -u)" -eq 0 ] || die "run me as root (I install Debian packages)"

install_packages() {
	local p missing=() policy=/usr/sbin/policy-rc.d made_policy=0 i

	for p in "${PACKAGES[@]}"; do
		if [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" != installed ]; then
			missing+=("$p")
		fi
	done
	if [ ${#missing[@]} -eq 0 ] && [ "${BOOTSTRAP_FORCE_APT:-0}" != 1 ]; then
		echo "bootstrap: all ${#PACKAGES[@]} packages are installed"
		return 0
	fi
	echo "bootstrap: installing (missing: ${missing[*]})"
	export DEBIAN_FRONTEND=noninteractive
	# bind9 and prometheus would start their system services (named on
	# :53, prometheus on :9090) as they are installed; the tests start
	# their own on free ports, so keep the package scripts from starting
	# anything.  Only when no policy is in place already.
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		made_policy=1
		trap 'rm -f /usr/sbin/policy-rc.d' EXIT
	fi
	for i in 1 2 3; do
		apt-get update && break
		[ "$i" -lt 3 ] || die "apt-get update failed"
		sleep 5
	done
	apt-get install -y --no-install-recommends "${PACKAGES[@]}" ||
		die "apt-get install failed"
	if [ "$made_policy" = 1 ]; then
		rm -f "$policy"
		trap - EXIT
	fi
}

# build DIR [CONFIGURE-ARGS...]: configure and build out of tree in DIR.
build() {
	local dir=$1

	shift
	mkdir -p "$dir"
	(cd "$dir" && ../configure "$@" && make -j"$(nproc)")
}

# LeakSanitizer needs to stop the process's threads with ptrace; in some
# containers (seccomp, no CAP_SYS_PTRACE, running under a tracer) it cannot
# and every sanitized program then fails at exit with "LeakSanitizer has
# encountered a fatal error".  Try it on a program with a known leak: leak
# checks stay on wherever they work (they do on this project's machines).
lsan_works() {
	local d rc=0

	d=$(mktemp -d)
	printf '#include <stdlib.h>\nvoid *p;\nint main(void) { p = malloc(7); p = 0; return 0; }\n' >"$d/leak.c"
	if cc -fsanitize=address -o "$d/leak" "$d/leak.c" 2>/dev/null; then
		ASAN_OPTIONS=detect_leaks=1 "$d/leak" >"$d/out" 2>&1 || true
		grep -q 'detected memory leaks' "$d/out" || rc=1
	else
		rc=1
	fi
	rm -rf "$d"
	return "$rc"
}

# The integration tests run under valgrind in test mode: issuance by
# http-01, renewal with a deploy hook, the control commands, dns-01 by
# RFC 2136 and a reload.
MEMCHECK_TESTS=(t-issue t-deploy-hook t-ctl-commands t-dns01-rfc2136 t-reload)

TOTAL_PASSED=0
TOTAL_FAILED=0
SUMMARY=()

# check NAME DIR: `make check` in DIR; add its "N passed, N failed" to
# the totals (a run that ends without that line counts one failure).
check() {
	check_cmd "$1" "$2" check.log make -j"$(nproc)" check
}

# check_cmd NAME DIR LOG CMD...: the same for CMD run in DIR, its output
# in DIR/LOG.
check_cmd() {
	local name=$1 dir=$2 log=$2/$3 rc=0 line p f

	shift 3
	echo
	echo "bootstrap: $* in $dir ($name)"
	(cd "$dir" && "$@") 2>&1 | tee "$log" || rc=$?
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1 || true)
	if [ -n "$line" ]; then
		p=${line%% passed*}
		f=${line#*, }
		f=${f%% failed}
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			f=1	# make failed after the runner (or around it)
		fi
	else
		p=0
		f=1
		line="no test results (exit status $rc)"
	fi
	TOTAL_PASSED=$((TOTAL_PASSED + p))
	TOTAL_FAILED=$((TOTAL_FAILED + f))
	SUMMARY+=("$name: $line")
}

# fuzz NAME DIR: tests/fuzz/run.sh over the targets built in DIR, each
# for FUZZ_SECONDS; its "N passed, N failed" (one test per target) joins
# the totals.  leaks: 0 where LeakSanitizer cannot run (see lsan_works).
fuzz() {
	local name=$1 dir=$2 leaks=$3 rc=0 line p f

	echo
	echo "bootstrap: fuzzing in $dir ($name)"
	FUZZ_LEAKS=$leaks tests/fuzz/run.sh "$dir" "${FUZZ_SECONDS:-12}" 2>&1 |
		tee "$dir/fuzz.log" || rc=$?
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$dir/fuzz.log" | tail -n 1 || true)
	if [ -n "$line" ]; then
		p=${line%% passed*}
		f=${line#*, }
		f=${f%% failed}
	else
		p=0
		f=1
		line="no results (tests/fuzz/run.sh exit status $rc)"
	fi
	TOTAL_PASSED=$((TOTAL_PASSED + p))
	TOTAL_FAILED=$((TOTAL_FAILED + f))
	SUMMARY+=("$name: $line")
}

install_packages
echo "bootstrap: autoreconf -fi"
autoreconf -fi
echo "bootstrap: building in build/"
build_ok=1
build build || build_ok=0

case $MODE in
demo)
	[ "$build_ok" = 1 ] || die "the build in build/ failed"
	exec scripts/demo.sh
	;;
test)
	if [ "$build_ok" = 1 ]; then
		check "build" build
	else
		TOTAL_FAILED=$((TOTAL_FAILED + 1))
		SUMMARY+=("build: the build failed")
	fi
	if lsan_works; then
		asan_options=detect_leaks=1
		fuzz_leaks=1
	else
		# LeakSanitizer cannot run here (see lsan_works): leak checks
		# would fail every sanitized test for a reason unrelated to it.
		echo "bootstrap: LeakSanitizer does not work on this machine; leak checks off"
		asan_options=detect_leaks=0
		fuzz_leaks=0
	fi
	echo
	echo "bootstrap: building with sanitizers in build-asan/"
	if build build-asan --enable-sanitizers; then
		ASAN_OPTIONS="$asan_options:abort_on_error=0:halt_on_error=1" \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
			check "build-asan (ASan+UBSan, $asan_options)" build-asan
	else
		TOTAL_FAILED=$((TOTAL_FAILED + 1))
		SUMMARY+=("build-asan: the sanitizer build failed")
	fi
	# Valgrind finds what the sanitizers cannot see in an uninstrumented
	# build (libraries' view of our buffers, uninitialised reads): a few
	# tests over the main paths, ~3 min on 2 cores; bench/memcheck.sh
	# runs them all.
	if [ "$build_ok" = 1 ]; then
		check_cmd "build under valgrind (memcheck)" build memcheck.log \
			"$ROOT/tests/memcheck.sh" . "${MEMCHECK_TESTS[@]}"
	fi
	echo
	echo "bootstrap: building the fuzzers with clang in build-fuzz/"
	if build build-fuzz CC=clang --enable-fuzzers; then
		fuzz "build-fuzz (libFuzzer, ${FUZZ_SECONDS:-12} s per target)" \
			build-fuzz "$fuzz_leaks"
	else
		TOTAL_FAILED=$((TOTAL_FAILED + 1))
		SUMMARY+=("build-fuzz: the clang build of the fuzzers failed")
	fi
	echo
	echo "bootstrap: results"
	for s in "${SUMMARY[@]}"; do
		echo "  $s"
	done
	echo "$TOTAL_PASSED passed, $TOTAL_FAILED failed"
	[ "$TOTAL_FAILED" -eq 0 ]
	;;
esac
