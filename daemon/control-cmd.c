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
#include "util.h"
#include "timeutil.h"
#include "admin.h"
#include "ari.h"
#include "control.h"
#include "daemon.h"

static json_t	*control_cmd_status(struct daemon *, struct ctl_client *,
		    json_t *, enum ctl_error *, char **);
static json_t	*control_cmd_version(struct daemon *, struct ctl_client *,
		    json_t *, enum ctl_error *, char **);
static json_t	*control_cmd_watch(struct daemon *, struct ctl_client *,
		    json_t *, enum ctl_error *, char **);
static json_t	*control_cmd_reload(struct daemon *, struct ctl_client *,
		    json_t *, enum ctl_error *, char **);
static json_t	*control_cmd_renew(struct daemon *, struct ctl_client *,
		    json_t *, enum ctl_error *, char **);
static json_t	*control_cmd_show(struct daemon *, struct ctl_client *,
		    json_t *, enum ctl_error *, char **);
static json_t	*control_cmd_revoke(struct daemon *, struct ctl_client *,
		    json_t *, enum ctl_error *, char **);
static json_t	*control_cmd_rollover(struct daemon *, struct ctl_client *,
		    json_t *, enum ctl_error *, char **);

const struct control_cmd control_cmds[] = {
	{ .name = "status", .readonly = true, .exec = control_cmd_status },
	{ .name = "version", .readonly = true, .exec = control_cmd_version },
	{ .name = "watch", .readonly = true, .exec = control_cmd_watch },
	{ .name = "reload", .readonly = false, .exec = control_cmd_reload },
	{ .name = "renew", .readonly = false, .exec = control_cmd_renew },
	{ .name = "show", .readonly = true, .exec = control_cmd_show },
	{ .name = "revoke", .readonly = false, .exec = control_cmd_revoke },
	{ .name = "rollover", .readonly = false, .exec = control_cmd_rollover },
	{ .name = NULL }
};

/* One entry of `status` (a `show` can start from it). */
static json_t *
control_cmd_cert(const struct cert *c)
{
	return json_pack("{s:s, s:o, s:s, s:o, s:o, s:o, s:s?, s:I, s:s?}",
	    "name", c->name,
	    "domains", strlist_to_json(&c->conf->domains),
	    "state", cert_status_names[c->status],
	    "not_after", time_json(c->have_cert ?
	    c->st.current.info.not_after : 0),
	    "next_renewal", time_json(c->st.next_renewal),
	    "last_success", time_json(c->st.last_success),
	    "last_error", c->st.last_error,
	    "failures", (json_int_t)c->st.failures,
	    /* The CA of the certificate in service; before the first, the
	     * one the next attempt goes to. */
	    "ca", c->have_cert && c->st.ca != NULL ? c->st.ca :
	    cert_ca_name(c));
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
	    "started", time_json(d->started));
	if (result == NULL) {
		*code = CTL_ERR_INTERNAL;
		*cause = strdup("cannot build the version (out of memory?)");
	}
	return result;
}

/*
 * A configuration with errors is refused as a whole: bad_request, with
 * every "file:line: key: reason" in the message, one per line.
 */
static json_t *
control_cmd_reload(struct daemon *d, struct ctl_client *client, json_t *args,
    enum ctl_error *code, char **cause)
{
	struct config_errors	 errs = { NULL, 0 };
	char			*msg = NULL, *next;
	size_t			 i;

	if (daemon_reload(d, &errs) == 0)
		return json_pack("{s:I}", "certificates",
		    (json_int_t)daemon_count_certs(d));
	*code = CTL_ERR_BAD_REQUEST;
	msg = strdup("configuration refused, the running one stays:");
	for (i = 0; i < errs.count && msg != NULL; i++) {
		next = xasprintf("%s\n%s", msg, errs.msg[i]);
		free(msg);
		msg = next;
	}
	*cause = msg;
	config_errors_clear(&errs);
	return NULL;
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

/*
 * renew {name, force, wait}: starts a renewal now.  Without force, a
 * valid certificate that is not yet due is left alone.  With wait, the
 * reply comes when the renewal ends ({"outcome": "success"|"failure"}),
 * after a "renewal" event per phase.
 */
static json_t *
control_cmd_renew(struct daemon *d, struct ctl_client *client, json_t *args,
    enum ctl_error *code, char **cause)
{
	struct cert	*c;
	const char	*name = NULL;
	int		 force = 0, wait = 0;
	json_error_t	 err;
	char		 due[RFC3339_LEN];

