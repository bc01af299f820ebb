/*
 * dns-01 by RFC 2136 UPDATE signed with TSIG (RFC 8945), and the key file
 * BIND's tsig-keygen writes:
 *
 *	key "acme-key" {
 *		algorithm hmac-sha256;
 *		secret "base64...";
 *	};
 */
#ifndef DAEMON_CHALLENGE_RFC2136_H
#define DAEMON_CHALLENGE_RFC2136_H

#include <stddef.h>

#include <ldns/ldns.h>

struct event_base;
struct rfc2136;

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

enum rfc2136_op {
	RFC2136_ADD,		/* fqdn 60 IN TXT "txt" */
	RFC2136_DELETE,		/* that RR only (class NONE) */
	RFC2136_OP__MAX
};

extern const char *const rfc2136_op_names[RFC2136_OP__MAX];

/*
 * One UPDATE: finds the zone of fqdn by asking server for the SOA
 * (walking up), sends the signed UPDATE over UDP (3 tries of 3 s) and
 * checks the answer: NOERROR with a TSIG that verifies.  server is
 * "ADDR[:PORT]" or "HOST[:PORT]" (HOST resolved through the system
 * resolver first); key is copied (NULL: unsigned UPDATE).  cb runs once
 * from the loop, error NULL on success, else like "UPDATE
 * _acme-challenge.a.example. at 192.0.2.1:53: NOTAUTH (BADSIG)"; it may
 * free the update.  NULL with *cause when nothing could be started.
 */
typedef void (*rfc2136_cb)(const char *error, void *arg);

struct rfc2136	*rfc2136_update(struct event_base *, const char *server,
		    const struct rfc2136_key *, enum rfc2136_op,
		    const char *fqdn, const char *txt, const char *tag_name,
		    rfc2136_cb, void *arg, char **cause);
/* Stops it if still running: the callback will not run. */
void		 rfc2136_free(struct rfc2136 *);

#endif
