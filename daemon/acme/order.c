/*
 * The order (RFC 8555 §7.1.3), authorization (§7.1.4) and challenge
 * (§7.1.5) objects, read into what the renewal state machine
 * (daemon/renewal.c) acts on.  The checks that make an answer unusable
 * stay with the state machine, which says why in the renewal's error.
 */
#include <config.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util.h"
#include "acme.h"

static const char *
order_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* A problem document's type and detail (RFC 7807), where there is one. */
static void
order_problem(const json_t *error, const char **type, const char **detail)
{
	*type = order_str(error, "type");
	*detail = order_str(error, "detail");
}

void
acme_order_parse(const json_t *body, struct acme_order *o)
{
	json_t	*list = json_object_get(body, "authorizations");
	json_t	*ids = json_object_get(body, "identifiers");
	json_t	*v;
	size_t	 i;

	memset(o, 0, sizeof(*o));
	o->status = order_str(body, "status");
	o->finalize = order_str(body, "finalize");
	o->certificate = order_str(body, "certificate");
	order_problem(json_object_get(body, "error"), &o->problem_type,
	    &o->problem);
	if (json_is_array(ids))
		o->identifiers = ids;
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
	json_t		*ch, *mine = NULL;
	const char	*type;
	size_t		 i;

	memset(a, 0, sizeof(*a));
	a->status = order_str(body, "status");
	a->identifier = order_str(json_object_get(body, "identifier"),
	    "value");
	a->wildcard = json_is_true(json_object_get(body, "wildcard"));
	if (!json_is_array(challenges))
		return;
	a->challenges = challenges;
	json_array_foreach(challenges, i, ch) {
		if ((type = order_str(ch, "type")) != NULL &&
		    strcmp(type, want) == 0) {
			mine = ch;
			a->token = order_str(ch, "token");
			a->chall_url = order_str(ch, "url");
			a->chall_status = order_str(ch, "status");
			break;
		}
	}
	/* Why it failed: our challenge's error, else any other's. */
	order_problem(json_object_get(mine, "error"), &a->problem_type,
	    &a->problem);
	json_array_foreach(challenges, i, ch) {
		if (a->problem != NULL || a->problem_type != NULL)
			break;
		order_problem(json_object_get(ch, "error"), &a->problem_type,
		    &a->problem);
	}
}

void
acme_challenge_parse(const json_t *body, struct acme_challenge *c)
{
	memset(c, 0, sizeof(*c));
	c->status = order_str(body, "status");
	order_problem(json_object_get(body, "error"), &c->problem_type,
	    &c->problem);
}

/* Whether names holds an identifier {type, value} of an order. */
static bool
identifier_asked(const json_t *id, const struct strlist *names)
{
	const char	*type = order_str(id, "type");
	const char	*value = order_str(id, "value");
	size_t		 i;

	if (type == NULL || value == NULL)
		return false;
	for (i = 0; i < names->n; i++) {
		if (strcasecmp(value, names->v[i]) == 0 &&
		    strcmp(type, acme_is_ip(names->v[i]) ? "ip" : "dns") == 0)
			return true;
	}
	return false;
}

bool
acme_identifiers_match(const json_t *identifiers, const struct strlist *names)
{
	const json_t	*id;
	size_t		 i, j;

	if (!json_is_array(identifiers) ||
	    json_array_size(identifiers) != names->n)
		return false;
	json_array_foreach(identifiers, i, id) {
		if (!identifier_asked(id, names))
			return false;
		/* Each once: n of them, none twice, so every name is there. */
		for (j = 0; j < i; j++)
			if (json_equal(json_array_get(identifiers, j), id))
				return false;
	}
	return true;
}

/* The string members key of the array's objects, joined by ", ". */
static char *
order_join(const json_t *array, const char *key)
{
	const json_t	*v;
	const char	*s;
	char		*out, *next;
	size_t		 i;

	if ((out = strdup("")) == NULL)
		return NULL;
	json_array_foreach(array, i, v) {
		s = order_str(v, key);
		next = xasprintf("%s%s%s", out, *out != '\0' ? ", " : "",
		    s != NULL ? s : "?");
		free(out);
		if ((out = next) == NULL)
			return NULL;
	}
	return out;
}

char *
acme_identifiers_list(const json_t *identifiers)
{
	return order_join(identifiers, "value");
}

char *
acme_challenge_types(const json_t *challenges)
{
	return order_join(challenges, "type");
}
