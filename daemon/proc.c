/*
 * Hooks as child processes, watched from the loop.  A process is finished
 * when it has exited (SIGCHLD, reaped in proc_reap) and its output pipe is
 * drained; a child that leaves a grandchild holding the pipe is given a
 * short grace period, then finished all the same.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/event_struct.h>

#include "log.h"
#include "util.h"
#include "daemon.h"
#include "proc.h"

#define PROC_LINE_MAX	4096	/* a longer line is logged in pieces */
#define PROC_GRACE	2	/* seconds to drain output after exit */

extern char **environ;

const char *const hook_kind_names[HOOK__MAX] = {
	[HOOK_DEPLOY] = "deploy-hook",
	[HOOK_FAILURE] = "failure-hook",
	[HOOK_DNS01] = "dns-01-hook",
	[HOOK_RELOAD_UNITS] = "reload-units",
};


struct proc {
	TAILQ_ENTRY(proc)	 entry;
	struct daemon		*d;
	pid_t			 pid;
	char			*name;
	char			*tag_name;
	char			*tag_ca;
	struct bufferevent	*out;
	struct event		 timer;
	bool			 exited;
	bool			 eof;
	bool			 timed_out;
	int			 wstatus;
	char			 keep[PROC_OUTPUT_KEEP + 1];
	size_t			 keep_len;
	proc_done_cb		 cb;
	void			*arg;
};

/* Counts a finished hook against its certificate, for the metrics. */
static void
proc_count(struct proc *p, bool ok)
{
	struct cert	*c;
	size_t		 kind;

	if (p->tag_name == NULL || (c = daemon_cert(p->d, p->tag_name)) == NULL)
		return;
	for (kind = 0; kind < HOOK__MAX; kind++)
		if (strcmp(p->name, hook_kind_names[kind]) == 0)
			cert_hook_ran(c, kind, ok);
}

