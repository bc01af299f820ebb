/*
 * acme/order.c: what the renewal reads of an order and an authorization,
 * from fixtures shaped as RFC 8555 §7.1.3 and §7.1.4 show them.
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

#include "daemon/acme/acme.h"

static json_t *
doc(const char *text)
{
	json_error_t	 err;
	json_t		*j = json_loads(text, 0, &err);

	if (j == NULL)
		fail_msg("fixture: %s", err.text);
	return j;
}

static void
test_order_pending(void **state)
{
	struct acme_order	 o;
	json_t			*j = doc("{\"status\": \"pending\", "
	    "\"expires\": \"2030-01-01T00:00:00Z\", \"identifiers\": "
	    "[{\"type\": \"dns\", \"value\": \"www.example.com\"}], "
	    "\"authorizations\": [\"https://ca/authz/1\", "
	    "\"https://ca/authz/2\"], \"finalize\": \"https://ca/order/1/fin\"}");

	acme_order_parse(j, &o);
	assert_string_equal(o.status, "pending");
	assert_string_equal(o.finalize, "https://ca/order/1/fin");
	assert_null(o.certificate);
	assert_int_equal(o.nauthz, 2);
	assert_false(o.authz_bad);
	assert_string_equal(json_string_value(json_array_get(o.authz, 1)),
	    "https://ca/authz/2");
	json_decref(j);
}

static void
test_order_odd(void **state)
{
	struct acme_order	 o;
	json_t			*j;

	/* Not an object, no body at all: nothing, and no crash. */
	acme_order_parse(NULL, &o);
	assert_null(o.status);
	assert_int_equal(o.nauthz, 0);
	j = doc("[1, 2]");
	acme_order_parse(j, &o);
	assert_null(o.status);
	json_decref(j);
	/* Mistyped members read as absent; a non-string authorization is
	 * flagged; authorizations that are no array are none. */
	j = doc("{\"status\": 5, \"finalize\": null, \"certificate\": "
	    "\"https://ca/cert/1\", \"authorizations\": [\"https://a\", 7]}");
	acme_order_parse(j, &o);
	assert_null(o.status);
	assert_null(o.finalize);
	assert_string_equal(o.certificate, "https://ca/cert/1");
	assert_int_equal(o.nauthz, 2);
	assert_true(o.authz_bad);
	json_decref(j);
	j = doc("{\"status\": \"ready\", \"authorizations\": \"https://a\"}");
	acme_order_parse(j, &o);
	assert_string_equal(o.status, "ready");
	assert_null(o.authz);
	assert_int_equal(o.nauthz, 0);
	assert_false(o.authz_bad);
	json_decref(j);
}

static const char authz_text[] = "{\"identifier\": {\"type\": \"dns\", "
    "\"value\": \"www.example.com\"}, \"status\": \"invalid\", "
    "\"challenges\": ["
    "{\"type\": \"http-01\", \"url\": \"https://ca/ch/1\", \"token\": \"t1\"},"
    "{\"type\": \"dns-01\", \"url\": \"https://ca/ch/2\", \"token\": \"t2\", "
    "\"error\": {\"type\": \"urn:ietf:params:acme:error:dns\", "
    "\"detail\": \"no TXT record\"}},"
    "{\"type\": \"http-01\", \"url\": \"https://ca/ch/3\", \"token\": \"t3\"},"
    "{\"type\": \"tls-alpn-01\", \"token\": \"t4\"}]}";

static void
test_authz(void **state)
{
	struct acme_authz	 a;
	json_t			*j = doc(authz_text);

	acme_authz_parse(j, "http-01", &a);
	assert_string_equal(a.status, "invalid");
	assert_string_equal(a.identifier, "www.example.com");
	/* The first challenge of the type asked for. */
	assert_string_equal(a.token, "t1");
	assert_string_equal(a.chall_url, "https://ca/ch/1");
	/* The first error's detail, whatever its challenge. */
	assert_string_equal(a.problem, "no TXT record");
	acme_authz_parse(j, "dns-01", &a);
	assert_string_equal(a.token, "t2");
	/* Offered without a URL: the renewal refuses it. */
	acme_authz_parse(j, "tls-alpn-01", &a);
	assert_string_equal(a.token, "t4");
	assert_null(a.chall_url);
	json_decref(j);

	j = doc("{\"status\": \"pending\", \"identifier\": \"x\", "
	    "\"challenges\": {\"type\": \"http-01\"}}");
	acme_authz_parse(j, "http-01", &a);
	assert_string_equal(a.status, "pending");
	assert_null(a.identifier);
	assert_null(a.token);
	assert_null(a.problem);
	json_decref(j);
}

