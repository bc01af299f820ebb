/*
 * Logging shared by the daemon and acmectl.
 *
 * Names follow OpenSMTPD's log.h.  Messages go to stderr (foreground) or to
 * the systemd journal through sd_journal_send, with structured fields
 * ACME_RENEWD_NAME=, ACME_RENEWD_CA=, ACME_RENEWD_PHASE= where a log_tag is
 * given.  The level and target are process-wide settings made once at start
 * (and on reload): the one piece of state outside struct daemon, as in every
 * syslog-style logger.
 */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

#include <stdarg.h>
#include <syslog.h>

enum log_target {
	LOG_TARGET_AUTO,	/* journal when JOURNAL_STREAM is set, else stderr */
	LOG_TARGET_JOURNAL,
	LOG_TARGET_STDERR,
	LOG_TARGET__MAX
};

extern const char *const log_target_names[LOG_TARGET__MAX];

/* Where a message belongs: any field may be NULL. */
struct log_tag {
	const char	*name;		/* certificate section name */
	const char	*ca;		/* CA section name */
	const char	*phase;		/* renewal phase */
};

void	 log_init(const char *progname, enum log_target, int level);
void	 log_setlevel(int level);	/* LOG_DEBUG .. LOG_ERR */
int	 log_getlevel(void);
/* "debug" | "info" | "notice" | "warning" | "err" -> LOG_*, or -1. */
int	 log_level_parse(const char *);
const char *log_level_name(int level);

void	 log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_notice(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_tagged(int prio, const struct log_tag *, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	 log_vtagged(int prio, const struct log_tag *, const char *, va_list)
	    __attribute__((format(printf, 3, 0)));
/* OpenSSL's error queue, drained into one warning line after the message. */
void	 log_openssl(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	 fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
