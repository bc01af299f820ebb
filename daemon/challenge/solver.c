/*
 * The seam between the renewal and the challenge types; see solver.h.
 * This file holds what every type shares (the answer's handle, the ready
 * call from the loop), the one choice of type for a configuration, and
 * each type's operations: small adapters over the responders (http01.c,
 * tlsalpn01.c), the files (webroot.c) and the TXT records (dns01.c),
 * which know nothing of solvers.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <openssl/crypto.h>

#include "util.h"
#include "../config.h"
#include "../daemon.h"
#include "challenge.h"
#include "solver.h"

/* --- http-01, standalone: the daemon's responder, as it is now -------- */

static int
http01_present(struct solver_answer *ans, char **cause)
{
	struct daemon	*d = ans->solver->d;

	if (d->http01 == NULL ||
	    http01_add(d->http01, ans->token, ans->keyauth) == -1) {
		*cause = xasprintf("the http-01 responder is not listening");
		return -1;
	}
	solver_answer_ready(ans, NULL);
	return 0;
}

static void
http01_withdraw(struct solver_answer *ans)
{
	struct daemon	*d = ans->solver->d;

	if (d->http01 != NULL)
		http01_remove(d->http01, ans->token);
}

static const struct solver_ops http01_solver_ops = {
	.type = "http-01",
	.present = http01_present,
	.withdraw = http01_withdraw,
};

/* --- http-01 by files: ctx is the webroot's path ---------------------- */

static int
webroot_present(struct solver_answer *ans, char **cause)
{
	if (webroot_publish(ans->solver->ctx, ans->token, ans->keyauth,
	    cause) == -1)
		return -1;
	solver_answer_ready(ans, NULL);
	return 0;
}

static void
webroot_withdraw(struct solver_answer *ans)
{
	webroot_remove(ans->solver->ctx, ans->token);
}

static void
webroot_free(struct solver *s)
{
	free(s->ctx);
}

static const struct solver_ops webroot_solver_ops = {
	.type = "http-01",
	.present = webroot_present,
	.withdraw = webroot_withdraw,
	.free = webroot_free,
};

/* --- tls-alpn-01: the daemon's responder ------------------------------ */

static int
tlsalpn01_present(struct solver_answer *ans, char **cause)
{
	struct daemon	*d = ans->solver->d;

	if (d->tlsalpn01 == NULL ||
	    tlsalpn01_add(d->tlsalpn01, ans->identifier, ans->keyauth) == -1) {
		*cause = xasprintf("the tls-alpn-01 responder is not listening");
		return -1;
	}
	solver_answer_ready(ans, NULL);
	return 0;
}

static void
tlsalpn01_withdraw(struct solver_answer *ans)
{
	struct daemon	*d = ans->solver->d;

	if (d->tlsalpn01 != NULL)
		tlsalpn01_remove(d->tlsalpn01, ans->identifier);
}

static const struct solver_ops tlsalpn01_solver_ops = {
	.type = "tls-alpn-01",
	.present = tlsalpn01_present,
	.withdraw = tlsalpn01_withdraw,
};

/*
 * --- dns-01: ctx is the conf_cert (borrowed: a record copies what it
 * needs, and a reload abandons the renewal before it frees the config).
 * Ready once the record is visible.
 */

static void
dns01_ready_cb(const char *error, void *arg)
{
	solver_answer_ready(arg, error);
}

static int
dns01_present(struct solver_answer *ans, char **cause)
{
	struct solver		*s = ans->solver;
	struct dns01_record	*rec = NULL;
	char			*txt, *fqdn;

	txt = dns01_txt_value(ans->keyauth);
	fqdn = xasprintf("_acme-challenge.%s.", ans->identifier);
	if (txt != NULL && fqdn != NULL)
		rec = dns01_publish(s->d, s->ctx, s->cert_name, fqdn, txt,
		    dns01_ready_cb, ans, cause);
	else
		*cause = xasprintf("out of memory");
	free(txt);
	free(fqdn);
	ans->priv = rec;
	return rec == NULL ? -1 : 0;
}

static void
dns01_withdraw(struct solver_answer *ans)
{
	dns01_unpublish(ans->priv);	/* removes the record, then frees */
	ans->priv = NULL;
}

