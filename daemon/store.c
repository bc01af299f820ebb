/*
 * The certificate store.  See store.h and DESIGN.md "Files on disk".
 *
 * Crash safety rests on one ordering: a version directory v<N> is written
 * completely (every file fsynced, then the directory) before the `current`
 * symlink is switched to it with a rename().  Whatever moment the daemon
 * dies, `current` names either the old complete version or the new one.
 * What an interrupted install leaves (temporary files, a v<N> newer than
 * `current`) is removed by store_recover() at the next start.
 *
 * Writes never follow a symbolic link: certs/<name> is opened with
 * fs_open_beneath() (no link among certs and <name>), v<N> with O_NOFOLLOW,
 * and every file, link and removal goes relative to those descriptors.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "log.h"
#include "util.h"
#include "fsutil.h"
#include "store.h"

#define STORE_CURRENT		"current"
#define STORE_FILE_MAX		(1024 * 1024)

enum store_file {
	STORE_PRIVKEY,
	STORE_CERT,
	STORE_CHAIN,
	STORE_FULLCHAIN,
	STORE_COMBINED,
	STORE_FILE__MAX
};

static const char *const store_file_names[STORE_FILE__MAX] = {
	[STORE_PRIVKEY] = "privkey.pem",
	[STORE_CERT] = "cert.pem",
	[STORE_CHAIN] = "chain.pem",
	[STORE_FULLCHAIN] = "fullchain.pem",
	[STORE_COMBINED] = "combined.pem",
};

static const mode_t store_file_modes[STORE_FILE__MAX] = {
	[STORE_PRIVKEY] = 0600,
	[STORE_CERT] = 0644,
	[STORE_CHAIN] = 0644,
	[STORE_FULLCHAIN] = 0644,
	[STORE_COMBINED] = 0600,
};

/* The version numbers present in a certificate directory. */
struct store_versions {
	int		*v;
	size_t		 n;
};

static int	 store_name_valid(const char *);
static int	 store_parse_version(const char *);
static int	 store_list_versions(int, struct store_versions *);
static int	 store_version_cmp(const void *, const void *);
static int	 store_link_version(const char *);
static int	 store_link_version_at(int, const char *);
static int	 store_remove_version(int, const char *, int);
static int	 store_version_complete(int, int);
static int	 store_sweep_version(int, const char *, int);
static int	 store_make_version(int, const char *, int, int *, char **);
static int	 store_same_dir(int, int, const char *, int, char **);
static char	*store_concat(const char *, const char *, const char *);
static int	 store_write_version(int, const char *,
		    const struct store_files *, char **);
static int	 store_switch_current(int, const char *, int, char **);
static void	 store_prune(int, const char *, int);

