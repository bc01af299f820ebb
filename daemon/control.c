/*
 * The control socket (DESIGN.md "Control protocol"): one listening Unix
 * stream socket, one bufferevent per client, one JSON request per line.
 *
 * A client is never freed from inside its own callbacks or from a send in
 * the middle of a loop: control_client_drop() marks it dead and a zero-time
 * event frees it from the loop, so every caller may go on walking the list.
 */
#include <config.h>	/* generated; "config.h" is daemon/config.h */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <jansson.h>
#include <systemd/sd-daemon.h>

#include "ctlproto.h"
#include "log.h"
#include "control.h"
#include "daemon.h"

#define CONTROL_BACKLOG		128
#define CONTROL_MAX_CLIENTS	256
#define CONTROL_OUTPUT_MAX	(4 * 1024 * 1024)	/* unread bytes */
/* Seconds: from a line's first byte to its newline; without a byte from
 * a client that waits for nothing (no watch, no deferred reply); without
 * the client reading a byte of what it is owed. */
#define CONTROL_REQUEST_TIMEOUT	10
#define CONTROL_IDLE_TIMEOUT	60
#define CONTROL_WRITE_TIMEOUT	60
/* Seconds between two log lines about refused connections. */
#define CONTROL_REFUSED_LOG	60

struct ctl_client {
	TAILQ_ENTRY(ctl_client)	 entry;
	struct control		*control;
	struct bufferevent	*bev;
	struct event		 ev_free;	/* frees a dead client */
	struct event		 ev_request;	/* the line must end by then */
	uint64_t		 id;
	struct control_peer	 peer;
	gid_t			 gid;
	bool			 watching;	/* gets every event */
	bool			 closing;	/* freed once output is flushed */
	bool			 dead;		/* free pending; ignore it */
	json_t			*req_id;	/* during exec: borrowed */
	bool			 deferred;	/* exec will reply later */
	unsigned		 pending;	/* deferred replies not sent */
};

TAILQ_HEAD(ctl_client_list, ctl_client);

struct control {
	struct daemon		*d;
	struct evconnlistener	*listener;
	char			*path;		/* unlinked at free; NULL if
						   systemd's socket */
	bool			 have_group;
	gid_t			 gid;
	struct ctl_client_list	 clients;
	unsigned		 nclients;
	uint64_t		 next_id;
	struct event		 ev_resume;	/* accept again after EMFILE */
	bool			 refused_logged; /* a line about refusals, */
	time_t			 refused_at;	/* at this monotonic second */
	unsigned long		 refused;	/* since that line */
	struct control_events	*events;	/* watchers' and waiters' */
};

static void	control_client_drop(struct ctl_client *);

static void
control_client_free(struct ctl_client *c)
{
	struct control	*ctl = c->control;

	event_del(&c->ev_free);
	event_del(&c->ev_request);
	TAILQ_REMOVE(&ctl->clients, c, entry);
	ctl->nclients--;
	bufferevent_free(c->bev);
	free(c);
}

static void
control_client_free_cb(evutil_socket_t fd, short events, void *arg)
{
	struct ctl_client	*c = arg;

	log_debug("control: client %llu gone", (unsigned long long)c->id);
	control_client_free(c);
}

/* Forgets the client now; its memory goes back from the loop. */
static void
control_client_drop(struct ctl_client *c)
{
	if (c->dead)
		return;
	c->dead = true;
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	event_active(&c->ev_free, EV_TIMEOUT, 1);
}

/* Reads no more; the client goes once what it is owed is written. */
static void
control_client_close(struct ctl_client *c)
{
	if (c->dead || c->closing)
		return;
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		control_client_drop(c);
}

/* Whether the client may be sent more; drops one that does not read. */
static bool
control_client_reads(struct ctl_client *c)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);

	if (c->dead)
		return false;
	/* What the client left unread, not the size of one reply. */
	if (evbuffer_get_length(out) > CONTROL_OUTPUT_MAX) {
		log_info("control: client %llu (pid %ld, uid %lu) does not "
		    "read what it is sent; dropped",
		    (unsigned long long)c->id, (long)c->peer.pid,
		    (unsigned long)c->peer.uid);
		control_client_drop(c);
		return false;
	}
	return true;
}

