/*
 * One renewal (RFC 8555 §7.4-7.5) as an explicit state machine:
 *
 *   ORDER           POST newOrder for every name; the CA's order must be
 *                   for exactly those
 *   AUTHORIZATIONS  fetch every authorization, all at once
 *   CHALLENGES      present each answer (the solver), then tell the CA,
 *                   once per authorization
 *   POLL_AUTHZ      poll each answered authorization until valid
 *   FINALIZE        new key (or the one reused), CSR, POST finalize
 *   POLL_ORDER      poll the order until valid
 *   DOWNLOAD        POST-as-GET the certificate chain (and alternates)
 *   INSTALL         check it against our key and names, store it
 *
 * Each authorization has a state of its own, taken from the status the
 * CA gives it and its challenge:
 *
 *   UNKNOWN --pending--> PENDING -> PRESENTING -> PRESENTED -> ANSWERED
 *      |                                      (ready)   (POST {})  |
 *      +--valid--> REUSED                              valid <-----+
 *   invalid (at any point) ends the attempt with the CA's problem.
 *
 * Only ANSWERED is polled, and only PENDING presents, so an answer is
 * published and the challenge POSTed exactly once, however long the CA
 * takes.  Polls wait as the CA's Retry-After says (else 50 ms doubling
 * to 10 s) and are bounded in number and time.
 *
 * Every step is an acme_post() completion or a timer.  renewal_end()
 * stops every request and timer at once and withdraws every answer, then
 * reports from the loop, so code that ended the renewal may still touch
 * it until it returns.  Each callback first forgets the op that called it,
 * so nothing cancels an op being delivered.
 */
#include <config.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "log.h"
#include "timeutil.h"
#include "util.h"
#include "acme/acme.h"
#include "challenge/solver.h"
#include "certinfo.h"
#include "config.h"
#include "keygen.h"
#include "renewal.h"
#include "schedule.h"
#include "store.h"

#define POLL_FIRST_MS	50		/* before the first poll */
#define POLL_MAX_MS	(10 * 1000)	/* longest wait between polls */
#define POLL_LIMIT	(10 * 60)	/* give up on a stuck CA after this */
#define POLL_COUNT_MAX	120		/* polls of one object, at most */

const char *const renewal_phase_names[PHASE__MAX] = {
	[PHASE_ORDER] = "order",
	[PHASE_AUTHORIZATIONS] = "authorizations",
	[PHASE_CHALLENGES] = "challenges",
	[PHASE_POLL_AUTHORIZATIONS] = "poll",
	[PHASE_FINALIZE] = "finalize",
	[PHASE_POLL_ORDER] = "poll",
	[PHASE_DOWNLOAD] = "download",
	[PHASE_INSTALL] = "install",
};

enum authz_state {
	AUTHZ_UNKNOWN,		/* first fetch in flight */
	AUTHZ_PENDING,		/* the CA waits for an answer */
	AUTHZ_PRESENTING,	/* the solver puts it in place */
	AUTHZ_PRESENTED,	/* in place; the challenge POST in flight */
	AUTHZ_ANSWERED,		/* the CA was told; polled */
	AUTHZ_VALID,
	AUTHZ_REUSED,		/* valid when first seen: nothing to do */
	AUTHZ_INVALID,
	AUTHZ_STATE__MAX
};

static const char *const authz_state_names[AUTHZ_STATE__MAX] = {
	[AUTHZ_UNKNOWN] = "unknown",
	[AUTHZ_PENDING] = "pending",
	[AUTHZ_PRESENTING] = "presenting",
	[AUTHZ_PRESENTED] = "presented",
	[AUTHZ_ANSWERED] = "answered",
	[AUTHZ_VALID] = "valid",
	[AUTHZ_REUSED] = "reused",
	[AUTHZ_INVALID] = "invalid",
};

