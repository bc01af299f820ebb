/*
 * dns-01 (RFC 8555 §8.4): one _acme-challenge TXT record's life.
 *
 *	ADD -> PROPAGATION -> READY		(cb(NULL) from the loop)
 *	any failure -> FAILED			(cb(error) from the loop)
 *	dns01_unpublish, from any state -> REMOVE -> freed
 *
 * The record is added and removed by dns-01-hook ("HOOK add|remove FQDN
 * TXT") or by an RFC 2136 UPDATE; the propagation check is dnsprop's.
 * A record copies what it needs from its conf_cert, since a reload may
 * free the config while a removal still runs.
 */
#include <config.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <openssl/evp.h>

#include "b64url.h"
#include "log.h"
#include "util.h"
#include "../config.h"
#include "../daemon.h"
#include "../proc.h"
#include "challenge.h"
#include "dnsprop.h"
#include "rfc2136.h"

/* Of the hook's output, the tail kept in an error message. */
#define DNS01_OUTPUT_MAX	400

enum dns01_state {
	DNS01_ADD,		/* hook add / UPDATE add running */
	DNS01_PROPAGATION,	/* waiting until the record is visible */
	DNS01_READY,		/* visible: cb(NULL) */
	DNS01_FAILED,		/* cb(error) */
	DNS01_REMOVE,		/* unpublished: hook remove / UPDATE delete */
	DNS01_STATE__MAX
};

static const char *const dns01_state_names[DNS01_STATE__MAX] = {
	[DNS01_ADD] = "add",
	[DNS01_PROPAGATION] = "propagation",
	[DNS01_READY] = "ready",
	[DNS01_FAILED] = "failed",
	[DNS01_REMOVE] = "remove",
};

struct dns01_record {
	TAILQ_ENTRY(dns01_record) entry;
	struct daemon		*d;
	enum dns01_state	 state;
	char			*cert_name;
	char			*domains;	/* space-separated, for the hook */
	char			*fqdn;
	char			*txt;
	char			*hook;		/* dns-01-hook, or NULL */
	char			*server;	/* dns-01-rfc2136-server */
	struct rfc2136_key	*key;		/* NULL: unsigned UPDATE */
	char			**resolvers;
	size_t			  nresolvers;
	bool			  check;
	long long		  check_timeout;
	long long		  hook_timeout;
	struct proc		*proc;
	struct rfc2136		*update;
	struct dnsprop		*prop;
	char			*error;		/* for cb, NULL = ready */
	struct event		  ev_done;
	dns01_cb		  cb;
	void			*arg;
};

char *
dns01_txt_value(const char *key_authorization)
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen;

	if (EVP_Digest(key_authorization, strlen(key_authorization), md,
	    &mdlen, EVP_sha256(), NULL) != 1) {
		log_openssl("dns-01: SHA-256");
		return NULL;
	}
	return b64url_encode(md, mdlen);
}

static void
dns01_log(const struct dns01_record *rec, int prio, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
dns01_log(const struct dns01_record *rec, int prio, const char *fmt, ...)
{
	struct log_tag	tag = { .name = rec->cert_name };
	va_list		ap;

	va_start(ap, fmt);
	log_vtagged(prio, &tag, fmt, ap);
	va_end(ap);
}

static void
dns01_free(struct dns01_record *rec)
{
	size_t	i;

	if (rec == NULL)
		return;
	if (rec->d != NULL) {
		TAILQ_REMOVE(&rec->d->dns01s, rec, entry);
		event_del(&rec->ev_done);
	}
	proc_cancel(rec->proc);
	rfc2136_free(rec->update);
	dnsprop_free(rec->prop);
	rfc2136_key_free(rec->key);
	for (i = 0; i < rec->nresolvers; i++)
		free(rec->resolvers[i]);
	free(rec->resolvers);
	free(rec->cert_name);
	free(rec->domains);
	free(rec->fqdn);
	free(rec->txt);
	free(rec->hook);
	free(rec->server);
	free(rec->error);
	free(rec);
}

static void
dns01_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns01_record	*rec = arg;
	dns01_cb		 cb = rec->cb;
	char			*error = rec->error;

	rec->error = NULL;
	rec->cb = NULL;
	if (cb != NULL)
		cb(error, rec->arg);	/* may unpublish rec */
	free(error);
}

