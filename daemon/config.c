/*
 * Configuration: the grammar of DESIGN.md "Configuration", parsed with inih.
 *
 * inih does the INI syntax; we feed it the lines through ini_parse_stream()
 * and our own reader.  Debian's libinih has no runtime switch to call the
 * handler on a section header, and ini_parse() reports only the first bad
 * line, so the reader also (1) sees every section header with its line
 * number, which catches empty and duplicate sections, (2) notes each
 * KEY = VALUE line inih should hand to the handler: one it never handed
 * over was a syntax error, and is reported like every other error, and
 * (3) refuses lines too long for inih's buffer instead of letting inih cut
 * them.
 *
 * Each section type has one table of keys: name, value parser, offset of
 * the field, and whether the feature behind it is built yet.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <grp.h>
#include <pwd.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <ini.h>

#include "log.h"
#include "timeutil.h"
#include "config.h"
#include "proc.h"

/* inih's line buffer; a longer line is an error, never cut. */
#define CONF_MAX_LINE	65536
#define CONF_KEYS_MAX	32

/*
 * Features not built yet.  Their values are parsed and validated already;
 * a config that asks for one is refused with "not supported yet" until the
 * flag (or the key's .supported in the tables below) is flipped.
 */
static const bool have_rsa = true;		/* key-type rsa-* */
static const bool have_dns01 = true;		/* challenge = dns-01 */
static const bool have_tlsalpn01 = true;	/* challenge = tls-alpn-01 */
static const bool have_ca_fallback = true;	/* more than one ca */
static const bool have_metrics = true;		/* metrics-listen */

const char *const challenge_type_names[CHALLENGE__MAX] = {
	[CHALLENGE_HTTP01] = "http-01",
	[CHALLENGE_DNS01] = "dns-01",
	[CHALLENGE_TLSALPN01] = "tls-alpn-01",
};

static const struct {
	const char	*name;
	enum key_kind	 kind;
	int		 bits;
} key_specs[] = {
	{ "ec-p256", KEY_EC_P256, 0 },
	{ "ec-p384", KEY_EC_P384, 0 },
	{ "rsa-2048", KEY_RSA, 2048 },
	{ "rsa-3072", KEY_RSA, 3072 },
	{ "rsa-4096", KEY_RSA, 4096 },
};

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

/* Errors. */

static void
conf_errorv(struct conf_parser *p, const char *file, int line,
    const char *what, const char *fmt, va_list ap)
{
	char	*reason = NULL, *msg = NULL, **v;
	int	 rc;

	p->failed = true;
	if (vasprintf(&reason, fmt, ap) == -1) {
		reason = NULL;
		goto out;
	}
	if (line == 0)
		rc = asprintf(&msg, "%s: %s", file, reason);
	else if (what == NULL)
		rc = asprintf(&msg, "%s:%d: %s", file, line, reason);
	else
		rc = asprintf(&msg, "%s:%d: %s: %s", file, line, what, reason);
	if (rc == -1) {
		msg = NULL;
		goto out;
	}
	v = reallocarray(p->errs->msg, p->errs->count + 1, sizeof(*v));
	if (v == NULL)
		goto out;
	p->errs->msg = v;
	v[p->errs->count++] = msg;
	msg = NULL;
out:
	free(reason);
	free(msg);
}

/* "FILE:LINE: WHAT: reason"; without WHAT if NULL, "FILE: reason" if !line. */
static void __attribute__((format(printf, 5, 6)))
conf_error(struct conf_parser *p, const char *file, int line,
    const char *what, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	conf_errorv(p, file, line, what, fmt, ap);
	va_end(ap);
}

/* About the key being parsed. */
static void __attribute__((format(printf, 2, 3)))
conf_key_error(struct conf_parser *p, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	conf_errorv(p, p->file, p->keylineno, p->key, fmt, ap);
	va_end(ap);
}

/* Word lists. */

