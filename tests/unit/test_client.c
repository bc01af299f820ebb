/* acme/client.c: the parts that need no server (Link headers, profiles,
 * the account directory at start). */
#include <config.h>

#include <sys/queue.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "daemon/acme/acme.h"
#include "daemon/config.h"
#include "daemon/fsutil.h"
#include "daemon/keygen.h"

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

static void
touch(const char *dir, const char *name)
{
	char	*path = fs_path("%s/%s", dir, name);

	assert_int_equal(fs_write_atomic(path, "x\n", 2, 0600, NULL), 0);
	free(path);
}

static bool
exists(const char *dir, const char *name)
{
	struct stat	 sb;
	char		*path = fs_path("%s/%s", dir, name);
	bool		 found;

	found = lstat(path, &sb) == 0;
	free(path);
	return found;
}

static int
rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* A client made for a CA with what a crash left in state_dir. */
static void
client_start(const char *state_dir)
{
	struct event_base	*base;
	struct keygen_list	 keygens;
	struct conf_ca		 conf;
	struct acme_client	*c;

	TAILQ_INIT(&keygens);
	memset(&conf, 0, sizeof(conf));
	conf.name = "pebble";
	conf.directory = "https://127.0.0.1:1/dir";
	assert_non_null(base = event_base_new());
	assert_non_null(c = acme_client_new(base, NULL, &keygens, &conf,
	    state_dir));
	acme_client_free(c);
	event_base_free(base);
}

/*
 * The temporary files an interrupted write left in accounts/<ca> (a crash
 * during registration or a key rollover) are gone once the client is
 * made; the account's own files stay.  A symbolic link in place of the
 * directory is not followed: what it names is left alone.
 */
static void
test_account_sweep(void **state)
{
	char	 tmp[] = "/tmp/test_client.XXXXXX";
	char	*state_dir, *acct, *other, *cause = NULL;

	assert_non_null(mkdtemp(tmp));
	state_dir = fs_path("%s/state", tmp);
	acct = fs_path("%s/accounts/pebble", state_dir);
	other = fs_path("%s/elsewhere", tmp);
	assert_int_equal(fs_mkdir_p(acct, 0700, &cause), 0);
	assert_int_equal(fs_mkdir_p(other, 0700, &cause), 0);
	touch(acct, "account-key.pem");
	touch(acct, "account-key.pem.next");
	touch(acct, "account.json");
	touch(acct, "account-key.pem.tmp.Ab3dEf9h");
	touch(acct, "account-key.pem.next.tmp.Zz0yXw8v");
	touch(acct, "account.json.tmp.Qq1rSs2t");

	client_start(state_dir);
	assert_true(exists(acct, "account-key.pem"));
	assert_true(exists(acct, "account-key.pem.next"));
	assert_true(exists(acct, "account.json"));
	assert_false(exists(acct, "account-key.pem.tmp.Ab3dEf9h"));
	assert_false(exists(acct, "account-key.pem.next.tmp.Zz0yXw8v"));
	assert_false(exists(acct, "account.json.tmp.Qq1rSs2t"));

	/* accounts/pebble -> elsewhere: elsewhere keeps its files. */
	touch(other, "account.json.tmp.Kk7lMm8n");
	nftw(acct, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	assert_int_equal(symlink(other, acct), 0);
	client_start(state_dir);
	assert_true(exists(other, "account.json.tmp.Kk7lMm8n"));

	/* No account directory yet: nothing to do. */
	assert_int_equal(unlink(acct), 0);
	client_start(state_dir);
	assert_false(exists(acct, ""));

	nftw(tmp, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(state_dir);
	free(acct);
	free(other);
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
		cmocka_unit_test(test_account_sweep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
