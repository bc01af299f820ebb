/* What the daemon needs to know about an X.509 certificate, via OpenSSL. */
#ifndef DAEMON_CERTINFO_H
#define DAEMON_CERTINFO_H

#include <stdbool.h>
#include <time.h>

#include <openssl/evp.h>

#include "config.h"

struct certinfo {
	time_t		 not_before;
	time_t		 not_after;
	char		*serial;	/* uppercase hex, no leading zeros */
	char		*issuer;	/* issuer CN, else the one-line DN */
	struct strlist	 names;		/* SAN dNSName and iPAddress, as text */
	struct key_spec	 key;		/* the subject public key's kind */
	char		*ari_id;	/* RFC 9773 CertID; NULL without AKI */
};

/* The first certificate in pem.  Returns 0, or -1 with *cause malloc'd. */
int	 certinfo_parse(const char *pem, struct certinfo *, char **cause);
/* The same, and *key_matches: its public key is key's (one parse). */
int	 certinfo_parse_with_key(const char *pem, const EVP_PKEY *key,
	    struct certinfo *, bool *key_matches, char **cause);
void	 certinfo_clear(struct certinfo *);
/* A private key in PEM, or NULL. */
EVP_PKEY *certinfo_read_key(const char *key_pem);
/* Same set of names, case-insensitive, order ignored. */
bool	 certinfo_names_equal(const struct certinfo *, const struct strlist *);
/*
 * Splits a PEM chain as an ACME server sends it (leaf first) into the leaf
 * and the rest (possibly empty ""), both malloc'd.  -1 with *cause if the
 * text holds no certificate.
 */
int	 certinfo_split_chain(const char *pem, char **leaf, char **chain,
	    char **cause);

/*
 * The issuer (CN, else one-line DN) of the last certificate in a PEM
 * chain: the root the chain leads to, as preferred-chain names it.
 * malloc'd, NULL if the text holds no certificate.
 */
char	*certinfo_chain_top_issuer(const char *pem);

#endif
