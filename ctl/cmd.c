/*
 * The command table: lookup by name or unique prefix, argument parsing
 * with getopt_long, and the output helpers the commands share.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ctlproto.h"
#include "ctl.h"

extern const struct ctl_cmd ctl_cmd_force_renew;
extern const struct ctl_cmd ctl_cmd_reload;
extern const struct ctl_cmd ctl_cmd_renew;
extern const struct ctl_cmd ctl_cmd_revoke;
extern const struct ctl_cmd ctl_cmd_rollover;
extern const struct ctl_cmd ctl_cmd_show;
extern const struct ctl_cmd ctl_cmd_status;
extern const struct ctl_cmd ctl_cmd_version;
extern const struct ctl_cmd ctl_cmd_watch;

const struct ctl_cmd *const cmd_table[] = {
	&ctl_cmd_status,
	&ctl_cmd_show,
	&ctl_cmd_renew,
	&ctl_cmd_force_renew,
	&ctl_cmd_revoke,
	&ctl_cmd_reload,
	&ctl_cmd_watch,
	&ctl_cmd_rollover,
	&ctl_cmd_version,
	NULL
};

const struct ctl_cmd *
cmd_find(const char *name, char **cause)
{
	const struct ctl_cmd *const	*cmdp;
	const struct ctl_cmd		*found = NULL;
	char				*list = NULL, *tmp;
	size_t				 len = strlen(name);
	int				 n = 0;

	*cause = NULL;
	for (cmdp = cmd_table; *cmdp != NULL; cmdp++) {
		if (strcmp((*cmdp)->name, name) == 0)
			return *cmdp;
	}
	for (cmdp = cmd_table; len > 0 && *cmdp != NULL; cmdp++) {
		if (strncmp((*cmdp)->name, name, len) != 0)
			continue;
		found = *cmdp;
		if (asprintf(&tmp, "%s%s%s", list != NULL ? list : "",
		    list != NULL ? ", " : "", found->name) == -1) {
			free(list);
			*cause = strdup("out of memory");
			return NULL;
		}
		free(list);
		list = tmp;
		n++;
	}
	if (n == 1) {
		free(list);
		return found;
	}
	if (n == 0) {
		if (asprintf(cause, "unknown command: %s", name) == -1)
			*cause = NULL;
	} else if (asprintf(cause, "ambiguous command: %s, could be: %s", name,
	    list) == -1)
		*cause = NULL;
	free(list);
	return NULL;
}

void
cmd_usage(FILE *f, const struct ctl_cmd *cmd)
{
	fprintf(f, "usage: acmectl [-s SOCKET] [--json] %s\n", cmd->usage);
}

void
cmd_list(FILE *f)
{
	const struct ctl_cmd *const	*cmdp;

	fprintf(f, "usage: acmectl [-s SOCKET] [--json] COMMAND [ARGS]\n"
	    "\n"
	    "commands:\n");
	for (cmdp = cmd_table; *cmdp != NULL; cmdp++)
		fprintf(f, "  %-30s %s\n", (*cmdp)->usage, (*cmdp)->help);
	fprintf(f, "\n"
	    "options:\n"
	    "  -s, --socket SOCKET            the control socket (default: "
	    "$ACME_RENEWD_SOCKET,\n"
	    "                                 else %s)\n"
	    "  --json                         print the daemon's result as "
	    "JSON\n"
	    "  -h, --help                     this help\n"
	    "\n"
	    "exit status: 0 ok, 1 the command failed, 2 usage, "
	    "3 cannot reach the daemon\n", CTL_DEFAULT_SOCKET);
}

enum ctl_exit
cmd_exec(struct ctl *ctl, const struct ctl_cmd *cmd, int argc, char **argv)
{
	struct option	 longopts[CTL_MAXOPTS + 2];
	struct ctl_args	 args;
	char		**v = NULL, *argv0 = NULL;
	int		 ch, i, idx, nopts = 0;
	enum ctl_exit	 rc = CTL_EXIT_USAGE;

	memset(&args, 0, sizeof args);
	for (; cmd->opts != NULL && cmd->opts[nopts].name != NULL; nopts++) {
		if (nopts == CTL_MAXOPTS)
			abort();	/* a table bug */
		longopts[nopts] = cmd->opts[nopts];
	}
	longopts[nopts] = (struct option){ "json", no_argument, NULL, 0 };
	longopts[nopts + 1] = (struct option){ NULL, 0, NULL, 0 };

	/* getopt permutes its argv and names argv[0] in its messages. */
	if ((v = calloc(argc + 1, sizeof *v)) == NULL ||
	    asprintf(&argv0, "acmectl %s", cmd->name) == -1) {
		argv0 = NULL;
		ctl_warnx("out of memory");
		rc = CTL_EXIT_FAILED;
		goto out;
	}
	v[0] = argv0;
	for (i = 1; i < argc; i++)
		v[i] = argv[i];
	optind = 0;	/* glibc: start afresh */
	while ((ch = getopt_long(argc, v, "", longopts, &idx)) != -1) {
		if (ch != 0)
			goto usage;	/* getopt said what is wrong */
		if (idx == nopts)
			ctl->json = true;
		else
			args.opt[idx] = optarg != NULL ? optarg : "";
	}
	args.argc = argc - optind;
	args.argv = v + optind;
	if (args.argc < cmd->minargs || args.argc > cmd->maxargs) {
		ctl_warnx("%s: %s arguments", cmd->name,
		    args.argc < cmd->minargs ? "missing" : "too many");
		goto usage;
	}
	rc = cmd->exec(ctl, cmd, &args);
	goto out;
