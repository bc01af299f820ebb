/*
 * One thread per key.  The thread touches nothing but its own job: it
 * makes the key, stores it, and writes one byte to the job's pipe; the
 * loop then joins it and calls back.  A cancelled job stays on the list
 * until its thread is done, so nothing is freed under a running thread.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "log.h"
#include "acme/acme.h"
#include "keygen.h"

struct keygen {
	TAILQ_ENTRY(keygen)	 entry;
	struct keygen_list	*list;
	pthread_t		 thread;
	int			 pipe[2];
	struct event		 ev;
	struct key_spec		 spec;
	EVP_PKEY		*key;		/* written by the thread */
	keygen_cb		 cb;		/* NULL once cancelled */
	void			*arg;
};

static void *
keygen_thread(void *arg)
{
	struct keygen	*k = arg;
	char		 byte = 1;
	ssize_t		 n;

	k->key = keystore_generate(&k->spec);
	do
		n = write(k->pipe[1], &byte, 1);
	while (n == -1 && errno == EINTR);
	return NULL;
}

static void
keygen_free(struct keygen *k)
{
	TAILQ_REMOVE(k->list, k, entry);
	event_del(&k->ev);
	close(k->pipe[0]);
	close(k->pipe[1]);
	EVP_PKEY_free(k->key);
	free(k);
}

static void
keygen_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct keygen	*k = arg;
	keygen_cb	 cb = k->cb;
	void		*cbarg = k->arg;
	EVP_PKEY	*key = k->key;

	pthread_join(k->thread, NULL);
	k->key = NULL;
	keygen_free(k);
	if (cb != NULL)
		cb(key, cbarg);
	else
		EVP_PKEY_free(key);
}

struct keygen *
keygen_start(struct event_base *base, struct keygen_list *list,
    const struct key_spec *spec, keygen_cb cb, void *arg)
{
	struct keygen	*k;
	int		 error;

	if ((k = calloc(1, sizeof(*k))) == NULL)
		return NULL;
	if (pipe2(k->pipe, O_CLOEXEC | O_NONBLOCK) == -1) {
		log_warn("keygen: pipe");
		free(k);
		return NULL;
	}
	k->spec = *spec;
	k->cb = cb;
	k->arg = arg;
	k->list = list;
	TAILQ_INSERT_TAIL(list, k, entry);
	event_assign(&k->ev, base, k->pipe[0], EV_READ, keygen_done_cb, k);
	event_add(&k->ev, NULL);
	if ((error = pthread_create(&k->thread, NULL, keygen_thread, k)) != 0) {
		log_warnx("keygen: cannot start a thread: %s", strerror(error));
		keygen_free(k);
		return NULL;
	}
	return k;
}

void
keygen_cancel(struct keygen *k)
{
	if (k != NULL)
		k->cb = NULL;
}

void
keygen_free_all(struct keygen_list *list)
{
	struct keygen	*k;

	while ((k = TAILQ_FIRST(list)) != NULL) {
		pthread_join(k->thread, NULL);
		keygen_free(k);
	}
}
