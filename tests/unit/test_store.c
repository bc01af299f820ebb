/*
 * Unit tests for daemon/store.c (and the daemon/fsutil.c it rests on).
 * Each test works in its own mkdtemp() directory.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
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

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "log.h"
#include "daemon/fsutil.h"
#include "daemon/store.h"

struct fixture {
	char	 tmp[64];
	char	*state_dir;
	char	*certdir;
};

/* One key and its self-signed certificate, as PEM. */
struct test_pair {
	char	*key;
	char	*cert;
};

static char *
bio_string(BIO *bio)
{
	char	*data, *s;
	long	 len;

	len = BIO_get_mem_data(bio, &data);
	assert_true(len >= 0);
	s = malloc((size_t)len + 1);
	assert_non_null(s);
	memcpy(s, data, (size_t)len);
	s[len] = '\0';
	return s;
}

static void
pair_make(struct test_pair *p, const char *cn)
{
	EVP_PKEY	*key;
	X509		*x;
	X509_NAME	*name;
	BIO		*bio;

	key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	assert_non_null(key);
	assert_non_null(x = X509_new());
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 1), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
	name = X509_get_subject_name(x);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0), 1);
	assert_int_equal(X509_set_issuer_name(x, name), 1);
	assert_int_equal(X509_set_pubkey(x, key), 1);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);

	assert_non_null(bio = BIO_new(BIO_s_mem()));
	assert_int_equal(PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0,
	    NULL, NULL), 1);
	p->key = bio_string(bio);
	BIO_free(bio);
	assert_non_null(bio = BIO_new(BIO_s_mem()));
	assert_int_equal(PEM_write_bio_X509(bio, x), 1);
	p->cert = bio_string(bio);
	BIO_free(bio);
	X509_free(x);
	EVP_PKEY_free(key);
}

static void
pair_free(struct test_pair *p)
{
	free(p->key);
	free(p->cert);
}

