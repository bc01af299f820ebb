/*
 * systemd's view of the daemon: STATUS= a one-line summary, kept current
 * (coalesced: computed at most once per loop turn), and WATCHDOG=1 at
 * half the interval the unit asks for.  No-ops outside systemd.
 */
#ifndef DAEMON_NOTIFY_H
#define DAEMON_NOTIFY_H

#include <stddef.h>

struct daemon;

/* In daemon_new: sets the events up.  notify_start: the watchdog. */
void	 notify_init(struct daemon *);
void	 notify_start(struct daemon *);
/* Something changed: the STATUS line is recomputed soon. */
void	 notify_changed(struct daemon *);
void	 notify_free(struct daemon *);
/* "12 valid, 1 renewing, 0 failed; next renewal www in 3h" */
void	 notify_summary(const struct daemon *, char *buf, size_t len);

#endif
