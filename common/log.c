/*
 * Logging to stderr or the systemd journal.  See log.h.
 */

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <systemd/sd-journal.h>

#include "log.h"

const char *const log_target_names[LOG_TARGET__MAX] = {
	[LOG_TARGET_AUTO] = "auto",
	[LOG_TARGET_JOURNAL] = "journal",
	[LOG_TARGET_STDERR] = "stderr",
};

static const char *const level_names[] = {
	[LOG_ERR] = "err",
	[LOG_WARNING] = "warning",
	[LOG_NOTICE] = "notice",
	[LOG_INFO] = "info",
	[LOG_DEBUG] = "debug",
};

/* Process-wide settings, written at start and on reload only. */
static struct {
	const char	*progname;
	int		 level;
	int		 journal;
} log_settings = { "acme-renewd", LOG_INFO, 0 };

void
log_init(const char *progname, enum log_target target, int level)
{
	log_settings.progname = progname;
	log_settings.level = level;
	if (target == LOG_TARGET_AUTO)
		log_settings.journal = getenv("JOURNAL_STREAM") != NULL;
	else
		log_settings.journal = target == LOG_TARGET_JOURNAL;
}

void
log_setlevel(int level)
{
	log_settings.level = level;
}

int
log_getlevel(void)
{
	return log_settings.level;
}

int
log_level_parse(const char *s)
{
	size_t	i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (level_names[i] != NULL && strcasecmp(s, level_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
log_level_name(int level)
{
	if (level < 0 || level >= (int)(sizeof(level_names) / sizeof(level_names[0])) ||
	    level_names[level] == NULL)
		return "unknown";
	return level_names[level];
}

static void
log_emit(int prio, const struct log_tag *tag, const char *msg)
{
	const char	*name = tag != NULL ? tag->name : NULL;
	const char	*ca = tag != NULL ? tag->ca : NULL;
	const char	*phase = tag != NULL ? tag->phase : NULL;

	if (prio > log_settings.level)
		return;
	/* Every field is always sent (empty when it does not apply); a
	 * journal that refuses the entry gets it on stderr instead. */
	if (log_settings.journal && sd_journal_send("MESSAGE=%s", msg,
	    "PRIORITY=%d", prio, "SYSLOG_IDENTIFIER=%s", log_settings.progname,
	    "ACME_RENEWD_NAME=%s", name != NULL ? name : "",
	    "ACME_RENEWD_CA=%s", ca != NULL ? ca : "",
	    "ACME_RENEWD_PHASE=%s", phase != NULL ? phase : "", NULL) >= 0)
		return;
	/* One call: stderr is unbuffered, and one write keeps the line whole
	 * when something else writes to the same file. */
	fprintf(stderr, "%s: %s%s%s%s%s%s%s%s: %s\n", log_settings.progname,
	    log_level_name(prio),
	    name != NULL ? " [" : "", name != NULL ? name : "",
	    name != NULL ? "]" : "",
	    ca != NULL ? " ca=" : "", ca != NULL ? ca : "",
	    phase != NULL ? " phase=" : "", phase != NULL ? phase : "", msg);
	fflush(stderr);
}

void
log_vtagged(int prio, const struct log_tag *tag, const char *fmt, va_list ap)
{
	char	*msg;

	if (prio > log_settings.level)
		return;
	if (vasprintf(&msg, fmt, ap) == -1) {
		log_emit(LOG_ERR, tag, "out of memory while logging");
		return;
	}
	log_emit(prio, tag, msg);
	free(msg);
}

void
log_tagged(int prio, const struct log_tag *tag, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vtagged(prio, tag, fmt, ap);
	va_end(ap);
}

#define LOG_SIMPLE(fn, prio)				\
void							\
fn(const char *fmt, ...)				\
{							\
	va_list	ap;					\
							\
	va_start(ap, fmt);				\
	log_vtagged(prio, NULL, fmt, ap);		\
	va_end(ap);					\
}

LOG_SIMPLE(log_warnx, LOG_WARNING)
LOG_SIMPLE(log_info, LOG_INFO)
LOG_SIMPLE(log_notice, LOG_NOTICE)
LOG_SIMPLE(log_debug, LOG_DEBUG)

/* Appends ": strerror(errno)" as OpenSMTPD's log_warn does. */
static void	log_verrno(int, int, const char *, va_list)
	    __attribute__((format(printf, 3, 0)));

static void
log_verrno(int prio, int saved_errno, const char *fmt, va_list ap)
{
	char	*msg;

	if (vasprintf(&msg, fmt, ap) == -1)
		return;
	log_tagged(prio, NULL, "%s: %s", msg, strerror(saved_errno));
	free(msg);
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;
	int	saved_errno = errno;

	va_start(ap, fmt);
	log_verrno(LOG_WARNING, saved_errno, fmt, ap);
	va_end(ap);
	errno = saved_errno;
}

void
log_openssl(const char *fmt, ...)
{
	va_list		 ap;
	char		*msg;
	char		 buf[256];
	unsigned long	 e;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	if ((e = ERR_get_error()) != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	else
		snprintf(buf, sizeof(buf), "no OpenSSL error recorded");
	log_tagged(LOG_WARNING, NULL, "%s: %s", msg != NULL ? msg : "OpenSSL",
	    buf);
	free(msg);
	ERR_clear_error();
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;
	int	saved_errno = errno;

	va_start(ap, fmt);
	log_verrno(LOG_ERR, saved_errno, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vtagged(LOG_ERR, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
