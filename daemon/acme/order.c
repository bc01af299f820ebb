/*
 * The order (RFC 8555 §7.1.3) and authorization (§7.1.4) objects, read
 * into what the renewal state machine (daemon/renewal.c) acts on.  The
 * checks that make an answer unusable stay with the state machine, which
 * says why in the renewal's error.
 */
#include <config.h>

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <jansson.h>

#include "acme.h"

static const char *
order_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

void
acme_order_parse(const json_t *body, struct acme_order *o)
{
	json_t	*list = json_object_get(body, "authorizations");
	json_t	*v;
	size_t	 i;

	memset(o, 0, sizeof(*o));
	o->status = order_str(body, "status");
	o->finalize = order_str(body, "finalize");
	o->certificate = order_str(body, "certificate");
	if (!json_is_array(list))
		return;
	o->authz = list;
	o->nauthz = json_array_size(list);
	json_array_foreach(list, i, v) {
		if (!json_is_string(v))
			o->authz_bad = true;
	}
}

void
acme_authz_parse(const json_t *body, const char *want, struct acme_authz *a)
{
	json_t		*challenges = json_object_get(body, "challenges");
	json_t		*ch;
	const char	*type;
	size_t		 i;

	memset(a, 0, sizeof(*a));
	a->status = order_str(body, "status");
	a->identifier = order_str(json_object_get(body, "identifier"),
	    "value");
	json_array_foreach(challenges, i, ch) {
		if ((type = order_str(ch, "type")) != NULL &&
		    strcmp(type, want) == 0) {
			a->token = order_str(ch, "token");
			a->chall_url = order_str(ch, "url");
			break;
		}
	}
	json_array_foreach(challenges, i, ch) {
		if ((a->problem = order_str(json_object_get(ch, "error"),
		    "detail")) != NULL)
			break;
	}
}
