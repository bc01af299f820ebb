/*
 * A managed certificate: what is on disk, what state.json remembers, when
 * the next renewal is due, and the one timer that wakes it then.
 *
 * Policy (DESIGN.md "Renewal policy"): a missing, unreadable or mismatched
 * certificate is issued now; a valid one is renewed when a third of its
 * lifetime is left (or renew-before), moved earlier by a random jitter so
 * a fleet spreads out, never later.  A failed attempt keeps the current
 * certificate and retries after 1 min doubling to 6 h, with jitter.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "timeutil.h"
#include "util.h"
#include "acme/acme.h"
#include "ari.h"
#include "cert.h"
#include "challenge/solver.h"
#include "daemon.h"
#include "deploy.h"
#include "events.h"
#include "fsutil.h"
#include "notify.h"
#include "renewal.h"
#include "schedule.h"
#include "store.h"


/* A failing renewal of a certificate this close to its end is "failed". */
#define CERT_FAILED_WITHIN	(7 * 24 * 3600)

const char *const cert_status_names[CERT_STATUS__MAX] = {
	[CERT_PENDING] = "pending",
	[CERT_VALID] = "valid",
	[CERT_RENEWING] = "renewing",
	[CERT_BACKOFF] = "backoff",
	[CERT_FAILED] = "failed",
	[CERT_EXPIRED] = "expired",
};

static void	cert_timer_cb(evutil_socket_t, short, void *);

static struct log_tag
cert_tag(const struct cert *c)
{
	return (struct log_tag){ .name = c->name, .ca = cert_ca_name(c) };
}

static char *
cert_state_path(const struct cert *c)
{
	return fs_path("%s/certs/%s/state.json", c->d->conf->daemon.state_dir,
	    c->name);
}

/* The primary, or a fallback after ca-fallback-after failures in a row. */
const char *
cert_ca_name(const struct cert *c)
{
	return c->conf->ca.v[schedule_ca_index(c->st.failures,
	    c->conf->ca_fallback_after, c->conf->ca.n)];
}

struct cert *
cert_new(struct daemon *d, const struct conf_cert *conf)
{
	struct cert	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if ((c->name = strdup(conf->name)) == NULL) {
		free(c);
		return NULL;
	}
	c->d = d;
	c->conf = conf;
	c->status = CERT_PENDING;
	evtimer_assign(&c->timer, d->base, cert_timer_cb, c);
	return c;
}

void
cert_fire(struct cert *c, struct cert_event *ev)
{
	ev->cert = c;
	events_fire(&c->d->listeners, ev);
}

/* Where a renewal stands: "start", a renewal phase, "done", "failed". */
static void
cert_fire_phase(struct cert *c, const char *phase)
{
	cert_fire(c, &(struct cert_event){ .kind = CERT_EV_PHASE,
	    .phase = phase });
}

void
cert_storage_failed(struct cert *c)
{
	cert_fire(c, &(struct cert_event){ .kind = CERT_EV_STORAGE_ERROR });
}

void
cert_hook_ran(struct cert *c, enum hook_kind kind, bool ok)
{
	cert_fire(c, &(struct cert_event){ .kind = CERT_EV_HOOK,
	    .hook = kind, .ok = ok });
}

void
cert_free(struct cert *c)
{
	if (c == NULL)
		return;
	ari_stop(c);
	event_del(&c->timer);
	renewal_free(c->job);
	solver_free(c->solver);
	deploy_stop(c);
	proc_cancel(c->failure_proc);
	state_clear(&c->st);
	free(c->name);
	free(c);
}

static void
cert_arm(struct cert *c, time_t when)
{
	struct timeval	tv = { 0, 0 };
	time_t		now = time(NULL);

	c->st.next_renewal = when;
	notify_changed(c->d);
	if (when > now)
		tv.tv_sec = when - now;
	evtimer_add(&c->timer, &tv);
}

