/*
 * Handing a new certificate to the services that use it: deploy-hook,
 * then reload-units.  A failure is reported (log, state.json, history)
 * and retried with backoff until it succeeds or a newer certificate
 * supersedes it; it never causes a new issuance.  The failure-hook runs
 * after each failed renewal attempt, so someone can be paged.
 */
#include <config.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "log.h"
#include "timeutil.h"
#include "util.h"
#include "cert.h"
#include "daemon.h"
#include "deploy.h"
#include "proc.h"
#include "schedule.h"
#include "store.h"
#include "units.h"

#define ENV_MAX	10

static void	deploy_units_step(struct cert *);

static struct log_tag
deploy_tag(const struct cert *c)
{
	return (struct log_tag){ .name = c->name, .phase = "deploy" };
}

static void	deploy_timer_cb(evutil_socket_t, short, void *);

/* The retry timer is made when first needed (most deploys never retry). */
static void
deploy_arm(struct cert *c, const struct timeval *tv)
{
	if (c->deploy_timer == NULL && (c->deploy_timer = evtimer_new(
	    c->d->base, deploy_timer_cb, c)) == NULL) {
		log_tagged(LOG_ERR, &(struct log_tag){ .name = c->name },
		    "out of memory: deploy not retried");
		return;
	}
	evtimer_add(c->deploy_timer, tv);
}

/* A "NAME=value" string, or NULL; the vector keeps count. */
static void
env_add(char **env, size_t *n, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
env_add(char **env, size_t *n, const char *name, const char *fmt, ...)
{
	va_list	 ap;
	char	*value;

	if (*n >= ENV_MAX)
		return;
	va_start(ap, fmt);
	value = xvasprintf(fmt, ap);
	va_end(ap);
	if (value != NULL && (env[*n] = xasprintf("%s=%s", name,
	    value)) != NULL)
		(*n)++;
	free(value);
}

char **
deploy_env(const struct cert *c, const char *error, unsigned failures)
{
	char		**env, *domains = NULL, *dir, *p;
	size_t		  n = 0, i, len = 0;

	if ((env = calloc(ENV_MAX + 1, sizeof(*env))) == NULL)
		return NULL;
	for (i = 0; i < c->conf->domains.n; i++)
		len += strlen(c->conf->domains.v[i]) + 1;
	if ((domains = calloc(1, len + 1)) != NULL)
		for (i = 0, p = domains; i < c->conf->domains.n; i++)
			p += sprintf(p, "%s%s", i > 0 ? " " : "",
			    c->conf->domains.v[i]);
	dir = store_cert_dir(c->d->conf->daemon.state_dir, c->name);
	env_add(env, &n, "ACME_RENEWD_NAME", "%s", c->name);
	env_add(env, &n, "ACME_RENEWD_DOMAINS", "%s",
	    domains != NULL ? domains : "");
	env_add(env, &n, "ACME_RENEWD_CERT_DIR", "%s/current", dir);
	env_add(env, &n, "ACME_RENEWD_CERT", "%s/current/cert.pem", dir);
	env_add(env, &n, "ACME_RENEWD_KEY", "%s/current/privkey.pem", dir);
	env_add(env, &n, "ACME_RENEWD_FULLCHAIN", "%s/current/fullchain.pem",
	    dir);
	env_add(env, &n, "ACME_RENEWD_CHAIN", "%s/current/chain.pem", dir);
	if (error != NULL) {
		env_add(env, &n, "ACME_RENEWD_ERROR", "%s", error);
		env_add(env, &n, "ACME_RENEWD_FAILURES", "%u", failures);
	}
	free(domains);
	free(dir);
	return env;
}

void
deploy_env_free(char **env)
{
	proc_argv_free(env);	/* the same shape: NULL-terminated, malloc'd */
}

/* Runs cmd as a hook; NULL with *cause when it cannot start. */
static struct proc *
deploy_run_hook(struct cert *c, const char *what, const char *cmd,
    char **env, proc_done_cb cb, char **cause)
{
	struct log_tag	 tag = { .name = c->name };
	struct proc	*p = NULL;
	char		**argv = NULL;

	if (proc_split_argv(cmd, &argv, cause) == 0)
		p = proc_spawn(c->d, &tag, what, argv, env,
		    c->d->conf->daemon.hook_timeout, cb, c, cause);
	proc_argv_free(argv);
	return p;
}

static void
deploy_record(struct cert *c, bool ok, const char *error)
{
	struct attempt	a;

	memset(&a, 0, sizeof(a));
	a.started = a.finished = time(NULL);
	a.ok = ok;
	a.phase = "deploy";
	a.error = (char *)error;
	state_add_attempt(&c->st, &a);
}

static void
deploy_succeeded(struct cert *c)
{
	struct log_tag	tag = deploy_tag(c);

	log_tagged(LOG_INFO, &tag, "version %d deployed%s", c->st.deploy.version,
	    c->st.deploy.failures > 0 ? " after earlier failures" : "");
	c->st.deploy.pending = false;
	c->st.deploy.failures = 0;
	c->st.deploy.next = 0;
	free(c->st.deploy.last_error);
	c->st.deploy.last_error = NULL;
	deploy_record(c, true, NULL);
	cert_save(c);
}

static void
deploy_failed(struct cert *c, const char *error)
{
	struct log_tag	tag = deploy_tag(c);
	struct timeval	tv = { 0, 0 };
	time_t		now = time(NULL);
	char		at[RFC3339_LEN];

	c->st.deploy.failures++;
	c->st.deploy.next = schedule_backoff(c->st.deploy.failures, now, 0,
	    -1, arc4random_uniform);
	free(c->st.deploy.last_error);
	c->st.deploy.last_error = strdup(error);
	time_format_rfc3339(c->st.deploy.next, at);
	log_tagged(LOG_WARNING, &tag, "deploying version %d failed (%u in a "
	    "row): %s; retrying at %s", c->st.deploy.version,
	    c->st.deploy.failures, error, at);
	deploy_record(c, false, error);
	cert_save(c);
	tv.tv_sec = c->st.deploy.next - now;
	deploy_arm(c, &tv);
}

static void
deploy_units_done_cb(const char *error, void *arg)
{
	struct cert	*c = arg;

	c->deploy_units = NULL;
	cert_hook_ran(c, HOOK_RELOAD_UNITS, error == NULL);
	if (error != NULL)
		deploy_failed(c, error);
	else
		deploy_succeeded(c);
}

static void
deploy_units_step(struct cert *c)
{
	char	*cause = NULL;

	if (c->conf->reload_units.n == 0) {
		deploy_succeeded(c);
		return;
	}
	if ((c->deploy_units = units_reload(c->d, c->name,
	    &c->conf->reload_units, deploy_units_done_cb, c, &cause)) == NULL) {
		deploy_failed(c, cause != NULL ? cause : "reload-units");
		free(cause);
	}
}

static void
deploy_hook_done_cb(const struct proc_result *res, void *arg)
{
	struct cert	*c = arg;

	c->deploy_proc = NULL;
	if (res->error != NULL)
		deploy_failed(c, res->error);
	else
		deploy_units_step(c);
}

/* One deployment attempt: the hook (if any), then the units (if any). */
static void
deploy_attempt(struct cert *c)
{
	char	**env, *cause = NULL;

	if (c->conf->deploy_hook == NULL) {
		deploy_units_step(c);
		return;
	}
	env = deploy_env(c, NULL, 0);
	c->deploy_proc = deploy_run_hook(c, "deploy-hook", c->conf->deploy_hook,
	    env, deploy_hook_done_cb, &cause);
	deploy_env_free(env);
	if (c->deploy_proc == NULL) {
		deploy_failed(c, cause != NULL ? cause : "deploy-hook");
		free(cause);
	}
}

static void
deploy_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cert	*c = arg;

	if (c->deploy_proc == NULL && c->deploy_units == NULL)
		deploy_attempt(c);
}

