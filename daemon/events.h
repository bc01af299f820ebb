/*
 * What happens to a certificate, told to whoever listens: the control
 * server (`watch`, `renew` with wait) and the metrics.  cert.c and the
 * modules it drives fire the events; they know nothing of the listeners,
 * and the listeners only read the certificate they are given.
 */
#ifndef DAEMON_EVENTS_H
#define DAEMON_EVENTS_H

#include <stdbool.h>
#include <stddef.h>

struct cert;

enum cert_event_kind {
	CERT_EV_PHASE,		/* a renewal started, moved on or ended:
				 * "start", "order", ..., "done", "failed" */
	CERT_EV_OUTCOME,	/* a renewal ended: ok, error, or abandoned */
	CERT_EV_STORAGE_ERROR,	/* a write to the store or state.json failed */
	CERT_EV_HOOK,		/* a hook ran: hook, ok */
	CERT_EV__MAX
};

struct cert_event {
	enum cert_event_kind	 kind;
	const struct cert	*cert;
	const char		*phase;		/* PHASE */
	bool			 ok;		/* OUTCOME, HOOK */
	bool			 abandoned;	/* OUTCOME: shutdown or reload */
	const char		*error;		/* OUTCOME, when it failed */
	int			 hook;		/* HOOK: enum hook_kind */
};

typedef void (*cert_listener_fn)(const struct cert_event *, void *arg);

#define EVENTS_LISTENERS_MAX	4

struct cert_listeners {
	struct {
		cert_listener_fn	 fn;
		void			*arg;
	}		 l[EVENTS_LISTENERS_MAX];
	size_t		 n;
};

/* 0, or -1 when EVENTS_LISTENERS_MAX are listening already. */
int	 events_listen(struct cert_listeners *, cert_listener_fn, void *arg);
void	 events_unlisten(struct cert_listeners *, cert_listener_fn,
	    void *arg);
/* Calls every listener, in the order they came. */
void	 events_fire(const struct cert_listeners *, const struct cert_event *);

#endif
