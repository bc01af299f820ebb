/* Crash-safe file helpers: every write goes to a temporary file in the same
 * directory, is fsynced, renamed over the target, and the directory fsynced.
 *
 * Below the state directory nothing follows a symbolic link: the daemon
 * opens the directory it writes in with fs_open_beneath() and then works
 * relative to that descriptor (the *_at functions), so a link planted at
 * any name it uses is refused or replaced, never written through. */
#ifndef DAEMON_FSUTIL_H
#define DAEMON_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Temporary files carry this infix so a later start can sweep them. */
#define FS_TMP_INFIX	".tmp."
/* ... followed by this many random letters and digits. */
#define FS_TMP_RANDOM	8

/* On error returns -1 and, if cause is not NULL, a malloc'd reason naming
 * the path and errno (else the reason is logged); errno is left set, so a
 * caller can tell ENOENT from other failures. */
int	 fs_write_atomic(const char *path, const void *data, size_t len,
	    mode_t mode, char **cause);
/* The same, owned by uid:gid ((uid_t)-1 / (gid_t)-1: unchanged). */
int	 fs_write_atomic_owner(const char *path, const void *data, size_t len,
	    mode_t mode, uid_t uid, gid_t gid, char **cause);
/*
 * The same for the file name in the directory open as dirfd (dirpath only
 * names it in messages).  The temporary file is created with
 * O_CREAT | O_EXCL | O_NOFOLLOW, mode 0600, and gets its owner and final
 * mode before the first byte goes in.
 */
int	 fs_write_atomic_at(int dirfd, const char *dirpath, const char *name,
	    const void *data, size_t len, mode_t mode, uid_t uid, gid_t gid,
	    char **cause);
/* The same but dirfd is not fsynced: for several files in one directory,
 * which the caller then fsyncs once. */
int	 fs_write_atomic_at_batch(int dirfd, const char *dirpath,
	    const char *name, const void *data, size_t len, mode_t mode,
	    uid_t uid, gid_t gid, char **cause);
/*
 * The directory base/rel, opened (O_DIRECTORY, close-on-exec): base as it
 * is (it may be a symbolic link: the operator chose it), every component
 * of rel without following a symbolic link ("a symbolic link, refused").
 * With create, missing components are made with mode (and base with
 * fs_mkdir_p).  rel is one or more plain names joined by '/'.  Returns the
 * descriptor, or -1 with *cause and errno set (ENOENT: something is
 * missing and create is false).
 */
int	 fs_open_beneath(const char *base, const char *rel, bool create,
	    mode_t mode, char **cause);
int	 fs_fsync_dir(const char *dir, char **cause);
/* mkdir -p; existing directories are left as they are. */
int	 fs_mkdir_p(const char *path, mode_t mode, char **cause);
/* Whole file, NUL-terminated, at most max bytes (larger is an error). */
char	*fs_read_file(const char *path, size_t max, size_t *len, char **cause);
/* malloc'd printf; aborts only on allocation failure (fatal). */
char	*fs_path(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Removes every "*.tmp.*" entry left in dir by an interrupted write. */
int	 fs_sweep_tmp(const char *dir);
/* The same in the directory open as dirfd (dirpath names it). */
int	 fs_sweep_tmp_at(int dirfd, const char *dirpath);

#endif
