/* Crash-safe file helpers: every write goes to a temporary file in the same
 * directory, is fsynced, renamed over the target, and the directory fsynced. */
#ifndef DAEMON_FSUTIL_H
#define DAEMON_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

/* Temporary files carry this infix so a later start can sweep them. */
#define FS_TMP_INFIX	".tmp."

/* On error returns -1 and, if cause is not NULL, a malloc'd reason naming
 * the path and errno (else the reason is logged); errno is left set, so a
 * caller can tell ENOENT from other failures. */
int	 fs_write_atomic(const char *path, const void *data, size_t len,
	    mode_t mode, char **cause);
/* The same, owned by uid:gid ((uid_t)-1 / (gid_t)-1: unchanged). */
int	 fs_write_atomic_owner(const char *path, const void *data, size_t len,
	    mode_t mode, uid_t uid, gid_t gid, char **cause);
/* fs_write_atomic_owner() but the directory is not fsynced: for several
 * files in one directory, which the caller then fsyncs once. */
int	 fs_write_atomic_batch(const char *path, const void *data, size_t len,
	    mode_t mode, uid_t uid, gid_t gid, char **cause);
int	 fs_fsync_dir(const char *dir, char **cause);
/* mkdir -p; existing directories are left as they are. */
int	 fs_mkdir_p(const char *path, mode_t mode, char **cause);
/* Whole file, NUL-terminated, at most max bytes (larger is an error). */
char	*fs_read_file(const char *path, size_t max, size_t *len, char **cause);
/* malloc'd printf; aborts only on allocation failure (fatal). */
char	*fs_path(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Removes every "*.tmp.*" entry left in dir by an interrupted write. */
int	 fs_sweep_tmp(const char *dir);

#endif
