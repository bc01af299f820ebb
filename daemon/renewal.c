/*
 * One renewal (RFC 8555 §7.4-7.5) as an explicit state machine:
 *
 *   ORDER           POST newOrder for every name
 *   AUTHORIZATIONS  fetch every authorization, all at once
 *   CHALLENGES      publish the http-01 answer, tell the CA to validate
 *   POLL_AUTHZ      poll each authorization until valid or invalid
 *   FINALIZE        new key (or the current one), CSR, POST finalize
 *   POLL_ORDER      poll the order until valid
 *   DOWNLOAD        POST-as-GET the certificate chain
 *   INSTALL         check it against our key and names, store it
 *
 * Every step is an acme_post() completion or a timer.  renewal_end() stops
 * every request and timer at once, then reports to the cert from the loop
 * (cert_renewal_done(), which frees the renewal), so code that ended the
 * renewal may still touch it until it returns.  Each callback first
 * forgets the op that called it, so nothing cancels an op being delivered.
 */

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <openssl/crypto.h>

#include "log.h"
#include "timeutil.h"
#include "util.h"
#include "acme/acme.h"
#include "certinfo.h"
#include "cert.h"
#include "challenge/challenge.h"
#include "daemon.h"
#include "keygen.h"
#include "renewal.h"
#include "schedule.h"
#include "store.h"

#define POLL_FIRST_MS	50		/* before the first poll */
#define POLL_MAX_MS	(10 * 1000)	/* longest wait between polls */
#define POLL_LIMIT	(10 * 60)	/* give up on a stuck CA after this */

const char *const renewal_phase_names[PHASE__MAX] = {
	[PHASE_ACCOUNT] = "account",
	[PHASE_ORDER] = "order",
	[PHASE_AUTHORIZATIONS] = "authorizations",
	[PHASE_CHALLENGES] = "challenges",
	[PHASE_POLL_AUTHORIZATIONS] = "poll",
	[PHASE_FINALIZE] = "finalize",
	[PHASE_POLL_ORDER] = "poll",
	[PHASE_DOWNLOAD] = "download",
	[PHASE_INSTALL] = "install",
};

struct authz {
	struct renewal		*r;
	char			*url;
	char			*identifier;	/* as the CA names it */
	char			*chall_url;
	char			*token;		/* http-01 token once published */
	bool			 alpn;		/* tls-alpn-01 answer published */
	struct dns01_record	*dns;		/* dns-01 record published */
	struct acme_op		*op;
	struct event		 timer;
	int			 delay;
	bool			 valid;
};

struct renewal {
	struct cert		*cert;
	struct acme_client	*ca;
	enum renewal_phase	 phase;
	time_t			 started;
	char			*order_url;
	char			*finalize_url;
	char			*cert_url;
	char			*default_chain;	/* while alternates are tried */
	struct strlist		 alternates;	/* their URLs */
	size_t			 nalt_tried;
	struct authz		*authz;
	size_t			 nauthz;
	size_t			 nvalid;
	EVP_PKEY		*key;
	struct keygen		*keygen;
	struct acme_op		*op;
	struct event		 timer;		/* order polling */
	int			 delay;
	bool			 done;		/* ended; only endev remains */
	bool			 ok;
	char			*error;
	long long		 retry_after;	/* of the failing answer */
	struct event		 endev;
};

