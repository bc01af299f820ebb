/*
 * One DNS exchange from the loop, and the helpers around it.
 *
 * Every packet is built and parsed by ldns; this file only moves its wire
 * form over a connected, non-blocking UDP socket that libevent watches,
 * with a timer per try.
 */
#include <config.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <ldns/ldns.h>
#include <openssl/rand.h>

#include "log.h"
#include "util.h"
#include "dnsquery.h"

#define DNSPROP_BUFSIZE		65535
#define DNSPROP_EDNS_SIZE	1232

struct dnsprop_query {
	struct event_base	*base;
	char			*server;
	int			 fd;
	struct event		 ev_read;
	struct event		 ev_timer;
	uint8_t			*wire;
	size_t			 len;
	uint16_t		 id;
	ldns_rr			*question;	/* NULL: none to match */
	int			 tries_left;
	struct timeval		 tv;
	dnsprop_query_cb	 cb;
	void			*arg;
};

int
dnsprop_addr_parse(const char *s, int default_port,
    struct sockaddr_storage *ss, socklen_t *sslen)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;
	char			 host[INET6_ADDRSTRLEN + 1];
	const char		*port = NULL, *end;
	size_t			 hlen;
	char			*ep;
	long			 p = default_port;

	if (*s == '[') {
		if ((end = strchr(s, ']')) == NULL)
			return -1;
		hlen = end - (s + 1);
		s++;
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0')
			return -1;
	} else if ((end = strchr(s, ':')) != NULL &&
	    strchr(end + 1, ':') == NULL) {
		hlen = end - s;
		port = end + 1;
	} else
		hlen = strlen(s);
	if (hlen == 0 || hlen >= sizeof(host))
		return -1;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (port != NULL) {
		errno = 0;
		p = strtol(port, &ep, 10);
		if (*port == '\0' || *ep != '\0' || errno != 0)
			return -1;
	}
	if (p < 1 || p > 65535)
		return -1;
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(p);
		*sslen = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(p);
		*sslen = sizeof(*sin6);
		return 0;
	}
	return -1;
}

char *
dnsprop_addr_format(const struct sockaddr *sa, socklen_t len)
{
	const struct sockaddr_in	*sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6	*sin6 = (const struct sockaddr_in6 *)sa;
	char				 host[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET &&
	    inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host)) != NULL)
		return xasprintf("%s:%u", host, ntohs(sin->sin_port));
	if (sa->sa_family == AF_INET6 &&
	    inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host)) != NULL)
		return xasprintf("[%s]:%u", host, ntohs(sin6->sin6_port));
	return xasprintf("?");
}

char *
dnsprop_rdf_addr(const ldns_rdf *rdf, int port)
{
	char	*host, *s = NULL;

	if (ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_A &&
	    ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_AAAA)
		return NULL;
	if ((host = ldns_rdf2str(rdf)) == NULL)
		return NULL;
	if (ldns_rdf_get_type(rdf) == LDNS_RDF_TYPE_AAAA)
		s = xasprintf("[%s]:%d", host, port);
	else
		s = xasprintf("%s:%d", host, port);
	free(host);
	return s;
}

char *
dnsprop_system_resolver(char **cause)
{
	ldns_resolver	*res = NULL;
	ldns_status	 st;
	char		*s = NULL;

	if ((st = ldns_resolver_new_frm_file(&res, NULL)) != LDNS_STATUS_OK) {
		*cause = xasprintf("cannot read the system resolver from "
		    "/etc/resolv.conf: %s", ldns_get_errorstr_by_id(st));
		return NULL;
	}
	if (ldns_resolver_nameserver_count(res) == 0 ||
	    (s = dnsprop_rdf_addr(ldns_resolver_nameservers(res)[0],
	    ldns_resolver_port(res))) == NULL)
		*cause = xasprintf("no nameserver in /etc/resolv.conf");
	ldns_resolver_deep_free(res);
	return s;
}

ldns_pkt *
dnsprop_pkt_query(const char *name, ldns_rr_type type, bool rd)
{
	ldns_rdf	*dname;
	ldns_pkt	*pkt;
	uint16_t	 id;

	if ((dname = ldns_dname_new_frm_str(name)) == NULL)
		return NULL;
	if ((pkt = ldns_pkt_query_new(dname, type, LDNS_RR_CLASS_IN,
	    rd ? LDNS_RD : 0)) == NULL) {
		ldns_rdf_deep_free(dname);
		return NULL;
	}
	if (RAND_bytes((unsigned char *)&id, sizeof(id)) != 1) {
		ldns_pkt_free(pkt);
		return NULL;
	}
	ldns_pkt_set_id(pkt, id);
	ldns_pkt_set_edns_udp_size(pkt, DNSPROP_EDNS_SIZE);
	return pkt;
}

