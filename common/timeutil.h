/* Durations ("90s", "15m", "12h", "30d") and RFC 3339 timestamps. */
#ifndef COMMON_TIMEUTIL_H
#define COMMON_TIMEUTIL_H

#include <stddef.h>
#include <time.h>

#define RFC3339_LEN	sizeof("2026-01-01T00:00:00Z")

/*
 * One or more <number><unit> groups, unit one of s m h d, e.g. "90s",
 * "1h30m".  Returns 0 and sets *secs, or -1 (empty, no unit, unknown unit,
 * overflow, negative).
 */
int	 duration_parse(const char *, long long *secs);
/* Shortest exact form: 90 -> "90s", 5400 -> "1h30m", 0 -> "0s". */
void	 duration_format(long long secs, char *buf, size_t len);

/* UTC, second precision: "2026-11-23T10:00:00Z". */
void	 time_format_rfc3339(time_t, char buf[RFC3339_LEN]);
/* A JSON RFC 3339 string, or null for 0 ("never", "not known"). */
struct json_t;
struct json_t	*time_json(time_t);
/* Accepts fractional seconds and numeric offsets; -1 on error. */
int	 time_parse_rfc3339(const char *, time_t *);

#endif