struct authz {
	struct renewal		*r;
	enum authz_state	 state;
	char			*url;
	char			*identifier;	/* as shown: "*.example.com" */
	char			*value;		/* as the CA names it */
	char			*chall_url;
	struct solver_answer	*answer;	/* presented, not withdrawn */
	struct acme_op		*op;
	struct event		 timer;
	int			 delay;		/* ms, of the last poll */
	unsigned		 polls;
};

/* The order's own polling. */
struct order_poll {
	struct event		 timer;
	int			 delay;
	unsigned		 polls;
};

struct renewal {
	struct renewal_params	 p;
	renewal_phase_cb	 phase_cb;
	renewal_done_cb		 done_cb;
	void			*arg;
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
	size_t			 ndone;		/* valid or reused */
	bool			 finalize_retried; /* after orderNotReady */
	EVP_PKEY		*key;
	struct keygen		*keygen;
	struct acme_op		*op;
	struct order_poll	 poll;
	struct event		 kick;		/* the first request */
	bool			 done;		/* ended; only endev remains */
	struct renewal_result	 result;
	char			*error;
	struct event		 endev;
};

static void	renewal_fail(struct renewal *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	finalize_start(struct renewal *);

static void
renewal_log(const struct renewal *r, int prio, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
renewal_log(const struct renewal *r, int prio, const char *fmt, ...)
{
	struct log_tag	tag = { .name = r->p.name,
	    .ca = acme_client_name(r->p.ca),
	    .phase = r->phase < PHASE__MAX ? renewal_phase_names[r->phase] :
	    NULL };
	va_list		ap;

	va_start(ap, fmt);
	log_vtagged(prio, &tag, fmt, ap);
	va_end(ap);
}

static void
renewal_set_phase(struct renewal *r, enum renewal_phase phase)
{
	if (r->phase == phase)
		return;
	r->phase = phase;
	renewal_log(r, LOG_DEBUG, "phase %s", renewal_phase_names[phase]);
	r->phase_cb(phase, r->arg);
}

static void
authz_set_state(struct authz *a, enum authz_state state)
{
	renewal_log(a->r, LOG_DEBUG, "%s: %s -> %s", a->identifier != NULL ?
	    a->identifier : a->url, authz_state_names[a->state],
	    authz_state_names[state]);
	a->state = state;
}

/* Takes an answer back, whatever became of its authorization. */
static void
authz_withdraw(struct authz *a)
{
	solver_withdraw(a->answer);
	a->answer = NULL;
}

/* Cancels every request and timer in flight, withdraws every answer. */
static void
renewal_stop(struct renewal *r)
{
	size_t	i;

	keygen_cancel(r->keygen);
	r->keygen = NULL;
	acme_op_cancel(r->op);
	r->op = NULL;
	event_del(&r->kick);
	event_del(&r->poll.timer);
	for (i = 0; i < r->nauthz; i++) {
		authz_withdraw(&r->authz[i]);
		acme_op_cancel(r->authz[i].op);
		r->authz[i].op = NULL;
		event_del(&r->authz[i].timer);
	}
}

static void
renewal_end_cb(evutil_socket_t fd, short what, void *arg)
{
	struct renewal	*r = arg;

	r->result.phase = renewal_phase(r);
	r->result.error = r->error;
	r->done_cb(&r->result, r->arg);	/* may free r */
}

/* The end: stop everything now, report from the loop. */
static void
renewal_end(struct renewal *r, bool ok, const char *error)
{
	struct timeval	tv = { 0, 0 };

	if (r->done)
		return;
	r->done = true;
	r->result.ok = ok;
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
	r->result.retry_after = resp->retry_after;
	if (what != NULL)
		renewal_fail(r, "%s: %s", what, resp->error);
	else
		renewal_fail(r, "%s", resp->error);
	return true;
}

/* A signed POST whose op is kept in *slot; ends the renewal if it
 * cannot even be made.  payload NULL: POST-as-GET. */
static void
renewal_post(struct renewal *r, struct acme_op **slot, enum acme_endpoint ep,
    const char *url, json_t *payload, acme_cb cb, void *arg)
{
	if ((*slot = acme_post(r->p.ca, ep, url, payload, cb, arg)) == NULL)
		renewal_fail(r, "out of memory");
}

/* "TYPE: detail", the problem as the CA gave it, in buf. */
static const char *
problem_text(const char *type, const char *detail, char *buf, size_t len)
{
	if (type != NULL && strncmp(type, ACME_ERROR_NS,
	    strlen(ACME_ERROR_NS)) == 0)
		type += strlen(ACME_ERROR_NS);
	if (type == NULL && detail == NULL)
		snprintf(buf, len, "the CA gave no detail");
	else
		snprintf(buf, len, "%s%s%s", type != NULL ? type : "",
		    type != NULL && detail != NULL ? ": " : "",
		    detail != NULL ? detail : "");
	return buf;
}

/* --- polling, bounded ----------------------------------------------- */

/*
 * The poll delay: Retry-After when the CA sent one, else 50 ms doubling
 * to 10 s, so a quick CA is not kept waiting for seconds and a slow one
 * is not hammered.
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
 * Arms timer for the next poll of an object, or says in why (and
 * returns false) when the CA keeps us waiting past POLL_LIMIT or
 * POLL_COUNT_MAX polls, or its Retry-After reaches past the limit (never
 * polling sooner than it asks); that Retry-After then delays the next
 * attempt.
 */
static bool
poll_again(struct renewal *r, const struct acme_response *resp,
    struct event *timer, int *delay, unsigned *polls, char *why, size_t len)
{
	time_t		now = time(NULL);
	long long	waited = (long long)(now - r->started);
	struct timeval	tv;

	if (++*polls > POLL_COUNT_MAX) {
		snprintf(why, len, "after %u polls in %lld s", POLL_COUNT_MAX,
		    waited);
		return false;
	}
	if (schedule_poll_expired(r->started, now, resp->retry_after,
	    POLL_LIMIT)) {
		r->result.retry_after = resp->retry_after;
		if (waited > POLL_LIMIT)
			snprintf(why, len, "after %lld s (the limit is %d s)",
			    waited, POLL_LIMIT);
		else
			snprintf(why, len, "after %lld s, and the CA asks to "
			    "wait %lld s more, past the %d s limit", waited,
			    resp->retry_after, POLL_LIMIT);
		return false;
	}
	poll_delay(resp, delay, &tv);
	evtimer_add(timer, &tv);
	return true;
}

/* --- download and install ------------------------------------------ */

static void
renewal_install(struct renewal *r, const char *pem)
{
	struct store_files	 files = { .key_pem = NULL };
	struct certinfo		*info = &r->result.info;
	char			*cause = NULL;
	char			 until[RFC3339_LEN];
	int			 version;
	bool			 key_matches = false;

	renewal_set_phase(r, PHASE_INSTALL);
	if (certinfo_split_chain(pem, &files.cert_pem, &files.chain_pem,
	    &cause) == -1 || certinfo_parse_with_key(files.cert_pem, r->key,
	    info, &key_matches, &cause) == -1) {
		renewal_fail(r, "certificate from CA: %s", cause);
		goto out;
	}
	if (!key_matches) {
		renewal_fail(r, "the CA's certificate does not match our key");
		goto out;
	}
	if (!certinfo_names_equal(info, r->p.domains)) {
		renewal_fail(r, "the CA's certificate is not for the names asked");
		goto out;
	}
	files.key_shared = r->p.key_shared;
	files.key_uid = r->p.key_uid;
	files.key_gid = r->p.key_gid;
	if ((files.key_pem = keystore_to_pem(r->key)) == NULL) {
		renewal_fail(r, "cannot serialize the key");
		goto out;
	}
	if ((version = store_install(r->p.state_dir, r->p.name, &files,
	    &cause)) == -1) {
		r->result.storage_error = true;
		renewal_fail(r, "install: %s", cause);
		goto out;
	}
	time_format_rfc3339(info->not_after, until);
	renewal_log(r, LOG_NOTICE, "installed v%d, serial %s, valid until %s",
	    version, info->serial, until);
	r->result.version = version;
	renewal_end(r, true, NULL);
out:
	if (!r->result.ok)
		certinfo_clear(info);
	store_files_clear(&files);
	free(cause);
}

static void	download_done_cb(const struct acme_response *, void *);

/* preferred-chain: the chain leads up to a root issued by that name. */
static bool
chain_is_preferred(const struct renewal *r, const char *pem)
{
	char	*top = certinfo_chain_top_issuer(pem);
	bool	 ok = top != NULL && strcmp(top, r->p.preferred_chain) == 0;

	free(top);
	return ok;
}

/* Tries the next alternate chain, or settles for the default one. */
static void
download_next_alternate(struct renewal *r)
{
	if (r->nalt_tried == r->alternates.n) {
		renewal_log(r, LOG_NOTICE, "no chain leads to \"%s\" (%zu "
		    "offered); installing the default chain",
		    r->p.preferred_chain, r->alternates.n + 1);
		renewal_install(r, r->default_chain);
		return;
	}
	renewal_post(r, &r->op, ACME_EP_CERTIFICATE,
	    r->alternates.v[r->nalt_tried++], NULL, download_done_cb, r);
}

static void
download_done_cb(const struct acme_response *resp, void *arg)
{
	struct renewal	*r = arg;

	r->op = NULL;
	if (renewal_failed_answer(r, resp, NULL))
		return;
	if (r->p.preferred_chain == NULL || chain_is_preferred(r, resp->raw)) {
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
download_start(struct renewal *r)
{
	renewal_set_phase(r, PHASE_DOWNLOAD);
	renewal_post(r, &r->op, ACME_EP_CERTIFICATE, r->cert_url, NULL,
	    download_done_cb, r);
}

/* --- the order: finalize and poll ----------------------------------- */

static void	order_polled_cb(const struct acme_response *, void *);
static void	finalize_post(struct renewal *);

/* Acts on an order object (RFC 8555 §7.1.6) after finalize or a poll. */
static void
order_advance(struct renewal *r, const struct acme_response *resp)
{
	struct acme_order	 o;
	char			 why[160], prob[512];

	acme_order_parse(resp->body, &o);
	if (o.status == NULL) {
		renewal_fail(r, "order %s: answer has no status", r->order_url);
	} else if (strcmp(o.status, "valid") == 0) {
		if (o.certificate == NULL ||
		    (r->cert_url = strdup(o.certificate)) == NULL) {
			renewal_fail(r, "order %s is valid but names no "
			    "certificate", r->order_url);
			return;
		}
		download_start(r);
	} else if (strcmp(o.status, "processing") == 0 ||
	    strcmp(o.status, "ready") == 0) {
		/* ready: finalize is not taken in yet; the CA will move. */
		renewal_set_phase(r, PHASE_POLL_ORDER);
		if (!poll_again(r, resp, &r->poll.timer, &r->poll.delay,
		    &r->poll.polls, why, sizeof(why)))
			renewal_fail(r, "order %s still %s %s", r->order_url,
			    o.status, why);
	} else if (strcmp(o.status, "invalid") == 0) {
		renewal_fail(r, "order %s is invalid: %s", r->order_url,
		    problem_text(o.problem_type, o.problem, prob,
		    sizeof(prob)));
	} else
		renewal_fail(r, "order %s is %s after finalize", r->order_url,
		    o.status);
}

static void
order_poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct renewal	*r = arg;

	renewal_post(r, &r->op, ACME_EP_ORDER, r->order_url, NULL,
	    order_polled_cb, r);
}

static void
order_polled_cb(const struct acme_response *resp, void *arg)
{
	struct renewal		*r = arg;
	struct acme_order	 o;

	char			 why[160];

	r->op = NULL;
	if (renewal_failed_answer(r, resp, NULL))
		return;
	acme_order_parse(resp->body, &o);
	/* Waiting for the order to be ready (orderNotReady), to finalize
	 * once more. */
	if (r->phase == PHASE_FINALIZE && o.status != NULL) {
		if (strcmp(o.status, "ready") == 0) {
			finalize_post(r);
			return;
		}
		if (strcmp(o.status, "pending") == 0) {
			if (!poll_again(r, resp, &r->poll.timer,
			    &r->poll.delay, &r->poll.polls, why, sizeof(why)))
				renewal_fail(r, "order %s still pending %s",
				    r->order_url, why);
			return;
		}
	}
	order_advance(r, resp);
}

static void
finalize_done_cb(const struct acme_response *resp, void *arg)
{
	struct renewal	*r = arg;
	char		 why[160];

	r->op = NULL;
	/*
	 * orderNotReady (§7.4): the CA has not caught up with the last
	 * authorization yet.  Poll the order until ready, then finalize
	 * once more.
	 */
	if (resp->problem_type != NULL && !r->finalize_retried &&
	    strcmp(resp->problem_type, ACME_ERROR_NS "orderNotReady") == 0) {
		r->finalize_retried = true;
		renewal_log(r, LOG_INFO, "order not ready yet; polling it");
		if (!poll_again(r, resp, &r->poll.timer, &r->poll.delay,
		    &r->poll.polls, why, sizeof(why)))
			renewal_fail(r, "order %s not ready %s", r->order_url,
			    why);
		return;
	}
	if (renewal_failed_answer(r, resp, NULL))
		return;
	order_advance(r, resp);
}

static void
finalize_post(struct renewal *r)
{
	json_t	*payload;
	char	*csr;

	if ((csr = csr_build(r->key, r->p.domains->v, r->p.domains->n)) ==
	    NULL) {
		renewal_fail(r, "cannot build the CSR");
		return;
	}
	payload = json_pack("{s:s}", "csr", csr);
	free(csr);
	if (payload == NULL) {
		renewal_fail(r, "out of memory");
		return;
	}
	renewal_post(r, &r->op, ACME_EP_FINALIZE, r->finalize_url, payload,
	    finalize_done_cb, r);
	json_decref(payload);
}

static void
renewal_key_made_cb(EVP_PKEY *key, void *arg)
{
	struct renewal	*r = arg;
	char		 kind[32];

	r->keygen = NULL;
	if (key == NULL) {
		key_spec_format(r->p.key_spec, kind, sizeof(kind));
		renewal_fail(r, "cannot make a %s key", kind);
		return;
	}
	r->key = key;
	finalize_post(r);
}

/* The key: the one reused, or a new one made off the loop (RSA takes
 * seconds); then finalize. */
static void
finalize_start(struct renewal *r)
{
	renewal_set_phase(r, PHASE_FINALIZE);
	if (r->key != NULL) {		/* reused */
		finalize_post(r);
		return;
	}
	if ((r->keygen = keygen_start(r->p.base, r->p.keygens, r->p.key_spec,
	    renewal_key_made_cb, r)) == NULL)
		renewal_fail(r, "cannot start key generation");
}

/* --- authorizations and challenges ---------------------------------- */

static void	authz_fetch(struct authz *);

/* Valid (or reused): its answer can go; the last one finalizes. */
static void
authz_done(struct authz *a, enum authz_state state)
{
	struct renewal	*r = a->r;

	authz_set_state(a, state);
	authz_withdraw(a);
	renewal_log(r, LOG_INFO, "%s: %s", a->identifier, state ==
	    AUTHZ_REUSED ? "already authorized" : "authorized");
	if (++r->ndone == r->nauthz)
		finalize_start(r);
}

static void
authz_poll_cb(evutil_socket_t fd, short what, void *arg)
{
	authz_fetch(arg);
}

static void
authz_poll_later(struct authz *a, const struct acme_response *resp)
{
	char	why[160];

	if (!poll_again(a->r, resp, &a->timer, &a->delay, &a->polls, why,
	    sizeof(why)))
		renewal_fail(a->r, "%s: authorization still pending %s",
		    a->identifier, why);
}

static void
authz_invalid(struct authz *a, const char *type, const char *detail)
{
	char	prob[512];

	authz_set_state(a, AUTHZ_INVALID);
	renewal_fail(a->r, "%s: validation failed: %s", a->identifier,
	    problem_text(type, detail, prob, sizeof(prob)));
}

static void
challenge_done_cb(const struct acme_response *resp, void *arg)
{
	struct authz		*a = arg;
	struct acme_challenge	 ch;

	a->op = NULL;
	if (renewal_failed_answer(a->r, resp, a->identifier))
		return;
	authz_set_state(a, AUTHZ_ANSWERED);
	renewal_set_phase(a->r, PHASE_POLL_AUTHORIZATIONS);
	acme_challenge_parse(resp->body, &ch);
	if (ch.status != NULL && strcmp(ch.status, "invalid") == 0) {
		authz_invalid(a, ch.problem_type, ch.problem);
		return;
	}
	/* pending, processing or valid: the authorization tells the rest. */
	authz_poll_later(a, resp);
}

/* The answer is in place: tell the CA, once (RFC 8555 §7.5.1). */
static void
authz_ready_cb(const char *error, void *arg)
{
	struct authz	*a = arg;
	struct renewal	*r = a->r;
	json_t		*empty;

	if (error != NULL) {
		renewal_fail(r, "%s: %s: %s", a->identifier,
		    solver_type(r->p.solver), error);
		return;
	}
	authz_set_state(a, AUTHZ_PRESENTED);
	renewal_log(r, LOG_INFO, "%s: answering %s", a->identifier,
	    solver_type(r->p.solver));
	if ((empty = json_object()) == NULL) {
		renewal_fail(r, "out of memory");
		return;
	}
	renewal_post(r, &a->op, ACME_EP_CHALLENGE, a->chall_url, empty,
	    challenge_done_cb, a);
	json_decref(empty);
}

/* PENDING: put the answer to our challenge where the CA will look. */
static void
authz_present(struct authz *a, const struct acme_authz *az)
{
	struct renewal	*r = a->r;
	const char	*type = solver_type(r->p.solver);
	char		*keyauth, *cause = NULL;

	if ((a->chall_url = strdup(az->chall_url)) == NULL ||
	    (keyauth = jws_key_authorization(acme_client_account_key(r->p.ca),
	    az->token)) == NULL) {
		renewal_fail(r, "out of memory");
		return;
	}
	renewal_set_phase(r, PHASE_CHALLENGES);
	authz_set_state(a, AUTHZ_PRESENTING);
	a->answer = solver_present(r->p.solver, a->value, az->token, keyauth,
	    authz_ready_cb, a, &cause);
	free(keyauth);
	if (a->answer == NULL) {
		renewal_fail(r, "%s: %s: %s", a->identifier, type,
		    cause != NULL ? cause : "cannot put the answer in place");
		free(cause);
	}
}

/* First sight of a pending authorization: what its challenge says. */
static void
authz_pending(struct authz *a, const struct acme_authz *az,
    const struct acme_response *resp)
{
	struct renewal	*r = a->r;
	const char	*type = solver_type(r->p.solver);
	char		*offered;

	authz_set_state(a, AUTHZ_PENDING);
	if (az->token == NULL || az->chall_url == NULL) {
		offered = acme_challenge_types(az->challenges);
		renewal_fail(r, "%s: the CA offers no %s challenge for this "
		    "name (it offers: %s)", a->identifier, type,
		    offered != NULL && *offered != '\0' ? offered : "none");
		free(offered);
		return;
	}
	if (az->chall_status == NULL || strcmp(az->chall_status, "pending") ==
	    0) {
		authz_present(a, az);
		return;
	}
	if (strcmp(az->chall_status, "invalid") == 0) {
		authz_invalid(a, az->problem_type, az->problem);
		return;
	}
	/* processing (or valid): the CA validates already, as an answer of
	 * an earlier attempt asked it to; we only wait for the verdict. */
	renewal_log(r, LOG_INFO, "%s: the CA is validating %s already",
	    a->identifier, type);
	authz_set_state(a, AUTHZ_ANSWERED);
	renewal_set_phase(r, PHASE_POLL_AUTHORIZATIONS);
	authz_poll_later(a, resp);
}

/* The identifier the CA names, once: it must be one we asked for. */
static int
authz_identify(struct authz *a, const struct acme_authz *az)
{
	struct renewal	*r = a->r;
	size_t		 i;

	if (az->identifier == NULL) {
		renewal_fail(r, "authorization %s names no identifier", a->url);
		return -1;
	}
	if ((a->value = strdup(az->identifier)) == NULL ||
	    (a->identifier = xasprintf("%s%s", az->wildcard ? "*." : "",
	    az->identifier)) == NULL) {
		renewal_fail(r, "out of memory");
		return -1;
	}
	for (i = 0; i < r->p.domains->n; i++)
		if (strcasecmp(a->identifier, r->p.domains->v[i]) == 0)
			return 0;
	renewal_fail(r, "authorization %s is for %s, which was not asked for",
	    a->url, a->identifier);
	return -1;
}

static void
authz_fetched_cb(const struct acme_response *resp, void *arg)
{
	struct authz		*a = arg;
	struct renewal		*r = a->r;
	struct acme_authz	 az;

	a->op = NULL;
	if (renewal_failed_answer(r, resp, a->identifier != NULL ?
	    a->identifier : a->url))
		return;
	acme_authz_parse(resp->body, solver_type(r->p.solver), &az);
	if (a->state == AUTHZ_UNKNOWN && authz_identify(a, &az) == -1)
		return;
	if (az.status == NULL)
		renewal_fail(r, "%s: authorization %s has no status",
		    a->identifier, a->url);
	else if (strcmp(az.status, "valid") == 0)
		authz_done(a, a->state == AUTHZ_UNKNOWN ? AUTHZ_REUSED :
		    AUTHZ_VALID);
	else if (strcmp(az.status, "invalid") == 0)
		authz_invalid(a, az.problem_type, az.problem);
	else if (strcmp(az.status, "pending") != 0)
		renewal_fail(r, "%s: authorization is %s", a->identifier,
		    az.status);
	else if (a->state == AUTHZ_UNKNOWN)
		authz_pending(a, &az, resp);
	else
		authz_poll_later(a, resp);	/* ANSWERED: not yet */
}

static void
authz_fetch(struct authz *a)
{
	renewal_post(a->r, &a->op, ACME_EP_AUTHZ, a->url, NULL,
	    authz_fetched_cb, a);
}

/* --- the order ------------------------------------------------------ */

static int
renewal_take_authz(struct renewal *r, const struct acme_order *o)
{
	json_t	*v;
	size_t	 i;

	if (o->nauthz == 0)
		return 0;
	if ((r->authz = calloc(o->nauthz, sizeof(*r->authz))) == NULL)
		return -1;
	r->nauthz = o->nauthz;
	json_array_foreach(o->authz, i, v) {
		r->authz[i].r = r;
		evtimer_assign(&r->authz[i].timer, r->p.base, authz_poll_cb,
		    &r->authz[i]);
		if ((r->authz[i].url = strdup(json_string_value(v))) == NULL)
			return -1;
	}
	return 0;
}

/* The order must be for exactly the names asked (RFC 8555 §7.4). */
static bool
order_is_ours(struct renewal *r, const struct acme_order *o)
{
	char	*theirs;

	if (acme_identifiers_match(o->identifiers, r->p.domains))
		return true;
	theirs = acme_identifiers_list(o->identifiers);
	renewal_fail(r, "the CA's order %s is for [%s], not for the names "
	    "asked", r->order_url, theirs != NULL ? theirs : "?");
	free(theirs);
	return false;
}

static void
order_created_cb(const struct acme_response *resp, void *arg)
{
	struct renewal		*r = arg;
	struct acme_order	 o;
	char			 prob[512];
	size_t			 i;

	r->op = NULL;
	if (renewal_failed_answer(r, resp, NULL))
		return;
	acme_order_parse(resp->body, &o);
	if (resp->location == NULL || o.finalize == NULL || o.status == NULL ||
	    (r->order_url = strdup(resp->location)) == NULL ||
	    (r->finalize_url = strdup(o.finalize)) == NULL) {
		renewal_fail(r, "newOrder answer lacks Location, status or "
		    "finalize");
		return;
	}
	if (!order_is_ours(r, &o))
		return;
	if (o.authz_bad || renewal_take_authz(r, &o) == -1) {
		renewal_fail(r, "newOrder answer has bad authorizations");
		return;
	}
	renewal_log(r, LOG_INFO, "order %s is %s", r->order_url, o.status);
	if (strcmp(o.status, "invalid") == 0) {
		renewal_fail(r, "new order %s is invalid: %s", r->order_url,
		    problem_text(o.problem_type, o.problem, prob,
		    sizeof(prob)));
		return;
	}
	if (strcmp(o.status, "ready") == 0) {
		/* Every authorization was valid already (reused). */
		finalize_start(r);
		return;
	}
	if (strcmp(o.status, "pending") != 0 || r->nauthz == 0) {
		renewal_fail(r, "new order %s is %s%s", r->order_url, o.status,
		    r->nauthz == 0 ? " and lists no authorization" : "");
		return;
	}
	renewal_set_phase(r, PHASE_AUTHORIZATIONS);
	/* All at once; a failure ends the renewal (and cancels the rest). */
	for (i = 0; i < r->nauthz && !r->done; i++)
		authz_fetch(&r->authz[i]);
}

static void
order_start(struct renewal *r)
{
	const struct strlist	*domains = r->p.domains;
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
	if (r->p.replaces != NULL) {
		if (json_object_set_new(payload, "replaces",
		    json_string(r->p.replaces)) == -1) {
			json_decref(payload);
			goto fail;
		}
		renewal_log(r, LOG_INFO, "replaces %s", r->p.replaces);
	}
	r->op = acme_new_order(r->p.ca, payload, r->p.name, r->p.profile,
	    order_created_cb, r);
	json_decref(payload);
	if (r->op != NULL)
		return;
fail:
	renewal_fail(r, "out of memory");
}

static void
renewal_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	order_start(arg);
}

struct renewal *
renewal_start(const struct renewal_params *p, renewal_phase_cb phase_cb,
    renewal_done_cb done_cb, void *arg)
{
	struct renewal	*r;
	struct timeval	 tv = { 0, 0 };

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->p = *p;
	r->p.reuse_key = NULL;		/* r->key holds it */
	if (p->reuse_key != NULL) {
		if (EVP_PKEY_up_ref(p->reuse_key) != 1) {
			free(r);
			return NULL;
		}
		r->key = p->reuse_key;
	}
	r->phase_cb = phase_cb;
	r->done_cb = done_cb;
	r->arg = arg;
	r->started = time(NULL);
	r->result.retry_after = -1;
	r->phase = PHASE__MAX;		/* none until the order goes out */
	/* The first request goes out from the loop, so that a failure never
	 * calls back before the caller has the renewal in hand. */
	evtimer_assign(&r->endev, p->base, renewal_end_cb, r);
	evtimer_assign(&r->kick, p->base, renewal_kick_cb, r);
	evtimer_assign(&r->poll.timer, p->base, order_poll_cb, r);
	evtimer_add(&r->kick, &tv);
	renewal_log(r, LOG_INFO, "renewal started for %zu name%s",
	    p->domains->n, p->domains->n == 1 ? "" : "s");
	return r;
}

enum renewal_phase
renewal_phase(const struct renewal *r)
{
	return r->phase < PHASE__MAX ? r->phase : PHASE_ORDER;
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
		free(r->authz[i].value);
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
	certinfo_clear(&r->result.info);
	free(r->error);
	free(r);
}
