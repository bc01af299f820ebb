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
struct cert_event;
struct daemon;
struct proc;
struct renewal;
struct solver;
struct units_job;

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
	struct solver		*solver;	/* the job's challenges */
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
/* Tells the listeners (events.h) about c: sets ev->cert. */
void		 cert_fire(struct cert *, struct cert_event *ev);
/* A write to the store or state.json failed (the caller logged it). */
void		 cert_storage_failed(struct cert *);
/* One of the certificate's hooks finished. */
void		 cert_hook_ran(struct cert *, enum hook_kind, bool ok);
/* After a reload changed its configuration: look at it afresh. */
void		 cert_recheck(struct cert *);
/* Shutdown: stops the timer and drops any renewal in flight. */
void		 cert_abandon(struct cert *);
/* Moves the next renewal (a valid certificate's) to when. */
void		 cert_reschedule(struct cert *, time_t when);
/* Writes state.json (logs a failure). */
void		 cert_save(struct cert *);
/* The CA the next attempt goes to. */
const char	*cert_ca_name(const struct cert *);

#endif
