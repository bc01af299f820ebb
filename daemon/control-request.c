/*
 * One control request line, from bytes to the command to run: decoding,
 * its shape ("command" a string, "args" an object or absent) and the
 * peer's rights.  Nothing here touches a socket or the daemon, so it runs
 * as well under a fuzzer (tests/fuzz/fuzz_control.c) as in control.c.
 */
#include <config.h>	/* generated; "config.h" is daemon/config.h */

#include <sys/types.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctlproto.h"
#include "log.h"
#include "control.h"

const struct control_cmd *
control_cmd_find(const char *name)
{
	const struct control_cmd	*cmd;

	for (cmd = control_cmds; cmd->name != NULL; cmd++) {
		if (strcmp(cmd->name, name) == 0)
			return cmd;
	}
	return NULL;
}

static json_t *
control_denied(const struct control_peer *peer, const char *name, json_t *id)
{
	log_info("control: '%.64s' refused to pid %ld uid %lu", name,
	    (long)peer->pid, (unsigned long)peer->uid);
	if (!peer->member) {
		return ctlproto_error(id, CTL_ERR_PERMISSION_DENIED,
		    "permission denied: uid %lu is neither root nor a member "
		    "of the control group", (unsigned long)peer->uid);
	}
	return ctlproto_error(id, CTL_ERR_PERMISSION_DENIED,
	    "permission denied: only root may run '%.64s'", name);
}

/* The args member as a new reference: {} when absent or null. */
static json_t *
control_request_args(json_t *msg, json_t *id, json_t **reply)
{
	json_t	*args = json_object_get(msg, "args");

	if (args == NULL || json_is_null(args))
		return json_object();	/* NULL: out of memory, no reply */
	if (json_is_object(args))
		return json_incref(args);
	*reply = ctlproto_error(id, CTL_ERR_BAD_REQUEST,
	    "\"args\" is not an object");
	return NULL;
}

int
control_request_parse(const char *line, size_t len,
    const struct control_peer *peer, struct control_request *req,
    json_t **reply)
{
	const char	*name;
	char		*cause = NULL;

	memset(req, 0, sizeof(*req));
	*reply = NULL;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return 0;	/* a blank line is no request */
	if ((req->msg = ctlproto_decode(line, len, CTL_MAX_MESSAGE, &cause)) == NULL) {
		*reply = ctlproto_error(NULL, CTL_ERR_BAD_REQUEST, "%s",
		    cause != NULL ? cause : "cannot decode the request");
		goto fail;
	}
	req->id = json_object_get(req->msg, "id");
	if ((name = json_string_value(json_object_get(req->msg,
	    "command"))) == NULL) {
		*reply = ctlproto_error(req->id, CTL_ERR_BAD_REQUEST,
		    "\"command\" is missing or not a string");
		goto fail;
	}
	/* Neither root nor a member: nothing, not even a known name. */
	if (!ctlproto_allowed(peer->uid, peer->self, peer->member, true)) {
		*reply = control_denied(peer, name, req->id);
		goto fail;
	}
	if ((req->cmd = control_cmd_find(name)) == NULL) {
		*reply = ctlproto_error(req->id, CTL_ERR_UNKNOWN_COMMAND,
		    "unknown command '%.64s'", name);
		goto fail;
	}
	if ((req->args = control_request_args(req->msg, req->id,
	    reply)) == NULL)
		goto fail;
	if (!ctlproto_allowed(peer->uid, peer->self, peer->member,
	    req->cmd->readonly)) {
		*reply = control_denied(peer, req->cmd->name, req->id);
		goto fail;
	}
	return 1;
fail:
	free(cause);
	control_request_clear(req);
	return -1;
}

void
control_request_clear(struct control_request *req)
{
	json_decref(req->args);
	json_decref(req->msg);
	memset(req, 0, sizeof(*req));
}
