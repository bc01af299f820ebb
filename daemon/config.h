/*
 * Configuration: the INI grammar of DESIGN.md, parsed with inih.
 *
 * config_load() reads the main file, then every conf.d/NAME.conf beside it in
 * lexical order, and validates the whole.  It never stops at the first
 * error: every problem is collected as "file:line: key: reason" so
 * --check-config and a refused reload show all of them.
 */
#ifndef DAEMON_CONFIG_H
#define DAEMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/queue.h>
#include <sys/types.h>

/* Fixed, as DESIGN.md and the unit's ConfigurationDirectory= have it. */
#define CONFIG_DEFAULT_PATH	"/etc/acme-renewd/acme-renewd.conf"
/* control-group when the key is not set (the package's sysusers.d). */
#define CONFIG_DEFAULT_GROUP	"acme-renewd"
/* Longest [ca NAME] / [certificate NAME]: letters, digits, '.', '_', '-'. */
#define CONFIG_NAME_MAX		64

enum key_kind {
	KEY_EC_P256,
	KEY_EC_P384,
	KEY_RSA,
	KEY_KIND__MAX
};

struct key_spec {
	enum key_kind	 kind;
	int		 bits;		/* RSA only: 2048..4096 */
};

enum challenge_type {
	CHALLENGE_HTTP01,
	CHALLENGE_DNS01,
	CHALLENGE_TLSALPN01,
	CHALLENGE__MAX
};

extern const char *const challenge_type_names[CHALLENGE__MAX];	/* "http-01" ... */

/* A list of words from a space-separated value. */
struct strlist {
	char		**v;
	size_t		  n;
};

struct conf_daemon {
	char		*state_dir;		/* /var/lib/acme-renewd */
	char		*control_socket;	/* /run/acme-renewd/control.sock */
	char		*control_group;		/* acme-renewd; NULL = none */
	gid_t		 control_gid;		/* resolved, if control_group */
	bool		 control_group_absent;	/* not set, and no group
						 * acme-renewd here: root only */
	char		*metrics_listen;	/* NULL = off */
	char		*http01_listen;		/* [::]:80; NULL = off */
	char		*tlsalpn01_listen;	/* [::]:443; NULL = off */
	int		 max_parallel;		/* 8 */
	int		 log_level;		/* LOG_INFO */
	int		 log_target;		/* enum log_target */
	long long	 hook_timeout;		/* seconds, 300 */
};

struct conf_ca {
	TAILQ_ENTRY(conf_ca) entry;
	char		*name;
	char		*file;			/* where the section starts */
	int		 line;
	char		*directory;		/* required, https:// or http:// URL */
	struct strlist	 contact;		/* "mailto:..." words */
	bool		 accept_tos;
	struct key_spec	 account_key;		/* ec-p256 */
	char		*trust_bundle;		/* NULL = system store */
	char		*eab_kid;
	char		*eab_hmac_key_file;
};

struct conf_cert {
	TAILQ_ENTRY(conf_cert) entry;
	char		*name;
	char		*file;
	int		 line;
	struct strlist	 domains;		/* required, >= 1 */
	struct strlist	 ca;			/* required, each names a [ca] */
	int		 ca_fallback_after;	/* 3 */
	struct key_spec	 key;			/* ec-p256 */
	bool		 reuse_key;
	char		*preferred_chain;
	char		*profile;
	enum challenge_type challenge;		/* http-01 */
	char		*webroot;
	char		*dns01_hook;
	char		*dns01_rfc2136_server;
	char		*dns01_tsig_key_file;
	struct strlist	 dns01_resolvers;
	bool		 dns01_propagation_check;	/* yes */
	long long	 dns01_propagation_timeout;	/* 600 */
	long long	 renew_before;		/* seconds; 0 = auto */
	char		*deploy_hook;
	char		*failure_hook;
	struct strlist	 reload_units;
	char		*key_owner;		/* "user:group" */
	uid_t		 key_uid;		/* resolved, if key_owner */
	gid_t		 key_gid;		/* the group, else the user's */
};

TAILQ_HEAD(conf_ca_list, conf_ca);
TAILQ_HEAD(conf_cert_list, conf_cert);

struct config {
	char			*path;		/* the main file */
	struct conf_daemon	 daemon;
	struct conf_ca_list	 cas;
	struct conf_cert_list	 certs;
};

struct config_errors {
	char		**msg;			/* "file:line: key: reason" */
	size_t		  count;
};

/*
 * Loads path and conf.d/NAME.conf in the same directory.  Returns NULL when
 * there was any error, with every message appended to errs (errs may be
 * NULL; a message is lost only if memory ran out).
 */
struct config	*config_load(const char *path, struct config_errors *errs);
void		 config_free(struct config *);
void		 config_errors_clear(struct config_errors *);

const struct conf_ca	*config_find_ca(const struct config *, const char *);
/* Every key the same (a reload leaves such a certificate alone). */
bool			 config_cert_equal(const struct conf_cert *,
			    const struct conf_cert *);
const struct conf_cert	*config_find_cert(const struct config *, const char *);

/*
 * The key of eab-hmac-key-file (base64url, as the CA hands it out),
 * malloc'd, its length in *len; NULL with *cause.  The caller wipes it.
 */
unsigned char	*config_eab_key_read(const char *path, size_t *len,
		    char **cause);

/* "ec-p256", "ec-p384", "rsa-2048" ... "rsa-4096"; -1 on anything else. */
int		 key_spec_parse(const char *, struct key_spec *);
/* Writes the canonical name ("rsa-3072") into buf. */
void		 key_spec_format(const struct key_spec *, char *buf, size_t len);
bool		 key_spec_equal(const struct key_spec *, const struct key_spec *);

/* The list as a JSON array of strings (a new reference), NULL if out of
 * memory. */
struct json_t	*strlist_to_json(const struct strlist *);

/*
 * "host:port", "[v6]:port", "*:port"; -1 on error.  host is malloc'd
 * ("" for the wildcard forms "*" and "[::]" stays "::").  host and port
 * may be NULL to only validate.
 */
int		 listen_addr_parse(const char *, char **host, int *port);

#endif
