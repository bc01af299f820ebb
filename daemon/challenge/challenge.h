/* Challenge responders and solvers. */
#ifndef DAEMON_CHALLENGE_CHALLENGE_H
#define DAEMON_CHALLENGE_CHALLENGE_H

#include <stdbool.h>
#include <sys/queue.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

struct conf_cert;
struct daemon;
struct event_base;
struct http01;
struct tlsalpn01;
struct dns01_record;

/*
 * http01.c: the standalone http-01 responder on http-01-listen.  Answers
 * GET /.well-known/acme-challenge/<token> with the key authorization of a
 * token that was added, 404 otherwise.
 */
struct http01	*http01_new(struct event_base *, const char *listen,
		    char **cause);
void		 http01_free(struct http01 *);
/* Copies both strings; adding a token again replaces it.  0 or -1. */
int		 http01_add(struct http01 *, const char *token,
		    const char *key_authorization);
void		 http01_remove(struct http01 *, const char *token);

/*
 * webroot.c: http-01 by files under a web server's document root.  The
 * key authorization is written to WEBROOT/.well-known/acme-challenge/TOKEN
 * (0644), never through a symlink.  0, or -1 with *cause naming the path.
 */
int		 webroot_publish(const char *webroot, const char *token,
		    const char *key_authorization, char **cause);
void		 webroot_remove(const char *webroot, const char *token);

/*
 * tlsalpn01.c: the tls-alpn-01 responder (RFC 8737) on tls-alpn-01-listen.
 * A client offering ALPN "acme-tls/1" with the SNI of an added identifier
 * gets a self-signed certificate for it carrying the critical
 * acmeIdentifier extension; every other client is refused.  IP
 * identifiers (RFC 8738 §6) are matched by their reverse-mapping SNI.
 */
struct tlsalpn01 *tlsalpn01_new(struct event_base *, const char *listen,
		    char **cause);
void		 tlsalpn01_free(struct tlsalpn01 *);
/* identifier: a DNS name or an IP literal.  0 or -1. */
int		 tlsalpn01_add(struct tlsalpn01 *, const char *identifier,
		    const char *key_authorization);
void		 tlsalpn01_remove(struct tlsalpn01 *, const char *identifier);
/* The challenge certificate, signed with key; NULL on error. */
X509		*tlsalpn01_cert(const char *identifier,
		    const char *key_authorization, EVP_PKEY *key);

/*
 * dns01.c: one _acme-challenge TXT record's life (RFC 8555 §8.4), by
 * dns-01-hook or by RFC 2136 UPDATE, then the propagation check.
 */
TAILQ_HEAD(dns01_list, dns01_record);

/* error NULL: the record is visible, the CA may be told to validate. */
typedef void (*dns01_cb)(const char *error, void *arg);

/* base64url(SHA-256(key authorization)), malloc'd. */
char		*dns01_txt_value(const char *key_authorization);
/*
 * fqdn: "_acme-challenge.example.com." (trailing dot).  Adds the record
 * and waits for it to be visible; calls cb exactly once, from the loop.
 * NULL with *cause when nothing could be started.
 */
struct dns01_record *dns01_publish(struct daemon *, const struct conf_cert *,
		    const char *cert_name, const char *fqdn, const char *txt,
		    dns01_cb, void *arg, char **cause);
/*
 * Withdraws the record (hook remove / UPDATE delete) in the background,
 * whatever state it was in; cb never runs after this.  The record lives
 * on the daemon's list until the removal is done, then frees itself.
 */
void		 dns01_unpublish(struct dns01_record *);
/* At shutdown: stops everything still pending and frees it. */
void		 dns01_free_all(struct daemon *);

#endif