static void	renewal_fail(struct renewal *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	finalize_send(struct renewal *);
static void	order_poll_cb(evutil_socket_t, short, void *);

static struct log_tag
renewal_tag(const struct renewal *r)
{
	return (struct log_tag){ .name = r->cert->name,
	    .ca = acme_client_name(r->ca),
	    .phase = renewal_phase_names[r->phase] };
}

static void
renewal_log(const struct renewal *r, int prio, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
renewal_log(const struct renewal *r, int prio, const char *fmt, ...)
{
	struct log_tag	tag = renewal_tag(r);
	va_list		ap;

	va_start(ap, fmt);
	log_vtagged(prio, &tag, fmt, ap);
	va_end(ap);
}

static void
renewal_set_phase(struct renewal *r, enum renewal_phase phase)
{
	r->phase = phase;
	renewal_log(r, LOG_DEBUG, "phase %s", renewal_phase_names[phase]);
	cert_event(r->cert, renewal_phase_names[phase]);
}

static void	authz_unpublish(struct authz *);

/* Takes back every answer this renewal published. */
static void
renewal_unpublish(struct renewal *r)
{
	size_t	i;

	for (i = 0; i < r->nauthz; i++)
		authz_unpublish(&r->authz[i]);
}

/* Cancels every request and timer in flight. */
static void
renewal_stop(struct renewal *r)
{
	size_t	i;

	renewal_unpublish(r);
	keygen_cancel(r->keygen);
	r->keygen = NULL;
	acme_op_cancel(r->op);
	r->op = NULL;
	event_del(&r->timer);
	for (i = 0; i < r->nauthz; i++) {
		acme_op_cancel(r->authz[i].op);
		r->authz[i].op = NULL;
		event_del(&r->authz[i].timer);
	}
}

static void
renewal_end_cb(evutil_socket_t fd, short what, void *arg)
{
	struct renewal	*r = arg;

	/* The cert frees r. */
	cert_renewal_done(r->cert, r->ok, renewal_phase_names[r->phase],
	    r->error);
}

/* The end: stop everything now, tell the cert from the loop. */
static void
renewal_end(struct renewal *r, bool ok, const char *error)
{
	struct timeval	tv = { 0, 0 };

	if (r->done)
		return;
	r->done = true;
	r->ok = ok;
	if (error != NULL && (r->error = strdup(error)) == NULL)
		r->error = NULL;
	renewal_stop(r);
	evtimer_add(&r->endev, &tv);
}

static void
renewal_fail(struct renewal *r, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	if (r->done)
		return;
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	renewal_log(r, LOG_WARNING, "renewal failed: %s",
	    msg != NULL ? msg : "out of memory");
	renewal_end(r, false, msg != NULL ? msg : "out of memory");
	free(msg);
}

/*
 * Ends the renewal if the CA's answer is an error, remembering its
 * Retry-After for the backoff.  what, if set, prefixes the message.
 */
static bool
renewal_failed_answer(struct renewal *r, const struct acme_response *resp,
    const char *what)
{
	if (resp->error == NULL)
		return false;
	r->retry_after = resp->retry_after;
	if (what != NULL)
		renewal_fail(r, "%s: %s", what, resp->error);
	else
		renewal_fail(r, "%s", resp->error);
	return true;
}

/*
 * The poll delay in milliseconds: Retry-After when the CA sent one, else
 * 50 ms doubling to 10 s, so a quick CA is not kept waiting for seconds
 * and a slow one is not hammered.
 */
static void
poll_delay(const struct acme_response *resp, int *delay_ms,
    struct timeval *tv)
{
	long long	ms;

	if (resp->retry_after > 0)
		ms = (resp->retry_after > POLL_LIMIT ? POLL_LIMIT :
		    resp->retry_after) * 1000LL;
	else {
		*delay_ms = *delay_ms == 0 ? POLL_FIRST_MS : *delay_ms * 2;
		if (*delay_ms > POLL_MAX_MS)
			*delay_ms = POLL_MAX_MS;
		ms = *delay_ms;
	}
	tv->tv_sec = (time_t)(ms / 1000);
	tv->tv_usec = (suseconds_t)(ms % 1000) * 1000;
}

/*
 * Gives up on a CA that keeps us waiting past POLL_LIMIT, or whose
 * Retry-After reaches past it (never polling sooner than it asks); that
 * Retry-After then delays the next attempt.  Writes why into buf.
 */
static bool
polled_too_long(struct renewal *r, const struct acme_response *resp,
    char *why, size_t len)
{
	time_t		now = time(NULL);
	long long	waited = (long long)(now - r->started);

	if (!schedule_poll_expired(r->started, now, resp->retry_after,
	    POLL_LIMIT))
		return false;
	r->retry_after = resp->retry_after;
	if (waited > POLL_LIMIT)
		snprintf(why, len, "after %lld s (the limit is %d s)", waited,
		    POLL_LIMIT);
	else
		snprintf(why, len, "after %lld s, and the CA asks to wait "
		    "%lld s more, past the %d s limit", waited,
		    resp->retry_after, POLL_LIMIT);
	return true;
}

/* --- download and install ------------------------------------------ */

static void
renewal_install(struct renewal *r, const char *pem)
{
	struct store_files	 files = { .key_pem = NULL };
	struct certinfo		 info;
	char			*cause = NULL;
	char			 until[RFC3339_LEN];
	int			 version;
	bool			 key_matches = false;

	memset(&info, 0, sizeof(info));
	renewal_set_phase(r, PHASE_INSTALL);
	if (certinfo_split_chain(pem, &files.cert_pem, &files.chain_pem,
	    &cause) == -1 || certinfo_parse_with_key(files.cert_pem, r->key,
	    &info, &key_matches, &cause) == -1) {
		renewal_fail(r, "certificate from CA: %s", cause);
		goto out;
	}
	if (!key_matches) {
		renewal_fail(r, "the CA's certificate does not match our key");
		goto out;
	}
	if (r->cert->conf->key_owner != NULL) {
		files.key_shared = true;
		files.key_uid = r->cert->conf->key_uid;
		files.key_gid = r->cert->conf->key_gid;
	}
	if ((files.key_pem = keystore_to_pem(r->key)) == NULL) {
		renewal_fail(r, "cannot serialize the key");
		goto out;
	}
	if (!certinfo_names_equal(&info, &r->cert->conf->domains)) {
		renewal_fail(r, "the CA's certificate is not for the names asked");
		goto out;
	}
	if ((version = store_install(r->cert->d->conf->daemon.state_dir,
	    r->cert->name, &files, &cause)) == -1) {
		r->cert->storage_errors++;
		renewal_fail(r, "install: %s", cause);
		goto out;
	}
	time_format_rfc3339(info.not_after, until);
	renewal_log(r, LOG_NOTICE, "installed v%d, serial %s, valid until %s",
	    version, info.serial, until);
	cert_set_current(r->cert, version, &info);
	renewal_end(r, true, NULL);
out:
	certinfo_clear(&info);
	store_files_clear(&files);
	free(cause);
}

static void	download_done_cb(const struct acme_response *, void *);

/* preferred-chain: the chain leads up to a root issued by that name. */
static bool
chain_is_preferred(const struct renewal *r, const char *pem)
{
	char	*top = certinfo_chain_top_issuer(pem);
	bool	 ok = top != NULL &&
		    strcmp(top, r->cert->conf->preferred_chain) == 0;

	free(top);
	return ok;
}

/* Tries the next alternate chain, or settles for the default one. */
static void
download_next_alternate(struct renewal *r)
{
	const char	*url;

	if (r->nalt_tried == r->alternates.n) {
		renewal_log(r, LOG_NOTICE, "no chain leads to \"%s\" (%zu "
		    "offered); installing the default chain",
		    r->cert->conf->preferred_chain, r->alternates.n + 1);
		renewal_install(r, r->default_chain);
		return;
	}
	url = r->alternates.v[r->nalt_tried++];
	if ((r->op = acme_post(r->ca, ACME_EP_CERTIFICATE, url, NULL,
	    download_done_cb,
	    r)) == NULL)
		renewal_fail(r, "out of memory");
}

static void
download_done_cb(const struct acme_response *resp, void *arg)
{
	struct renewal	*r = arg;

	r->op = NULL;
	if (renewal_failed_answer(r, resp, NULL))
		return;
	if (r->cert->conf->preferred_chain == NULL ||
	    chain_is_preferred(r, resp->raw)) {
		renewal_install(r, resp->raw);
		return;
	}
	if (r->default_chain == NULL) {
		/* The first answer is the default chain; it names the rest. */
		if ((r->default_chain = strdup(resp->raw)) == NULL ||
		    acme_links(resp, "alternate", &r->alternates) == -1) {
			renewal_fail(r, "out of memory");
			return;
		}
	}
	download_next_alternate(r);
}

static void
download_send(struct renewal *r)
{
	renewal_set_phase(r, PHASE_DOWNLOAD);
	if ((r->op = acme_post(r->ca, ACME_EP_CERTIFICATE, r->cert_url, NULL,
	    download_done_cb,
	    r)) == NULL)
		renewal_fail(r, "out of memory");
}

/* --- the order: finalize and poll ----------------------------------- */

/* Acts on an order object (RFC 8555 §7.1.6) after finalize or a poll. */
static void
order_advance(struct renewal *r, const struct acme_response *resp)
{
	struct acme_order	 o;
	const char		*status;
	struct timeval		 tv = { 0, 0 };
	char			 why[128];

	acme_order_parse(resp->body, &o);
	if ((status = o.status) == NULL) {
		renewal_fail(r, "order %s: answer has no status", r->order_url);
	} else if (strcmp(status, "valid") == 0) {
		if (o.certificate == NULL ||
		    (r->cert_url = strdup(o.certificate)) == NULL) {
			renewal_fail(r, "order %s is valid but names no "
			    "certificate", r->order_url);
			return;
		}
		download_send(r);
	} else if (strcmp(status, "processing") == 0 ||
	    strcmp(status, "ready") == 0) {
		if (polled_too_long(r, resp, why, sizeof(why))) {
			renewal_fail(r, "order %s still %s %s", r->order_url,
			    status, why);
			return;
		}
		renewal_set_phase(r, PHASE_POLL_ORDER);
		poll_delay(resp, &r->delay, &tv);
		evtimer_add(&r->timer, &tv);
	} else
		renewal_fail(r, "order %s is %s", r->order_url, status);
}

static void
order_polled_cb(const struct acme_response *resp, void *arg)
{
	struct renewal	*r = arg;

	r->op = NULL;
	if (renewal_failed_answer(r, resp, NULL))
		return;
	order_advance(r, resp);
}

static void
order_poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct renewal	*r = arg;

	if ((r->op = acme_post(r->ca, ACME_EP_ORDER, r->order_url, NULL,
	    order_polled_cb,
	    r)) == NULL)
		renewal_fail(r, "out of memory");
}

static void
finalize_done_cb(const struct acme_response *resp, void *arg)
{
	struct renewal	*r = arg;

	r->op = NULL;
	if (renewal_failed_answer(r, resp, NULL))
		return;
	order_advance(r, resp);
}

/* With reuse-key, the current key if it is of the configured type. */
static EVP_PKEY *
renewal_reused_key(struct renewal *r)
{
	struct store_files	 files = { .key_pem = NULL };
	EVP_PKEY		*key = NULL;
	struct key_spec		 spec;
	char			*cause = NULL;

	if (r->cert->conf->reuse_key &&
	    store_read_current(r->cert->d->conf->daemon.state_dir,
	    r->cert->name, &files, &cause) == 0 &&
	    (key = keystore_from_pem(files.key_pem)) != NULL &&
	    (keystore_spec_of(key, &spec) == -1 ||
	    !key_spec_equal(&spec, &r->cert->conf->key))) {
		EVP_PKEY_free(key);	/* key-type changed: a new key */
		key = NULL;
	}
	store_files_clear(&files);
	free(cause);
	return key;
}

static void
finalize_post(struct renewal *r)
{
	json_t	*payload;
	char	*csr;

	if ((csr = csr_build(r->key, r->cert->conf->domains.v,
	    r->cert->conf->domains.n)) == NULL) {
		renewal_fail(r, "cannot build the CSR");
		return;
	}
	payload = json_pack("{s:s}", "csr", csr);
	free(csr);
	if (payload == NULL) {
		renewal_fail(r, "out of memory");
		return;
	}
	r->op = acme_post(r->ca, ACME_EP_FINALIZE, r->finalize_url, payload,
	    finalize_done_cb, r);
	json_decref(payload);
	if (r->op == NULL)
		renewal_fail(r, "out of memory");
}

static void
renewal_key_made_cb(EVP_PKEY *key, void *arg)
{
	struct renewal	*r = arg;
	char		 kind[32];

	r->keygen = NULL;
	if (key == NULL) {
		key_spec_format(&r->cert->conf->key, kind, sizeof(kind));
		renewal_fail(r, "cannot make a %s key", kind);
		return;
	}
	r->key = key;
	finalize_post(r);
}

/* A new key is made off the loop (RSA takes seconds), then finalize. */
static void
finalize_send(struct renewal *r)
{
	renewal_set_phase(r, PHASE_FINALIZE);
	if ((r->key = renewal_reused_key(r)) != NULL) {
		finalize_post(r);
		return;
	}
	if ((r->keygen = keygen_start(r->cert->d->base, &r->cert->d->keygens,
	    &r->cert->conf->key, renewal_key_made_cb, r)) == NULL)
		renewal_fail(r, "cannot start key generation");
}

/* --- authorizations and challenges ---------------------------------- */

static void	authz_fetch(struct authz *);

static void
authz_valid(struct authz *a)
{
	struct renewal	*r = a->r;

	a->valid = true;
	renewal_log(r, LOG_INFO, "%s: authorized", a->identifier);
	if (++r->nvalid == r->nauthz) {
		renewal_unpublish(r);
		finalize_send(r);
	}
}

static void
authz_poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct authz	*a = arg;

	authz_fetch(a);
}

