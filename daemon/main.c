/*
 * acme-renewd: keeps ACME certificates renewed.  Runs in the foreground
 * (systemd Type=notify); never forks.
 */

#include <config.h>	/* the generated one; "config.h" is daemon/config.h */

#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <curl/curl.h>

#include "log.h"
#include "daemon.h"

/* Every message that ends the process: an error, and it says so. */
static void	stopping(const char *, ...) __attribute__((format(printf, 1, 2)));

static void
stopping(const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	log_tagged(LOG_ERR, NULL, "%s; stopping", msg != NULL ? msg :
	    "cannot start");
	free(msg);
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: acme-renewd [-d] [-c FILE] [--check-config] "
	    "[-V]\n"
	    "  -c, --config FILE   configuration file (default %s)\n"
	    "      --check-config  validate the configuration and exit\n"
	    "  -d, --debug         log at debug level\n"
	    "  -V, --version       print the version and exit\n",
	    CONFIG_DEFAULT_PATH);
}

/* Prints every error; NULL when the config is unusable. */
static struct config *
load_config(const char *path, bool check)
{
	struct config_errors	 errs = { NULL, 0 };
	struct config		*conf;
	size_t			 i;

	conf = config_load(path, &errs);
	for (i = 0; i < errs.count; i++)
		fprintf(stderr, "%s\n", errs.msg[i]);
	if (conf == NULL && !check)
		stopping("%s: the configuration has %zu error%s", path,
		    errs.count, errs.count == 1 ? "" : "s");
	config_errors_clear(&errs);
	return conf;
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "debug", no_argument, NULL, 'd' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*path = CONFIG_DEFAULT_PATH;
	bool		 check = false, debug = false;
	struct config	*conf;
	struct daemon	*d;
	char		*cause = NULL;
	int		 ch, rc = 1;

	while ((ch = getopt_long(argc, argv, "c:dVh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'C':
			check = true;
			break;
		case 'd':
			debug = true;
			break;
		case 'V':
			printf("%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	log_init("acme-renewd", LOG_TARGET_STDERR, LOG_INFO);
	if ((conf = load_config(path, check)) == NULL)
		return 1;
	if (check) {
		if (conf->daemon.control_group_absent)
			printf("%s: note: control-group is not set and this "
			    "machine has no group '%s': the control socket "
			    "will be root's only\n", path, CONFIG_DEFAULT_GROUP);
		printf("%s: configuration OK\n", path);
		config_free(conf);
		return 0;
	}
	log_init("acme-renewd", conf->daemon.log_target,
	    debug ? LOG_DEBUG : conf->daemon.log_level);

	/* Writes to vanished control clients must not kill the daemon. */
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx("cannot initialize libcurl");
	if ((d = daemon_new(conf)) == NULL) {
		stopping("cannot set up the daemon: out of memory");
		goto out;
	}
	d->debug = debug;
	if (daemon_start(d, &cause) == -1) {
		stopping("%s", cause != NULL ? cause : "cannot start");
		goto out;
	}
	if (daemon_run(d) == 0)
		rc = 0;
	else
		stopping("the event loop failed");
out:
	free(cause);
	daemon_free(d);
	curl_global_cleanup();
	return rc;
}