static int
control_client_write(struct ctl_client *c, const char *line, size_t len)
{
	if (!control_client_reads(c))
		return -1;
	if (bufferevent_write(c->bev, line, len) == -1) {
		log_warnx("control: client %llu: cannot queue %zu bytes",
		    (unsigned long long)c->id, len);
		control_client_drop(c);
		return -1;
	}
	return 0;
}

/*
 * Reading times out unless the client waits for something: events
 * (watch) or a reply still to come (renew with wait, revoke, rollover).
 */
static void
control_client_timeouts(struct ctl_client *c)
{
	struct timeval	 idle = { CONTROL_IDLE_TIMEOUT, 0 };
	struct timeval	 write = { CONTROL_WRITE_TIMEOUT, 0 };

	if (c->dead)
		return;
	bufferevent_set_timeouts(c->bev, c->watching || c->pending > 0 ?
	    NULL : &idle, &write);
}


/* json_dump_callback() into an evbuffer, up to max bytes. */
struct control_dump {
	struct evbuffer	*buf;
	size_t		 len;
	size_t		 max;
};

static int
control_dump_cb(const char *s, size_t n, void *arg)
{
	struct control_dump	*dump = arg;

	if (n > dump->max - dump->len)
		return -1;
	dump->len += n;
	return evbuffer_add(dump->buf, s, n);
}

/*
 * msg as one line (compact JSON and '\n') in a new evbuffer, NULL when
 * longer than max.  Written straight into the buffer's chunks: the status
 * of a large fleet is megabytes, and one contiguous string of it (then a
 * copy with its newline, then the copy the bufferevent makes) tripled the
 * daemon's peak memory.
 */
static struct evbuffer *
control_encode(const json_t *msg, size_t max)
{
	struct control_dump	dump = { .len = 0, .max = max - 1 };

	if ((dump.buf = evbuffer_new()) == NULL)
		return NULL;
	if (json_dump_callback(msg, control_dump_cb, &dump,
	    JSON_COMPACT) == -1 || evbuffer_add(dump.buf, "\n", 1) == -1) {
		evbuffer_free(dump.buf);
		return NULL;
	}
	return dump.buf;
}

/* Queues one message (a reply or an event) for the client. */
static int
control_client_put(struct ctl_client *c, json_t *msg)
{
	json_t		*err = NULL;
	struct evbuffer	*line = NULL;
	size_t		 len;
	int		 rc = -1;

	if (c->dead || c->closing)
		goto out;
	if ((line = control_encode(msg, CTL_MAX_REPLY)) == NULL) {
		log_warnx("control: a message for client %llu does not "
		    "encode within 64 MiB", (unsigned long long)c->id);
		if (json_object_get(msg, "ok") == NULL)
			goto out;	/* an event: skip it */
		err = ctlproto_error(json_object_get(msg, "id"),
		    CTL_ERR_INTERNAL, "the reply would be longer than 64 MiB");
		if (err == NULL || (line = control_encode(err,
		    CTL_MAX_REPLY)) == NULL)
			goto out;
	}
	if (!control_client_reads(c))
		goto out;
	len = evbuffer_get_length(line);
	if (bufferevent_write_buffer(c->bev, line) == -1) {
		log_warnx("control: client %llu: cannot queue %zu bytes",
		    (unsigned long long)c->id, len);
		control_client_drop(c);
		goto out;
	}
	if (len > CTL_MAX_MESSAGE)
		daemon_trim_later(c->control->d);
	rc = 0;
out:
	json_decref(err);
	if (line != NULL)
		evbuffer_free(line);
	return rc;
}

/* From the commands: an event, or the reply a command deferred. */
int
control_client_send(struct ctl_client *c, json_t *msg)
{
	if (c->pending > 0 && json_object_get(msg, "ok") != NULL &&
	    --c->pending == 0)
		control_client_timeouts(c);
	return control_client_put(c, msg);
}

json_t *
control_client_request_id(const struct ctl_client *c)
{
	return c->req_id;
}

void
control_client_defer(struct ctl_client *c)
{
	c->deferred = true;
}

uint64_t
control_client_id(const struct ctl_client *c)
{
	return c->id;
}

void
control_client_watch(struct ctl_client *c)
{
	c->watching = true;
	control_client_timeouts(c);
}

int
control_send(struct control *ctl, uint64_t id, json_t *msg)
{
	struct ctl_client	*c;

	if (ctl == NULL)
		return -1;
	TAILQ_FOREACH(c, &ctl->clients, entry) {
		if (c->id == id)
			return control_client_send(c, msg);
	}
	return -1;
}

