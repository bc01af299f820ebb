/*
 * Unit tests for daemon/state.c, in a mkdtemp() directory.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "log.h"
#include "daemon/fsutil.h"
#include "daemon/state.h"

struct fixture {
	char	 tmp[64];
	char	*path;
};

static int
setup(void **state)
{
	struct fixture	*f;

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	strcpy(f->tmp, "/tmp/test_state.XXXXXX");
	assert_non_null(mkdtemp(f->tmp));
	f->path = fs_path("%s/state.json", f->tmp);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	unlink(f->path);
	rmdir(f->tmp);
	free(f->path);
	free(f);
	return 0;
}

static void
write_text(const char *path, const char *text)
{
	assert_int_equal(fs_write_atomic(path, text, strlen(text), 0600,
	    NULL), 0);
}

/* state_load must fail on text, with a cause naming the path and want. */
static void
assert_load_fails(const char *path, const char *text, const char *want)
{
	struct cert_state	 st;
	char			*cause = NULL;

	write_text(path, text);
	assert_int_equal(state_load(path, &st, &cause), -1);
	assert_non_null(cause);
	if (strstr(cause, path) == NULL || strstr(cause, want) == NULL)
		fail_msg("cause \"%s\" lacks \"%s\"", cause, want);
	assert_int_equal(st.nhistory, 0);
	assert_null(st.ca);
	free(cause);
}

static void
test_round_trip(void **state)
{
	struct fixture		*f = *state;
	struct cert_state	 st, in;
	struct attempt		 a;
	struct stat		 sb;
	char			*cause = NULL;

	memset(&in, 0, sizeof(in));
	in.next_renewal = 1795428000;		/* 2026-11-23T10:00:00Z */
	in.last_success = 1787652000;
	in.failures = 3;
	in.last_error = strdup("urn:ietf:params:acme:error:rateLimited: \"too\""
	    " many\nrequests");
	in.ca = strdup("letsencrypt");
	in.deploy.pending = true;
	in.deploy.version = 4;
	in.deploy.failures = 2;
	in.deploy.next = 1795428060;
	in.deploy.last_error = strdup("deploy-hook exited with status 1");
	in.ari.serial = strdup("1A2B");
	in.ari.start = 1795428000;
	in.ari.end = 1795431600;
	in.ari.next_fetch = 1795400000;

	/* Oldest first: the history ends up newest first. */
	memset(&a, 0, sizeof(a));
	a.started = 1787651000;
	a.finished = 1787652000;
	a.ok = true;
	a.ca = "letsencrypt";
	a.phase = "deploy";
	state_add_attempt(&in, &a);
	a.started = 1787700000;
	a.finished = 0;			/* null */
	a.ok = false;
	a.ca = "zerossl";
	a.phase = "finalize";
	a.error = "badCSR";
	state_add_attempt(&in, &a);
	memset(&a, 0, sizeof(a));	/* all null */
	state_add_attempt(&in, &a);
	assert_int_equal(in.nhistory, 3);

	assert_int_equal(state_save(f->path, &in, &cause), 0);
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);

	assert_int_equal(state_load(f->path, &st, &cause), 0);
	assert_int_equal(st.next_renewal, in.next_renewal);
	assert_int_equal(st.last_success, in.last_success);
	assert_int_equal(st.failures, 3);
	assert_string_equal(st.last_error, in.last_error);
	assert_string_equal(st.ca, "letsencrypt");
	assert_true(st.deploy.pending);
	assert_int_equal(st.deploy.version, 4);
	assert_int_equal(st.deploy.failures, 2);
	assert_int_equal(st.deploy.next, 1795428060);
	assert_string_equal(st.deploy.last_error,
	    "deploy-hook exited with status 1");
	assert_string_equal(st.ari.serial, "1A2B");
	assert_int_equal(st.ari.start, 1795428000);
	assert_int_equal(st.ari.end, 1795431600);
	assert_int_equal(st.ari.next_fetch, 1795400000);
	assert_int_equal(st.nhistory, 3);

	assert_int_equal(st.history[0].started, 0);
	assert_int_equal(st.history[0].finished, 0);
	assert_false(st.history[0].ok);
	assert_null(st.history[0].ca);
	assert_null(st.history[0].phase);
	assert_null(st.history[0].error);

	assert_int_equal(st.history[1].started, 1787700000);
	assert_int_equal(st.history[1].finished, 0);
	assert_false(st.history[1].ok);
	assert_string_equal(st.history[1].ca, "zerossl");
	assert_string_equal(st.history[1].phase, "finalize");
	assert_string_equal(st.history[1].error, "badCSR");

	assert_int_equal(st.history[2].started, 1787651000);
	assert_int_equal(st.history[2].finished, 1787652000);
	assert_true(st.history[2].ok);
	assert_string_equal(st.history[2].ca, "letsencrypt");
	assert_string_equal(st.history[2].phase, "deploy");
	assert_null(st.history[2].error);
	state_clear(&st);
	assert_null(st.ca);
	assert_int_equal(st.nhistory, 0);

	/* An empty state: every time and string null. */
	state_clear(&in);
	assert_int_equal(state_save(f->path, &in, &cause), 0);
	assert_int_equal(state_load(f->path, &st, &cause), 0);
	assert_int_equal(st.next_renewal, 0);
	assert_int_equal(st.last_success, 0);
	assert_int_equal(st.failures, 0);
	assert_null(st.last_error);
	assert_null(st.ca);
	assert_int_equal(st.nhistory, 0);
	state_clear(&st);
	state_clear(NULL);
}

