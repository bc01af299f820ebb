/*
 * Durations and RFC 3339 timestamps.
 *
 * Durations are groups of <digits><unit>, units in falling order, each at
 * most once ("1d12h", "1h30m", not "30m1h" or "1h1h"), so a typo cannot
 * silently add up.  Timestamps follow RFC 3339 §5.6: a date-time with a
 * "Z" or numeric offset, optional fractional seconds (dropped).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "timeutil.h"

static const struct {
	char		 unit;
	long long	 secs;
} duration_units[] = {
	{ 'd', 86400 },
	{ 'h', 3600 },
	{ 'm', 60 },
	{ 's', 1 },
};
#define DURATION_NUNITS	(sizeof(duration_units) / sizeof(duration_units[0]))

int
duration_parse(const char *s, long long *secs)
{
	const char	*p = s;
	char		*end;
	long long	 total = 0, n;
	size_t		 next = 0, u;

	if (s == NULL || *s == '\0')
		return -1;
	while (*p != '\0') {
		/* strtoll would take a sign or leading space: digits only. */
		if (!isdigit((unsigned char)*p))
			return -1;
		errno = 0;
		n = strtoll(p, &end, 10);
		if (errno == ERANGE)
			return -1;
		for (u = next; u < DURATION_NUNITS; u++)
			if (duration_units[u].unit == *end)
				break;
		if (*end == '\0' || u == DURATION_NUNITS)
			return -1;	/* no unit, unknown or out of order */
		if (n > (LLONG_MAX - total) / duration_units[u].secs)
			return -1;
		total += n * duration_units[u].secs;
		next = u + 1;
		p = end + 1;
	}
	*secs = total;
	return 0;
}

/*
 * Whole minutes are written in days, hours and minutes ("1h30m", "1d");
 * anything with leftover seconds as plain seconds ("90s", "3661s"), which
 * reads better than "1h1m1s" for the odd values that have them.
 */
void
duration_format(long long secs, char *buf, size_t len)
{
	unsigned long long	 v, n;
	size_t			 off = 0, u;
	int			 w;

	if (len == 0)
		return;
	buf[0] = '\0';
	if (secs < 0) {
		v = -(unsigned long long)secs;
		if ((w = snprintf(buf, len, "-")) < 0 || (size_t)w >= len)
			return;
		off = (size_t)w;
	} else
		v = (unsigned long long)secs;

	if (v == 0 || v % 60 != 0) {
		snprintf(buf + off, len - off, "%llus", v);
		return;
	}
	for (u = 0; u < DURATION_NUNITS && v > 0; u++) {
		n = v / (unsigned long long)duration_units[u].secs;
		if (n == 0)
			continue;
		v -= n * (unsigned long long)duration_units[u].secs;
		w = snprintf(buf + off, len - off, "%llu%c", n,
		    duration_units[u].unit);
		if (w < 0 || (size_t)w >= len - off)
			return;		/* truncated, still terminated */
		off += (size_t)w;
	}
}

void
time_format_rfc3339(time_t t, char buf[RFC3339_LEN])
{
	struct tm	 tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, RFC3339_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		buf[0] = '\0';
}

/* Exactly n digits at *p; advances *p. */
static int
time_digits(const char **p, int n, int *out)
{
	int	 v = 0, i;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

static int
time_mdays(int year, int mon)
{
	static const int	 mdays[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	if (mon == 2 && year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))
		return 29;
	return mdays[mon - 1];
}

static int
time_expect(const char **p, char c)
{
	if (**p != c)
		return -1;
	(*p)++;
	return 0;
}

int
time_parse_rfc3339(const char *s, time_t *t)
{
	const char	*p = s;
	struct tm	 tm;
	int		 year, mon, mday, hour, min, sec;
	int		 offh = 0, offm = 0, sign = 0;
	time_t		 v;

	if (s == NULL)
		return -1;
	if (time_digits(&p, 4, &year) == -1 || time_expect(&p, '-') == -1 ||
	    time_digits(&p, 2, &mon) == -1 || time_expect(&p, '-') == -1 ||
	    time_digits(&p, 2, &mday) == -1)
		return -1;
	if (*p != 'T' && *p != 't')
		return -1;
	p++;
	if (time_digits(&p, 2, &hour) == -1 || time_expect(&p, ':') == -1 ||
	    time_digits(&p, 2, &min) == -1 || time_expect(&p, ':') == -1 ||
	    time_digits(&p, 2, &sec) == -1)
		return -1;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		p++;
		if (time_digits(&p, 2, &offh) == -1 ||
		    time_expect(&p, ':') == -1 ||
		    time_digits(&p, 2, &offm) == -1)
			return -1;
	} else
		return -1;
	if (*p != '\0')
		return -1;

	/* Second 60 is a leap second: timegm() carries it over. */
	if (mon < 1 || mon > 12 || mday < 1 || mday > time_mdays(year, mon) ||
	    hour > 23 || min > 59 || sec > 60 || offh > 23 || offm > 59)
		return -1;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = mday;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	errno = 0;
	if ((v = timegm(&tm)) == (time_t)-1 && errno != 0)
		return -1;
	*t = v - sign * (offh * 3600 + offm * 60);
	return 0;
}

json_t *
time_json(time_t t)
{
	char	buf[RFC3339_LEN];

	if (t == 0)
		return json_null();
	time_format_rfc3339(t, buf);
	return json_string(buf);
}
