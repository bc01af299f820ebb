/*
 * acmectl [-s SOCKET] [--json] COMMAND [ARGS]: asks the running
 * acme-renewd over its control socket (DESIGN.md "acmectl").
 */
#include "config.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "ctlproto.h"
#include "ctl.h"

void
ctl_warnx(const char *fmt, ...)
{
	va_list	 ap;

	fflush(stdout);
	fputs("acmectl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
main(int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	struct ctl			 ctl = { .fd = -1, .next_id = 1,
					    .timeout = CTL_TIMEOUT };
	const struct ctl_cmd		*cmd;
	const char			*env;
	char				*cause = NULL;
	int				 ch;
	enum ctl_exit			 rc;

	ctl.socket_path = CTL_DEFAULT_SOCKET;
	if ((env = getenv("ACME_RENEWD_SOCKET")) != NULL && *env != '\0')
		ctl.socket_path = env;
	/* "+": options after the command are the command's. */
	while ((ch = getopt_long(argc, argv, "+hs:", opts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			cmd_list(stdout);
			return CTL_EXIT_OK;
		case 'j':
			ctl.json = true;
			break;
		case 's':
			ctl.socket_path = optarg;
			break;
		default:
			cmd_list(stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		cmd_list(stderr);
		return CTL_EXIT_USAGE;
	}
	if ((cmd = cmd_find(argv[optind], &cause)) == NULL) {
		ctl_warnx("%s", cause != NULL ? cause : "out of memory");
		free(cause);
		fprintf(stderr, "usage: acmectl [-s SOCKET] [--json] COMMAND "
		    "[ARGS] (acmectl -h lists the commands)\n");
		return CTL_EXIT_USAGE;
	}
	rc = cmd_exec(&ctl, cmd, argc - optind, argv + optind);
	client_close(&ctl);
	if (fflush(stdout) == EOF && rc == CTL_EXIT_OK)
		rc = CTL_EXIT_FAILED;
	return rc;
}
