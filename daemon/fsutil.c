/*
 * Crash-safe file helpers.  See fsutil.h.
 *
 * A file is replaced by writing a temporary file beside it (same directory,
 * so rename() is atomic), setting its mode before any data goes in, fsyncing
 * it, renaming it over the target and fsyncing the directory so the rename
 * itself survives a crash.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
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
#include "fsutil.h"

static void	 fs_error(char **, int, const char *, const char *);
static char	*fs_dirname(const char *);
static int	 fs_write_all(int, const void *, size_t);
static int	 fs_sync_dir(const char *);
static char	*fs_grow(char *, size_t, size_t);
static int	 fs_write_file(const char *, const void *, size_t, mode_t, uid_t,
	    gid_t, bool, char **);

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
	return fs_write_file(path, data, len, mode, uid, gid, true, cause);
}

int
fs_write_atomic_batch(const char *path, const void *data, size_t len,
    mode_t mode, uid_t uid, gid_t gid, char **cause)
{
	return fs_write_file(path, data, len, mode, uid, gid, false, cause);
}

/* Temporary file, fsync, rename; then the directory's fsync if sync_dir. */
static int
fs_write_file(const char *path, const void *data, size_t len, mode_t mode,
    uid_t uid, gid_t gid, bool sync_dir, char **cause)
{
	char	*tmp = NULL, *dir = NULL;
	int	 fd = -1, rc = -1, r, saved;

	dir = fs_dirname(path);
	tmp = fs_path("%s%sXXXXXX", path, FS_TMP_INFIX);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		fs_error(cause, errno, "write", path);
		free(tmp);
		tmp = NULL;	/* nothing to unlink */
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
	if (r == -1 || rename(tmp, path) == -1) {
		fs_error(cause, errno, "write", path);
		goto out;
	}
	free(tmp);
	tmp = NULL;	/* it is path now */
	if (sync_dir && fs_sync_dir(dir) == -1) {
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
		unlink(tmp);
		free(tmp);
	}
	free(dir);
	errno = saved;
	return rc;
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
	DIR		*d;
	struct dirent	*de;
	int		 rc = 0;

	if ((d = opendir(dir)) == NULL) {
		if (errno == ENOENT)
			return 0;
		log_warn("opendir %s", dir);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strstr(de->d_name, FS_TMP_INFIX) == NULL)
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == -1) {
			log_warn("unlink %s/%s", dir, de->d_name);
			rc = -1;
		} else
			log_debug("removed %s/%s", dir, de->d_name);
	}
	closedir(d);
	return rc;
}