void
deploy_stop(struct cert *c)
{
	if (c->deploy_timer != NULL)
		event_free(c->deploy_timer);
	c->deploy_timer = NULL;
	proc_cancel(c->deploy_proc);
	c->deploy_proc = NULL;
	units_cancel(c->deploy_units);
	c->deploy_units = NULL;
}

static bool
deploy_configured(const struct cert *c)
{
	return c->conf->deploy_hook != NULL || c->conf->reload_units.n > 0;
}

void
deploy_start(struct cert *c)
{
	/* A newer certificate supersedes whatever was still pending. */
	deploy_stop(c);
	free(c->st.deploy.last_error);
	memset(&c->st.deploy, 0, sizeof(c->st.deploy));
	if (!deploy_configured(c))
		return;
	c->st.deploy.pending = true;
	c->st.deploy.version = c->st.current.version;
	cert_save(c);
	deploy_attempt(c);
}

void
deploy_resume(struct cert *c)
{
	struct timeval	tv = { 0, 0 };
	time_t		now = time(NULL);

	if (!c->st.deploy.pending)
		return;
	if (!deploy_configured(c) ||
	    c->st.deploy.version != c->st.current.version) {
		/* Nothing to do any more, or superseded meanwhile. */
		free(c->st.deploy.last_error);
		memset(&c->st.deploy, 0, sizeof(c->st.deploy));
		return;
	}
	if (c->st.deploy.next > now)
		tv.tv_sec = c->st.deploy.next - now;
	deploy_arm(c, &tv);
}

static void
failure_hook_done_cb(const struct proc_result *res, void *arg)
{
	struct cert	*c = arg;
	struct log_tag	 tag = { .name = c->name };

	c->failure_proc = NULL;
	if (res->error != NULL)
		log_tagged(LOG_WARNING, &tag, "failure-hook: %s", res->error);
}

void
deploy_failure_hook(struct cert *c, const char *error)
{
	struct log_tag	  tag = { .name = c->name };
	char		**env, *cause = NULL;

	if (c->conf->failure_hook == NULL)
		return;
	if (c->failure_proc != NULL) {
		log_tagged(LOG_NOTICE, &tag, "failure-hook still running from "
		    "the last failure; not started again");
		return;
	}
	env = deploy_env(c, error, c->st.failures);
	c->failure_proc = deploy_run_hook(c, "failure-hook",
	    c->conf->failure_hook, env, failure_hook_done_cb, &cause);
	deploy_env_free(env);
	if (c->failure_proc == NULL) {
		log_tagged(LOG_WARNING, &tag, "failure-hook: %s",
		    cause != NULL ? cause : "cannot run");
		free(cause);
	}
}
