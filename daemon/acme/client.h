/*
 * What the files of the ACME client share; nothing outside daemon/acme/
 * includes this.
 *
 *	client.c	the client and its requests: the queue that waits
 *			for the directory and the account, nonces, signing,
 *			badNonce and accountDoesNotExist retries, profiles,
 *			statistics
 *	response.c	what a CA answers: responses and problem documents,
 *			directories, Link headers
 *	account.c	the account: its key file, registration (with EAB),
 *			account.json, key rollover
 */
#ifndef DAEMON_ACME_CLIENT_H
#define DAEMON_ACME_CLIENT_H

#include <stdbool.h>
#include <sys/queue.h>

#include <event2/event_struct.h>

#include "acme.h"

#define NONCE_POOL		8

struct http;
struct http_response;
struct http_xfer;
struct keygen;

enum client_state {
	CLIENT_IDLE,		/* nothing known yet, or setup failed */
	CLIENT_DIRECTORY,	/* GET directory in flight */
	CLIENT_ACCOUNT,		/* newAccount in flight */
	CLIENT_READY,
};

TAILQ_HEAD(acme_op_list, acme_op);

struct acme_client {
	struct event_base	*base;
	struct http		*http;
	struct keygen_list	*keygens;
	struct keygen		*keygen;	/* account key being made */
	const struct conf_ca	*conf;
	char			*name;
	char			*state_dir;
	char			*account_dir;	/* state_dir/accounts/<name> */
	enum client_state	 state;
	json_t			*directory;
	char			*nonces[NONCE_POOL];
	size_t			 nnonces;
	EVP_PKEY		*key;
	char			*kid;
	struct http_xfer	*setup_xfer;	/* directory GET */
	struct acme_op		*setup_op;	/* newAccount */
	struct acme_op_list	 waiting;	/* until CLIENT_READY */
	struct acme_op_list	 active;	/* nonce or POST in flight */
	struct acme_op_list	 failing;	/* failure about to be delivered */
	struct acme_endpoint_stats stats[ACME_EP__MAX];
};

struct acme_op {
	TAILQ_ENTRY(acme_op)	 entry;
	struct acme_client	*c;
	struct acme_op_list	*list;
	char			*url;		/* NULL: resolve res when ready */
	char			*res;
	char			*payload;	/* NULL: POST-as-GET */
	bool			 use_jwk;	/* newAccount signs with jwk */
	bool			 probe;		/* no request: "ready?" only */
	bool			 get;		/* unsigned GET */
	enum acme_endpoint	 ep;
	int			 retries;
	struct http_xfer	*xfer;
	struct event		 failev;	/* delivers failure later */
	char			*failure;
	long long		 retry_after;	/* of the answer that failed it */
	char			*profile;	/* newOrder: to check and add */
	char			*cert;		/* newOrder: for whom */
	acme_cb			 cb;
	void			*arg;
};

/* client.c */
/* A log line about this CA: tagged ACME_RENEWD_CA=<name>. */
void		 client_log(const struct acme_client *, int prio,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
struct acme_op	*client_op_new(struct acme_client *, enum acme_endpoint,
		    const char *url, const char *res, json_t *payload, acme_cb,
		    void *arg);
/* Takes a nonce (or asks for one), signs, sends. */
void		 client_op_send(struct acme_op *);
/* Fails every request waiting for the setup, with the CA's Retry-After. */
void		 client_fail_waiting(struct acme_client *, const char *why,
		    long long retry_after);

/* response.c */
/* A transport failure, with a hint where the usual cause is known. */
char		*response_transport_error(const struct acme_client *,
		    const char *url, const struct http_response *);
/*
 * An acme_response from an HTTP response: the JSON body and, for an
 * error, the problem document; *errbuf gets the malloc'd error line.
 */
void		 response_build(const struct acme_client *, const char *url,
		    const struct http_response *, struct acme_response *,
		    char **errbuf);
/* Whether the problem is urn:ietf:params:acme:error:<what>. */
bool		 response_problem_is(const struct acme_response *,
		    const char *what);

/* account.c */
/* Loads or makes the key, then newAccount; READY or the waiting fail. */
void		 account_register(struct acme_client *);
/* Removes the temporary files an interrupted write left (fsutil.h). */
void		 account_sweep(struct acme_client *);

#endif