static void
test_file_format(void **state)
{
	struct fixture		*f = *state;
	struct cert_state	 st;
	char			*cause = NULL;

	/* Hand-written: unknown members ignored, absent ones null. */
	write_text(f->path, "{\"version\": 1, \"future\": {\"x\": [1]},\n"
	    " \"next_renewal\": \"2026-11-23T11:00:00+01:00\",\n"
	    " \"last_success\": null, \"failures\": 2,\n"
	    " \"history\": [{\"ok\": true, \"started\": "
	    "\"2026-08-25T10:00:00.5Z\", \"extra\": 1}]}\n");
	assert_int_equal(state_load(f->path, &st, &cause), 0);
	assert_int_equal(st.next_renewal, 1795428000);
	assert_int_equal(st.last_success, 0);
	assert_int_equal(st.failures, 2);
	assert_null(st.last_error);
	assert_int_equal(st.nhistory, 1);
	assert_true(st.history[0].ok);
	assert_int_equal(st.history[0].started, 1787652000);
	state_clear(&st);
}

static void
test_missing(void **state)
{
	struct fixture		*f = *state;
	struct cert_state	 st;
	char			*cause = NULL, *path;

	memset(&st, 0xa5, sizeof(st));
	assert_int_equal(state_load(f->path, &st, &cause), 1);
	assert_null(cause);
	assert_int_equal(st.nhistory, 0);
	assert_null(st.ca);
	assert_int_equal(st.next_renewal, 0);

	/* Unreadable is not missing: a directory by that name. */
	path = fs_path("%s/dir.json", f->tmp);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(state_load(path, &st, &cause), -1);
	assert_non_null(cause);
	assert_non_null(strstr(cause, path));
	free(cause);
	rmdir(path);
	free(path);
}

static void
test_corrupt(void **state)
{
	struct fixture	*f = *state;

	assert_load_fails(f->path, "{\"version\": 1,\n\"failures\": 2,\n x",
	    "line 3");
	assert_load_fails(f->path, "", "line");
	assert_load_fails(f->path, "[1, 2]", "object");
	assert_load_fails(f->path, "{\"failures\": 1}", "version");
	assert_load_fails(f->path, "{\"version\": 2}", "version");
	assert_load_fails(f->path, "{\"version\": 1, \"version\": 1}",
	    "duplicate");
}