/* A section name is one path component. */
static int
store_name_valid(const char *name)
{
	return *name != '\0' && strchr(name, '/') == NULL &&
	    strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

/* "v<N>" with N a positive decimal without leading zeros, else -1. */
static int
store_parse_version(const char *s)
{
	long	 n = 0;

	if (s[0] != 'v' || s[1] < '1' || s[1] > '9')
		return -1;
	for (s++; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		n = n * 10 + (*s - '0');
		if (n >= INT_MAX)
			return -1;
	}
	return (int)n;
}

static int
store_version_cmp(const void *a, const void *b)
{
	int	x = *(const int *)a, y = *(const int *)b;

	return x < y ? 1 : x > y ? -1 : 0;	/* newest first */
}

/*
 * Every v<N> entry in the directory dirfd, newest first.  Any kind of
 * entry counts, so a new version never collides with a stray file or link
 * of the same name.
 */
static int
store_list_versions(int dirfd, struct store_versions *vs)
{
	DIR		*d;
	struct dirent	*de;
	int		*nv, n, fd;

	vs->v = NULL;
	vs->n = 0;
	/* A descriptor of its own: readdir moves the offset. */
	if ((fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if ((n = store_parse_version(de->d_name)) == -1)
			continue;
		nv = reallocarray(vs->v, vs->n + 1, sizeof(*vs->v));
		if (nv == NULL) {
			closedir(d);
			free(vs->v);
			vs->v = NULL;
			vs->n = 0;
			errno = ENOMEM;
			return -1;
		}
		vs->v = nv;
		vs->v[vs->n++] = n;
	}
	closedir(d);
	if (vs->n > 0)
		qsort(vs->v, vs->n, sizeof(*vs->v), store_version_cmp);
	return 0;
}

/* The version the `current` link in certdir names, 0 if none. */
static int
store_link_version(const char *certdir)
{
	int	fd, v;

	if ((fd = open(certdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		if (errno != ENOENT)
			log_warn("open %s", certdir);
		return 0;
	}
	v = store_link_version_at(fd, certdir);
	close(fd);
	return v;
}

/* The same in the directory open as dirfd (certdir names it). */
static int
store_link_version_at(int dirfd, const char *certdir)
{
	char	*link;
	char	 target[64];
	ssize_t	 n;
	int	 v = 0;

	link = fs_path("%s/%s", certdir, STORE_CURRENT);
	n = readlinkat(dirfd, STORE_CURRENT, target, sizeof(target) - 1);
	if (n == -1) {
		if (errno != ENOENT)
			log_warn("readlink %s", link);
		goto out;
	}
	target[n] = '\0';
	if ((v = store_parse_version(target)) == -1) {
		log_warnx("%s: unexpected target \"%s\"", link, target);
		v = 0;
	}
out:
	free(link);
	return v;
}

char *
store_cert_dir(const char *state_dir, const char *name)
{
	return fs_path("%s/certs/%s", state_dir, name);
}

int
store_open_cert_dir(const char *state_dir, const char *name, bool create,
    char **cause)
{
	char	*rel;
	int	 fd;

	rel = fs_path("certs/%s", name);
	fd = fs_open_beneath(state_dir, rel, create, 0755, cause);
	free(rel);
	return fd;
}

int
store_current_version(const char *state_dir, const char *name)
{
	char	*certdir;
	int	 v;

	certdir = store_cert_dir(state_dir, name);
	v = store_link_version(certdir);
	free(certdir);
	return v;
}

/* a + b + c, each ending in a newline when not empty; malloc'd. */
static char *
store_concat(const char *a, const char *b, const char *c)
{
	const char	*part[3] = { a, b, c };
	char		*buf, *p;
	size_t		 len = 0, l, i;

	for (i = 0; i < 3; i++)
		len += strlen(part[i]) + 1;
	if ((buf = malloc(len + 1)) == NULL)
		fatal("%s", __func__);
	p = buf;
	for (i = 0; i < 3; i++) {
		if ((l = strlen(part[i])) == 0)
			continue;
		memcpy(p, part[i], l);
		p += l;
		if (part[i][l - 1] != '\n')
			*p++ = '\n';
	}
	*p = '\0';
	return buf;
}

/* Writes the five files into the (new, empty) directory vfd, vdir. */
static int
store_write_version(int vfd, const char *vdir, const struct store_files *f,
    char **cause)
{
	const char	*data[STORE_FILE__MAX];
	const char	*name;
	char		*fullchain, *combined;
	int		 i, rc = -1;

	fullchain = store_concat(f->cert_pem, f->chain_pem, "");
	combined = store_concat(f->key_pem, fullchain, "");
	data[STORE_PRIVKEY] = f->key_pem;
	data[STORE_CERT] = f->cert_pem;
	data[STORE_CHAIN] = f->chain_pem;
	data[STORE_FULLCHAIN] = fullchain;
	data[STORE_COMBINED] = combined;

	for (i = 0; i < STORE_FILE__MAX; i++) {
		name = store_file_names[i];
		/* key-owner: the group may read the key (and nothing more). */
		if (f->key_shared && store_file_modes[i] == 0600 ?
		    fs_write_atomic_at_batch(vfd, vdir, name, data[i],
		    strlen(data[i]), 0640, f->key_uid, f->key_gid,
		    cause) == -1 :
		    fs_write_atomic_at_batch(vfd, vdir, name, data[i],
		    strlen(data[i]), store_file_modes[i], (uid_t)-1,
		    (gid_t)-1, cause) == -1)
			goto out;
	}
	/* One fsync for the five names (nobody sees vdir before it). */
	if (fsync(vfd) == -1) {
		cause_set(cause, "fsync %s: %s", vdir, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(fullchain);
	OPENSSL_cleanse(combined, strlen(combined));
	free(combined);
	return rc;
}

/*
 * Points certdir/current (certfd) at v<version>: a symlink under a
 * temporary name, renamed over `current` (atomic).  The caller fsyncs
 * certdir.
 */
static int
store_switch_current(int certfd, const char *certdir, int version,
    char **cause)
{
	char	*tmp = NULL, *link, *target;
	int	 rc = -1, tries;

	link = fs_path("%s/%s", certdir, STORE_CURRENT);
	target = fs_path("v%d", version);
	for (tries = 0; ; tries++) {
		free(tmp);
		tmp = fs_path("%s%s%08x", STORE_CURRENT, FS_TMP_INFIX,
		    (unsigned)random());
		/* symlinkat never follows: a name taken is just EEXIST. */
		if (symlinkat(target, certfd, tmp) == 0)
			break;
		if (errno != EEXIST || tries == 100) {
			cause_set(cause, "symlink %s/%s: %s", certdir, tmp,
			    strerror(errno));
			goto out;
		}
	}
	if (renameat(certfd, tmp, certfd, STORE_CURRENT) == -1) {
		cause_set(cause, "rename %s: %s", link,
		    strerror(errno));
		unlinkat(certfd, tmp, 0);
		goto out;
	}
	rc = 0;
out:
	free(tmp);
	free(link);
	free(target);
	return rc;
}

/*
 * Removes certdir/v<version> (certfd) and what is in it (plain files only:
 * the store never puts a directory there).
 */
static int
store_remove_version(int certfd, const char *certdir, int version)
{
	DIR		*d = NULL;
	struct dirent	*de;
	char		*vdir, *name;
	int		 fd, rc = -1;

	name = fs_path("v%d", version);
	vdir = fs_path("%s/%s", certdir, name);
	fd = openat(certfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOTDIR || errno == ELOOP) {
			/* A stray file or link by that name. */
			if (unlinkat(certfd, name, 0) == -1) {
				log_warn("unlink %s", vdir);
				goto out;
			}
			rc = 0;
		} else if (errno == ENOENT)
			rc = 0;
		else
			log_warn("open %s", vdir);
		goto out;
	}
	if ((d = fdopendir(fd)) == NULL) {
		log_warn("opendir %s", vdir);
		close(fd);
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == -1) {
			log_warn("unlink %s/%s", vdir, de->d_name);
			goto out;
		}
	}
	if (unlinkat(certfd, name, AT_REMOVEDIR) == -1) {
		log_warn("rmdir %s", vdir);
		goto out;
	}
	log_debug("removed %s", vdir);
	rc = 0;
out:
	if (d != NULL)
		closedir(d);
	free(vdir);
	free(name);
	return rc;
}

/* Keeps the newest STORE_KEEP versions, and `current` whatever its age. */
static void
store_prune(int certfd, const char *certdir, int current)
{
	struct store_versions	 vs;
	size_t			 i, kept = 0;
	int			 removed = 0;

	if (store_list_versions(certfd, &vs) == -1) {
		log_warn("prune %s", certdir);
		return;
	}
	if (current > 0)
		kept++;
	for (i = 0; i < vs.n; i++) {
		if (vs.v[i] == current)
			continue;
		if (kept < STORE_KEEP) {
			kept++;
			continue;
		}
		if (store_remove_version(certfd, certdir, vs.v[i]) == 0)
			removed = 1;
	}
	if (removed && fsync(certfd) == -1)
		log_warn("fsync %s", certdir);
	free(vs.v);
}

/*
 * Makes the new, empty directory certdir/v<version>; its descriptor.
 * *created tells whether the entry is ours to remove on failure.
 */
static int
store_make_version(int certfd, const char *vdir, int version, int *created,
    char **cause)
{
	char	*name;
	int	 fd = -1;

	name = fs_path("v%d", version);
	*created = 0;
	if (mkdirat(certfd, name, 0755) == -1)
		cause_set(cause, "mkdir %s: %s", vdir, strerror(errno));
	else {
		*created = 1;
		/* Whatever replaced it since is not written through. */
		if ((fd = openat(certfd, name, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC)) == -1)
			cause_set(cause, "open %s: %s", vdir, strerror(errno));
	}
	free(name);
	return fd;
}

/*
 * Whether certdir/v<version> is still the directory open as vfd, before
 * `current` names it: if something replaced it while it was written,
 * `current` must not point there.
 */
static int
store_same_dir(int certfd, int vfd, const char *vdir, int version,
    char **cause)
{
	struct stat	 a, b;
	char		*name;
	int		 r;

	name = fs_path("v%d", version);
	r = fstatat(certfd, name, &b, AT_SYMLINK_NOFOLLOW);
	free(name);
	if (r == -1 || fstat(vfd, &a) == -1) {
		cause_set(cause, "stat %s: %s", vdir, strerror(errno));
		return -1;
	}
	if (a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
		cause_set(cause, "%s was replaced while it was written",
		    vdir);
		return -1;
	}
	return 0;
}

int
store_install(const char *state_dir, const char *name,
    const struct store_files *f, char **cause)
{
	struct store_versions	 vs = { NULL, 0 };
	char			*certdir = NULL, *vdir = NULL;
	int			 certfd = -1, vfd = -1;
	int			 version = 0, created = 0, rc = -1;

	if (!store_name_valid(name)) {
		cause_set(cause, "invalid certificate name \"%s\"",
		    name);
		goto out;
	}
	certdir = store_cert_dir(state_dir, name);
	if ((certfd = store_open_cert_dir(state_dir, name, true, cause)) == -1)
		goto out;
	if (store_list_versions(certfd, &vs) == -1) {
		cause_set(cause, "opendir %s: %s", certdir,
		    strerror(errno));
		goto out;
	}
	if (vs.n > 0 && vs.v[0] == INT_MAX - 1) {
		cause_set(cause, "%s: version numbers exhausted",
		    certdir);
		goto out;
	}
	version = vs.n > 0 ? vs.v[0] + 1 : 1;

	vdir = fs_path("%s/v%d", certdir, version);
	if ((vfd = store_make_version(certfd, vdir, version, &created,
	    cause)) == -1)
		goto out;
	if (store_write_version(vfd, vdir, f, cause) == -1 ||
	    store_same_dir(certfd, vfd, vdir, version, cause) == -1)
		goto out;
	if (fsync(certfd) == -1) {
		cause_set(cause, "fsync %s: %s", certdir, strerror(errno));
		goto out;
	}
	if (store_switch_current(certfd, certdir, version, cause) == -1)
		goto out;
	rc = version;	/* from here on, v<version> is live */
	if (fsync(certfd) == -1) {
		/*
		 * After a crash `current` may still name the old version:
		 * keep every old version until a later install syncs.
		 */
		log_tagged(LOG_WARNING, &(struct log_tag){ .name = name },
		    "version %d installed but not yet durable", version);
		goto out;
	}
	log_tagged(LOG_DEBUG, &(struct log_tag){ .name = name },
	    "installed version %d", version);
	store_prune(certfd, certdir, version);
out:
	/* On failure `current` was not touched: the partial version goes. */
	if (rc == -1 && created)
		(void)store_remove_version(certfd, certdir, version);
	if (vfd != -1)
		close(vfd);
	if (certfd != -1)
		close(certfd);
	free(vs.v);
	free(vdir);
	free(certdir);
	return rc;
}

int
store_read_current(const char *state_dir, const char *name,
    struct store_files *f, char **cause)
{
	char	*certdir, *path;
	char	**dst[3];
	int	 version, i, rc = -1;

	memset(f, 0, sizeof(*f));
	dst[0] = &f->key_pem;
	dst[1] = &f->cert_pem;
	dst[2] = &f->chain_pem;

	certdir = store_cert_dir(state_dir, name);
	/* Read the link once: the three files come from one version. */
	if ((version = store_link_version(certdir)) == 0) {
		cause_set(cause, "%s: no current certificate",
		    certdir);
		goto out;
	}
	for (i = 0; i < 3; i++) {
		path = fs_path("%s/v%d/%s", certdir, version,
		    store_file_names[i]);
		*dst[i] = fs_read_file(path, STORE_FILE_MAX, NULL, cause);
		free(path);
		if (*dst[i] == NULL)
			goto out;
	}
	rc = 0;
out:
	if (rc == -1)
		store_files_clear(f);
	free(certdir);
	return rc;
}

/* "ino:size:mtime:ctime" of one file, nanoseconds; NULL if it is gone. */
static char *
store_stat_id(const char *path)
{
	struct stat	sb;

	if (lstat(path, &sb) == -1)
		return NULL;
	return fs_path("%llu:%lld:%lld.%09ld:%lld.%09ld",
	    (unsigned long long)sb.st_ino, (long long)sb.st_size,
	    (long long)sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec,
	    (long long)sb.st_ctim.tv_sec, sb.st_ctim.tv_nsec);
}

char *
store_file_id(const char *state_dir, const char *name, int version)
{
	char	*certdir, *path, *id[2] = { NULL, NULL }, *both = NULL;
	int	 i;

	certdir = store_cert_dir(state_dir, name);
	for (i = 0; i < 2; i++) {
		/* privkey.pem and cert.pem: what cert_read_current() reads. */
		path = fs_path("%s/v%d/%s", certdir, version,
		    store_file_names[i]);
		id[i] = store_stat_id(path);
		free(path);
		if (id[i] == NULL)
			goto out;
	}
	both = fs_path("%s/%s", id[0], id[1]);
out:
	free(id[0]);
	free(id[1]);
	free(certdir);
	return both;
}

void
store_files_clear(struct store_files *f)
{
	if (f == NULL)
		return;
	if (f->key_pem != NULL) {
		OPENSSL_cleanse(f->key_pem, strlen(f->key_pem));
		free(f->key_pem);
	}
	free(f->cert_pem);
	free(f->chain_pem);
	memset(f, 0, sizeof(*f));
}

/* v<version> in certfd is a directory that holds all five files. */
static int
store_version_complete(int certfd, int version)
{
	struct stat	 sb;
	char		*path;
	int		 vfd, i, ok = 1;

	path = fs_path("v%d", version);
	vfd = openat(certfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	free(path);
	if (vfd == -1)
		return 0;
	for (i = 0; i < STORE_FILE__MAX && ok; i++) {
		if (fstatat(vfd, store_file_names[i], &sb,
		    AT_SYMLINK_NOFOLLOW) == -1 || !S_ISREG(sb.st_mode))
			ok = 0;
	}
	close(vfd);
	return ok;
}

/* Sweeps the temporary files out of certdir/v<version>. */
static int
store_sweep_version(int certfd, const char *certdir, int version)
{
	char	*name, *vdir;
	int	 vfd, rc = 0;

	name = fs_path("v%d", version);
	vdir = fs_path("%s/%s", certdir, name);
	if ((vfd = openat(certfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		log_warn("open %s", vdir);
		rc = -1;
	} else {
		rc = fs_sweep_tmp_at(vfd, vdir);
		close(vfd);
	}
	free(name);
	free(vdir);
	return rc;
}

int
store_recover(const char *state_dir, const char *name)
{
	struct store_versions	 vs = { NULL, 0 };
	char			*certdir, *cause = NULL;
	size_t			 i;
	int			 certfd, current, found = 0, removed = 0;
	int			 rc = 0;

	certdir = store_cert_dir(state_dir, name);
	if ((certfd = store_open_cert_dir(state_dir, name, false,
	    &cause)) == -1) {
		if (errno != ENOENT) {	/* ENOENT: never installed */
			log_warnx("recover: %s", cause);
			rc = -1;
		}
		goto out;
	}
	if (fs_sweep_tmp_at(certfd, certdir) == -1)
		rc = -1;
	if (store_list_versions(certfd, &vs) == -1) {
		log_warn("recover %s", certdir);
		rc = -1;
		goto out;
	}
	current = store_link_version_at(certfd, certdir);
	for (i = 0; i < vs.n; i++) {
		/*
		 * Newer than current: an install that never switched over.
		 * Incomplete (or not a directory): never usable.  Without a
		 * current version a complete one is kept: it may be all
		 * there is.
		 */
		if (vs.v[i] != current &&
		    ((current > 0 && vs.v[i] > current) ||
		    !store_version_complete(certfd, vs.v[i]))) {
			log_info("%s: removing unused version %d", certdir,
			    vs.v[i]);
			if (store_remove_version(certfd, certdir,
			    vs.v[i]) == -1)
				rc = -1;
			removed = 1;
			continue;
		}
		if (vs.v[i] == current)
			found = 1;
		if (store_sweep_version(certfd, certdir, vs.v[i]) == -1)
			rc = -1;
	}
	if (current > 0 && !found)
		log_warnx("%s: current points at missing version %d",
		    certdir, current);
	else if (current > 0 && !store_version_complete(certfd, current))
		log_warnx("%s: current version %d is incomplete", certdir,
		    current);
	if (removed && fsync(certfd) == -1) {
		log_warn("fsync %s", certdir);
		rc = -1;
	}
out:
	if (certfd != -1)
		close(certfd);
	free(cause);
	free(vs.v);
	free(certdir);
	return rc;
}
