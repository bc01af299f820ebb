/*
 * The control socket: newline-delimited JSON requests (common/ctlproto.h),
 * peers identified by SO_PEERCRED, one bufferevent per client.
 */
#ifndef DAEMON_CONTROL_H
#define DAEMON_CONTROL_H

#include <stdbool.h>

#include <jansson.h>

#include "../common/ctlproto.h"

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

/* Listens on path (mode 0660, group) or on the socket systemd passed. */
struct control	*control_new(struct daemon *, const char *path,
		    const char *group, char **cause);
void		 control_free(struct control *);

#endif
