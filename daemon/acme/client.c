/*
 * One ACME server ([ca NAME]): its directory, a pool of nonces, the account
 * and every signed request made to it (RFC 8555 §6, §7.1-7.3).
 *
 * A request (struct acme_op) waits until the client is ready: directory
 * fetched, account key loaded or made, account registered or found.  Then
 * it takes a nonce (from the pool, or a HEAD newNonce of its own), is
 * signed and sent.  badNonce is retried with the nonce the error carried;
 * accountDoesNotExist registers again.  Nothing here blocks: every step is
 * an HTTP completion or a zero-delay event.
 */

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <openssl/crypto.h>

#include "log.h"
#include "util.h"
#include "../fsutil.h"
#include "../http.h"
#include "../keygen.h"
#include "b64url.h"
#include "acme.h"

#define NONCE_POOL		8
#define BADNONCE_RETRIES	5
#define ERR_PREFIX		ACME_ERROR_NS

const char *const acme_endpoint_names[ACME_EP__MAX] = {
	[ACME_EP_DIRECTORY] = "directory",
	[ACME_EP_NEW_NONCE] = "newNonce",
	[ACME_EP_NEW_ACCOUNT] = "newAccount",
	[ACME_EP_NEW_ORDER] = "newOrder",
	[ACME_EP_ORDER] = "order",
	[ACME_EP_AUTHZ] = "authz",
	[ACME_EP_CHALLENGE] = "challenge",
	[ACME_EP_FINALIZE] = "finalize",
	[ACME_EP_CERTIFICATE] = "certificate",
	[ACME_EP_REVOKE] = "revokeCert",
	[ACME_EP_KEY_CHANGE] = "keyChange",
	[ACME_EP_RENEWAL_INFO] = "renewalInfo",
};

/* From tens of milliseconds (a CA next door) to a minute (a slow one). */
const double acme_buckets[ACME_BUCKETS] = {
	0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60
};

enum client_state {
	CLIENT_IDLE,		/* nothing known yet, or setup failed */
	CLIENT_DIRECTORY,	/* GET directory in flight */
	CLIENT_ACCOUNT,		/* newAccount in flight */
	CLIENT_READY,
};

TAILQ_HEAD(acme_op_list, acme_op);

struct acme_client {
	struct event_base	*base;
	struct http		*http;
	struct keygen_list	*keygens;
	struct keygen		*keygen;	/* account key being made */
	const struct conf_ca	*conf;
	char			*name;
	char			*state_dir;
	char			*account_dir;	/* state_dir/accounts/<name> */
	enum client_state	 state;
	json_t			*directory;
	char			*nonces[NONCE_POOL];
	size_t			 nnonces;
	EVP_PKEY		*key;
	char			*kid;
	struct http_xfer	*setup_xfer;	/* directory GET */
	struct acme_op		*setup_op;	/* newAccount */
	struct acme_op_list	 waiting;	/* until CLIENT_READY */
	struct acme_op_list	 active;	/* nonce or POST in flight */
	struct acme_op_list	 failing;	/* failure about to be delivered */
	struct acme_endpoint_stats stats[ACME_EP__MAX];
};

struct acme_op {
	TAILQ_ENTRY(acme_op)	 entry;
	struct acme_client	*c;
	struct acme_op_list	*list;
	char			*url;		/* NULL: resolve res when ready */
	char			*res;
	char			*payload;	/* NULL: POST-as-GET */
	bool			 use_jwk;	/* newAccount signs with jwk */
	bool			 probe;		/* no request: "ready?" only */
	bool			 get;		/* unsigned GET */
	enum acme_endpoint	 ep;
	int			 retries;
	struct http_xfer	*xfer;
	struct event		 failev;	/* delivers failure later */
	char			*failure;
	long long		 retry_after;	/* of the answer that failed it */
	char			*profile;	/* newOrder: to check and add */
	char			*cert;		/* newOrder: for whom */
	acme_cb			 cb;
	void			*arg;
};