void
proc_argv_free(char **argv)
{
	size_t	i;

	if (argv == NULL)
		return;
	for (i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

/* Appends c to the word being built. */
static int
word_put(char **word, size_t *len, char c)
{
	char	*p;

	if ((p = realloc(*word, *len + 2)) == NULL)
		return -1;
	p[(*len)++] = c;
	p[*len] = '\0';
	*word = p;
	return 0;
}

static int
argv_push(char ***argv, size_t *argc, char *word)
{
	char	**p;

	if ((p = reallocarray(*argv, *argc + 2, sizeof(*p))) == NULL)
		return -1;
	p[(*argc)++] = word;
	p[*argc] = NULL;
	*argv = p;
	return 0;
}

int
proc_split_argv(const char *cmd, char ***argvp, char **cause)
{
	char		**argv = NULL, *word = NULL;
	size_t		  argc = 0, len = 0;
	char		  quote = '\0';
	bool		  in_word = false;
	const char	 *p;

	for (p = cmd; *p != '\0'; p++) {
		if (quote == '\'') {
			if (*p == '\'')
				quote = '\0';
			else if (word_put(&word, &len, *p) == -1)
				goto nomem;
			continue;
		}
		if (quote == '"') {
			if (*p == '"')
				quote = '\0';
			else if (*p == '\\' && p[1] != '\0' &&
			    strchr("\"\\$`", p[1]) != NULL) {
				if (word_put(&word, &len, *++p) == -1)
					goto nomem;
			} else if (word_put(&word, &len, *p) == -1)
				goto nomem;
			continue;
		}
		if (*p == ' ' || *p == '\t' || *p == '\n') {
			if (in_word) {
				if (argv_push(&argv, &argc, word) == -1)
					goto nomem;
				word = NULL;
				len = 0;
				in_word = false;
			}
			continue;
		}
		in_word = true;
		if (*p == '\'' || *p == '"') {
			quote = *p;
			/* "" is an empty word, not nothing. */
			if (word == NULL && (word = strdup("")) == NULL)
				goto nomem;
		} else if (*p == '\\' && p[1] != '\0') {
			if (word_put(&word, &len, *++p) == -1)
				goto nomem;
		} else if (word_put(&word, &len, *p) == -1)
			goto nomem;
	}
	if (quote != '\0') {
		*cause = xasprintf("unterminated %c quote in '%s'", quote, cmd);
		goto fail;
	}
	if (in_word && argv_push(&argv, &argc, word) == -1)
		goto nomem;
	word = NULL;
	if (argc == 0) {
		*cause = xasprintf("empty command");
		goto fail;
	}
	*argvp = argv;
	return 0;
nomem:
	*cause = xasprintf("out of memory");
fail:
	free(word);
	proc_argv_free(argv);
	return -1;
}

/* environ without the names env sets, then env. */
static char **
proc_environment(char *const env[])
{
	char		**out = NULL;
	size_t		  n = 0, i, j, namelen;
	bool		  overridden;

	for (i = 0; environ[i] != NULL; i++) {
		overridden = false;
		for (j = 0; env != NULL && env[j] != NULL && !overridden; j++) {
			namelen = strcspn(env[j], "=");
			overridden = strncmp(environ[i], env[j], namelen) == 0 &&
			    environ[i][namelen] == '=';
		}
		if (!overridden && argv_push(&out, &n, environ[i]) == -1)
			goto fail;
	}
	for (j = 0; env != NULL && env[j] != NULL; j++)
		if (argv_push(&out, &n, env[j]) == -1)
			goto fail;
	if (out == NULL && argv_push(&out, &n, NULL) == -1)
		goto fail;
	return out;	/* borrowed strings: free only the vector */
fail:
	free(out);
	return NULL;
}

static void
proc_free(struct proc *p)
{
	if (p == NULL)
		return;
	TAILQ_REMOVE(&p->d->procs, p, entry);
	if (p->out != NULL)
		bufferevent_free(p->out);
	event_del(&p->timer);
	free(p->name);
	free(p->tag_name);
	free(p->tag_ca);
	free(p);
}

static void
proc_keep(struct proc *p, const char *s, size_t len)
{
	size_t	drop;

	if (len > PROC_OUTPUT_KEEP) {
		s += len - PROC_OUTPUT_KEEP;
		len = PROC_OUTPUT_KEEP;
	}
	if (p->keep_len + len > PROC_OUTPUT_KEEP) {
		drop = p->keep_len + len - PROC_OUTPUT_KEEP;
		memmove(p->keep, p->keep + drop, p->keep_len - drop);
		p->keep_len -= drop;
	}
	memcpy(p->keep + p->keep_len, s, len);
	p->keep_len += len;
	p->keep[p->keep_len] = '\0';
}

static void
proc_log_line(struct proc *p, const char *line, size_t len)
{
	struct log_tag	tag = { .name = p->tag_name, .ca = p->tag_ca };

	log_tagged(LOG_INFO, &tag, "%s: %.*s", p->name, (int)len, line);
	proc_keep(p, line, len);
	proc_keep(p, "\n", 1);
}

static void
proc_finish(struct proc *p)
{
	struct proc_result	 r;
	char			*error = NULL;
	proc_done_cb		 cb = p->cb;
	void			*arg = p->arg;

	memset(&r, 0, sizeof(r));
	r.status = -1;
	r.timed_out = p->timed_out;
	r.output = p->keep;
	if (p->timed_out)
		error = xasprintf("%s timed out and was killed", p->name);
	else if (!p->exited)
		error = xasprintf("%s: lost track of the process", p->name);
	else if (WIFEXITED(p->wstatus)) {
		r.status = WEXITSTATUS(p->wstatus);
		if (r.status != 0)
			error = xasprintf("%s exited with status %d", p->name,
			    r.status);
	} else if (WIFSIGNALED(p->wstatus)) {
		r.signal = WTERMSIG(p->wstatus);
		error = xasprintf("%s killed by signal %d", p->name, r.signal);
	}
	if (r.status != 0 && error == NULL)
		error = xasprintf("%s failed", p->name);
	r.error = error;
	proc_count(p, error == NULL);
	/* The callback may spawn again: unlink first. */
	p->cb = NULL;
	cb(&r, arg);
	free(error);
	proc_free(p);
}

static void
proc_maybe_finish(struct proc *p)
{
	struct timeval	tv = { PROC_GRACE, 0 };

	if (p->exited && p->eof)
		proc_finish(p);
	else if (p->exited) {
		/* A grandchild may hold the pipe: do not wait for ever. */
		event_del(&p->timer);
		evtimer_add(&p->timer, &tv);
	}
}

static void
proc_read_cb(struct bufferevent *bev, void *arg)
{
	struct proc	*p = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	char		*line;
	size_t		 len;
	char		 chunk[PROC_LINE_MAX];

	while ((line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF)) != NULL) {
		proc_log_line(p, line, len);
		free(line);
	}
	while (evbuffer_get_length(in) >= PROC_LINE_MAX) {
		len = evbuffer_remove(in, chunk, sizeof(chunk));
		proc_log_line(p, chunk, len);
	}
}

static void
proc_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct proc	*p = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	char		 chunk[PROC_LINE_MAX];
	size_t		 len;

	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		return;
	while ((len = evbuffer_remove(in, chunk, sizeof(chunk))) > 0 &&
	    len != (size_t)-1)
		proc_log_line(p, chunk, len);
	bufferevent_disable(bev, EV_READ);
	p->eof = true;
	proc_maybe_finish(p);
}

