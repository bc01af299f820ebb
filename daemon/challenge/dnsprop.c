/*
 * The dns-01 propagation check.  It runs in rounds: discover the servers
 * (unless they were given), ask each one that has not shown the record
 * yet, wait 1 s, 2 s, 4 s ... and ask again, until a deadline.
 */
#include <config.h>

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <ldns/ldns.h>

#include "log.h"
#include "util.h"
#include "dnsprop.h"

#define DNSPROP_TRIES		3	/* discovery queries */

enum dnsprop_phase {
	DNSPROP_SOA,		/* which zone holds fqdn? */
	DNSPROP_NS,		/* its name servers */
	DNSPROP_ADDR,		/* their addresses without glue */
	DNSPROP_CHECK,		/* rounds of TXT queries */
	DNSPROP_PHASE__MAX
};

static const char *const dnsprop_phase_names[DNSPROP_PHASE__MAX] = {
	[DNSPROP_SOA] = "SOA",
	[DNSPROP_NS] = "NS",
	[DNSPROP_ADDR] = "address",
	[DNSPROP_CHECK] = "TXT",
};

struct dnsprop_server {
	struct dnsprop		*dp;
	char			*name;		/* NS name; NULL if given */
	char			**addrs;	/* "ADDR:PORT" */
	size_t			  naddrs;
	size_t			  cur;		/* the address asked */
	struct dnsprop_query	*q;
	bool			  visible;
	char			*last;		/* its last answer */
};

struct dnsprop {
	struct event_base	*base;
	char			*fqdn;
	char			*txt;
	char			*resolver;
	char			*tag_name;
	int			 auth_port;
	int			 query_timeout_ms;
	int			 first_interval_ms;
	int			 interval_ms;
	long long		 timeout;
	bool			 discover;
	enum dnsprop_phase	 phase;
	char			*soa_name;	/* SOA asked for this name */
	char			*zone;
	size_t			 addr_next;	/* server whose A is asked */
	ldns_rr_type		 addr_type;
	struct dnsprop_query	*q;		/* discovery query */
	struct dnsprop_server	*servers;
	size_t			 nservers;
	size_t			 pending;	/* TXT queries this round */
	char			*error;		/* why discovery failed */
	struct event		 ev_round;
	struct event		 ev_deadline;
	dnsprop_cb		 cb;
	void			*arg;
};

static void	dnsprop_round(struct dnsprop *);
static void	dnsprop_discover_cb(const struct dnsprop_reply *, void *);

