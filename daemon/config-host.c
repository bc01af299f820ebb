/*
 * The configuration against this machine: everything start-up (or the
 * first renewal) would find wrong from the configuration alone is found
 * by config_load(), so --check-config reports it with FILE:LINE and the
 * key, and a reload refuses it.
 *
 *	groups		control-group (its default may be missing: then
 *			the socket is root's alone)
 *	paths		state-dir and control-socket can be made
 *	files		trust-bundle holds certificates, eab-hmac-key-file
 *			a base64url key, dns-01-tsig-key-file a TSIG key
 *	listeners	each listener in use resolves and binds here, no two
 *			share a port, none that a certificate needs is off
 *
 * (key-owner's user and group are resolved as the key is parsed.)  A
 * webroot is not checked here: a web server may make it later, and one
 * missing fails that certificate's renewals, not the whole daemon.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netdb.h>

#include <errno.h>
#include <stdarg.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include "b64url.h"
#include "util.h"
#include "challenge/tsigkey.h"
#include "config-parse.h"
#include "fsutil.h"

#define EAB_KEY_FILE_MAX	4096

/* The [daemon] section as read, or NULL when the files have none. */
static struct conf_section *
host_daemon_section(struct conf_parser *p)
{
	struct conf_section	*sec;

	TAILQ_FOREACH(sec, &p->sections, entry)
		if (sec->type == SECTION_DAEMON)
			return sec;
	return NULL;
}

/* The name of a [daemon] key. */
static const char *
host_key_name(int key)
{
	return conf_section_defs[SECTION_DAEMON].keys[key].name;
}

/*
 * Where a [daemon] key was set: its file and line, or the main file and
 * line 0 for a default.
 */
static int
host_daemon_line(struct conf_parser *p, const struct conf_section *dsec,
    int key, const char **file)
{
	if (dsec != NULL && dsec->keyline[key] != 0) {
		*file = dsec->file;
		return dsec->keyline[key];
	}
	*file = p->conf->path;
	return 0;
}

static void	host_daemon_error(struct conf_parser *,
		    const struct conf_section *, int, const char *, ...)
		    __attribute__((format(printf, 4, 5)));

/* "FILE:LINE: KEY: reason", or "FILE: KEY (the default): reason". */
static void
host_daemon_error(struct conf_parser *p, const struct conf_section *dsec,
    int key, const char *fmt, ...)
{
	const char	*name = host_key_name(key);
	const char	*file;
	char		*reason;
	va_list		 ap;
	int		 line;

	va_start(ap, fmt);
	reason = xvasprintf(fmt, ap);
	va_end(ap);
	line = host_daemon_line(p, dsec, key, &file);
	if (line != 0)
		conf_error(p, file, line, name, "%s", reason != NULL ? reason :
		    "out of memory");
	else
		conf_error(p, file, 0, NULL, "%s (the default): %s", name,
		    reason != NULL ? reason : "out of memory");
	free(reason);
}

/* Groups. */

static void
host_check_group(struct conf_parser *p, const struct conf_section *dsec)
{
	struct conf_daemon	*d = &p->conf->daemon;
	struct group		*gr;
	const char		*file;

	if (d->control_group == NULL)	/* "control-group =": nobody */
		return;
	if ((gr = getgrnam(d->control_group)) != NULL) {
		d->control_gid = gr->gr_gid;
		return;
	}
	if (host_daemon_line(p, dsec, DK_CONTROL_GROUP, &file) == 0) {
		/* The default, on a machine where the package's sysusers.d
		 * never ran: a root-only socket, said once at start. */
		free(d->control_group);
		d->control_group = NULL;
		d->control_group_absent = true;
		return;
	}
	host_daemon_error(p, dsec, DK_CONTROL_GROUP, "%s: no such group",
	    d->control_group);
}

/* Paths. */

/*
 * path, or the nearest of its parents that exists, is a directory:
 * NULL, or what is in the way.  Unreadable parents (EACCES) are left to
 * start-up: --check-config may run as another user than the daemon.
 */
static const char *
host_dir_makeable(const char *path, char *buf, size_t len)
{
	struct stat	 st;
	char		*slash;

	snprintf(buf, len, "%s", path);
	for (;;) {
		if (stat(buf, &st) == 0)
			return S_ISDIR(st.st_mode) ? NULL : buf;
		if (errno != ENOENT && errno != ENOTDIR)
			return NULL;
		if ((slash = strrchr(buf, '/')) == NULL || slash == buf)
			return NULL;
		*slash = '\0';
	}
}

