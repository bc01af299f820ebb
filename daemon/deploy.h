/*
 * deploy-hook and reload-units after each new certificate, retried with
 * backoff until done or superseded; failure-hook after a failed attempt.
 */
#ifndef DAEMON_DEPLOY_H
#define DAEMON_DEPLOY_H

struct cert;

/* A new version was installed: deploy it (superseding any pending one). */
void	 deploy_start(struct cert *);
/* At start: a deployment pending in state.json is retried when due. */
void	 deploy_resume(struct cert *);
/* Stops the hook, the unit reloads and the retry timer. */
void	 deploy_stop(struct cert *);
/* Runs failure-hook, if configured, after a failed renewal attempt. */
void	 deploy_failure_hook(struct cert *, const char *error);
/*
 * The hook environment of DESIGN.md ("NAME=value", NULL-terminated);
 * with error, ACME_RENEWD_ERROR and ACME_RENEWD_FAILURES too.
 */
char	**deploy_env(const struct cert *, const char *error,
	    unsigned failures);
void	 deploy_env_free(char **);

#endif