static const struct solver_ops dns01_solver_ops = {
	.type = "dns-01",
	.present = dns01_present,
	.withdraw = dns01_withdraw,
};

/* --- the seam --------------------------------------------------------- */

struct solver *
solver_new_ops(struct event_base *base, const struct solver_ops *ops,
    const char *cert_name, void *ctx)
{
	struct solver	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if ((s->cert_name = strdup(cert_name)) == NULL) {
		free(s);
		return NULL;
	}
	s->ops = ops;
	s->base = base;
	s->ctx = ctx;
	return s;
}

/* The webroot's path is copied: a reload may free the configuration
 * while an answer is still to be withdrawn. */
struct solver *
solver_new(struct daemon *d, const struct conf_cert *cc)
{
	const struct solver_ops	*ops;
	struct solver		*s;
	char			*webroot = NULL;

	switch (cc->challenge) {
	case CHALLENGE_HTTP01:
		ops = cc->webroot != NULL ? &webroot_solver_ops :
		    &http01_solver_ops;
		if (cc->webroot != NULL &&
		    (webroot = strdup(cc->webroot)) == NULL)
			return NULL;
		break;
	case CHALLENGE_TLSALPN01:
		ops = &tlsalpn01_solver_ops;
		break;
	case CHALLENGE_DNS01:
		ops = &dns01_solver_ops;
		break;
	default:
		return NULL;
	}
	if ((s = solver_new_ops(d->base, ops, cc->name,
	    webroot != NULL ? (void *)webroot : (void *)cc)) == NULL) {
		free(webroot);
		return NULL;
	}
	s->d = d;
	return s;
}

void
solver_free(struct solver *s)
{
	if (s == NULL)
		return;
	if (s->ops->free != NULL)
		s->ops->free(s);
	free(s->cert_name);
	free(s);
}

const char *
solver_type(const struct solver *s)
{
	return s->ops->type;
}

static void
solver_answer_free(struct solver_answer *ans)
{
	event_del(&ans->ev_ready);
	free(ans->identifier);
	free(ans->token);
	if (ans->keyauth != NULL) {
		OPENSSL_cleanse(ans->keyauth, strlen(ans->keyauth));
		free(ans->keyauth);
	}
	free(ans->error);
	free(ans);
}

static void
solver_ready_ev_cb(evutil_socket_t fd, short what, void *arg)
{
	struct solver_answer	*ans = arg;

	ans->ready = 2;
	ans->cb(ans->error, ans->arg);	/* may withdraw ans */
}

void
solver_answer_ready(struct solver_answer *ans, const char *error)
{
	struct timeval	tv = { 0, 0 };

	if (ans->ready != 0)
		return;
	ans->ready = 1;
	if (error != NULL && (ans->error = strdup(error)) == NULL)
		ans->error = NULL;
	if (error != NULL && ans->error == NULL)
		ans->error = xasprintf("out of memory");
	evtimer_add(&ans->ev_ready, &tv);
}

struct solver_answer *
solver_present(struct solver *s, const char *identifier, const char *token,
    const char *keyauth, solver_ready_cb cb, void *arg, char **cause)
{
	struct solver_answer	*ans;

	if ((ans = calloc(1, sizeof(*ans))) == NULL) {
		*cause = xasprintf("out of memory");
		return NULL;
	}
	evtimer_assign(&ans->ev_ready, s->base, solver_ready_ev_cb, ans);
	ans->solver = s;
	ans->cb = cb;
	ans->arg = arg;
	if ((ans->identifier = strdup(identifier)) == NULL ||
	    (ans->token = strdup(token)) == NULL ||
	    (ans->keyauth = strdup(keyauth)) == NULL) {
		*cause = xasprintf("out of memory");
		solver_answer_free(ans);
		return NULL;
	}
	if (s->ops->present(ans, cause) == -1) {
		solver_answer_free(ans);
		return NULL;
	}
	return ans;
}

void
solver_withdraw(struct solver_answer *ans)
{
	if (ans == NULL)
		return;
	ans->solver->ops->withdraw(ans);
	solver_answer_free(ans);
}