static void	client_setup(struct acme_client *);
static void	op_send(struct acme_op *);
static void	op_fail(struct acme_op *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
static void	account_done_cb(const struct acme_response *, void *);

/* A log line about this CA: tagged ACME_RENEWD_CA=<name>. */
static void
client_log(const struct acme_client *c, int prio, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
client_log(const struct acme_client *c, int prio, const char *fmt, ...)
{
	struct log_tag	tag = { .ca = c->name };
	va_list		ap;

	va_start(ap, fmt);
	log_vtagged(prio, &tag, fmt, ap);
	va_end(ap);
}

static void
op_unlink(struct acme_op *op)
{
	if (op->list != NULL) {
		TAILQ_REMOVE(op->list, op, entry);
		op->list = NULL;
	}
}

static void
op_link(struct acme_op *op, struct acme_op_list *list)
{
	op_unlink(op);
	TAILQ_INSERT_TAIL(list, op, entry);
	op->list = list;
}

static void
op_free(struct acme_op *op)
{
	if (op == NULL)
		return;
	op_unlink(op);
	http_cancel(op->xfer);
	event_del(&op->failev);
	free(op->url);
	free(op->res);
	free(op->payload);
	free(op->failure);
	free(op->profile);
	free(op->cert);
	free(op);
}

void
acme_op_cancel(struct acme_op *op)
{
	if (op != NULL && op->c->setup_op == op)
		op->c->setup_op = NULL;
	op_free(op);
}

/* Calls the owner back with a response and frees the op. */
static void
op_deliver(struct acme_op *op, const struct acme_response *resp)
{
	acme_cb		 cb = op->cb;
	void		*arg = op->arg;

	op->xfer = NULL;
	op_free(op);
	cb(resp, arg);
}

static void
op_fail_cb(evutil_socket_t fd, short what, void *arg)
{
	struct acme_op		*op = arg;
	struct acme_response	 resp;

	memset(&resp, 0, sizeof(resp));
	resp.retry_after = op->retry_after;
	resp.raw = "";
	if (op->probe && op->failure == NULL)
		resp.status = 200;	/* ready */
	else
		resp.error = op->failure != NULL ? op->failure :
		    "request failed";
	op->failure = NULL;
	op_deliver(op, &resp);
	free((char *)resp.error);
}

/* Failure is delivered from the loop, never from inside acme_post(). */
static void
op_fail(struct acme_op *op, const char *fmt, ...)
{
	va_list		ap;
	struct timeval	tv = { 0, 0 };

	free(op->failure);
	va_start(ap, fmt);
	op->failure = xvasprintf(fmt, ap);
	va_end(ap);
	op_link(op, &op->c->failing);
	http_cancel(op->xfer);
	op->xfer = NULL;
	evtimer_add(&op->failev, &tv);
}

static void
nonce_put(struct acme_client *c, const char *nonce)
{
	char	*copy;

	if (nonce == NULL || *nonce == '\0' || (copy = strdup(nonce)) == NULL)
		return;
	if (c->nnonces == NONCE_POOL) {
		/* Drop the oldest: the newest are the likeliest still good. */
		free(c->nonces[0]);
		memmove(&c->nonces[0], &c->nonces[1],
		    (NONCE_POOL - 1) * sizeof(c->nonces[0]));
		c->nnonces--;
	}
	c->nonces[c->nnonces++] = copy;
}

static char *
nonce_take(struct acme_client *c)
{
	if (c->nnonces == 0)
		return NULL;
	return c->nonces[--c->nnonces];
}

/* retry_after: the CA's, of the answer that failed the setup, or -1. */
static void
client_fail_waiting(struct acme_client *c, const char *why,
    long long retry_after)
{
	struct acme_op	*op;

	while ((op = TAILQ_FIRST(&c->waiting)) != NULL) {
		op->retry_after = retry_after;
		op_fail(op, "%s", why);
	}
}

/* A transport failure, with a hint where the usual cause is known. */
static char *
transport_error(const struct acme_client *c, const char *url,
    const struct http_response *hr)
{
	const char	*hint = "";

	if (strstr(hr->error, "certificate") != NULL ||
	    strstr(hr->error, "SSL") != NULL)
		hint = c->conf->trust_bundle == NULL ?
		    "; TLS verify failed: is trust-bundle set?" :
		    "; TLS verify failed: does trust-bundle hold the CA's issuer?";
	return xasprintf("request to CA %s at %s failed: %s%s", c->name, url,
	    hr->error, hint);
}

const char *
acme_client_name(const struct acme_client *c)
{
	return c->name;
}

const char *
acme_client_url(const struct acme_client *c, const char *res)
{
	json_t	*v;

	if (c->directory == NULL || (v = json_object_get(c->directory, res)) == NULL)
		return NULL;
	return json_string_value(v);
}

EVP_PKEY *
acme_client_account_key(const struct acme_client *c)
{
	return c->key;
}

/*
 * Fills an acme_response from an HTTP response: parses a JSON body and,
 * for an error status, the problem document (RFC 7807, RFC 8555 §6.7).
 * A success whose JSON does not parse is an error too.  *errbuf receives
 * the malloc'd error line when there is one.
 */
static void
response_build(const struct acme_client *c, const char *url,
    const struct http_response *hr, struct acme_response *resp,
    char **errbuf)
{
	memset(resp, 0, sizeof(*resp));
	*errbuf = NULL;
	resp->status = hr->status;
	resp->raw = hr->body;
	resp->raw_len = hr->body_len;
	resp->location = hr->location;
	resp->content_type = hr->content_type;
	resp->retry_after = hr->retry_after;
	resp->links = hr->links;
	resp->nlinks = hr->nlinks;
	if (hr->status == 0) {
		*errbuf = transport_error(c, url, hr);
		resp->error = *errbuf != NULL ? *errbuf : hr->error;
		return;
	}
	acme_response_parse(c->name, url, resp, errbuf);
}

void
acme_response_parse(const char *ca, const char *url,
    struct acme_response *resp, char **errbuf)
{
	const char	*type = NULL, *detail = NULL;
	json_error_t	 jerr;
	bool		 ok = resp->status >= 200 && resp->status < 300;

	*errbuf = NULL;
	if (resp->content_type != NULL &&
	    strstr(resp->content_type, "json") != NULL &&
	    (resp->body = json_loadb(resp->raw, resp->raw_len, 0,
	    &jerr)) == NULL && ok) {
		*errbuf = xasprintf("CA %s sent malformed JSON (HTTP %ld) for %s: "
		    "%s at line %d, column %d", ca, resp->status, url,
		    jerr.text, jerr.line, jerr.column);
		resp->error = *errbuf != NULL ? *errbuf : "malformed JSON";
		return;
	}
	if (ok)
		return;
	if (resp->body != NULL) {
		type = json_string_value(json_object_get(resp->body, "type"));
		detail = json_string_value(json_object_get(resp->body, "detail"));
	}
	resp->problem_type = type;
	*errbuf = xasprintf("CA %s answered HTTP %ld for %s%s%s%s%s",
	    ca, resp->status, url, type != NULL ? ": " : "",
	    type != NULL ? type + (strncmp(type, ERR_PREFIX,
	    strlen(ERR_PREFIX)) == 0 ? strlen(ERR_PREFIX) : 0) : "",
	    detail != NULL ? ": " : "", detail != NULL ? detail : "");
	resp->error = *errbuf != NULL ? *errbuf : "CA error";
}

static bool
problem_is(const struct acme_response *resp, const char *what)
{
	return resp->problem_type != NULL &&
	    strncmp(resp->problem_type, ERR_PREFIX, strlen(ERR_PREFIX)) == 0 &&
	    strcmp(resp->problem_type + strlen(ERR_PREFIX), what) == 0;
}

/* Counts one answer (or its absence: code 0) and how long it took. */
static void
client_count(struct acme_client *c, enum acme_endpoint ep,
    const struct http_response *hr)
{
	struct acme_endpoint_stats	*st = &c->stats[ep];
	struct acme_code_count		*codes;
	size_t				 i;

	for (i = 0; i < st->ncodes; i++)
		if (st->codes[i].code == hr->status)
			break;
	if (i == st->ncodes) {
		if ((codes = reallocarray(st->codes, st->ncodes + 1,
		    sizeof(*codes))) == NULL)
			return;
		st->codes = codes;
		st->codes[st->ncodes].code = hr->status;
		st->codes[st->ncodes++].n = 0;
	}
	st->codes[i].n++;
	for (i = 0; i < ACME_BUCKETS && hr->seconds > acme_buckets[i]; i++)
		;
	if (i < ACME_BUCKETS)
		st->buckets[i]++;
	st->sum += hr->seconds;
	st->count++;
}

const struct acme_endpoint_stats *
acme_client_stats(const struct acme_client *c)
{
	return c->stats;
}

static void
op_post_done_cb(const struct http_response *hr, void *arg)
{
	struct acme_op		*op = arg;
	struct acme_client	*c = op->c;
	struct acme_response	 resp;
	char			*err;

	op->xfer = NULL;
	client_count(c, op->ep, hr);
	nonce_put(c, hr->replay_nonce);
	response_build(c, op->url, hr, &resp, &err);
	client_log(c, LOG_DEBUG, "POST %s: HTTP %ld", op->url, hr->status);

	if (hr->status == 400 && problem_is(&resp, "badNonce") &&
	    op->retries++ < BADNONCE_RETRIES) {
		client_log(c, LOG_DEBUG, "bad nonce, retrying %s", op->url);
		op_send(op);
	} else if (problem_is(&resp, "accountDoesNotExist") && !op->use_jwk) {
		client_log(c, LOG_NOTICE, "account %s does not exist; "
		    "registering again", c->kid != NULL ? c->kid : "?");
		free(c->kid);
		c->kid = NULL;
		c->state = CLIENT_IDLE;
		op_link(op, &c->waiting);
		client_setup(c);
	} else
		op_deliver(op, &resp);
	json_decref(resp.body);
	free(err);
}

static void
op_sign_and_send(struct acme_op *op, char *nonce)
{
	struct acme_client	*c = op->c;
	struct http_request	 req;
	char			*jws;

	jws = jws_sign(c->key, op->use_jwk ? NULL : c->kid, nonce, op->url,
	    op->payload);
	free(nonce);
	if (jws == NULL) {
		op_fail(op, "CA %s: cannot sign request to %s", c->name, op->url);
		return;
	}
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = op->url;
	req.body = jws;
	req.body_len = strlen(jws);
	req.content_type = "application/jose+json";
	req.ca_file = c->conf->trust_bundle;
	op->xfer = http_request(c->http, &req, op_post_done_cb, op);
	free(jws);
	if (op->xfer == NULL)
		op_fail(op, "CA %s: cannot send request to %s", c->name, op->url);
}

static void
op_nonce_done_cb(const struct http_response *hr, void *arg)
{
	struct acme_op		*op = arg;
	struct acme_client	*c = op->c;
	const char		*url = acme_client_url(c, "newNonce");
	char			*nonce, *err;

	op->xfer = NULL;
	client_count(c, ACME_EP_NEW_NONCE, hr);
	if (hr->status == 0) {
		err = transport_error(c, url, hr);
		op_fail(op, "%s", err != NULL ? err : hr->error);
		free(err);
		return;
	}
	if (hr->status < 200 || hr->status >= 300) {
		op->retry_after = hr->retry_after;
		op_fail(op, "CA %s answered HTTP %ld for %s", c->name,
		    hr->status, url);
		return;
	}
	if (hr->replay_nonce == NULL || (nonce = strdup(hr->replay_nonce)) == NULL) {
		op_fail(op, "CA %s: newNonce (%s) gave no Replay-Nonce (HTTP %ld)",
		    c->name, url, hr->status);
		return;
	}
	op_sign_and_send(op, nonce);
}

static void
op_get_done_cb(const struct http_response *hr, void *arg)
{
	struct acme_op		*op = arg;
	struct acme_client	*c = op->c;
	struct acme_response	 resp;
	char			*err;

	op->xfer = NULL;
	client_count(c, op->ep, hr);
	response_build(c, op->url, hr, &resp, &err);
	client_log(c, LOG_DEBUG, "GET %s: HTTP %ld", op->url, hr->status);
	op_deliver(op, &resp);
	json_decref(resp.body);
	free(err);
}

static void
op_get_send(struct acme_op *op)
{
	struct http_request	req;

	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = op->url;
	req.ca_file = op->c->conf->trust_bundle;
	if ((op->xfer = http_request(op->c->http, &req, op_get_done_cb,
	    op)) == NULL)
		op_fail(op, "CA %s: cannot send request to %s", op->c->name,
		    op->url);
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Names the profiles on offer: "classic, tlsserver" (sorted). */
static char *
profiles_list(const json_t *profiles)
{
	const char	**names = NULL;
	const char	 *name;
	json_t		 *v;
	size_t		  n = 0, i, len = 1;
	char		 *out = NULL;

	if ((names = calloc(json_object_size(profiles) + 1,
	    sizeof(*names))) == NULL)
		return NULL;
	json_object_foreach((json_t *)profiles, name, v) {
		names[n++] = name;
		len += strlen(name) + 2;
	}
	qsort(names, n, sizeof(*names), str_cmp);
	if ((out = calloc(1, len)) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		if (i > 0)
			strcat(out, ", ");
		strcat(out, names[i]);
	}
out:
	free(names);
	return out;
}

int
acme_profile_check(const json_t *directory, const char *ca, const char *cert,
    const char *profile, char **cause)
{
	const json_t	*profiles;
	char		*list;

	profiles = json_object_get(json_object_get(directory, "meta"),
	    "profiles");
	if (!json_is_object(profiles) || json_object_size(profiles) == 0) {
		*cause = xasprintf("certificate '%s' asks for profile '%s', but "
		    "CA '%s' offers no profiles (its directory has no "
		    "meta.profiles)", cert, profile, ca);
		return -1;
	}
	if (json_object_get(profiles, profile) != NULL)
		return 0;
	list = profiles_list(profiles);
	*cause = xasprintf("certificate '%s' asks for profile '%s', but CA "
	    "'%s' offers no such profile (offered: %s)", cert, profile, ca,
	    list != NULL ? list : "?");
	free(list);
	return -1;
}

/* newOrder: checks the profile against the directory, then adds it to the
 * payload, once (a badNonce retry sends the same payload). */
static int
op_add_profile(struct acme_op *op)
{
	struct acme_client	*c = op->c;
	json_t			*payload = NULL;
	char			*cause = NULL, *text = NULL;
	int			 rc = -1;

	if (acme_profile_check(c->directory, c->name, op->cert, op->profile,
	    &cause) == -1) {
		op_fail(op, "%s", cause != NULL ? cause : "profile not offered");
		goto out;
	}
	if ((payload = json_loads(op->payload != NULL ? op->payload : "{}", 0,
	    NULL)) == NULL || json_object_set_new(payload, "profile",
	    json_string(op->profile)) == -1 ||
	    (text = json_dumps(payload, JSON_COMPACT)) == NULL) {
		op_fail(op, "CA %s: out of memory", c->name);
		goto out;
	}
	client_log(c, LOG_DEBUG, "asking for profile %s", op->profile);
	free(op->payload);
	op->payload = text;
	free(op->profile);
	op->profile = NULL;
	rc = 0;
out:
	json_decref(payload);
	free(cause);
	return rc;
}

static void
op_send(struct acme_op *op)
{
	struct acme_client	*c = op->c;
	struct http_request	 req;
	char			*nonce;
	const char		*url;

	if (op->probe) {
		/* The account is ready: say so, from the loop. */
		op_fail(op, "%s", "");
		free(op->failure);
		op->failure = NULL;
		return;
	}
	op_link(op, &c->active);
	if (op->get) {
		op_get_send(op);
		return;
	}
	if (op->profile != NULL && op_add_profile(op) == -1)
		return;
	if (op->url == NULL) {
		if ((url = acme_client_url(c, op->res)) == NULL ||
		    (op->url = strdup(url)) == NULL) {
			op_fail(op, "CA %s: directory has no %s", c->name, op->res);
			return;
		}
	}
	if ((nonce = nonce_take(c)) != NULL) {
		op_sign_and_send(op, nonce);
		return;
	}
	if ((url = acme_client_url(c, "newNonce")) == NULL) {
		op_fail(op, "CA %s: directory has no newNonce", c->name);
		return;
	}
	memset(&req, 0, sizeof(req));
	req.method = "HEAD";
	req.url = url;
	req.ca_file = c->conf->trust_bundle;
	if ((op->xfer = http_request(c->http, &req, op_nonce_done_cb, op)) == NULL)
		op_fail(op, "CA %s: cannot request a nonce", c->name);
}

static struct acme_op *
op_new(struct acme_client *c, enum acme_endpoint ep, const char *url,
    const char *res, json_t *payload, acme_cb cb, void *arg)
{
	struct acme_op	*op;

	if ((op = calloc(1, sizeof(*op))) == NULL)
		return NULL;
	op->c = c;
	op->ep = ep;
	op->cb = cb;
	op->arg = arg;
	op->retry_after = -1;
	evtimer_assign(&op->failev, c->base, op_fail_cb, op);
	if ((url != NULL && (op->url = strdup(url)) == NULL) ||
	    (res != NULL && (op->res = strdup(res)) == NULL) ||
	    (payload != NULL &&
	    (op->payload = json_dumps(payload, JSON_COMPACT)) == NULL)) {
		op_free(op);
		return NULL;
	}
	return op;
}

/* Sends op now, or once the client is ready. */
static struct acme_op *
op_dispatch(struct acme_op *op)
{
	struct acme_client	*c = op->c;

	if (c->state == CLIENT_READY)
		op_send(op);
	else {
		op_link(op, &c->waiting);
		client_setup(c);
	}
	return op;
}

static struct acme_op *
op_start(struct acme_client *c, enum acme_endpoint ep, const char *url,
    const char *res, json_t *payload, acme_cb cb, void *arg)
{
	struct acme_op	*op;

	if ((op = op_new(c, ep, url, res, payload, cb, arg)) == NULL) {
		client_log(c, LOG_WARNING, "out of memory");
		return NULL;
	}
	return op_dispatch(op);
}

struct acme_op *
acme_new_order(struct acme_client *c, json_t *payload, const char *cert,
    const char *profile, acme_cb cb, void *arg)
{
	struct acme_op	*op;

	if ((op = op_new(c, ACME_EP_NEW_ORDER, NULL, "newOrder", payload, cb,
	    arg)) == NULL || (profile != NULL &&
	    ((op->profile = strdup(profile)) == NULL ||
	    (op->cert = strdup(cert != NULL ? cert : "?")) == NULL))) {
		op_free(op);
		client_log(c, LOG_WARNING, "out of memory");
		return NULL;
	}
	return op_dispatch(op);
}

struct acme_op *
acme_post(struct acme_client *c, enum acme_endpoint ep, const char *url,
    json_t *payload, acme_cb cb, void *arg)
{
	return op_start(c, ep, url, NULL, payload, cb, arg);
}

struct acme_op *
acme_post_res(struct acme_client *c, enum acme_endpoint ep, const char *res,
    json_t *payload, acme_cb cb, void *arg)
{
	return op_start(c, ep, NULL, res, payload, cb, arg);
}

/*
 * The account directory, opened without following a symbolic link below
 * the state directory (fs_open_beneath); -1 with *cause.
 */
static int
account_dir_open(struct acme_client *c, bool create, char **cause)
{
	char	*rel = fs_path("accounts/%s", c->name);
	int	 fd;

	fd = fs_open_beneath(c->state_dir, rel, create, 0700, cause);
	free(rel);
	return fd;
}

/* Loads the account key: 0, 1 when there is none yet, -1 with *cause. */
static int
account_key_load(struct acme_client *c, char **cause)
{
	char		*path = NULL, *pem = NULL;
	size_t		 len;
	int		 dfd, rc = -1;

	/* A link in place of the directory is refused here already. */
	if ((dfd = account_dir_open(c, false, cause)) == -1) {
		if (errno == ENOENT) {
			free(*cause);
			*cause = NULL;
			rc = 1;
		}
		goto out;
	}
	close(dfd);
	path = fs_path("%s/account-key.pem", c->account_dir);
	if (access(path, F_OK) == -1 && errno == ENOENT) {
		rc = 1;
		goto out;
	}
	if ((pem = fs_read_file(path, 1 << 20, &len, cause)) == NULL)
		goto out;
	if ((c->key = keystore_from_pem(pem)) == NULL) {
		*cause = xasprintf("%s: not a private key", path);
		goto out;
	}
	rc = 0;
out:
	if (pem != NULL)
		OPENSSL_cleanse(pem, strlen(pem));
	free(pem);
	free(path);
	return rc;
}

/* Stores a new account key (0600) before it is ever used. */
static int
account_key_store(struct acme_client *c, EVP_PKEY *key, char **cause)
{
	char		*pem = NULL;
	int		 dfd, rc = -1;

	if ((dfd = account_dir_open(c, true, cause)) == -1)
		goto out;
	if ((pem = keystore_to_pem(key)) == NULL) {
		*cause = xasprintf("cannot serialize the account key");
		goto out;
	}
	if (fs_write_atomic_at(dfd, c->account_dir, "account-key.pem", pem,
	    strlen(pem), 0600, (uid_t)-1, (gid_t)-1, cause) == -1)
		goto out;
	client_log(c, LOG_INFO, "new account key in %s/account-key.pem",
	    c->account_dir);
	rc = 0;
out:
	if (pem != NULL)
		OPENSSL_cleanse(pem, strlen(pem));
	free(pem);
	if (dfd != -1)
		close(dfd);
	return rc;
}

static void
account_save(struct acme_client *c)
{
	json_t		*doc = NULL, *contact;
	char		*text = NULL, *cause = NULL;
	size_t		 i;
	int		 dfd = -1;

	if ((contact = json_array()) == NULL)
		return;
	for (i = 0; i < c->conf->contact.n; i++)
		json_array_append_new(contact, json_string(c->conf->contact.v[i]));
	doc = json_pack("{s:s, s:s, s:o}", "kid", c->kid,
	    "directory", c->conf->directory, "contact", contact);
	if (doc == NULL || (text = json_dumps(doc, JSON_INDENT(2))) == NULL)
		goto out;
	if ((dfd = account_dir_open(c, true, &cause)) == -1 ||
	    fs_write_atomic_at(dfd, c->account_dir, "account.json", text,
	    strlen(text), 0600, (uid_t)-1, (gid_t)-1, &cause) == -1)
		client_log(c, LOG_WARNING, "%s", cause);
out:
	if (dfd != -1)
		close(dfd);
	json_decref(doc);
	free(text);
	free(cause);
}

/* Setup failed: every waiting request fails with the reason. */
static void
client_setup_failed(struct acme_client *c, const char *why)
{
	log_tagged(LOG_WARNING, &(struct log_tag){ .ca = c->name }, "%s", why);
	c->state = CLIENT_IDLE;
	client_fail_waiting(c, why, -1);
}

/* The externalAccountBinding member, or NULL with *cause. */
static json_t *
account_eab(struct acme_client *c, char **cause)
{
	unsigned char	*hmac;
	size_t		 hmaclen = 0;
	json_t		*eab;

	if ((hmac = config_eab_key_read(c->conf->eab_hmac_key_file, &hmaclen,
	    cause)) == NULL)
		return NULL;
	if ((eab = jws_eab(c->key, c->conf->eab_kid, hmac, hmaclen,
	    acme_client_url(c, "newAccount"))) == NULL)
		*cause = xasprintf("cannot build the external account binding");
	OPENSSL_cleanse(hmac, hmaclen);
	free(hmac);
	return eab;
}

static void	account_register(struct acme_client *);

static void
account_key_made_cb(EVP_PKEY *key, void *arg)
{
	struct acme_client	*c = arg;
	char			*cause = NULL;

	c->keygen = NULL;
	if (key == NULL) {
		client_setup_failed(c, "cannot make an account key");
		return;
	}
	if (account_key_store(c, key, &cause) == -1) {
		EVP_PKEY_free(key);
		client_setup_failed(c, cause != NULL ? cause : "account key");
		free(cause);
		return;
	}
	c->key = key;
	account_register(c);
}

static void
account_register(struct acme_client *c)
{
	json_t		*payload, *contact, *eab = NULL;
	json_t		*meta;
	size_t		 i;
	char		*cause = NULL;

	c->state = CLIENT_ACCOUNT;
	if (c->key == NULL) {
		switch (account_key_load(c, &cause)) {
		case -1:
			client_setup_failed(c, cause != NULL ? cause :
			    "account key");
			free(cause);
			return;
		case 1:
			/* None yet: made off the loop, then we come back. */
			if ((c->keygen = keygen_start(c->base, c->keygens,
			    &c->conf->account_key, account_key_made_cb,
			    c)) == NULL)
				client_setup_failed(c, "cannot start key "
				    "generation");
			return;
		}
	}
	meta = json_object_get(c->directory, "meta");
	if (c->conf->eab_kid == NULL && json_is_true(json_object_get(meta,
	    "externalAccountRequired"))) {
		cause = xasprintf("CA %s requires External Account Binding: "
		    "set eab-kid and eab-hmac-key-file in [ca %s]", c->name,
		    c->name);
		client_setup_failed(c, cause != NULL ? cause : "EAB required");
		free(cause);
		return;
	}
	if (c->conf->eab_kid != NULL && (eab = account_eab(c, &cause)) == NULL) {
		client_setup_failed(c, cause != NULL ? cause : "EAB");
		free(cause);
		return;
	}
	contact = json_array();
	for (i = 0; contact != NULL && i < c->conf->contact.n; i++)
		json_array_append_new(contact, json_string(c->conf->contact.v[i]));
	payload = json_pack("{s:b, s:o, s:o*}", "termsOfServiceAgreed",
	    c->conf->accept_tos, "contact", contact,
	    "externalAccountBinding", eab);
	c->setup_op = op_new(c, ACME_EP_NEW_ACCOUNT, NULL, "newAccount",
	    payload, account_done_cb, c);
	json_decref(payload);
	if (c->setup_op == NULL) {
		client_setup_failed(c, "out of memory");
		return;
	}
	c->setup_op->use_jwk = true;
	op_send(c->setup_op);
}

static void
account_done_cb(const struct acme_response *resp, void *arg)
{
	struct acme_client	*c = arg;
	struct acme_op		*op;

	c->setup_op = NULL;
	if (resp->error != NULL || resp->location == NULL) {
		log_tagged(LOG_WARNING, &(struct log_tag){ .ca = c->name },
		    "account registration failed: %s",
		    resp->error != NULL ? resp->error : "no Location in answer");
		c->state = CLIENT_IDLE;
		client_fail_waiting(c, resp->error != NULL ? resp->error :
		    "account registration gave no Location", resp->retry_after);
		return;
	}
	free(c->kid);
	if ((c->kid = strdup(resp->location)) == NULL) {
		c->state = CLIENT_IDLE;
		client_fail_waiting(c, "out of memory", -1);
		return;
	}
	log_tagged(LOG_INFO, &(struct log_tag){ .ca = c->name },
	    "account %s %s", c->kid, resp->status == 201 ? "registered" : "found");
	account_save(c);
	c->state = CLIENT_READY;
	while ((op = TAILQ_FIRST(&c->waiting)) != NULL)
		op_send(op);
}

json_t *
acme_directory_parse(const char *body, size_t len, char **why)
{
	json_t		*dir;
	json_error_t	 jerr;

	if ((dir = json_loadb(body, len, 0, &jerr)) == NULL) {
		if (why != NULL)
			*why = xasprintf("not JSON: %s at line %d, column %d",
			    jerr.text, jerr.line, jerr.column);
		return NULL;
	}
	if (!json_is_object(dir) ||
	    !json_is_string(json_object_get(dir, "newNonce")) ||
	    !json_is_string(json_object_get(dir, "newAccount")) ||
	    !json_is_string(json_object_get(dir, "newOrder"))) {
		if (why != NULL)
			*why = xasprintf("not an ACME directory (no newNonce, "
			    "newAccount, newOrder)");
		json_decref(dir);
		return NULL;
	}
	return dir;
}

static void
directory_done_cb(const struct http_response *hr, void *arg)
{
	struct acme_client	*c = arg;
	struct acme_response	 resp;
	json_t			*dir = NULL;
	char			*err = NULL, *why = NULL;

	c->setup_xfer = NULL;
	client_count(c, ACME_EP_DIRECTORY, hr);
	response_build(c, c->conf->directory, hr, &resp, &err);
	if (resp.error == NULL &&
	    (dir = acme_directory_parse(hr->body, hr->body_len, &why)) == NULL) {
		free(err);
		err = xasprintf("CA %s: directory %s is %s", c->name,
		    c->conf->directory, why != NULL ? why : "unusable");
		resp.error = err != NULL ? err : "directory failed";
	}
	json_decref(resp.body);
	if (dir == NULL) {
		log_tagged(LOG_WARNING, &(struct log_tag){ .ca = c->name }, "%s",
		    resp.error);
		c->state = CLIENT_IDLE;
		client_fail_waiting(c, resp.error, resp.retry_after);
		free(err);
		free(why);
		return;
	}
	json_decref(c->directory);
	c->directory = dir;
	account_register(c);
}

/* Advances the client towards CLIENT_READY; idempotent. */
static void
client_setup(struct acme_client *c)
{
	struct http_request	req;

	if (c->state != CLIENT_IDLE)
		return;
	if (c->directory != NULL) {
		account_register(c);
		return;
	}
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = c->conf->directory;
	req.ca_file = c->conf->trust_bundle;
	c->state = CLIENT_DIRECTORY;
	if ((c->setup_xfer = http_request(c->http, &req, directory_done_cb,
	    c)) == NULL) {
		c->state = CLIENT_IDLE;
		client_fail_waiting(c, "cannot request the directory", -1);
	}
}

/* Removes the temporary files an interrupted write left (fsutil.h). */
static void
account_sweep(struct acme_client *c)
{
	char	*cause = NULL;
	int	 dfd;

	if ((dfd = account_dir_open(c, false, &cause)) == -1) {
		if (errno != ENOENT)	/* ENOENT: no account yet */
			client_log(c, LOG_WARNING, "%s", cause);
	} else {
		(void)fs_sweep_tmp_at(dfd, c->account_dir);
		close(dfd);
	}
	free(cause);
}

struct acme_client *
acme_client_new(struct event_base *base, struct http *http,
    struct keygen_list *keygens, const struct conf_ca *conf,
    const char *state_dir)
{
	struct acme_client	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->base = base;
	c->http = http;
	c->keygens = keygens;
	c->conf = conf;
	TAILQ_INIT(&c->waiting);
	TAILQ_INIT(&c->active);
	TAILQ_INIT(&c->failing);
	if ((c->name = strdup(conf->name)) == NULL) {
		free(c);
		return NULL;
	}
	c->state_dir = fs_path("%s", state_dir);
	c->account_dir = fs_path("%s/accounts/%s", state_dir, conf->name);
	account_sweep(c);
	return c;
}

void
acme_client_set_conf(struct acme_client *c, const struct conf_ca *conf)
{
	bool	changed = strcmp(c->conf->directory, conf->directory) != 0;

	c->conf = conf;
	if (changed && c->state == CLIENT_READY) {
		/* A new server: forget what the old one told us. */
		json_decref(c->directory);
		c->directory = NULL;
		free(c->kid);
		c->kid = NULL;
		while (c->nnonces > 0)
			free(nonce_take(c));
		c->state = CLIENT_IDLE;
	}
}

void
acme_client_free(struct acme_client *c)
{
	struct acme_op	*op;
	size_t		 i;

	if (c == NULL)
		return;
	keygen_cancel(c->keygen);
	/* setup_op is always on one of these lists. */
	while ((op = TAILQ_FIRST(&c->waiting)) != NULL)
		op_free(op);
	while ((op = TAILQ_FIRST(&c->active)) != NULL)
		op_free(op);
	while ((op = TAILQ_FIRST(&c->failing)) != NULL)
		op_free(op);
	http_cancel(c->setup_xfer);
	while (c->nnonces > 0)
		free(nonce_take(c));
	json_decref(c->directory);
	EVP_PKEY_free(c->key);
	free(c->kid);
	for (i = 0; i < ACME_EP__MAX; i++)
		free(c->stats[i].codes);
	free(c->account_dir);
	free(c->state_dir);
	free(c->name);
	free(c);
}

/* Whether a link's parameters (";rel=\"alternate\"; ...") say rel=REL. */
static bool
link_has_rel(const char *params, size_t len, const char *rel)
{
	char		*copy, *tok, *save = NULL;
	bool		 match = false;

	if ((copy = strndup(params, len)) == NULL)
		return false;
	for (tok = strtok_r(copy, ";", &save); tok != NULL && !match;
	    tok = strtok_r(NULL, ";", &save)) {
		tok += strspn(tok, " \t");
		if (strncmp(tok, "rel=", 4) != 0)
			continue;
		tok += 4;
		tok[strcspn(tok, " \t,")] = '\0';
		if (*tok == '"' && tok[strlen(tok) - 1] == '"' && strlen(tok) > 1) {
			tok[strlen(tok) - 1] = '\0';
			tok++;
		}
		match = strcmp(tok, rel) == 0;
	}
	free(copy);
	return match;
}

/*
 * URLs of the Link headers with rel=REL (RFC 8288), e.g. the alternate
 * chains of RFC 8555 §7.4.2: <https://...>;rel="alternate".  One header
 * may carry several links separated by commas.
 */
int
acme_links(const struct acme_response *resp, const char *rel,
    struct strlist *out)
{
	const char	*p, *lt, *gt, *next;
	char		*url, **v;
	size_t		 i;

	for (i = 0; i < resp->nlinks; i++) {
		for (p = resp->links[i]; (lt = strchr(p, '<')) != NULL;
		    p = next) {
			if ((gt = strchr(lt, '>')) == NULL)
				break;
			if ((next = strchr(gt, '<')) == NULL)
				next = gt + strlen(gt);
			if (!link_has_rel(gt + 1, next - gt - 1, rel))
				continue;
			if ((url = strndup(lt + 1, gt - lt - 1)) == NULL ||
			    (v = reallocarray(out->v, out->n + 1,
			    sizeof(*v))) == NULL) {
				free(url);
				return -1;
			}
			out->v = v;
			out->v[out->n++] = url;
		}
	}
	return 0;
}

struct acme_op *
acme_client_ready(struct acme_client *c, acme_cb cb, void *arg)
{
	struct acme_op	*op;

	if ((op = op_new(c, ACME_EP_DIRECTORY, NULL, NULL, NULL, cb,
	    arg)) == NULL)
		return NULL;
	op->probe = true;
	if (c->state == CLIENT_READY)
		op_send(op);
	else {
		op_link(op, &c->waiting);
		client_setup(c);
	}
	return op;
}

const char *
acme_client_kid(const struct acme_client *c)
{
	return c->kid;
}

/*
 * keyChange (RFC 8555 §7.3.5): the inner JWS, signed by the new key with
 * its jwk and no nonce, over {account, oldKey}; it is the payload of an
 * ordinary request signed by the current key.
 */
struct acme_op *
acme_client_key_change(struct acme_client *c, EVP_PKEY *newkey, acme_cb cb,
    void *arg)
{
	json_t		*inner_payload = NULL, *inner = NULL, *oldjwk = NULL;
	char		*text = NULL, *inner_text = NULL;
	const char	*url = acme_client_url(c, "keyChange");
	struct acme_op	*op = NULL;

	if (url == NULL || c->kid == NULL ||
	    (oldjwk = jws_jwk(c->key)) == NULL ||
	    (inner_payload = json_pack("{s:s, s:O}", "account", c->kid,
	    "oldKey", oldjwk)) == NULL ||
	    (text = json_dumps(inner_payload, JSON_COMPACT)) == NULL ||
	    (inner_text = jws_sign(newkey, NULL, NULL, url, text)) == NULL ||
	    (inner = json_loads(inner_text, 0, NULL)) == NULL)
		goto out;
	op = acme_post(c, ACME_EP_KEY_CHANGE, url, inner, cb, arg);
out:
	json_decref(oldjwk);
	json_decref(inner_payload);
	json_decref(inner);
	free(text);
	free(inner_text);
	return op;
}

/*
 * The CA accepted newkey: it replaces the account key, in memory and in
 * account-key.pem (atomically).  The caller staged the key beforehand.
 */
int
acme_client_set_key(struct acme_client *c, EVP_PKEY *newkey, char **cause)
{
	int	 dfd, rc = -1;

	if ((dfd = account_dir_open(c, false, cause)) == -1)
		goto out;
	if (renameat(dfd, "account-key.pem.next", dfd,
	    "account-key.pem") == -1) {
		*cause = xasprintf("rename %s/account-key.pem.next: %s",
		    c->account_dir, strerror(errno));
		goto out;
	}
	if (fsync(dfd) == -1) {
		*cause = xasprintf("fsync %s: %s", c->account_dir,
		    strerror(errno));
		goto out;
	}
	EVP_PKEY_free(c->key);
	c->key = newkey;
	rc = 0;
out:
	if (dfd != -1)
		close(dfd);
	return rc;
}

/* Writes the key a rollover is about to propose, before proposing it. */
int
acme_client_stage_key(struct acme_client *c, EVP_PKEY *newkey, char **cause)
{
	char	*pem = NULL;
	int	 dfd, rc = -1;

	if ((dfd = account_dir_open(c, true, cause)) == -1)
		goto out;
	if ((pem = keystore_to_pem(newkey)) == NULL) {
		*cause = xasprintf("cannot serialize the new account key");
		goto out;
	}
	rc = fs_write_atomic_at(dfd, c->account_dir, "account-key.pem.next",
	    pem, strlen(pem), 0600, (uid_t)-1, (gid_t)-1, cause);
	OPENSSL_cleanse(pem, strlen(pem));
out:
	free(pem);
	if (dfd != -1)
		close(dfd);
	return rc;
}

void
acme_client_unstage_key(struct acme_client *c)
{
	int	dfd;

	if ((dfd = account_dir_open(c, false, NULL)) != -1) {
		unlinkat(dfd, "account-key.pem.next", 0);
		close(dfd);
	}
}

struct acme_op *
acme_get(struct acme_client *c, enum acme_endpoint ep, const char *url,
    acme_cb cb, void *arg)
{
	struct acme_op	*op;

	if ((op = op_new(c, ep, url, NULL, NULL, cb, arg)) == NULL)
		return NULL;
	op->get = true;
	op_send(op);	/* needs no account: goes out at once */
	return op;
}
