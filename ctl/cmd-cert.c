/*
 * Certificate commands: status, show, renew, force-renew, revoke.
 */
#include "config.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "ctl.h"

enum cmd_status_col {
	COL_NAME,
	COL_STATE,
	COL_NOT_AFTER,
	COL_NEXT_RENEWAL,
	COL_FAILURES,
	COL_CA,
	COL__MAX
};

static const char *const cmd_status_titles[COL__MAX] = {
	[COL_NAME] = "NAME",
	[COL_STATE] = "STATE",
	[COL_NOT_AFTER] = "NOT_AFTER",
	[COL_NEXT_RENEWAL] = "NEXT_RENEWAL",
	[COL_FAILURES] = "FAILURES",
	[COL_CA] = "CA",
};

static enum ctl_exit	cmd_status_exec(struct ctl *,
			    const struct ctl_cmd *, struct ctl_args *);
static enum ctl_exit	cmd_show_exec(struct ctl *,
			    const struct ctl_cmd *, struct ctl_args *);
static enum ctl_exit	cmd_renew_exec(struct ctl *,
			    const struct ctl_cmd *, struct ctl_args *);
static enum ctl_exit	cmd_revoke_exec(struct ctl *,
			    const struct ctl_cmd *, struct ctl_args *);

static const struct option cmd_renew_opts[] = {
	{ "no-wait", no_argument, NULL, 0 },
	{ NULL, 0, NULL, 0 }
};
#define RENEW_OPT_NO_WAIT	0

static const struct option cmd_revoke_opts[] = {
	{ "reason", required_argument, NULL, 0 },
	{ NULL, 0, NULL, 0 }
};
#define REVOKE_OPT_REASON	0

const struct ctl_cmd ctl_cmd_status = {
	.name = "status",
	.usage = "status",
	.help = "every certificate's state (1 if failed/expired)",
	.minargs = 0, .maxargs = 0,
	.exec = cmd_status_exec,
};

const struct ctl_cmd ctl_cmd_show = {
	.name = "show",
	.usage = "show NAME",
	.help = "one certificate in full",
	.minargs = 1, .maxargs = 1,
	.exec = cmd_show_exec,
};

const struct ctl_cmd ctl_cmd_renew = {
	.name = "renew",
	.usage = "renew NAME [--no-wait]",
	.help = "renew now; waits for the outcome",
	.minargs = 1, .maxargs = 1,
	.opts = cmd_renew_opts,
	.exec = cmd_renew_exec,
};

const struct ctl_cmd ctl_cmd_force_renew = {
	.name = "force-renew",
	.usage = "force-renew NAME",
	.help = "renew now with force; waits",
	.minargs = 1, .maxargs = 1,
	.exec = cmd_renew_exec,
};

const struct ctl_cmd ctl_cmd_revoke = {
	.name = "revoke",
	.usage = "revoke NAME [--reason REASON]",
	.help = "revoke the certificate, then issue anew",
	.minargs = 1, .maxargs = 1,
	.opts = cmd_revoke_opts,
	.exec = cmd_revoke_exec,
};

static bool
cmd_status_bad(const json_t *cert)
{
	const char	*state = cmd_string(cert, "state");

	return strcmp(state, "failed") == 0 || strcmp(state, "expired") == 0;
}

/* Whether the table shows the certificate's last error under its row. */
static bool
cmd_status_failing(const json_t *cert)
{
	const char	*state = cmd_string(cert, "state");

	if (!json_is_string(json_object_get(cert, "last_error")))
		return false;
	return json_integer_value(json_object_get(cert, "failures")) > 0 ||
	    strcmp(state, "backoff") == 0 || cmd_status_bad(cert);
}

static void
cmd_status_cells(const json_t *cert, const char *cell[COL__MAX],
    char *failures, size_t len)
{
	snprintf(failures, len, "%" JSON_INTEGER_FORMAT,
	    json_integer_value(json_object_get(cert, "failures")));
	cell[COL_NAME] = cmd_string(cert, "name");
	cell[COL_STATE] = cmd_string(cert, "state");
	cell[COL_NOT_AFTER] = cmd_string(cert, "not_after");
	cell[COL_NEXT_RENEWAL] = cmd_string(cert, "next_renewal");
	cell[COL_FAILURES] = failures;
	cell[COL_CA] = cmd_string(cert, "ca");
}

static void
cmd_status_line(const char *const cell[COL__MAX], const int width[COL__MAX])
{
	int	 i;

	for (i = 0; i < COL__MAX - 1; i++)
		printf("%-*s  ", width[i], cell[i]);
	printf("%s\n", cell[COL__MAX - 1]);
}

