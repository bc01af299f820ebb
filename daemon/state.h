/*
 * state-dir/certs/<name>/state.json: what must survive a restart — the
 * schedule, the failure count, the last error and the last attempts.
 */
#ifndef DAEMON_STATE_H
#define DAEMON_STATE_H

#include <stdbool.h>
#include <time.h>

#include "certinfo.h"

#define STATE_HISTORY_MAX	10
#define STATE_FILE		"state.json"

struct attempt {
	time_t		 started;
	time_t		 finished;
	bool		 ok;
	char		*ca;
	char		*phase;		/* where it ended */
	char		*error;		/* NULL on success */
};

/* deploy-hook and reload-units for the installed version. */
struct deploy_state {
	bool		 pending;	/* not yet deployed */
	int		 version;	/* the version to deploy */
	unsigned	 failures;	/* consecutive */
	time_t		 next;		/* next retry, 0 = now */
	char		*last_error;
};

/* The CA's suggested renewal window (RFC 9773) for one certificate. */
struct ari_state {
	char		*serial;	/* the certificate it is for */
	time_t		 start;
	time_t		 end;
	time_t		 next_fetch;	/* as Retry-After said */
};

/*
 * `current` as it was last read (or installed): a start trusts this copy
 * while the files are unchanged (same version, same store_file_id()), so a
 * fleet of 10,000 certificates starts without reading and parsing every
 * certificate and key again.
 */
struct current_state {
	int		 version;	/* `current` -> v<version>; 0 = none */
	char		*file_id;	/* store_file_id() of its files */
	struct certinfo	 info;
};

struct cert_state {
	time_t		 next_renewal;	/* 0 = as soon as possible */
	time_t		 last_success;	/* 0 = never */
	unsigned	 failures;	/* consecutive */
	char		*last_error;
	char		*ca;		/* CA that issued the current cert */
	struct deploy_state deploy;
	struct ari_state ari;
	struct current_state current;
	/* Newest first, at most STATE_HISTORY_MAX; allocated to fit (a fleet
	 * keeps thousands of these). */
	struct attempt	*history;
	size_t		 nhistory;
};

/* Returns 0, 1 when the file does not exist (st zeroed), or -1 with *cause
 * when it exists but cannot be read or parsed. */
int	 state_load(const char *path, struct cert_state *, char **cause);
int	 state_save(const char *path, const struct cert_state *, char **cause);
/* The same as dirpath/STATE_FILE in the directory open as dirfd. */
int	 state_save_at(int dirfd, const char *dirpath,
	    const struct cert_state *, char **cause);
void	 state_clear(struct cert_state *);
void	 state_current_clear(struct current_state *);
/* Pushes an attempt to the front of the history (copies the strings). */
void	 state_add_attempt(struct cert_state *, const struct attempt *);

#endif