/* The end of publishing: cb(error) runs from the loop, once. */
static void
dns01_done(struct dns01_record *rec, const char *error)
{
	struct timeval	tv = { 0, 0 };

	rec->state = error == NULL ? DNS01_READY : DNS01_FAILED;
	free(rec->error);
	rec->error = NULL;
	if (error != NULL) {
		/* The caller reports it: only a trace here. */
		dns01_log(rec, LOG_DEBUG, "dns-01: %s", error);
		if ((rec->error = strdup(error)) == NULL)
			rec->error = xasprintf("dns-01: out of memory");
	} else
		dns01_log(rec, LOG_INFO, "dns-01: TXT %s is ready", rec->fqdn);
	evtimer_add(&rec->ev_done, &tv);
}

/* "exited with status 1: line; line" from a hook's result, malloc'd. */
static char *
dns01_hook_error(const struct dns01_record *rec, const char *verb,
    const struct proc_result *r)
{
	const char	*out = r->output != NULL ? r->output : "";
	const char	*why = r->error != NULL ? r->error : "failed";
	char		*tail, *p, *error;
	size_t		 len;

	/* proc.c says "dns-01-hook exited with status 1". */
	if (strncmp(why, "dns-01-hook ", 12) == 0)
		why += 12;

	len = strlen(out);
	while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == ' '))
		len--;
	if (len > DNS01_OUTPUT_MAX) {
		out += len - DNS01_OUTPUT_MAX;
		len = DNS01_OUTPUT_MAX;
	}
	if ((tail = strndup(out, len)) == NULL)
		return NULL;
	for (p = tail; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	if (*tail != '\0')
		error = xasprintf("dns-01-hook %s %s: %s: %s", verb, rec->fqdn,
		    why, tail);
	else
		error = xasprintf("dns-01-hook %s %s: %s (no output)", verb,
		    rec->fqdn, why);
	free(tail);
	return error;
}

/* Runs "HOOK verb FQDN TXT"; NULL with *cause. */
static struct proc *
dns01_hook_spawn(struct dns01_record *rec, const char *verb,
    proc_done_cb cb, char **cause)
{
	struct log_tag	 tag = { .name = rec->cert_name };
	struct proc	*p = NULL;
	char		**argv = NULL, **v, *env[3] = { NULL, NULL, NULL };
	size_t		  n;

	if (proc_split_argv(rec->hook, &argv, cause) == -1) {
		char	*why = *cause;

		*cause = xasprintf("dns-01-hook: %s", why);
		free(why);
		return NULL;
	}
	for (n = 0; argv[n] != NULL; n++)
		;
	if ((v = reallocarray(argv, n + 4, sizeof(*v))) == NULL) {
		*cause = xasprintf("out of memory");
		goto out;
	}
	argv = v;
	argv[n] = argv[n + 1] = argv[n + 2] = argv[n + 3] = NULL;
	if ((argv[n] = strdup(verb)) == NULL ||
	    (argv[n + 1] = strdup(rec->fqdn)) == NULL ||
	    (argv[n + 2] = strdup(rec->txt)) == NULL ||
	    (env[0] = xasprintf("ACME_RENEWD_NAME=%s", rec->cert_name)) ==
	    NULL ||
	    (env[1] = xasprintf("ACME_RENEWD_DOMAINS=%s", rec->domains)) ==
	    NULL) {
		*cause = xasprintf("out of memory");
		goto out;
	}
	p = proc_spawn(rec->d, &tag, "dns-01-hook", argv, env,
	    rec->hook_timeout, cb, rec, cause);
out:
	proc_argv_free(argv);
	free(env[0]);
	free(env[1]);
	return p;
}

static void
dns01_prop_cb(const char *error, void *arg)
{
	struct dns01_record	*rec = arg;

	dnsprop_free(rec->prop);
	rec->prop = NULL;
	dns01_done(rec, error);
}

