/*
 * DNS from the loop: one query or UPDATE exchanged over a non-blocking
 * UDP socket watched by libevent (packets built and parsed by ldns), and
 * the helpers around it: server addresses, queries, answers.
 */
#ifndef DAEMON_CHALLENGE_DNSQUERY_H
#define DAEMON_CHALLENGE_DNSQUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <ldns/ldns.h>

struct event_base;
struct dnsprop_query;

#define DNSPROP_PORT		53

/*
 * "ADDR", "ADDR:PORT", "[V6]:PORT" or a bare IPv6 address, numeric only.
 * -1 on anything else.
 */
int	 dnsprop_addr_parse(const char *, int default_port,
	    struct sockaddr_storage *, socklen_t *);
/* "ADDR:PORT" / "[V6]:PORT", malloc'd; NULL when out of memory. */
char	*dnsprop_addr_format(const struct sockaddr *, socklen_t);
/*
 * The first nameserver of /etc/resolv.conf as "ADDR:PORT" (read with
 * ldns; nothing is sent).  NULL with *cause.
 */
char	*dnsprop_system_resolver(char **cause);

/* A query for name/type with a random ID (RD as asked); NULL on error. */
ldns_pkt *dnsprop_pkt_query(const char *name, ldns_rr_type, bool rd);
/* "NXDOMAIN", "REFUSED" ... or "RCODE42", static. */
const char *dnsprop_rcode_name(int rcode);
/* An A or AAAA rdata as "ADDR:PORT", malloc'd; NULL if neither. */
char	*dnsprop_rdf_addr(const ldns_rdf *, int port);
/* ldns_wire2pkt() for a message from the network: also refuses more
 * than one TSIG RR (ldns would leak all but one). */
ldns_status dnsprop_wire2pkt(ldns_pkt **, const uint8_t *wire, size_t len);
/* The owner of the first SOA in the answer, else authority; malloc'd. */
char	*dnsprop_soa_owner(const ldns_pkt *);

/*
 * One exchange: pkt (borrowed; wire-encoded at once, so the caller may
 * free it on return) is sent to server "ADDR[:PORT]" (port 53 by
 * default) from a fresh connected UDP socket; each try waits timeout_ms
 * for an answer with the same ID and question; tries >= 1.  The callback
 * runs once, from the loop; the reply (pkt and the wire it came from, for
 * TSIG) lives until it returns.  It may free the query.  NULL with
 * *cause when nothing could be sent (bad address, no socket, no route).
 */
struct dnsprop_reply {
	const ldns_pkt	*pkt;		/* NULL when error is set */
	const uint8_t	*wire;
	size_t		 len;
	const char	*error;		/* "no answer", "connection refused" */
};
typedef void (*dnsprop_query_cb)(const struct dnsprop_reply *, void *arg);

struct dnsprop_query *dnsprop_query_send(struct event_base *,
	    const char *server, const ldns_pkt *, int tries, int timeout_ms,
	    dnsprop_query_cb, void *arg, char **cause);
/* Cancels it if still in flight: the callback will not run. */
void	 dnsprop_query_free(struct dnsprop_query *);

#endif