void
cert_save(struct cert *c)
{
	char	*dir, *cause = NULL;
	int	 dfd;

	dir = store_cert_dir(c->d->conf->daemon.state_dir, c->name);
	if ((dfd = store_open_cert_dir(c->d->conf->daemon.state_dir, c->name,
	    true, &cause)) == -1 ||
	    state_save_at(dfd, dir, &c->st, &cause) == -1) {
		log_tagged(LOG_WARNING, &(struct log_tag){ .name = c->name },
		    "cannot save state: %s", cause);
		cert_storage_failed(c);
	}
	if (dfd != -1)
		close(dfd);
	free(cause);
	free(dir);
}

/* The files of `current` parsed: 0 with *key_matches, or -1 with *cause
 * when they cannot be read or parsed. */
static int
cert_parse_files(const struct cert *c, struct certinfo *info,
    bool *key_matches, char **cause)
{
	struct store_files	 files = { .key_pem = NULL };
	EVP_PKEY		*key = NULL;
	int			 rc = -1;

	if (store_read_current(c->d->conf->daemon.state_dir, c->name, &files,
	    cause) == -1)
		goto out;
	if ((key = certinfo_read_key(files.key_pem)) == NULL) {
		cause_set(cause, "privkey.pem: no private key in it");
		goto out;
	}
	rc = certinfo_parse_with_key(files.cert_pem, key, info, key_matches,
	    cause);
out:
	EVP_PKEY_free(key);
	store_files_clear(&files);
	return rc;
}

/*
 * Reads `current` into st.current, unless st.current already describes the
 * same files (see struct current_state).  0, or -1 when there is none or
 * it is unusable (logged).  *changed: st.current is not what it was.
 */
static int
cert_read_current(struct cert *c, bool *changed)
{
	struct current_state	*cur = &c->st.current;
	struct log_tag		 tag = cert_tag(c);
	const char		*dir = c->d->conf->daemon.state_dir;
	char			*id = NULL, *cause = NULL;
	int			 version, rc = -1;
	bool			 key_matches = false, had = cur->version > 0;

	*changed = false;
	if ((version = store_current_version(dir, c->name)) <= 0)
		goto out;
	/* The identity first: files changed while we read show next time. */
	id = store_file_id(dir, c->name, version);
	if (id != NULL && cur->version == version && cur->file_id != NULL &&
	    strcmp(cur->file_id, id) == 0) {
		free(id);
		return 0;
	}
	state_current_clear(cur);
	if (cert_parse_files(c, &cur->info, &key_matches, &cause) == -1) {
		log_tagged(LOG_WARNING, &tag, "current certificate unusable, "
		    "issuing a new one: %s", cause);
		goto out;
	}
	if (!key_matches) {
		log_tagged(LOG_WARNING, &tag, "current key does not match "
		    "its certificate; issuing a new one");
		goto out;
	}
	cur->version = version;
	cur->file_id = id;
	id = NULL;
	rc = 0;
out:
	if (rc == -1)
		state_current_clear(cur);
	*changed = had || cur->version > 0;
	free(cause);
	free(id);
	return rc;
}

/* Reads `current`; have_cert only for a certificate with its own key.
 * matches: it is also what the configuration asks for; changed: the
 * cache of it in state.json is to be written again. */
static void
cert_load_current(struct cert *c, bool *matches, bool *changed)
{
	struct log_tag	tag = cert_tag(c);

	*matches = false;
	c->have_cert = cert_read_current(c, changed) == 0;
	if (!c->have_cert)
		return;
	if (!certinfo_names_equal(&c->st.current.info, &c->conf->domains))
		log_tagged(LOG_NOTICE, &tag, "names changed; issuing now");
	else if (!key_spec_equal(&c->st.current.info.key, &c->conf->key))
		log_tagged(LOG_NOTICE, &tag, "key-type changed; issuing now");
	else
		*matches = true;
}

/* The renewal installed version v; takes info (cleared here). */
static void
cert_set_current(struct cert *c, int version, struct certinfo *info)
{
	struct current_state	*cur = &c->st.current;

	state_current_clear(cur);
	cur->version = version;
	cur->info = *info;
	memset(info, 0, sizeof(*info));
	cur->file_id = store_file_id(c->d->conf->daemon.state_dir, c->name,
	    version);
}

