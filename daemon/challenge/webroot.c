/*
 * http-01 by files: the key authorization goes to
 * WEBROOT/.well-known/acme-challenge/<token>, world-readable, for a web
 * server that already owns port 80.  Every level below the webroot is
 * opened with O_NOFOLLOW and the file is created with O_EXCL, so a symlink
 * planted by whoever can write the web tree is never followed.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "util.h"
#include "challenge.h"

static const char *const webroot_dirs[] = { ".well-known", "acme-challenge" };

/* The challenge directory under webroot, created as needed; -1 on error. */
static int
webroot_open_dir(const char *webroot, bool create, char **cause)
{
	int	dfd, next;
	size_t	i;

	if ((dfd = open(webroot, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		*cause = xasprintf("webroot %s: %s", webroot, strerror(errno));
		return -1;
	}
	for (i = 0; i < sizeof(webroot_dirs) / sizeof(webroot_dirs[0]); i++) {
		if (create && mkdirat(dfd, webroot_dirs[i], 0755) == -1 &&
		    errno != EEXIST) {
			*cause = xasprintf("webroot %s: mkdir %s: %s", webroot,
			    webroot_dirs[i], strerror(errno));
			close(dfd);
			return -1;
		}
		next = openat(dfd, webroot_dirs[i], O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);
		if (next == -1) {
			*cause = xasprintf("webroot %s: %s: %s", webroot,
			    webroot_dirs[i], errno == ELOOP || errno == ENOTDIR ?
			    "not a directory (a symlink is refused)" :
			    strerror(errno));
			close(dfd);
			return -1;
		}
		close(dfd);
		dfd = next;
	}
	return dfd;
}

static bool
webroot_token_ok(const char *token)
{
	/* RFC 8555 §8.3: base64url characters only, so never a path. */
	return *token != '\0' && strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_") == strlen(token);
}

int
webroot_publish(const char *webroot, const char *token, const char *keyauth,
    char **cause)
{
	int	dfd, fd = -1, rc = -1;
	size_t	len = strlen(keyauth), off = 0;
	ssize_t	n;

	if (!webroot_token_ok(token)) {
		*cause = xasprintf("challenge token is not base64url");
		return -1;
	}
	if ((dfd = webroot_open_dir(webroot, true, cause)) == -1)
		return -1;
	/* Whatever stands there (a stale file, a planted link) goes. */
	if (unlinkat(dfd, token, 0) == -1 && errno != ENOENT) {
		*cause = xasprintf("webroot %s: cannot replace %s: %s",
		    webroot, token, strerror(errno));
		goto out;
	}
	if ((fd = openat(dfd, token, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0644)) == -1 || fchmod(fd, 0644) == -1) {
		*cause = xasprintf("webroot %s: cannot write %s: %s", webroot,
		    token, strerror(errno));
		goto out;
	}
	while (off < len) {
		if ((n = write(fd, keyauth + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			*cause = xasprintf("webroot %s: write %s: %s", webroot,
			    token, strerror(errno));
			goto out;
		}
		off += n;
	}
	rc = 0;
out:
	if (fd != -1 && close(fd) == -1 && rc == 0) {
		*cause = xasprintf("webroot %s: close %s: %s", webroot, token,
		    strerror(errno));
		rc = -1;
	}
	if (rc == -1 && fd != -1)
		unlinkat(dfd, token, 0);
	close(dfd);
	return rc;
}

void
webroot_remove(const char *webroot, const char *token)
{
	char	*cause = NULL;
	int	 dfd;

	if (!webroot_token_ok(token))
		return;
	if ((dfd = webroot_open_dir(webroot, false, &cause)) == -1) {
		log_warnx("cannot remove http-01 file: %s", cause);
		free(cause);
		return;
	}
	if (unlinkat(dfd, token, 0) == -1 && errno != ENOENT)
		log_warn("webroot %s: remove %s", webroot, token);
	close(dfd);
}
