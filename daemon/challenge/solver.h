/*
 * One seam for every challenge type (RFC 8555 §8).  A solver answers the
 * challenges of one certificate: present() puts the answer to one
 * authorization's challenge where the CA will look and says, once, when
 * the CA may be told to validate (at once for http-01 and tls-alpn-01,
 * once the TXT record is visible for dns-01); withdraw() takes it back,
 * whatever state it is in.  The renewal knows no challenge type: it asks
 * the solver which one to pick from an authorization and hands it the
 * token.
 *
 *	solver.c	the seam: answers, the ready call, the choice of
 *			type for a certificate's configuration, and each
 *			type's operations over:
 *	http01.c	the standalone http-01 responder
 *	webroot.c	http-01 by files
 *	tlsalpn01.c	the tls-alpn-01 responder
 *	dns01.c		dns-01 TXT records, by hook or RFC 2136 UPDATE
 */
#ifndef DAEMON_CHALLENGE_SOLVER_H
#define DAEMON_CHALLENGE_SOLVER_H

#include <event2/event_struct.h>

struct conf_cert;
struct daemon;
struct event_base;
struct solver;
struct solver_answer;

/* error NULL: the answer is in place, the CA may validate now. */
typedef void (*solver_ready_cb)(const char *error, void *arg);

/*
 * The solver for a certificate's challenge, webroot or dns-01 backend;
 * it reaches the daemon's responders when it needs them, so a reload that
 * moves a listener leaves it working.  NULL when out of memory.
 */
struct solver	*solver_new(struct daemon *, const struct conf_cert *);
void		 solver_free(struct solver *);
/* The challenge type it answers: "http-01", "dns-01", "tls-alpn-01". */
const char	*solver_type(const struct solver *);
/*
 * Puts the answer to identifier's challenge (token, and keyauth, the key
 * authorization) in place.  cb runs exactly once, from the loop, unless
 * the answer is withdrawn first.  NULL with *cause when nothing could be
 * put in place (cb never runs then).
 */
struct solver_answer *solver_present(struct solver *, const char *identifier,
		    const char *token, const char *keyauth, solver_ready_cb cb,
		    void *arg, char **cause);
/* Takes the answer back and frees the handle; NULL is a no-op. */
void		 solver_withdraw(struct solver_answer *);

/*
 * For the implementations (and tests' own solvers): a type's operations.
 * present() fills ans->priv as it likes and calls solver_answer_ready()
 * when the CA may validate (at once is fine: the call is delivered from
 * the loop); 0, or -1 with *cause.  withdraw() undoes present().
 */
struct solver_ops {
	const char	*type;
	int		(*present)(struct solver_answer *, char **cause);
	void		(*withdraw)(struct solver_answer *);
	void		(*free)(struct solver *);	/* ctx; may be NULL */
};

struct solver {
	const struct solver_ops	*ops;
	struct event_base	*base;
	struct daemon		*d;		/* NULL for a test's solver */
	char			*cert_name;
	void			*ctx;		/* the implementation's */
};

struct solver_answer {
	struct solver		*solver;
	char			*identifier;
	char			*token;
	char			*keyauth;
	void			*priv;		/* the implementation's */
	solver_ready_cb		 cb;
	void			*arg;
	char			*error;		/* for cb */
	struct event		 ev_ready;
	int			 ready;		/* 0, 1 pending, 2 delivered */
};

/* A solver of these operations (ctx is the implementation's). */
struct solver	*solver_new_ops(struct event_base *, const struct solver_ops *,
		    const char *cert_name, void *ctx);
/* The answer is in place (error NULL) or could not be; cb runs from the
 * loop.  Only the first call counts. */
void		 solver_answer_ready(struct solver_answer *, const char *error);

#endif
