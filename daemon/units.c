/*
 * reload-units: systemd's Manager.ReloadOrRestartUnit over the system bus.
 *
 * One sd-bus connection per daemon, opened on first use and driven by the
 * libevent loop: one event on the bus fd, armed with what
 * sd_bus_get_events() asks for, and one timer for sd_bus_get_timeout(),
 * both recomputed after sd_bus_process() has run dry.
 *
 * A job asks for its units one after the other.  Each call returns the
 * object path of a systemd job; the unit's outcome is that job's result in
 * the Manager's JobRemoved signal (we add the match and Subscribe once per
 * connection, before the first call).  systemd sends the method reply
 * before the job can finish, and the bus keeps one sender's messages in
 * order, so the path is always known when its JobRemoved arrives.
 *
 * Nothing here runs a units_cb from inside sd_bus_process(): a finished
 * job is handed to the loop (an event made active) and the callback runs
 * from there, free to cancel, start or free anything.
 */
#include <config.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <syslog.h>
#include <time.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <systemd/sd-bus.h>

#include "log.h"
#include "util.h"
#include "config.h"
#include "daemon.h"
#include "units.h"

#define UNITS_DEST	"org.freedesktop.systemd1"
#define UNITS_PATH	"/org/freedesktop/systemd1"
#define UNITS_IFACE	"org.freedesktop.systemd1.Manager"
/*
 * Seconds for one unit's job to finish: past systemd's own default 90 s
 * timeouts, so that systemd's result ("timeout", "failed") is what we
 * report when it has one.
 */
#define UNITS_TIMEOUT	120

struct units_job {
	TAILQ_ENTRY(units_job)	 entry;
	struct units		*u;
	char			*cert_name;
	char			**names;
	size_t			 n;
	size_t			 next;		/* the unit being reloaded */
	sd_bus_slot		*call;		/* its ReloadOrRestartUnit */
	char			*job_path;	/* its systemd job */
	char			*errors;	/* "unit: reason; ..." */
	bool			 failed;	/* errors may be NULL (ENOMEM) */
	bool			 finished;
	struct event		 timer;		/* UNITS_TIMEOUT per unit */
	struct event		 done;		/* runs cb from the loop */
	units_cb		 cb;
	void			*arg;
};
TAILQ_HEAD(units_job_list, units_job);

struct units {
	struct daemon		*d;
	sd_bus			*bus;		/* NULL: opened on next use */
	struct event		 ev_io;
	struct event		 ev_timer;
	struct units_job_list	 jobs;
};

static void	units_job_next(struct units_job *);
static void	units_bus_run(struct units *);
static void	units_bus_io_cb(evutil_socket_t, short, void *);

static void
units_job_free(struct units_job *job)
{
	size_t	i;

	if (job == NULL)
		return;
	event_del(&job->timer);
	event_del(&job->done);
	sd_bus_slot_unref(job->call);
	for (i = 0; i < job->n; i++)
		free(job->names[i]);
	free(job->names);
	free(job->job_path);
	free(job->errors);
	free(job->cert_name);
	free(job);
}

/* The current unit is over: error NULL is success. */
static void
units_job_result(struct units_job *job, const char *error)
{
	const char	*name = job->names[job->next];
	char		*errors = NULL;

	if (error == NULL)
		log_tagged(LOG_INFO, &(struct log_tag){ .name = job->cert_name },
		    "reload-units: %s reloaded", name);
	else {
		log_tagged(LOG_WARNING,
		    &(struct log_tag){ .name = job->cert_name },
		    "reload-units: %s: %s", name, error);
		if (!job->failed)
			errors = xasprintf("%s: %s", name, error);
		else if (job->errors != NULL)
			errors = xasprintf("%s; %s: %s", job->errors, name,
			    error);
		free(job->errors);
		job->errors = errors;
		job->failed = true;
	}
	job->call = sd_bus_slot_unref(job->call);
	free(job->job_path);
	job->job_path = NULL;
	event_del(&job->timer);
	job->next++;
}

