/*
 * reload-units: asks systemd over D-Bus (sd-bus, system bus) to
 * ReloadOrRestartUnit each unit after a new certificate is installed.
 * The bus connection is opened on first use and driven by the libevent
 * loop (sd_bus_get_fd / get_events / get_timeout + sd_bus_process);
 * nothing blocks.  DBUS_SYSTEM_BUS_ADDRESS is honoured (sd-bus does), so
 * tests may point it at a bus of their own.
 */
#ifndef DAEMON_UNITS_H
#define DAEMON_UNITS_H

#include "config.h"

struct daemon;
struct units;		/* the bus connection, one per daemon */
struct units_job;

/* error NULL: every unit accepted the reload (its job finished "done"). */
typedef void (*units_cb)(const char *error, void *arg);

/*
 * Reloads (or restarts) every unit in turn, then calls cb once, from the
 * loop.  The error names each unit that failed and systemd's reason.
 * NULL with *cause when nothing could be started (no bus).
 */
struct units_job *units_reload(struct daemon *, const char *cert_name,
		    const struct strlist *units, units_cb, void *arg,
		    char **cause);
/* The callback will not run. */
void		 units_cancel(struct units_job *);
/* At shutdown: cancels every job and closes the bus. */
void		 units_free(struct daemon *);

#endif