static void
authz_poll_later(struct authz *a, const struct acme_response *resp)
{
	struct timeval	tv = { 0, 0 };
	char		why[128];

	if (polled_too_long(a->r, resp, why, sizeof(why))) {
		renewal_fail(a->r, "%s: authorization still pending %s",
		    a->identifier, why);
		return;
	}
	poll_delay(resp, &a->delay, &tv);
	evtimer_add(&a->timer, &tv);
}

static void
challenge_done_cb(const struct acme_response *resp, void *arg)
{
	struct authz	*a = arg;

	a->op = NULL;
	if (renewal_failed_answer(a->r, resp, a->identifier))
		return;
	a->r->phase = PHASE_POLL_AUTHORIZATIONS;
	authz_poll_later(a, resp);
}

/* Tells the CA the answer is in place (RFC 8555 §7.5.1). */
static void
authz_respond(struct authz *a)
{
	json_t	*empty;

	a->r->phase = PHASE_CHALLENGES;
	empty = json_object();
	a->op = acme_post(a->r->ca, ACME_EP_CHALLENGE, a->chall_url, empty,
	    challenge_done_cb, a);
	json_decref(empty);
	if (a->op == NULL)
		renewal_fail(a->r, "out of memory");
}

static void
authz_dns_ready_cb(const char *error, void *arg)
{
	struct authz	*a = arg;

	if (error != NULL) {
		renewal_fail(a->r, "%s: dns-01: %s", a->identifier, error);
		return;
	}
	renewal_log(a->r, LOG_INFO, "%s: TXT record in place", a->identifier);
	authz_respond(a);
}