/* Renames state.json in the certificate's directory to aside; -1, errno. */
static int
cert_set_aside(struct cert *c, const char *aside)
{
	int	dfd, rc, saved;

	if ((dfd = store_open_cert_dir(c->d->conf->daemon.state_dir, c->name,
	    false, NULL)) == -1)
		return -1;
	rc = renameat(dfd, STATE_FILE, dfd, aside);
	saved = errno;
	close(dfd);
	errno = saved;
	return rc;
}

/* Loads state.json; a corrupt one is moved aside, never fatal.  True
 * when it was read as it is on disk. */
static bool
cert_load_state(struct cert *c)
{
	char		*path = cert_state_path(c), *aside, *cause = NULL;
	long long	 now = (long long)time(NULL);
	int		 rc;

	if ((rc = state_load(path, &c->st, &cause)) == -1) {
		aside = fs_path("%s.corrupt-%lld", STATE_FILE, now);
		if (cert_set_aside(c, aside) == -1)
			log_tagged(LOG_WARNING, &(struct log_tag){ .name = c->name },
			    "%s; cannot move it aside: %s", cause, strerror(errno));
		else
			log_tagged(LOG_WARNING, &(struct log_tag){ .name = c->name },
			    "%s; moved to %s.corrupt-%lld, state rebuilt from "
			    "the files on disk", cause, path, now);
		free(aside);
		state_clear(&c->st);
	}
	free(cause);
	free(path);
	return rc == 0;
}

static bool
cert_expired(const struct cert *c, time_t now)
{
	return c->have_cert && now >= c->st.current.info.not_after;
}

/*
 * The state after a failed attempt: expired past notAfter; failed when the
 * certificate in service runs out within CERT_FAILED_WITHIN (the point at
 * which etc/'s alert fires: someone has to look, `acmectl status` exits
 * 1); else backoff.  Retries go on in every case.
 */
static enum cert_status
cert_failing_status(const struct cert *c, time_t now)
{
	if (cert_expired(c, now))
		return CERT_EXPIRED;
	if (c->have_cert &&
	    c->st.current.info.not_after - now < CERT_FAILED_WITHIN)
		return CERT_FAILED;
	return CERT_BACKOFF;
}

/* Decides status and next renewal from the certificate and the state. */
static void
cert_schedule(struct cert *c, bool matches)
{
	time_t		now = time(NULL), when;
	struct log_tag	tag = cert_tag(c);
	char		at[RFC3339_LEN];

	if (c->st.failures > 0 && c->st.next_renewal > now) {
		/* A backoff survives a restart. */
		c->status = cert_failing_status(c, now);
		when = c->st.next_renewal;
	} else if (!c->have_cert || !matches) {
		/* Nothing usable, or not what the config asks: issue now. */
		if (!c->have_cert)
			c->status = CERT_PENDING;
		else
			c->status = cert_expired(c, now) ? CERT_EXPIRED :
			    CERT_VALID;
		when = now;
	} else if (cert_expired(c, now)) {
		c->status = CERT_EXPIRED;
		when = now;
	} else {
		c->status = CERT_VALID;
		/* The CA's window where it gives one; else keep a persisted
		 * moment inside ours: the jitter then holds across restarts. */
		if (ari_window_known(c))
			when = ari_moment(c, now);
		else if (schedule_renewal_valid(c->st.next_renewal,
		    c->st.current.info.not_before, c->st.current.info.not_after,
		    c->conf->renew_before))
			when = c->st.next_renewal;
		else
			when = schedule_renewal(c->st.current.info.not_before,
			    c->st.current.info.not_after, c->conf->renew_before,
			    arc4random_uniform);
	}
	cert_arm(c, when);
	ari_watch(c);
	time_format_rfc3339(when, at);
	log_tagged(LOG_INFO, &tag, "%s; next renewal %s",
	    cert_status_names[c->status], when <= now ? "now" : at);
}

