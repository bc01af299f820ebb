/*
 * The TSIG key file BIND's tsig-keygen writes, and TSIG signatures
 * (RFC 8945) made and checked with it:
 *
 *	key "acme-key" {
 *		algorithm hmac-sha256;
 *		secret "base64...";
 *	};
 */
#ifndef DAEMON_CHALLENGE_TSIGKEY_H
#define DAEMON_CHALLENGE_TSIGKEY_H

#include <stddef.h>
#include <stdint.h>

#include <ldns/ldns.h>

struct rfc2136_key {
	char		*name;		/* "acme-key.", lowercase */
	char		*algorithm;	/* "hmac-sha256." as on the wire */
	const char	*digest;	/* OpenSSL's name: "SHA256" */
	char		*secret;	/* base64, valid; wiped on free */
};

/*
 * Reads and parses a key file.  NULL with *cause naming the file and
 * what is wrong with it.
 */
struct rfc2136_key *rfc2136_key_load(const char *path, char **cause);
/* The same from text (len bytes); path only names it in errors. */
struct rfc2136_key *rfc2136_key_parse(const char *text, size_t len,
		    const char *path, char **cause);
struct rfc2136_key *rfc2136_key_dup(const struct rfc2136_key *);
/* Wipes the secret; NULL is a no-op. */
void		 rfc2136_key_free(struct rfc2136_key *);

/*
 * Adds a TSIG RR to pkt (fudge 300 s, now), through ldns_pkt_tsig_sign
 * where ldns has the algorithm, else through rfc2136_tsig_sign_hmac.
 * The ID must be set before.  0 or -1.
 */
int		 rfc2136_tsig_sign(ldns_pkt *, const struct rfc2136_key *);
/*
 * The same with our own HMAC over ldns' wire form, for any digest;
 * prior: the request's MAC rdata when signing an answer, else NULL.
 */
int		 rfc2136_tsig_sign_hmac(ldns_pkt *, const struct rfc2136_key *,
		    const ldns_rdf *prior);
/*
 * Checks the TSIG of a parsed answer the same way (for the digests ldns
 * lacks).  ldns encodes the message again, so it holds for messages
 * without compressed names, like the answer to an UPDATE.  0 or -1.
 */
int		 rfc2136_tsig_verify_hmac(const ldns_pkt *,
		    const struct rfc2136_key *, const ldns_rdf *prior);
/* "BADSIG", "BADKEY" ... for a TSIG error code, static. */
const char	*rfc2136_tsig_error_name(int error);
/*
 * Checks the TSIG of an answer parsed from wire (len bytes), against the
 * request's MAC prior: through ldns_pkt_tsig_verify where ldns has the
 * algorithm, else through rfc2136_tsig_verify_hmac.  -1 with *why.
 */
int		 rfc2136_tsig_verify(const ldns_pkt *, const uint8_t *wire,
		    size_t len, const struct rfc2136_key *,
		    const ldns_rdf *prior, const char **why);

#endif
