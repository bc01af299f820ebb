/* acme/client.c: the parts that need no server (Link headers, profiles). */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/acme/acme.h"

static void
links_of(char *const *links, size_t n, const char *rel, struct strlist *out)
{
	struct acme_response	resp;

	memset(&resp, 0, sizeof(resp));
	resp.links = links;
	resp.nlinks = n;
	memset(out, 0, sizeof(*out));
	assert_int_equal(acme_links(&resp, rel, out), 0);
}

static void
strlist_free(struct strlist *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static void
test_links_alternate(void **state)
{
	/* As Pebble sends them: one header per link, plus "index". */
	char *const	 links[] = {
		"<https://127.0.0.1:14000/dir>;rel=\"index\"",
		"<https://127.0.0.1:14000/certZ/ab/1>;rel=\"alternate\"",
		"<https://127.0.0.1:14000/certZ/ab/2>; rel=alternate",
	};
	struct strlist	 out;

	links_of(links, 3, "alternate", &out);
	assert_int_equal(out.n, 2);
	assert_string_equal(out.v[0], "https://127.0.0.1:14000/certZ/ab/1");
	assert_string_equal(out.v[1], "https://127.0.0.1:14000/certZ/ab/2");
	strlist_free(&out);

	links_of(links, 3, "index", &out);
	assert_int_equal(out.n, 1);
	assert_string_equal(out.v[0], "https://127.0.0.1:14000/dir");
	strlist_free(&out);
}

static void
test_links_one_header(void **state)
{
	/* Several links in one header; "alternates" is not "alternate". */
	char *const	 links[] = {
		"<https://a/1>;rel=\"alternate\", <https://a/2>;title=\"x\";"
		"rel=\"alternate\",<https://a/3>;rel=\"alternates\"",
	};
	struct strlist	 out;

	links_of(links, 1, "alternate", &out);
	assert_int_equal(out.n, 2);
	assert_string_equal(out.v[0], "https://a/1");
	assert_string_equal(out.v[1], "https://a/2");
	strlist_free(&out);
}

static void
test_links_garbage(void **state)
{
	char *const	 links[] = { "", "no brackets;rel=alternate",
	    "<https://unterminated;rel=\"alternate\"" };
	struct strlist	 out;

	links_of(links, 3, "alternate", &out);
	assert_int_equal(out.n, 0);
	strlist_free(&out);
}

/* Checks profile against a directory given as JSON text. */
static int
check_profile(const char *dir_json, const char *profile, char **cause)
{
	json_t	*dir = json_loads(dir_json, 0, NULL);
	int	 rc;

	assert_non_null(dir);
	*cause = NULL;
	rc = acme_profile_check(dir, "pebble", "www", profile, cause);
	json_decref(dir);
	return rc;
}

static void
test_profile_offered(void **state)
{
	char	*cause;

	assert_int_equal(check_profile("{\"meta\": {\"profiles\": "
	    "{\"tlsserver\": \"TLS servers\", \"classic\": \"90 days\"}}}",
	    "classic", &cause), 0);
	assert_null(cause);
}

static void
test_profile_not_offered(void **state)
{
	char	*cause;

	/* The list is sorted, whatever order the directory has. */
	assert_int_equal(check_profile("{\"meta\": {\"profiles\": "
	    "{\"tlsserver\": \"x\", \"classic\": \"y\"}}}", "shortlived",
	    &cause), -1);
	assert_string_equal(cause, "certificate 'www' asks for profile "
	    "'shortlived', but CA 'pebble' offers no such profile (offered: "
	    "classic, tlsserver)");
	free(cause);
	/* Names are compared exactly. */
	assert_int_equal(check_profile("{\"meta\": {\"profiles\": "
	    "{\"classic\": \"y\"}}}", "Classic", &cause), -1);
	assert_non_null(strstr(cause, "(offered: classic)"));
	free(cause);
}

static void
test_profile_none(void **state)
{
	const char	*dirs[] = {
		"{\"newOrder\": \"https://a/new\"}",
		"{\"meta\": {\"termsOfService\": \"https://a/tos\"}}",
		"{\"meta\": {\"profiles\": {}}}",
		"{\"meta\": {\"profiles\": [\"classic\"]}}",
	};
	char		*cause;
	size_t		 i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		assert_int_equal(check_profile(dirs[i], "classic", &cause), -1);
		assert_string_equal(cause, "certificate 'www' asks for profile "
		    "'classic', but CA 'pebble' offers no profiles (its "
		    "directory has no meta.profiles)");
		free(cause);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_links_alternate),
		cmocka_unit_test(test_links_one_header),
		cmocka_unit_test(test_links_garbage),
		cmocka_unit_test(test_profile_offered),
		cmocka_unit_test(test_profile_not_offered),
		cmocka_unit_test(test_profile_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
