/*
 * Daemon commands: version, reload, watch, rollover.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "ctl.h"

static enum ctl_exit	cmd_version_exec(struct ctl *,
			    const struct ctl_cmd *, struct ctl_args *);
static enum ctl_exit	cmd_reload_exec(struct ctl *,
			    const struct ctl_cmd *, struct ctl_args *);
static enum ctl_exit	cmd_watch_exec(struct ctl *,
			    const struct ctl_cmd *, struct ctl_args *);
static enum ctl_exit	cmd_rollover_exec(struct ctl *,
			    const struct ctl_cmd *, struct ctl_args *);

const struct ctl_cmd ctl_cmd_version = {
	.name = "version",
	.usage = "version",
	.help = "versions of acmectl and the daemon",
	.minargs = 0, .maxargs = 0,
	.exec = cmd_version_exec,
};

const struct ctl_cmd ctl_cmd_reload = {
	.name = "reload",
	.usage = "reload",
	.help = "re-read the configuration",
	.minargs = 0, .maxargs = 0,
	.exec = cmd_reload_exec,
};

const struct ctl_cmd ctl_cmd_watch = {
	.name = "watch",
	.usage = "watch",
	.help = "print events as they happen",
	.minargs = 0, .maxargs = 0,
	.exec = cmd_watch_exec,
};

const struct ctl_cmd ctl_cmd_rollover = {
	.name = "rollover",
	.usage = "rollover CA",
	.help = "replace the account key at CA",
	.minargs = 1, .maxargs = 1,
	.exec = cmd_rollover_exec,
};

static enum ctl_exit
cmd_version_exec(struct ctl *ctl, const struct ctl_cmd *cmd,
    struct ctl_args *args)
{
	json_t		*result = NULL;
	json_int_t	 pid;
	enum ctl_exit	 rc;

	if (!ctl->json) {
		printf("acmectl %s\n", PACKAGE_VERSION);
		fflush(stdout);
	}
	if ((rc = client_call(ctl, "version", NULL, NULL, &result)) !=
	    CTL_EXIT_OK)
		goto out;
	if (ctl->json)
		cmd_print_json(result);
	else {
		pid = json_integer_value(json_object_get(result, "pid"));
		printf("acme-renewd %s, pid %" JSON_INTEGER_FORMAT
		    ", started %s\n", cmd_string(result, "version"), pid,
		    cmd_string(result, "started"));
	}
out:
	json_decref(result);
	return rc;
}

/* Commands whose result needs no more than printing it, if any. */
static enum ctl_exit
cmd_daemon_simple(struct ctl *ctl, const char *command, json_t *req)
{
	json_t		*result = NULL;
	enum ctl_exit	 rc;

	if ((rc = client_call(ctl, command, req, NULL, &result)) ==
	    CTL_EXIT_OK) {
		if (ctl->json)
			cmd_print_json(result);
		else
			cmd_print_object(result, 0);
	}
	json_decref(result);
	return rc;
}

static enum ctl_exit
cmd_reload_exec(struct ctl *ctl, const struct ctl_cmd *cmd,
    struct ctl_args *args)
{
	return cmd_daemon_simple(ctl, "reload", NULL);
}

static enum ctl_exit
cmd_rollover_exec(struct ctl *ctl, const struct ctl_cmd *cmd,
    struct ctl_args *args)
{
	json_t	*req;

	if ((req = json_pack("{s:s}", "ca", args->argv[0])) == NULL) {
		ctl_warnx("not a valid CA name (UTF-8 expected): %s",
		    args->argv[0]);
		return CTL_EXIT_USAGE;
	}
	return cmd_daemon_simple(ctl, "rollover", req);
}

static enum ctl_exit
cmd_watch_exec(struct ctl *ctl, const struct ctl_cmd *cmd,
    struct ctl_args *args)
{
	json_t		*result = NULL, *msg = NULL;
	enum ctl_exit	 rc;

	if ((rc = client_call(ctl, "watch", NULL, NULL, &result)) !=
	    CTL_EXIT_OK)
		goto out;
	client_timeout(ctl, 0);		/* events come when they come */
	while ((rc = client_read(ctl, &msg)) == CTL_EXIT_OK) {
		if (json_object_get(msg, "event") != NULL) {
			if (!ctl->json)
				cmd_print_event(stdout, msg);
			else if (json_dumpf(msg, stdout, JSON_COMPACT) == 0) {
				fputc('\n', stdout);
				fflush(stdout);
			}
		}
		json_decref(msg);
		msg = NULL;
	}
out:
	json_decref(result);
	return rc;
}
