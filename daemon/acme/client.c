/*
 * One ACME server ([ca NAME]) and every request made to it (RFC 8555 §6,
 * §7.1): the client object, its directory, a pool of nonces, the queue of
 * requests, statistics.  What the CA answers is read in response.c, the
 * account lives in account.c (client.h says what they share).
 *
 * A request (struct acme_op) waits until the client is ready: directory
 * fetched, account key loaded or made, account registered or found.  Then
 * it takes a nonce (from the pool, or a HEAD newNonce of its own), is
 * signed and sent.  badNonce is retried with the nonce the error carried;
 * accountDoesNotExist registers again.  Nothing here blocks: every step is
 * an HTTP completion or a zero-delay event.
 */
#include <config.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "log.h"
#include "util.h"
#include "../fsutil.h"
#include "../http.h"
#include "../keygen.h"
#include "acme.h"
#include "client.h"

#define BADNONCE_RETRIES	5

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

static void	client_setup(struct acme_client *);
static void	op_fail(struct acme_op *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

/* A log line about this CA: tagged ACME_RENEWD_CA=<name>. */
void
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
void
client_fail_waiting(struct acme_client *c, const char *why,
    long long retry_after)
{
	struct acme_op	*op;

	while ((op = TAILQ_FIRST(&c->waiting)) != NULL) {
		op->retry_after = retry_after;
		op_fail(op, "%s", why);
	}
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

	if (hr->status == 400 && response_problem_is(&resp, "badNonce") &&
	    op->retries++ < BADNONCE_RETRIES) {
		client_log(c, LOG_DEBUG, "bad nonce, retrying %s", op->url);
		client_op_send(op);
	} else if (response_problem_is(&resp, "accountDoesNotExist") && !op->use_jwk) {
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
		err = response_transport_error(c, url, hr);
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

void
client_op_send(struct acme_op *op)
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

struct acme_op *
client_op_new(struct acme_client *c, enum acme_endpoint ep, const char *url,
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
		client_op_send(op);
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

	if ((op = client_op_new(c, ep, url, res, payload, cb, arg)) == NULL) {
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

	if ((op = client_op_new(c, ACME_EP_NEW_ORDER, NULL, "newOrder", payload, cb,
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

struct acme_op *
acme_client_ready(struct acme_client *c, acme_cb cb, void *arg)
{
	struct acme_op	*op;

	if ((op = client_op_new(c, ACME_EP_DIRECTORY, NULL, NULL, NULL, cb,
	    arg)) == NULL)
		return NULL;
	op->probe = true;
	if (c->state == CLIENT_READY)
		client_op_send(op);
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

struct acme_op *
acme_get(struct acme_client *c, enum acme_endpoint ep, const char *url,
    acme_cb cb, void *arg)
{
	struct acme_op	*op;

	if ((op = client_op_new(c, ep, url, NULL, NULL, cb, arg)) == NULL)
		return NULL;
	op->get = true;
	client_op_send(op);	/* needs no account: goes out at once */
	return op;
}
