/*
 * The counters the metrics show (acme_renewd_renewals_total,
 * acme_renewd_storage_errors_total, acme_renewd_hook_runs_total), kept
 * per certificate name from the certificate events (events.h).  A name
 * gets its counts when its first event comes, so an idle fleet costs
 * nothing; they survive a reload, and start from zero at each start, as
 * Prometheus counters may.
 */
#ifndef DAEMON_COUNTERS_H
#define DAEMON_COUNTERS_H

#include <stdint.h>

#include "proc.h"

struct cert_listeners;
struct counters;

struct cert_counts {
	uint64_t	 renewals[2];		/* [ok] */
	uint64_t	 storage_errors;
	uint64_t	 hook_runs[HOOK__MAX][2];	/* [kind][ok] */
};

/* Listening to ls; NULL when out of memory. */
struct counters	*counters_new(struct cert_listeners *ls);
void		 counters_free(struct counters *, struct cert_listeners *ls);
/* The counts of certificate name, NULL while it has none (all zero). */
const struct cert_counts *counters_get(const struct counters *,
		    const char *name);

#endif
