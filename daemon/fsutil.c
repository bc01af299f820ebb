/*
 * Crash-safe file helpers.  See fsutil.h.
 *
 * A file is replaced by writing a temporary file beside it (same directory,
 * so rename() is atomic), setting its mode before any data goes in, fsyncing
 * it, renaming it over the target and fsyncing the directory so the rename
 * itself survives a crash.  Everything happens relative to a descriptor of
 * the directory, so no name the daemon uses is resolved twice.
 */
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "log.h"
#include "util.h"
#include "fsutil.h"

static void	 fs_error(char **, int, const char *, const char *);
static char	*fs_dirname(const char *);
static int	 fs_write_all(int, const void *, size_t);
static int	 fs_create_tmp(int, const char *, char **);
static int	 fs_write_at(int, const char *, const char *, const void *,
		    size_t, mode_t, uid_t, gid_t, bool, char **);
static int	 fs_open_component(int, const char *, const char *, bool,
		    mode_t, char **);
static int	 fs_sync_dir(const char *);
static char	*fs_grow(char *, size_t, size_t);

/*
 * Reports "what path: strerror(errnum)" through *cause, or logs it when the
 * caller gave no cause.  errno is left as errnum.
 */
static void
fs_error(char **cause, int errnum, const char *what, const char *path)
{
	if (cause != NULL) {
		if (asprintf(cause, "%s %s: %s", what, path,
		    strerror(errnum)) == -1)
			*cause = NULL;
	} else
		log_warnx("%s %s: %s", what, path, strerror(errnum));
	errno = errnum;
}

/* The directory part of path, "." when there is none; malloc'd. */
static char *
fs_dirname(const char *path)
{
	const char	*slash;

	if ((slash = strrchr(path, '/')) == NULL)
		return fs_path(".");
	if (slash == path)
		return fs_path("/");
	return fs_path("%.*s", (int)(slash - path), path);
}

static int
fs_write_all(int fd, const void *data, size_t len)
{
	const char	*p = data;
	ssize_t		 n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
    char **cause)
{
	return fs_write_atomic_owner(path, data, len, mode, (uid_t)-1,
	    (gid_t)-1, cause);
}

int
fs_write_atomic_owner(const char *path, const void *data, size_t len,
    mode_t mode, uid_t uid, gid_t gid, char **cause)
{
	const char	*slash = strrchr(path, '/');
	char		*dir;
	int		 dfd, rc = -1, saved;

	dir = fs_dirname(path);
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		fs_error(cause, errno, "write", path);
		goto out;
	}
	rc = fs_write_atomic_at(dfd, dir, slash != NULL ? slash + 1 : path,
	    data, len, mode, uid, gid, cause);
	saved = errno;
	close(dfd);
	errno = saved;
out:
	free(dir);
	return rc;
}

/*
 * Creates name.tmp.<8 random characters> in dirfd, mode 0600, refusing to
 * reuse or follow anything already there; its name goes to *tmpp.
 */
static int
fs_create_tmp(int dirfd, const char *name, char **tmpp)
{
	static const char	 chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char		 rnd[FS_TMP_RANDOM];
	char			*tmp;
	size_t			 off, i;
	int			 fd, tries, saved;

	for (tries = 0; tries < 100; tries++) {
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		tmp = fs_path("%s%s%*s", name, FS_TMP_INFIX, FS_TMP_RANDOM, "");
		off = strlen(tmp) - FS_TMP_RANDOM;
		for (i = 0; i < FS_TMP_RANDOM; i++)
			tmp[off + i] = chars[rnd[i] % (sizeof(chars) - 1)];
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd != -1) {
			*tmpp = tmp;
			return fd;
		}
		saved = errno;
		free(tmp);
		if (saved != EEXIST) {
			errno = saved;
			return -1;
		}
	}
	errno = EEXIST;
	return -1;
}

int
fs_write_atomic_at(int dirfd, const char *dirpath, const char *name,
    const void *data, size_t len, mode_t mode, uid_t uid, gid_t gid,
    char **cause)
{
	return fs_write_at(dirfd, dirpath, name, data, len, mode, uid, gid,
	    true, cause);
}

int
fs_write_atomic_at_batch(int dirfd, const char *dirpath, const char *name,
    const void *data, size_t len, mode_t mode, uid_t uid, gid_t gid,
    char **cause)
{
	return fs_write_at(dirfd, dirpath, name, data, len, mode, uid, gid,
	    false, cause);
}

