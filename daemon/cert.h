/* One managed certificate at run time: its standing, schedule and job. */
#ifndef DAEMON_CERT_H
#define DAEMON_CERT_H

#include <stdbool.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/event_struct.h>
#include <jansson.h>
#include <stdint.h>

#include "certinfo.h"
#include "config.h"
#include "proc.h"
#include "state.h"

enum cert_status {
	CERT_PENDING,		/* never issued yet */
	CERT_VALID,
	CERT_RENEWING,
	CERT_BACKOFF,		/* an attempt failed; a retry is scheduled */
	CERT_FAILED,
	CERT_EXPIRED,
	CERT_STATUS__MAX
};

extern const char *const cert_status_names[CERT_STATUS__MAX];

struct acme_op;
struct daemon;
struct proc;
struct renewal;
struct units_job;

/* A control client waiting for the outcome of a renewal. */
struct cert_waiter {
	TAILQ_ENTRY(cert_waiter) entry;
	uint64_t		 client;
	json_t			*id;		/* of its request */
};

TAILQ_HEAD(cert_waiter_list, cert_waiter);

struct cert {
	TAILQ_ENTRY(cert)	 entry;
	struct daemon		*d;
	char			*name;
	const struct conf_cert	*conf;		/* borrowed from d->conf */
	enum cert_status	 status;
	struct cert_state	 st;		/* persisted in state.json; its
						 * `current` is what the store
						 * holds (valid if have_cert) */
	bool			 have_cert;
	struct event		 timer;		/* next renewal or retry */
	struct renewal		*job;		/* NULL unless renewing */
	time_t			 attempt_started;
	TAILQ_ENTRY(cert)	 waiting;	/* queued for a free slot */
	bool			 is_waiting;
	struct proc		*deploy_proc;	/* deploy-hook running */
	struct units_job	*deploy_units;	/* reload-units running */
	struct event		*deploy_timer;	/* deploy retry, made when due */
	struct proc		*failure_proc;	/* failure-hook running */
	struct acme_op		*ari_op;	/* renewalInfo fetch */
	struct event		*ari_timer;	/* next renewalInfo fetch */
	bool			 ari_unsupported; /* the CA has no ARI */
	struct cert_waiter_list	 waiters;	/* renew with wait */
	/* Counters for the metrics (reset when a reload re-creates it). */
	uint64_t		 renewals_ok;
	uint64_t		 renewals_failed;
	uint64_t		 storage_errors;	/* store or state.json */
	uint64_t		 hook_runs[HOOK__MAX][2];	/* [kind][ok] */
	bool			 needs_start;	/* reload: new */
	bool			 needs_check;	/* reload: changed */
};

TAILQ_HEAD(cert_list, cert);

struct cert	*cert_new(struct daemon *, const struct conf_cert *);
void		 cert_free(struct cert *);
/* Reads state.json and `current`; decides the status and arms the timer. */
void		 cert_start(struct cert *);
/* Starts a renewal now (or queues it behind max-parallel).  -1 if one is
 * already running. */
int		 cert_renew_now(struct cert *);
/* Tells watchers (and waiters) where a renewal stands. */
void		 cert_event(struct cert *, const char *phase);
/* Adds a client waiting for the outcome of the renewal in flight. */
int		 cert_add_waiter(struct cert *, uint64_t client, json_t *id);
/* After a reload changed its configuration: look at it afresh. */
void		 cert_recheck(struct cert *);
/* Shutdown: stops the timer and drops any renewal in flight. */
void		 cert_abandon(struct cert *);
/* Called by the renewal when it ends; the job is freed by the cert. */
void		 cert_renewal_done(struct cert *, bool ok, const char *phase,
		    const char *error);
/* The renewal installed version v; takes info (cleared here). */
void		 cert_set_current(struct cert *, int version,
		    struct certinfo *info);
/* Moves the next renewal (a valid certificate's) to when. */
void		 cert_reschedule(struct cert *, time_t when);
/* Writes state.json (logs a failure). */
void		 cert_save(struct cert *);
/* The CA the next attempt goes to. */
const char	*cert_ca_name(const struct cert *);

#endif