int
control_wait(struct control *ctl, const char *cert, uint64_t client,
    json_t *id)
{
	return control_events_wait(ctl->events, cert, client, id);
}

void
control_broadcast_event(struct control *ctl, json_t *event)
{
	struct ctl_client	*c;
	char			*line;
	size_t			 len;

	if (ctl == NULL)
		return;
	if ((line = ctlproto_encode(event, CTL_MAX_REPLY)) == NULL) {
		log_warnx("control: an event does not encode within 1 MiB");
		return;
	}
	len = strlen(line);
	TAILQ_FOREACH(c, &ctl->clients, entry) {
		if (c->watching && !c->dead && !c->closing)
			(void)control_client_write(c, line, len);
	}
	free(line);
}

/* Answers one request line; len excludes the '\n'. */
static void
control_dispatch(struct ctl_client *c, const char *line, size_t len)
{
	struct control_request	 req;
	json_t			*result, *reply = NULL;
	char			*cause = NULL;
	enum ctl_error		 code = CTL_ERR_INTERNAL;
	int			 rc;

	c->deferred = false;
	if ((rc = control_request_parse(line, len, &c->peer, &req,
	    &reply)) == 0)
		return;
	if (rc == -1)
		goto out;
	log_debug("control: client %llu (pid %ld uid %lu): %s",
	    (unsigned long long)c->id, (long)c->peer.pid,
	    (unsigned long)c->peer.uid, req.cmd->name);
	c->req_id = req.id;
	result = req.cmd->exec(c->control->d, c, req.args, &code, &cause);
	c->req_id = NULL;
	if (result == NULL && c->deferred) {
		c->pending++;	/* the command answers later */
		control_client_timeouts(c);
		goto out;
	}
	if (result == NULL) {
		reply = ctlproto_error(req.id, code, "%s",
		    cause != NULL ? cause : "the command failed");
	} else
		reply = ctlproto_ok(req.id, result);
out:
	if (reply != NULL)
		(void)control_client_put(c, reply);
	else if (!c->deferred)
		log_warnx("control: cannot build a reply (out of memory?)");
	json_decref(reply);
	control_request_clear(&req);
	free(cause);
}

/* A line must end within CONTROL_REQUEST_TIMEOUT s of its first byte;
 * new_line: what is left in the input began after a newline just read. */
static void
control_client_request_timer(struct ctl_client *c, bool new_line)
{
	struct timeval	 tv = { CONTROL_REQUEST_TIMEOUT, 0 };

	if (evbuffer_get_length(bufferevent_get_input(c->bev)) == 0)
		evtimer_del(&c->ev_request);
	else if (new_line || !evtimer_pending(&c->ev_request, NULL))
		evtimer_add(&c->ev_request, &tv);
}

static void
control_request_timeout_cb(evutil_socket_t fd, short events, void *arg)
{
	struct ctl_client	*c = arg;
	struct evbuffer		*in = bufferevent_get_input(c->bev);
	json_t			*reply;

	if (c->dead || c->closing)
		return;
	log_info("control: client %llu (pid %ld uid %lu) did not finish its "
	    "request within %d s; closing", (unsigned long long)c->id,
	    (long)c->peer.pid, (unsigned long)c->peer.uid,
	    CONTROL_REQUEST_TIMEOUT);
	reply = ctlproto_error(NULL, CTL_ERR_BAD_REQUEST, "request not "
	    "finished within %d s", CONTROL_REQUEST_TIMEOUT);
	if (reply != NULL)
		(void)control_client_put(c, reply);
	json_decref(reply);
	evbuffer_drain(in, evbuffer_get_length(in));
	control_client_close(c);
}

static void
control_read_cb(struct bufferevent *bev, void *arg)
{
	struct ctl_client	*c = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	json_t			*reply;
	char			*line;
	size_t			 len;
	bool			 new_line = false;

	while (!c->dead && !c->closing) {
		if ((line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF)) ==
		    NULL)
			break;
		new_line = true;
		control_dispatch(c, line, len);
		free(line);
	}
	if (c->dead || c->closing)
		return;
	if (evbuffer_get_length(in) >= CTL_MAX_MESSAGE) {
		log_info("control: client %llu (pid %ld) sent a line over "
		    "1 MiB; closing", (unsigned long long)c->id,
		    (long)c->peer.pid);
		reply = ctlproto_error(NULL, CTL_ERR_BAD_REQUEST,
		    "message longer than 1 MiB");
		if (reply != NULL)
			(void)control_client_put(c, reply);
		json_decref(reply);
		evbuffer_drain(in, evbuffer_get_length(in));
		control_client_close(c);
		return;
	}
	control_client_request_timer(c, new_line);
}