/* Our challenge's status and error come first; a wildcard says so. */
static void
test_authz_challenge_state(void **state)
{
	struct acme_authz	 a;
	struct acme_challenge	 ch;
	json_t			*j;

	j = doc("{\"identifier\": {\"type\": \"dns\", \"value\": "
	    "\"example.com\"}, \"wildcard\": true, \"status\": \"pending\", "
	    "\"challenges\": ["
	    "{\"type\": \"http-01\", \"url\": \"u1\", \"token\": \"t1\", "
	    "\"status\": \"invalid\", \"error\": {\"type\": \"urn:ietf:params:"
	    "acme:error:connection\", \"detail\": \"refused\"}},"
	    "{\"type\": \"dns-01\", \"url\": \"u2\", \"token\": \"t2\", "
	    "\"status\": \"processing\", \"error\": {\"type\": \"urn:ietf:"
	    "params:acme:error:dns\", \"detail\": \"no TXT\"}}]}");
	acme_authz_parse(j, "dns-01", &a);
	assert_string_equal(a.identifier, "example.com");
	assert_true(a.wildcard);
	assert_string_equal(a.chall_status, "processing");
	assert_string_equal(a.problem_type, "urn:ietf:params:acme:error:dns");
	assert_string_equal(a.problem, "no TXT");
	acme_authz_parse(j, "tls-alpn-01", &a);
	assert_null(a.token);
	assert_null(a.chall_status);
	/* None of ours: the first error of any. */
	assert_string_equal(a.problem, "refused");
	assert_non_null(a.challenges);
	json_decref(j);

	j = doc("{\"type\": \"http-01\", \"status\": \"invalid\", "
	    "\"error\": {\"type\": \"urn:ietf:params:acme:error:"
	    "unauthorized\", \"detail\": \"wrong key authorization\"}}");
	acme_challenge_parse(j, &ch);
	assert_string_equal(ch.status, "invalid");
	assert_string_equal(ch.problem_type,
	    "urn:ietf:params:acme:error:unauthorized");
	assert_string_equal(ch.problem, "wrong key authorization");
	json_decref(j);
}

/* An order for exactly the names asked, each once, with the right type. */
static void
test_identifiers(void **state)
{
	char			*names[] = { "a.example", "192.0.2.1" };
	struct strlist		 l = { names, 2 };
	struct acme_order	 o;
	json_t			*j;
	char			*s;

	j = doc("{\"status\": \"pending\", \"identifiers\": ["
	    "{\"type\": \"ip\", \"value\": \"192.0.2.1\"},"
	    "{\"type\": \"dns\", \"value\": \"A.example\"}]}");
	acme_order_parse(j, &o);
	assert_true(acme_identifiers_match(o.identifiers, &l));
	assert_non_null(s = acme_identifiers_list(o.identifiers));
	assert_string_equal(s, "192.0.2.1, A.example");
	free(s);
	json_decref(j);

	/* Another name; one twice; a wrong type; one missing; none. */
	j = doc("[[{\"type\": \"dns\", \"value\": \"a.example\"},"
	    "{\"type\": \"dns\", \"value\": \"b.example\"}],"
	    "[{\"type\": \"dns\", \"value\": \"a.example\"},"
	    "{\"type\": \"dns\", \"value\": \"a.example\"}],"
	    "[{\"type\": \"dns\", \"value\": \"a.example\"},"
	    "{\"type\": \"dns\", \"value\": \"192.0.2.1\"}],"
	    "[{\"type\": \"dns\", \"value\": \"a.example\"}]]");
	assert_false(acme_identifiers_match(json_array_get(j, 0), &l));
	assert_false(acme_identifiers_match(json_array_get(j, 1), &l));
	assert_false(acme_identifiers_match(json_array_get(j, 2), &l));
	assert_false(acme_identifiers_match(json_array_get(j, 3), &l));
	assert_false(acme_identifiers_match(NULL, &l));
	json_decref(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_pending),
		cmocka_unit_test(test_order_odd),
		cmocka_unit_test(test_authz),
		cmocka_unit_test(test_authz_challenge_state),
		cmocka_unit_test(test_identifiers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
