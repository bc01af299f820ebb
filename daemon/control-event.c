/*
 * Certificate events as the control protocol shows them (events.h): an
 * event line to every `watch` client and to each client waiting in
 * `renew` with wait, whose request the outcome then answers.
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <jansson.h>

#include "ctlproto.h"
#include "timeutil.h"
#include "cert.h"
#include "control.h"
#include "events.h"

/* A client waiting for the outcome of a certificate's renewal. */
struct ctl_waiter {
	TAILQ_ENTRY(ctl_waiter)	 entry;
	char			*cert;
	uint64_t		 client;
	json_t			*id;		/* of its request */
};

struct control_events {
	struct control		*ctl;
	TAILQ_HEAD(, ctl_waiter) waiters;
};

static void
waiter_free(struct control_events *ev, struct ctl_waiter *w)
{
	TAILQ_REMOVE(&ev->waiters, w, entry);
	json_decref(w->id);
	free(w->cert);
	free(w);
}

/* {"event": "renewal", "name", "phase", "state"}: to watchers and to the
 * certificate's waiters (one that is gone is forgotten). */
static void
control_event_phase(struct control_events *ev, const struct cert *c,
    const char *phase)
{
	struct ctl_waiter	*w, *next;
	json_t			*msg;

	if ((msg = json_pack("{s:s, s:s, s:s, s:s}", "event", "renewal",
	    "name", c->name, "phase", phase,
	    "state", cert_status_names[c->status])) == NULL)
		return;
	control_broadcast_event(ev->ctl, msg);
	for (w = TAILQ_FIRST(&ev->waiters); w != NULL; w = next) {
		next = TAILQ_NEXT(w, entry);
		if (strcmp(w->cert, c->name) == 0 &&
		    control_send(ev->ctl, w->client, msg) == -1)
			waiter_free(ev, w);
	}
	json_decref(msg);
}

/* The outcome, to every client that waited for it. */
static void
control_event_outcome(struct control_events *ev, const struct cert *c,
    bool ok, const char *error)
{
	struct ctl_waiter	*w, *next;
	json_t			*result, *reply;
	char			 na[RFC3339_LEN];

	time_format_rfc3339(c->st.current.info.not_after, na);
	for (w = TAILQ_FIRST(&ev->waiters); w != NULL; w = next) {
		next = TAILQ_NEXT(w, entry);
		if (strcmp(w->cert, c->name) != 0)
			continue;
		result = json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:i}",
		    "name", c->name, "outcome", ok ? "success" : "failure",
		    "state", cert_status_names[c->status], "error", error,
		    "not_after", c->have_cert ? na : NULL,
		    "version", c->st.current.version);
		if (result != NULL && (reply = ctlproto_ok(w->id,
		    result)) != NULL) {
			control_send(ev->ctl, w->client, reply);
			json_decref(reply);
		}
		waiter_free(ev, w);
	}
}

static void
control_event_cb(const struct cert_event *e, void *arg)
{
	struct control_events	*ev = arg;

	switch (e->kind) {
	case CERT_EV_PHASE:
		control_event_phase(ev, e->cert, e->phase);
		break;
	case CERT_EV_OUTCOME:
		control_event_outcome(ev, e->cert, e->ok, e->error);
		break;
	default:
		break;
	}
}

struct control_events *
control_events_new(struct control *ctl, struct cert_listeners *ls)
{
	struct control_events	*ev;

	if ((ev = calloc(1, sizeof(*ev))) == NULL)
		return NULL;
	ev->ctl = ctl;
	TAILQ_INIT(&ev->waiters);
	if (events_listen(ls, control_event_cb, ev) == -1) {
		free(ev);
		return NULL;
	}
	return ev;
}

void
control_events_free(struct control_events *ev, struct cert_listeners *ls)
{
	if (ev == NULL)
		return;
	events_unlisten(ls, control_event_cb, ev);
	while (!TAILQ_EMPTY(&ev->waiters))
		waiter_free(ev, TAILQ_FIRST(&ev->waiters));
	free(ev);
}

int
control_events_wait(struct control_events *ev, const char *cert,
    uint64_t client, json_t *id)
{
	struct ctl_waiter	*w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return -1;
	if ((w->cert = strdup(cert)) == NULL) {
		free(w);
		return -1;
	}
	w->client = client;
	w->id = json_incref(id);
	TAILQ_INSERT_TAIL(&ev->waiters, w, entry);
	return 0;
}