const char *
dnsprop_rcode_name(int rcode)
{
	static char		 buf[32];
	ldns_lookup_table	*lt;

	if ((lt = ldns_lookup_by_id(ldns_rcodes, rcode)) != NULL)
		return lt->name;
	snprintf(buf, sizeof(buf), "RCODE%d", rcode);
	return buf;
}

char *
dnsprop_soa_owner(const ldns_pkt *pkt)
{
	const ldns_rr_list	*l;
	size_t			 i, j;

	for (i = 0; i < 2; i++) {
		l = i == 0 ? ldns_pkt_answer(pkt) : ldns_pkt_authority(pkt);
		for (j = 0; j < ldns_rr_list_rr_count(l); j++)
			if (ldns_rr_get_type(ldns_rr_list_rr(l, j)) ==
			    LDNS_RR_TYPE_SOA)
				return ldns_rdf2str(ldns_rr_owner(
				    ldns_rr_list_rr(l, j)));
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* One exchange */

static void
dnsprop_query_finish(struct dnsprop_query *q, const ldns_pkt *pkt,
    const uint8_t *wire, size_t len, const char *error)
{
	struct dnsprop_reply	 r = { pkt, wire, len, error };
	dnsprop_query_cb	 cb = q->cb;

	event_del(&q->ev_read);
	event_del(&q->ev_timer);
	q->cb = NULL;
	cb(&r, q->arg);		/* may free q */
}

static bool
dnsprop_query_matches(const struct dnsprop_query *q, const ldns_pkt *pkt)
{
	const ldns_rr	*rr;

	if (ldns_pkt_id(pkt) != q->id || !ldns_pkt_qr(pkt))
		return false;
	if (q->question == NULL || ldns_pkt_qdcount(pkt) == 0)
		return true;
	rr = ldns_rr_list_rr(ldns_pkt_question(pkt), 0);
	return rr != NULL &&
	    ldns_rr_get_type(rr) == ldns_rr_get_type(q->question) &&
	    ldns_rr_get_class(rr) == ldns_rr_get_class(q->question) &&
	    ldns_dname_compare(ldns_rr_owner(rr),
	    ldns_rr_owner(q->question)) == 0;
}

/*
 * RFC 8945 §5.1: one TSIG at most, the last RR of the message.  ldns
 * 1.8.3's ldns_wire2pkt() keeps the last TSIG it reads and leaks the
 * others, so a message with two is refused before ldns sees it whole.
 */
ldns_status
dnsprop_wire2pkt(ldns_pkt **pkt, const uint8_t *wire, size_t len)
{
	ldns_rr		*rr;
	size_t		 pos = LDNS_HEADER_SIZE, i;
	unsigned	 before, ntsig = 0;

	*pkt = NULL;
	if (len < LDNS_HEADER_SIZE)
		return LDNS_STATUS_WIRE_INCOMPLETE_HEADER;
	/* ldns_wire2rr() walks each RR; of the sections, it tells the
	 * question (no TTL, no rdata) from the rest only. */
	before = LDNS_QDCOUNT(wire) + LDNS_ANCOUNT(wire) + LDNS_NSCOUNT(wire);
	for (i = 0; i < before + LDNS_ARCOUNT(wire); i++) {
		if (ldns_wire2rr(&rr, wire, len, &pos, i < LDNS_QDCOUNT(wire) ?
		    LDNS_SECTION_QUESTION : i < before ? LDNS_SECTION_ANSWER :
		    LDNS_SECTION_ADDITIONAL) != LDNS_STATUS_OK)
			break;	/* ldns_wire2pkt() says what is wrong */
		if (i >= before && ldns_rr_get_type(rr) == LDNS_RR_TYPE_TSIG)
			ntsig++;
		ldns_rr_free(rr);
		if (ntsig > 1)
			return LDNS_STATUS_ERR;
	}
	return ldns_wire2pkt(pkt, wire, len);
}

static void
dnsprop_query_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dnsprop_query	*q = arg;
	uint8_t			 buf[DNSPROP_BUFSIZE];
	ldns_pkt		*pkt = NULL;
	ssize_t			 n;
	char			*error;

	for (;;) {
		if ((n = recv(fd, buf, sizeof(buf), 0)) == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				return;
			error = xasprintf("%s", strerror(errno));
			dnsprop_query_finish(q, NULL, NULL, 0, error);
			free(error);
			return;
		}
		if (dnsprop_wire2pkt(&pkt, buf, n) != LDNS_STATUS_OK) {
			log_debug("dns: unparsable answer from %s", q->server);
			continue;
		}
		if (dnsprop_query_matches(q, pkt))
			break;
		log_debug("dns: stray answer from %s (id %u)", q->server,
		    ldns_pkt_id(pkt));
		ldns_pkt_free(pkt);
		pkt = NULL;
	}
	dnsprop_query_finish(q, pkt, buf, n, NULL);
	ldns_pkt_free(pkt);
}

/* Sends (again); -1 with *cause. */
static int
dnsprop_query_try(struct dnsprop_query *q, char **cause)
{
	if (send(q->fd, q->wire, q->len, 0) == -1) {
		*cause = xasprintf("%s: %s", q->server, strerror(errno));
		return -1;
	}
	q->tries_left--;
	event_del(&q->ev_timer);
	evtimer_add(&q->ev_timer, &q->tv);
	return 0;
}

static void
dnsprop_query_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dnsprop_query	*q = arg;
	char			*cause = NULL;

	if (q->tries_left > 0 && dnsprop_query_try(q, &cause) == 0)
		return;
	if (cause == NULL)
		cause = xasprintf("no answer");
	dnsprop_query_finish(q, NULL, NULL, 0, cause);
	free(cause);
}

