/*
 * Key generation off the loop: RSA keys take from tens of milliseconds to
 * seconds, so every key is made in a worker thread that reports back
 * through a pipe watched by the loop.
 */
#ifndef DAEMON_KEYGEN_H
#define DAEMON_KEYGEN_H

#include <sys/queue.h>

#include <openssl/evp.h>

#include "config.h"

struct event_base;
struct keygen;

TAILQ_HEAD(keygen_list, keygen);

/* key is NULL when generation failed; the callee owns it otherwise. */
typedef void (*keygen_cb)(EVP_PKEY *key, void *arg);

/* NULL when no thread could be started (the caller reports it). */
struct keygen	*keygen_start(struct event_base *, struct keygen_list *,
		    const struct key_spec *, keygen_cb, void *arg);
/* The callback will not run; the thread finishes and is reaped. */
void		 keygen_cancel(struct keygen *);
/* At shutdown: waits for every thread and frees what is left. */
void		 keygen_free_all(struct keygen_list *);

#endif