/* The current unit failed for the reason fmt says. */
static void	units_job_failf(struct units_job *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

static void
units_job_failf(struct units_job *job, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	units_job_result(job, msg != NULL ? msg : "out of memory");
	free(msg);
}

static void
units_job_done_cb(evutil_socket_t fd, short events, void *arg)
{
	struct units_job	*job = arg;
	units_cb		 cb = job->cb;
	void			*cbarg = job->arg;
	char			*errors = job->errors;
	bool			 failed = job->failed;

	job->errors = NULL;
	TAILQ_REMOVE(&job->u->jobs, job, entry);
	units_job_free(job);
	if (!failed)
		cb(NULL, cbarg);
	else
		cb(errors != NULL ? errors : "out of memory", cbarg);
	free(errors);
}

static void
units_job_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct units_job	*job = arg;
	struct units		*u = job->u;

	units_job_failf(job, "no result from systemd within %d s",
	    UNITS_TIMEOUT);
	units_job_next(job);
	units_bus_run(u);	/* the next call may be queued */
}

/* The reply to ReloadOrRestartUnit: a job path, or why not. */
static int
units_reply_cb(sd_bus_message *m, void *arg, sd_bus_error *ret_error)
{
	struct units_job	*job = arg;
	const sd_bus_error	*e;
	const char		*path;
	int			 r;

	if (sd_bus_message_is_method_error(m, NULL)) {
		e = sd_bus_message_get_error(m);
		units_job_result(job, e->message != NULL ? e->message :
		    e->name);
		goto next;
	}
	if ((r = sd_bus_message_read(m, "o", &path)) < 0) {
		units_job_failf(job, "bad reply from systemd: %s",
		    strerror(-r));
		goto next;
	}
	job->call = sd_bus_slot_unref(job->call);
	if ((job->job_path = strdup(path)) == NULL) {
		units_job_result(job, "out of memory");
		goto next;
	}
	log_tagged(LOG_DEBUG, &(struct log_tag){ .name = job->cert_name },
	    "reload-units: %s: job %s", job->names[job->next], path);
	return 1;
next:
	units_job_next(job);
	return 1;
}

/*
 * Manager.JobRemoved(u id, o job, s unit, s result).  systemd merges a
 * request into a job already queued for the unit, so two of our jobs may
 * wait on the same path: each gets the result.
 */
static int
units_job_removed_cb(sd_bus_message *m, void *arg, sd_bus_error *ret_error)
{
	struct units		*u = arg;
	struct units_job	*job;
	const char		*path, *unit, *result;
	uint32_t		 id;

	if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
		return 0;
	TAILQ_FOREACH(job, &u->jobs, entry) {
		if (job->job_path == NULL || strcmp(job->job_path, path) != 0)
			continue;
		if (strcmp(result, "done") == 0)
			units_job_result(job, NULL);
		else
			units_job_failf(job, "reload failed (job result: %s)",
			    result);
		units_job_next(job);
	}
	return 0;
}

static int
units_subscribe_cb(sd_bus_message *m, void *arg, sd_bus_error *ret_error)
{
	const sd_bus_error	*e;

	if (sd_bus_message_is_method_error(m, NULL)) {
		e = sd_bus_message_get_error(m);
		log_debug("reload-units: Subscribe: %s", e->message != NULL ?
		    e->message : e->name);
	}
	return 1;
}

static int
units_match_cb(sd_bus_message *m, void *arg, sd_bus_error *ret_error)
{
	const sd_bus_error	*e;

	if (sd_bus_message_is_method_error(m, NULL)) {
		e = sd_bus_message_get_error(m);
		log_warnx("reload-units: cannot watch systemd's jobs: %s",
		    e->message != NULL ? e->message : e->name);
	}
	return 1;
}