static void
dnsprop_log(struct dnsprop *dp, int prio, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
dnsprop_log(struct dnsprop *dp, int prio, const char *fmt, ...)
{
	struct log_tag	tag = { .name = dp->tag_name };
	va_list		ap;

	va_start(ap, fmt);
	log_vtagged(prio, &tag, fmt, ap);
	va_end(ap);
}

static void
dnsprop_servers_clear(struct dnsprop *dp)
{
	size_t	i, j;

	for (i = 0; i < dp->nservers; i++) {
		dnsprop_query_free(dp->servers[i].q);
		for (j = 0; j < dp->servers[i].naddrs; j++)
			free(dp->servers[i].addrs[j]);
		free(dp->servers[i].addrs);
		free(dp->servers[i].name);
		free(dp->servers[i].last);
	}
	free(dp->servers);
	dp->servers = NULL;
	dp->nservers = 0;
	dp->pending = 0;
}

/* Adds an empty server; NULL when out of memory. */
static struct dnsprop_server *
dnsprop_server_add(struct dnsprop *dp, const char *name)
{
	struct dnsprop_server	*s;

	if ((s = reallocarray(dp->servers, dp->nservers + 1,
	    sizeof(*s))) == NULL)
		return NULL;
	dp->servers = s;
	s = &dp->servers[dp->nservers];
	memset(s, 0, sizeof(*s));
	s->dp = dp;
	if (name != NULL && (s->name = strdup(name)) == NULL)
		return NULL;
	dp->nservers++;
	return s;
}

static int
dnsprop_server_add_addr(struct dnsprop_server *s, const char *addr)
{
	char	**v;
	size_t	  i;

	for (i = 0; i < s->naddrs; i++)
		if (strcmp(s->addrs[i], addr) == 0)
			return 0;
	if ((v = reallocarray(s->addrs, s->naddrs + 1, sizeof(*v))) == NULL)
		return -1;
	s->addrs = v;
	if ((v[s->naddrs] = strdup(addr)) == NULL)
		return -1;
	s->naddrs++;
	return 0;
}

/* "ns1.example. (192.0.2.1:53)" or "192.0.2.1:53", malloc'd. */
static char *
dnsprop_server_label(const struct dnsprop_server *s)
{
	const char	*addr = s->naddrs > 0 ? s->addrs[s->cur] : "no address";

	if (s->name != NULL)
		return xasprintf("%s (%s)", s->name, addr);
	return xasprintf("%s", addr);
}

static void
dnsprop_finish(struct dnsprop *dp, const char *error)
{
	dnsprop_cb	cb = dp->cb;

	event_del(&dp->ev_round);
	event_del(&dp->ev_deadline);
	dnsprop_query_free(dp->q);
	dp->q = NULL;
	dnsprop_servers_clear(dp);
	dp->cb = NULL;
	if (cb != NULL)
		cb(error, dp->arg);	/* may free dp */
}

static void
dnsprop_schedule(struct dnsprop *dp)
{
	struct timeval	tv;

	tv.tv_sec = dp->interval_ms / 1000;
	tv.tv_usec = (dp->interval_ms % 1000) * 1000;
	event_del(&dp->ev_round);
	evtimer_add(&dp->ev_round, &tv);
	if ((dp->interval_ms *= 2) > DNSPROP_INTERVAL_MAX)
		dp->interval_ms = DNSPROP_INTERVAL_MAX;
}

/* Discovery failed: keep the reason, start over at the next round. */
static void
dnsprop_discover_fail(struct dnsprop *dp, char *why_take)
{
	free(dp->error);
	dp->error = why_take;
	dnsprop_log(dp, LOG_DEBUG, "dns-01: %s", dp->error != NULL ?
	    dp->error : "out of memory");
	dnsprop_query_free(dp->q);
	dp->q = NULL;
	dnsprop_servers_clear(dp);
	dp->phase = DNSPROP_SOA;
	dnsprop_schedule(dp);
}

static void
dnsprop_discover_send(struct dnsprop *dp, const char *name,
    ldns_rr_type type)
{
	ldns_pkt	*pkt;
	char		*cause = NULL;

	dnsprop_query_free(dp->q);
	dp->q = NULL;
	if ((pkt = dnsprop_pkt_query(name, type, true)) == NULL) {
		dnsprop_discover_fail(dp, xasprintf("%s: bad query for %s",
		    dp->fqdn, name));
		return;
	}
	dp->q = dnsprop_query_send(dp->base, dp->resolver, pkt,
	    DNSPROP_TRIES, dp->query_timeout_ms, dnsprop_discover_cb, dp,
	    &cause);
	ldns_pkt_free(pkt);
	if (dp->q == NULL)
		dnsprop_discover_fail(dp, cause);
}

static void
dnsprop_got_soa(struct dnsprop *dp, const ldns_pkt *pkt)
{
	ldns_rdf	*name, *up;
	char		*next;

	if ((dp->zone = dnsprop_soa_owner(pkt)) != NULL) {
		dnsprop_log(dp, LOG_DEBUG, "dns-01: %s is in zone %s",
		    dp->fqdn, dp->zone);
		dp->phase = DNSPROP_NS;
		dnsprop_discover_send(dp, dp->zone, LDNS_RR_TYPE_NS);
		return;
	}
	/* No SOA anywhere: ask for the parent name. */
	if ((name = ldns_dname_new_frm_str(dp->soa_name)) == NULL ||
	    ldns_dname_label_count(name) == 0 ||
	    (up = ldns_dname_left_chop(name)) == NULL) {
		ldns_rdf_deep_free(name);
		dnsprop_discover_fail(dp, xasprintf("no SOA found for %s "
		    "at %s", dp->fqdn, dp->resolver));
		return;
	}
	next = ldns_rdf2str(up);
	ldns_rdf_deep_free(name);
	ldns_rdf_deep_free(up);
	if (next == NULL) {
		dnsprop_discover_fail(dp, NULL);
		return;
	}
	free(dp->soa_name);
	dp->soa_name = next;
	dnsprop_discover_send(dp, dp->soa_name, LDNS_RR_TYPE_SOA);
}

/* Addresses of name found in list, added to s. */
static int
dnsprop_add_addrs(struct dnsprop *dp, struct dnsprop_server *s,
    const ldns_rr_list *l)
{
	ldns_rdf	*name;
	const ldns_rr	*rr;
	char		*addr;
	size_t		 i;
	int		 rc = 0;

	if ((name = ldns_dname_new_frm_str(s->name)) == NULL)
		return -1;
	for (i = 0; i < ldns_rr_list_rr_count(l) && rc == 0; i++) {
		rr = ldns_rr_list_rr(l, i);
		if ((ldns_rr_get_type(rr) != LDNS_RR_TYPE_A &&
		    ldns_rr_get_type(rr) != LDNS_RR_TYPE_AAAA) ||
		    ldns_dname_compare(ldns_rr_owner(rr), name) != 0 ||
		    ldns_rr_rd_count(rr) < 1)
			continue;
		if ((addr = dnsprop_rdf_addr(ldns_rr_rdf(rr, 0),
		    dp->auth_port)) == NULL)
			continue;
		rc = dnsprop_server_add_addr(s, addr);
		free(addr);
	}
	ldns_rdf_deep_free(name);
	return rc;
}

static void
dnsprop_got_ns(struct dnsprop *dp, const ldns_pkt *pkt)
{
	const ldns_rr_list	*l = ldns_pkt_answer(pkt);
	const ldns_rr		*rr;
	struct dnsprop_server	*s;
	char			*name;
	size_t			 i;

	for (i = 0; i < ldns_rr_list_rr_count(l); i++) {
		rr = ldns_rr_list_rr(l, i);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_NS ||
		    ldns_rr_rd_count(rr) < 1)
			continue;
		if ((name = ldns_rdf2str(ldns_rr_rdf(rr, 0))) == NULL ||
		    (s = dnsprop_server_add(dp, name)) == NULL ||
		    dnsprop_add_addrs(dp, s, ldns_pkt_additional(pkt)) == -1) {
			free(name);
			dnsprop_discover_fail(dp, NULL);
			return;
		}
		free(name);
	}
	if (dp->nservers == 0) {
		dnsprop_discover_fail(dp, xasprintf("no NS records for zone "
		    "%s at %s", dp->zone, dp->resolver));
		return;
	}
	dp->phase = DNSPROP_ADDR;
	dp->addr_next = 0;
	dp->addr_type = LDNS_RR_TYPE_A;
	dnsprop_round(dp);
}

