/* proc.c: shell-like argv splitting and hooks run off the loop. */
#include <config.h>

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "log.h"
#include "daemon/daemon.h"
#include "daemon/proc.h"

static void
split_ok(const char *cmd, const char *const *want)
{
	char	**argv = NULL, *cause = NULL;
	size_t	  i;

	assert_int_equal(proc_split_argv(cmd, &argv, &cause), 0);
	for (i = 0; want[i] != NULL; i++) {
		assert_non_null(argv[i]);
		assert_string_equal(argv[i], want[i]);
	}
	assert_null(argv[i]);
	proc_argv_free(argv);
}

static void
test_split_words(void **state)
{
	split_ok("/bin/hook add  x", (const char *[]){ "/bin/hook", "add",
	    "x", NULL });
	split_ok("  a\tb\n", (const char *[]){ "a", "b", NULL });
	split_ok("a 'b c' \"d e\"", (const char *[]){ "a", "b c", "d e",
	    NULL });
	split_ok("a b\\ c", (const char *[]){ "a", "b c", NULL });
	split_ok("a ''", (const char *[]){ "a", "", NULL });
	split_ok("a \"x\\\"y\"", (const char *[]){ "a", "x\"y", NULL });
	split_ok("pre'fix'post", (const char *[]){ "prefixpost", NULL });
}

static void
test_split_no_expansion(void **state)
{
	split_ok("echo $HOME `id` * ~", (const char *[]){ "echo", "$HOME",
	    "`id`", "*", "~", NULL });
	split_ok("a \"$HOME\" '$x'", (const char *[]){ "a", "$HOME", "$x",
	    NULL });
	split_ok("a ;b |c", (const char *[]){ "a", ";b", "|c", NULL });
}

static void
test_split_errors(void **state)
{
	char	**argv = NULL, *cause = NULL;

	assert_int_equal(proc_split_argv("a 'b", &argv, &cause), -1);
	assert_non_null(strstr(cause, "unterminated"));
	free(cause);
	cause = NULL;
	assert_int_equal(proc_split_argv("a \"b", &argv, &cause), -1);
	free(cause);
	cause = NULL;
	assert_int_equal(proc_split_argv("   ", &argv, &cause), -1);
	assert_non_null(strstr(cause, "empty"));
	free(cause);
	assert_null(argv);
}

struct outcome {
	bool	done;
	int	status;
	bool	timed_out;
	char	output[PROC_OUTPUT_KEEP + 1];
	char	error[256];
};

static void
done_cb(const struct proc_result *r, void *arg)
{
	struct outcome	*o = arg;

	o->done = true;
	o->status = r->status;
	o->timed_out = r->timed_out;
	snprintf(o->output, sizeof(o->output), "%s", r->output);
	snprintf(o->error, sizeof(o->error), "%s",
	    r->error != NULL ? r->error : "");
}

static void
sigchld_cb(evutil_socket_t fd, short what, void *arg)
{
	proc_reap(arg);
}

/* Runs argv through a minimal daemon context until the callback ran. */
static void
run(char *const argv[], char *const env[], long long timeout,
    struct outcome *o)
{
	struct daemon	 d;
	struct event	*sig;
	struct proc	*p;
	char		*cause = NULL;

	memset(&d, 0, sizeof(d));
	memset(o, 0, sizeof(*o));
	TAILQ_INIT(&d.procs);
	assert_non_null(d.base = event_base_new());
	sig = evsignal_new(d.base, SIGCHLD, sigchld_cb, &d);
	evsignal_add(sig, NULL);
	p = proc_spawn(&d, &(struct log_tag){ .name = "www" }, "test-hook",
	    argv, env, timeout, done_cb, o, &cause);
	assert_non_null(p);
	while (!o->done)
		event_base_loop(d.base, EVLOOP_ONCE);
	assert_true(TAILQ_EMPTY(&d.procs));
	event_free(sig);
	event_base_free(d.base);
}

static void
test_spawn_status_env_output(void **state)
{
	char *const	 argv[] = { "/bin/sh", "-c",
	    "echo \"name=$ACME_RENEWD_NAME\"; echo oops >&2; exit 3", NULL };
	char *const	 env[] = { "ACME_RENEWD_NAME=www", NULL };
	struct outcome	 o;

	run(argv, env, 10, &o);
	assert_int_equal(o.status, 3);
	assert_false(o.timed_out);
	assert_non_null(strstr(o.output, "name=www\n"));
	assert_non_null(strstr(o.output, "oops\n"));
	assert_non_null(strstr(o.error, "exited with status 3"));
}

static void
test_spawn_success(void **state)
{
	char *const	 argv[] = { "/bin/true", NULL };
	struct outcome	 o;

	run(argv, NULL, 10, &o);
	assert_int_equal(o.status, 0);
	assert_string_equal(o.error, "");
}

static void
test_spawn_timeout_kills_group(void **state)
{
	/* The grandchild (sleep) must die with the hook's group. */
	char		 pidfile[] = "/tmp/test_proc.XXXXXX";
	char		 script[512];
	char *const	 argv[] = { "/bin/sh", "-c", script, NULL };
	struct outcome	 o;
	time_t		 start = time(NULL);
	FILE		*f;
	int		 fd, gpid = 0;

	assert_true((fd = mkstemp(pidfile)) != -1);
	close(fd);
	snprintf(script, sizeof(script),
	    "sleep 60 & echo $! > %s; wait", pidfile);
	run(argv, NULL, 1, &o);
	assert_true(o.timed_out);
	assert_non_null(strstr(o.error, "timed out"));
	assert_true(time(NULL) - start < 30);
	assert_non_null(f = fopen(pidfile, "r"));
	assert_int_equal(fscanf(f, "%d", &gpid), 1);
	fclose(f);
	unlink(pidfile);
	usleep(200000);
	/* Gone, or a zombie awaiting its new parent: never still asleep. */
	{
		char	path[64], st = '?';
		FILE	*s;

		snprintf(path, sizeof(path), "/proc/%d/stat", gpid);
		if ((s = fopen(path, "r")) != NULL) {
			assert_int_equal(fscanf(s, "%*d %*s %c", &st), 1);
			fclose(s);
			assert_int_equal(st, 'Z');
		}
	}
}

static void
test_spawn_not_executable(void **state)
{
	struct daemon	 d;
	char *const	 argv[] = { "/etc/hostname-not-there", NULL };
	char		*cause = NULL;

	memset(&d, 0, sizeof(d));
	TAILQ_INIT(&d.procs);
	assert_null(proc_spawn(&d, NULL, "deploy-hook", argv, NULL, 5,
	    done_cb, NULL, &cause));
	assert_non_null(strstr(cause, "deploy-hook /etc/hostname-not-there"));
	assert_non_null(strstr(cause, "No such file"));
	free(cause);
	assert_true(TAILQ_EMPTY(&d.procs));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_words),
		cmocka_unit_test(test_split_no_expansion),
		cmocka_unit_test(test_split_errors),
		cmocka_unit_test(test_spawn_status_env_output),
		cmocka_unit_test(test_spawn_success),
		cmocka_unit_test(test_spawn_timeout_kills_group),
		cmocka_unit_test(test_spawn_not_executable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