void
cert_start(struct cert *c)
{
	bool	 matches, loaded, changed;
	time_t	 planned;

	store_recover(c->d->conf->daemon.state_dir, c->name);
	loaded = cert_load_state(c);
	planned = c->st.next_renewal;
	cert_load_current(c, &matches, &changed);
	cert_schedule(c, matches);
	deploy_resume(c);
	/* A fleet restarts fast: state.json is rewritten only if it changed;
	 * one never issued and never tried has nothing to keep yet. */
	if (!loaded && !c->have_cert && c->st.failures == 0)
		return;
	if (!loaded || changed || c->st.next_renewal != planned)
		cert_save(c);
}

/* With reuse-key, the key in service if it is of the configured type. */
static EVP_PKEY *
cert_reused_key(const struct cert *c)
{
	struct store_files	 files = { .key_pem = NULL };
	EVP_PKEY		*key = NULL;
	struct key_spec		 spec;
	char			*cause = NULL;

	if (c->conf->reuse_key && c->have_cert &&
	    store_read_current(c->d->conf->daemon.state_dir, c->name, &files,
	    &cause) == 0 &&
	    (key = keystore_from_pem(files.key_pem)) != NULL &&
	    (keystore_spec_of(key, &spec) == -1 ||
	    !key_spec_equal(&spec, &c->conf->key))) {
		EVP_PKEY_free(key);	/* key-type changed: a new key */
		key = NULL;
	}
	store_files_clear(&files);
	free(cause);
	return key;
}

/* The ARI id of the certificate in service, if ca issued it and offers
 * ARI (RFC 9773 §5: newOrder's "replaces"); else NULL. */
static const char *
cert_replaces(const struct cert *c, const struct acme_client *ca)
{
	if (!c->have_cert || c->st.current.info.ari_id == NULL ||
	    c->st.ca == NULL || strcmp(c->st.ca, acme_client_name(ca)) != 0 ||
	    acme_client_url(ca, "renewalInfo") == NULL)
		return NULL;
	return c->st.current.info.ari_id;
}

static void
cert_phase_cb(enum renewal_phase phase, void *arg)
{
	cert_fire_phase(arg, renewal_phase_names[phase]);
}

static void	cert_renewal_done(struct renewal_result *, void *);

/* A renewal of what the configuration asks, at the CA whose turn it is. */
static struct renewal *
cert_renewal_start(struct cert *c, const char **why)
{
	struct renewal_params	 p;
	struct acme_client	*ca;
	EVP_PKEY		*reuse;
	struct renewal		*r;

	if ((ca = daemon_ca(c->d, cert_ca_name(c))) == NULL) {
		*why = "no such CA";
		return NULL;
	}
	if ((c->solver = solver_new(c->d, c->conf)) == NULL) {
		*why = "out of memory";
		return NULL;
	}
	reuse = cert_reused_key(c);
	memset(&p, 0, sizeof(p));
	p.name = c->name;
	p.domains = &c->conf->domains;
	p.ca = ca;
	p.solver = c->solver;
	p.key_spec = &c->conf->key;
	p.reuse_key = reuse;
	p.profile = c->conf->profile;
	p.replaces = cert_replaces(c, ca);
	p.preferred_chain = c->conf->preferred_chain;
	p.state_dir = c->d->conf->daemon.state_dir;
	p.key_shared = c->conf->key_owner != NULL;
	p.key_uid = c->conf->key_uid;
	p.key_gid = c->conf->key_gid;
	p.base = c->d->base;
	p.keygens = &c->d->keygens;
	r = renewal_start(&p, cert_phase_cb, cert_renewal_done, c);
	EVP_PKEY_free(reuse);	/* the renewal holds its own reference */
	if (r == NULL) {
		solver_free(c->solver);
		c->solver = NULL;
		*why = "out of memory";
	}
	return r;
}

static void	cert_attempt_over(struct cert *, bool, const char *,
		    const char *, long long);

static void
cert_begin(struct cert *c)
{
	struct daemon	*d = c->d;
	const char	*why = NULL;

	event_del(&c->timer);
	d->running++;
	c->status = CERT_RENEWING;
	notify_changed(d);
	c->attempt_started = time(NULL);
	cert_fire_phase(c, "start");
	if ((c->job = cert_renewal_start(c, &why)) == NULL)
		cert_attempt_over(c, false, "order", why, -1);
}

