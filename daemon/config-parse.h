/*
 * What the files of the configuration parser share; nothing outside
 * daemon/config*.c includes this.
 *
 *	config.c	config_load(), the error list, the objects and
 *			their defaults, lookups, checks across sections
 *	config-file.c	reading one file (and conf.d/) through inih:
 *			section headers, KEY = VALUE lines
 *	config-keys.c	the key table of each section and the value parsers
 *	config-value.c	the words the parsers check: names, addresses,
 *			key types
 *	config-host.c	the checks against this machine: groups, paths,
 *			the files' contents, listen addresses
 */
#ifndef DAEMON_CONFIG_PARSE_H
#define DAEMON_CONFIG_PARSE_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/queue.h>

#include <jansson.h>

#include "config.h"

#define CONF_KEYS_MAX	32

enum section_type {
	SECTION_DAEMON,
	SECTION_CA,
	SECTION_CERT,
	SECTION__MAX
};

struct conf_parser;
struct conf_key {
	const char	*name;
	int		(*parse)(struct conf_parser *, const struct conf_key *,
			    void *field, const char *value);
	size_t		 off;		/* of the field in the struct */
	bool		 supported;
	long long	 min, max;	/* ints and durations */
};

struct section_def {
	const char		*name;
	bool			 named;
	const struct conf_key	*keys;
	size_t			 nkeys;
};

/* One section as read, with the line of each key, for the checks at the end. */
struct conf_section {
	TAILQ_ENTRY(conf_section) entry;
	enum section_type	 type;
	void			*obj;	/* borrowed: struct config owns it */
	char			*label;	/* "[certificate www]" */
	char			*file;
	int			 line;
	int			 keyline[CONF_KEYS_MAX]; /* 0: not set */
	bool			 keybad[CONF_KEYS_MAX];	 /* value refused */
};

struct conf_parser {
	struct config		*conf;
	struct config_errors	*errs;
	bool			 failed;	/* even if a message was lost */
	TAILQ_HEAD(, conf_section) sections;
	json_t			*labels;	/* "[type name]" -> [file, line]
						 * where it first appears: a
						 * fleet has 10,000 sections */
	json_t			*checked;	/* "kind:path" -> why, or true:
						 * files checked once a load */

	/* The file being read. */
	const char		*file;
	FILE			*fp;
	int			 read_errno;
	char			*line;
	size_t			 linesz;
	size_t			 len, off;	/* of line; given to inih */
	int			 lineno;
	bool			 pending;	/* KEY = VALUE not handled */
	bool			 in_section;
	struct conf_section	*cur;		/* NULL: none, or refused */

	/* The key being parsed, for conf_key_error(). */
	const char		*key;
	int			 keylineno;
};

/* The keys of each section, indexes into its table (config-keys.c). */
enum daemon_key {
	DK_STATE_DIR, DK_CONTROL_SOCKET, DK_CONTROL_GROUP, DK_METRICS_LISTEN,
	DK_HTTP01_LISTEN, DK_TLSALPN01_LISTEN, DK_MAX_PARALLEL, DK_LOG_LEVEL,
	DK_LOG_TARGET, DK_HOOK_TIMEOUT, DAEMON_KEY__MAX
};

enum ca_key {
	AK_DIRECTORY, AK_CONTACT, AK_ACCEPT_TOS, AK_ACCOUNT_KEY_TYPE,
	AK_TRUST_BUNDLE, AK_EAB_KID, AK_EAB_HMAC_KEY_FILE, CA_KEY__MAX
};

enum cert_key {
	CK_DOMAINS, CK_CA, CK_CA_FALLBACK_AFTER, CK_KEY_TYPE, CK_REUSE_KEY,
	CK_PREFERRED_CHAIN, CK_PROFILE, CK_CHALLENGE, CK_WEBROOT,
	CK_DNS01_HOOK, CK_DNS01_RFC2136_SERVER, CK_DNS01_TSIG_KEY_FILE,
	CK_DNS01_RESOLVERS, CK_DNS01_PROPAGATION_CHECK,
	CK_DNS01_PROPAGATION_TIMEOUT, CK_RENEW_BEFORE, CK_DEPLOY_HOOK,
	CK_FAILURE_HOOK, CK_RELOAD_UNITS, CK_KEY_OWNER, CERT_KEY__MAX
};

_Static_assert(DAEMON_KEY__MAX <= CONF_KEYS_MAX, "CONF_KEYS_MAX too small");
_Static_assert(CA_KEY__MAX <= CONF_KEYS_MAX, "CONF_KEYS_MAX too small");
_Static_assert(CERT_KEY__MAX <= CONF_KEYS_MAX, "CONF_KEYS_MAX too small");

/* config.c */
/* "FILE:LINE: WHAT: reason"; without WHAT if NULL, "FILE: reason" if !line. */
void		 conf_error(struct conf_parser *, const char *file, int line,
		    const char *what, const char *fmt, ...)
		    __attribute__((format(printf, 5, 6)));
/* About the key being parsed. */
void		 conf_key_error(struct conf_parser *, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
/* The key was set, and its value taken. */
bool		 conf_key_ok(const struct conf_section *, int key);
struct conf_ca	*conf_ca_new(const char *name, const char *file, int line);
struct conf_cert *conf_cert_new(const char *name, const char *file, int line);

/* config-file.c */
/* inih's settings are process-wide: set them before every parse. */
void		 conf_ini_setup(void);
void		 conf_parse_file(struct conf_parser *, const char *file);
/* Every conf.d/ *.conf beside the main file, in lexical order. */
void		 conf_parse_dir(struct conf_parser *, const char *path);
void		 conf_section_free(struct conf_section *);

/* config-host.c */
/* Checks against this machine: groups, paths, files, listeners. */
void		 conf_check_host(struct conf_parser *);

/* config-keys.c */
extern const struct section_def conf_section_defs[SECTION__MAX];
void		 conf_strlist_clear(struct strlist *);

/* config-value.c */
/* A section name, also a directory name under state-dir. */
bool		 conf_name_valid(const char *);
/* A DNS host name of letters, digits and hyphens; NULL or why not. */
const char	*conf_host_name_check(const char *, int min_labels);
bool		 conf_ip_valid(const char *);
/* ADDR, ADDR:PORT or [IPV6]:PORT; ADDR an IP address, or a name too. */
bool		 conf_server_addr_valid(const char *, bool names);

#endif