static void
strlist_clear(struct strlist *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static bool
strlist_has(const struct strlist *l, const char *s)
{
	size_t	i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return true;
	return false;
}

/* Takes s. */
static int
strlist_add_take(struct strlist *l, char *s)
{
	char	**v;

	if (s == NULL)
		return -1;
	if ((v = reallocarray(l->v, l->n + 1, sizeof(*v))) == NULL) {
		free(s);
		return -1;
	}
	l->v = v;
	l->v[l->n++] = s;
	return 0;
}

/* Splits s at white space into an empty l. */
static int
strlist_split(struct strlist *l, const char *s)
{
	const char	*start;

	for (;;) {
		while (isspace((unsigned char)*s))
			s++;
		if (*s == '\0')
			return 0;
		start = s;
		while (*s != '\0' && !isspace((unsigned char)*s))
			s++;
		if (strlist_add_take(l, strndup(start, s - start)) == -1)
			return -1;
	}
}

/* Names and addresses. */

/* A section name, also a directory name under state-dir. */
static bool
name_valid(const char *s)
{
	size_t	len = strlen(s);

	if (len == 0 || len > CONFIG_NAME_MAX || strcmp(s, ".") == 0 ||
	    strcmp(s, "..") == 0)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == len;
}

/* A DNS host name of letters, digits and hyphens; NULL or why not. */
static const char *
host_name_check(const char *s, int min_labels)
{
	const char	*label = s, *end;
	size_t		 len;
	int		 labels = 0;
	bool		 digits;

	if (*s == '\0')
		return "empty name";
	if (strlen(s) > 253)
		return "name longer than 253 characters";
	for (;;) {
		end = label + strcspn(label, ".");
		len = end - label;
		if (len == 0)
			return "empty label";
		if (len > 63)
			return "label longer than 63 characters";
		if (strspn(label, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") < len)
			return "bad character (use letters, digits, '-')";
		if (label[0] == '-' || end[-1] == '-')
			return "label starts or ends with '-'";
		digits = strspn(label, "0123456789") == len;
		labels++;
		if (*end == '\0')
			break;
		label = end + 1;
	}
	if (digits)
		return "neither an IP address nor a name";
	if (labels < min_labels)
		return "not a fully qualified name";
	return NULL;
}

static bool
ip_valid(const char *s)
{
	unsigned char	 buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, buf) == 1 ||
	    inet_pton(AF_INET6, s, buf) == 1;
}

/* 1..65535 in decimal digits only; -1 otherwise. */
static int
port_parse(const char *s)
{
	long	 port = 0;

	if (*s == '\0' || strlen(s) > 5 || strspn(s, "0123456789") != strlen(s))
		return -1;
	port = strtol(s, NULL, 10);
	return port >= 1 && port <= 65535 ? (int)port : -1;
}

int
listen_addr_parse(const char *s, char **hostp, int *portp)
{
	char			 host[256];
	const char		*end, *portstr;
	struct in6_addr		 a6;
	struct in_addr		 a4;
	size_t			 len;
	int			 port;

	if (s[0] == '[') {
		if ((end = strchr(s, ']')) == NULL || end[1] != ':')
			return -1;
		len = end - (s + 1);
		portstr = end + 2;
		if (len >= sizeof(host))
			return -1;
		memcpy(host, s + 1, len);
		host[len] = '\0';
		if (inet_pton(AF_INET6, host, &a6) != 1)
			return -1;
	} else {
		if ((end = strchr(s, ':')) == NULL || strchr(end + 1, ':'))
			return -1;	/* no port, or IPv6 without [] */
		len = end - s;
		portstr = end + 1;
		if (len >= sizeof(host))
			return -1;
		memcpy(host, s, len);
		host[len] = '\0';
		if (strcmp(host, "*") == 0)
			host[0] = '\0';
		else if (inet_pton(AF_INET, host, &a4) != 1 &&
		    host_name_check(host, 1) != NULL)
			return -1;
	}
	if ((port = port_parse(portstr)) == -1)
		return -1;
	if (hostp != NULL && (*hostp = strdup(host)) == NULL)
		return -1;
	if (portp != NULL)
		*portp = port;
	return 0;
}

/* ADDR, ADDR:PORT or [IPV6]:PORT; ADDR an IP address, or a name too. */
static bool
server_addr_valid(const char *s, bool names)
{
	char	*host = NULL;
	bool	 ok;

	if (ip_valid(s) || (names && host_name_check(s, 1) == NULL))
		return true;
	if (listen_addr_parse(s, &host, NULL) == -1)
		return false;
	ok = *host != '\0' && (names || ip_valid(host));
	free(host);
	return ok;
}

int
key_spec_parse(const char *s, struct key_spec *ks)
{
	size_t	i;

	for (i = 0; i < sizeof(key_specs) / sizeof(key_specs[0]); i++) {
		if (strcmp(s, key_specs[i].name) == 0) {
			ks->kind = key_specs[i].kind;
			ks->bits = key_specs[i].bits;
			return 0;
		}
	}
	return -1;
}

void
key_spec_format(const struct key_spec *ks, char *buf, size_t len)
{
	size_t	i;

	for (i = 0; i < sizeof(key_specs) / sizeof(key_specs[0]); i++) {
		if (key_spec_equal(ks, &(struct key_spec){ key_specs[i].kind,
		    key_specs[i].bits })) {
			snprintf(buf, len, "%s", key_specs[i].name);
			return;
		}
	}
	if (ks->kind == KEY_RSA)
		snprintf(buf, len, "rsa-%d", ks->bits);
	else
		snprintf(buf, len, "unknown");
}

bool
key_spec_equal(const struct key_spec *a, const struct key_spec *b)
{
	return a->kind == b->kind && (a->kind != KEY_RSA || a->bits == b->bits);
}

/* Value parsers: 0, or -1 after conf_key_error(). */

static int
conf_set_string(struct conf_parser *p, char **dst, const char *value)
{
	char	*s;

	if ((s = strdup(value)) == NULL) {
		conf_key_error(p, "out of memory");
		return -1;
	}
	free(*dst);
	*dst = s;
	return 0;
}

static int
parse_string(struct conf_parser *p, const struct conf_key *k, void *field,
    const char *value)
{
	if (*value == '\0') {
		conf_key_error(p, "must not be empty");
		return -1;
	}
	return conf_set_string(p, field, value);
}

/* Empty means none: NULL. */
static int
parse_string_opt(struct conf_parser *p, const struct conf_key *k,
    void *field, const char *value)
{
	char	**dst = field;

	if (*value != '\0')
		return conf_set_string(p, dst, value);
	free(*dst);
	*dst = NULL;
	return 0;
}

static int
parse_path(struct conf_parser *p, const struct conf_key *k, void *field,
    const char *value)
{
	if (*value != '/') {
		conf_key_error(p, "must be an absolute path");
		return -1;
	}
	return conf_set_string(p, field, value);
}

static int
parse_socket_path(struct conf_parser *p, const struct conf_key *k,
    void *field, const char *value)
{
	struct sockaddr_un	sun;

	if (strlen(value) >= sizeof(sun.sun_path)) {
		conf_key_error(p, "longer than %zu characters",
		    sizeof(sun.sun_path) - 1);
		return -1;
	}
	return parse_path(p, k, field, value);
}

/* A regular file we can open now. */
static int
parse_file(struct conf_parser *p, const struct conf_key *k, void *field,
    const char *value)
{
	struct stat	 st;
	int		 fd, rc = -1;

	if (*value != '/') {
		conf_key_error(p, "must be an absolute path");
		return -1;
	}
	if ((fd = open(value, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) == -1 ||
	    fstat(fd, &st) == -1) {
		conf_key_error(p, "%s: %s", value, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		conf_key_error(p, "%s: not a regular file", value);
		goto out;
	}
	rc = conf_set_string(p, field, value);
out:
	if (fd != -1)
		close(fd);
	return rc;
}

/*
 * A hook command line: split as the daemon will run it (no shell), its
 * program an absolute path to an executable, so a typo shows at
 * --check-config rather than at the first renewal.
 */
static int
parse_hook(struct conf_parser *p, const struct conf_key *k, void *field,
    const char *value)
{
	char	**argv = NULL, *cause = NULL;
	int	  rc = -1;

	if (proc_split_argv(value, &argv, &cause) == -1) {
		conf_key_error(p, "%s", cause != NULL ? cause : "bad command");
		goto out;
	}
	if (argv[0][0] != '/') {
		conf_key_error(p, "%s: must be an absolute path", argv[0]);
		goto out;
	}
	if (access(argv[0], X_OK) == -1) {
		conf_key_error(p, "%s: %s", argv[0], errno == EACCES ?
		    "not executable" : strerror(errno));
		goto out;
	}
	rc = conf_set_string(p, field, value);
out:
	proc_argv_free(argv);
	free(cause);
	return rc;
}

static int
parse_bool(struct conf_parser *p, const struct conf_key *k, void *field,
    const char *value)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t			 i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(value, yes[i]) == 0) {
			*(bool *)field = true;
			return 0;
		}
		if (strcasecmp(value, no[i]) == 0) {
			*(bool *)field = false;
			return 0;
		}
	}
	conf_key_error(p, "expected yes or no");
	return -1;
}

static int
parse_int(struct conf_parser *p, const struct conf_key *k, void *field,
    const char *value)
{
	long long	 n;
	char		*end;

	errno = 0;
	n = strtoll(value, &end, 10);
	if (!isdigit((unsigned char)*value) || *end != '\0') {
		conf_key_error(p, "expected a number");
		return -1;
	}
	if (errno == ERANGE || n < k->min || n > k->max) {
		conf_key_error(p, "must be between %lld and %lld", k->min,
		    k->max);
		return -1;
	}
	*(int *)field = (int)n;
	return 0;
}

static int
parse_duration(struct conf_parser *p, const struct conf_key *k, void *field,
    const char *value)
{
	long long	secs;

	if (duration_parse(value, &secs) == -1) {
		conf_key_error(p, "expected a duration like 90s, 15m, 12h "
		    "or 30d");
		return -1;
	}
	if (secs < k->min) {
		conf_key_error(p, "must be at least %llds", k->min);
		return -1;
	}
	*(long long *)field = secs;
	return 0;
}

static int
parse_renew_before(struct conf_parser *p, const struct conf_key *k,
    void *field, const char *value)
{
	long long	secs;

	if (strcmp(value, "auto") == 0) {
		*(long long *)field = 0;
		return 0;
	}
	if (duration_parse(value, &secs) == -1 || secs <= 0) {
		conf_key_error(p, "expected auto or a duration like 30d");
		return -1;
	}
	*(long long *)field = secs;
	return 0;
}

static int
parse_key_type(struct conf_parser *p, const struct conf_key *k, void *field,
    const char *value)
{
	struct key_spec	ks;

	if (key_spec_parse(value, &ks) == -1) {
		conf_key_error(p, "expected ec-p256, ec-p384, rsa-2048, "
		    "rsa-3072 or rsa-4096");
		return -1;
	}
	if (ks.kind == KEY_RSA && !have_rsa) {
		conf_key_error(p, "%s: not supported yet", value);
		return -1;
	}
	*(struct key_spec *)field = ks;
	return 0;
}

static int
parse_listen(struct conf_parser *p, const struct conf_key *k, void *field,
    const char *value)
{
	if (listen_addr_parse(value, NULL, NULL) == -1) {
		conf_key_error(p, "expected HOST:PORT, [IPV6]:PORT or *:PORT");
		return -1;
	}
	return conf_set_string(p, field, value);
}

/* Empty means off. */
static int
parse_metrics_listen(struct conf_parser *p, const struct conf_key *k,
    void *field, const char *value)
{
	if (*value == '\0')
		return parse_string_opt(p, k, field, value);
	if (!have_metrics) {
		conf_key_error(p, "not supported yet");
		return -1;
	}
	return parse_listen(p, k, field, value);
}

static int
parse_log_level(struct conf_parser *p, const struct conf_key *k, void *field,
    const char *value)
{
	int	level;

	if ((level = log_level_parse(value)) == -1) {
		conf_key_error(p, "expected debug, info, notice, warning "
		    "or err");
		return -1;
	}
	*(int *)field = level;
	return 0;
}

static int
parse_log_target(struct conf_parser *p, const struct conf_key *k,
    void *field, const char *value)
{
	int	i;

	for (i = 0; i < LOG_TARGET__MAX; i++) {
		if (strcmp(value, log_target_names[i]) == 0) {
			*(int *)field = i;
			return 0;
		}
	}
	conf_key_error(p, "expected auto, journal or stderr");
	return -1;
}

static int
parse_url(struct conf_parser *p, const struct conf_key *k, void *field,
    const char *value)
{
	CURLU	*u = NULL;
	char	*scheme = NULL;
	int	 rc = -1;

	if ((u = curl_url()) == NULL) {
		conf_key_error(p, "out of memory");
		goto out;
	}
	if (curl_url_set(u, CURLUPART_URL, value, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0)) {
		conf_key_error(p, "expected an https:// or http:// URL");
		goto out;
	}
	rc = conf_set_string(p, field, value);
out:
	curl_free(scheme);
	curl_url_cleanup(u);
	return rc;
}

/*
 * A list of words, each checked (and maybe rewritten) by check; a word
 * twice is an error.  empty: the reason an empty list is refused, or NULL.
 */
static int
parse_list(struct conf_parser *p, void *field, const char *value,
    const char *empty, int (*check)(struct conf_parser *, char **))
{
	struct strlist	l = { NULL, 0 };
	size_t		i;
	int		rc = -1, bad = 0;

	if (strlist_split(&l, value) == -1) {
		conf_key_error(p, "out of memory");
		goto out;
	}
	if (l.n == 0 && empty != NULL) {
		conf_key_error(p, "%s", empty);
		goto out;
	}
	for (i = 0; i < l.n; i++) {
		if (check != NULL && check(p, &l.v[i]) == -1)
			bad = 1;
		else if (strlist_has(&(struct strlist){ l.v, i }, l.v[i])) {
			conf_key_error(p, "%s: listed twice", l.v[i]);
			bad = 1;
		}
	}
	if (bad)
		goto out;
	strlist_clear(field);
	*(struct strlist *)field = l;
	l.v = NULL;
	l.n = 0;
	rc = 0;
out:
	strlist_clear(&l);
	return rc;
}

static int
contact_check(struct conf_parser *p, char **w)
{
	if (strncmp(*w, "mailto:", 7) == 0 && (*w)[7] != '\0')
		return 0;
	conf_key_error(p, "%s: expected mailto:ADDRESS", *w);
	return -1;
}

static int
parse_contact(struct conf_parser *p, const struct conf_key *k, void *field,
    const char *value)
{
	return parse_list(p, field, value, NULL, contact_check);
}

/* An IP address in its canonical form, or a lowercased (wildcard) name. */
static char *
domain_canon(const char *w, const char **why)
{
	unsigned char	 a[sizeof(struct in6_addr)];
	char		 buf[INET6_ADDRSTRLEN], *s, *c;
	int		 af;

	af = inet_pton(AF_INET, w, a) == 1 ? AF_INET :
	    inet_pton(AF_INET6, w, a) == 1 ? AF_INET6 : AF_UNSPEC;
	if (af != AF_UNSPEC) {
		if (inet_ntop(af, a, buf, sizeof(buf)) == NULL) {
			*why = strerror(errno);
			return NULL;
		}
		w = buf;
	} else if ((*why = host_name_check(strncmp(w, "*.", 2) == 0 ?
	    w + 2 : w, 2)) != NULL)
		return NULL;
	if ((s = strdup(w)) == NULL) {
		*why = "out of memory";
		return NULL;
	}
	for (c = s; *c != '\0'; c++)
		*c = tolower((unsigned char)*c);
	return s;
}

static int
domain_check(struct conf_parser *p, char **w)
{
	const char	*why;
	char		*s;

	if ((s = domain_canon(*w, &why)) == NULL) {
		conf_key_error(p, "%s: %s", *w, why);
		return -1;
	}
	free(*w);
	*w = s;
	return 0;
}

static int
parse_domains(struct conf_parser *p, const struct conf_key *k, void *field,
    const char *value)
{
	return parse_list(p, field, value, "must list at least one name",
	    domain_check);
}

static int
ca_name_check(struct conf_parser *p, char **w)
{
	if (name_valid(*w))
		return 0;
	conf_key_error(p, "%s: not a section name", *w);
	return -1;
}

static int
parse_ca_list(struct conf_parser *p, const struct conf_key *k, void *field,
    const char *value)
{
	if (parse_list(p, field, value, "must name at least one [ca NAME] "
	    "section", ca_name_check) == -1)
		return -1;
	if (((struct strlist *)field)->n > 1 && !have_ca_fallback) {
		conf_key_error(p, "more than one CA (fallback): "
		    "not supported yet");
		return -1;
	}
	return 0;
}

static int
parse_challenge(struct conf_parser *p, const struct conf_key *k,
    void *field, const char *value)
{
	int	i;

	for (i = 0; i < CHALLENGE__MAX; i++)
		if (strcmp(value, challenge_type_names[i]) == 0)
			break;
	if (i == CHALLENGE__MAX) {
		conf_key_error(p, "expected http-01, dns-01 or tls-alpn-01");
		return -1;
	}
	if ((i == CHALLENGE_DNS01 && !have_dns01) ||
	    (i == CHALLENGE_TLSALPN01 && !have_tlsalpn01)) {
		conf_key_error(p, "%s: not supported yet", value);
		return -1;
	}
	*(enum challenge_type *)field = i;
	return 0;
}

static int
parse_server(struct conf_parser *p, const struct conf_key *k, void *field,
    const char *value)
{
	if (!server_addr_valid(value, true)) {
		conf_key_error(p, "expected HOST or HOST:PORT");
		return -1;
	}
	return conf_set_string(p, field, value);
}

static int
resolver_check(struct conf_parser *p, char **w)
{
	if (server_addr_valid(*w, false))
		return 0;
	conf_key_error(p, "%s: expected ADDRESS or ADDRESS:PORT", *w);
	return -1;
}

static int
parse_resolvers(struct conf_parser *p, const struct conf_key *k,
    void *field, const char *value)
{
	return parse_list(p, field, value, "must not be empty",
	    resolver_check);
}

static int
unit_check(struct conf_parser *p, char **w)
{
	const char	*dot = strrchr(*w, '.');

	if (dot != NULL && dot != *w && dot[1] != '\0')
		return 0;
	conf_key_error(p, "%s: expected a unit name like nginx.service", *w);
	return -1;
}

static int
parse_units(struct conf_parser *p, const struct conf_key *k, void *field,
    const char *value)
{
	return parse_list(p, field, value, "must not be empty", unit_check);
}

/* USER or USER:GROUP. */
static int
parse_owner(struct conf_parser *p, const struct conf_key *k, void *field,
    const char *value)
{
	size_t	user = strcspn(value, ":");

	struct conf_cert	*cc = (struct conf_cert *)((char *)field -
				    offsetof(struct conf_cert, key_owner));
	struct passwd		*pw;
	struct group		*gr;
	char			*name;

	if (user == 0 || (value[user] == ':' && (value[user + 1] == '\0' ||
	    strchr(value + user + 1, ':') != NULL)) ||
	    strpbrk(value, " \t") != NULL) {
		conf_key_error(p, "expected USER or USER:GROUP");
		return -1;
	}
	/* Resolved now, so --check-config catches a typo. */
	if ((name = strndup(value, user)) == NULL)
		return -1;
	pw = getpwnam(name);
	free(name);
	if (pw == NULL) {
		conf_key_error(p, "%.*s: no such user", (int)user, value);
		return -1;
	}
	cc->key_uid = pw->pw_uid;
	cc->key_gid = pw->pw_gid;
	if (value[user] == ':') {
		if ((gr = getgrnam(value + user + 1)) == NULL) {
			conf_key_error(p, "%s: no such group", value + user + 1);
			return -1;
		}
		cc->key_gid = gr->gr_gid;
	}
	return conf_set_string(p, field, value);
}

#define D(f)	offsetof(struct conf_daemon, f)
#define A(f)	offsetof(struct conf_ca, f)
#define C(f)	offsetof(struct conf_cert, f)

enum daemon_key {
	DK_STATE_DIR, DK_CONTROL_SOCKET, DK_CONTROL_GROUP, DK_METRICS_LISTEN,
	DK_HTTP01_LISTEN, DK_TLSALPN01_LISTEN, DK_MAX_PARALLEL, DK_LOG_LEVEL,
	DK_LOG_TARGET, DK_HOOK_TIMEOUT, DAEMON_KEY__MAX
};
static const struct conf_key daemon_keys[DAEMON_KEY__MAX] = {
	[DK_STATE_DIR] = { "state-dir", parse_path, D(state_dir), true, 0, 0 },
	[DK_CONTROL_SOCKET] = { "control-socket", parse_socket_path,
	    D(control_socket), true, 0, 0 },
	[DK_CONTROL_GROUP] = { "control-group", parse_string_opt,
	    D(control_group), true, 0, 0 },
	[DK_METRICS_LISTEN] = { "metrics-listen", parse_metrics_listen,
	    D(metrics_listen), true, 0, 0 },
	[DK_HTTP01_LISTEN] = { "http-01-listen", parse_listen,
	    D(http01_listen), true, 0, 0 },
	[DK_TLSALPN01_LISTEN] = { "tls-alpn-01-listen", parse_listen,
	    D(tlsalpn01_listen), true, 0, 0 },
	[DK_MAX_PARALLEL] = { "max-parallel", parse_int, D(max_parallel),
	    true, 1, 1024 },
	[DK_LOG_LEVEL] = { "log-level", parse_log_level, D(log_level),
	    true, 0, 0 },
	[DK_LOG_TARGET] = { "log-target", parse_log_target, D(log_target),
	    true, 0, 0 },
	[DK_HOOK_TIMEOUT] = { "hook-timeout", parse_duration, D(hook_timeout),
	    true, 1, 0 },
};

enum ca_key {
	AK_DIRECTORY, AK_CONTACT, AK_ACCEPT_TOS, AK_ACCOUNT_KEY_TYPE,
	AK_TRUST_BUNDLE, AK_EAB_KID, AK_EAB_HMAC_KEY_FILE, CA_KEY__MAX
};
static const struct conf_key ca_keys[CA_KEY__MAX] = {
	[AK_DIRECTORY] = { "directory", parse_url, A(directory), true, 0, 0 },
	[AK_CONTACT] = { "contact", parse_contact, A(contact), true, 0, 0 },
	[AK_ACCEPT_TOS] = { "accept-tos", parse_bool, A(accept_tos),
	    true, 0, 0 },
	[AK_ACCOUNT_KEY_TYPE] = { "account-key-type", parse_key_type,
	    A(account_key), true, 0, 0 },
	[AK_TRUST_BUNDLE] = { "trust-bundle", parse_file, A(trust_bundle),
	    true, 0, 0 },
	[AK_EAB_KID] = { "eab-kid", parse_string, A(eab_kid), true, 0, 0 },
	[AK_EAB_HMAC_KEY_FILE] = { "eab-hmac-key-file", parse_file,
	    A(eab_hmac_key_file), true, 0, 0 },
};

enum cert_key {
	CK_DOMAINS, CK_CA, CK_CA_FALLBACK_AFTER, CK_KEY_TYPE, CK_REUSE_KEY,
	CK_PREFERRED_CHAIN, CK_PROFILE, CK_CHALLENGE, CK_WEBROOT,
	CK_DNS01_HOOK, CK_DNS01_RFC2136_SERVER, CK_DNS01_TSIG_KEY_FILE,
	CK_DNS01_RESOLVERS, CK_DNS01_PROPAGATION_CHECK,
	CK_DNS01_PROPAGATION_TIMEOUT, CK_RENEW_BEFORE, CK_DEPLOY_HOOK,
	CK_FAILURE_HOOK, CK_RELOAD_UNITS, CK_KEY_OWNER, CERT_KEY__MAX
};
static const struct conf_key cert_keys[CERT_KEY__MAX] = {
	[CK_DOMAINS] = { "domains", parse_domains, C(domains), true, 0, 0 },
	[CK_CA] = { "ca", parse_ca_list, C(ca), true, 0, 0 },
	[CK_CA_FALLBACK_AFTER] = { "ca-fallback-after", parse_int,
	    C(ca_fallback_after), true, 1, 100 },
	[CK_KEY_TYPE] = { "key-type", parse_key_type, C(key), true, 0, 0 },
	[CK_REUSE_KEY] = { "reuse-key", parse_bool, C(reuse_key), true, 0, 0 },
	[CK_PREFERRED_CHAIN] = { "preferred-chain", parse_string,
	    C(preferred_chain), true, 0, 0 },
	[CK_PROFILE] = { "profile", parse_string, C(profile), false, 0, 0 },
	[CK_CHALLENGE] = { "challenge", parse_challenge, C(challenge),
	    true, 0, 0 },
	[CK_WEBROOT] = { "webroot", parse_path, C(webroot), true, 0, 0 },
	[CK_DNS01_HOOK] = { "dns-01-hook", parse_hook, C(dns01_hook),
	    true, 0, 0 },
	[CK_DNS01_RFC2136_SERVER] = { "dns-01-rfc2136-server", parse_server,
	    C(dns01_rfc2136_server), true, 0, 0 },
	[CK_DNS01_TSIG_KEY_FILE] = { "dns-01-tsig-key-file", parse_file,
	    C(dns01_tsig_key_file), true, 0, 0 },
	[CK_DNS01_RESOLVERS] = { "dns-01-resolvers", parse_resolvers,
	    C(dns01_resolvers), true, 0, 0 },
	[CK_DNS01_PROPAGATION_CHECK] = { "dns-01-propagation-check",
	    parse_bool, C(dns01_propagation_check), true, 0, 0 },
	[CK_DNS01_PROPAGATION_TIMEOUT] = { "dns-01-propagation-timeout",
	    parse_duration, C(dns01_propagation_timeout), true, 1, 0 },
	[CK_RENEW_BEFORE] = { "renew-before", parse_renew_before,
	    C(renew_before), true, 0, 0 },
	[CK_DEPLOY_HOOK] = { "deploy-hook", parse_hook, C(deploy_hook),
	    true, 0, 0 },
	[CK_FAILURE_HOOK] = { "failure-hook", parse_hook, C(failure_hook),
	    true, 0, 0 },
	[CK_RELOAD_UNITS] = { "reload-units", parse_units, C(reload_units),
	    true, 0, 0 },
	[CK_KEY_OWNER] = { "key-owner", parse_owner, C(key_owner),
	    true, 0, 0 },
};

#undef D
#undef A
#undef C

_Static_assert(DAEMON_KEY__MAX <= CONF_KEYS_MAX, "CONF_KEYS_MAX too small");
_Static_assert(CA_KEY__MAX <= CONF_KEYS_MAX, "CONF_KEYS_MAX too small");
_Static_assert(CERT_KEY__MAX <= CONF_KEYS_MAX, "CONF_KEYS_MAX too small");

static const struct section_def section_defs[SECTION__MAX] = {
	[SECTION_DAEMON] = { "daemon", false, daemon_keys, DAEMON_KEY__MAX },
	[SECTION_CA] = { "ca", true, ca_keys, CA_KEY__MAX },
	[SECTION_CERT] = { "certificate", true, cert_keys, CERT_KEY__MAX },
};

/* Objects. */

static void
conf_ca_free(struct conf_ca *ca)
{
	if (ca == NULL)
		return;
	free(ca->name);
	free(ca->file);
	free(ca->directory);
	strlist_clear(&ca->contact);
	free(ca->trust_bundle);
	free(ca->eab_kid);
	free(ca->eab_hmac_key_file);
	free(ca);
}

static struct conf_ca *
conf_ca_new(const char *name, const char *file, int line)
{
	struct conf_ca	*ca;

	if ((ca = calloc(1, sizeof(*ca))) == NULL)
		return NULL;
	ca->line = line;
	ca->account_key.kind = KEY_EC_P256;
	if ((ca->name = strdup(name)) == NULL ||
	    (ca->file = strdup(file)) == NULL) {
		conf_ca_free(ca);
		return NULL;
	}
	return ca;
}

static void
conf_cert_free(struct conf_cert *cert)
{
	if (cert == NULL)
		return;
	free(cert->name);
	free(cert->file);
	strlist_clear(&cert->domains);
	strlist_clear(&cert->ca);
	free(cert->preferred_chain);
	free(cert->profile);
	free(cert->webroot);
	free(cert->dns01_hook);
	free(cert->dns01_rfc2136_server);
	free(cert->dns01_tsig_key_file);
	strlist_clear(&cert->dns01_resolvers);
	free(cert->deploy_hook);
	free(cert->failure_hook);
	strlist_clear(&cert->reload_units);
	free(cert->key_owner);
	free(cert);
}

static struct conf_cert *
conf_cert_new(const char *name, const char *file, int line)
{
	struct conf_cert	*cert;

	if ((cert = calloc(1, sizeof(*cert))) == NULL)
		return NULL;
	cert->line = line;
	cert->ca_fallback_after = 3;
	cert->key.kind = KEY_EC_P256;
	cert->challenge = CHALLENGE_HTTP01;
	cert->dns01_propagation_check = true;
	cert->dns01_propagation_timeout = 600;
	cert->renew_before = 0;
	if ((cert->name = strdup(name)) == NULL ||
	    (cert->file = strdup(file)) == NULL) {
		conf_cert_free(cert);
		return NULL;
	}
	return cert;
}

static struct config *
config_new(const char *path)
{
	struct config		*conf;
	struct conf_daemon	*d;

	if ((conf = calloc(1, sizeof(*conf))) == NULL)
		return NULL;
	TAILQ_INIT(&conf->cas);
	TAILQ_INIT(&conf->certs);
	d = &conf->daemon;
	d->max_parallel = 8;
	d->log_level = LOG_INFO;
	d->log_target = LOG_TARGET_AUTO;
	d->hook_timeout = 300;
	d->metrics_listen = NULL;
	if ((conf->path = strdup(path)) == NULL ||
	    (d->state_dir = strdup("/var/lib/acme-renewd")) == NULL ||
	    (d->control_socket = strdup("/run/acme-renewd/control.sock")) ==
	    NULL ||
	    (d->control_group = strdup("acme-renewd")) == NULL ||
	    (d->http01_listen = strdup("[::]:80")) == NULL ||
	    (d->tlsalpn01_listen = strdup("[::]:443")) == NULL) {
		config_free(conf);
		return NULL;
	}
	return conf;
}

void
config_free(struct config *conf)
{
	struct conf_ca		*ca;
	struct conf_cert	*cert;

	if (conf == NULL)
		return;
	while ((ca = TAILQ_FIRST(&conf->cas)) != NULL) {
		TAILQ_REMOVE(&conf->cas, ca, entry);
		conf_ca_free(ca);
	}
	while ((cert = TAILQ_FIRST(&conf->certs)) != NULL) {
		TAILQ_REMOVE(&conf->certs, cert, entry);
		conf_cert_free(cert);
	}
	free(conf->daemon.state_dir);
	free(conf->daemon.control_socket);
	free(conf->daemon.control_group);
	free(conf->daemon.metrics_listen);
	free(conf->daemon.http01_listen);
	free(conf->daemon.tlsalpn01_listen);
	free(conf->path);
	free(conf);
}

void
config_errors_clear(struct config_errors *errs)
{
	size_t	i;

	if (errs == NULL)
		return;
	for (i = 0; i < errs->count; i++)
		free(errs->msg[i]);
	free(errs->msg);
	errs->msg = NULL;
	errs->count = 0;
}

const struct conf_ca *
config_find_ca(const struct config *conf, const char *name)
{
	const struct conf_ca	*ca;

	TAILQ_FOREACH(ca, &conf->cas, entry)
		if (strcmp(ca->name, name) == 0)
			return ca;
	return NULL;
}

const struct conf_cert *
config_find_cert(const struct config *conf, const char *name)
{
	const struct conf_cert	*cert;

	TAILQ_FOREACH(cert, &conf->certs, entry)
		if (strcmp(cert->name, name) == 0)
			return cert;
	return NULL;
}

/* Sections. */

static void
conf_section_free(struct conf_section *sec)
{
	if (sec == NULL)
		return;
	free(sec->label);
	free(sec->file);
	free(sec);
}

/* Makes the section's object, owned by p->conf, and its record. */
static struct conf_section *
conf_section_new(struct conf_parser *p, enum section_type type,
    const char *name, const char *label)
{
	struct conf_section	*sec;
	struct conf_ca		*ca;
	struct conf_cert	*cert;

	if ((sec = calloc(1, sizeof(*sec))) == NULL ||
	    (sec->label = strdup(label)) == NULL ||
	    (sec->file = strdup(p->file)) == NULL)
		goto out;
	sec->type = type;
	sec->line = p->lineno;
	switch (type) {
	case SECTION_DAEMON:
		sec->obj = &p->conf->daemon;
		break;
	case SECTION_CA:
		if ((ca = conf_ca_new(name, p->file, p->lineno)) == NULL)
			break;
		TAILQ_INSERT_TAIL(&p->conf->cas, ca, entry);
		sec->obj = ca;
		break;
	case SECTION_CERT:
		if ((cert = conf_cert_new(name, p->file, p->lineno)) == NULL)
			break;
		TAILQ_INSERT_TAIL(&p->conf->certs, cert, entry);
		sec->obj = cert;
		break;
	default:
		break;
	}
	if (sec->obj != NULL)
		TAILQ_INSERT_TAIL(&p->sections, sec, entry);
out:
	if (sec != NULL && sec->obj == NULL) {
		conf_section_free(sec);
		sec = NULL;
	}
	return sec;
}

/* Checks "[TYPE NAME]" (TYPE and NAME split in place) and its name. */
static int
conf_header_check(struct conf_parser *p, const char *label, char *type,
    char *name, char *extra, enum section_type *typep)
{
	int	i;

	for (i = 0; i < SECTION__MAX; i++)
		if (strcmp(type, section_defs[i].name) == 0)
			break;
	if (i == SECTION__MAX || *extra != '\0') {
		conf_error(p, p->file, p->lineno, label, "%s; expected "
		    "[daemon], [ca NAME] or [certificate NAME]",
		    i == SECTION__MAX ? "unknown section" : "too many words");
		return -1;
	}
	if (section_defs[i].named && *name == '\0') {
		conf_error(p, p->file, p->lineno, label,
		    "missing NAME; expected [%s NAME]", type);
		return -1;
	}
	if (!section_defs[i].named && *name != '\0') {
		conf_error(p, p->file, p->lineno, label,
		    "expected [%s], without a name", type);
		return -1;
	}
	if (section_defs[i].named && !name_valid(name)) {
		conf_error(p, p->file, p->lineno, label, "bad name '%s': use "
		    "up to %d letters, digits, '.', '_' and '-'", name,
		    CONFIG_NAME_MAX);
		return -1;
	}
	*typep = i;
	return 0;
}

/* Cuts the next word out of *sp. */
static char *
conf_word(char **sp)
{
	char	*s = *sp, *w;

	while (isspace((unsigned char)*s))
		s++;
	w = s;
	while (*s != '\0' && !isspace((unsigned char)*s))
		s++;
	if (*s != '\0')
		*s++ = '\0';
	*sp = s;
	return w;
}

/* A section header: line points at '['. */
static void
conf_section_begin(struct conf_parser *p, const char *line)
{
	struct conf_section	*sec;
	enum section_type	 type;
	const char		*end, *rest;
	char			*label = NULL, *words = NULL, *s;
	char			*w1, *w2, *w3;

	p->in_section = true;
	p->cur = NULL;		/* until the header is good */
	if ((end = strchr(line, ']')) == NULL) {
		conf_error(p, p->file, p->lineno, NULL,
		    "syntax error: missing ']'");
		goto out;
	}
	rest = end + 1 + strspn(end + 1, " \t\r\n\v\f");
	if (*rest != '\0' && *rest != ';' && *rest != '#') {
		conf_error(p, p->file, p->lineno, NULL,
		    "syntax error: text after ']'");
		goto out;
	}
	if ((words = strndup(line + 1, end - line - 1)) == NULL) {
		conf_error(p, p->file, p->lineno, NULL, "out of memory");
		goto out;
	}
	s = words;
	w1 = conf_word(&s);
	w2 = conf_word(&s);
	w3 = conf_word(&s);
	if (asprintf(&label, "[%s%s%s%s%s]", w1, *w2 ? " " : "", w2,
	    *w3 ? " " : "", w3) == -1) {
		label = NULL;
		conf_error(p, p->file, p->lineno, NULL, "out of memory");
		goto out;
	}
	if (conf_header_check(p, label, w1, w2, w3, &type) == -1)
		goto out;
	TAILQ_FOREACH(sec, &p->sections, entry) {
		if (strcmp(sec->label, label) == 0) {
			conf_error(p, p->file, p->lineno, label,
			    "duplicate section, first at %s:%d", sec->file,
			    sec->line);
			goto out;
		}
	}
	if ((p->cur = conf_section_new(p, type, w2, label)) == NULL)
		conf_error(p, p->file, p->lineno, NULL, "out of memory");
out:
	free(label);
	free(words);
}

/* inih plumbing. */

/* A KEY = VALUE line that never reached the handler is a syntax error. */
static void
conf_line_check(struct conf_parser *p)
{
	if (!p->pending)
		return;
	p->pending = false;
	conf_error(p, p->file, p->lineno, NULL,
	    "syntax error: expected KEY = VALUE");
}

/* Notes what inih is about to see on the new line. */
static void
conf_line_scan(struct conf_parser *p)
{
	const char	*s = p->line;

	if (p->lineno == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	while (isspace((unsigned char)*s))
		s++;
	if (*s == '\0' || *s == ';' || *s == '#')
		return;
	if (*s == '[')
		conf_section_begin(p, s);
	else
		p->pending = true;
}

static int
conf_line_read(struct conf_parser *p)
{
	ssize_t	n;
	size_t	content;

	errno = 0;
	if ((n = getline(&p->line, &p->linesz, p->fp)) == -1) {
		if (ferror(p->fp))
			p->read_errno = errno != 0 ? errno : EIO;
		return -1;
	}
	p->lineno++;
	p->len = n;
	p->off = 0;
	content = strcspn(p->line, "\r\n");
	if (memchr(p->line, '\0', n) != NULL) {
		conf_error(p, p->file, p->lineno, NULL,
		    "line contains a NUL byte");
	} else if (content > CONF_MAX_LINE - 3 ||
	    (size_t)n > CONF_MAX_LINE - 1) {
		conf_error(p, p->file, p->lineno, NULL,
		    "line longer than %d characters", CONF_MAX_LINE - 3);
	} else {
		conf_line_scan(p);
		return 0;
	}
	/* inih sees an empty line instead, so its line numbers stay ours. */
	strcpy(p->line, "\n");
	p->len = 1;
	return 0;
}

/* An fgets() for ini_parse_stream(), line by line from p->fp. */
static char *
conf_reader(char *str, int num, void *arg)
{
	struct conf_parser	*p = arg;
	size_t			 n;

	if (num < 2)
		return NULL;
	if (p->off == p->len) {
		conf_line_check(p);
		if (conf_line_read(p) == -1)
			return NULL;
	}
	n = p->len - p->off;
	if (n > (size_t)num - 1)
		n = (size_t)num - 1;
	memcpy(str, p->line + p->off, n);
	str[n] = '\0';
	p->off += n;
	return str;
}

static int
conf_handler(void *arg, const char *section, const char *name,
    const char *value, int lineno)
{
	struct conf_parser		*p = arg;
	struct conf_section		*sec = p->cur;
	const struct section_def	*def;
	const struct conf_key		*k;
	size_t				 i;

	p->pending = false;
	if (!p->in_section) {
		conf_error(p, p->file, lineno, name, "not in a section");
		return 0;
	}
	if (sec == NULL)
		return 1;	/* a refused header, reported already */
	if (*name == '\0') {
		conf_error(p, p->file, lineno, NULL,
		    "syntax error: expected KEY = VALUE");
		return 0;
	}
	def = &section_defs[sec->type];
	for (i = 0; i < def->nkeys; i++)
		if (strcmp(name, def->keys[i].name) == 0)
			break;
	if (i == def->nkeys) {
		conf_error(p, p->file, lineno, name, "unknown key in %s",
		    sec->label);
		return 0;
	}
	k = &def->keys[i];
	if (sec->keyline[i] != 0) {
		conf_error(p, p->file, lineno, name,
		    "duplicate key, first on line %d", sec->keyline[i]);
		return 0;
	}
	sec->keyline[i] = lineno;
	p->key = name;
	p->keylineno = lineno;
	if (!k->supported)
		conf_key_error(p, "not supported yet");
	else if (k->parse(p, k, (char *)sec->obj + k->off, value) == 0)
		return 1;
	sec->keybad[i] = true;
	return 0;
}

static void
conf_parse_file(struct conf_parser *p, const char *file)
{
	struct stat	 st;
	size_t		 nerrs = p->errs->count;
	int		 fd, rc;

	/* Non-blocking: a FIFO must not hang us; a regular file ignores it. */
	if ((fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) ==
	    -1 || fstat(fd, &st) == -1) {
		conf_error(p, file, 0, NULL, "%s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		conf_error(p, file, 0, NULL, "not a regular file");
		goto out;
	}
	if ((p->fp = fdopen(fd, "r")) == NULL) {
		conf_error(p, file, 0, NULL, "%s", strerror(errno));
		goto out;
	}
	fd = -1;
	p->file = file;
	p->read_errno = 0;
	p->len = p->off = 0;
	p->lineno = 0;
	p->pending = p->in_section = false;
	p->cur = NULL;
	rc = ini_parse_stream(conf_reader, p, conf_handler, p);
	conf_line_check(p);
	if (p->read_errno != 0)
		conf_error(p, file, 0, NULL, "%s", strerror(p->read_errno));
	else if (rc == -2)
		conf_error(p, file, 0, NULL, "out of memory");
	else if (rc > 0 && p->errs->count == nerrs)
		conf_error(p, file, rc, NULL, "syntax error");
out:
	p->file = NULL;
	p->cur = NULL;
	if (p->fp != NULL)
		fclose(p->fp);
	p->fp = NULL;
	if (fd != -1)
		close(fd);
}

static int
conf_d_filter(const struct dirent *d)
{
	size_t	len = strlen(d->d_name);

	return d->d_name[0] != '.' && len > 5 &&
	    strcmp(d->d_name + len - 5, ".conf") == 0;
}

/* Byte order, whatever the locale. */
static int
conf_d_compare(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Every conf.d/ *.conf beside the main file, in lexical order. */
static void
conf_parse_dir(struct conf_parser *p, const char *path)
{
	const char	 *slash = strrchr(path, '/');
	struct dirent	**ents = NULL;
	char		 *dir = NULL, *file = NULL;
	int		  i, n = 0;

	if (asprintf(&dir, "%.*sconf.d", slash != NULL ?
	    (int)(slash - path + 1) : 0, path) == -1) {
		dir = NULL;
		conf_error(p, path, 0, NULL, "out of memory");
		goto out;
	}
	if ((n = scandir(dir, &ents, conf_d_filter, conf_d_compare)) == -1) {
		n = 0;
		if (errno != ENOENT)
			conf_error(p, dir, 0, NULL, "%s", strerror(errno));
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (asprintf(&file, "%s/%s", dir, ents[i]->d_name) == -1) {
			conf_error(p, dir, 0, NULL, "out of memory");
			goto out;
		}
		conf_parse_file(p, file);
		free(file);
		file = NULL;
	}
out:
	for (i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	free(dir);
}

/* Checks across keys and sections, once every file is read. */

static void
conf_check_ca(struct conf_parser *p, struct conf_section *sec)
{
	if (sec->keyline[AK_DIRECTORY] == 0)
		conf_error(p, sec->file, sec->line, sec->label,
		    "missing required key directory");
}

/* Set, and its value taken. */
static bool
conf_key_ok(const struct conf_section *sec, int key)
{
	return sec->keyline[key] != 0 && !sec->keybad[key];
}

static void
conf_check_challenge(struct conf_parser *p, struct conf_section *sec)
{
	struct conf_cert	*cert = sec->obj;
	int			*line = sec->keyline;
	size_t			 i;

	if (sec->keybad[CK_CHALLENGE])
		return;
	for (i = 0; conf_key_ok(sec, CK_DOMAINS) && i < cert->domains.n; i++) {
		if (cert->domains.v[i][0] == '*' &&
		    cert->challenge != CHALLENGE_DNS01)
			conf_error(p, sec->file, line[CK_DOMAINS], "domains",
			    "%s: wildcards need dns-01", cert->domains.v[i]);
		else if (cert->challenge == CHALLENGE_DNS01 &&
		    ip_valid(cert->domains.v[i]))
			conf_error(p, sec->file, line[CK_DOMAINS], "domains",
			    "%s: IP addresses need http-01 or tls-alpn-01",
			    cert->domains.v[i]);
	}
	if (cert->challenge == CHALLENGE_DNS01 &&
	    (cert->dns01_hook == NULL) == (cert->dns01_rfc2136_server == NULL))
		conf_error(p, sec->file, sec->line, sec->label, "dns-01 needs "
		    "one of dns-01-hook and dns-01-rfc2136-server");
	if (conf_key_ok(sec, CK_DNS01_TSIG_KEY_FILE) &&
	    line[CK_DNS01_RFC2136_SERVER] == 0)
		conf_error(p, sec->file, line[CK_DNS01_TSIG_KEY_FILE],
		    "dns-01-tsig-key-file", "needs dns-01-rfc2136-server");
	if (conf_key_ok(sec, CK_WEBROOT) && cert->challenge != CHALLENGE_HTTP01)
		conf_error(p, sec->file, line[CK_WEBROOT], "webroot",
		    "only for challenge = http-01");
}

static void
conf_check_cert(struct conf_parser *p, struct conf_section *sec)
{
	struct conf_cert	*cert = sec->obj;
	size_t			 i;

	if (sec->keyline[CK_DOMAINS] == 0)
		conf_error(p, sec->file, sec->line, sec->label,
		    "missing required key domains");
	if (sec->keyline[CK_CA] == 0)
		conf_error(p, sec->file, sec->line, sec->label,
		    "missing required key ca");
	else if (conf_key_ok(sec, CK_CA)) {
		for (i = 0; i < cert->ca.n; i++)
			if (config_find_ca(p->conf, cert->ca.v[i]) == NULL)
				conf_error(p, sec->file, sec->keyline[CK_CA],
				    "ca", "no [ca %s] section", cert->ca.v[i]);
	}
	conf_check_challenge(p, sec);
}

static void
conf_check(struct conf_parser *p)
{
	struct conf_section	*sec;

	TAILQ_FOREACH(sec, &p->sections, entry) {
		if (sec->type == SECTION_CA)
			conf_check_ca(p, sec);
		else if (sec->type == SECTION_CERT)
			conf_check_cert(p, sec);
	}
}

/* inih's settings are process-wide: set them before every parse. */
static void
conf_ini_setup(void)
{
	static char	start_prefixes[] = ";#";
	static char	inline_prefixes[] = ";#";

	ini_allow_multiline = false;
	ini_allow_bom = true;
	ini_start_comment_prefixes = start_prefixes;
	ini_allow_inline_comments = true;
	ini_inline_comment_prefixes = inline_prefixes;
	ini_use_stack = false;
	ini_allow_realloc = true;
	ini_max_line = CONF_MAX_LINE;
	ini_stop_on_first_error = false;
	ini_allow_no_value = false;
}

struct config *
config_load(const char *path, struct config_errors *errs)
{
	struct conf_parser	 p;
	struct config_errors	 lost = { NULL, 0 };
	struct conf_section	*sec;

	memset(&p, 0, sizeof(p));
	TAILQ_INIT(&p.sections);
	p.errs = errs != NULL ? errs : &lost;
	if ((p.conf = config_new(path)) == NULL) {
		conf_error(&p, path, 0, NULL, "out of memory");
		goto out;
	}
	conf_ini_setup();
	conf_parse_file(&p, path);
	conf_parse_dir(&p, path);
	conf_check(&p);
out:
	while ((sec = TAILQ_FIRST(&p.sections)) != NULL) {
		TAILQ_REMOVE(&p.sections, sec, entry);
		conf_section_free(sec);
	}
	free(p.line);
	config_errors_clear(&lost);
	if (p.failed) {
		config_free(p.conf);
		return NULL;
	}
	return p.conf;
}

static bool
str_eq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool
strlist_eq(const struct strlist *a, const struct strlist *b)
{
	size_t	i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]) != 0)
			return false;
	return true;
}

bool
config_cert_equal(const struct conf_cert *a, const struct conf_cert *b)
{
	return strcmp(a->name, b->name) == 0 &&
	    strlist_eq(&a->domains, &b->domains) &&
	    strlist_eq(&a->ca, &b->ca) &&
	    a->ca_fallback_after == b->ca_fallback_after &&
	    key_spec_equal(&a->key, &b->key) &&
	    a->reuse_key == b->reuse_key &&
	    str_eq(a->preferred_chain, b->preferred_chain) &&
	    str_eq(a->profile, b->profile) &&
	    a->challenge == b->challenge &&
	    str_eq(a->webroot, b->webroot) &&
	    str_eq(a->dns01_hook, b->dns01_hook) &&
	    str_eq(a->dns01_rfc2136_server, b->dns01_rfc2136_server) &&
	    str_eq(a->dns01_tsig_key_file, b->dns01_tsig_key_file) &&
	    strlist_eq(&a->dns01_resolvers, &b->dns01_resolvers) &&
	    a->dns01_propagation_check == b->dns01_propagation_check &&
	    a->dns01_propagation_timeout == b->dns01_propagation_timeout &&
	    a->renew_before == b->renew_before &&
	    str_eq(a->deploy_hook, b->deploy_hook) &&
	    str_eq(a->failure_hook, b->failure_hook) &&
	    strlist_eq(&a->reload_units, &b->reload_units) &&
	    str_eq(a->key_owner, b->key_owner);
}
