/* The RFC 8555 client: keys, JWS, CSRs, and the protocol itself. */
#ifndef DAEMON_ACME_ACME_H
#define DAEMON_ACME_ACME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "../config.h"

/*
 * keystore.c: every private key is generated, loaded, serialized and used
 * here, and nowhere else, so a separate key process later is cheap.
 */
EVP_PKEY	*keystore_generate(const struct key_spec *);
/* PKCS#8 PEM, malloc'd: the caller OPENSSL_cleanse()s and frees it. */
char		*keystore_to_pem(EVP_PKEY *);
EVP_PKEY	*keystore_from_pem(const char *pem);
/* -1 if the key is of no kind we support. */
int		 keystore_spec_of(EVP_PKEY *, struct key_spec *);
/* "ES256" (P-256), "ES384" (P-384), "RS256" (RSA). */
const char	*keystore_jws_alg(EVP_PKEY *);
/*
 * Signs msg as JWS alg demands: for ECDSA the raw r||s (RFC 7518 §3.4),
 * not DER.  *sig is malloc'd.
 */
int		 keystore_sign(EVP_PKEY *, const void *msg, size_t len,
		    unsigned char **sig, size_t *siglen);

/* jws.c: RFC 7515 flattened JSON serialization, RFC 7638 thumbprints. */
json_t		*jws_jwk(EVP_PKEY *);		/* public JWK, new reference */
char		*jws_thumbprint(EVP_PKEY *);	/* base64url SHA-256 */
/*
 * Protected header {alg, nonce, url} plus kid, or jwk when kid is NULL;
 * nonce NULL leaves it out (the inner JWS of keyChange, §7.3.5).
 * payload NULL means POST-as-GET (empty payload).  Returns the JSON text.
 */
char		*jws_sign(EVP_PKEY *, const char *kid, const char *nonce,
		    const char *url, const char *payload);
/*
 * The externalAccountBinding member of a newAccount payload (RFC 8555
 * §7.3.4): a JWS over the account's JWK, HS256 with the CA's MAC key.
 */
json_t		*jws_eab(EVP_PKEY *account_key, const char *kid,
		    const unsigned char *hmac, size_t hmaclen, const char *url);
/* token "." thumbprint (RFC 8555 §8.1). */
char		*jws_key_authorization(EVP_PKEY *account_key, const char *token);

/* csr.c: a CSR for names (DNS names and IP addresses), signed with key;
 * returns base64url of the DER, as newOrder's finalize wants it. */
char		*csr_build(EVP_PKEY *, char *const *names, size_t n);
/* true if s is an IPv4 or IPv6 literal (an "ip" identifier, RFC 8738). */
bool		 acme_is_ip(const char *s);

/*
 * Request statistics per CA, for acme_renewd_acme_requests_total and
 * acme_renewd_acme_request_duration_seconds: the endpoint is what the
 * request was for.
 */
enum acme_endpoint {
	ACME_EP_DIRECTORY,
	ACME_EP_NEW_NONCE,
	ACME_EP_NEW_ACCOUNT,
	ACME_EP_NEW_ORDER,
	ACME_EP_ORDER,
	ACME_EP_AUTHZ,
	ACME_EP_CHALLENGE,
	ACME_EP_FINALIZE,
	ACME_EP_CERTIFICATE,
	ACME_EP_REVOKE,
	ACME_EP_KEY_CHANGE,
	ACME_EP_RENEWAL_INFO,
	ACME_EP__MAX
};

extern const char *const acme_endpoint_names[ACME_EP__MAX];

/* Upper bounds in seconds (the +Inf bucket is count). */
#define ACME_BUCKETS	12
extern const double acme_buckets[ACME_BUCKETS];

struct acme_code_count {
	long		 code;		/* HTTP status; 0: no answer */
	uint64_t	 n;
};

struct acme_endpoint_stats {
	struct acme_code_count	*codes;		/* one per status seen */
	size_t			 ncodes;
	uint64_t		 buckets[ACME_BUCKETS];	/* not cumulative */
	double			 sum;		/* seconds */
	uint64_t		 count;
};

/* client.c: one per [ca] section. */
struct http;
struct event_base;
struct acme_client;
struct acme_op;

struct acme_response {
	long		 status;	/* HTTP status, 0 on transport failure */
	json_t		*body;		/* parsed JSON body or NULL; borrowed */
	const char	*raw;		/* body bytes, NUL-terminated */
	size_t		 raw_len;
	const char	*location;
	const char	*content_type;
	long long	 retry_after;	/* seconds, -1 when absent */
	char *const	*links;		/* Link header values */
	size_t		 nlinks;
	/* The failure in one line: transport error, or problem type+detail,
	 * or "HTTP 500"; NULL when the request succeeded (2xx). */
	const char	*error;
	const char	*problem_type;	/* "urn:ietf:params:acme:error:..." */
};

typedef void (*acme_cb)(const struct acme_response *, void *arg);

struct keygen_list;
struct acme_client *acme_client_new(struct event_base *, struct http *,
		    struct keygen_list *, const struct conf_ca *,
		    const char *state_dir);
void		 acme_client_free(struct acme_client *);
/* Takes a new conf_ca after reload (the old one is about to be freed). */
void		 acme_client_set_conf(struct acme_client *, const struct conf_ca *);
const char	*acme_client_name(const struct acme_client *);
/* ACME_EP__MAX entries, indexed by enum acme_endpoint; borrowed. */
const struct acme_endpoint_stats *acme_client_stats(const struct acme_client *);
/* The directory's URL for a resource ("newOrder"), NULL if unknown. */
const char	*acme_client_url(const struct acme_client *, const char *res);
EVP_PKEY	*acme_client_account_key(const struct acme_client *);
/*
 * A signed POST (payload NULL = POST-as-GET) once the directory and the
 * account are ready; nonces and badNonce retries are handled inside.  The
 * callback runs exactly once, from the loop (never from inside this call),
 * unless the op is cancelled.  NULL only when out of memory.
 */
