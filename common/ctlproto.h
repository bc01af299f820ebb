/*
 * The control protocol of DESIGN.md: newline-delimited JSON objects over a
 * Unix stream socket.  A request is at most CTL_MAX_MESSAGE bytes (newline
 * included); a reply or event at most CTL_MAX_REPLY, so the status of a
 * fleet of tens of thousands of certificates fits in one.
 */
#ifndef COMMON_CTLPROTO_H
#define COMMON_CTLPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

#define CTL_MAX_MESSAGE		(1024 * 1024)
#define CTL_MAX_REPLY		(64 * 1024 * 1024)
#define CTL_DEFAULT_SOCKET	"/run/acme-renewd/control.sock"

enum ctl_error {
	CTL_ERR_BAD_REQUEST,
	CTL_ERR_UNKNOWN_COMMAND,
	CTL_ERR_NOT_FOUND,
	CTL_ERR_PERMISSION_DENIED,
	CTL_ERR_BUSY,
	CTL_ERR_INTERNAL,
	CTL_ERR__MAX
};

extern const char *const ctl_error_names[CTL_ERR__MAX];

/*
 * Both return new references; id is borrowed and may be NULL (no id was
 * readable: sent as null).  A NULL result_take is sent as {}.
 */
json_t	*ctlproto_ok(json_t *id, json_t *result_take);
json_t	*ctlproto_error(json_t *id, enum ctl_error, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* A NULL args_take is sent as {}. */
json_t	*ctlproto_request(json_int_t id, const char *command, json_t *args_take);
/* Compact one-line JSON plus '\n', malloc'd; NULL if over max bytes
 * (CTL_MAX_MESSAGE for a request, CTL_MAX_REPLY for the daemon's). */
char	*ctlproto_encode(const json_t *, size_t max);
/*
 * One received line (without its '\n') to a JSON object: a new reference,
 * or NULL with *cause malloc'd (longer than max with its newline,
 * invalid JSON, not an object).
 */
json_t	*ctlproto_decode(const char *line, size_t len, size_t max,
	    char **cause);
/*
 * The access rule: root and the daemon's own user (self) may run every
 * command, control-group members the read-only ones, anyone else nothing.
 */
bool	 ctlproto_allowed(uid_t peer, uid_t self, bool member,
	    bool readonly);

#endif
