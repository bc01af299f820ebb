/* One managed certificate at run time: its standing, schedule and job. */
#ifndef DAEMON_CERT_H
#define DAEMON_CERT_H

#include <stdbool.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/event_struct.h>

#include "certinfo.h"
#include "config.h"
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

struct daemon;
struct renewal;

struct cert {
	TAILQ_ENTRY(cert)	 entry;
	struct daemon		*d;
	char			*name;
	const struct conf_cert	*conf;		/* borrowed from d->conf */
	enum cert_status	 status;
	struct cert_state	 st;		/* persisted in state.json */
	struct certinfo		 info;		/* of `current`, if have_cert */
	bool			 have_cert;
	int			 version;	/* `current` -> v<version> */
	struct event		 timer;		/* next renewal or retry */
	struct renewal		*job;		/* NULL unless renewing */
	time_t			 attempt_started;
	TAILQ_ENTRY(cert)	 waiting;	/* queued for a free slot */
	bool			 is_waiting;
};

TAILQ_HEAD(cert_list, cert);

struct cert	*cert_new(struct daemon *, const struct conf_cert *);
void		 cert_free(struct cert *);
/* Reads state.json and `current`; decides the status and arms the timer. */
void		 cert_start(struct cert *);
/* Starts a renewal now (or queues it behind max-parallel).  -1 if one is
 * already running. */
int		 cert_renew_now(struct cert *);
/* Shutdown: stops the timer and drops any renewal in flight. */
void		 cert_abandon(struct cert *);
/* Called by the renewal when it ends; the job is freed by the cert. */
void		 cert_renewal_done(struct cert *, bool ok, const char *phase,
		    const char *error);
/* The CA the next attempt goes to. */
const char	*cert_ca_name(const struct cert *);

#endif
