/* ACME Renewal Information (RFC 9773); see ari.h. */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "log.h"
#include "timeutil.h"
#include "util.h"
#include "acme/acme.h"
#include "ari.h"
#include "cert.h"
#include "daemon.h"

#define ARI_REFETCH_DEFAULT	(6 * 60 * 60)	/* no Retry-After given */
#define ARI_REFETCH_MIN		5	/* a CA may ask for quick polling */
#define ARI_REFETCH_MAX		(24 * 60 * 60)
#define ARI_RETRY_ON_ERROR	(60 * 60)	/* CA down: ask again later */

static struct log_tag
ari_tag(const struct cert *c)
{
	return (struct log_tag){ .name = c->name, .phase = "ari" };
}

/* The CA that issued the certificate in service: ARI is asked of it. */
static struct acme_client *
ari_ca(const struct cert *c)
{
	return daemon_ca(c->d, c->st.ca != NULL ? c->st.ca : cert_ca_name(c));
}

bool
ari_window_known(const struct cert *c)
{
	return c->have_cert && c->st.ari.serial != NULL &&
	    c->st.current.info.serial != NULL &&
	    strcmp(c->st.ari.serial, c->st.current.info.serial) == 0 &&
	    c->st.ari.start > 0 && c->st.ari.end > c->st.ari.start &&
	    c->st.ari.end <= c->st.current.info.not_after;
}

time_t
ari_moment(const struct cert *c, time_t now)
{
	time_t	start = c->st.ari.start, end = c->st.ari.end, lo;

	if (end <= now)
		return now;
	lo = start > now ? start : now;
	if (c->st.next_renewal >= lo && c->st.next_renewal <= end)
		return c->st.next_renewal;
	if (end - lo >= (time_t)UINT32_MAX)
		return lo + arc4random_uniform(UINT32_MAX);
	return lo + arc4random_uniform((uint32_t)(end - lo) + 1);
}

static void	ari_timer_cb(evutil_socket_t, short, void *);

/* The timer is made when first needed: most CAs have no ARI. */
static void
ari_arm(struct cert *c, time_t when)
{
	struct timeval	tv = { 0, 0 };
	time_t		now = time(NULL);

	if (c->ari_timer == NULL &&
	    (c->ari_timer = evtimer_new(c->d->base, ari_timer_cb, c)) == NULL) {
		log_tagged(LOG_ERR, &(struct log_tag){ .name = c->name },
		    "out of memory: no renewalInfo fetch");
		return;
	}
	if (when > now)
		tv.tv_sec = when - now;
	evtimer_add(c->ari_timer, &tv);
}

static long long
ari_refetch(const struct acme_response *resp)
{
	long long	s = resp->retry_after;

	if (s <= 0)
		return ARI_REFETCH_DEFAULT;
	if (s < ARI_REFETCH_MIN)
		return ARI_REFETCH_MIN;
	return s > ARI_REFETCH_MAX ? ARI_REFETCH_MAX : s;
}

int
ari_parse(const json_t *body, time_t *start, time_t *end)
{
	json_t	*w = json_object_get(body, "suggestedWindow");

	if (time_parse_rfc3339(json_string_value(json_object_get(w, "start")) ?
	    json_string_value(json_object_get(w, "start")) : "", start) == -1 ||
	    time_parse_rfc3339(json_string_value(json_object_get(w, "end")) ?
	    json_string_value(json_object_get(w, "end")) : "", end) == -1 ||
	    *end <= *start)
		return -1;
	return 0;
}