/* Puts the answer where the CA will look; -1 with *cause. */
static int
authz_publish(struct authz *a, const char *token, const char *keyauth,
    char **cause)
{
	struct renewal		*r = a->r;
	struct daemon		*d = r->cert->d;
	const struct conf_cert	*conf = r->cert->conf;
	char			*txt, *fqdn;

	switch (conf->challenge) {
	case CHALLENGE_HTTP01:
		if (conf->webroot != NULL) {
			if (webroot_publish(conf->webroot, token, keyauth,
			    cause) == -1)
				return -1;
		} else if (d->http01 == NULL ||
		    http01_add(d->http01, token, keyauth) == -1) {
			*cause = xasprintf("the http-01 responder is not "
			    "listening");
			return -1;
		}
		return (a->token = strdup(token)) == NULL ? -1 : 0;
	case CHALLENGE_TLSALPN01:
		if (d->tlsalpn01 == NULL ||
		    tlsalpn01_add(d->tlsalpn01, a->identifier, keyauth) == -1) {
			*cause = xasprintf("the tls-alpn-01 responder is not "
			    "listening");
			return -1;
		}
		a->alpn = true;
		return 0;
	case CHALLENGE_DNS01:
		txt = dns01_txt_value(keyauth);
		fqdn = xasprintf("_acme-challenge.%s.", a->identifier);
		if (txt != NULL && fqdn != NULL)
			a->dns = dns01_publish(d, conf, r->cert->name, fqdn,
			    txt, authz_dns_ready_cb, a, cause);
		free(txt);
		free(fqdn);
		return a->dns == NULL ? -1 : 0;
	default:
		*cause = xasprintf("unknown challenge type");
		return -1;
	}
}