static void
host_check_paths(struct conf_parser *p, const struct conf_section *dsec)
{
	struct conf_daemon	*d = &p->conf->daemon;
	struct stat		 st;
	const char		*bad;
	char			 buf[4096], *parent;

	if ((bad = host_dir_makeable(d->state_dir, buf, sizeof(buf))) != NULL)
		host_daemon_error(p, dsec, DK_STATE_DIR, "%s: %s is not a "
		    "directory", d->state_dir, bad);

	if (lstat(d->control_socket, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		host_daemon_error(p, dsec, DK_CONTROL_SOCKET, "%s exists and is "
		    "not a socket", d->control_socket);
		return;
	}
	if ((parent = strdup(d->control_socket)) == NULL)
		return;
	*strrchr(parent, '/') = '\0';	/* an absolute path: parse_path */
	if (*parent != '\0' &&
	    (bad = host_dir_makeable(parent, buf, sizeof(buf))) != NULL)
		host_daemon_error(p, dsec, DK_CONTROL_SOCKET, "%s: %s is not a "
		    "directory", d->control_socket, bad);
	free(parent);
}

/* Listeners. */

/* The listeners, by their [daemon] key. */
static const int host_listeners[] = {
	DK_HTTP01_LISTEN, DK_TLSALPN01_LISTEN, DK_METRICS_LISTEN
};
#define HOST_NLISTENERS	(sizeof(host_listeners) / sizeof(host_listeners[0]))

/* A listener's address, NULL when it is off. */
static const char *
host_listener_addr(const struct conf_daemon *d, int key)
{
	const struct conf_key	*k = &conf_section_defs[SECTION_DAEMON].keys[key];

	return *(char *const *)((const char *)d + k->off);
}

/* The listener certificate cc answers its challenge on, or -1. */
static int
host_cert_listener(const struct conf_cert *cc)
{
	if (cc->challenge == CHALLENGE_HTTP01 && cc->webroot == NULL)
		return DK_HTTP01_LISTEN;
	if (cc->challenge == CHALLENGE_TLSALPN01)
		return DK_TLSALPN01_LISTEN;
	return -1;
}

/* Whether the daemon opens the listener: on, and used. */
static bool
host_listener_used(const struct config *conf, int key)
{
	const struct conf_cert	*cc;

	if (host_listener_addr(&conf->daemon, key) == NULL)
		return false;
	if (key == DK_METRICS_LISTEN)
		return true;
	TAILQ_FOREACH(cc, &conf->certs, entry)
		if (host_cert_listener(cc) == key)
			return true;
	return false;
}

/*
 * Whether this machine has an address of host to listen on ("" is every
 * address, "::" or else "0.0.0.0", as the listeners bind it): 0, or -1
 * with why.  Binds port 0, so a listener already on the real port (a
 * reload) does not get in the way.
 */
static int
host_listen_probe(const char *host, char *why, size_t len)
{
	struct addrinfo	 hints, *res = NULL, *ai;
	int		 e, fd, err = 0;

	if (*host == '\0')
		return host_listen_probe("::", why, len) == 0 ? 0 :
		    host_listen_probe("0.0.0.0", why, len);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((e = getaddrinfo(host, "0", &hints, &res)) != 0) {
		snprintf(why, len, "%s", e == EAI_SYSTEM ? strerror(errno) :
		    gai_strerror(e));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol)) == -1) {
			err = errno;
			continue;
		}
		e = bind(fd, ai->ai_addr, ai->ai_addrlen);
		err = errno;
		close(fd);
		if (e == 0)
			break;
	}
	freeaddrinfo(res);
	if (ai != NULL)
		return 0;
	snprintf(why, len, "%s", strerror(err));
	return -1;
}

/* Whether two listeners collide: one port, and an address in common. */
static bool
host_overlap(const char *h1, int p1, const char *h2, int p2)
{
	static const char *const any[] = { "", "::", "0.0.0.0" };
	size_t			 i;

	if (p1 != p2)
		return false;
	for (i = 0; i < sizeof(any) / sizeof(any[0]); i++)
		if (strcmp(h1, any[i]) == 0 || strcmp(h2, any[i]) == 0)
			return true;
	return strcmp(h1, h2) == 0;
}

