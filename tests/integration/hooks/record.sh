#!/bin/sh
# hooks/record.sh DIR [ARGS...]: a hook for the integration tests that
# records each run in its own file DIR/run.N.env (N = 1, 2, ... in the
# order the runs started): its arguments, every ACME_RENEWD_* variable,
# whether each file the environment names exists, the serial of
# ACME_RENEWD_CERT and whether ACME_RENEWD_KEY matches it at this moment.
# Always exits 0.
dir=$1
shift
mkdir -p "$dir"
n=1
# O_EXCL creation: two runs at once still get different numbers.
while ! (set -C; : >"$dir/run.$n.env") 2>/dev/null; do
	n=$((n + 1))
done
out=$dir/run.$n.env
{
	i=0
	for a in "$@"; do
		i=$((i + 1))
		printf 'ARG%d=%s\n' "$i" "$a"
	done
	printf 'ARGC=%d\n' "$i"
	env | grep '^ACME_RENEWD_' | sort
	for v in CERT KEY FULLCHAIN CHAIN; do
		eval "p=\${ACME_RENEWD_$v:-}"
		if [ -n "$p" ] && [ -f "$p" ]; then
			printf 'EXISTS_%s=yes\n' "$v"
		else
			printf 'EXISTS_%s=no\n' "$v"
		fi
	done
	if [ -d "${ACME_RENEWD_CERT_DIR:-/nonexistent}" ]; then
		echo "EXISTS_CERT_DIR=yes"
	else
		echo "EXISTS_CERT_DIR=no"
	fi
	if [ -f "${ACME_RENEWD_CERT:-/nonexistent}" ]; then
		printf 'SERIAL=%s\n' "$(openssl x509 -in "$ACME_RENEWD_CERT" -noout -serial 2>/dev/null)"
		cpub=$(openssl x509 -in "$ACME_RENEWD_CERT" -noout -pubkey 2>/dev/null)
		kpub=$(openssl pkey -in "${ACME_RENEWD_KEY:-/nonexistent}" -pubout 2>/dev/null)
		if [ -n "$cpub" ] && [ "$cpub" = "$kpub" ]; then
			echo "KEY_MATCH=yes"
		else
			echo "KEY_MATCH=no"
		fi
	fi
	echo "END=1"
} >"$out.part"
# run.N.env stays an empty placeholder until the record is whole (END=1).
mv "$out.part" "$out"
echo "record.sh: recorded run $n"
exit 0
