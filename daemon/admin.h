/*
 * Operator actions that talk to a CA and answer the control client when
 * the CA has: revoke (RFC 8555 §7.6, then a new certificate) and account
 * key rollover (§7.3.5).
 */
#ifndef DAEMON_ADMIN_H
#define DAEMON_ADMIN_H

#include <stdint.h>
#include <sys/queue.h>

#include <jansson.h>

struct admin_job;
struct daemon;

TAILQ_HEAD(admin_list, admin_job);

/* RFC 5280 CRLReason names ("keyCompromise") -> code, -1 if unknown. */
int	 admin_reason_code(const char *);
/*
 * How an action ended: result (a new reference, taken) or error.  Runs
 * exactly once for an action that started, from the loop.
 */
typedef void (*admin_done_cb)(json_t *result, const char *error, void *arg);

/* Both call done later; -1 with *cause (done never runs) when they
 * cannot start. */
int	 admin_revoke(struct daemon *, const char *cert, int reason,
	    admin_done_cb done, void *arg, char **cause);
int	 admin_rollover(struct daemon *, const char *ca, admin_done_cb done,
	    void *arg, char **cause);
/* At shutdown: ends every action with an error. */
void	 admin_free_all(struct daemon *);
struct acme_client;
/* A reload removed this CA: its jobs end with an error. */
void	 admin_drop_ca(struct daemon *, const struct acme_client *);

#endif