/* Temporary file, fsync, rename; then dirfd's fsync if sync_dir. */
static int
fs_write_at(int dirfd, const char *dirpath, const char *name,
    const void *data, size_t len, mode_t mode, uid_t uid, gid_t gid,
    bool sync_dir, char **cause)
{
	char	*path, *tmp = NULL;
	int	 fd = -1, rc = -1, r, saved;

	path = fs_path("%s/%s", dirpath, name);
	if ((fd = fs_create_tmp(dirfd, name, &tmp)) == -1) {
		fs_error(cause, errno, "write", path);
		goto out;
	}
	/* Owner and mode are set before the data (a key) goes in. */
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
	    fchown(fd, uid, gid) == -1) {
		fs_error(cause, errno, "chown", path);
		goto out;
	}
	if (fchmod(fd, mode) == -1 ||
	    fs_write_all(fd, data, len) == -1 ||
	    fsync(fd) == -1) {
		fs_error(cause, errno, "write", path);
		goto out;
	}
	r = close(fd);
	fd = -1;
	/* A link planted at name is replaced, never followed. */
	if (r == -1 || renameat(dirfd, tmp, dirfd, name) == -1) {
		fs_error(cause, errno, "write", path);
		goto out;
	}
	free(tmp);
	tmp = NULL;	/* it is name now */
	if (sync_dir && fsync(dirfd) == -1) {
		/* The data is in place but its name may not survive. */
		fs_error(cause, errno, "write", path);
		goto out;
	}
	rc = 0;
out:
	saved = errno;
	if (fd != -1)
		close(fd);
	if (tmp != NULL) {
		unlinkat(dirfd, tmp, 0);
		free(tmp);
	}
	free(path);
	errno = saved;
	return rc;
}

/*
 * Opens the component name of dirfd (where names it) as a directory,
 * making it first with create if it is missing; a symbolic link is
 * refused.
 */
static int
fs_open_component(int dirfd, const char *where, const char *name,
    bool create, mode_t mode, char **cause)
{
	struct stat	 sb;
	int		 fd, saved;

	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		fs_error(cause, EINVAL, "open", where);
		return -1;
	}
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1 && errno == ENOENT && create) {
		if (mkdirat(dirfd, name, mode) == -1 && errno != EEXIST) {
			fs_error(cause, errno, "mkdir", where);
			return -1;
		}
		/* Make the new entry durable in its parent. */
		if (fsync(dirfd) == -1) {
			fs_error(cause, errno, "fsync", where);
			return -1;
		}
		fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	}
	if (fd == -1) {
		saved = errno;
		if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(sb.st_mode)) {
			cause_set(cause, "open %s: a symbolic link, refused",
			    where);
			errno = ELOOP;
		} else
			fs_error(cause, saved, "open", where);
	}
	return fd;
}

int
fs_open_beneath(const char *base, const char *rel, bool create, mode_t mode,
    char **cause)
{
	char	*copy, *comp, *save = NULL, *where, *next;
	int	 dfd, fd, saved;

	dfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd == -1 && errno == ENOENT && create) {
		if (fs_mkdir_p(base, mode, cause) == -1)
			return -1;
		dfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (dfd == -1) {
		fs_error(cause, errno, "open", base);
		return -1;
	}
	copy = fs_path("%s", rel);
	where = fs_path("%s", base);
	for (comp = strtok_r(copy, "/", &save); comp != NULL;
	    comp = strtok_r(NULL, "/", &save)) {
		next = fs_path("%s/%s", where, comp);
		free(where);
		where = next;
		fd = fs_open_component(dfd, where, comp, create, mode, cause);
		saved = errno;
		close(dfd);
		if ((dfd = fd) == -1) {
			errno = saved;
			break;
		}
	}
	free(copy);
	free(where);
	return dfd;
}

