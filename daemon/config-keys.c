/*
 * The keys of each section: one table per section type (name, value
 * parser, offset of the field, and whether the feature behind it is built
 * yet), and the value parsers they name.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <grp.h>
#include <pwd.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "log.h"
#include "timeutil.h"
#include "proc.h"
#include "config-parse.h"

/*
 * Features not built yet.  Their values are parsed and validated already;
 * a config that asks for one is refused with "not supported yet" until the
 * flag (or the key's .supported in the tables below) is flipped.
 */
static const bool have_rsa = true;		/* key-type rsa-* */
static const bool have_dns01 = true;		/* challenge = dns-01 */
static const bool have_tlsalpn01 = true;	/* challenge = tls-alpn-01 */
static const bool have_ca_fallback = true;	/* more than one ca */

const char *const challenge_type_names[CHALLENGE__MAX] = {
	[CHALLENGE_HTTP01] = "http-01",
	[CHALLENGE_DNS01] = "dns-01",
	[CHALLENGE_TLSALPN01] = "tls-alpn-01",
};

/* Word lists. */

void
conf_strlist_clear(struct strlist *l)
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

/* An ACME profile's name as a directory lists it: one printable word. */
static int
parse_profile(struct conf_parser *p, const struct conf_key *k, void *field,
    const char *value)
{
	const char	*s;

	if (*value == '\0') {
		conf_key_error(p, "must not be empty");
		return -1;
	}
	for (s = value; *s != '\0'; s++) {
		if (!isgraph((unsigned char)*s)) {
			conf_key_error(p, "%s: a profile name is one word of "
			    "printable characters", value);
			return -1;
		}
	}
	return conf_set_string(p, field, value);
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

/* A listener's address; empty means that listener is off. */
static int
parse_listen(struct conf_parser *p, const struct conf_key *k, void *field,
    const char *value)
{
	if (*value == '\0')
		return parse_string_opt(p, k, field, value);
	if (listen_addr_parse(value, NULL, NULL) == -1) {
		conf_key_error(p, "expected HOST:PORT, [IPV6]:PORT or *:PORT, "
		    "or nothing for off");
		return -1;
	}
	return conf_set_string(p, field, value);
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
	conf_strlist_clear(field);
	*(struct strlist *)field = l;
	l.v = NULL;
	l.n = 0;
	rc = 0;
out:
	conf_strlist_clear(&l);
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
	} else if ((*why = conf_host_name_check(strncmp(w, "*.", 2) == 0 ?
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
	if (conf_name_valid(*w))
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
	if (!conf_server_addr_valid(value, true)) {
		conf_key_error(p, "expected HOST or HOST:PORT");
		return -1;
	}
	return conf_set_string(p, field, value);
}

static int
resolver_check(struct conf_parser *p, char **w)
{
	if (conf_server_addr_valid(*w, false))
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

static const struct conf_key daemon_keys[DAEMON_KEY__MAX] = {
	[DK_STATE_DIR] = { "state-dir", parse_path, D(state_dir), true, 0, 0 },
	[DK_CONTROL_SOCKET] = { "control-socket", parse_socket_path,
	    D(control_socket), true, 0, 0 },
	[DK_CONTROL_GROUP] = { "control-group", parse_string_opt,
	    D(control_group), true, 0, 0 },
	[DK_METRICS_LISTEN] = { "metrics-listen", parse_listen,
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

static const struct conf_key cert_keys[CERT_KEY__MAX] = {
	[CK_DOMAINS] = { "domains", parse_domains, C(domains), true, 0, 0 },
	[CK_CA] = { "ca", parse_ca_list, C(ca), true, 0, 0 },
	[CK_CA_FALLBACK_AFTER] = { "ca-fallback-after", parse_int,
	    C(ca_fallback_after), true, 1, 100 },
	[CK_KEY_TYPE] = { "key-type", parse_key_type, C(key), true, 0, 0 },
	[CK_REUSE_KEY] = { "reuse-key", parse_bool, C(reuse_key), true, 0, 0 },
	[CK_PREFERRED_CHAIN] = { "preferred-chain", parse_string,
	    C(preferred_chain), true, 0, 0 },
	[CK_PROFILE] = { "profile", parse_profile, C(profile), true, 0, 0 },
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

const struct section_def conf_section_defs[SECTION__MAX] = {
	[SECTION_DAEMON] = { "daemon", false, daemon_keys, DAEMON_KEY__MAX },
	[SECTION_CA] = { "ca", true, ca_keys, CA_KEY__MAX },
	[SECTION_CERT] = { "certificate", true, cert_keys, CERT_KEY__MAX },
};
