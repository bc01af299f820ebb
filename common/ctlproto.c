/*
 * Control protocol messages: building, encoding and decoding the JSON
 * objects of DESIGN.md "Control protocol".  See ctlproto.h.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctlproto.h"

const char *const ctl_error_names[CTL_ERR__MAX] = {
	[CTL_ERR_BAD_REQUEST] = "bad_request",
	[CTL_ERR_UNKNOWN_COMMAND] = "unknown_command",
	[CTL_ERR_NOT_FOUND] = "not_found",
	[CTL_ERR_PERMISSION_DENIED] = "permission_denied",
	[CTL_ERR_BUSY] = "busy",
	[CTL_ERR_INTERNAL] = "internal",
};

/*
 * A JSON string of s.  Messages may quote file names or peer input that is
 * not UTF-8; such bytes become '?' rather than losing the whole message.
 */
static json_t *
ctlproto_string(const char *s)
{
	json_t	*j;
	char	*copy = NULL;
	size_t	 i;

	if ((j = json_string(s)) != NULL)
		return j;
	if ((copy = strdup(s)) == NULL)
		return NULL;
	for (i = 0; copy[i] != '\0'; i++) {
		if ((unsigned char)copy[i] >= 0x80)
			copy[i] = '?';
	}
	j = json_string(copy);
	free(copy);
	return j;
}

json_t *
ctlproto_ok(json_t *id, json_t *result_take)
{
	if (result_take == NULL && (result_take = json_object()) == NULL)
		return NULL;
	return json_pack("{s:O?, s:b, s:o}", "id", id, "ok", 1,
	    "result", result_take);
}

json_t *
ctlproto_error(json_t *id, enum ctl_error code, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg = NULL;
	json_t	*jmsg = NULL, *reply = NULL;
	int	 n;

	if ((unsigned)code >= CTL_ERR__MAX)
		code = CTL_ERR_INTERNAL;
	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n == -1) {
		msg = NULL;
		goto out;
	}
	if ((jmsg = ctlproto_string(msg)) == NULL)
		goto out;
	reply = json_pack("{s:O?, s:b, s:{s:s, s:o}}", "id", id, "ok", 0,
	    "error", "code", ctl_error_names[code], "message", jmsg);
	jmsg = NULL;	/* stolen by json_pack, even on error */
out:
	json_decref(jmsg);
	free(msg);
	return reply;
}

json_t *
ctlproto_request(json_int_t id, const char *command, json_t *args_take)
{
	if (args_take == NULL && (args_take = json_object()) == NULL)
		return NULL;
	return json_pack("{s:I, s:s, s:o}", "id", id, "command", command,
	    "args", args_take);
}

char *
ctlproto_encode(const json_t *msg, size_t max)
{
	char	*body = NULL, *line = NULL;
	size_t	 len;

	if ((body = json_dumps(msg, JSON_COMPACT)) == NULL)
		goto out;
	len = strlen(body);
	if (len + 1 > max)
		goto out;
	if ((line = malloc(len + 2)) == NULL)
		goto out;
	memcpy(line, body, len);
	line[len] = '\n';
	line[len + 1] = '\0';
out:
	free(body);
	return line;
}

json_t *
ctlproto_decode(const char *line, size_t len, size_t max, char **cause)
{
	json_t		*msg = NULL;
	json_error_t	 jerr;

	*cause = NULL;
	if (len + 1 > max) {
		if (asprintf(cause, "message longer than %zu MiB",
		    max / (1024 * 1024)) == -1)
			*cause = NULL;
		return NULL;
	}
	if ((msg = json_loadb(line, len, 0, &jerr)) == NULL) {
		if (asprintf(cause, "invalid JSON at column %d: %s",
		    jerr.column, jerr.text) == -1)
			*cause = NULL;
		return NULL;
	}
	if (!json_is_object(msg)) {
		json_decref(msg);
		*cause = strdup("message is not a JSON object");
		return NULL;
	}
	return msg;
}

bool
ctlproto_allowed(uid_t peer, uid_t self, bool member, bool readonly)
{
	if (peer == 0 || peer == self)
		return true;
	return member && readonly;
}
