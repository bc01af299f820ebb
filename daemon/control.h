/*
 * The control socket: newline-delimited JSON requests (common/ctlproto.h),
 * peers identified by SO_PEERCRED, one bufferevent per client.
 */
#ifndef DAEMON_CONTROL_H
#define DAEMON_CONTROL_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "../common/ctlproto.h"

struct conf_daemon;
struct daemon;
struct control;
struct ctl_client;

struct control_cmd {
	const char	*name;
	bool		 readonly;	/* control-group members may run it */
	/* The result (new reference), or NULL with *code and *cause set. */
	json_t		*(*exec)(struct daemon *, struct ctl_client *,
			    json_t *args, enum ctl_error *code, char **cause);
};

/* control-cmd.c: NULL-terminated by name. */
extern const struct control_cmd control_cmds[];

/* Who sent a request: SO_PEERCRED, and whether a control-group member. */
struct control_peer {
	pid_t		 pid;
	uid_t		 uid;
	uid_t		 self;		/* the daemon's effective uid */
	bool		 member;
};

/* A request line that passed every check, ready to run. */
struct control_request {
	json_t				*msg;	/* the decoded line */
	json_t				*id;	/* borrowed from msg; may be NULL */
	const struct control_cmd	*cmd;
	json_t				*args;	/* an object, new reference */
};

/* control-request.c */
const struct control_cmd *control_cmd_find(const char *name);
/*
 * One received line (without its '\n'; a trailing '\r' is ignored),
 * decoded and checked against the peer's rights.  1: req is filled, run
 * req->cmd, then control_request_clear(); 0: a blank line, no request
 * and no reply; -1: *reply is the error to send (a new reference, NULL
 * only when out of memory) and req is empty.
 */
int		 control_request_parse(const char *line, size_t len,
		    const struct control_peer *, struct control_request *req,
		    json_t **reply);
void		 control_request_clear(struct control_request *);

/*
 * Listens on conf's control-socket (mode 0660, control-group) or on the
 * socket systemd passed; conf is borrowed for the call.
 */
struct control	*control_new(struct daemon *, const struct conf_daemon *conf,
		    char **cause);
/* Closes every client and unlinks the socket if control_new made it. */
void		 control_free(struct control *);

/*
 * Streaming (`watch`, `renew` with wait).  msg and event are borrowed.  A
 * client that lets more than 4 MiB of output pile up is dropped.
 */
/* The client's id, unique for the daemon's life: keep it, not the pointer,
 * to send to the client later (it may be gone by then). */
uint64_t	 control_client_id(const struct ctl_client *);
/* During a command's exec: the request's id (borrowed; may be NULL). */
json_t		*control_client_request_id(const struct ctl_client *);
/* During exec: no reply now; the command sends it with control_send(),
 * and exec returns NULL. */
void		 control_client_defer(struct ctl_client *);
/* From now on the client gets every event (the `watch` command). */
void		 control_client_watch(struct ctl_client *);
/* 0, or -1 if the client is closing, gone or was just dropped. */
int		 control_client_send(struct ctl_client *, json_t *msg);
int		 control_send(struct control *, uint64_t client,
		    json_t *msg);
/* To every client that ran `watch`; ctl may be NULL. */
void		 control_broadcast_event(struct control *, json_t *event);
/*
 * The client's request (id) is answered with the outcome of cert's
 * renewal, and it gets the renewal's events until then.  0 or -1.
 */
int		 control_wait(struct control *, const char *cert,
		    uint64_t client, json_t *id);

/* control-event.c: certificate events to watchers and waiters. */
struct cert_listeners;
struct control_events;
struct control_events *control_events_new(struct control *,
		    struct cert_listeners *);
void		 control_events_free(struct control_events *,
		    struct cert_listeners *);
int		 control_events_wait(struct control_events *, const char *cert,
		    uint64_t client, json_t *id);

#endif