/* Asks for the next unit; finishes the job after the last. */
static void
units_job_next(struct units_job *job)
{
	sd_bus		*bus = job->u->bus;
	struct timeval	 tv = { UNITS_TIMEOUT, 0 };
	int		 r;

	while (job->next < job->n) {
		if (bus == NULL || sd_bus_is_open(bus) <= 0) {
			units_job_result(job, "connection to the system bus "
			    "lost");
			continue;
		}
		r = sd_bus_call_method_async(bus, &job->call, UNITS_DEST,
		    UNITS_PATH, UNITS_IFACE, "ReloadOrRestartUnit",
		    units_reply_cb, job, "ss", job->names[job->next],
		    "replace");
		if (r >= 0) {
			evtimer_add(&job->timer, &tv);
			return;
		}
		units_job_failf(job, "cannot ask systemd: %s", strerror(-r));
	}
	if (!job->finished) {
		job->finished = true;
		event_active(&job->done, EV_TIMEOUT, 1);
	}
}

/*
 * At shutdown.  Only a connection that is up is flushed: flushing one still
 * connecting would wait for the bus, and the daemon must stop promptly.
 */
static void
units_bus_close(struct units *u)
{
	event_del(&u->ev_io);
	event_del(&u->ev_timer);
	if (u->bus != NULL && sd_bus_is_ready(u->bus) > 0)
		u->bus = sd_bus_flush_close_unref(u->bus);
	else
		u->bus = sd_bus_close_unref(u->bus);
}

/* The connection broke: every unit waiting on it fails, and it is closed. */
static void
units_bus_fail(struct units *u, int r)
{
	struct units_job	*job;

	log_warnx("reload-units: system bus connection lost: %s",
	    strerror(-r));
	TAILQ_FOREACH(job, &u->jobs, entry) {
		while (job->next < job->n)
			units_job_failf(job, "connection to the system bus "
			    "lost: %s", strerror(-r));
		units_job_next(job);	/* finishes it */
	}
	event_del(&u->ev_io);
	event_del(&u->ev_timer);
	u->bus = sd_bus_close_unref(u->bus);
}

/* Arms the fd event and the timer for what the bus waits for. */
static int
units_bus_arm(struct units *u)
{
	struct timeval	 tv;
	struct timespec	 ts;
	uint64_t	 until, now;
	short		 what = 0;
	int		 fd, events, r;

	if ((fd = sd_bus_get_fd(u->bus)) < 0)
		return fd;
	if ((events = sd_bus_get_events(u->bus)) < 0)
		return events;
	if ((r = sd_bus_get_timeout(u->bus, &until)) < 0)
		return r;

	if (events & POLLIN)
		what |= EV_READ;
	if (events & POLLOUT)
		what |= EV_WRITE;
	event_del(&u->ev_io);
	if (what != 0) {
		event_assign(&u->ev_io, u->d->base, fd, what,
		    units_bus_io_cb, u);
		if (event_add(&u->ev_io, NULL) == -1)
			return -EIO;
	}

	event_del(&u->ev_timer);
	if (until != UINT64_MAX) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
		until = until > now ? until - now : 0;
		tv.tv_sec = until / 1000000;
		tv.tv_usec = until % 1000000;
		evtimer_add(&u->ev_timer, &tv);
	}
	return 0;
}

/* Processes everything the bus has, then waits for more. */
static void
units_bus_run(struct units *u)
{
	int	r;

	if (u->bus == NULL)
		return;
	while ((r = sd_bus_process(u->bus, NULL)) > 0)
		;
	if (r == 0)
		r = units_bus_arm(u);
	if (r < 0)
		units_bus_fail(u, r);
}

static void
units_bus_io_cb(evutil_socket_t fd, short events, void *arg)
{
	struct units	*u = arg;

	units_bus_run(u);
}

static void
units_bus_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct units	*u = arg;

	units_bus_run(u);
}