/* Takes the answer back, whatever became of the authorization. */
static void
authz_unpublish(struct authz *a)
{
	struct daemon		*d = a->r->cert->d;
	const struct conf_cert	*conf = a->r->cert->conf;

	if (a->token != NULL) {
		if (conf->webroot != NULL)
			webroot_remove(conf->webroot, a->token);
		else if (d->http01 != NULL)
			http01_remove(d->http01, a->token);
		free(a->token);
		a->token = NULL;
	}
	if (a->alpn && d->tlsalpn01 != NULL)
		tlsalpn01_remove(d->tlsalpn01, a->identifier);
	a->alpn = false;
	dns01_unpublish(a->dns);	/* removes the record, then frees */
	a->dns = NULL;
}

/* Publishes the answer to the configured challenge, then responds. */
static void
authz_answer(struct authz *a, const struct acme_authz *az)
{
	struct renewal	*r = a->r;
	const char	*want = challenge_type_names[r->cert->conf->challenge];
	const char	*token = az->token, *url = az->chall_url;
	char		*keyauth, *cause = NULL;

	if (token == NULL || url == NULL) {
		renewal_fail(r, "%s: the CA offers no %s challenge for this "
		    "name", a->identifier, want);
		return;
	}
	if ((a->chall_url = strdup(url)) == NULL ||
	    (keyauth = jws_key_authorization(acme_client_account_key(r->ca),
	    token)) == NULL) {
		renewal_fail(r, "out of memory");
		return;
	}
	if (authz_publish(a, token, keyauth, &cause) == -1) {
		free(keyauth);
		renewal_fail(r, "%s: %s: %s", a->identifier, want,
		    cause != NULL ? cause : "cannot publish the answer");
		free(cause);
		return;
	}
	free(keyauth);
	renewal_log(r, LOG_INFO, "%s: answering %s", a->identifier, want);
	if (a->dns == NULL)
		authz_respond(a);	/* dns-01 responds once visible */
}