static void
test_wrong_type(void **state)
{
	struct fixture	*f = *state;

	assert_load_fails(f->path, "{\"version\": \"1\"}", "version");
	assert_load_fails(f->path, "{\"version\": 1, \"failures\": \"3\"}",
	    "failures");
	assert_load_fails(f->path, "{\"version\": 1, \"failures\": -1}",
	    "failures");
	assert_load_fails(f->path, "{\"version\": 1, \"ca\": 5}", "ca");
	assert_load_fails(f->path, "{\"version\": 1, \"last_error\": true}",
	    "last_error");
	assert_load_fails(f->path, "{\"version\": 1, \"next_renewal\": 17}",
	    "next_renewal");
	assert_load_fails(f->path, "{\"version\": 1, \"next_renewal\": "
	    "\"tomorrow\"}", "tomorrow");
	assert_load_fails(f->path, "{\"version\": 1, \"history\": {}}",
	    "history");
	assert_load_fails(f->path, "{\"version\": 1, \"deploy\": "
	    "{\"pending\": 1}}", "deploy");
	assert_load_fails(f->path, "{\"version\": 1, \"deploy\": "
	    "{\"failures\": -2}}", "deploy");
	assert_load_fails(f->path, "{\"version\": 1, \"history\": [1]}",
	    "history[0]");
	/* A later entry is bad: the earlier one must not leak. */
	assert_load_fails(f->path, "{\"version\": 1, \"history\": ["
	    "{\"ok\": true, \"ca\": \"a\", \"phase\": \"b\"},"
	    "{\"ok\": \"yes\"}]}", "history[1]: ok");
	assert_load_fails(f->path, "{\"version\": 1, \"history\": ["
	    "{\"ok\": true, \"ca\": \"a\", \"error\": 1}]}", "error");
}

static void
test_history_cap(void **state)
{
	struct fixture		*f = *state;
	struct cert_state	 st, in;
	struct attempt		 a;
	char			*cause = NULL, phase[16];
	size_t			 i;

	memset(&in, 0, sizeof(in));
	memset(&a, 0, sizeof(a));
	for (i = 0; i < STATE_HISTORY_MAX + 5; i++) {
		snprintf(phase, sizeof(phase), "p%zu", i);
		a.started = 1787000000 + (time_t)i;
		a.phase = phase;
		a.error = i % 2 ? "failed" : NULL;
		state_add_attempt(&in, &a);
		assert_int_equal(in.nhistory, i < STATE_HISTORY_MAX ? i + 1 :
		    STATE_HISTORY_MAX);
	}
	/* Newest first; the five oldest are gone. */
	for (i = 0; i < STATE_HISTORY_MAX; i++) {
		snprintf(phase, sizeof(phase), "p%zu",
		    STATE_HISTORY_MAX + 4 - i);
		assert_string_equal(in.history[i].phase, phase);
	}
	assert_int_equal(state_save(f->path, &in, &cause), 0);
	assert_int_equal(state_load(f->path, &st, &cause), 0);
	assert_int_equal(st.nhistory, STATE_HISTORY_MAX);
	for (i = 0; i < STATE_HISTORY_MAX; i++) {
		assert_string_equal(st.history[i].phase, in.history[i].phase);
		assert_int_equal(st.history[i].started, in.history[i].started);
	}
	state_clear(&st);
	state_clear(&in);

	/* A file with more entries than the cap keeps the newest. */
	write_text(f->path, "{\"version\": 1, \"history\": ["
	    "{\"ok\":true,\"phase\":\"0\"},{\"ok\":true},{\"ok\":true},"
	    "{\"ok\":true},{\"ok\":true},{\"ok\":true},{\"ok\":true},"
	    "{\"ok\":true},{\"ok\":true},{\"ok\":true},{\"ok\":false},"
	    "{\"ok\":false}]}");
	assert_int_equal(state_load(f->path, &st, &cause), 0);
	assert_int_equal(st.nhistory, STATE_HISTORY_MAX);
	assert_string_equal(st.history[0].phase, "0");
	assert_true(st.history[STATE_HISTORY_MAX - 1].ok);
	state_clear(&st);
}