/* Connects (without waiting) and asks for JobRemoved; -1 with *cause. */
static int
units_bus_open(struct units *u, char **cause)
{
	sd_bus	*bus = NULL;
	int	 r, rc = -1;

	if ((r = sd_bus_open_system(&bus)) < 0) {
		*cause = xasprintf("cannot connect to the system bus: %s",
		    strerror(-r));
		goto out;
	}
	if ((r = sd_bus_match_signal_async(bus, NULL, UNITS_DEST, UNITS_PATH,
	    UNITS_IFACE, "JobRemoved", units_job_removed_cb, units_match_cb,
	    u)) < 0) {
		*cause = xasprintf("cannot watch systemd's jobs: %s",
		    strerror(-r));
		goto out;
	}
	if ((r = sd_bus_call_method_async(bus, NULL, UNITS_DEST, UNITS_PATH,
	    UNITS_IFACE, "Subscribe", units_subscribe_cb, u, "")) < 0) {
		*cause = xasprintf("cannot subscribe to systemd: %s",
		    strerror(-r));
		goto out;
	}
	u->bus = bus;
	bus = NULL;
	rc = 0;
out:
	sd_bus_close_unref(bus);
	return rc;
}

static struct units_job *
units_job_new(struct units *u, const char *cert_name,
    const struct strlist *names, units_cb cb, void *arg)
{
	struct units_job	*job, *rv = NULL;

	if ((job = calloc(1, sizeof(*job))) == NULL)
		goto out;
	job->u = u;
	job->cb = cb;
	job->arg = arg;
	evtimer_assign(&job->timer, u->d->base, units_job_timer_cb, job);
	evtimer_assign(&job->done, u->d->base, units_job_done_cb, job);
	if ((job->names = calloc(names->n + 1, sizeof(*job->names))) == NULL ||
	    (job->cert_name = strdup(cert_name)) == NULL)
		goto out;
	for (job->n = 0; job->n < names->n; job->n++) {
		if ((job->names[job->n] = strdup(names->v[job->n])) == NULL)
			goto out;
	}
	rv = job;
	job = NULL;
out:
	units_job_free(job);
	return rv;
}

static struct units *
units_new(struct daemon *d)
{
	struct units	*u;

	if ((u = calloc(1, sizeof(*u))) == NULL)
		return NULL;
	u->d = d;
	TAILQ_INIT(&u->jobs);
	event_assign(&u->ev_io, d->base, -1, 0, units_bus_io_cb, u);
	evtimer_assign(&u->ev_timer, d->base, units_bus_timer_cb, u);
	return u;
}

struct units_job *
units_reload(struct daemon *d, const char *cert_name,
    const struct strlist *names, units_cb cb, void *arg, char **cause)
{
	struct units_job	*job = NULL;
	int			 r;

	if (d->units == NULL && (d->units = units_new(d)) == NULL) {
		*cause = xasprintf("out of memory");
		goto out;
	}
	if (d->units->bus != NULL && sd_bus_is_open(d->units->bus) <= 0)
		units_bus_fail(d->units, -ENOTCONN);	/* broke while idle */
	if (d->units->bus == NULL && units_bus_open(d->units, cause) == -1)
		goto out;
	if ((job = units_job_new(d->units, cert_name, names, cb, arg)) ==
	    NULL) {
		*cause = xasprintf("out of memory");
		goto out;
	}
	TAILQ_INSERT_TAIL(&d->units->jobs, job, entry);
	units_job_next(job);
	if ((r = units_bus_arm(d->units)) < 0)
		units_bus_fail(d->units, r);	/* the job fails, from the loop */
out:
	return job;
}

void
units_cancel(struct units_job *job)
{
	if (job == NULL)
		return;
	TAILQ_REMOVE(&job->u->jobs, job, entry);
	units_job_free(job);
}

void
units_free(struct daemon *d)
{
	struct units	*u = d->units;

	if (u == NULL)
		return;
	while (!TAILQ_EMPTY(&u->jobs))
		units_cancel(TAILQ_FIRST(&u->jobs));
	units_bus_close(u);
	free(u);
	d->units = NULL;
}
