/* Per-certificate counters from certificate events; see counters.h. */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "log.h"
#include "cert.h"
#include "counters.h"
#include "events.h"

struct counters {
	json_t			*index;	/* name -> its slot in counts */
	struct cert_counts	*counts;
	size_t			 n, cap;
};

/* name's counts, made at its first event; NULL when out of memory. */
static struct cert_counts *
counters_slot(struct counters *k, const char *name)
{
	struct cert_counts	*v;
	json_t			*i;
	size_t			 cap;

	if ((i = json_object_get(k->index, name)) != NULL)
		return &k->counts[json_integer_value(i)];
	if (k->n == k->cap) {
		cap = k->cap == 0 ? 16 : k->cap * 2;
		if ((v = reallocarray(k->counts, cap, sizeof(*v))) == NULL)
			return NULL;
		k->counts = v;
		k->cap = cap;
	}
	if (json_object_set_new(k->index, name,
	    json_integer((json_int_t)k->n)) == -1)
		return NULL;
	memset(&k->counts[k->n], 0, sizeof(k->counts[0]));
	return &k->counts[k->n++];
}

static void
counters_event_cb(const struct cert_event *ev, void *arg)
{
	struct counters		*k = arg;
	struct cert_counts	*c;

	if (ev->kind == CERT_EV_PHASE ||
	    (ev->kind == CERT_EV_OUTCOME && ev->abandoned))
		return;
	if ((c = counters_slot(k, ev->cert->name)) == NULL) {
		log_warnx("metrics: out of memory; an event is not counted");
		return;
	}
	switch (ev->kind) {
	case CERT_EV_OUTCOME:
		c->renewals[ev->ok ? 1 : 0]++;
		break;
	case CERT_EV_STORAGE_ERROR:
		c->storage_errors++;
		break;
	case CERT_EV_HOOK:
		if (ev->hook >= 0 && ev->hook < HOOK__MAX)
			c->hook_runs[ev->hook][ev->ok ? 1 : 0]++;
		break;
	default:
		break;
	}
}

struct counters *
counters_new(struct cert_listeners *ls)
{
	struct counters	*k;

	if ((k = calloc(1, sizeof(*k))) == NULL)
		return NULL;
	if ((k->index = json_object()) == NULL ||
	    events_listen(ls, counters_event_cb, k) == -1) {
		json_decref(k->index);
		free(k);
		return NULL;
	}
	return k;
}

void
counters_free(struct counters *k, struct cert_listeners *ls)
{
	if (k == NULL)
		return;
	events_unlisten(ls, counters_event_cb, k);
	json_decref(k->index);
	free(k->counts);
	free(k);
}

const struct cert_counts *
counters_get(const struct counters *k, const char *name)
{
	json_t	*i;

	if (k == NULL || (i = json_object_get(k->index, name)) == NULL)
		return NULL;
	return &k->counts[json_integer_value(i)];
}
