/*
 * The control commands (DESIGN.md "Control protocol"): one exec function
 * per command, all in control_cmds[].  control.c has already checked the
 * request's shape and the peer's rights when one of these runs.
 */
#include <config.h>	/* generated; "config.h" is daemon/config.h */

#include <sys/types.h>
#include <sys/queue.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ctlproto.h"
#include "timeutil.h"
#include "control.h"
#include "daemon.h"

static json_t	*control_cmd_status(struct daemon *, struct ctl_client *,
		    json_t *, enum ctl_error *, char **);
static json_t	*control_cmd_version(struct daemon *, struct ctl_client *,
		    json_t *, enum ctl_error *, char **);
static json_t	*control_cmd_watch(struct daemon *, struct ctl_client *,
		    json_t *, enum ctl_error *, char **);

const struct control_cmd control_cmds[] = {
	{ .name = "status", .readonly = true, .exec = control_cmd_status },
	{ .name = "version", .readonly = true, .exec = control_cmd_version },
	{ .name = "watch", .readonly = true, .exec = control_cmd_watch },
	{ .name = NULL }
};

/* An RFC 3339 string, or null for 0 ("never" / "not known"). */
static json_t *
control_cmd_time(time_t t)
{
	char	 buf[RFC3339_LEN];

	if (t == 0)
		return json_null();
	time_format_rfc3339(t, buf);
	return json_string(buf);
}

static json_t *
control_cmd_strlist(const struct strlist *sl)
{
	json_t	*a;
	size_t	 i;

	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < sl->n; i++) {
		if (json_array_append_new(a, json_string(sl->v[i])) == -1) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* One entry of `status` (a `show` can start from it). */
static json_t *
control_cmd_cert(const struct cert *c)
{
	return json_pack("{s:s, s:o, s:s, s:o, s:o, s:o, s:s?, s:I, s:s?}",
	    "name", c->name,
	    "domains", control_cmd_strlist(&c->conf->domains),
	    "state", cert_status_names[c->status],
	    "not_after", control_cmd_time(c->have_cert ? c->info.not_after : 0),
	    "next_renewal", control_cmd_time(c->st.next_renewal),
	    "last_success", control_cmd_time(c->st.last_success),
	    "last_error", c->st.last_error,
	    "failures", (json_int_t)c->st.failures,
	    "ca", cert_ca_name(c));
}

static json_t *
control_cmd_status(struct daemon *d, struct ctl_client *client, json_t *args,
    enum ctl_error *code, char **cause)
{
	struct cert	*c;
	json_t		*certs = NULL, *result = NULL;

	if ((certs = json_array()) == NULL)
		goto out;
	TAILQ_FOREACH(c, &d->certs, entry) {
		if (json_array_append_new(certs, control_cmd_cert(c)) == -1)
			goto out;
	}
	result = json_pack("{s:O}", "certificates", certs);
out:
	json_decref(certs);
	if (result == NULL) {
		*code = CTL_ERR_INTERNAL;
		*cause = strdup("cannot build the status (out of memory?)");
	}
	return result;
}

static json_t *
control_cmd_version(struct daemon *d, struct ctl_client *client, json_t *args,
    enum ctl_error *code, char **cause)
{
	json_t	*result;

	result = json_pack("{s:s, s:I, s:o}",
	    "version", PACKAGE_VERSION,
	    "pid", (json_int_t)getpid(),
	    "started", control_cmd_time(d->started));
	if (result == NULL) {
		*code = CTL_ERR_INTERNAL;
		*cause = strdup("cannot build the version (out of memory?)");
	}
	return result;
}

static json_t *
control_cmd_watch(struct daemon *d, struct ctl_client *client, json_t *args,
    enum ctl_error *code, char **cause)
{
	json_t	*result;

	if ((result = json_pack("{s:b}", "watching", 1)) == NULL) {
		*code = CTL_ERR_INTERNAL;
		*cause = strdup("out of memory");
		return NULL;
	}
	/* The reply is queued before any event: the loop has one thread. */
	control_client_watch(client);
	return result;
}
