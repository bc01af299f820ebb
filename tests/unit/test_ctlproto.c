/*
 * common/ctlproto.c: message shapes, the 1 MiB limit, the error names and
 * the access rule.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "ctlproto.h"

/* A string member of a JSON object, or NULL. */
static const char *
test_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* A JSON string of n times 'x'. */
static json_t *
test_filler(size_t n)
{
	json_t	*j;
	char	*s;

	s = malloc(n + 1);
	assert_non_null(s);
	memset(s, 'x', n);
	s[n] = '\0';
	j = json_string(s);
	free(s);
	assert_non_null(j);
	return j;
}

static void
test_error_names(void **state)
{
	static const char *const want[] = {
		"bad_request", "unknown_command", "not_found",
		"permission_denied", "busy", "internal",
	};
	int	 i, j;

	assert_int_equal(CTL_ERR__MAX, sizeof want / sizeof want[0]);
	for (i = 0; i < CTL_ERR__MAX; i++) {
		assert_non_null(ctl_error_names[i]);
		assert_string_equal(ctl_error_names[i], want[i]);
		for (j = 0; j < i; j++)
			assert_string_not_equal(ctl_error_names[i],
			    ctl_error_names[j]);
	}
	assert_string_equal(ctl_error_names[CTL_ERR_NOT_FOUND], "not_found");
	assert_string_equal(ctl_error_names[CTL_ERR_PERMISSION_DENIED],
	    "permission_denied");
}

static void
test_ok(void **state)
{
	json_t	*id, *msg, *result;

	id = json_integer(7);
	msg = ctlproto_ok(id, json_pack("{s:i}", "n", 3));
	assert_non_null(msg);
	assert_int_equal(json_object_size(msg), 3);
	assert_true(json_equal(json_object_get(msg, "id"), id));
	assert_true(json_is_true(json_object_get(msg, "ok")));
	result = json_object_get(msg, "result");
	assert_true(json_is_object(result));
	assert_int_equal(json_integer_value(json_object_get(result, "n")), 3);
	json_decref(msg);
	/* The id was borrowed: still ours. */
	assert_int_equal(json_integer_value(id), 7);
	assert_int_equal(id->refcount, 1);
	json_decref(id);

	/* No id: null; no result: {}. */
	msg = ctlproto_ok(NULL, NULL);
	assert_non_null(msg);
	assert_true(json_is_null(json_object_get(msg, "id")));
	assert_true(json_is_object(json_object_get(msg, "result")));
	assert_int_equal(json_object_size(json_object_get(msg, "result")), 0);
	json_decref(msg);

	/* Any JSON id comes back as it was. */
	id = json_pack("{s:[i,s]}", "a", 1, "b");
	msg = ctlproto_ok(id, json_object());
	assert_true(json_equal(json_object_get(msg, "id"), id));
	json_decref(msg);
	json_decref(id);
}

static void
test_error(void **state)
{
	json_t	*id, *msg, *err;

	id = json_string("req-1");
	msg = ctlproto_error(id, CTL_ERR_NOT_FOUND,
	    "no certificate named '%s'", "www");
	assert_non_null(msg);
	assert_int_equal(json_object_size(msg), 3);
	assert_string_equal(test_str(msg, "id"), "req-1");
	assert_true(json_is_false(json_object_get(msg, "ok")));
	assert_null(json_object_get(msg, "result"));
	err = json_object_get(msg, "error");
	assert_int_equal(json_object_size(err), 2);
	assert_string_equal(test_str(err, "code"), "not_found");
	assert_string_equal(test_str(err, "message"),
	    "no certificate named 'www'");
	json_decref(msg);
	json_decref(id);

	msg = ctlproto_error(NULL, CTL_ERR_BAD_REQUEST, "%d", 42);
	assert_true(json_is_null(json_object_get(msg, "id")));
	err = json_object_get(msg, "error");
	assert_string_equal(test_str(err, "code"), "bad_request");
	assert_string_equal(test_str(err, "message"), "42");
	json_decref(msg);

	/* Bytes that are not UTF-8 do not cost the message. */
	msg = ctlproto_error(NULL, CTL_ERR_INTERNAL, "open %s: %s",
	    "/tmp/caf\xe9", "No such file");
	assert_non_null(msg);
	err = json_object_get(msg, "error");
	assert_string_equal(test_str(err, "message"),
	    "open /tmp/caf?: No such file");
	json_decref(msg);

	/* A code out of range is reported as internal. */
	msg = ctlproto_error(NULL, CTL_ERR__MAX, "x");
	err = json_object_get(msg, "error");
	assert_string_equal(test_str(err, "code"), "internal");
	json_decref(msg);
}

static void
test_request(void **state)
{
	json_t	*msg, *args;

	args = json_pack("{s:s, s:b}", "name", "www", "force", 1);
	msg = ctlproto_request(12, "renew", args);	/* args stolen */
	assert_non_null(msg);
	assert_int_equal(json_object_size(msg), 3);
	assert_int_equal(json_integer_value(json_object_get(msg, "id")), 12);
	assert_string_equal(test_str(msg, "command"), "renew");
	assert_ptr_equal(json_object_get(msg, "args"), args);
	assert_int_equal(args->refcount, 1);
	json_decref(msg);

	msg = ctlproto_request(1, "status", NULL);
	assert_true(json_is_object(json_object_get(msg, "args")));
	assert_int_equal(json_object_size(json_object_get(msg, "args")), 0);
	json_decref(msg);
}

