/*
 * dns-01 by RFC 2136 UPDATE: one UPDATE exchanged from the loop: resolve
 * the server if it is a name, find the zone (SOA), send, check.  The TSIG
 * key and signatures are in tsigkey.c.
 */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>
#include <openssl/rand.h>

#include "log.h"
#include "util.h"
#include "dnsquery.h"
#include "rfc2136.h"

#define RFC2136_TTL		60
#define RFC2136_TRIES		3
#define RFC2136_TRY_MS		3000

const char *const rfc2136_op_names[RFC2136_OP__MAX] = {
	[RFC2136_ADD] = "add",
	[RFC2136_DELETE] = "delete",
};

enum rfc2136_phase {
	RFC2136_RESOLVE,	/* the server's address, if it is a name */
	RFC2136_SOA,		/* the zone of fqdn */
	RFC2136_UPDATE,
	RFC2136_PHASE__MAX
};

struct rfc2136 {
	struct event_base	*base;
	char			*server;	/* as configured */
	char			*host;		/* a name to resolve, or NULL */
	int			 port;
	char			*addr;		/* "ADDR:PORT" */
	char			*resolver;
	struct rfc2136_key	*key;
	enum rfc2136_op		 op;
	char			*fqdn;
	char			*txt;
	char			*tag_name;
	char			*soa_name;	/* SOA asked for this name */
	char			*zone;
	enum rfc2136_phase	 phase;
	ldns_rr_type		 resolve_type;
	struct dnsprop_query	*q;
	ldns_rdf		*request_mac;	/* to verify the answer */
	rfc2136_cb		 cb;
	void			*arg;
};

static void	rfc2136_reply_cb(const struct dnsprop_reply *, void *);

static void
rfc2136_finish(struct rfc2136 *u, const char *error)
{
	rfc2136_cb	cb = u->cb;

	dnsprop_query_free(u->q);
	u->q = NULL;
	u->cb = NULL;
	if (cb != NULL)
		cb(error, u->arg);	/* may free u */
}