static void
authz_fetched_cb(const struct acme_response *resp, void *arg)
{
	struct authz		*a = arg;
	struct renewal		*r = a->r;
	struct acme_authz	 az;
	const char		*status;

	a->op = NULL;
	if (renewal_failed_answer(r, resp, a->url))
		return;
	acme_authz_parse(resp->body,
	    challenge_type_names[r->cert->conf->challenge], &az);
	status = az.status;
	if (a->identifier == NULL) {
		a->identifier = strdup(az.identifier != NULL ? az.identifier :
		    a->url);
		if (a->identifier == NULL) {
			renewal_fail(r, "out of memory");
			return;
		}
	}
	if (status == NULL)
		renewal_fail(r, "authorization %s has no status", a->url);
	else if (strcmp(status, "valid") == 0)
		authz_valid(a);
	else if (strcmp(status, "pending") == 0 && a->token == NULL)
		authz_answer(a, &az);
	else if (strcmp(status, "pending") == 0)
		authz_poll_later(a, resp);
	else if (strcmp(status, "invalid") == 0)
		renewal_fail(r, "%s: validation failed: %s", a->identifier,
		    az.problem != NULL ? az.problem : "no detail given");
	else
		renewal_fail(r, "%s: authorization is %s", a->identifier,
		    status);
}

static void
authz_fetch(struct authz *a)
{
	if ((a->op = acme_post(a->r->ca, ACME_EP_AUTHZ, a->url, NULL,
	    authz_fetched_cb,
	    a)) == NULL)
		renewal_fail(a->r, "out of memory");
}

/* --- the order ------------------------------------------------------ */

static int
renewal_take_authz(struct renewal *r, const struct acme_order *o)
{
	json_t	*v;
	size_t	 i;

	if ((r->nauthz = o->nauthz) == 0)
		return 0;
	if ((r->authz = calloc(r->nauthz, sizeof(*r->authz))) == NULL) {
		r->nauthz = 0;
		return -1;
	}
	json_array_foreach(o->authz, i, v) {
		r->authz[i].r = r;
		evtimer_assign(&r->authz[i].timer, r->cert->d->base,
		    authz_poll_cb, &r->authz[i]);
		if (!json_is_string(v) ||
		    (r->authz[i].url = strdup(json_string_value(v))) == NULL)
			return -1;
	}
	return 0;
}

static void
order_created_cb(const struct acme_response *resp, void *arg)
{
	struct renewal		*r = arg;
	struct acme_order	 o;
	const char		*status;
	size_t			 i;

	r->op = NULL;
	if (renewal_failed_answer(r, resp, NULL))
		return;
	acme_order_parse(resp->body, &o);
	status = o.status;
	if (resp->location == NULL || o.finalize == NULL || status == NULL ||
	    (r->order_url = strdup(resp->location)) == NULL ||
	    (r->finalize_url = strdup(o.finalize)) == NULL) {
		renewal_fail(r, "newOrder answer lacks Location, status or "
		    "finalize");
		return;
	}
	if (o.authz_bad || renewal_take_authz(r, &o) == -1) {
		renewal_fail(r, "newOrder answer has bad authorizations");
		return;
	}
	renewal_log(r, LOG_INFO, "order %s is %s", r->order_url, status);
	if (strcmp(status, "ready") == 0 || r->nauthz == 0) {
		finalize_send(r);
		return;
	}
	if (strcmp(status, "pending") != 0) {
		renewal_fail(r, "new order %s is %s", r->order_url, status);
		return;
	}
	renewal_set_phase(r, PHASE_AUTHORIZATIONS);
	/* All at once; a failure ends the renewal (and cancels the rest). */
	for (i = 0; i < r->nauthz && !r->done; i++)
		authz_fetch(&r->authz[i]);
}