static void
fill_current(struct current_state *cur)
{
	cur->version = 7;
	cur->file_id = strdup("12:345:1.000000002:3.000000004/13:346:5.0:6.0");
	cur->info.not_before = 1790000000;
	cur->info.not_after = 1797776000;
	cur->info.serial = strdup("1A2B");
	cur->info.issuer = strdup("Pebble Intermediate CA");
	cur->info.names.v = calloc(2, sizeof(char *));
	cur->info.names.v[0] = strdup("a.example");
	cur->info.names.v[1] = strdup("192.0.2.1");
	cur->info.names.n = 2;
	cur->info.key.kind = KEY_RSA;
	cur->info.key.bits = 3072;
	cur->info.ari_id = strdup("aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
}

/* The cache of `current` reads back as written. */
static void
test_current_round_trip(void **state)
{
	struct fixture		*f = *state;
	struct cert_state	 st, back;
	char			*cause = NULL;

	memset(&st, 0, sizeof(st));
	fill_current(&st.current);
	assert_int_equal(state_save(f->path, &st, &cause), 0);
	assert_int_equal(state_load(f->path, &back, &cause), 0);
	assert_int_equal(back.current.version, 7);
	assert_string_equal(back.current.file_id, st.current.file_id);
	assert_int_equal(back.current.info.not_before, 1790000000);
	assert_int_equal(back.current.info.not_after, 1797776000);
	assert_string_equal(back.current.info.serial, "1A2B");
	assert_string_equal(back.current.info.issuer, "Pebble Intermediate CA");
	assert_int_equal(back.current.info.names.n, 2);
	assert_string_equal(back.current.info.names.v[1], "192.0.2.1");
	assert_int_equal(back.current.info.key.kind, KEY_RSA);
	assert_int_equal(back.current.info.key.bits, 3072);
	assert_string_equal(back.current.info.ari_id, st.current.info.ari_id);
	state_clear(&st);
	state_clear(&back);
}

/* A cache that does not read back is dropped; the state still loads. */
static void
test_current_bad_is_dropped(void **state)
{
	struct fixture		*f = *state;
	struct cert_state	 st;
	char			*cause = NULL;

	write_text(f->path, "{\"version\": 1, \"failures\": 2, "
	    "\"current\": {\"version\": 3, \"file_id\": \"x\", "
	    "\"not_before\": \"2026-01-01T00:00:00Z\", "
	    "\"not_after\": \"2026-04-01T00:00:00Z\", \"serial\": \"01\", "
	    "\"issuer\": \"CA\", \"names\": [\"a.example\", 7], "
	    "\"key\": \"ec-p256\"}}\n");
	assert_int_equal(state_load(f->path, &st, &cause), 0);
	assert_int_equal(st.failures, 2);
	assert_int_equal(st.current.version, 0);
	assert_null(st.current.file_id);
	assert_null(st.current.info.serial);
	assert_int_equal(st.current.info.names.n, 0);
	state_clear(&st);

	write_text(f->path, "{\"version\": 1, \"current\": {\"version\": 3, "
	    "\"file_id\": \"x\", \"not_before\": \"2026-01-01T00:00:00Z\", "
	    "\"not_after\": \"2026-04-01T00:00:00Z\", \"serial\": \"01\", "
	    "\"issuer\": \"CA\", \"names\": [\"a.example\"], "
	    "\"key\": \"dsa-1024\"}}\n");
	assert_int_equal(state_load(f->path, &st, &cause), 0);
	assert_int_equal(st.current.version, 0);
	state_clear(&st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_file_format, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_type, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_current_round_trip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_current_bad_is_dropped,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_cap, setup,
		    teardown),
	};

	log_init("test_state", LOG_TARGET_STDERR, LOG_WARNING);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