/* Next server without an address: ask for its A, then its AAAA. */
static void
dnsprop_next_addr(struct dnsprop *dp)
{
	struct dnsprop_server	*s;
	size_t			 i;
	char			*label;

	while (dp->addr_next < dp->nservers &&
	    dp->servers[dp->addr_next].naddrs > 0) {
		dp->addr_next++;
		dp->addr_type = LDNS_RR_TYPE_A;
	}
	if (dp->addr_next < dp->nservers) {
		s = &dp->servers[dp->addr_next];
		dnsprop_discover_send(dp, s->name, dp->addr_type);
		return;
	}
	dp->phase = DNSPROP_CHECK;
	dp->interval_ms = dp->first_interval_ms;
	for (i = 0; i < dp->nservers; i++) {
		label = dnsprop_server_label(&dp->servers[i]);
		dnsprop_log(dp, LOG_DEBUG, "dns-01: zone %s: checking %s at "
		    "%s", dp->zone, dp->fqdn, label != NULL ? label : "?");
		free(label);
	}
	dnsprop_round(dp);
}

static void
dnsprop_got_addr(struct dnsprop *dp, const ldns_pkt *pkt)
{
	struct dnsprop_server	*s = &dp->servers[dp->addr_next];

	if (dnsprop_add_addrs(dp, s, ldns_pkt_answer(pkt)) == -1) {
		dnsprop_discover_fail(dp, NULL);
		return;
	}
	if (s->naddrs == 0 && dp->addr_type == LDNS_RR_TYPE_A) {
		dp->addr_type = LDNS_RR_TYPE_AAAA;
		dnsprop_next_addr(dp);
		return;
	}
	if (s->naddrs == 0) {
		dnsprop_discover_fail(dp, xasprintf("no address for name "
		    "server %s of zone %s at %s", s->name, dp->zone,
		    dp->resolver));
		return;
	}
	dnsprop_next_addr(dp);
}

