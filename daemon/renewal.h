/*
 * One renewal (RFC 8555 §7.4-7.5) as an explicit state machine, advanced
 * by the ACME client's completions and timers:
 *
 *	order -> authorizations -> challenges -> poll -> finalize -> poll
 *	-> download -> install
 *
 * It knows the certificate only through its parameters, the challenge
 * type only through its solver, and reports only through its callbacks:
 * where it stands (a phase), and once, how it ended.
 */
#ifndef DAEMON_RENEWAL_H
#define DAEMON_RENEWAL_H

#include <sys/types.h>

#include <stdbool.h>

#include <openssl/evp.h>

#include "certinfo.h"

struct acme_client;
struct event_base;
struct keygen_list;
struct key_spec;
struct renewal;
struct solver;
struct strlist;

enum renewal_phase {
	PHASE_ORDER,
	PHASE_AUTHORIZATIONS,
	PHASE_CHALLENGES,
	PHASE_POLL_AUTHORIZATIONS,
	PHASE_FINALIZE,
	PHASE_POLL_ORDER,
	PHASE_DOWNLOAD,
	PHASE_INSTALL,
	PHASE__MAX
};

extern const char *const renewal_phase_names[PHASE__MAX];

/* What a renewal works with; everything is borrowed for its life but
 * reuse_key, of which renewal_start() takes a reference of its own. */
struct renewal_params {
	const char		*name;		/* the certificate's, for logs
						 * and the store */
	const struct strlist	*domains;	/* the names, in order */
	struct acme_client	*ca;
	struct solver		*solver;
	const struct key_spec	*key_spec;	/* of a new key */
	EVP_PKEY		*reuse_key;	/* NULL: make a new key */
	const char		*profile;	/* NULL: the CA's default */
	const char		*replaces;	/* ARI id (RFC 9773), or NULL */
	const char		*preferred_chain;
	const char		*state_dir;
	bool			 key_shared;	/* key-owner */
	uid_t			 key_uid;
	gid_t			 key_gid;
	struct event_base	*base;
	struct keygen_list	*keygens;
};

/* How it ended.  info may be taken (moved out) by the callback. */
struct renewal_result {
	bool			 ok;
	enum renewal_phase	 phase;		/* where it ended */
	const char		*error;		/* NULL on success */
	long long		 retry_after;	/* of the failing answer, -1 */
	bool			 storage_error;	/* the install failed */
	int			 version;	/* installed, on success */
	struct certinfo		 info;		/* of it, on success */
};

typedef void (*renewal_phase_cb)(enum renewal_phase, void *arg);
/* The renewal is over: free it (from here or later). */
typedef void (*renewal_done_cb)(struct renewal_result *, void *arg);

/*
 * Starts; the first request goes out from the loop.  done runs exactly
 * once, from the loop, unless the renewal is freed first.  NULL only when
 * out of memory (nothing runs then).
 */
struct renewal	*renewal_start(const struct renewal_params *,
		    renewal_phase_cb, renewal_done_cb, void *arg);
/* Stops without calling back, withdraws every answer, frees. */
void		 renewal_free(struct renewal *);
enum renewal_phase renewal_phase(const struct renewal *);

#endif