struct dnsprop_query *
dnsprop_query_send(struct event_base *base, const char *server,
    const ldns_pkt *pkt, int tries, int timeout_ms, dnsprop_query_cb cb,
    void *arg, char **cause)
{
	struct dnsprop_query	*q = NULL;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	const ldns_rr		*rr;

	if (dnsprop_addr_parse(server, DNSPROP_PORT, &ss, &sslen) == -1) {
		*cause = xasprintf("bad DNS server address '%s'", server);
		return NULL;
	}
	if ((q = calloc(1, sizeof(*q))) == NULL ||
	    (q->server = strdup(server)) == NULL) {
		*cause = xasprintf("out of memory");
		goto fail;
	}
	q->fd = -1;
	q->base = base;
	q->cb = cb;
	q->arg = arg;
	q->id = ldns_pkt_id(pkt);
	q->tries_left = tries > 0 ? tries : 1;
	q->tv.tv_sec = timeout_ms / 1000;
	q->tv.tv_usec = (timeout_ms % 1000) * 1000;
	if ((rr = ldns_rr_list_rr(ldns_pkt_question(pkt), 0)) != NULL &&
	    (q->question = ldns_rr_clone(rr)) == NULL) {
		*cause = xasprintf("out of memory");
		goto fail;
	}
	if (ldns_pkt2wire(&q->wire, pkt, &q->len) != LDNS_STATUS_OK) {
		*cause = xasprintf("cannot encode the DNS message");
		goto fail;
	}
	if ((q->fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		*cause = xasprintf("%s: socket: %s", server, strerror(errno));
		goto fail;
	}
	event_assign(&q->ev_read, base, q->fd, EV_READ | EV_PERSIST,
	    dnsprop_query_read_cb, q);
	evtimer_assign(&q->ev_timer, base, dnsprop_query_timer_cb, q);
	if (connect(q->fd, (struct sockaddr *)&ss, sslen) == -1) {
		*cause = xasprintf("%s: %s", server, strerror(errno));
		goto fail;
	}
	if (event_add(&q->ev_read, NULL) == -1) {
		*cause = xasprintf("cannot watch the DNS socket");
		goto fail;
	}
	if (dnsprop_query_try(q, cause) == -1)
		goto fail;
	return q;
fail:
	dnsprop_query_free(q);
	return NULL;
}

void
dnsprop_query_free(struct dnsprop_query *q)
{
	if (q == NULL)
		return;
	if (q->fd != -1) {
		event_del(&q->ev_read);
		event_del(&q->ev_timer);
		close(q->fd);
	}
	ldns_rr_free(q->question);
	free(q->wire);
	free(q->server);
	free(q);
}
