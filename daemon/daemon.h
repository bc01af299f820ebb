/* The daemon's one context: everything mutable hangs off struct daemon. */
#ifndef DAEMON_DAEMON_H
#define DAEMON_DAEMON_H

#include <stdbool.h>
#include <time.h>

#include <event2/event_struct.h>

#include "admin.h"
#include "cert.h"
#include "config.h"
#include "events.h"
#include "keygen.h"
#include "proc.h"
#include "challenge/challenge.h"

struct acme_client;
struct control;
struct counters;
struct http;
struct http01;
struct metrics;
struct units;

struct ca_slot {
	char			*name;
	struct acme_client	*client;
};

struct daemon {
	struct event_base	*base;
	struct config		*conf;
	struct http		*http;
	struct http01		*http01;	/* NULL unless listening */
	struct tlsalpn01	*tlsalpn01;	/* NULL unless listening */
	struct control		*control;
	struct metrics		*metrics;	/* NULL unless metrics-listen */
	struct ca_slot		*cas;
	size_t			 ncas;
	struct cert_list	 certs;
	struct cert_list	 waiting;	/* due, behind max-parallel */
	unsigned		 running;	/* renewals in flight */
	struct proc_list	 procs;		/* hooks running */
	struct keygen_list	 keygens;	/* keys being made */
	struct dns01_list	 dns01s;	/* TXT records we published */
	struct units		*units;		/* D-Bus to systemd, lazily */
	struct admin_list	 admin;		/* revoke, rollover in flight */
	struct cert_listeners	 listeners;	/* of certificate events */
	struct counters		*counters;	/* for the metrics */
	time_t			 started;
	bool			 stopping;
	bool			 debug;		/* -d: log-level debug */
	struct event		 ev_sigint;
	struct event		 ev_sigterm;
	struct event		 ev_sighup;
	struct event		 ev_sigchld;
	struct event		 drain;		/* shutdown: cleanups pending */
	struct event		 notify_ev;	/* STATUS= recomputed */
	struct event		 watchdog_ev;	/* WATCHDOG=1 */
	struct event		 trim_ev;	/* after a large reply */
	int			 drain_ticks;
};

/* daemon.c */
struct daemon	*daemon_new(struct config *conf_take);
/* Opens listeners and starts every certificate; -1 with *cause. */
int		 daemon_start(struct daemon *, char **cause);
int		 daemon_run(struct daemon *);
void		 daemon_free(struct daemon *);
struct acme_client *daemon_ca(struct daemon *, const char *name);
struct cert	*daemon_cert(struct daemon *, const char *name);
size_t		 daemon_count_certs(const struct daemon *);
/* A large reply was built and sent: give the freed heap back to the
 * system a little later, once it has drained. */
void		 daemon_trim_later(struct daemon *);
/* A renewal slot became free: start the next waiting certificate. */
void		 daemon_slot_freed(struct daemon *);
/* Whether a certificate uses this challenge (standalone: no webroot). */
bool		 daemon_uses(const struct daemon *, enum challenge_type,
		    bool standalone);

/* reload.c: 0, or -1 with the errors appended (the old config stays). */
int		 daemon_reload(struct daemon *, struct config_errors *);

#endif