static void
control_write_cb(struct bufferevent *bev, void *arg)
{
	struct ctl_client	*c = arg;

	if (c->closing && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		control_client_drop(c);
}

static void
control_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct ctl_client	*c = arg;

	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING)) {
		log_info("control: client %llu (pid %ld) sent nothing for "
		    "%d s; closing", (unsigned long long)c->id,
		    (long)c->peer.pid, CONTROL_IDLE_TIMEOUT);
		control_client_close(c);
	} else if (what & BEV_EVENT_TIMEOUT) {
		log_info("control: client %llu (pid %ld) read nothing of its "
		    "replies for %d s; dropped", (unsigned long long)c->id,
		    (long)c->peer.pid, CONTROL_WRITE_TIMEOUT);
		control_client_drop(c);
	} else if (what & BEV_EVENT_ERROR) {
		log_debug("control: client %llu: %s", (unsigned long long)c->id,
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		control_client_drop(c);
	} else if (what & BEV_EVENT_EOF) {
		/* Half-closed: it may still read the replies it is owed. */
		control_client_close(c);
	}
}

/* Whether uid/gid belongs to control-group, by its primary or other groups. */
static bool
control_peer_member(const struct control *ctl, uid_t uid, gid_t gid)
{
	struct passwd	*pw;
	gid_t		*groups = NULL, *tmp;
	int		 i, n = 32, want;
	bool		 member = false;

	if (!ctl->have_group)
		return false;
	if (gid == ctl->gid)
		return true;
	if ((pw = getpwuid(uid)) == NULL)
		return false;
	for (;;) {
		if ((tmp = reallocarray(groups, n, sizeof *groups)) == NULL)
			goto out;
		groups = tmp;
		want = n;
		if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &want) !=
		    -1) {
			n = want;
			break;
		}
		if (want <= n)
			goto out;
		n = want;
	}
	for (i = 0; i < n; i++) {
		if (groups[i] == ctl->gid) {
			member = true;
			break;
		}
	}
out:
	free(groups);
	return member;
}

/*
 * A connection refused or left waiting (why: "256 clients already",
 * "accept: Too many open files"): one log line a minute at most, with
 * the count since the last one, however hard clients push.
 */
static void
control_refused(struct control *ctl, const char *why)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ctl->refused++;
	if (ctl->refused_logged &&
	    ts.tv_sec - ctl->refused_at < CONTROL_REFUSED_LOG)
		return;
	if (ctl->refused > 1)
		log_warnx("control: %s (%lu times since the last such "
		    "message)", why, ctl->refused);
	else
		log_warnx("control: %s", why);
	ctl->refused_logged = true;
	ctl->refused_at = ts.tv_sec;
	ctl->refused = 0;
}