static int
rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int
setup(void **state)
{
	struct fixture	*f;

	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	strcpy(f->tmp, "/tmp/test_store.XXXXXX");
	assert_non_null(mkdtemp(f->tmp));
	f->state_dir = fs_path("%s/state", f->tmp);
	f->certdir = fs_path("%s/certs/www", f->state_dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	nftw(f->tmp, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(f->state_dir);
	free(f->certdir);
	free(f);
	return 0;
}

static char *
read_file(const char *dir, const char *file)
{
	char	*path, *s, *cause = NULL;

	path = fs_path("%s/%s", dir, file);
	s = fs_read_file(path, 1 << 20, NULL, &cause);
	if (s == NULL)
		fail_msg("%s", cause);
	free(path);
	return s;
}

static void
assert_mode(const char *dir, const char *file, mode_t mode)
{
	struct stat	 sb;
	char		*path;

	path = fs_path("%s/%s", dir, file);
	if (lstat(path, &sb) == -1)
		fail_msg("stat %s: %s", path, strerror(errno));
	if ((sb.st_mode & 07777) != mode)
		fail_msg("%s: mode %o, expected %o", path,
		    (unsigned)(sb.st_mode & 07777), (unsigned)mode);
	free(path);
}

static bool
exists(const char *dir, const char *file)
{
	struct stat	 sb;
	char		*path;
	int		 r;

	path = fs_path("%s/%s", dir, file);
	r = lstat(path, &sb);
	free(path);
	return r == 0;
}

static void
assert_current(const char *certdir, const char *expect)
{
	char	*link, buf[64];
	ssize_t	 n;

	link = fs_path("%s/current", certdir);
	n = readlink(link, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, expect);
	free(link);
}

/* Number of entries in dir whose name contains sub ("^x": starts with x). */
static int
count_entries(const char *dir, const char *sub)
{
	DIR		*d;
	struct dirent	*de;
	int		 n = 0;

	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL) {
		if (sub[0] == '^' ? strncmp(de->d_name, sub + 1,
		    strlen(sub + 1)) == 0 : strstr(de->d_name, sub) != NULL)
			n++;
	}
	closedir(d);
	return n;
}

static void
write_stray_version(const char *certdir, int v, int nfiles)
{
	static const char *const files[] = { "privkey.pem", "cert.pem",
	    "chain.pem", "fullchain.pem", "combined.pem" };
	char	*vdir, *path;
	int	 i;

	vdir = fs_path("%s/v%d", certdir, v);
	assert_int_equal(mkdir(vdir, 0755), 0);
	for (i = 0; i < nfiles; i++) {
		path = fs_path("%s/%s", vdir, files[i]);
		assert_int_equal(fs_write_atomic(path, "x\n", 2, 0644, NULL),
		    0);
		free(path);
	}
	free(vdir);
}

static void
test_install_prune(void **state)
{
	struct fixture		*f = *state;
	struct test_pair	 p[4], ca;
	struct store_files	 in, out;
	char			*cause = NULL, *vdir, *s, *expect;
	int			 i, v;

	memset(&in, 0, sizeof(in));
	pair_make(&ca, "Test CA");
	for (i = 0; i < 4; i++) {
		pair_make(&p[i], "www.example.com");
		in.key_pem = p[i].key;
		in.cert_pem = p[i].cert;
		in.chain_pem = i == 2 ? "" : ca.cert;
		v = store_install(f->state_dir, "www", &in, &cause);
		if (v == -1)
			fail_msg("install: %s", cause);
		assert_int_equal(v, i + 1);
		assert_int_equal(store_current_version(f->state_dir, "www"),
		    i + 1);
	}

	/* Three versions remain, current is the newest. */
	assert_false(exists(f->certdir, "v1"));
	assert_true(exists(f->certdir, "v2"));
	assert_true(exists(f->certdir, "v3"));
	assert_true(exists(f->certdir, "v4"));
	assert_int_equal(count_entries(f->certdir, "^v"), 3);
	assert_int_equal(count_entries(f->certdir, "tmp"), 0);
	assert_current(f->certdir, "v4");

	/* Modes. */
	assert_mode(f->certdir, ".", 0755);
	assert_mode(f->certdir, "v4", 0755);
	assert_mode(f->certdir, "v4/privkey.pem", 0600);
	assert_mode(f->certdir, "v4/combined.pem", 0600);
	assert_mode(f->certdir, "v4/cert.pem", 0644);
	assert_mode(f->certdir, "v4/chain.pem", 0644);
	assert_mode(f->certdir, "v4/fullchain.pem", 0644);
	assert_int_equal(count_entries(vdir = fs_path("%s/v4", f->certdir),
	    "pem"), 5);
	free(vdir);

	/* Contents. */
	s = read_file(f->certdir, "current/privkey.pem");
	assert_string_equal(s, p[3].key);
	free(s);
	s = read_file(f->certdir, "current/cert.pem");
	assert_string_equal(s, p[3].cert);
	free(s);
	s = read_file(f->certdir, "current/chain.pem");
	assert_string_equal(s, ca.cert);
	free(s);
	expect = fs_path("%s%s", p[3].cert, ca.cert);
	s = read_file(f->certdir, "current/fullchain.pem");
	assert_string_equal(s, expect);
	free(s);
	free(expect);
	expect = fs_path("%s%s%s", p[3].key, p[3].cert, ca.cert);
	s = read_file(f->certdir, "current/combined.pem");
	assert_string_equal(s, expect);
	free(s);
	free(expect);

	/* v3 had an empty chain. */
	s = read_file(f->certdir, "v3/fullchain.pem");
	assert_string_equal(s, p[2].cert);
	free(s);
	s = read_file(f->certdir, "v3/chain.pem");
	assert_string_equal(s, "");
	free(s);

	/* Round trip. */
	assert_int_equal(store_read_current(f->state_dir, "www", &out,
	    &cause), 0);
	assert_string_equal(out.key_pem, p[3].key);
	assert_string_equal(out.cert_pem, p[3].cert);
	assert_string_equal(out.chain_pem, ca.cert);
	store_files_clear(&out);
	assert_null(out.key_pem);
	store_files_clear(NULL);

	for (i = 0; i < 4; i++)
		pair_free(&p[i]);
	pair_free(&ca);
}

static void
test_recover(void **state)
{
	struct fixture		*f = *state;
	struct test_pair	 p;
	struct store_files	 in;
	char			*cause = NULL, *path;

	memset(&in, 0, sizeof(in));
	pair_make(&p, "www.example.com");
	in.key_pem = p.key;
	in.cert_pem = p.cert;
	in.chain_pem = "";
	assert_int_equal(store_install(f->state_dir, "www", &in, &cause), 1);
	assert_int_equal(store_install(f->state_dir, "www", &in, &cause), 2);

	/* What a daemon killed in the middle of an install leaves. */
	write_stray_version(f->certdir, 5, 5);		/* complete */
	write_stray_version(f->certdir, 7, 2);		/* partial */
	path = fs_path("%s/current.tmp.1234abcd", f->certdir);
	assert_int_equal(symlink("v5", path), 0);
	free(path);
	path = fs_path("%s/v2/cert.pem.tmp.Xy12Zw", f->certdir);
	assert_int_equal(fs_write_atomic(path, "partial", 7, 0644, NULL), 0);
	free(path);
	path = fs_path("%s/v7/privkey.pem.tmp.Xy12Zw", f->certdir);
	assert_int_equal(fs_write_atomic(path, "partial", 7, 0600, NULL), 0);
	free(path);

	assert_int_equal(store_recover(f->state_dir, "www"), 0);
	assert_current(f->certdir, "v2");
	assert_true(exists(f->certdir, "v1"));
	assert_true(exists(f->certdir, "v2/cert.pem"));
	assert_false(exists(f->certdir, "v2/cert.pem.tmp.Xy12Zw"));
	assert_false(exists(f->certdir, "v5"));
	assert_false(exists(f->certdir, "v7"));
	assert_false(exists(f->certdir, "current.tmp.1234abcd"));
	assert_int_equal(count_entries(f->certdir, "tmp"), 0);

	/* Recovering twice changes nothing. */
	assert_int_equal(store_recover(f->state_dir, "www"), 0);
	assert_current(f->certdir, "v2");

	/* Installing after a recovery goes on from current. */
	assert_int_equal(store_install(f->state_dir, "www", &in, &cause), 3);
	assert_current(f->certdir, "v3");
	assert_true(exists(f->certdir, "v1"));
	assert_true(exists(f->certdir, "v3/combined.pem"));

	pair_free(&p);
}

static void
test_recover_no_current(void **state)
{
	struct fixture		*f = *state;
	struct store_files	 out;
	char			*cause = NULL;

	/* Never installed: nothing to do. */
	assert_int_equal(store_recover(f->state_dir, "www"), 0);

	assert_int_equal(fs_mkdir_p(f->certdir, 0755, &cause), 0);
	write_stray_version(f->certdir, 1, 5);
	write_stray_version(f->certdir, 2, 4);
	assert_int_equal(store_recover(f->state_dir, "www"), 0);
	assert_true(exists(f->certdir, "v1/combined.pem"));
	assert_false(exists(f->certdir, "v2"));
	assert_int_equal(store_current_version(f->state_dir, "www"), 0);

	assert_int_equal(store_read_current(f->state_dir, "www", &out,
	    &cause), -1);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "no current"));
	assert_null(out.key_pem);
	free(cause);
}

