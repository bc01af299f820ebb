/*
 * The daemon's context: builds everything from a config, runs the loop,
 * tears everything down in the reverse order.
 */

#include <config.h>

#ifdef HAVE_MALLOC_TRIM
#include <malloc.h>
#endif
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "util.h"
#include "acme/acme.h"
#include "challenge/challenge.h"
#include "control.h"
#include "counters.h"
#include "daemon.h"
#include "fsutil.h"
#include "http.h"
#include "metrics.h"
#include "notify.h"
#include "units.h"

struct acme_client *
daemon_ca(struct daemon *d, const char *name)
{
	size_t	i;

	for (i = 0; i < d->ncas; i++)
		if (strcmp(d->cas[i].name, name) == 0)
			return d->cas[i].client;
	return NULL;
}

struct cert *
daemon_cert(struct daemon *d, const char *name)
{
	struct cert	*c;

	TAILQ_FOREACH(c, &d->certs, entry)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

void
daemon_slot_freed(struct daemon *d)
{
	struct cert	*c;

	while (!d->stopping &&
	    d->running < (unsigned)d->conf->daemon.max_parallel &&
	    (c = TAILQ_FIRST(&d->waiting)) != NULL) {
		TAILQ_REMOVE(&d->waiting, c, waiting);
		c->is_waiting = false;
		cert_renew_now(c);
	}
}

static void	daemon_signal_cb(evutil_socket_t, short, void *);
static void	daemon_drain_cb(evutil_socket_t, short, void *);
static void	daemon_trim_cb(evutil_socket_t, short, void *);

static int
daemon_add_cas(struct daemon *d)
{
	const struct conf_ca	*ca;
	size_t			 n = 0;

	TAILQ_FOREACH(ca, &d->conf->cas, entry)
		n++;
	if (n > 0 && (d->cas = calloc(n, sizeof(*d->cas))) == NULL)
		return -1;
	TAILQ_FOREACH(ca, &d->conf->cas, entry) {
		d->cas[d->ncas].name = strdup(ca->name);
		d->cas[d->ncas].client = acme_client_new(d->base, d->http,
		    &d->keygens, ca, d->conf->daemon.state_dir);
		if (d->cas[d->ncas].name == NULL ||
		    d->cas[d->ncas++].client == NULL)
			return -1;
	}
	return 0;
}

struct daemon *
daemon_new(struct config *conf)
{
	struct daemon		*d;
	const struct conf_cert	*cc;
	struct cert		*c;

	if ((d = calloc(1, sizeof(*d))) == NULL) {
		config_free(conf);
		return NULL;
	}
	d->conf = conf;
	d->started = time(NULL);
	TAILQ_INIT(&d->certs);
	TAILQ_INIT(&d->waiting);
	TAILQ_INIT(&d->procs);
	TAILQ_INIT(&d->keygens);
	TAILQ_INIT(&d->dns01s);
	TAILQ_INIT(&d->admin);
	if ((d->base = event_base_new()) == NULL ||
	    (d->http = http_new(d->base)) == NULL ||
	    (d->counters = counters_new(&d->listeners)) == NULL ||
	    daemon_add_cas(d) == -1)
		goto fail;
	evsignal_assign(&d->ev_sigint, d->base, SIGINT, daemon_signal_cb, d);
	evsignal_assign(&d->ev_sigterm, d->base, SIGTERM, daemon_signal_cb, d);
	evsignal_assign(&d->ev_sighup, d->base, SIGHUP, daemon_signal_cb, d);
	evsignal_assign(&d->ev_sigchld, d->base, SIGCHLD, daemon_signal_cb, d);
	evtimer_assign(&d->drain, d->base, daemon_drain_cb, d);
	evtimer_assign(&d->trim_ev, d->base, daemon_trim_cb, d);
	notify_init(d);
	TAILQ_FOREACH(cc, &conf->certs, entry) {
		if ((c = cert_new(d, cc)) == NULL)
			goto fail;
		TAILQ_INSERT_TAIL(&d->certs, c, entry);
	}
	return d;
fail:
	daemon_free(d);
	return NULL;
}

/* Listeners are opened only for the challenges some certificate uses. */
bool
daemon_uses(const struct daemon *d, enum challenge_type type, bool standalone)
{
	const struct cert	*c;

	TAILQ_FOREACH(c, &d->certs, entry)
		if (c->conf->challenge == type &&
		    (!standalone || c->conf->webroot == NULL))
			return true;
	return false;
}

#define DRAIN_MAX	50	/* tenths of a second to wait for cleanups */
#define DAEMON_TRIM_DELAY 2	/* seconds after a large reply */

/* Exits once the DNS records we added are withdrawn, or time is up. */
/*
 * The status of 10,000 certificates or their scrape takes tens of MiB
 * while it is built and sent; glibc keeps those pages, and the resident
 * size of an idle daemon would stay at its peak.
 */
static void
daemon_trim_cb(evutil_socket_t fd, short what, void *arg)
{
#ifdef HAVE_MALLOC_TRIM
	malloc_trim(0);
#endif
}

void
daemon_trim_later(struct daemon *d)
{
	struct timeval	tv = { DAEMON_TRIM_DELAY, 0 };

	if (!evtimer_pending(&d->trim_ev, NULL))
		evtimer_add(&d->trim_ev, &tv);
}

static void
daemon_drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon	*d = arg;
	struct timeval	 tv = { 0, 100 * 1000 };

	if (TAILQ_EMPTY(&d->dns01s) || ++d->drain_ticks >= DRAIN_MAX) {
		if (!TAILQ_EMPTY(&d->dns01s))
			log_warnx("exiting with dns-01 records not yet removed");
		event_base_loopexit(d->base, NULL);
		return;
	}
	evtimer_add(&d->drain, &tv);
}