/* A new window: remembered, and the renewal moved into it. */
static void
ari_apply(struct cert *c, time_t start, time_t end, time_t next_fetch)
{
	struct log_tag	tag = ari_tag(c);
	time_t		now = time(NULL), when;
	char		s[RFC3339_LEN], e[RFC3339_LEN], w[RFC3339_LEN];
	bool		changed = !ari_window_known(c) ||
			    c->st.ari.start != start || c->st.ari.end != end;

	free(c->st.ari.serial);
	c->st.ari.serial = strdup(c->st.current.info.serial);
	c->st.ari.start = start;
	c->st.ari.end = end;
	c->st.ari.next_fetch = next_fetch;
	if (!ari_window_known(c)) {
		log_tagged(LOG_WARNING, &tag, "the CA's window ends after the "
		    "certificate expires; keeping the usual schedule");
		cert_save(c);
		return;
	}
	/* A renewal in flight or a backoff keeps its own timing. */
	if (c->job == NULL && !c->is_waiting && c->status == CERT_VALID) {
		when = ari_moment(c, now);
		if (when != c->st.next_renewal)
			cert_reschedule(c, when);
	}
	if (changed) {
		time_format_rfc3339(start, s);
		time_format_rfc3339(end, e);
		time_format_rfc3339(c->st.next_renewal, w);
		log_tagged(end <= now ? LOG_NOTICE : LOG_INFO, &tag,
		    "renewal window %s to %s%s; renewing at %s", s, e,
		    end <= now ? " (already past: renewing now)" : "", w);
	}
	cert_save(c);
}

static void
ari_got_cb(const struct acme_response *resp, void *arg)
{
	struct cert	*c = arg;
	struct log_tag	 tag = ari_tag(c);
	time_t		 start, end, now = time(NULL);

	c->ari_op = NULL;
	if (resp->error != NULL || resp->body == NULL ||
	    ari_parse(resp->body, &start, &end) == -1) {
		log_tagged(LOG_WARNING, &tag, "renewalInfo: %s; asking again "
		    "later", resp->error != NULL ? resp->error :
		    "no valid suggestedWindow in the answer");
		ari_arm(c, now + ARI_RETRY_ON_ERROR);
		return;
	}
	ari_apply(c, start, end, now + ari_refetch(resp));
	ari_arm(c, c->st.ari.next_fetch);
}

static void
ari_ready_cb(const struct acme_response *resp, void *arg)
{
	struct cert		*c = arg;
	struct acme_client	*ca = ari_ca(c);
	const char		*base;
	char			*url;
	size_t			 len;

	c->ari_op = NULL;
	if (resp->error != NULL || ca == NULL) {
		ari_arm(c, time(NULL) + ARI_RETRY_ON_ERROR);
		return;
	}
	if ((base = acme_client_url(ca, "renewalInfo")) == NULL) {
		log_tagged(LOG_DEBUG, &(struct log_tag){ .name = c->name,
		    .ca = acme_client_name(ca) }, "the CA offers no ARI; "
		    "renewing when a third of the lifetime is left");
		c->ari_unsupported = true;
		return;
	}
	len = strlen(base);
	url = xasprintf("%.*s/%s", (int)(len > 0 && base[len - 1] == '/' ?
	    len - 1 : len), base, c->st.current.info.ari_id);
	if (url != NULL)
		c->ari_op = acme_get(ca, ACME_EP_RENEWAL_INFO, url, ari_got_cb,
		    c);
	free(url);
	if (c->ari_op == NULL)
		ari_arm(c, time(NULL) + ARI_RETRY_ON_ERROR);
}

static void
ari_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cert		*c = arg;
	struct acme_client	*ca;

	if (c->ari_op != NULL || !c->have_cert ||
	    c->st.current.info.ari_id == NULL || (ca = ari_ca(c)) == NULL)
		return;
	/* The directory says whether the CA has renewalInfo at all. */
	c->ari_op = acme_client_ready(ca, ari_ready_cb, c);
}

void
ari_stop(struct cert *c)
{
	if (c->ari_timer != NULL)
		event_free(c->ari_timer);
	c->ari_timer = NULL;
	acme_op_cancel(c->ari_op);
	c->ari_op = NULL;
}

void
ari_watch(struct cert *c)
{
	ari_stop(c);
	if (!c->have_cert || c->st.current.info.ari_id == NULL ||
	    c->ari_unsupported)
		return;
	ari_arm(c, ari_window_known(c) ? c->st.ari.next_fetch : 0);
}
