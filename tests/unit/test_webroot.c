/* webroot.c: http-01 files written safely and removed. */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/challenge/challenge.h"

#define TOKEN	"evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"
#define KEYAUTH	TOKEN ".9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"

struct dirs {
	char	 root[64];
	char	 web[128];
};

static int
setup(void **state)
{
	struct dirs	*d = calloc(1, sizeof(*d));

	snprintf(d->root, sizeof(d->root), "/tmp/test_webroot.XXXXXX");
	if (mkdtemp(d->root) == NULL)
		return -1;
	snprintf(d->web, sizeof(d->web), "%s/www", d->root);
	if (mkdir(d->web, 0755) == -1)
		return -1;
	*state = d;
	return 0;
}

static int
teardown(void **state)
{
	struct dirs	*d = *state;
	char		 cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->root);
	if (system(cmd) != 0)
		return -1;
	free(d);
	return 0;
}

static char *
slurp(const char *path)
{
	static char	 buf[512];
	FILE		*f;
	size_t		 n;

	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void
test_publish_and_remove(void **state)
{
	struct dirs	*d = *state;
	char		 path[512], *cause = NULL;
	struct stat	 st;

	snprintf(path, sizeof(path), "%s/.well-known/acme-challenge/%s",
	    d->web, TOKEN);
	assert_int_equal(webroot_publish(d->web, TOKEN, KEYAUTH, &cause), 0);
	assert_string_equal(slurp(path), KEYAUTH);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	webroot_remove(d->web, TOKEN);
	assert_int_equal(access(path, F_OK), -1);
}

static void
test_planted_symlink_not_followed(void **state)
{
	struct dirs	*d = *state;
	char		 dir[512], path[600], victim[512], *cause = NULL;
	FILE		*f;
	struct stat	 st;

	snprintf(dir, sizeof(dir), "%s/.well-known/acme-challenge", d->web);
	snprintf(path, sizeof(path), "%s/%s", dir, TOKEN);
	snprintf(victim, sizeof(victim), "%s/victim", d->root);
	assert_non_null(f = fopen(victim, "w"));
	fputs("precious", f);
	fclose(f);
	snprintf(dir, sizeof(dir), "%s/.well-known", d->web);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(dir, sizeof(dir), "%s/.well-known/acme-challenge", d->web);
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(symlink(victim, path), 0);

	assert_int_equal(webroot_publish(d->web, TOKEN, KEYAUTH, &cause), 0);
	assert_string_equal(slurp(victim), "precious");
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_string_equal(slurp(path), KEYAUTH);
}

static void
test_symlinked_directory_refused(void **state)
{
	struct dirs	*d = *state;
	char		 link[512], elsewhere[512], *cause = NULL;

	snprintf(elsewhere, sizeof(elsewhere), "%s/elsewhere", d->root);
	snprintf(link, sizeof(link), "%s/.well-known", d->web);
	assert_int_equal(mkdir(elsewhere, 0755), 0);
	assert_int_equal(symlink(elsewhere, link), 0);
	assert_int_equal(webroot_publish(d->web, TOKEN, KEYAUTH, &cause), -1);
	assert_non_null(strstr(cause, ".well-known"));
	assert_non_null(strstr(cause, "symlink"));
	free(cause);
	snprintf(elsewhere, sizeof(elsewhere), "%s/elsewhere/acme-challenge",
	    d->root);
	assert_int_equal(access(elsewhere, F_OK), -1);
}

static void
test_missing_webroot(void **state)
{
	struct dirs	*d = *state;
	char		 missing[512], *cause = NULL;

	snprintf(missing, sizeof(missing), "%s/nope", d->root);
	assert_int_equal(webroot_publish(missing, TOKEN, KEYAUTH, &cause), -1);
	assert_non_null(strstr(cause, missing));
	assert_non_null(strstr(cause, "No such file"));
	free(cause);
}

static void
test_bad_token(void **state)
{
	struct dirs	*d = *state;
	char		*cause = NULL;

	assert_int_equal(webroot_publish(d->web, "../../etc/x", KEYAUTH,
	    &cause), -1);
	assert_non_null(cause);
	free(cause);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_publish_and_remove,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_planted_symlink_not_followed,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlinked_directory_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_webroot,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_token, setup, teardown),
	};

	umask(022);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