/* Where a listener was set, for a message about another line. */
static char *
host_where(struct conf_parser *p, const struct conf_section *dsec, int key)
{
	const char	*file;
	int		 line;

	if ((line = host_daemon_line(p, dsec, key, &file)) == 0)
		return xasprintf("the default");
	return xasprintf("%s:%d", file, line);
}

static void
host_check_listeners(struct conf_parser *p, const struct conf_section *dsec)
{
	const struct conf_daemon	*d = &p->conf->daemon;
	char				*host[HOST_NLISTENERS] = { NULL };
	int				 port[HOST_NLISTENERS];
	const char			*addr;
	char				 why[256], *where;
	size_t				 l, o;
	int				 key;

	for (l = 0; l < HOST_NLISTENERS; l++) {
		key = host_listeners[l];
		addr = host_listener_addr(d, key);
		if ((dsec != NULL && dsec->keybad[key]) ||
		    !host_listener_used(p->conf, key) ||
		    listen_addr_parse(addr, &host[l], &port[l]) == -1)
			continue;
		if (host_listen_probe(host[l], why, sizeof(why)) == -1) {
			host_daemon_error(p, dsec, key, "%s: cannot listen "
			    "there: %s", addr, why);
			continue;
		}
		for (o = 0; o < l; o++) {
			if (host[o] == NULL ||
			    !host_overlap(host[o], port[o], host[l], port[l]))
				continue;
			where = host_where(p, dsec, host_listeners[o]);
			host_daemon_error(p, dsec, key, "%s: the same port as "
			    "%s = %s (%s)", addr,
			    host_key_name(host_listeners[o]),
			    host_listener_addr(d, host_listeners[o]),
			    where != NULL ? where : "?");
			free(where);
		}
	}
	for (l = 0; l < HOST_NLISTENERS; l++)
		free(host[l]);
}

/* A certificate whose challenge needs a listener that is off. */
static void
host_check_cert_listener(struct conf_parser *p, const struct conf_section *sec,
    const struct conf_section *dsec)
{
	const struct conf_cert	*cc = sec->obj;
	char			*where;
	int			 key;

	if (sec->keybad[CK_CHALLENGE] || sec->keybad[CK_WEBROOT] ||
	    (key = host_cert_listener(cc)) == -1 ||
	    host_listener_addr(&p->conf->daemon, key) != NULL)
		return;
	/* Off: set, to nothing, on a line of its own. */
	where = host_where(p, dsec, key);
	conf_error(p, sec->file, sec->keyline[CK_CHALLENGE] != 0 ?
	    sec->keyline[CK_CHALLENGE] : sec->line,
	    sec->keyline[CK_CHALLENGE] != 0 ? "challenge" : sec->label,
	    "%s%s needs %s, which is off (%s)",
	    challenge_type_names[cc->challenge],
	    key == DK_HTTP01_LISTEN ? " without webroot" : "",
	    host_key_name(key), where != NULL ? where : "?");
	free(where);
}

/* Files: each checked once per load, however many sections name it. */

/*
 * The reason kind:path was refused earlier in this load, "" if it was
 * good, NULL if not checked yet.
 */
static const char *
host_checked(struct conf_parser *p, const char *kind, const char *path,
    char **keyp)
{
	json_t	*v;

	if ((*keyp = xasprintf("%s:%s", kind, path)) == NULL)
		return NULL;
	if ((v = json_object_get(p->checked, *keyp)) == NULL)
		return NULL;
	return json_is_string(v) ? json_string_value(v) : "";
}

/* Records why (NULL: good) under key, which it frees. */
static void
host_remember(struct conf_parser *p, char *key, const char *why)
{
	if (key != NULL)
		json_object_set_new(p->checked, key, why != NULL ?
		    json_string(why) : json_true());
	free(key);
}

/* A PEM bundle OpenSSL (so libcurl) loads, with at least one certificate. */
static char *
host_bundle_problem(const char *path)
{
	X509_STORE	*store;
	const char	*reason;
	char		*why = NULL;

	if ((store = X509_STORE_new()) == NULL)
		return xasprintf("out of memory");
	if (X509_STORE_load_file(store, path) != 1) {
		reason = ERR_reason_error_string(ERR_peek_last_error());
		why = xasprintf("%s: no PEM certificate in it (%s)", path,
		    reason != NULL ? reason : "unreadable");
	}
	ERR_clear_error();
	X509_STORE_free(store);
	return why;
}

