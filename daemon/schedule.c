/* The renewal policy's arithmetic; see schedule.h. */
#include <config.h>

#include "schedule.h"

static time_t
renewal_base(time_t not_before, time_t not_after, long long renew_before)
{
	time_t	lifetime = not_after - not_before;
	time_t	before = renew_before > 0 ? (time_t)renew_before : lifetime / 3;

	if (before > lifetime)
		before = lifetime;
	return not_after - before;
}

static time_t
jitter_window(time_t not_before, time_t not_after)
{
	time_t	window = (not_after - not_before) / 30;

	return window > SCHEDULE_JITTER_MAX ? SCHEDULE_JITTER_MAX : window;
}

/* [0, n] */
static time_t
random_upto(time_t n, schedule_rand_fn rnd)
{
	if (n <= 0)
		return 0;
	if (n >= (time_t)UINT32_MAX)
		n = UINT32_MAX - 1;
	return rnd((uint32_t)n + 1);
}

time_t
schedule_renewal(time_t not_before, time_t not_after, long long renew_before,
    schedule_rand_fn rnd)
{
	return renewal_base(not_before, not_after, renew_before) -
	    random_upto(jitter_window(not_before, not_after), rnd);
}

int
schedule_renewal_valid(time_t when, time_t not_before, time_t not_after,
    long long renew_before)
{
	time_t	base = renewal_base(not_before, not_after, renew_before);

	return when > 0 && when <= base &&
	    when >= base - jitter_window(not_before, not_after);
}

time_t
schedule_backoff(unsigned failures, time_t now, time_t not_after,
    long long retry_after, schedule_rand_fn rnd)
{
	time_t		delay = SCHEDULE_BACKOFF_FIRST;
	unsigned	i;

	for (i = 1; i < failures && delay < SCHEDULE_BACKOFF_MAX; i++)
		delay *= 2;
	if (delay > SCHEDULE_BACKOFF_MAX)
		delay = SCHEDULE_BACKOFF_MAX;
	/* +-10 % so a fleet's retries do not line up. */
	delay = delay - delay / 10 + random_upto(delay / 5, rnd);
	/* Nearing expiry, retry at least every third of the time left. */
	if (not_after > now && delay > (not_after - now) / 3)
		delay = (not_after - now) / 3;
	if (delay < SCHEDULE_BACKOFF_FLOOR)
		delay = SCHEDULE_BACKOFF_FLOOR;
	/* The CA asked us to wait (RFC 8555 §6.6): it wins. */
	if (retry_after > SCHEDULE_RETRY_AFTER_MAX)
		retry_after = SCHEDULE_RETRY_AFTER_MAX;
	if (retry_after > delay)
		delay = (time_t)retry_after;
	return now + delay;
}

bool
schedule_poll_expired(time_t started, time_t now, long long retry_after,
    long long limit)
{
	long long	waited = (long long)(now - started);

	return waited > limit || (retry_after > 0 && waited + retry_after > limit);
}

size_t
schedule_ca_index(unsigned failures, int fallback_after, size_t ncas)
{
	if (ncas <= 1 || fallback_after <= 0)
		return 0;
	return (failures / (unsigned)fallback_after) % ncas;
}