int
cert_renew_now(struct cert *c)
{
	struct daemon	*d = c->d;

	if (c->job != NULL || d->stopping)
		return -1;
	if (c->is_waiting)
		return 0;
	if (d->running >= (unsigned)d->conf->daemon.max_parallel) {
		TAILQ_INSERT_TAIL(&d->waiting, c, waiting);
		c->is_waiting = true;
		return 0;
	}
	cert_begin(c);
	return 0;
}

void
cert_recheck(struct cert *c)
{
	bool	matches, changed;

	deploy_stop(c);
	cert_load_current(c, &matches, &changed);
	cert_schedule(c, matches);
	deploy_resume(c);
	cert_save(c);
}

void
cert_reschedule(struct cert *c, time_t when)
{
	cert_arm(c, when);
}

/* The job and what it used are gone; a slot is free. */
static void
cert_job_free(struct cert *c)
{
	renewal_free(c->job);
	c->job = NULL;
	solver_free(c->solver);
	c->solver = NULL;
	c->d->running--;
}

void
cert_abandon(struct cert *c)
{
	event_del(&c->timer);
	ari_stop(c);
	if (c->is_waiting) {
		TAILQ_REMOVE(&c->d->waiting, c, waiting);
		c->is_waiting = false;
	}
	if (c->job != NULL) {
		cert_job_free(c);
		cert_fire(c, &(struct cert_event){ .kind = CERT_EV_OUTCOME,
		    .abandoned = true,
		    .error = "renewal abandoned (shutdown or reload)" });
	}
}

static void
cert_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cert	*c = arg;

	cert_renew_now(c);
}

static void
cert_renewal_done(struct renewal_result *res, void *arg)
{
	struct cert	*c = arg;

	if (res->storage_error)
		cert_storage_failed(c);
	if (res->ok)
		cert_set_current(c, res->version, &res->info);
	/* res lives in the job, which goes last. */
	cert_attempt_over(c, res->ok, renewal_phase_names[res->phase],
	    res->error, res->retry_after);
}

/* An attempt ended (the job, if it ran, is still there): record it,
 * schedule what comes next, tell the listeners. */
static void
cert_attempt_over(struct cert *c, bool ok, const char *phase,
    const char *error, long long retry_after)
{
	struct attempt	 a;
	time_t		 now = time(NULL);
	const char	*ca = cert_ca_name(c);
	bool		 matches, changed;

	memset(&a, 0, sizeof(a));
	a.started = c->attempt_started;
	a.finished = now;
	a.ok = ok;
	a.ca = (char *)ca;
	a.phase = (char *)phase;
	a.error = (char *)error;
	state_add_attempt(&c->st, &a);

	free(c->st.last_error);
	c->st.last_error = NULL;
	if (ok) {
		c->st.failures = 0;
		c->st.last_success = now;
		free(c->st.ca);
		c->st.ca = strdup(ca);
		c->st.next_renewal = 0;
		cert_load_current(c, &matches, &changed);
		cert_schedule(c, matches);
		deploy_start(c);
	} else {
		c->st.failures++;
		c->st.last_error = error != NULL ? strdup(error) : NULL;
		c->status = cert_failing_status(c, now);
		cert_arm(c, schedule_backoff(c->st.failures, now,
		    c->have_cert ? c->st.current.info.not_after : 0, retry_after,
		    arc4random_uniform));
		if (c->conf->ca.n > 1 && strcmp(ca, cert_ca_name(c)) != 0)
			log_tagged(LOG_NOTICE, &(struct log_tag){ .name = c->name,
			    .ca = ca }, "%u failures in a row; next attempt at "
			    "CA %s", c->st.failures, cert_ca_name(c));
	}
	cert_save(c);
	cert_fire_phase(c, ok ? "done" : "failed");
	cert_fire(c, &(struct cert_event){ .kind = CERT_EV_OUTCOME, .ok = ok,
	    .error = error });
	if (!ok)
		deploy_failure_hook(c, error != NULL ? error : "failed");
	/* phase and error may live in the job: it goes last. */
	if (c->job != NULL || c->solver != NULL)
		cert_job_free(c);
	else
		c->d->running--;
	daemon_slot_freed(c->d);
}
