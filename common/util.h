/* Small helpers shared by the daemon and acmectl. */
#ifndef COMMON_UTIL_H
#define COMMON_UTIL_H

#include <stdarg.h>
#include <stdbool.h>

/* malloc'd printf; NULL only when memory is exhausted. */
char	*xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char	*xvasprintf(const char *fmt, va_list) __attribute__((format(printf, 1, 0)));
/* Both NULL, or the same string. */
bool	 str_eq(const char *, const char *);
/*
 * Reports an error the way callers ask for it: into *cause (malloc'd)
 * when cause is not NULL, else as a warning in the log.
 */
void	 cause_set(char **cause, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
