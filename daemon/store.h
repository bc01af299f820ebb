/*
 * The certificate store of DESIGN.md:
 *   state-dir/certs/<name>/v<N>/{privkey,cert,chain,fullchain,combined}.pem
 *   state-dir/certs/<name>/current -> v<N>
 * A version directory is complete and fsynced before `current` is swapped
 * to it (temporary symlink + rename), so a reader never sees a key that
 * does not match its certificate.  The last STORE_KEEP versions are kept.
 */
#ifndef DAEMON_STORE_H
#define DAEMON_STORE_H

#define STORE_KEEP	3

#include <stdbool.h>
#include <sys/types.h>

struct store_files {
	char		*key_pem;
	char		*cert_pem;	/* leaf */
	char		*chain_pem;	/* intermediates, may be "" */
	/* key-owner: privkey.pem and combined.pem 0640 uid:gid, else 0600. */
	bool		 key_shared;
	uid_t		 key_uid;
	gid_t		 key_gid;
};

/* state-dir/certs/<name>, malloc'd. */
char	*store_cert_dir(const char *state_dir, const char *name);
/* That directory, open (made first with create), refusing a symbolic link
 * at certs or <name> (fs_open_beneath); -1 with *cause and errno. */
int	 store_open_cert_dir(const char *state_dir, const char *name,
	    bool create, char **cause);
/*
 * Writes a new version and points `current` at it; prunes old versions.
 * privkey.pem and combined.pem are 0600 (0640 with key_shared), the
 * others 0644.
 * Returns the new version number, or -1 with *cause.
 */
int	 store_install(const char *state_dir, const char *name,
	    const struct store_files *, char **cause);
/* The version `current` points at, 0 if there is none. */
int	 store_current_version(const char *state_dir, const char *name);
/* Reads current/privkey.pem, cert.pem, chain.pem.  0, or -1 with *cause
 * (also when there is no current version). */
int	 store_read_current(const char *state_dir, const char *name,
	    struct store_files *, char **cause);
/*
 * Identifies the files of version v of a certificate as they are on disk
 * (inode, size, mtime and ctime of privkey.pem and cert.pem): any
 * replacement or rewrite changes it.  malloc'd, NULL if a file is missing.
 */
char	*store_file_id(const char *state_dir, const char *name, int version);
void	 store_files_clear(struct store_files *);	/* cleanses the key */
/* At start: removes temporary files and version directories newer than
 * `current` that an interrupted install left behind. */
int	 store_recover(const char *state_dir, const char *name);

#endif
