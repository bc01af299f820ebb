/* Durations and RFC 3339 timestamps, parsed and formatted. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <string.h>

#include "timeutil.h"

int	 main(void);

/* 2026-01-02T03:04:05Z */
#define T_20260102	((time_t)1767323045)

static void
test_duration_parse_ok(void **state)
{
	static const struct {
		const char	*s;
		long long	 secs;
	} ok[] = {
		{ "90s", 90 },
		{ "15m", 900 },
		{ "12h", 43200 },
		{ "30d", 2592000 },
		{ "1h30m", 5400 },
		{ "0s", 0 },
		{ "1d12h", 129600 },
		{ "1d1h1m1s", 90061 },
		{ "007m", 420 },
		{ "9223372036854775807s", LLONG_MAX },
	};
	long long	 v;
	size_t		 i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = -1;
		assert_int_equal(duration_parse(ok[i].s, &v), 0);
		assert_int_equal(v, ok[i].secs);
	}
}

static void
test_duration_parse_bad(void **state)
{
	static const char *const bad[] = {
		"", "10", "5x", "-5m", "+5m", " 5m", "5m ", "5 m", "1h 30m",
		"1h\t30m", "m", "m5", "5mm", "1h1h", "30m1h", "1s1m", "1.5h",
		"0x10s", "5M",
		"9223372036854775808s",		/* strtoll overflow */
		"106751991167301d",		/* overflow in the multiply */
		"1m9223372036854775807s",	/* overflow in the sum */
	};
	long long	 v = 42;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(duration_parse(bad[i], &v), -1);
	assert_int_equal(duration_parse(NULL, &v), -1);
	assert_int_equal(v, 42);
}

static void
test_duration_format(void **state)
{
	static const struct {
		long long	 secs;
		const char	*s;
	} cases[] = {
		{ 0, "0s" },
		{ 1, "1s" },
		{ 90, "90s" },
		{ 60, "1m" },
		{ 900, "15m" },
		{ 3600, "1h" },
		{ 5400, "1h30m" },
		{ 43200, "12h" },
		{ 86400, "1d" },
		{ 129600, "1d12h" },
		{ 2592000, "30d" },
		{ 90060, "1d1h1m" },
		{ 3661, "3661s" },
		{ -90, "-90s" },
		{ -5400, "-1h30m" },
		{ LLONG_MAX, "9223372036854775807s" },
	};
	char		 buf[64];
	long long	 v;
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		duration_format(cases[i].secs, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].s);
		if (cases[i].secs >= 0) {
			assert_int_equal(duration_parse(buf, &v), 0);
			assert_int_equal(v, cases[i].secs);
		}
	}
	duration_format(LLONG_MIN, buf, sizeof(buf));
	assert_string_equal(buf, "-9223372036854775808s");

	/* A short buffer truncates but stays terminated. */
	memset(buf, 'x', sizeof(buf));
	duration_format(90061 - 1, buf, 4);
	assert_true(strlen(buf) < 4);
}

static void
test_time_format(void **state)
{
	char	 buf[RFC3339_LEN];

	time_format_rfc3339(0, buf);
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
	time_format_rfc3339(T_20260102, buf);
	assert_string_equal(buf, "2026-01-02T03:04:05Z");
	time_format_rfc3339(1709208000, buf);
	assert_string_equal(buf, "2024-02-29T12:00:00Z");
}

static void
test_time_parse_ok(void **state)
{
	static const char *const same[] = {
		"2026-01-02T03:04:05Z",
		"2026-01-02T03:04:05.123Z",
		"2026-01-02T03:04:05.999999999Z",
		"2026-01-02t03:04:05z",
		"2026-01-02T05:04:05+02:00",
		"2026-01-01T21:34:05-05:30",
		"2026-01-02T03:04:05+00:00",
		"2026-01-02T03:04:05-00:00",
		"2026-01-02T08:34:05.5+05:30",
	};
	time_t	 t;
	size_t	 i;

	for (i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		t = 0;
		assert_int_equal(time_parse_rfc3339(same[i], &t), 0);
		assert_int_equal(t, T_20260102);
	}
	assert_int_equal(time_parse_rfc3339("2024-02-29T12:00:00Z", &t), 0);
	assert_int_equal(t, 1709208000);
	assert_int_equal(time_parse_rfc3339("1970-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(time_parse_rfc3339("1969-12-31T23:59:59Z", &t), 0);
	assert_int_equal(t, -1);
	/* A leap second carries into the next minute. */
	assert_int_equal(time_parse_rfc3339("2016-12-31T23:59:60Z", &t), 0);
	assert_int_equal(t, 1483228800);
}

static void
test_time_parse_bad(void **state)
{
	static const char *const bad[] = {
		"",
		"garbage",
		"2026-01-02",
		"2026-01-02T03:04:05",		/* no offset */
		"2026-01-02 03:04:05Z",
		"2026-01-02T03:04:05Zjunk",
		"2026-01-02T03:04:05Z ",
		" 2026-01-02T03:04:05Z",
		"2026-01-02T03:04:05.Z",
		"2026-01-02T03:04:05+0200",
		"2026-01-02T03:04:05+02",
		"2026-01-02T03:04:05+24:00",
		"2026-01-02T03:04:05+02:60",
		"2026-1-02T03:04:05Z",
		"26-01-02T03:04:05Z",
		"2026-13-01T00:00:00Z",
		"2026-00-01T00:00:00Z",
		"2026-01-00T00:00:00Z",
		"2026-01-32T00:00:00Z",
		"2023-02-29T00:00:00Z",		/* not a leap year */
		"2100-02-29T00:00:00Z",
		"2026-04-31T00:00:00Z",
		"2026-01-02T24:00:00Z",
		"2026-01-02T03:60:05Z",
		"2026-01-02T03:04:61Z",
		"2026-01-02T03:04:5Z",
		"+026-01-02T03:04:05Z",
	};
	time_t	 t = 42;
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(time_parse_rfc3339(bad[i], &t), -1);
	assert_int_equal(time_parse_rfc3339(NULL, &t), -1);
	assert_int_equal(t, 42);
}

static void
test_time_round_trip(void **state)
{
	static const time_t	 times[] = {
		0, 1, 951782400 /* 2000-02-29 */, T_20260102, 4102444799,
	};
	char			 buf[RFC3339_LEN];
	time_t			 t;
	size_t			 i;

	for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		time_format_rfc3339(times[i], buf);
		assert_int_equal(time_parse_rfc3339(buf, &t), 0);
		assert_int_equal(t, times[i]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_parse_ok),
		cmocka_unit_test(test_duration_parse_bad),
		cmocka_unit_test(test_duration_format),
		cmocka_unit_test(test_time_format),
		cmocka_unit_test(test_time_parse_ok),
		cmocka_unit_test(test_time_parse_bad),
		cmocka_unit_test(test_time_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