static void
daemon_shutdown(struct daemon *d, const char *why)
{
	struct cert	*c;

	if (d->stopping)
		return;
	log_notice("%s: shutting down", why);
	sd_notify(0, "STOPPING=1");
	d->stopping = true;
	/* In-flight renewals are abandoned: the current certificates stay,
	 * and the next start picks the schedule up from state.json.  What
	 * they published (dns-01 records) is withdrawn before we exit. */
	TAILQ_FOREACH(c, &d->certs, entry)
		cert_abandon(c);
	daemon_drain_cb(-1, 0, d);
}

static void
daemon_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon		*d = arg;
	struct config_errors	 errs = { NULL, 0 };

	switch (sig) {
	case SIGINT:
		daemon_shutdown(d, "SIGINT");
		break;
	case SIGTERM:
		daemon_shutdown(d, "SIGTERM");
		break;
	case SIGCHLD:
		proc_reap(d);
		break;
	case SIGHUP:
		log_notice("SIGHUP: reloading the configuration");
		daemon_reload(d, &errs);
		config_errors_clear(&errs);
		break;
	}
}

int
daemon_start(struct daemon *d, char **cause)
{
	struct cert	*c;

	if (fs_mkdir_p(d->conf->daemon.state_dir, 0755, cause) == -1)
		return -1;
	if (daemon_uses(d, CHALLENGE_HTTP01, true) && (d->http01 =
	    http01_new(d->base, d->conf->daemon.http01_listen, cause)) == NULL)
		return -1;
	if (daemon_uses(d, CHALLENGE_TLSALPN01, false) && (d->tlsalpn01 =
	    tlsalpn01_new(d->base, d->conf->daemon.tlsalpn01_listen,
	    cause)) == NULL)
		return -1;
	if (d->conf->daemon.metrics_listen != NULL && (d->metrics =
	    metrics_new(d, d->conf->daemon.metrics_listen, cause)) == NULL)
		return -1;
	if ((d->control = control_new(d, &d->conf->daemon, cause)) == NULL)
		return -1;
	evsignal_add(&d->ev_sigint, NULL);
	evsignal_add(&d->ev_sigterm, NULL);
	evsignal_add(&d->ev_sighup, NULL);
	evsignal_add(&d->ev_sigchld, NULL);
	TAILQ_FOREACH(c, &d->certs, entry)
		cert_start(c);
	notify_start(d);
	log_info("started: %zu certificate%s, %zu CA%s, control socket %s",
	    daemon_count_certs(d), daemon_count_certs(d) == 1 ?
	    "" : "s", d->ncas, d->ncas == 1 ? "" : "s",
	    d->conf->daemon.control_socket);
	sd_notify(0, "READY=1");
	/* Reading the config and every state.json, and the first round of
	 * renewalInfo probes that follows, leave garbage behind: one trim
	 * once start-up has settled. */
	daemon_trim_later(d);
	return 0;
}

size_t
daemon_count_certs(const struct daemon *d)
{
	const struct cert	*c;
	size_t			 n = 0;

	TAILQ_FOREACH(c, &d->certs, entry)
		n++;
	return n;
}

int
daemon_run(struct daemon *d)
{
	return event_base_dispatch(d->base) == -1 ? -1 : 0;
}

void
daemon_free(struct daemon *d)
{
	struct cert	*c;
	size_t		 i;

	if (d == NULL)
		return;
	metrics_free(d->metrics);	/* it reads the certificates */
	while ((c = TAILQ_FIRST(&d->certs)) != NULL) {
		TAILQ_REMOVE(&d->certs, c, entry);
		cert_free(c);
	}
	admin_free_all(d);
	keygen_free_all(&d->keygens);
	/* Records own their hook procs: free them before the rest. */
	dns01_free_all(d);
	while (!TAILQ_EMPTY(&d->procs))
		proc_cancel(TAILQ_FIRST(&d->procs));
	units_free(d);
	control_free(d->control);
	counters_free(d->counters, &d->listeners);
	http01_free(d->http01);
	tlsalpn01_free(d->tlsalpn01);
	for (i = 0; i < d->ncas; i++) {
		acme_client_free(d->cas[i].client);
		free(d->cas[i].name);
	}
	free(d->cas);
	http_free(d->http);	/* before the base it uses */
	if (d->base != NULL) {
		event_del(&d->ev_sigint);
		event_del(&d->ev_sigterm);
		event_del(&d->ev_sighup);
		event_del(&d->ev_sigchld);
		event_del(&d->drain);
		event_del(&d->trim_ev);
		notify_free(d);
		event_base_free(d->base);
	}
	config_free(d->conf);
	free(d);
}
