/*
 * One renewal as an explicit state machine, advanced by HTTP completions
 * and timers: order -> authorizations -> challenges -> poll -> finalize ->
 * poll -> download -> install.
 */
#ifndef DAEMON_RENEWAL_H
#define DAEMON_RENEWAL_H

struct cert;
struct renewal;

enum renewal_phase {
	PHASE_ACCOUNT,
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

/* Starts at once; ends by calling cert_renewal_done().  NULL if it could
 * not start (cert_renewal_done() has then been called). */
struct renewal	*renewal_start(struct cert *);
/* Stops without calling back; frees everything. */
void		 renewal_free(struct renewal *);
enum renewal_phase renewal_phase(const struct renewal *);
/* The CA's Retry-After on the answer that failed it, -1 when none. */
long long	 renewal_retry_after(const struct renewal *);

#endif