static void
dnsprop_discover_cb(const struct dnsprop_reply *r, void *arg)
{
	struct dnsprop	*dp = arg;
	int		 rcode;

	dnsprop_query_free(dp->q);
	dp->q = NULL;
	if (r->error != NULL) {
		dnsprop_discover_fail(dp, xasprintf("%s query to %s: %s",
		    dnsprop_phase_names[dp->phase], dp->resolver, r->error));
		return;
	}
	rcode = ldns_pkt_get_rcode(r->pkt);
	if (rcode != LDNS_RCODE_NOERROR && !(rcode == LDNS_RCODE_NXDOMAIN &&
	    dp->phase == DNSPROP_SOA)) {
		dnsprop_discover_fail(dp, xasprintf("%s query to %s: %s",
		    dnsprop_phase_names[dp->phase], dp->resolver,
		    dnsprop_rcode_name(rcode)));
		return;
	}
	switch (dp->phase) {
	case DNSPROP_SOA:
		dnsprop_got_soa(dp, r->pkt);
		break;
	case DNSPROP_NS:
		dnsprop_got_ns(dp, r->pkt);
		break;
	case DNSPROP_ADDR:
		dnsprop_got_addr(dp, r->pkt);
		break;
	default:
		break;
	}
}

/* The TXT value of rr: its strings concatenated; malloc'd. */
static char *
dnsprop_txt_string(const ldns_rr *rr)
{
	const ldns_rdf	*rdf;
	char		*s = NULL, *p;
	size_t		 len = 0, n, i;

	if ((s = strdup("")) == NULL)
		return NULL;
	for (i = 0; i < ldns_rr_rd_count(rr); i++) {
		rdf = ldns_rr_rdf(rr, i);
		if (ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_STR ||
		    ldns_rdf_size(rdf) < 1)
			continue;
		n = ldns_rdf_data(rdf)[0];
		if (n > ldns_rdf_size(rdf) - 1)
			n = ldns_rdf_size(rdf) - 1;
		if ((p = realloc(s, len + n + 1)) == NULL) {
			free(s);
			return NULL;
		}
		s = p;
		memcpy(s + len, ldns_rdf_data(rdf) + 1, n);
		len += n;
		s[len] = '\0';
	}
	return s;
}

/* Does the answer hold the value?  Otherwise *last says what it held. */
static bool
dnsprop_answer_has(struct dnsprop *dp, const ldns_pkt *pkt, char **last)
{
	const ldns_rr_list	*l = ldns_pkt_answer(pkt);
	const ldns_rr		*rr;
	char			*v;
	size_t			 i, ntxt = 0;
	bool			 found = false;
	int			 rcode = ldns_pkt_get_rcode(pkt);

	if (rcode != LDNS_RCODE_NOERROR) {
		*last = xasprintf("%s", dnsprop_rcode_name(rcode));
		return false;
	}
	for (i = 0; i < ldns_rr_list_rr_count(l) && !found; i++) {
		rr = ldns_rr_list_rr(l, i);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TXT)
			continue;
		ntxt++;
		if ((v = dnsprop_txt_string(rr)) != NULL &&
		    strcmp(v, dp->txt) == 0)
			found = true;
		free(v);
	}
	if (found)
		return true;
	if (ntxt == 0)
		*last = xasprintf("NOERROR, no TXT record%s",
		    ldns_pkt_tc(pkt) ? ", truncated" : "");
	else
		*last = xasprintf("NOERROR, %zu TXT record%s without the "
		    "value", ntxt, ntxt == 1 ? "" : "s");
	return false;
}