static void
control_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int socklen, void *arg)
{
	struct control		*ctl = arg;
	struct ctl_client	*c = NULL;
	struct ucred		 cred;
	socklen_t		 credlen = sizeof cred;
	char			 why[64];

	if (ctl->nclients >= CONTROL_MAX_CLIENTS) {
		snprintf(why, sizeof(why), "%u clients already; closing new "
		    "connections at once", ctl->nclients);
		control_refused(ctl, why);
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &credlen) == -1) {
		log_warn("control: getsockopt SO_PEERCRED");
		goto fail;
	}
	if ((c = calloc(1, sizeof *c)) == NULL) {
		log_warn("control: calloc");
		goto fail;
	}
	if ((c->bev = bufferevent_socket_new(ctl->d->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		log_warnx("control: bufferevent_socket_new failed");
		goto fail;
	}
	c->control = ctl;
	c->id = ++ctl->next_id;
	c->peer.pid = cred.pid;
	c->peer.uid = cred.uid;
	c->peer.self = geteuid();
	c->peer.member = control_peer_member(ctl, cred.uid, cred.gid);
	c->gid = cred.gid;
	evtimer_assign(&c->ev_free, ctl->d->base, control_client_free_cb, c);
	evtimer_assign(&c->ev_request, ctl->d->base,
	    control_request_timeout_cb, c);
	TAILQ_INSERT_TAIL(&ctl->clients, c, entry);
	ctl->nclients++;

	/* Reading stops at 1 MiB without a newline: the line is too long. */
	bufferevent_setwatermark(c->bev, EV_READ, 0, CTL_MAX_MESSAGE);
	bufferevent_setcb(c->bev, control_read_cb, control_write_cb,
	    control_event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	control_client_timeouts(c);
	log_debug("control: client %llu connected: pid %ld uid %lu gid %lu%s",
	    (unsigned long long)c->id, (long)c->peer.pid,
	    (unsigned long)c->peer.uid, (unsigned long)c->gid,
	    c->peer.member ? " (control-group)" : "");
	return;
fail:
	if (c == NULL || c->bev == NULL)
		evutil_closesocket(fd);
	free(c);
}

static void
control_resume_cb(evutil_socket_t fd, short events, void *arg)
{
	struct control	*ctl = arg;

	if (ctl->listener != NULL)
		evconnlistener_enable(ctl->listener);
}

/*
 * accept() failed for another reason than a signal or a client gone
 * already: out of descriptors (EMFILE, ENFILE) or memory, most likely.
 * The connection stays in the backlog, so the listener would fire again
 * at once: stop listening for a second instead of spinning.
 */
static void
control_accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct control	*ctl = arg;
	struct timeval	 tv = { 1, 0 };
	int		 error = EVUTIL_SOCKET_ERROR();
	char		 why[128];

	snprintf(why, sizeof(why), "accept: %s; trying again every second",
	    evutil_socket_error_to_string(error));
	control_refused(ctl, why);
	evconnlistener_disable(l);
	evtimer_add(&ctl->ev_resume, &tv);
}

static int
control_mkparent(const char *path, char **cause)
{
	char	*dir = NULL, *slash;
	int	 rc = -1;

	if ((dir = strdup(path)) == NULL) {
		*cause = strdup("out of memory");
		goto out;
	}
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir) {
		rc = 0;
		goto out;
	}
	*slash = '\0';
	if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
		if (asprintf(cause, "cannot create %s: %s", dir,
		    strerror(errno)) == -1)
			*cause = NULL;
		goto out;
	}
	rc = 0;
out:
	free(dir);
	return rc;
}

/* Removes a socket left by a dead daemon; fails if one still answers. */
static int
control_clear_stale(const struct sockaddr_un *sun, char **cause)
{
	const char	*path = sun->sun_path;
	struct stat	 sb;
	int		 fd = -1, error, rc = -1;

	if (lstat(path, &sb) == -1) {
		if (errno == ENOENT)
			rc = 0;
		else if (asprintf(cause, "%s: %s", path, strerror(errno)) == -1)
			*cause = NULL;
		goto out;
	}
	if (!S_ISSOCK(sb.st_mode)) {
		if (asprintf(cause, "%s exists and is not a socket",
		    path) == -1)
			*cause = NULL;
		goto out;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		if (asprintf(cause, "socket: %s", strerror(errno)) == -1)
			*cause = NULL;
		goto out;
	}
	if (connect(fd, (const struct sockaddr *)sun, sizeof *sun) == 0)
		error = 0;
	else
		error = errno;
	if (error == 0 || error == EAGAIN || error == EINPROGRESS) {
		/* EAGAIN: it is alive, with its backlog full. */
		if (asprintf(cause, "another acme-renewd is listening on %s",
		    path) == -1)
			*cause = NULL;
		goto out;
	}
	if (error != ECONNREFUSED) {
		if (asprintf(cause, "%s: %s", path, strerror(error)) == -1)
			*cause = NULL;
		goto out;
	}
	if (unlink(path) == -1 && errno != ENOENT) {
		if (asprintf(cause, "cannot remove the stale socket %s: %s",
		    path, strerror(errno)) == -1)
			*cause = NULL;
		goto out;
	}
	log_info("control: removed the stale socket %s", path);
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	return rc;
}