struct acme_op	*acme_post(struct acme_client *, enum acme_endpoint,
		    const char *url, json_t *payload, acme_cb, void *arg);
/* The same, to the directory's resource res ("newOrder"). */
struct acme_op	*acme_post_res(struct acme_client *, enum acme_endpoint,
		    const char *res, json_t *payload, acme_cb, void *arg);
/*
 * POST newOrder.  With profile (NULL: none), once the directory is known:
 * fails (from the loop, as ever) unless acme_profile_check() passes, else
 * adds "profile" to the payload.  cert names the certificate in errors.
 */
struct acme_op	*acme_new_order(struct acme_client *, json_t *payload,
		    const char *cert, const char *profile, acme_cb, void *arg);
/*
 * Whether an ACME directory offers profile (draft-ietf-acme-profiles:
 * "meta": {"profiles": {NAME: description, ...}}): 0, or -1 with *cause
 * naming the certificate, the CA and the profiles it offers.
 */
int		 acme_profile_check(const json_t *directory, const char *ca,
		    const char *cert, const char *profile, char **cause);
void		 acme_op_cancel(struct acme_op *);
/* A plain GET (RFC 9773 renewalInfo is fetched unsigned). */
struct acme_op	*acme_get(struct acme_client *, enum acme_endpoint,
		    const char *url, acme_cb, void *arg);
/* Calls back (status 200, no error) once the account is ready. */
struct acme_op	*acme_client_ready(struct acme_client *, acme_cb, void *);
/* The account URL, NULL until the account is ready. */
const char	*acme_client_kid(const struct acme_client *);
/*
 * Account key rollover (RFC 8555 §7.3.5): stage newkey on disk
 * (account-key.pem.next), propose it with key_change, and on success
 * make it the key (set_key renames it over account-key.pem), else
 * unstage it.
 */
int		 acme_client_stage_key(struct acme_client *, EVP_PKEY *,
		    char **cause);
struct acme_op	*acme_client_key_change(struct acme_client *, EVP_PKEY *,
		    acme_cb, void *);
int		 acme_client_set_key(struct acme_client *, EVP_PKEY *newkey_take,
		    char **cause);
void		 acme_client_unstage_key(struct acme_client *);
/* Appends to out the URLs of resp's Link headers with rel=REL (copies). */
int		 acme_links(const struct acme_response *, const char *rel,
		    struct strlist *out);

/*
 * The documents a CA sends, parsed apart from any transfer (so that
 * tests/fuzz/fuzz_acme.c can feed them hostile bytes).
 */
#define ACME_ERROR_NS	"urn:ietf:params:acme:error:"
/* A directory (§7.1.1): a new reference, NULL unless a JSON object with
 * newNonce, newAccount and newOrder (then *why, if not NULL, says what it
 * is instead: "not JSON: ...", malloc'd). */
json_t		*acme_directory_parse(const char *body, size_t len, char **why);
/*
 * resp->status, raw, raw_len and content_type in; body (a new reference
 * the caller drops), problem_type and error out: for an error status the
 * problem document (RFC 7807, §6.7) in one line, and for a success whose
 * JSON does not parse the parser's reason, *errbuf malloc'd.
 */
void		 acme_response_parse(const char *ca, const char *url,
		    struct acme_response *resp, char **errbuf);

/* order.c: what the state machine reads of an order and an authorization;
 * strings and arrays borrowed from the body, NULL when absent or not of
 * the right JSON type. */
struct acme_order {
	const char	*status;
	const char	*finalize;
	const char	*certificate;
	const json_t	*authz;		/* "authorizations", NULL if no array */
	size_t		 nauthz;
	bool		 authz_bad;	/* an authorization is not a string */
	const json_t	*identifiers;	/* NULL if no array */
	const char	*problem_type;	/* "error" of an invalid order */
	const char	*problem;	/* its detail */
};

struct acme_authz {
	const char	*status;
	const char	*identifier;	/* identifier.value */
	bool		 wildcard;	/* for "*." + identifier */
	const json_t	*challenges;	/* NULL if no array */
	/* The first challenge of the type asked for: */
	const char	*token;
	const char	*chall_url;
	const char	*chall_status;
	/* Its error, else the first error of any challenge: */
	const char	*problem_type;
	const char	*problem;	/* the detail */
};

/* The status and error of a challenge object (the answer to its POST). */
struct acme_challenge {
	const char	*status;
	const char	*problem_type;
	const char	*problem;
};

void		 acme_order_parse(const json_t *body, struct acme_order *);
/* want: "http-01", "dns-01", "tls-alpn-01". */
void		 acme_authz_parse(const json_t *body, const char *want,
		    struct acme_authz *);
void		 acme_challenge_parse(const json_t *body,
		    struct acme_challenge *);
/* Whether an order's identifiers are exactly names (types "dns", "ip"). */
bool		 acme_identifiers_match(const json_t *identifiers,
		    const struct strlist *names);
/* "a.example, 192.0.2.1" of an order's identifiers, malloc'd. */
char		*acme_identifiers_list(const json_t *identifiers);
/* "http-01, dns-01" of an authorization's challenges, malloc'd. */
char		*acme_challenge_types(const json_t *challenges);

#endif