static void
dnsprop_round_end(struct dnsprop *dp)
{
	size_t	i;

	for (i = 0; i < dp->nservers; i++)
		if (!dp->servers[i].visible)
			break;
	if (i == dp->nservers) {
		dnsprop_log(dp, LOG_INFO, "dns-01: TXT %s is visible at %zu "
		    "server%s", dp->fqdn, dp->nservers,
		    dp->nservers == 1 ? "" : "s");
		dnsprop_finish(dp, NULL);
		return;
	}
	dnsprop_schedule(dp);
}

static void
dnsprop_check_cb(const struct dnsprop_reply *r, void *arg)
{
	struct dnsprop_server	*s = arg;
	struct dnsprop		*dp = s->dp;
	char			*last = NULL, *label;

	dnsprop_query_free(s->q);
	s->q = NULL;
	dp->pending--;
	if (r->error != NULL) {
		last = xasprintf("%s", r->error);
		/* Maybe this address is unreachable: try the next. */
		if (s->naddrs > 0)
			s->cur = (s->cur + 1) % s->naddrs;
	} else if (dnsprop_answer_has(dp, r->pkt, &last))
		s->visible = true;
	label = dnsprop_server_label(s);
	dnsprop_log(dp, LOG_DEBUG, "dns-01: TXT %s at %s: %s", dp->fqdn,
	    label != NULL ? label : "?", s->visible ? "visible" :
	    last != NULL ? last : "?");
	free(label);
	if (last != NULL) {
		free(s->last);
		s->last = last;
	}
	if (dp->pending == 0)
		dnsprop_round_end(dp);
}

static void
dnsprop_check_round(struct dnsprop *dp)
{
	struct dnsprop_server	*s;
	ldns_pkt		*pkt;
	char			*cause = NULL;
	size_t			 i;

	if ((pkt = dnsprop_pkt_query(dp->fqdn, LDNS_RR_TYPE_TXT,
	    dp->discover ? false : true)) == NULL) {
		dnsprop_finish(dp, "out of memory");
		return;
	}
	for (i = 0; i < dp->nservers; i++) {
		s = &dp->servers[i];
		if (s->visible || s->naddrs == 0)
			continue;
		s->q = dnsprop_query_send(dp->base, s->addrs[s->cur], pkt, 1,
		    dp->query_timeout_ms, dnsprop_check_cb, s, &cause);
		if (s->q == NULL) {
			free(s->last);
			s->last = cause;
			cause = NULL;
			s->cur = (s->cur + 1) % s->naddrs;
			continue;
		}
		dp->pending++;
	}
	ldns_pkt_free(pkt);
	if (dp->pending == 0)
		dnsprop_round_end(dp);
}

static void
dnsprop_round(struct dnsprop *dp)
{
	switch (dp->phase) {
	case DNSPROP_SOA:
		free(dp->zone);
		dp->zone = NULL;
		free(dp->soa_name);
		if ((dp->soa_name = strdup(dp->fqdn)) == NULL) {
			dnsprop_finish(dp, "out of memory");
			return;
		}
		dnsprop_discover_send(dp, dp->soa_name, LDNS_RR_TYPE_SOA);
		break;
	case DNSPROP_ADDR:
		dnsprop_next_addr(dp);
		break;
	case DNSPROP_CHECK:
		dnsprop_check_round(dp);
		break;
	default:
		break;
	}
}

static void
dnsprop_round_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dnsprop	*dp = arg;

	dnsprop_round(dp);
}