static void
test_unwritable(void **state)
{
	struct fixture		*f = *state;
	struct store_files	 in = { .key_pem = "key\n", .cert_pem = "cert\n",
	    .chain_pem = "" };
	char			*file, *bad, *cause = NULL;

	/* Root ignores modes: a regular file in the path stops anyone. */
	file = fs_path("%s/file", f->tmp);
	assert_int_equal(fs_write_atomic(file, "x", 1, 0644, NULL), 0);
	bad = fs_path("%s/state", file);
	assert_int_equal(store_install(bad, "www", &in, &cause), -1);
	assert_non_null(cause);
	assert_non_null(strstr(cause, file));
	assert_non_null(strstr(cause, strerror(ENOTDIR)));
	free(cause);
	cause = NULL;
	assert_int_equal(store_current_version(bad, "www"), 0);

	/* Not a single path component. */
	assert_int_equal(store_install(f->state_dir, "../x", &in, &cause), -1);
	assert_non_null(cause);
	free(cause);

	free(bad);
	free(file);
}

static void
test_failure_keeps_current(void **state)
{
	struct fixture		*f = *state;
	struct test_pair	 p, q;
	struct store_files	 in, out;
	struct rlimit		 old, small;
	char			*cause = NULL;
	int			 v;

	memset(&in, 0, sizeof(in));
	pair_make(&p, "www.example.com");
	pair_make(&q, "www.example.com");
	in.key_pem = p.key;
	in.cert_pem = p.cert;
	in.chain_pem = "";
	assert_int_equal(store_install(f->state_dir, "www", &in, &cause), 1);

	/* Any write past 16 bytes fails with EFBIG, root or not. */
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small = old;
	small.rlim_cur = 16;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	in.key_pem = q.key;
	in.cert_pem = q.cert;
	v = store_install(f->state_dir, "www", &in, &cause);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);

	assert_int_equal(v, -1);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "privkey.pem"));
	assert_non_null(strstr(cause, strerror(EFBIG)));
	free(cause);
	cause = NULL;

	/* current still names the old, matching key and certificate. */
	assert_current(f->certdir, "v1");
	assert_false(exists(f->certdir, "v2"));
	assert_int_equal(count_entries(f->certdir, "tmp"), 0);
	assert_int_equal(store_read_current(f->state_dir, "www", &out,
	    &cause), 0);
	assert_string_equal(out.key_pem, p.key);
	assert_string_equal(out.cert_pem, p.cert);
	store_files_clear(&out);

	/* And the next install works. */
	assert_int_equal(store_install(f->state_dir, "www", &in, &cause), 2);
	assert_current(f->certdir, "v2");

	pair_free(&p);
	pair_free(&q);
}