static char *
host_eab_problem(const char *path)
{
	unsigned char	*key;
	size_t		 len;
	char		*cause = NULL;

	if ((key = config_eab_key_read(path, &len, &cause)) == NULL)
		return cause;
	OPENSSL_cleanse(key, len);
	free(key);
	return NULL;
}

static char *
host_tsig_problem(const char *path)
{
	struct rfc2136_key	*key;
	char			*cause = NULL;

	if ((key = rfc2136_key_load(path, &cause)) == NULL)
		return cause != NULL ? cause : xasprintf("%s: unreadable",
		    path);
	rfc2136_key_free(key);
	return NULL;
}

/* Runs problem(path) unless this load did already; reports at file:line. */
static void
host_check_file(struct conf_parser *p, const char *file, int line,
    const char *key, const char *path, char *(*problem)(const char *))
{
	const char	*seen;
	char		*ckey = NULL, *why;

	if ((seen = host_checked(p, key, path, &ckey)) != NULL) {
		free(ckey);
		if (*seen != '\0')
			conf_error(p, file, line, key, "%s", seen);
		return;
	}
	why = problem(path);
	if (why != NULL)
		conf_error(p, file, line, key, "%s", why);
	host_remember(p, ckey, why);
	free(why);
}

static void
host_check_ca(struct conf_parser *p, const struct conf_section *sec)
{
	const struct conf_ca	*ca = sec->obj;
	const int		*line = sec->keyline;

	if (conf_key_ok(sec, AK_TRUST_BUNDLE))
		host_check_file(p, sec->file, line[AK_TRUST_BUNDLE],
		    "trust-bundle", ca->trust_bundle, host_bundle_problem);
	if (conf_key_ok(sec, AK_EAB_HMAC_KEY_FILE))
		host_check_file(p, sec->file, line[AK_EAB_HMAC_KEY_FILE],
		    "eab-hmac-key-file", ca->eab_hmac_key_file,
		    host_eab_problem);
}

static void
host_check_cert(struct conf_parser *p, const struct conf_section *sec,
    const struct conf_section *dsec)
{
	const struct conf_cert	*cc = sec->obj;
	const int		*line = sec->keyline;

	if (conf_key_ok(sec, CK_DNS01_TSIG_KEY_FILE))
		host_check_file(p, sec->file, line[CK_DNS01_TSIG_KEY_FILE],
		    "dns-01-tsig-key-file", cc->dns01_tsig_key_file,
		    host_tsig_problem);
	host_check_cert_listener(p, sec, dsec);
}

void
conf_check_host(struct conf_parser *p)
{
	struct conf_section	*sec, *dsec = host_daemon_section(p);

	if ((p->checked = json_object()) == NULL) {
		conf_error(p, p->conf->path, 0, NULL, "out of memory");
		return;
	}
	host_check_group(p, dsec);
	host_check_paths(p, dsec);
	host_check_listeners(p, dsec);
	TAILQ_FOREACH(sec, &p->sections, entry) {
		if (sec->type == SECTION_CA)
			host_check_ca(p, sec);
		else if (sec->type == SECTION_CERT)
			host_check_cert(p, sec, dsec);
	}
	json_decref(p->checked);
	p->checked = NULL;
}

/* The EAB key as the CA hands it out: base64url, maybe a newline after. */
unsigned char *
config_eab_key_read(const char *path, size_t *lenp, char **cause)
{
	unsigned char	*key = NULL;
	char		*text, *end;
	size_t		 len = 0;

	if ((text = fs_read_file(path, EAB_KEY_FILE_MAX, &len, cause)) == NULL)
		return NULL;
	for (end = text + len; end > text && (end[-1] == '\n' ||
	    end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'); end--)
		end[-1] = '\0';
	if ((key = b64url_decode(text, lenp)) == NULL || *lenp == 0) {
		free(key);
		key = NULL;
		*cause = xasprintf("%s: not a base64url key", path);
	}
	OPENSSL_cleanse(text, len);
	free(text);
	return key;
}
