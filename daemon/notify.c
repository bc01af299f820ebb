/* sd_notify STATUS and WATCHDOG; see notify.h. */
#include <config.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "timeutil.h"
#include "daemon.h"
#include "notify.h"

/* "in 3d", "in 5h", "in 12m", "in 40s": a glance, not a timestamp. */
static void
notify_approx(time_t secs, char *buf, size_t len)
{
	if (secs >= 2 * 86400)
		snprintf(buf, len, "in %lldd", (long long)(secs / 86400));
	else if (secs >= 2 * 3600)
		snprintf(buf, len, "in %lldh", (long long)(secs / 3600));
	else if (secs >= 120)
		snprintf(buf, len, "in %lldm", (long long)(secs / 60));
	else
		snprintf(buf, len, "in %llds", (long long)secs);
}

void
notify_summary(const struct daemon *d, char *buf, size_t len)
{
	const struct cert	*c, *next = NULL;
	size_t			 n[CERT_STATUS__MAX] = { 0 };
	char			 when[32];
	time_t			 now = time(NULL);

	TAILQ_FOREACH(c, &d->certs, entry) {
		n[c->status]++;
		if (c->job == NULL && c->st.next_renewal > 0 &&
		    (next == NULL || c->st.next_renewal < next->st.next_renewal))
			next = c;
	}
	if (next == NULL)
		snprintf(when, sizeof(when), "none scheduled");
	else if (next->st.next_renewal <= now)
		snprintf(when, sizeof(when), "now");
	else
		notify_approx(next->st.next_renewal - now, when, sizeof(when));
	snprintf(buf, len, "%zu valid, %zu renewing, %zu failed; next "
	    "renewal %s%s%s", n[CERT_VALID], n[CERT_RENEWING],
	    n[CERT_BACKOFF] + n[CERT_FAILED] + n[CERT_EXPIRED],
	    next != NULL ? next->name : "", next != NULL ? " " : "", when);
}

static void
notify_status_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon	*d = arg;
	char		 line[256];

	notify_summary(d, line, sizeof(line));
	sd_notifyf(0, "STATUS=%s", line);
}

static void
notify_watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	sd_notify(0, "WATCHDOG=1");
}

void
notify_init(struct daemon *d)
{
	evtimer_assign(&d->notify_ev, d->base, notify_status_cb, d);
	event_assign(&d->watchdog_ev, d->base, -1, EV_PERSIST,
	    notify_watchdog_cb, d);
}

void
notify_start(struct daemon *d)
{
	uint64_t	usec = 0;
	struct timeval	tv;

	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
		/* Half the interval, so one late wake-up is forgiven. */
		tv.tv_sec = (time_t)(usec / 2 / 1000000);
		tv.tv_usec = (suseconds_t)(usec / 2 % 1000000);
		event_add(&d->watchdog_ev, &tv);
		log_debug("watchdog: pinging every %lld.%06ld s",
		    (long long)tv.tv_sec, (long)tv.tv_usec);
	}
	notify_changed(d);
}

void
notify_changed(struct daemon *d)
{
	struct timeval	tv = { 0, 0 };

	if (d->base != NULL && !evtimer_pending(&d->notify_ev, NULL))
		evtimer_add(&d->notify_ev, &tv);
}

void
notify_free(struct daemon *d)
{
	event_del(&d->notify_ev);
	event_del(&d->watchdog_ev);
}