static void
test_fsutil(void **state)
{
	struct fixture	*f = *state;
	char		*path, *s, *cause = NULL;
	size_t		 len;

	path = fs_path("%s/a/b/c", f->tmp);
	assert_int_equal(fs_mkdir_p(path, 0755, &cause), 0);
	assert_int_equal(fs_mkdir_p(path, 0755, &cause), 0);
	free(path);

	path = fs_path("%s/a/b/c/f", f->tmp);
	assert_int_equal(fs_write_atomic(path, "hello", 5, 0640, &cause), 0);
	assert_mode(f->tmp, "a/b/c/f", 0640);
	assert_non_null(s = fs_read_file(path, 5, &len, &cause));
	assert_int_equal(len, 5);
	assert_string_equal(s, "hello");
	free(s);
	/* Over the cap. */
	assert_null(fs_read_file(path, 4, &len, &cause));
	assert_non_null(cause);
	assert_non_null(strstr(cause, path));
	free(cause);
	cause = NULL;
	/* Replaced in place. */
	assert_int_equal(fs_write_atomic(path, "", 0, 0600, &cause), 0);
	assert_non_null(s = fs_read_file(path, 5, &len, &cause));
	assert_int_equal(len, 0);
	assert_mode(f->tmp, "a/b/c/f", 0600);
	free(s);
	free(path);

	/* A file in the way of mkdir -p. */
	path = fs_path("%s/a/b/c/f/g", f->tmp);
	assert_int_equal(fs_mkdir_p(path, 0755, &cause), -1);
	assert_non_null(strstr(cause, strerror(ENOTDIR)));
	free(cause);
	cause = NULL;
	/* And in the way of a write: the cause names the path. */
	assert_int_equal(fs_write_atomic(path, "x", 1, 0644, &cause), -1);
	assert_non_null(strstr(cause, "write "));
	assert_non_null(strstr(cause, path));
	free(cause);
	cause = NULL;
	free(path);

	path = fs_path("%s/missing", f->tmp);
	errno = 0;
	assert_null(fs_read_file(path, 10, NULL, &cause));
	assert_int_equal(errno, ENOENT);
	free(cause);
	free(path);

	/* Sweep. */
	path = fs_path("%s/a/x.tmp.123456", f->tmp);
	assert_int_equal(fs_write_atomic(path, "x", 1, 0644, NULL), 0);
	free(path);
	path = fs_path("%s/a", f->tmp);
	assert_int_equal(fs_sweep_tmp(path), 0);
	assert_false(exists(path, "x.tmp.123456"));
	assert_true(exists(path, "b"));
	free(path);
}