/* fsync a directory; -1 with errno set, nothing reported. */
static int
fs_sync_dir(const char *dir)
{
	int	fd, rc, saved;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

int
fs_fsync_dir(const char *dir, char **cause)
{
	if (fs_sync_dir(dir) == -1) {
		fs_error(cause, errno, "fsync", dir);
		return -1;
	}
	return 0;
}

int
fs_mkdir_p(const char *path, mode_t mode, char **cause)
{
	struct stat	 sb;
	char		*p = NULL, *parent, *slash;
	int		 rc = -1;

	if (*path == '\0') {
		fs_error(cause, ENOENT, "mkdir", path);
		goto out;
	}
	/* Most calls find it there already: one syscall. */
	if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
		return 0;
	p = fs_path("%s", path);
	/* Create each prefix in turn; trailing slashes are harmless. */
	for (slash = p; slash != NULL; ) {
		slash = strchr(slash + 1, '/');
		if (slash != NULL) {
			if (slash[-1] == '/')
				continue;	/* "//" */
			*slash = '\0';
		}
		if (mkdir(p, mode) == 0) {
			/* Make the new entry durable in its parent. */
			parent = fs_dirname(p);
			if (fs_fsync_dir(parent, cause) == -1) {
				free(parent);
				goto out;
			}
			free(parent);
		} else if (errno != EEXIST) {
			fs_error(cause, errno, "mkdir", p);
			goto out;
		} else if (stat(p, &sb) == -1) {
			fs_error(cause, errno, "mkdir", p);
			goto out;
		} else if (!S_ISDIR(sb.st_mode)) {
			fs_error(cause, ENOTDIR, "mkdir", p);
			goto out;
		}
		if (slash != NULL)
			*slash = '/';
	}
	rc = 0;
out:
	free(p);
	return rc;
}

/*
 * Grows buf to size bytes without leaving a copy of its contents (perhaps a
 * private key) in freed memory, as realloc() would.
 */
static char *
fs_grow(char *buf, size_t len, size_t size)
{
	char	*nbuf;

	if ((nbuf = malloc(size)) == NULL)
		return NULL;
	if (buf != NULL) {
		memcpy(nbuf, buf, len);
		OPENSSL_cleanse(buf, len);
		free(buf);
	}
	return nbuf;
}

char *
fs_read_file(const char *path, size_t max, size_t *lenp, char **cause)
{
	struct stat	 sb;
	char		*buf = NULL, *nbuf;
	size_t		 len = 0, size;
	ssize_t		 n;
	int		 fd = -1, saved = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &sb) == -1) {
		saved = errno;
		fs_error(cause, saved, "read", path);
		goto out;
	}
	/* The size is a hint: the file may change while it is read. */
	size = sb.st_size > 0 && (uintmax_t)sb.st_size <= max ?
	    (size_t)sb.st_size + 1 : 4096;
	if (size > max + 1)
		size = max + 1;
	if ((buf = fs_grow(NULL, 0, size + 1)) == NULL) {
		saved = errno;
		fs_error(cause, saved, "read", path);
		goto out;
	}
	for (;;) {
		if (len == size) {
			if (size > max) {
				saved = EFBIG;
				if (cause == NULL)
					log_warnx("read %s: larger than %zu "
					    "bytes", path, max);
				else if (asprintf(cause, "read %s: larger "
				    "than %zu bytes", path, max) == -1)
					*cause = NULL;
				goto out;
			}
			size = size > max / 2 ? max + 1 : size * 2;
			if ((nbuf = fs_grow(buf, len, size + 1)) == NULL) {
				saved = errno;
				fs_error(cause, saved, "read", path);
				goto out;
			}
			buf = nbuf;
		}
		if ((n = read(fd, buf + len, size - len)) == -1) {
			if (errno == EINTR)
				continue;
			saved = errno;
			fs_error(cause, saved, "read", path);
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (lenp != NULL)
		*lenp = len;
out:
	if (fd != -1)
		close(fd);
	if (saved != 0) {
		if (buf != NULL)
			OPENSSL_cleanse(buf, len);
		free(buf);
		buf = NULL;
		errno = saved;
	}
	return buf;
}

char *
fs_path(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r == -1)
		fatal("%s", __func__);
	return s;
}

int
fs_sweep_tmp(const char *dir)
{
	int	fd, rc;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		log_warn("opendir %s", dir);
		return -1;
	}
	rc = fs_sweep_tmp_at(fd, dir);
	close(fd);
	return rc;
}

int
fs_sweep_tmp_at(int dirfd, const char *dirpath)
{
	DIR		*d;
	struct dirent	*de;
	int		 fd, rc = 0;

	/* A descriptor of its own: readdir moves the offset. */
	if ((fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    (d = fdopendir(fd)) == NULL) {
		log_warn("opendir %s", dirpath);
		if (fd != -1)
			close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strstr(de->d_name, FS_TMP_INFIX) == NULL)
			continue;
		/* unlink never follows: a link goes, not what it names. */
		if (unlinkat(dirfd, de->d_name, 0) == -1) {
			log_warn("unlink %s/%s", dirpath, de->d_name);
			rc = -1;
		} else
			log_debug("removed %s/%s", dirpath, de->d_name);
	}
	closedir(d);
	return rc;
}