usage:
	cmd_usage(stderr, cmd);
	rc = CTL_EXIT_USAGE;
out:
	free(argv0);
	free(v);
	return rc;
}

void
cmd_print_json(const json_t *j)
{
	if (json_dumpf(j, stdout, JSON_INDENT(2)) == 0)
		fputc('\n', stdout);
}

const char *
cmd_string(const json_t *obj, const char *key)
{
	const char	*s;

	if ((s = json_string_value(json_object_get(obj, key))) == NULL)
		return "-";
	return s;
}

/* A scalar in words; NULL for objects and arrays. */
static char *
cmd_scalar(const json_t *j)
{
	char	*s = NULL;

	switch (json_typeof(j)) {
	case JSON_STRING:
		s = strdup(json_string_value(j));
		break;
	case JSON_INTEGER:
		if (asprintf(&s, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(j)) == -1)
			s = NULL;
		break;
	case JSON_REAL:
		if (asprintf(&s, "%g", json_real_value(j)) == -1)
			s = NULL;
		break;
	case JSON_TRUE:
		s = strdup("yes");
		break;
	case JSON_FALSE:
		s = strdup("no");
		break;
	case JSON_NULL:
		s = strdup("-");
		break;
	default:
		break;
	}
	return s;
}

static bool
cmd_all_scalars(const json_t *array)
{
	const json_t	*el;
	size_t		 i;

	json_array_foreach(array, i, el) {
		if (json_is_object(el) || json_is_array(el))
			return false;
	}
	return true;
}

static void
cmd_print_array(const char *key, const json_t *array, int indent)
{
	const json_t	*el;
	char		*s;
	size_t		 i;

	if (cmd_all_scalars(array)) {
		printf("%*s%s:", indent, "", key);
		json_array_foreach(array, i, el) {
			s = cmd_scalar(el);
			printf("%s %s", i == 0 ? "" : ",", s != NULL ? s : "?");
			free(s);
		}
		printf("%s\n", json_array_size(array) == 0 ? " -" : "");
		return;
	}
	printf("%*s%s:\n", indent, "", key);
	json_array_foreach(array, i, el) {
		if (json_is_object(el)) {
			printf("%*s-\n", indent + 2, "");
			cmd_print_object(el, indent + 4);
		} else if ((s = cmd_scalar(el)) != NULL) {
			printf("%*s- %s\n", indent + 2, "", s);
			free(s);
		} else {
			printf("%*s- ", indent + 2, "");
			if (json_dumpf(el, stdout, JSON_COMPACT) == 0)
				fputc('\n', stdout);
		}
	}
}

void
cmd_print_object(const json_t *obj, int indent)
{
	const char	*key;
	const json_t	*value;
	char		*s;

	json_object_foreach((json_t *)obj, key, value) {
		if (json_is_object(value)) {
			printf("%*s%s:%s\n", indent, "", key,
			    json_object_size(value) == 0 ? " -" : "");
			cmd_print_object(value, indent + 2);
		} else if (json_is_array(value))
			cmd_print_array(key, value, indent);
		else {
			s = cmd_scalar(value);
			printf("%*s%s: %s\n", indent, "", key,
			    s != NULL ? s : "?");
			free(s);
		}
	}
}

void
cmd_print_event(FILE *f, const json_t *event)
{
	const char	*key;
	const json_t	*value;
	char		 stamp[16], *s;
	time_t		 now = time(NULL);
	struct tm	 tm;

	if (localtime_r(&now, &tm) == NULL ||
	    strftime(stamp, sizeof stamp, "%H:%M:%S", &tm) == 0)
		strcpy(stamp, "--:--:--");
	fprintf(f, "%s %s", stamp, cmd_string(event, "event"));
	if (json_is_string(json_object_get(event, "name")))
		fprintf(f, " %s", cmd_string(event, "name"));
	json_object_foreach((json_t *)event, key, value) {
		if (strcmp(key, "event") == 0 || strcmp(key, "name") == 0)
			continue;
		if ((s = cmd_scalar(value)) != NULL) {
			fprintf(f, strpbrk(s, " \t\"") != NULL ? " %s=\"%s\"" :
			    " %s=%s", key, s);
			free(s);
		} else if ((s = json_dumps(value, JSON_COMPACT)) != NULL) {
			fprintf(f, " %s=%s", key, s);
			free(s);
		}
	}
	fputc('\n', f);
	fflush(f);
}