/*
 * fs_open_beneath: base may be a link (the operator's choice), nothing
 * below it may; fs_write_atomic_at replaces a link at its name and leaves
 * what it named alone.
 */
static void
test_beneath(void **state)
{
	struct fixture	*f = *state;
	char		*base, *link, *victim, *path, *s, *cause = NULL;
	int		 fd;

	base = fs_path("%s/real", f->tmp);
	link = fs_path("%s/base-link", f->tmp);
	victim = fs_path("%s/victim", f->tmp);
	assert_int_equal(fs_mkdir_p(victim, 0755, &cause), 0);
	assert_int_equal(fs_mkdir_p(base, 0755, &cause), 0);
	assert_int_equal(symlink(base, link), 0);

	/* Made as needed, through a linked base. */
	fd = fs_open_beneath(link, "certs/www", true, 0750, &cause);
	assert_true(fd >= 0);
	assert_mode(base, "certs/www", 0750);
	assert_int_equal(fs_write_atomic_at(fd, "x", "f", "new", 3, 0600,
	    (uid_t)-1, (gid_t)-1, &cause), 0);
	assert_mode(base, "certs/www/f", 0600);
	assert_int_equal(count_entries(victim, "f"), 0);
	/* A link at the name is replaced, its target untouched. */
	path = fs_path("%s/target", victim);
	assert_int_equal(fs_write_atomic(path, "old", 3, 0644, NULL), 0);
	free(path);
	assert_int_equal(symlinkat("../../victim/target", fd, "g"), 0);
	assert_int_equal(fs_write_atomic_at(fd, "x", "g", "new", 3, 0644,
	    (uid_t)-1, (gid_t)-1, &cause), 0);
	s = read_file(victim, "target");
	assert_string_equal(s, "old");
	free(s);
	s = read_file(base, "certs/www/g");
	assert_string_equal(s, "new");
	free(s);
	close(fd);

	/* Not created when asked not to. */
	errno = 0;
	assert_int_equal(fs_open_beneath(base, "certs/api", false, 0755,
	    &cause), -1);
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(cause, "certs/api"));
	free(cause);
	cause = NULL;

	/* A link below the base, at the last component or before it. */
	path = fs_path("%s/certs/api", base);
	assert_int_equal(symlink(victim, path), 0);
	free(path);
	assert_int_equal(fs_open_beneath(base, "certs/api", true, 0755,
	    &cause), -1);
	assert_int_equal(errno, ELOOP);
	assert_non_null(strstr(cause, "certs/api: a symbolic link, refused"));
	free(cause);
	cause = NULL;
	path = fs_path("%s/accounts", base);
	assert_int_equal(symlink(victim, path), 0);
	free(path);
	assert_int_equal(fs_open_beneath(base, "accounts/pebble", true, 0700,
	    &cause), -1);
	assert_non_null(strstr(cause, "accounts: a symbolic link, refused"));
	free(cause);
	cause = NULL;
	assert_false(exists(victim, "pebble"));
	assert_int_equal(count_entries(victim, "^"), 3); /* ., .., target */

	/* ".." is not a way out. */
	assert_int_equal(fs_open_beneath(base, "certs/../..", false, 0755,
	    &cause), -1);
	free(cause);

	free(base);
	free(link);
	free(victim);
}

/*
 * A link planted in or at the certificate's directory: certs/<name> itself
 * is refused (install and recover); a link at the next version's name
 * is skipped, then removed by a later recover; what the links name is
 * never written, swept or removed.
 */