static void
dnsprop_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dnsprop		*dp = arg;
	struct dnsprop_server	*s = NULL;
	char			*error, *label = NULL;
	size_t			 i, lagging = 0;

	for (i = 0; i < dp->nservers; i++) {
		if (dp->servers[i].visible)
			continue;
		if (lagging++ == 0)
			s = &dp->servers[i];
	}
	if (dp->phase != DNSPROP_CHECK || s == NULL)
		error = xasprintf("TXT %s: cannot find the authoritative "
		    "servers of its zone after %lld s (%s)", dp->fqdn,
		    dp->timeout, dp->error != NULL ? dp->error :
		    "no answer yet");
	else {
		label = dnsprop_server_label(s);
		error = xasprintf("TXT %s not visible at %s%s after %lld s "
		    "(last answer: %s)", dp->fqdn, label != NULL ? label : "?",
		    lagging > 1 ? " and other servers" : "", dp->timeout,
		    s->last != NULL ? s->last : "none yet");
	}
	free(label);
	dnsprop_finish(dp, error != NULL ? error :
	    "propagation check timed out");
	free(error);
}

struct dnsprop *
dnsprop_start(struct event_base *base, const struct dnsprop_params *p,
    dnsprop_cb cb, void *arg, char **cause)
{
	struct dnsprop		*dp;
	struct dnsprop_server	*s;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	struct timeval		 tv = { 0, 0 };
	size_t			 i;

	if ((dp = calloc(1, sizeof(*dp))) == NULL ||
	    (dp->fqdn = strdup(p->fqdn)) == NULL ||
	    (dp->txt = strdup(p->txt)) == NULL ||
	    (p->tag_name != NULL &&
	    (dp->tag_name = strdup(p->tag_name)) == NULL)) {
		*cause = xasprintf("out of memory");
		goto fail;
	}
	dp->base = base;
	dp->cb = cb;
	dp->arg = arg;
	dp->timeout = p->timeout;
	dp->auth_port = p->auth_port > 0 ? p->auth_port : DNSPROP_PORT;
	dp->query_timeout_ms = p->query_timeout_ms > 0 ?
	    p->query_timeout_ms : DNSPROP_QUERY_TIMEOUT;
	dp->first_interval_ms = p->interval_ms > 0 ? p->interval_ms : 1000;
	dp->interval_ms = dp->first_interval_ms;
	evtimer_assign(&dp->ev_round, base, dnsprop_round_cb, dp);
	evtimer_assign(&dp->ev_deadline, base, dnsprop_deadline_cb, dp);
	dp->discover = p->nservers == 0;
	if (dp->discover) {
		dp->phase = DNSPROP_SOA;
		if (p->resolver != NULL)
			dp->resolver = strdup(p->resolver);
		else
			dp->resolver = dnsprop_system_resolver(cause);
		if (dp->resolver == NULL)
			goto fail;
		if (dnsprop_addr_parse(dp->resolver, DNSPROP_PORT, &ss,
		    &sslen) == -1) {
			*cause = xasprintf("bad resolver address '%s'",
			    dp->resolver);
			goto fail;
		}
	} else {
		dp->phase = DNSPROP_CHECK;
		for (i = 0; i < p->nservers; i++) {
			if (dnsprop_addr_parse(p->servers[i], DNSPROP_PORT,
			    &ss, &sslen) == -1) {
				*cause = xasprintf("bad DNS server address "
				    "'%s'", p->servers[i]);
				goto fail;
			}
			if ((s = dnsprop_server_add(dp, NULL)) == NULL ||
			    dnsprop_server_add_addr(s, p->servers[i]) == -1) {
				*cause = xasprintf("out of memory");
				goto fail;
			}
		}
	}
	/* The first round starts from the loop, never inside this call. */
	evtimer_add(&dp->ev_round, &tv);
	tv.tv_sec = p->timeout > 0 ? p->timeout : 1;
	evtimer_add(&dp->ev_deadline, &tv);
	return dp;
fail:
	dnsprop_free(dp);
	return NULL;
}

void
dnsprop_free(struct dnsprop *dp)
{
	if (dp == NULL)
		return;
	if (dp->base != NULL) {
		event_del(&dp->ev_round);
		event_del(&dp->ev_deadline);
	}
	dnsprop_query_free(dp->q);
	dnsprop_servers_clear(dp);
	free(dp->fqdn);
	free(dp->txt);
	free(dp->resolver);
	free(dp->tag_name);
	free(dp->soa_name);
	free(dp->zone);
	free(dp->error);
	free(dp);
}
