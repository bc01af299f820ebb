/*
 * acmectl: the daemon's command-line client (DESIGN.md "acmectl").
 *
 * One file per command group (cmd-cert.c, cmd-daemon.c), each exporting
 * const struct ctl_cmd entries; cmd.c keeps the table, finds a command
 * and parses its arguments; client.c talks to the control socket.
 */
#ifndef CTL_CTL_H
#define CTL_CTL_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/* The exit status, by value (DESIGN.md "acmectl"). */
enum ctl_exit {
	CTL_EXIT_OK,		/* 0 */
	CTL_EXIT_FAILED,	/* 1: the daemon answered with an error */
	CTL_EXIT_USAGE,		/* 2 */
	CTL_EXIT_UNREACHABLE,	/* 3: cannot reach the daemon */
	CTL_EXIT__MAX
};

#define CTL_TIMEOUT	30	/* seconds to wait for a reply */
#define CTL_MAXOPTS	4	/* options of one command */

/* One invocation: the options and the connection. */
struct ctl {
	const char	*socket_path;
	bool		 json;		/* --json */
	int		 fd;		/* -1 until connected */
	int		 timeout;	/* for a reply, s; 0: forever */
	json_int_t	 next_id;
	char		*buf;		/* received, not yet a line */
	size_t		 len;
	size_t		 size;
};

/* A command's arguments once its options are taken out. */
struct ctl_args {
	int		 argc;		/* words after the name */
	char		**argv;
	/* Indexed like the entry's opts: the value ("" for a flag), or NULL
	 * when the option was not given. */
	const char	*opt[CTL_MAXOPTS];
};

struct ctl_cmd {
	const char	*name;
	const char	*usage;		/* "renew NAME [--no-wait]" */
	const char	*help;		/* one line for acmectl -h */
	int		 minargs;
	int		 maxargs;
	/* getopt_long long options, {NULL} terminated, or NULL; --json is
	 * accepted by every command. */
	const struct option *opts;
	enum ctl_exit	(*exec)(struct ctl *, const struct ctl_cmd *,
			    struct ctl_args *);
};

/* acmectl.c */
void		 ctl_warnx(const char *, ...)
		    __attribute__((format(printf, 1, 2)));

/* cmd.c */
extern const struct ctl_cmd *const cmd_table[];
/* Exact name or unique prefix; NULL with *cause malloc'd. */
const struct ctl_cmd *cmd_find(const char *name, char **cause);
/* argv[0] is the command's name as typed. */
enum ctl_exit	 cmd_exec(struct ctl *, const struct ctl_cmd *, int argc,
		    char **argv);
void		 cmd_usage(FILE *, const struct ctl_cmd *);
void		 cmd_list(FILE *);
void		 cmd_print_json(const json_t *);
/* A result object as indented "key: value" lines. */
void		 cmd_print_object(const json_t *, int indent);
/* One event as a line: "HH:MM:SS renewal www phase=finalize ...". */
void		 cmd_print_event(FILE *, const json_t *);
/* A string member, or "-" when it is absent or null. */
const char	*cmd_string(const json_t *, const char *key);

/* client.c */
/* Wait for replies at most secs seconds (0: forever); before or after
 * connecting. */
void		 client_timeout(struct ctl *, int secs);
/*
 * Sends one request (connecting first if need be) and reads until its
 * reply; events before it go to event_cb (may be NULL).  OK with *result
 * (a new reference), FAILED after printing the daemon's error, or
 * UNREACHABLE after saying why.
 */
enum ctl_exit	 client_call(struct ctl *, const char *command,
		    json_t *args_take, void (*event_cb)(struct ctl *, json_t *),
		    json_t **result);
/* The next message (events after `watch`); UNREACHABLE when it ends. */
enum ctl_exit	 client_read(struct ctl *, json_t **msg);
void		 client_close(struct ctl *);

#endif