static void
test_encode(void **state)
{
	json_t	*msg;
	char	*line;

	msg = ctlproto_request(7, "status", NULL);
	line = ctlproto_encode(msg, CTL_MAX_MESSAGE);
	assert_non_null(line);
	assert_string_equal(line,
	    "{\"id\":7,\"command\":\"status\",\"args\":{}}\n");
	free(line);
	json_decref(msg);

	/* A newline inside a string is escaped: one message, one line. */
	msg = ctlproto_error(NULL, CTL_ERR_BAD_REQUEST, "a\nb");
	line = ctlproto_encode(msg, CTL_MAX_MESSAGE);
	assert_non_null(line);
	assert_ptr_equal(strchr(line, '\n'), line + strlen(line) - 1);
	free(line);
	json_decref(msg);

	/* UTF-8 goes through as is. */
	msg = json_pack("{s:s}", "n", "\xc3\xa9t\xc3\xa9");
	line = ctlproto_encode(msg, CTL_MAX_MESSAGE);
	assert_string_equal(line, "{\"n\":\"\xc3\xa9t\xc3\xa9\"}\n");
	free(line);
	json_decref(msg);
}

static void
test_encode_limit(void **state)
{
	json_t	*msg;
	char	*line;
	size_t	 n;

	/* {"a":"xx...x"} is n + 8 bytes; with '\n', exactly 1 MiB. */
	n = CTL_MAX_MESSAGE - 9;
	msg = json_pack("{s:o}", "a", test_filler(n));
	line = ctlproto_encode(msg, CTL_MAX_MESSAGE);
	assert_non_null(line);
	assert_int_equal(strlen(line), CTL_MAX_MESSAGE);
	assert_int_equal(line[CTL_MAX_MESSAGE - 1], '\n');
	free(line);
	json_decref(msg);

	msg = json_pack("{s:o}", "a", test_filler(n + 1));
	assert_null(ctlproto_encode(msg, CTL_MAX_MESSAGE));
	/* A reply may be longer: a fleet's status. */
	assert_non_null(line = ctlproto_encode(msg, CTL_MAX_REPLY));
	assert_int_equal(strlen(line), CTL_MAX_MESSAGE + 1);
	free(line);
	json_decref(msg);
}

static void
test_decode(void **state)
{
	const char	*ok = "{\"id\":3,\"command\":\"version\"}";
	json_t		*msg;
	char		*cause = NULL, *big;

	msg = ctlproto_decode(ok, strlen(ok), CTL_MAX_MESSAGE, &cause);
	assert_non_null(msg);
	assert_null(cause);
	assert_string_equal(test_str(msg, "command"), "version");
	json_decref(msg);

	/* Only len bytes count. */
	msg = ctlproto_decode("{}garbage", 2, CTL_MAX_MESSAGE, &cause);
	assert_non_null(msg);
	json_decref(msg);

	assert_null(ctlproto_decode("{bad", 4, CTL_MAX_MESSAGE, &cause));
	assert_non_null(cause);
	assert_non_null(strstr(cause, "invalid JSON"));
	free(cause);

	assert_null(ctlproto_decode("[1]", 3, CTL_MAX_MESSAGE, &cause));
	assert_string_equal(cause, "message is not a JSON object");
	free(cause);

	assert_null(ctlproto_decode("{\"a\":\"\xff\"}", 9, CTL_MAX_MESSAGE, &cause));
	assert_non_null(cause);
	free(cause);

	assert_null(ctlproto_decode("{}\0{}", 5, CTL_MAX_MESSAGE, &cause));
	assert_non_null(cause);
	free(cause);

	/* A line of 1 MiB leaves no room for its newline. */
	big = malloc(CTL_MAX_MESSAGE);
	assert_non_null(big);
	memset(big, ' ', CTL_MAX_MESSAGE);
	big[0] = '{';
	big[CTL_MAX_MESSAGE - 2] = '}';
	msg = ctlproto_decode(big, CTL_MAX_MESSAGE - 1, CTL_MAX_MESSAGE,
	    &cause);
	assert_non_null(msg);
	json_decref(msg);
	big[CTL_MAX_MESSAGE - 2] = ' ';
	big[CTL_MAX_MESSAGE - 1] = '}';
	assert_null(ctlproto_decode(big, CTL_MAX_MESSAGE, CTL_MAX_MESSAGE,
	    &cause));
	assert_string_equal(cause, "message longer than 1 MiB");
	free(cause);
	/* The same line is a fine reply: acmectl reads up to 64 MiB (the
	 * status of a large fleet). */
	msg = ctlproto_decode(big, CTL_MAX_MESSAGE, CTL_MAX_REPLY, &cause);
	assert_non_null(msg);
	json_decref(msg);
	free(big);
}

static void
test_allowed(void **state)
{
	const uid_t	 self = 990, other = 1000;

	/* Root and the daemon's own user: everything. */
	assert_true(ctlproto_allowed(0, self, false, false));
	assert_true(ctlproto_allowed(0, self, false, true));
	assert_true(ctlproto_allowed(self, self, false, false));
	/* control-group members: read-only commands only. */
	assert_true(ctlproto_allowed(other, self, true, true));
	assert_false(ctlproto_allowed(other, self, true, false));
	/* Anyone else: nothing, not even version. */
	assert_false(ctlproto_allowed(other, self, false, true));
	assert_false(ctlproto_allowed(other, self, false, false));
	/* A daemon running as root grants nothing more to others. */
	assert_false(ctlproto_allowed(other, 0, false, true));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_names),
		cmocka_unit_test(test_ok),
		cmocka_unit_test(test_error),
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_encode_limit),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_allowed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
