/*
 * daemon/control-request.c: a request line to the command to run, or to
 * the error the client gets, for each kind of peer.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "log.h"
#include "daemon/control.h"

static const struct control_peer root = { 100, 0, 1000, false };
static const struct control_peer self = { 101, 1000, 1000, false };
static const struct control_peer member = { 102, 2000, 1000, true };
static const struct control_peer stranger = { 103, 3000, 1000, false };

/* parse LINE as PEER: 1 with req, or -1 with the reply's error code. */
static int
parse(const char *line, const struct control_peer *peer,
    struct control_request *req, const char **code, json_t **reply)
{
	int	rc;

	*code = NULL;
	rc = control_request_parse(line, strlen(line), peer, req, reply);
	if (rc == -1) {
		assert_non_null(*reply);
		assert_true(json_is_false(json_object_get(*reply, "ok")));
		*code = json_string_value(json_object_get(json_object_get(
		    *reply, "error"), "code"));
		assert_non_null(*code);
		assert_null(req->msg);
		assert_null(req->args);
	} else
		assert_null(*reply);
	return rc;
}

/* The error code LINE gets from PEER, and the id its reply carries. */
static void
refused(const char *line, const struct control_peer *peer,
    const char *want, const char *want_id)
{
	struct control_request	 req;
	json_t			*reply;
	const char		*code;
	char			*id;

	assert_int_equal(parse(line, peer, &req, &code, &reply), -1);
	assert_string_equal(code, want);
	id = json_dumps(json_object_get(reply, "id"), JSON_ENCODE_ANY);
	assert_non_null(id);
	assert_string_equal(id, want_id);
	free(id);
	json_decref(reply);
}

static void
test_ok(void **state)
{
	struct control_request	 req;
	json_t			*reply;
	const char		*code;

	assert_int_equal(parse("{\"id\": 7, \"command\": \"show\", \"args\": "
	    "{\"name\": \"www\"}}\r", &member, &req, &code, &reply), 1);
	assert_string_equal(req.cmd->name, "show");
	assert_int_equal(json_integer_value(req.id), 7);
	assert_string_equal(json_string_value(json_object_get(req.args,
	    "name")), "www");
	control_request_clear(&req);
	assert_null(req.msg);

	/* args absent or null: an empty object. */
	assert_int_equal(parse("{\"command\": \"status\", \"args\": null}",
	    &self, &req, &code, &reply), 1);
	assert_null(req.id);
	assert_true(json_is_object(req.args));
	assert_int_equal(json_object_size(req.args), 0);
	control_request_clear(&req);
	assert_int_equal(parse("{\"id\": \"x\", \"command\": \"reload\"}",
	    &root, &req, &code, &reply), 1);
	assert_string_equal(req.cmd->name, "reload");
	control_request_clear(&req);
}

static void
test_blank(void **state)
{
	struct control_request	 req;
	json_t			*reply = (json_t *)1;

	assert_int_equal(control_request_parse("", 0, &root, &req, &reply), 0);
	assert_null(reply);
	assert_int_equal(control_request_parse("\r", 1, &root, &req, &reply),
	    0);
	assert_null(reply);
}

static void
test_refused(void **state)
{
	refused("not json", &root, "bad_request", "null");
	refused("[1]", &root, "bad_request", "null");
	refused("{\"id\": 3}", &root, "bad_request", "3");
	refused("{\"id\": 4, \"command\": 42}", &root, "bad_request", "4");
	refused("{\"id\": 5, \"command\": \"frob\"}", &root,
	    "unknown_command", "5");
	refused("{\"id\": 6, \"command\": \"status\", \"args\": [1]}", &root,
	    "bad_request", "6");
	/* NUL and invalid UTF-8 are not JSON. */
	refused("{\"id\": 8, \"command\": \"st\xc3\x28tus\"}", &root,
	    "bad_request", "null");
	/* A member may read, not command. */
	refused("{\"id\": 9, \"command\": \"reload\"}", &member,
	    "permission_denied", "9");
	/* A stranger learns nothing, not even which commands exist, nor
	 * whether its args are right. */
	refused("{\"id\": 10, \"command\": \"status\"}", &stranger,
	    "permission_denied", "10");
	refused("{\"id\": 11, \"command\": \"frob\", \"args\": 5}", &stranger,
	    "permission_denied", "11");
}

static void
test_nul(void **state)
{
	static const char line[] = "{\"id\": 1, \"command\": \"st\0atus\"}";
	struct control_request	 req;
	json_t			*reply;

	assert_int_equal(control_request_parse(line, sizeof(line) - 1, &root,
	    &req, &reply), -1);
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(reply, "error"), "code")), "bad_request");
	json_decref(reply);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok),
		cmocka_unit_test(test_blank),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_nul),
	};

	log_init("test_control_request", LOG_TARGET_STDERR, LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
