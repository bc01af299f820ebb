/*
 * acmectl's side of the control socket: connect, send one request, read
 * lines until its reply.  Blocking, with a receive timeout.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "ctlproto.h"
#include "ctl.h"

#define CLIENT_BUFSIZE	65536

/* Why connecting failed, in words an operator can act on. */
static const char *
client_hint(int error)
{
	switch (error) {
	case ENOENT:
	case ECONNREFUSED:
		return " (is acme-renewd running?)";
	case EACCES:
	case EPERM:
		return " (root and the control-group may connect)";
	default:
		return "";
	}
}

static void
client_apply_timeout(struct ctl *ctl)
{
	struct timeval	 tv = { .tv_sec = ctl->timeout, .tv_usec = 0 };

	if (ctl->fd == -1)
		return;
	/* Failing to set a timeout only means waiting longer. */
	(void)setsockopt(ctl->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	(void)setsockopt(ctl->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

void
client_timeout(struct ctl *ctl, int secs)
{
	ctl->timeout = secs;
	client_apply_timeout(ctl);
}

static enum ctl_exit
client_connect(struct ctl *ctl)
{
	struct sockaddr_un	 sun;
	int			 error;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(ctl->socket_path) >= sizeof sun.sun_path) {
		ctl_warnx("socket path too long: %s", ctl->socket_path);
		return CTL_EXIT_USAGE;
	}
	strcpy(sun.sun_path, ctl->socket_path);
	if ((ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		ctl_warnx("socket: %s", strerror(errno));
		return CTL_EXIT_UNREACHABLE;
	}
	client_apply_timeout(ctl);	/* SO_SNDTIMEO bounds connect() too */
	if (connect(ctl->fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		error = errno;
		ctl_warnx("cannot connect to %s: %s%s", ctl->socket_path,
		    error == EAGAIN ? "the daemon does not answer" :
		    strerror(error), client_hint(error));
		client_close(ctl);
		return CTL_EXIT_UNREACHABLE;
	}
	return CTL_EXIT_OK;
}

static enum ctl_exit
client_send(struct ctl *ctl, const char *line)
{
	size_t	 off = 0, len = strlen(line);
	ssize_t	 n;

	while (off < len) {
		if ((n = send(ctl->fd, line + off, len - off, MSG_NOSIGNAL)) ==
		    -1) {
			if (errno == EINTR)
				continue;
			ctl_warnx("cannot send to %s: %s", ctl->socket_path,
			    errno == EAGAIN ? "timed out" : strerror(errno));
			return CTL_EXIT_UNREACHABLE;
		}
		off += n;
	}
	return CTL_EXIT_OK;
}

/* Reads until ctl->buf holds a '\n'; returns its offset, or -1. */
static ssize_t
client_fill(struct ctl *ctl)
{
	char	*nl, *tmp;
	size_t	 scanned = 0, size;
	ssize_t	 n;

	for (;;) {
		if (ctl->len > scanned && (nl = memchr(ctl->buf + scanned, '\n',
		    ctl->len - scanned)) != NULL)
			break;
		scanned = ctl->len;
		if (ctl->len >= CTL_MAX_REPLY) {
			ctl_warnx("%s: a message longer than 64 MiB",
			    ctl->socket_path);
			return -1;
		}
		if (ctl->len == ctl->size) {
			size = ctl->size == 0 ? CLIENT_BUFSIZE : ctl->size * 2;
			if (size > CTL_MAX_REPLY)
				size = CTL_MAX_REPLY;
			if ((tmp = realloc(ctl->buf, size)) == NULL) {
				ctl_warnx("out of memory");
				return -1;
			}
			ctl->buf = tmp;
			ctl->size = size;
		}
		n = recv(ctl->fd, ctl->buf + ctl->len, ctl->size - ctl->len, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			ctl_warnx("%s: no reply within %d seconds",
			    ctl->socket_path, ctl->timeout);
			return -1;
		}
		if (n == -1) {
			ctl_warnx("%s: %s", ctl->socket_path, strerror(errno));
			return -1;
		}
		if (n == 0) {
			ctl_warnx("%s: the daemon closed the connection",
			    ctl->socket_path);
			return -1;
		}
		ctl->len += n;
	}
	return nl - ctl->buf;
}

enum ctl_exit
client_read(struct ctl *ctl, json_t **msg)
{
	char	*cause = NULL;
	ssize_t	 nl;

	*msg = NULL;
	if (ctl->fd == -1 || (nl = client_fill(ctl)) == -1)
		return CTL_EXIT_UNREACHABLE;
	*msg = ctlproto_decode(ctl->buf, nl, CTL_MAX_REPLY, &cause);
	ctl->len -= nl + 1;
	memmove(ctl->buf, ctl->buf + nl + 1, ctl->len);
	if (*msg == NULL) {
		ctl_warnx("%s: a bad message: %s", ctl->socket_path,
		    cause != NULL ? cause : "out of memory");
		free(cause);
		return CTL_EXIT_UNREACHABLE;
	}
	return CTL_EXIT_OK;
}

/* Whether msg is the reply to request id (or to a line it could not read). */
static bool
client_is_reply(const json_t *msg, json_int_t id)
{
	const json_t	*jid;

	if (json_object_get(msg, "ok") == NULL)
		return false;	/* an event */
	jid = json_object_get(msg, "id");
	if (jid == NULL || json_is_null(jid))
		return true;
	return json_is_integer(jid) && json_integer_value(jid) == id;
}

static enum ctl_exit
client_error(const json_t *msg)
{
	const json_t	*err = json_object_get(msg, "error");
	const char	*code, *text;

	if ((code = json_string_value(json_object_get(err, "code"))) == NULL)
		code = "internal";
	if ((text = json_string_value(json_object_get(err, "message"))) ==
	    NULL)
		text = "(no message)";
	ctl_warnx("%s: %s", code, text);
	return CTL_EXIT_FAILED;
}

enum ctl_exit
client_call(struct ctl *ctl, const char *command, json_t *args_take,
    void (*event_cb)(struct ctl *, json_t *), json_t **result)
{
	json_t		*req = NULL, *msg = NULL, *res;
	char		*line = NULL;
	json_int_t	 id;
	enum ctl_exit	 rc;

	*result = NULL;
	if (ctl->fd == -1 && (rc = client_connect(ctl)) != CTL_EXIT_OK) {
		json_decref(args_take);
		goto out;
	}
	id = ctl->next_id++;
	rc = CTL_EXIT_FAILED;
	if ((req = ctlproto_request(id, command, args_take)) == NULL) {
		ctl_warnx("cannot build the request");
		goto out;
	}
	if ((line = ctlproto_encode(req, CTL_MAX_MESSAGE)) == NULL) {
		ctl_warnx("the request is longer than 1 MiB");
		rc = CTL_EXIT_USAGE;
		goto out;
	}
	if ((rc = client_send(ctl, line)) != CTL_EXIT_OK)
		goto out;
	for (;;) {
		if ((rc = client_read(ctl, &msg)) != CTL_EXIT_OK)
			goto out;
		if (client_is_reply(msg, id))
			break;
		if (event_cb != NULL && json_object_get(msg, "event") != NULL)
			event_cb(ctl, msg);
		json_decref(msg);
		msg = NULL;
	}
	if (!json_is_true(json_object_get(msg, "ok"))) {
		rc = client_error(msg);
		goto out;
	}
	if ((res = json_object_get(msg, "result")) != NULL)
		*result = json_incref(res);
	else if ((*result = json_object()) == NULL) {
		ctl_warnx("out of memory");
		rc = CTL_EXIT_FAILED;
		goto out;
	}
	rc = CTL_EXIT_OK;
out:
	json_decref(msg);
	json_decref(req);
	free(line);
	return rc;
}

void
client_close(struct ctl *ctl)
{
	if (ctl->fd != -1)
		close(ctl->fd);
	ctl->fd = -1;
	free(ctl->buf);
	ctl->buf = NULL;
	ctl->len = ctl->size = 0;
}