/* The record was added: wait until it is visible, unless told not to. */
static void
dns01_added(struct dns01_record *rec)
{
	struct dnsprop_params	 p;
	char			*cause = NULL;

	if (!rec->check) {
		dns01_done(rec, NULL);
		return;
	}
	rec->state = DNS01_PROPAGATION;
	memset(&p, 0, sizeof(p));
	p.fqdn = rec->fqdn;
	p.txt = rec->txt;
	p.servers = rec->resolvers;
	p.nservers = rec->nresolvers;
	p.timeout = rec->check_timeout;
	p.tag_name = rec->cert_name;
	if ((rec->prop = dnsprop_start(rec->d->base, &p, dns01_prop_cb, rec,
	    &cause)) == NULL) {
		dns01_done(rec, cause != NULL ? cause : "out of memory");
		free(cause);
	}
}

static void
dns01_add_hook_cb(const struct proc_result *r, void *arg)
{
	struct dns01_record	*rec = arg;
	char			*error;

	rec->proc = NULL;	/* proc.c frees it */
	if (r->status == 0 && !r->timed_out) {
		dns01_log(rec, LOG_INFO, "dns-01: hook added TXT %s",
		    rec->fqdn);
		dns01_added(rec);
		return;
	}
	error = dns01_hook_error(rec, "add", r);
	dns01_done(rec, error != NULL ? error : "dns-01-hook add failed");
	free(error);
}

static void
dns01_add_update_cb(const char *error, void *arg)
{
	struct dns01_record	*rec = arg;

	rfc2136_free(rec->update);
	rec->update = NULL;
	if (error != NULL)
		dns01_done(rec, error);
	else
		dns01_added(rec);
}

static void
dns01_remove_hook_cb(const struct proc_result *r, void *arg)
{
	struct dns01_record	*rec = arg;
	char			*error;

	rec->proc = NULL;
	if (r->status == 0 && !r->timed_out)
		dns01_log(rec, LOG_INFO, "dns-01: hook removed TXT %s",
		    rec->fqdn);
	else {
		error = dns01_hook_error(rec, "remove", r);
		dns01_log(rec, LOG_WARNING, "%s", error != NULL ? error :
		    "dns-01-hook remove failed");
		free(error);
	}
	dns01_free(rec);
}

static void
dns01_remove_update_cb(const char *error, void *arg)
{
	struct dns01_record	*rec = arg;

	if (error != NULL)
		dns01_log(rec, LOG_WARNING, "dns-01: cannot remove TXT %s: "
		    "%s", rec->fqdn, error);
	dns01_free(rec);	/* frees the update too */
}

/* Copies what the record needs from the config; -1 when out of memory. */
static int
dns01_copy_conf(struct dns01_record *rec, const struct conf_cert *cc)
{
	size_t	i, len = 1;
	char	*p;

	rec->check = cc->dns01_propagation_check;
	rec->check_timeout = cc->dns01_propagation_timeout;
	if ((cc->dns01_hook != NULL &&
	    (rec->hook = strdup(cc->dns01_hook)) == NULL) ||
	    (cc->dns01_rfc2136_server != NULL &&
	    (rec->server = strdup(cc->dns01_rfc2136_server)) == NULL))
		return -1;
	if (cc->dns01_resolvers.n > 0 && (rec->resolvers = calloc(
	    cc->dns01_resolvers.n, sizeof(*rec->resolvers))) == NULL)
		return -1;
	for (i = 0; i < cc->dns01_resolvers.n; i++) {
		if ((rec->resolvers[i] = strdup(cc->dns01_resolvers.v[i])) ==
		    NULL)
			return -1;
		rec->nresolvers++;
	}
	for (i = 0; i < cc->domains.n; i++)
		len += strlen(cc->domains.v[i]) + 1;
	if ((rec->domains = calloc(1, len)) == NULL)
		return -1;
	for (i = 0, p = rec->domains; i < cc->domains.n; i++)
		p += sprintf(p, "%s%s", i > 0 ? " " : "", cc->domains.v[i]);
	return 0;
}