static void
proc_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proc	*p = arg;

	if (p->exited) {
		/* The grace period after exit is over. */
		p->eof = true;
		proc_finish(p);
		return;
	}
	log_tagged(LOG_WARNING, &(struct log_tag){ .name = p->tag_name,
	    .ca = p->tag_ca }, "%s: timed out; killing its process group",
	    p->name);
	p->timed_out = true;
	kill(-p->pid, SIGKILL);
}

static int
proc_exec(struct proc *p, char *const argv[], char *const env[], int out,
    char **cause)
{
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 attr;
	sigset_t			 none, all;
	char				**envp;
	int				 rc = -1, error;

	if ((envp = proc_environment(env)) == NULL) {
		*cause = xasprintf("out of memory");
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out, 1);
	posix_spawn_file_actions_adddup2(&fa, out, 2);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	/* Own process group (killed as a whole); default signal actions,
	 * since the daemon ignores SIGPIPE and that would be inherited. */
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	if ((error = posix_spawn(&p->pid, argv[0], &fa, &attr, argv,
	    envp)) != 0)
		*cause = xasprintf("cannot run %s: %s", argv[0],
		    strerror(error));
	else
		rc = 0;
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	free(envp);
	return rc;
}

struct proc *
proc_spawn(struct daemon *d, const struct log_tag *tag, const char *name,
    char *const argv[], char *const env[], long long timeout,
    proc_done_cb cb, void *arg, char **cause)
{
	struct proc	*p;
	int		 fds[2] = { -1, -1 };
	struct timeval	 tv = { 0, 0 };

	if (access(argv[0], X_OK) == -1) {
		*cause = xasprintf("%s %s: %s", name, argv[0], strerror(errno));
		return NULL;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->name = strdup(name)) == NULL ||
	    (tag != NULL && tag->name != NULL &&
	    (p->tag_name = strdup(tag->name)) == NULL) ||
	    (tag != NULL && tag->ca != NULL &&
	    (p->tag_ca = strdup(tag->ca)) == NULL)) {
		*cause = xasprintf("out of memory");
		goto fail;
	}
	p->d = d;
	p->cb = cb;
	p->arg = arg;
	TAILQ_INSERT_TAIL(&d->procs, p, entry);
	evtimer_assign(&p->timer, d->base, proc_timer_cb, p);
	if (pipe2(fds, O_CLOEXEC) == -1) {
		*cause = xasprintf("%s: pipe: %s", name, strerror(errno));
		goto fail;
	}
	if (proc_exec(p, argv, env, fds[1], cause) == -1)
		goto fail;
	close(fds[1]);
	fds[1] = -1;
	evutil_make_socket_nonblocking(fds[0]);
	if ((p->out = bufferevent_socket_new(d->base, fds[0],
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		close(fds[0]);
		kill(-p->pid, SIGKILL);
		*cause = xasprintf("%s: out of memory", name);
		p->pid = 0;
		goto fail;
	}
	fds[0] = -1;
	bufferevent_setcb(p->out, proc_read_cb, NULL, proc_event_cb, p);
	bufferevent_enable(p->out, EV_READ);
	if (timeout > 0) {
		tv.tv_sec = timeout;
		evtimer_add(&p->timer, &tv);
	}
	log_tagged(LOG_DEBUG, tag, "%s: started %s (pid %d)", name, argv[0],
	    (int)p->pid);
	return p;
fail:
	if (fds[0] != -1)
		close(fds[0]);
	if (fds[1] != -1)
		close(fds[1]);
	if (p != NULL && p->d != NULL)
		proc_free(p);
	else if (p != NULL) {
		free(p->name);
		free(p->tag_name);
		free(p->tag_ca);
		free(p);
	}
	return NULL;
}

void
proc_cancel(struct proc *p)
{
	if (p == NULL)
		return;
	/* The zombie is reaped by proc_reap like any other child. */
	if (!p->exited && p->pid > 0)
		kill(-p->pid, SIGKILL);
	proc_free(p);
}

void
proc_reap(struct daemon *d)
{
	struct proc	*p;
	pid_t		 pid;
	int		 status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		TAILQ_FOREACH(p, &d->procs, entry)
			if (p->pid == pid)
				break;
		if (p == NULL)
			continue;	/* cancelled earlier */
		p->exited = true;
		p->wstatus = status;
		event_del(&p->timer);
		proc_maybe_finish(p);
	}
}
