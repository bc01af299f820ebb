/*
 * libFuzzer target: PEM and X.509 as the daemon reads them
 * (daemon/certinfo.c): a chain from the CA split into leaf and rest, the
 * leaf parsed (dates, serial, issuer, names, key type, ARI id), the top
 * of the chain's issuer (preferred-chain), and the certificate matched
 * against a private key found in the same text.
 *
 * Beyond "no crash, no leak": a split chain's leaf parses as the text's
 * first certificate does, and a parsed certificate's names equal
 * themselves.
 */
#include <config.h>	/* generated */

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "log.h"
#include "daemon/certinfo.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init("fuzz_certinfo", LOG_TARGET_STDERR, LOG_ERR);
	return 0;
}

static bool
fuzz_same(const struct certinfo *a, const struct certinfo *b)
{
	return a->not_before == b->not_before &&
	    a->not_after == b->not_after &&
	    strcmp(a->serial, b->serial) == 0 &&
	    strcmp(a->issuer, b->issuer) == 0 &&
	    (a->ari_id == NULL) == (b->ari_id == NULL) &&
	    certinfo_names_equal(a, &b->names);
}

static void
fuzz_chain(const char *pem, const struct certinfo *first, bool have_first)
{
	struct certinfo	 leaf;
	char		*lpem = NULL, *chain = NULL, *cause = NULL;

	if (certinfo_split_chain(pem, &lpem, &chain, &cause) == -1) {
		if (cause == NULL || lpem != NULL || chain != NULL)
			abort();
		free(cause);
		return;
	}
	if (certinfo_parse(lpem, &leaf, &cause) == 0) {
		/* The leaf is the text's first certificate. */
		if (!have_first || !fuzz_same(&leaf, first))
			abort();
		certinfo_clear(&leaf);
	}
	free(cause);
	free(lpem);
	free(chain);
}

/* The same text as a private key and, if it holds one, the certificate
 * compared with it (a PEM holding both: combined.pem). */
static void
fuzz_key(const char *pem)
{
	struct certinfo	 info;
	EVP_PKEY	*key;
	char		*cause = NULL;
	bool		 matches = false;

	if ((key = certinfo_read_key(pem)) == NULL)
		return;
	if (certinfo_parse_with_key(pem, key, &info, &matches, &cause) == 0)
		certinfo_clear(&info);
	free(cause);
	EVP_PKEY_free(key);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct certinfo	 info;
	char		*pem, *cause = NULL, *top;
	bool		 parsed;

	if ((pem = malloc(size + 1)) == NULL)
		abort();
	memcpy(pem, data, size);
	pem[size] = '\0';

	if ((parsed = certinfo_parse(pem, &info, &cause) == 0)) {
		if (info.serial == NULL || info.issuer == NULL ||
		    !certinfo_names_equal(&info, &info.names))
			abort();
	} else if (cause == NULL)
		abort();
	free(cause);
	fuzz_chain(pem, &info, parsed);
	top = certinfo_chain_top_issuer(pem);
	free(top);
	certinfo_clear(&info);
	fuzz_key(pem);
	ERR_clear_error();
	free(pem);
	return 0;
}
