/*
 * Child processes (hooks) run off the loop: no shell, their own process
 * group, output to the log line by line, a timeout after which the whole
 * group is killed.  SIGCHLD arrives through libevent.
 */
#ifndef DAEMON_PROC_H
#define DAEMON_PROC_H

#include <stdbool.h>
#include <sys/queue.h>

struct daemon;
struct log_tag;
struct proc;

/* The hooks counted by acme_renewd_hook_runs_total{name,hook,result}. */
enum hook_kind {
	HOOK_DEPLOY,		/* "deploy-hook" */
	HOOK_FAILURE,		/* "failure-hook" */
	HOOK_DNS01,		/* "dns-01-hook" */
	HOOK_RELOAD_UNITS,	/* "reload-units" */
	HOOK__MAX
};

extern const char *const hook_kind_names[HOOK__MAX];

/* Output kept for the caller's error message (the tail of it). */
#define PROC_OUTPUT_KEEP	2048

struct proc_result {
	int		 status;	/* exit code; -1 if it did not exit */
	bool		 timed_out;
	int		 signal;	/* killing signal, 0 if it exited */
	const char	*output;	/* last PROC_OUTPUT_KEEP bytes */
	const char	*error;		/* one line, NULL when status == 0 */
};

typedef void (*proc_done_cb)(const struct proc_result *, void *arg);

TAILQ_HEAD(proc_list, proc);

/*
 * Splits a command line the way a shell would split words, with '...',
 * "..." and backslash, but without any expansion.  *argv is a
 * NULL-terminated malloc'd vector (free with proc_argv_free).  -1 with
 * *cause on an unterminated quote or an empty command.
 */
int	 proc_split_argv(const char *cmd, char ***argv, char **cause);
void	 proc_argv_free(char **argv);

/*
 * Runs argv[0] (a path; no PATH search) with the daemon's environment
 * plus env ("NAME=value", NULL-terminated, may be NULL).  name tags log
 * lines ("deploy-hook").  Calls cb once when the process has exited and
 * its output is drained.  NULL with *cause when it cannot start.
 */
struct proc	*proc_spawn(struct daemon *, const struct log_tag *,
		    const char *name, char *const argv[], char *const env[],
		    long long timeout, proc_done_cb, void *arg, char **cause);
/* Kills the process group; the callback will not run. */
void		 proc_cancel(struct proc *);
/* SIGCHLD: reaps every exited child. */
void		 proc_reap(struct daemon *);

#endif