static void
test_install_symlinks(void **state)
{
	struct fixture		*f = *state;
	struct test_pair	 p;
	struct store_files	 in;
	char			*cause = NULL, *victim, *path;

	memset(&in, 0, sizeof(in));
	pair_make(&p, "www.example.com");
	in.key_pem = p.key;
	in.cert_pem = p.cert;
	in.chain_pem = "";
	victim = fs_path("%s/victim", f->tmp);
	assert_int_equal(fs_mkdir_p(victim, 0755, &cause), 0);
	path = fs_path("%s/state.json.tmp.Ab12Cd34", victim);
	assert_int_equal(fs_write_atomic(path, "x", 1, 0644, NULL), 0);
	free(path);
	write_stray_version(victim, 1, 2);

	/* certs/www -> victim */
	path = fs_path("%s/certs", f->state_dir);
	assert_int_equal(fs_mkdir_p(path, 0755, &cause), 0);
	free(path);
	assert_int_equal(symlink(victim, f->certdir), 0);
	assert_int_equal(store_install(f->state_dir, "www", &in, &cause), -1);
	assert_non_null(strstr(cause, "a symbolic link, refused"));
	free(cause);
	cause = NULL;
	assert_int_equal(store_recover(f->state_dir, "www"), -1);
	assert_true(exists(victim, "state.json.tmp.Ab12Cd34"));
	assert_true(exists(victim, "v1/privkey.pem"));
	assert_false(exists(victim, "v2"));
	assert_false(exists(victim, "current"));
	assert_int_equal(unlink(f->certdir), 0);

	/* certs/www/v2 -> victim, planted before the second install. */
	assert_int_equal(store_install(f->state_dir, "www", &in, &cause), 1);
	path = fs_path("%s/v2", f->certdir);
	assert_int_equal(symlink(victim, path), 0);
	free(path);
	assert_int_equal(store_install(f->state_dir, "www", &in, &cause), 3);
	assert_current(f->certdir, "v3");
	assert_false(exists(victim, "privkey.pem"));
	/* A recover removes the link, not the directory it names. */
	assert_int_equal(store_recover(f->state_dir, "www"), 0);
	assert_false(exists(f->certdir, "v2"));
	assert_true(exists(victim, "v1/privkey.pem"));
	assert_true(exists(victim, "state.json.tmp.Ab12Cd34"));
	assert_current(f->certdir, "v3");

	free(victim);
	pair_free(&p);
}

/* key-owner: the key files are 0640 and belong to the given group. */
static void
test_key_shared(void **state)
{
	struct fixture		*f = *state;
	struct test_pair	 p;
	struct store_files	 in;
	struct stat		 st;
	char			*cause = NULL, *path;
	const char		*names[] = { "privkey.pem", "combined.pem" };
	size_t			 i;

	memset(&in, 0, sizeof(in));
	pair_make(&p, "www.example.com");
	in.key_pem = p.key;
	in.cert_pem = p.cert;
	in.chain_pem = "";
	in.key_shared = true;
	in.key_uid = getuid();
	in.key_gid = 65534;	/* nogroup */
	assert_int_equal(store_install(f->state_dir, "www", &in, &cause), 1);
	for (i = 0; i < 2; i++) {
		assert_true(asprintf(&path, "%s/v1/%s", f->certdir,
		    names[i]) != -1);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0640);
		assert_int_equal(st.st_gid, 65534);
		free(path);
	}
	assert_true(asprintf(&path, "%s/v1/cert.pem", f->certdir) != -1);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	free(path);
	pair_free(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_install_prune, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_recover, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recover_no_current, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unwritable, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_failure_keeps_current,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_fsutil, setup, teardown),
		cmocka_unit_test_setup_teardown(test_beneath, setup, teardown),
		cmocka_unit_test_setup_teardown(test_install_symlinks, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_key_shared, setup,
		    teardown),
	};

	umask(022);
	log_init("test_store", LOG_TARGET_STDERR, LOG_WARNING);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
