/* schedule.c: renewal moments, jitter bounds, backoff caps, fallback,
 * when to stop polling. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "daemon/schedule.h"

#define DAY	(24 * 60 * 60)
#define NOW	((time_t)1800000000)

static uint32_t	rnd_zero(uint32_t b) { (void)b; return 0; }
static uint32_t	rnd_max(uint32_t b) { return b - 1; }

static void
test_third_of_lifetime(void **state)
{
	/* 90 d: due 30 d before expiry, jitter up to 3 d but capped at 1 d. */
	time_t	nb = NOW, na = NOW + 90 * DAY;

	assert_int_equal(schedule_renewal(nb, na, 0, rnd_zero), na - 30 * DAY);
	assert_int_equal(schedule_renewal(nb, na, 0, rnd_max),
	    na - 30 * DAY - DAY);
	/* 6 d: 2 d before, jitter at most 6 d / 30 = 4.8 h. */
	na = NOW + 6 * DAY;
	assert_int_equal(schedule_renewal(nb, na, 0, rnd_zero), na - 2 * DAY);
	assert_int_equal(schedule_renewal(nb, na, 0, rnd_max),
	    na - 2 * DAY - 6 * DAY / 30);
	/* 47 d: 15 d 16 h. */
	na = NOW + 47 * DAY;
	assert_int_equal(schedule_renewal(nb, na, 0, rnd_zero),
	    na - 47 * DAY / 3);
}

static void
test_renew_before(void **state)
{
	time_t	nb = NOW, na = NOW + 90 * DAY;

	assert_int_equal(schedule_renewal(nb, na, 10 * DAY, rnd_zero),
	    na - 10 * DAY);
	/* Longer than the lifetime: due at once (not_before). */
	assert_int_equal(schedule_renewal(nb, na, 200 * DAY, rnd_zero), nb);
}

static void
test_jitter_never_later(void **state)
{
	time_t		nb = NOW, na = NOW + 90 * DAY, when;
	uint32_t	(*fns[])(uint32_t) = { rnd_zero, rnd_max };
	size_t		i;

	for (i = 0; i < 2; i++) {
		when = schedule_renewal(nb, na, 0, fns[i]);
		assert_true(when <= na - 30 * DAY);
		assert_true(when >= na - 31 * DAY);
		assert_true(schedule_renewal_valid(when, nb, na, 0));
	}
	assert_false(schedule_renewal_valid(na - 30 * DAY + 1, nb, na, 0));
	assert_false(schedule_renewal_valid(na - 31 * DAY - 1, nb, na, 0));
	assert_false(schedule_renewal_valid(0, nb, na, 0));
	/* A changed renew-before moves the window. */
	assert_false(schedule_renewal_valid(na - 30 * DAY, nb, na, 10 * DAY));
}

static void
test_backoff_doubles_to_cap(void **state)
{
	/* No certificate at stake (not_after 0): pure doubling. */
	assert_int_equal(schedule_backoff(1, NOW, 0, -1, rnd_zero) - NOW,
	    60 - 6);
	assert_int_equal(schedule_backoff(1, NOW, 0, -1, rnd_max) - NOW,
	    60 - 6 + 12);
	assert_int_equal(schedule_backoff(2, NOW, 0, -1, rnd_zero) - NOW,
	    120 - 12);
	assert_int_equal(schedule_backoff(3, NOW, 0, -1, rnd_zero) - NOW,
	    240 - 24);
	/* 6 h at most, however many failures. */
	assert_int_equal(schedule_backoff(9, NOW, 0, -1, rnd_zero) - NOW,
	    15360 - 1536);
	assert_int_equal(schedule_backoff(10, NOW, 0, -1, rnd_zero) - NOW,
	    21600 - 2160);
	assert_int_equal(schedule_backoff(1000, NOW, 0, -1, rnd_max) - NOW,
	    21600 - 2160 + 4320);
}

static void
test_backoff_fits_before_expiry(void **state)
{
	/* 3 h left: retries every hour at most, not every 6 h. */
	assert_int_equal(schedule_backoff(20, NOW, NOW + 3 * 3600, -1,
	    rnd_max) - NOW, 3600);
	/* 15 s left: the floor. */
	assert_int_equal(schedule_backoff(20, NOW, NOW + 15, -1, rnd_max) -
	    NOW, 10);
	/* Already expired: plain backoff. */
	assert_int_equal(schedule_backoff(2, NOW, NOW - 5, -1, rnd_zero) -
	    NOW, 108);
}

static void
test_backoff_retry_after(void **state)
{
	/* The CA's Retry-After wins over a shorter backoff ... */
	assert_int_equal(schedule_backoff(1, NOW, 0, 900, rnd_zero) - NOW,
	    900);
	/* ... but not over a longer one, and is capped at a day. */
	assert_int_equal(schedule_backoff(1, NOW, 0, 5, rnd_zero) - NOW, 54);
	assert_int_equal(schedule_backoff(1, NOW, 0, 10 * DAY, rnd_zero) -
	    NOW, DAY);
}

static void
test_ca_index(void **state)
{
	/* ca-fallback-after = 3 with two CAs: 3 at each, then back. */
	assert_int_equal(schedule_ca_index(0, 3, 2), 0);
	assert_int_equal(schedule_ca_index(2, 3, 2), 0);
	assert_int_equal(schedule_ca_index(3, 3, 2), 1);
	assert_int_equal(schedule_ca_index(5, 3, 2), 1);
	assert_int_equal(schedule_ca_index(6, 3, 2), 0);
	assert_int_equal(schedule_ca_index(7, 1, 3), 1);
	assert_int_equal(schedule_ca_index(100, 3, 1), 0);
}

static void
test_poll_expired(void **state)
{
	time_t	started = NOW;

	/* Within the limit, no Retry-After or one that fits: go on. */
	assert_false(schedule_poll_expired(started, NOW, -1, 600));
	assert_false(schedule_poll_expired(started, NOW + 600, -1, 600));
	assert_false(schedule_poll_expired(started, NOW + 100, 500, 600));
	/* The limit is over. */
	assert_true(schedule_poll_expired(started, NOW + 601, -1, 600));
	assert_true(schedule_poll_expired(started, NOW + 601, 1, 600));
	/* The CA asks to wait past it: give up now, not poll early. */
	assert_true(schedule_poll_expired(started, NOW, 601, 600));
	assert_true(schedule_poll_expired(started, NOW + 100, 501, 600));
	assert_true(schedule_poll_expired(started, NOW, 86400, 600));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_third_of_lifetime),
		cmocka_unit_test(test_renew_before),
		cmocka_unit_test(test_jitter_never_later),
		cmocka_unit_test(test_backoff_doubles_to_cap),
		cmocka_unit_test(test_backoff_fits_before_expiry),
		cmocka_unit_test(test_backoff_retry_after),
		cmocka_unit_test(test_ca_index),
		cmocka_unit_test(test_poll_expired),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
