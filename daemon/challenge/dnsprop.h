/*
 * The dns-01 propagation check, on top of the DNS exchanges of
 * dnsquery.h.
 */
#ifndef DAEMON_CHALLENGE_DNSPROP_H
#define DAEMON_CHALLENGE_DNSPROP_H

#include <stddef.h>

#include "dnsquery.h"

struct event_base;
struct dnsprop;

#define DNSPROP_QUERY_TIMEOUT	3000	/* ms, one try of one query */
#define DNSPROP_INTERVAL_MAX	30000	/* ms, between two rounds */

/*
 * The propagation check: waits until TXT fqdn holds txt at every server.
 * With servers (n > 0) at each of those "ADDR[:PORT]" (RD=1, they may be
 * resolvers).  Without: finds the zone of fqdn (SOA, walking up), its NS
 * and their addresses (glue, else A/AAAA) by asking resolver, then asks
 * every one of them on auth_port.  Rounds of queries 1 s, 2 s, 4 s ...
 * apart (at most 30 s), for at most timeout seconds.  cb runs once from
 * the loop, error NULL when the record is visible everywhere; it may free
 * the check.
 */
struct dnsprop_params {
	const char		*fqdn;		/* "_acme-challenge.x.example." */
	const char		*txt;
	char *const		*servers;	/* dns-01-resolvers */
	size_t			 nservers;
	const char		*resolver;	/* NULL: dnsprop_system_resolver() */
	int			 auth_port;	/* 0: 53 */
	long long		 timeout;	/* seconds */
	int			 query_timeout_ms;	/* 0: 3000 */
	int			 interval_ms;	/* first interval; 0: 1000 */
	const char		*tag_name;	/* certificate name for the log */
};
typedef void (*dnsprop_cb)(const char *error, void *arg);

struct dnsprop	*dnsprop_start(struct event_base *,
		    const struct dnsprop_params *, dnsprop_cb, void *arg,
		    char **cause);
/* Stops it if still running: the callback will not run. */
void		 dnsprop_free(struct dnsprop *);

#endif