/* Binds path, mode 0660 and control-group; listen() is the listener's. */
static int
control_bind(struct control *ctl, const char *path, char **cause)
{
	struct sockaddr_un	 sun;
	int			 fd = -1, rc = -1;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		if (asprintf(cause, "control socket path too long: %s",
		    path) == -1)
			*cause = NULL;
		goto out;
	}
	strcpy(sun.sun_path, path);
	if (control_mkparent(path, cause) == -1 ||
	    control_clear_stale(&sun, cause) == -1)
		goto out;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		if (asprintf(cause, "socket: %s", strerror(errno)) == -1)
			*cause = NULL;
		goto out;
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		if (asprintf(cause, "bind %s: %s", path, strerror(errno)) == -1)
			*cause = NULL;
		goto out;
	}
	if ((ctl->path = strdup(path)) == NULL) {
		*cause = strdup("out of memory");
		unlink(path);
		goto out;
	}
	if (chmod(path, 0660) == -1) {
		if (asprintf(cause, "chmod %s: %s", path,
		    strerror(errno)) == -1)
			*cause = NULL;
		goto out;
	}
	if (ctl->have_group && chown(path, (uid_t)-1, ctl->gid) == -1) {
		if (asprintf(cause, "chown %s to group %lu: %s", path,
		    (unsigned long)ctl->gid, strerror(errno)) == -1)
			*cause = NULL;
		goto out;
	}
	rc = 0;
out:
	if (rc == -1 && fd != -1) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* The socket systemd passed (acme-renewd.socket), or -1. */
static int
control_systemd_fd(void)
{
	int	 n;

	if ((n = sd_listen_fds(1)) < 0) {
		log_warnx("control: sd_listen_fds: %s", strerror(-n));
		return -1;
	}
	if (n < 1)
		return -1;
	if (sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_STREAM, 1, NULL,
	    0) <= 0) {
		log_warnx("control: the socket systemd passed is not a "
		    "listening Unix stream socket; ignoring it");
		return -1;
	}
	if (evutil_make_socket_nonblocking(SD_LISTEN_FDS_START) == -1)
		return -1;
	return SD_LISTEN_FDS_START;
}

struct control *
control_new(struct daemon *d, const struct conf_daemon *conf, char **cause)
{
	struct control	*ctl = NULL;
	const char	*path = conf->control_socket;
	int		 fd = -1, backlog = CONTROL_BACKLOG, rc = -1;

	*cause = NULL;
	if ((ctl = calloc(1, sizeof *ctl)) == NULL) {
		*cause = strdup("out of memory");
		goto out;
	}
	ctl->d = d;
	TAILQ_INIT(&ctl->clients);
	evtimer_assign(&ctl->ev_resume, d->base, control_resume_cb, ctl);
	if ((ctl->events = control_events_new(ctl, &d->listeners)) == NULL) {
		*cause = strdup("out of memory");
		goto out;
	}

	/* config_load() resolved the group. */
	if (conf->control_group != NULL) {
		ctl->gid = conf->control_gid;
		ctl->have_group = true;
	} else if (conf->control_group_absent)
		log_notice("control: control-group is not set and this "
		    "machine has no group '%s': only root may use the "
		    "control socket", CONFIG_DEFAULT_GROUP);

	if ((fd = control_systemd_fd()) != -1) {
		backlog = 0;	/* systemd listens already */
		log_info("control: using the socket passed by systemd");
	} else if ((fd = control_bind(ctl, path, cause)) == -1)
		goto out;

	ctl->listener = evconnlistener_new(d->base, control_accept_cb, ctl,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, backlog, fd);
	if (ctl->listener == NULL) {
		if (asprintf(cause, "listen on %s: %s",
		    ctl->path != NULL ? ctl->path : "the systemd socket",
		    strerror(errno)) == -1)
			*cause = NULL;
		close(fd);
		goto out;
	}
	evconnlistener_set_error_cb(ctl->listener, control_accept_error_cb);
	if (ctl->path != NULL)
		log_info("control: listening on %s", ctl->path);
	rc = 0;
out:
	if (rc == -1) {
		if (*cause == NULL)
			*cause = strdup("cannot open the control socket");
		control_free(ctl);
		ctl = NULL;
	}
	return ctl;
}

void
control_free(struct control *ctl)
{
	struct ctl_client	*c;

	if (ctl == NULL)
		return;
	control_events_free(ctl->events, &ctl->d->listeners);
	while ((c = TAILQ_FIRST(&ctl->clients)) != NULL)
		control_client_free(c);
	if (ctl->listener != NULL)
		evconnlistener_free(ctl->listener);
	event_del(&ctl->ev_resume);
	if (ctl->path != NULL && unlink(ctl->path) == -1 && errno != ENOENT)
		log_warn("control: unlink %s", ctl->path);
	free(ctl->path);
	free(ctl);
}