/* The ARI id of the certificate in service, if this CA issued it and
 * offers ARI; else NULL. */
static const char *
renewal_replaces(const struct renewal *r)
{
	const struct cert	*c = r->cert;

	if (!c->have_cert || c->st.current.info.ari_id == NULL ||
	    c->st.ca == NULL ||
	    strcmp(c->st.ca, acme_client_name(r->ca)) != 0 ||
	    acme_client_url(r->ca, "renewalInfo") == NULL)
		return NULL;
	return c->st.current.info.ari_id;
}

static void
order_send(struct renewal *r)
{
	const struct strlist	*domains = &r->cert->conf->domains;
	json_t			*ids, *payload;
	size_t			 i;

	renewal_set_phase(r, PHASE_ORDER);
	if ((ids = json_array()) == NULL)
		goto fail;
	for (i = 0; i < domains->n; i++) {
		if (json_array_append_new(ids, json_pack("{s:s, s:s}", "type",
		    acme_is_ip(domains->v[i]) ? "ip" : "dns", "value",
		    domains->v[i])) == -1) {
			json_decref(ids);
			goto fail;
		}
	}
	if ((payload = json_pack("{s:o}", "identifiers", ids)) == NULL)
		goto fail;
	/* RFC 9773 §5: tell a CA with ARI which certificate this replaces. */
	if (renewal_replaces(r) != NULL) {
		if (json_object_set_new(payload, "replaces",
		    json_string(renewal_replaces(r))) == -1) {
			json_decref(payload);
			goto fail;
		}
		renewal_log(r, LOG_INFO, "replaces %s",
		    renewal_replaces(r));
	}
	r->op = acme_new_order(r->ca, payload, r->cert->name,
	    r->cert->conf->profile, order_created_cb, r);
	json_decref(payload);
	if (r->op != NULL)
		return;
fail:
	renewal_fail(r, "out of memory");
}

static void
renewal_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct renewal	*r = arg;

	/* From now on the timer polls the order. */
	evtimer_assign(&r->timer, r->cert->d->base, order_poll_cb, r);
	order_send(r);
}

struct renewal *
renewal_start(struct cert *cert)
{
	struct renewal	*r;
	struct timeval	 tv = { 0, 0 };

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		cert_renewal_done(cert, false, "order", "out of memory");
		return NULL;
	}
	r->cert = cert;
	r->started = time(NULL);
	r->retry_after = -1;
	r->phase = PHASE_ORDER;
	r->ca = daemon_ca(cert->d, cert_ca_name(cert));
	if (r->ca == NULL) {
		free(r);
		cert_renewal_done(cert, false, "order", "no such CA");
		return NULL;
	}
	/* The first request goes out from the loop, so that a failure never
	 * calls the cert back before it has the job in hand. */
	evtimer_assign(&r->endev, cert->d->base, renewal_end_cb, r);
	evtimer_assign(&r->timer, cert->d->base, renewal_kick_cb, r);
	evtimer_add(&r->timer, &tv);
	renewal_log(r, LOG_INFO, "renewal started for %zu name%s",
	    cert->conf->domains.n, cert->conf->domains.n == 1 ? "" : "s");
	return r;
}

enum renewal_phase
renewal_phase(const struct renewal *r)
{
	return r->phase;
}

long long
renewal_retry_after(const struct renewal *r)
{
	return r->retry_after;
}

void
renewal_free(struct renewal *r)
{
	size_t	i;

	if (r == NULL)
		return;
	renewal_stop(r);
	event_del(&r->endev);
	for (i = 0; i < r->nauthz; i++) {
		free(r->authz[i].url);
		free(r->authz[i].chall_url);
		free(r->authz[i].identifier);
	}
	free(r->authz);
	EVP_PKEY_free(r->key);
	free(r->order_url);
	free(r->finalize_url);
	free(r->cert_url);
	free(r->default_chain);
	for (i = 0; i < r->alternates.n; i++)
		free(r->alternates.v[i]);
	free(r->alternates.v);
	free(r->error);
	free(r);
}
