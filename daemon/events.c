/* Certificate events and their listeners; see events.h. */
#include <config.h>

#include <string.h>

#include "events.h"

int
events_listen(struct cert_listeners *ls, cert_listener_fn fn, void *arg)
{
	if (ls->n == EVENTS_LISTENERS_MAX)
		return -1;
	ls->l[ls->n].fn = fn;
	ls->l[ls->n].arg = arg;
	ls->n++;
	return 0;
}

void
events_unlisten(struct cert_listeners *ls, cert_listener_fn fn, void *arg)
{
	size_t	i;

	for (i = 0; i < ls->n; i++) {
		if (ls->l[i].fn == fn && ls->l[i].arg == arg) {
			memmove(&ls->l[i], &ls->l[i + 1],
			    (ls->n - i - 1) * sizeof(ls->l[0]));
			ls->n--;
			return;
		}
	}
}

void
events_fire(const struct cert_listeners *ls, const struct cert_event *ev)
{
	size_t	i;

	for (i = 0; i < ls->n; i++)
		ls->l[i].fn(ev, ls->l[i].arg);
}
