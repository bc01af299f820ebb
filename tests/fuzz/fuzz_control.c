/*
 * libFuzzer target: the control protocol as the daemon reads it.  The
 * input is what one client sends on the socket: cut into lines at '\n' as
 * daemon/control.c does (a last line without one is still unfinished),
 * each line decoded and checked (daemon/control-request.c,
 * common/ctlproto.c) for a peer whose rights the first byte picks, and a
 * request that passes runs its command against a daemon with no
 * certificate and no CA, for the commands that need nothing more
 * (status, version, show, renew, revoke, rollover: their argument checks
 * and lookups).  reload and watch need a live daemon and client.
 *
 * Every line gets exactly one reply but a blank one, and every reply
 * encodes to one line of JSON that decodes back to an object.
 */
#include <config.h>	/* generated */

#include <sys/types.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ctlproto.h"
#include "log.h"
#include "daemon/control.h"
#include "daemon/daemon.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Commands that run with nothing but the empty lists of a daemon. */
static const char *const fuzz_runnable[] = {
	"status", "version", "show", "renew", "revoke", "rollover", NULL
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init("fuzz_control", LOG_TARGET_STDERR, LOG_ERR);
	return 0;
}

static bool
fuzz_runnable_cmd(const struct control_cmd *cmd)
{
	size_t	i;

	for (i = 0; fuzz_runnable[i] != NULL; i++)
		if (strcmp(cmd->name, fuzz_runnable[i]) == 0)
			return true;
	return false;
}

/* The reply goes out as one line of JSON that reads back as an object. */
static void
fuzz_check_reply(json_t *reply)
{
	json_t	*back;
	char	*line, *cause = NULL;
	size_t	 len;

	if (reply == NULL)
		abort();	/* only out of memory may do that */
	if (!json_is_boolean(json_object_get(reply, "ok")))
		abort();
	if ((line = ctlproto_encode(reply, CTL_MAX_REPLY)) == NULL)
		abort();
	len = strlen(line);
	if (len == 0 || line[len - 1] != '\n' ||
	    memchr(line, '\n', len - 1) != NULL)
		abort();
	if (len <= CTL_MAX_MESSAGE) {
		if ((back = ctlproto_decode(line, len - 1, CTL_MAX_REPLY, &cause)) == NULL)
			abort();
		json_decref(back);
	}
	free(cause);
	free(line);
}

static json_t *
fuzz_run(struct daemon *d, const struct control_request *req)
{
	enum ctl_error	 code = CTL_ERR_INTERNAL;
	json_t		*result, *reply;
	char		*cause = NULL;

	if (!fuzz_runnable_cmd(req->cmd))
		return ctlproto_ok(req->id, NULL);
	result = req->cmd->exec(d, NULL, req->args, &code, &cause);
	if (result == NULL) {
		if (cause == NULL)
			abort();	/* every failure says why */
		reply = ctlproto_error(req->id, code, "%s", cause);
	} else
		reply = ctlproto_ok(req->id, result);
	free(cause);
	return reply;
}

static void
fuzz_line(struct daemon *d, const struct control_peer *peer,
    const char *line, size_t len)
{
	struct control_request	 req;
	json_t			*reply = NULL;

	switch (control_request_parse(line, len, peer, &req, &reply)) {
	case 0:
		if (reply != NULL)
			abort();
		return;
	case 1:
		if (reply != NULL || req.cmd == NULL ||
		    !json_is_object(req.args))
			abort();
		reply = fuzz_run(d, &req);
		control_request_clear(&req);
		break;
	default:
		if (req.msg != NULL || req.args != NULL)
			abort();
		break;
	}
	fuzz_check_reply(reply);
	json_decref(reply);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct daemon		 d;
	struct control_peer	 peer;
	const char		*p, *end, *nl;

	if (size == 0)
		return 0;
	/* Root, the daemon's own user, a control-group member, anyone. */
	memset(&peer, 0, sizeof(peer));
	peer.pid = 4242;
	peer.self = 1000;
	peer.uid = (uid_t[]){ 0, 1000, 2000, 3000 }[data[0] & 3];
	peer.member = (data[0] & 3) == 2;
	data++;
	size--;

	memset(&d, 0, sizeof(d));
	TAILQ_INIT(&d.certs);
	TAILQ_INIT(&d.waiting);
	d.started = (time_t)1700000000;

	p = (const char *)data;
	end = p + size;
	while (p < end && (nl = memchr(p, '\n', end - p)) != NULL) {
		fuzz_line(&d, &peer, p, nl - p);
		p = nl + 1;
	}
	return 0;
}