static void
cmd_status_table(const json_t *certs)
{
	const json_t	*cert;
	const char	*cell[COL__MAX];
	char		 failures[32];
	int		 width[COL__MAX], i, n;
	size_t		 idx;

	for (i = 0; i < COL__MAX; i++)
		width[i] = strlen(cmd_status_titles[i]);
	json_array_foreach(certs, idx, cert) {
		cmd_status_cells(cert, cell, failures, sizeof failures);
		for (i = 0; i < COL__MAX; i++) {
			if ((n = strlen(cell[i])) > width[i])
				width[i] = n;
		}
	}
	cmd_status_line(cmd_status_titles, width);
	json_array_foreach(certs, idx, cert) {
		cmd_status_cells(cert, cell, failures, sizeof failures);
		cmd_status_line(cell, width);
		if (cmd_status_failing(cert))
			printf("  LAST_ERROR: %s\n", cmd_string(cert,
			    "last_error"));
	}
}

static enum ctl_exit
cmd_status_exec(struct ctl *ctl, const struct ctl_cmd *cmd,
    struct ctl_args *args)
{
	json_t		*result = NULL, *certs, *cert;
	enum ctl_exit	 rc;
	size_t		 idx;

	if ((rc = client_call(ctl, "status", NULL, NULL, &result)) !=
	    CTL_EXIT_OK)
		goto out;
	certs = json_object_get(result, "certificates");
	if (!json_is_array(certs)) {
		ctl_warnx("status: the reply holds no certificates");
		rc = CTL_EXIT_FAILED;
		goto out;
	}
	if (ctl->json)
		cmd_print_json(result);
	else
		cmd_status_table(certs);
	json_array_foreach(certs, idx, cert) {
		if (cmd_status_bad(cert))
			rc = CTL_EXIT_FAILED;
	}
out:
	json_decref(result);
	return rc;
}

/* {"name": NAME, ...}; NULL after a message if the name cannot be sent. */
static json_t *
cmd_cert_args(const char *name)
{
	json_t	*args;

	if ((args = json_pack("{s:s}", "name", name)) == NULL)
		ctl_warnx("not a valid name (UTF-8 expected): %s", name);
	return args;
}

/* Prints a result the daemon sent: as JSON, or as "key: value" lines. */
static void
cmd_cert_print(const struct ctl *ctl, const json_t *result)
{
	if (ctl->json)
		cmd_print_json(result);
	else
		cmd_print_object(result, 0);
}

static enum ctl_exit
cmd_show_exec(struct ctl *ctl, const struct ctl_cmd *cmd,
    struct ctl_args *args)
{
	json_t		*req, *result = NULL;
	enum ctl_exit	 rc;

	if ((req = cmd_cert_args(args->argv[0])) == NULL)
		return CTL_EXIT_USAGE;
	rc = client_call(ctl, "show", req, NULL, &result);
	if (rc == CTL_EXIT_OK)
		cmd_cert_print(ctl, result);
	json_decref(result);
	return rc;
}

/* Progress of a renewal we wait for, shown to a person at a terminal. */
static void
cmd_renew_event_cb(struct ctl *ctl, json_t *event)
{
	cmd_print_event(stderr, event);
}

static enum ctl_exit
cmd_renew_exec(struct ctl *ctl, const struct ctl_cmd *cmd,
    struct ctl_args *args)
{
	json_t		*req, *result = NULL;
	bool		 force, wait;
	enum ctl_exit	 rc;

	force = (cmd == &ctl_cmd_force_renew);
	wait = force || args->opt[RENEW_OPT_NO_WAIT] == NULL;
	if ((req = cmd_cert_args(args->argv[0])) == NULL)
		return CTL_EXIT_USAGE;
	if (json_object_set_new(req, "force", json_boolean(force)) == -1 ||
	    json_object_set_new(req, "wait", json_boolean(wait)) == -1) {
		ctl_warnx("out of memory");
		json_decref(req);
		return CTL_EXIT_FAILED;
	}
	if (wait)
		client_timeout(ctl, 0);	/* a renewal may take minutes */
	rc = client_call(ctl, "renew", req,
	    wait && isatty(STDERR_FILENO) ? cmd_renew_event_cb : NULL,
	    &result);
	if (rc == CTL_EXIT_OK)
		cmd_cert_print(ctl, result);
	/* The daemon did as asked, but the renewal itself failed. */
	if (rc == CTL_EXIT_OK && json_is_string(json_object_get(result,
	    "outcome")) && strcmp(json_string_value(json_object_get(result,
	    "outcome")), "failure") == 0)
		rc = CTL_EXIT_FAILED;
	json_decref(result);
	return rc;
}

static enum ctl_exit
cmd_revoke_exec(struct ctl *ctl, const struct ctl_cmd *cmd,
    struct ctl_args *args)
{
	json_t		*req, *result = NULL;
	const char	*reason = args->opt[REVOKE_OPT_REASON];
	enum ctl_exit	 rc;

	if ((req = cmd_cert_args(args->argv[0])) == NULL)
		return CTL_EXIT_USAGE;
	if (reason != NULL &&
	    json_object_set_new(req, "reason", json_string(reason)) == -1) {
		ctl_warnx("not a valid reason: %s", reason);
		json_decref(req);
		return CTL_EXIT_USAGE;
	}
	rc = client_call(ctl, "revoke", req, NULL, &result);
	if (rc == CTL_EXIT_OK)
		cmd_cert_print(ctl, result);
	json_decref(result);
	return rc;
}
