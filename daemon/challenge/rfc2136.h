/*
 * dns-01 by RFC 2136 UPDATE, signed with the TSIG key of tsigkey.h.
 */
#ifndef DAEMON_CHALLENGE_RFC2136_H
#define DAEMON_CHALLENGE_RFC2136_H

#include <ldns/ldns.h>

#include "tsigkey.h"

struct event_base;
struct rfc2136;

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
