/*
 * libFuzzer target: TSIG (daemon/challenge/tsigkey.c).  The same bytes go
 *   - to rfc2136_key_parse(), as a key file from BIND's tsig-keygen; a
 *     key it accepts must then sign an UPDATE whose TSIG verifies, so
 *     that no file passes the check and fails at the first renewal;
 *   - to ldns (through dnsprop_wire2pkt()) as the DNS server's answer
 *     to an UPDATE, whose TSIG is checked as daemon/challenge/rfc2136.c
 *     does, with a key ldns verifies itself (hmac-sha256) and one our
 *     own HMAC verifies (hmac-sha384), against a request MAC; and whose
 *     SOA owner is looked for, as the zone walk does.
 */
#include <config.h>	/* generated */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "log.h"
#include "daemon/challenge/dnsquery.h"
#include "daemon/challenge/tsigkey.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct rfc2136_key	*fuzz_keys[2];	/* for the answers */
static ldns_rdf			*fuzz_prior;	/* the request's MAC */

static struct rfc2136_key *
fuzz_key(const char *text)
{
	struct rfc2136_key	*k;
	char			*cause = NULL;

	if ((k = rfc2136_key_parse(text, strlen(text), "builtin",
	    &cause)) == NULL) {
		fprintf(stderr, "fuzz_tsigkey: %s\n", cause);
		exit(1);
	}
	return k;
}

static void
fuzz_cleanup(void)
{
	rfc2136_key_free(fuzz_keys[0]);
	rfc2136_key_free(fuzz_keys[1]);
	ldns_rdf_deep_free(fuzz_prior);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t	mac[34] = { 0, 32 };

	log_init("fuzz_tsigkey", LOG_TARGET_STDERR, LOG_ERR);
	fuzz_keys[0] = fuzz_key("key \"acme-key\" {\n\talgorithm hmac-sha256;\n"
	    "\tsecret \"dGhpcyBpcyBhIDMyIGJ5dGUgc2VjcmV0IGZvciB0ZXN0cy4=\";\n"
	    "};\n");
	fuzz_keys[1] = fuzz_key("key \"other.key.\" {\n\talgorithm "
	    "hmac-sha384;\n\tsecret \"c2Vjb25kIHNlY3JldCBmb3IgdGhlIEhNQUMgcGF0aA==\";\n"
	    "};\n");
	memset(mac + 2, 0xa5, 32);
	if ((fuzz_prior = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16_DATA,
	    sizeof(mac), mac)) == NULL)
		abort();
	atexit(fuzz_cleanup);
	return 0;
}

/* An UPDATE as rfc2136.c builds it, signed with k; NULL on failure. */
static ldns_pkt *
fuzz_update(const struct rfc2136_key *k)
{
	ldns_pkt	*pkt = NULL;
	ldns_rr		*rr = NULL;
	ldns_rr_list	*up;
	ldns_rdf	*zone;

	if (ldns_rr_new_frm_str(&rr, "_acme-challenge.www.example.test. 60 "
	    "IN TXT \"0123456789abcdef\"", 0, NULL, NULL) != LDNS_STATUS_OK ||
	    (up = ldns_rr_list_new()) == NULL)
		abort();
	if (!ldns_rr_list_push_rr(up, rr))
		abort();
	if ((zone = ldns_dname_new_frm_str("example.test.")) == NULL ||
	    (pkt = ldns_update_pkt_new(zone, LDNS_RR_CLASS_IN, NULL, up,
	    NULL)) == NULL)
		abort();
	ldns_rr_list_deep_free(up);
	ldns_pkt_set_id(pkt, 0x4242);
	if (rfc2136_tsig_sign(pkt, k) == -1) {
		ldns_pkt_free(pkt);
		return NULL;
	}
	return pkt;
}

/* A key that parses signs, and what it signs verifies. */
static void
fuzz_roundtrip(const struct rfc2136_key *parsed)
{
	struct rfc2136_key	*k;
	ldns_pkt		*pkt, *back = NULL;
	uint8_t			*wire = NULL;
	size_t			 len;
	const char		*why = NULL;

	if ((k = rfc2136_key_dup(parsed)) == NULL)
		abort();
	if ((pkt = fuzz_update(k)) == NULL) {
		fprintf(stderr, "key %s (%s) parses but cannot sign\n",
		    k->name, k->algorithm);
		abort();
	}
	if (ldns_pkt2wire(&wire, pkt, &len) != LDNS_STATUS_OK ||
	    ldns_wire2pkt(&back, wire, len) != LDNS_STATUS_OK)
		abort();
	if (rfc2136_tsig_verify(back, wire, len, k, NULL, &why) == -1) {
		fprintf(stderr, "key %s (%s): own signature: %s\n", k->name,
		    k->algorithm, why != NULL ? why : "?");
		abort();
	}
	ldns_pkt_free(back);
	ldns_pkt_free(pkt);
	free(wire);
	rfc2136_key_free(k);
}

/* The bytes as the server's answer, checked as rfc2136.c checks it. */
static void
fuzz_answer(const uint8_t *data, size_t size)
{
	ldns_pkt	*pkt = NULL;
	const ldns_rr	*tsig;
	const char	*why;
	size_t		 i;

	if (dnsprop_wire2pkt(&pkt, data, size) != LDNS_STATUS_OK) {
		if (pkt != NULL)
			abort();
		return;
	}
	free(dnsprop_soa_owner(pkt));
	if ((tsig = ldns_pkt_tsig(pkt)) != NULL &&
	    ldns_rr_rd_count(tsig) > 5)
		(void)rfc2136_tsig_error_name(
		    ldns_rdf2native_int16(ldns_rr_rdf(tsig, 5)));
	for (i = 0; i < 2; i++) {
		why = NULL;
		if (rfc2136_tsig_verify(pkt, data, size, fuzz_keys[i],
		    fuzz_prior, &why) == -1 && why == NULL)
			abort();	/* a refusal always says why */
	}
	ldns_pkt_free(pkt);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rfc2136_key	*k;
	char			*cause = NULL;

	if ((k = rfc2136_key_parse((const char *)data, size, "fuzz.key",
	    &cause)) == NULL) {
		if (cause == NULL)
			abort();	/* every refusal says why */
		free(cause);
	} else {
		if (cause != NULL || k->name == NULL || k->digest == NULL)
			abort();
		fuzz_roundtrip(k);
		rfc2136_key_free(k);
	}
	fuzz_answer(data, size);
	return 0;
}