static void
rfc2136_fail(struct rfc2136 *u, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
rfc2136_fail(struct rfc2136 *u, const char *fmt, ...)
{
	va_list	 ap;
	char	*why, *error;

	va_start(ap, fmt);
	why = xvasprintf(fmt, ap);
	va_end(ap);
	error = xasprintf("UPDATE %s at %s: %s", u->fqdn, u->server,
	    why != NULL ? why : "out of memory");
	free(why);
	rfc2136_finish(u, error != NULL ? error : "out of memory");
	free(error);
}

/* Sends pkt (borrowed) to whoever the phase asks; -1 with *cause. */
static int
rfc2136_send(struct rfc2136 *u, const ldns_pkt *pkt, char **cause)
{
	const char	*to = u->phase == RFC2136_RESOLVE ? u->resolver : u->addr;

	dnsprop_query_free(u->q);
	u->q = dnsprop_query_send(u->base, to, pkt, RFC2136_TRIES,
	    RFC2136_TRY_MS, rfc2136_reply_cb, u, cause);
	return u->q != NULL ? 0 : -1;
}

static int
rfc2136_send_query(struct rfc2136 *u, const char *name, ldns_rr_type type,
    bool rd, char **cause)
{
	ldns_pkt	*pkt;
	int		 rc;

	if ((pkt = dnsprop_pkt_query(name, type, rd)) == NULL) {
		*cause = xasprintf("cannot build a query for %s", name);
		return -1;
	}
	rc = rfc2136_send(u, pkt, cause);
	ldns_pkt_free(pkt);
	return rc;
}

/* The UPDATE for the phase's zone, signed; NULL with *cause. */
static ldns_pkt *
rfc2136_build(struct rfc2136 *u, char **cause)
{
	ldns_pkt	*pkt = NULL;
	ldns_rr		*rr = NULL;
	ldns_rr_list	*up = NULL;
	ldns_rdf	*zone = NULL;
	char		*s;
	uint16_t	 id;

	if ((s = xasprintf("%s %d IN TXT \"%s\"", u->fqdn, RFC2136_TTL,
	    u->txt)) == NULL ||
	    ldns_rr_new_frm_str(&rr, s, 0, NULL, NULL) != LDNS_STATUS_OK) {
		*cause = xasprintf("cannot build the TXT record");
		goto out;
	}
	if (u->op == RFC2136_DELETE) {
		/* RFC 2136 §2.5.4: delete an RR from an RRset. */
		ldns_rr_set_class(rr, LDNS_RR_CLASS_NONE);
		ldns_rr_set_ttl(rr, 0);
	}
	if ((up = ldns_rr_list_new()) == NULL ||
	    !ldns_rr_list_push_rr(up, rr)) {
		*cause = xasprintf("out of memory");
		goto out;
	}
	rr = NULL;
	if ((zone = ldns_dname_new_frm_str(u->zone)) == NULL ||
	    (pkt = ldns_update_pkt_new(zone, LDNS_RR_CLASS_IN, NULL, up,
	    NULL)) == NULL) {
		ldns_rdf_deep_free(zone);
		*cause = xasprintf("cannot build the UPDATE");
		goto out;
	}
	ldns_pkt_set_rd(pkt, false);
	if (RAND_bytes((unsigned char *)&id, sizeof(id)) != 1) {
		*cause = xasprintf("no random ID");
		goto fail;
	}
	ldns_pkt_set_id(pkt, id);
	if (u->key == NULL)
		goto out;	/* unsigned: the server trusts our address */
	if (rfc2136_tsig_sign(pkt, u->key) == -1) {
		*cause = xasprintf("cannot sign with TSIG key %s (%s)",
		    u->key->name, u->key->algorithm);
		goto fail;
	}
	ldns_rdf_deep_free(u->request_mac);
	if ((u->request_mac = ldns_rdf_clone(ldns_rr_rdf(ldns_pkt_tsig(pkt),
	    3))) == NULL) {
		*cause = xasprintf("out of memory");
		goto fail;
	}
	goto out;
fail:
	ldns_pkt_free(pkt);
	pkt = NULL;
out:
	free(s);
	ldns_rr_free(rr);
	ldns_rr_list_deep_free(up);
	return pkt;
}

static void
rfc2136_start_update(struct rfc2136 *u)
{
	ldns_pkt	*pkt;
	char		*cause = NULL;

	u->phase = RFC2136_UPDATE;
	if ((pkt = rfc2136_build(u, &cause)) == NULL ||
	    rfc2136_send(u, pkt, &cause) == -1) {
		ldns_pkt_free(pkt);
		rfc2136_fail(u, "%s", cause != NULL ? cause : "out of memory");
		free(cause);
		return;
	}
	ldns_pkt_free(pkt);
}

static void
rfc2136_got_addr(struct rfc2136 *u, const ldns_pkt *pkt)
{
	const ldns_rr_list	*l = ldns_pkt_answer(pkt);
	const ldns_rr		*rr;
	char			*cause = NULL;
	size_t			 i;

	for (i = 0; i < ldns_rr_list_rr_count(l) && u->addr == NULL; i++) {
		rr = ldns_rr_list_rr(l, i);
		if (ldns_rr_get_type(rr) == u->resolve_type &&
		    ldns_rr_rd_count(rr) > 0)
			u->addr = dnsprop_rdf_addr(ldns_rr_rdf(rr, 0), u->port);
	}
	if (u->addr == NULL && u->resolve_type == LDNS_RR_TYPE_A) {
		u->resolve_type = LDNS_RR_TYPE_AAAA;
		if (rfc2136_send_query(u, u->host, u->resolve_type, true,
		    &cause) == -1) {
			rfc2136_fail(u, "%s", cause);
			free(cause);
		}
		return;
	}
	if (u->addr == NULL) {
		rfc2136_fail(u, "%s has no address at %s", u->host,
		    u->resolver);
		return;
	}
	u->phase = RFC2136_SOA;
	if (rfc2136_send_query(u, u->soa_name, LDNS_RR_TYPE_SOA, false,
	    &cause) == -1) {
		rfc2136_fail(u, "%s", cause);
		free(cause);
	}
}

static void
rfc2136_got_soa(struct rfc2136 *u, const ldns_pkt *pkt)
{
	ldns_rdf	*name, *up = NULL;
	char		*cause = NULL, *next = NULL;

	if ((u->zone = dnsprop_soa_owner(pkt)) != NULL) {
		log_tagged(LOG_DEBUG, &(struct log_tag){ .name = u->tag_name },
		    "dns-01: %s is in zone %s at %s", u->fqdn, u->zone,
		    u->server);
		rfc2136_start_update(u);
		return;
	}
	if ((name = ldns_dname_new_frm_str(u->soa_name)) != NULL &&
	    ldns_dname_label_count(name) > 0 &&
	    (up = ldns_dname_left_chop(name)) != NULL)
		next = ldns_rdf2str(up);
	ldns_rdf_deep_free(name);
	ldns_rdf_deep_free(up);
	if (next == NULL) {
		rfc2136_fail(u, "no SOA found for %s: the server is not "
		    "authoritative for it", u->fqdn);
		return;
	}
	free(u->soa_name);
	u->soa_name = next;
	if (rfc2136_send_query(u, u->soa_name, LDNS_RR_TYPE_SOA, false,
	    &cause) == -1) {
		rfc2136_fail(u, "%s", cause);
		free(cause);
	}
}

static void
rfc2136_got_update(struct rfc2136 *u, const struct dnsprop_reply *r)
{
	const ldns_rr	*tsig = ldns_pkt_tsig(r->pkt);
	int		 rcode = ldns_pkt_get_rcode(r->pkt), terr = 0;
	const char	*why = NULL;

	if (tsig != NULL && ldns_rr_rd_count(tsig) > 5)
		terr = ldns_rdf2native_int16(ldns_rr_rdf(tsig, 5));
	if (terr != 0) {
		rfc2136_fail(u, "%s (%s)", dnsprop_rcode_name(rcode),
		    rfc2136_tsig_error_name(terr));
		return;
	}
	if (rcode != LDNS_RCODE_NOERROR) {
		rfc2136_fail(u, "%s", dnsprop_rcode_name(rcode));
		return;
	}
	if (u->key != NULL && rfc2136_tsig_verify(r->pkt, r->wire, r->len,
	    u->key, u->request_mac, &why) == -1) {
		rfc2136_fail(u, "%s", why);
		return;
	}
	log_tagged(LOG_INFO, &(struct log_tag){ .name = u->tag_name },
	    "dns-01: UPDATE %s TXT %s in zone %s at %s: done",
	    rfc2136_op_names[u->op], u->fqdn, u->zone, u->server);
	rfc2136_finish(u, NULL);
}

static void
rfc2136_reply_cb(const struct dnsprop_reply *r, void *arg)
{
	struct rfc2136	*u = arg;
	int		 rcode;

	dnsprop_query_free(u->q);
	u->q = NULL;
	if (r->error != NULL) {
		if (u->phase == RFC2136_RESOLVE)
			rfc2136_fail(u, "cannot resolve %s at %s: %s",
			    u->host, u->resolver, r->error);
		else if (u->phase == RFC2136_SOA)
			rfc2136_fail(u, "SOA query for %s: %s", u->soa_name,
			    r->error);
		else
			rfc2136_fail(u, "%s", r->error);
		return;
	}
	if (u->phase == RFC2136_UPDATE) {
		rfc2136_got_update(u, r);
		return;
	}
	rcode = ldns_pkt_get_rcode(r->pkt);
	if (u->phase == RFC2136_RESOLVE && rcode == LDNS_RCODE_NOERROR)
		rfc2136_got_addr(u, r->pkt);
	else if (u->phase == RFC2136_RESOLVE)
		rfc2136_fail(u, "cannot resolve %s at %s: %s", u->host,
		    u->resolver, dnsprop_rcode_name(rcode));
	else if (rcode == LDNS_RCODE_NOERROR || rcode == LDNS_RCODE_NXDOMAIN)
		rfc2136_got_soa(u, r->pkt);
	else
		rfc2136_fail(u, "SOA query for %s: %s", u->soa_name,
		    dnsprop_rcode_name(rcode));
}

/* HOST or HOST:PORT into u->host and u->port; -1 if bad. */
static int
rfc2136_split_host(struct rfc2136 *u, const char *server)
{
	const char	*colon = strrchr(server, ':');
	size_t		 len = strlen(server);
	char		*ep;
	long		 port = DNSPROP_PORT;

	if (colon != NULL) {
		errno = 0;
		port = strtol(colon + 1, &ep, 10);
		if (colon[1] == '\0' || *ep != '\0' || errno != 0 ||
		    port < 1 || port > 65535)
			return -1;
		len = colon - server;
	}
	if (len == 0 || (u->host = strndup(server, len)) == NULL)
		return -1;
	u->port = port;
	return 0;
}

struct rfc2136 *
rfc2136_update(struct event_base *base, const char *server,
    const struct rfc2136_key *key, enum rfc2136_op op, const char *fqdn,
    const char *txt, const char *tag_name, rfc2136_cb cb, void *arg,
    char **cause)
{
	struct rfc2136		*u;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	const char		*p;
	char			*why;

	for (p = txt; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\' || !isprint((unsigned char)*p)) {
			*cause = xasprintf("UPDATE %s: unusable TXT value",
			    fqdn);
			return NULL;
		}
	}
	if ((u = calloc(1, sizeof(*u))) == NULL ||
	    (u->server = strdup(server)) == NULL ||
	    (key != NULL && (u->key = rfc2136_key_dup(key)) == NULL) ||
	    (u->fqdn = strdup(fqdn)) == NULL ||
	    (u->soa_name = strdup(fqdn)) == NULL ||
	    (u->txt = strdup(txt)) == NULL ||
	    (tag_name != NULL && (u->tag_name = strdup(tag_name)) == NULL)) {
		*cause = xasprintf("out of memory");
		goto fail;
	}
	u->base = base;
	u->op = op;
	u->cb = cb;
	u->arg = arg;
	if (dnsprop_addr_parse(server, DNSPROP_PORT, &ss, &sslen) == 0) {
		if ((u->addr = dnsprop_addr_format((struct sockaddr *)&ss,
		    sslen)) == NULL) {
			*cause = xasprintf("out of memory");
			goto fail;
		}
		u->phase = RFC2136_SOA;
		if (rfc2136_send_query(u, u->soa_name, LDNS_RR_TYPE_SOA, false,
		    cause) == -1)
			goto fail;
		return u;
	}
	if (rfc2136_split_host(u, server) == -1) {
		*cause = xasprintf("dns-01-rfc2136-server: bad address '%s'",
		    server);
		goto fail;
	}
	if ((u->resolver = dnsprop_system_resolver(cause)) == NULL)
		goto fail;
	u->phase = RFC2136_RESOLVE;
	u->resolve_type = LDNS_RR_TYPE_A;
	if (rfc2136_send_query(u, u->host, u->resolve_type, true, cause) == -1)
		goto fail;
	return u;
fail:
	if (*cause != NULL && u != NULL && u->server != NULL) {
		why = *cause;
		*cause = xasprintf("UPDATE %s at %s: %s", fqdn, server, why);
		free(why);
	}
	rfc2136_free(u);
	return NULL;
}

void
rfc2136_free(struct rfc2136 *u)
{
	if (u == NULL)
		return;
	dnsprop_query_free(u->q);
	rfc2136_key_free(u->key);
	ldns_rdf_deep_free(u->request_mac);
	free(u->server);
	free(u->host);
	free(u->addr);
	free(u->resolver);
	free(u->fqdn);
	free(u->txt);
	free(u->tag_name);
	free(u->soa_name);
	free(u->zone);
	free(u);
}
