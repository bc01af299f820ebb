/*
 * The renewal policy's arithmetic (DESIGN.md "Renewal policy"), free of
 * clocks and randomness: callers pass `now` and a random source, so the
 * bounds can be tested with a fake clock.
 */
#ifndef DAEMON_SCHEDULE_H
#define DAEMON_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SCHEDULE_BACKOFF_FIRST	60		/* 1 min ... */
#define SCHEDULE_BACKOFF_MAX	(6 * 60 * 60)	/* ... doubling to 6 h */
#define SCHEDULE_BACKOFF_FLOOR	10		/* nearing expiry */
#define SCHEDULE_JITTER_MAX	(24 * 60 * 60)
#define SCHEDULE_RETRY_AFTER_MAX (24 * 60 * 60)

/* A random number in [0, bound); arc4random_uniform in the daemon. */
typedef uint32_t (*schedule_rand_fn)(uint32_t bound);

/*
 * When a certificate valid from not_before to not_after is due: when a
 * third of its lifetime is left, or renew_before seconds before expiry
 * (0 = auto), moved earlier by a random jitter of at most a thirtieth of
 * the lifetime (capped at a day).  Never later than the unjittered moment.
 */
time_t	 schedule_renewal(time_t not_before, time_t not_after,
	    long long renew_before, schedule_rand_fn);
/* Whether a remembered moment still lies inside that jitter window. */
int	 schedule_renewal_valid(time_t when, time_t not_before,
	    time_t not_after, long long renew_before);
/*
 * The next retry after `failures` consecutive failures (>= 1): 1 min
 * doubling to 6 h, +-10 % jitter; when a certificate still valid until
 * not_after (0 = none) is at stake, never more than a third of the time
 * left, so the retries still fit before expiry; and never before the
 * CA's Retry-After (seconds, < 0 = none; capped at a day).
 */
time_t	 schedule_backoff(unsigned failures, time_t now, time_t not_after,
	    long long retry_after, schedule_rand_fn);
/*
 * Whether to stop polling a CA that keeps an order or authorization
 * waiting: `limit` seconds since `started` are over, or will be before
 * the CA's Retry-After (seconds from now, < 0 = none) lets us ask again,
 * so that giving up never means asking sooner than the CA said.
 */
bool	 schedule_poll_expired(time_t started, time_t now,
	    long long retry_after, long long limit);
/*
 * Which of ncas CAs the next attempt goes to: ca-fallback-after failures
 * in a row move to the next one, and after the last back to the first.
 */
size_t	 schedule_ca_index(unsigned failures, int fallback_after, size_t ncas);

#endif