struct dns01_record *
dns01_publish(struct daemon *d, const struct conf_cert *cc,
    const char *cert_name, const char *fqdn, const char *txt, dns01_cb cb,
    void *arg, char **cause)
{
	struct dns01_record	*rec;

	if (cc->dns01_hook == NULL && cc->dns01_rfc2136_server == NULL) {
		*cause = xasprintf("dns-01 needs dns-01-hook or "
		    "dns-01-rfc2136-server");
		return NULL;
	}
	if ((rec = calloc(1, sizeof(*rec))) == NULL ||
	    (rec->cert_name = strdup(cert_name)) == NULL ||
	    (rec->fqdn = strdup(fqdn)) == NULL ||
	    (rec->txt = strdup(txt)) == NULL ||
	    dns01_copy_conf(rec, cc) == -1) {
		*cause = xasprintf("out of memory");
		dns01_free(rec);
		return NULL;
	}
	rec->d = d;
	rec->hook_timeout = d->conf->daemon.hook_timeout;
	rec->cb = cb;
	rec->arg = arg;
	rec->state = DNS01_ADD;
	evtimer_assign(&rec->ev_done, d->base, dns01_done_cb, rec);
	TAILQ_INSERT_TAIL(&d->dns01s, rec, entry);

	if (rec->hook != NULL) {
		dns01_log(rec, LOG_INFO, "dns-01: adding TXT %s by hook",
		    rec->fqdn);
		rec->proc = dns01_hook_spawn(rec, "add", dns01_add_hook_cb,
		    cause);
		if (rec->proc == NULL)
			goto fail;
		return rec;
	}
	if (cc->dns01_tsig_key_file != NULL &&
	    (rec->key = rfc2136_key_load(cc->dns01_tsig_key_file,
	    cause)) == NULL)
		goto fail;
	dns01_log(rec, LOG_INFO, "dns-01: adding TXT %s by UPDATE at %s",
	    rec->fqdn, rec->server);
	if ((rec->update = rfc2136_update(d->base, rec->server, rec->key,
	    RFC2136_ADD, rec->fqdn, rec->txt, rec->cert_name,
	    dns01_add_update_cb, rec, cause)) == NULL)
		goto fail;
	return rec;
fail:
	dns01_free(rec);
	return NULL;
}

void
dns01_unpublish(struct dns01_record *rec)
{
	char	*cause = NULL;

	if (rec == NULL || rec->state == DNS01_REMOVE)
		return;
	dns01_log(rec, LOG_DEBUG, "dns-01: withdrawing TXT %s (was %s)",
	    rec->fqdn, dns01_state_names[rec->state]);
	rec->cb = NULL;
	event_del(&rec->ev_done);
	dnsprop_free(rec->prop);
	rec->prop = NULL;
	proc_cancel(rec->proc);
	rec->proc = NULL;
	rfc2136_free(rec->update);
	rec->update = NULL;
	rec->state = DNS01_REMOVE;
	/* The add was started, so it may have happened: remove. */
	if (rec->hook != NULL)
		rec->proc = dns01_hook_spawn(rec, "remove",
		    dns01_remove_hook_cb, &cause);
	else
		rec->update = rfc2136_update(rec->d->base, rec->server,
		    rec->key, RFC2136_DELETE, rec->fqdn, rec->txt,
		    rec->cert_name, dns01_remove_update_cb, rec, &cause);
	if (rec->proc == NULL && rec->update == NULL) {
		dns01_log(rec, LOG_WARNING, "dns-01: cannot remove TXT %s: %s",
		    rec->fqdn, cause != NULL ? cause : "out of memory");
		free(cause);
		dns01_free(rec);
	}
}

void
dns01_free_all(struct daemon *d)
{
	struct dns01_record	*rec;

	while ((rec = TAILQ_FIRST(&d->dns01s)) != NULL) {
		if (rec->state == DNS01_REMOVE)
			dns01_log(rec, LOG_NOTICE, "dns-01: TXT %s: removal "
			    "abandoned at shutdown", rec->fqdn);
		dns01_free(rec);
	}
}