	if (json_unpack_ex(args, &err, 0, "{s:s, s?b, s?b}", "name", &name,
	    "force", &force, "wait", &wait) == -1) {
		*code = CTL_ERR_BAD_REQUEST;
		*cause = xasprintf("renew: %s", err.text);
		return NULL;
	}
	if ((c = daemon_cert(d, name)) == NULL) {
		*code = CTL_ERR_NOT_FOUND;
		*cause = xasprintf("no certificate named '%s'", name);
		return NULL;
	}
	if (c->job == NULL && !c->is_waiting && !force &&
	    c->status == CERT_VALID && c->st.next_renewal > time(NULL)) {
		time_format_rfc3339(c->st.next_renewal, due);
		return json_pack("{s:s, s:b, s:s, s:s}", "name", c->name,
		    "started", 0, "reason", "valid and not due; use force",
		    "next_renewal", due);
	}
	if (c->job == NULL && !c->is_waiting && cert_renew_now(c) == -1) {
		*code = CTL_ERR_BUSY;
		*cause = xasprintf("'%s' cannot be renewed now (shutting down)",
		    name);
		return NULL;
	}
	if (!wait)
		return json_pack("{s:s, s:b}", "name", c->name, "started", 1);
	/* The renewal may already be over (it failed to start at all). */
	if (c->job == NULL && !c->is_waiting)
		return json_pack("{s:s, s:s, s:s, s:s?}", "name", c->name,
		    "outcome", c->st.failures > 0 ? "failure" : "success",
		    "state", cert_status_names[c->status],
		    "error", c->st.last_error);
	if (control_wait(d->control, c->name, control_client_id(client),
	    control_client_request_id(client)) == -1) {
		*code = CTL_ERR_INTERNAL;
		*cause = xasprintf("out of memory");
		return NULL;
	}
	control_client_defer(client);
	return NULL;
}

static json_t *
control_cmd_history(const struct cert_state *st)
{
	json_t	*a, *h;
	size_t	 i;

	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < st->nhistory; i++) {
		h = json_pack("{s:o, s:o, s:b, s:s?, s:s?, s:s?}",
		    "started", time_json(st->history[i].started),
		    "finished", time_json(st->history[i].finished),
		    "ok", st->history[i].ok, "ca", st->history[i].ca,
		    "phase", st->history[i].phase,
		    "error", st->history[i].error);
		if (h == NULL || json_array_append_new(a, h) == -1) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/* The CA's suggested renewal window for the certificate in service. */
static json_t *
control_cmd_ari(const struct cert *c)
{
	if (!ari_window_known(c))
		return json_null();
	return json_pack("{s:o, s:o, s:o}",
	    "start", time_json(c->st.ari.start),
	    "end", time_json(c->st.ari.end),
	    "next_fetch", time_json(c->st.ari.next_fetch));
}

/* show {name}: status fields plus the certificate, history and hooks. */
static json_t *
control_cmd_show(struct daemon *d, struct ctl_client *client, json_t *args,
    enum ctl_error *code, char **cause)
{
	struct cert		*c;
	const struct certinfo	*ci;
	const char		*name = NULL;
	json_t			*result, *cert, *deploy;
	char			 kind[32];
	json_error_t		 err;

	if (json_unpack_ex(args, &err, 0, "{s:s}", "name", &name) == -1) {
		*code = CTL_ERR_BAD_REQUEST;
		*cause = xasprintf("show: %s", err.text);
		return NULL;
	}
	if ((c = daemon_cert(d, name)) == NULL) {
		*code = CTL_ERR_NOT_FOUND;
		*cause = xasprintf("no certificate named '%s'", name);
		return NULL;
	}
	if ((result = control_cmd_cert(c)) == NULL)
		goto nomem;
	ci = &c->st.current.info;
	key_spec_format(&c->conf->key, kind, sizeof(kind));
	cert = c->have_cert ? json_pack("{s:s, s:s, s:o, s:o, s:o, s:i}",
	    "serial", ci->serial, "issuer", ci->issuer,
	    "not_before", time_json(ci->not_before),
	    "not_after", time_json(ci->not_after),
	    "names", strlist_to_json(&ci->names),
	    "version", c->st.current.version) : json_null();
	deploy = json_pack("{s:b, s:i, s:i, s:o, s:s?}",
	    "pending", c->st.deploy.pending, "version", c->st.deploy.version,
	    "failures", (int)c->st.deploy.failures,
	    "next", time_json(c->st.deploy.next),
	    "last_error", c->st.deploy.last_error);
	if (cert == NULL || deploy == NULL ||
	    json_object_set_new(result, "certificate", cert) == -1 ||
	    json_object_set_new(result, "key_type", json_string(kind)) == -1 ||
	    json_object_set_new(result, "challenge", json_string(
	    challenge_type_names[c->conf->challenge])) == -1 ||
	    json_object_set_new(result, "ari_window",
	    control_cmd_ari(c)) == -1 ||
	    json_object_set_new(result, "next_ca",
	    json_string(cert_ca_name(c))) == -1 ||
	    json_object_set_new(result, "deploy", deploy) == -1 ||
	    json_object_set_new(result, "history",
	    control_cmd_history(&c->st)) == -1) {
		json_decref(result);
		goto nomem;
	}
	if (c->have_cert) {
		key_spec_format(&ci->key, kind, sizeof(kind));
		json_object_set_new(cert, "key_type", json_string(kind));
	}
	return result;
nomem:
	*code = CTL_ERR_INTERNAL;
	*cause = xasprintf("out of memory");
	return NULL;
}

/* A request answered later, when an admin action (admin.h) is over. */
struct control_cmd_later {
	struct daemon	*d;
	uint64_t	 client;
	json_t		*id;
	enum ctl_error	 code;		/* of a failure */
};

static void
control_cmd_later_cb(json_t *result, const char *error, void *arg)
{
	struct control_cmd_later	*l = arg;
	json_t				*reply;

	if (result != NULL)
		reply = ctlproto_ok(l->id, result);
	else
		reply = ctlproto_error(l->id, l->code, "%s", error);
	if (reply != NULL) {
		control_send(l->d->control, l->client, reply);
		json_decref(reply);
	}
	json_decref(l->id);
	free(l);
}

/* The client's request, to answer later; NULL when out of memory. */
static struct control_cmd_later *
control_cmd_later(struct daemon *d, struct ctl_client *client)
{
	struct control_cmd_later	*l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->d = d;
	l->client = control_client_id(client);
	l->id = json_incref(control_client_request_id(client));
	l->code = CTL_ERR_INTERNAL;
	return l;
}

static void
control_cmd_later_free(struct control_cmd_later *l)
{
	json_decref(l->id);
	free(l);
}

/* revoke {name, reason}: answered once the CA has revoked it. */
static json_t *
control_cmd_revoke(struct daemon *d, struct ctl_client *client, json_t *args,
    enum ctl_error *code, char **cause)
{
	struct control_cmd_later	*later;
	const char			*name = NULL, *reason = NULL;
	int				 rc;
	json_error_t			 err;

	if (json_unpack_ex(args, &err, 0, "{s:s, s?s}", "name", &name,
	    "reason", &reason) == -1) {
		*code = CTL_ERR_BAD_REQUEST;
		*cause = xasprintf("revoke: %s", err.text);
		return NULL;
	}
	if (reason != NULL && (rc = admin_reason_code(reason)) == -1) {
		*code = CTL_ERR_BAD_REQUEST;
		*cause = xasprintf("revoke: unknown reason '%s' (RFC 5280 names:"
		    " unspecified, keyCompromise, cACompromise, "
		    "affiliationChanged, superseded, cessationOfOperation, "
		    "certificateHold, privilegeWithdrawn, aACompromise)", reason);
		return NULL;
	}
	if (daemon_cert(d, name) == NULL) {
		*code = CTL_ERR_NOT_FOUND;
		*cause = xasprintf("no certificate named '%s'", name);
		return NULL;
	}
	if ((later = control_cmd_later(d, client)) == NULL) {
		*code = CTL_ERR_INTERNAL;
		*cause = xasprintf("out of memory");
		return NULL;
	}
	if (admin_revoke(d, name, reason != NULL ? admin_reason_code(reason) :
	    -1, control_cmd_later_cb, later, cause) == -1) {
		control_cmd_later_free(later);
		*code = CTL_ERR_BAD_REQUEST;
		return NULL;
	}
	control_client_defer(client);
	return NULL;
}

/* rollover {ca}: answered once the CA has accepted the new key. */
static json_t *
control_cmd_rollover(struct daemon *d, struct ctl_client *client,
    json_t *args, enum ctl_error *code, char **cause)
{
	struct control_cmd_later	*later;
	const char			*ca = NULL;
	json_error_t			 err;

	if (json_unpack_ex(args, &err, 0, "{s:s}", "ca", &ca) == -1) {
		*code = CTL_ERR_BAD_REQUEST;
		*cause = xasprintf("rollover: %s", err.text);
		return NULL;
	}
	if (daemon_ca(d, ca) == NULL) {
		*code = CTL_ERR_NOT_FOUND;
		*cause = xasprintf("no CA named '%s'", ca);
		return NULL;
	}
	if ((later = control_cmd_later(d, client)) == NULL) {
		*code = CTL_ERR_INTERNAL;
		*cause = xasprintf("out of memory");
		return NULL;
	}
	if (admin_rollover(d, ca, control_cmd_later_cb, later, cause) == -1) {
		control_cmd_later_free(later);
		*code = CTL_ERR_INTERNAL;
		return NULL;
	}
	control_client_defer(client);
	return NULL;
}
