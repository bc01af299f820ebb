/*
 * Configuration: the grammar of DESIGN.md "Configuration", parsed with inih.
 *
 * config_load() reads the main file and conf.d/ (config-file.c), each
 * KEY = VALUE through the key table of its section (config-keys.c), then
 * checks what needs more than one key or section.  This file holds the
 * error list, the objects with their defaults, and the lookups.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"
#include "config-parse.h"

/* Errors. */

static void	conf_errorv(struct conf_parser *, const char *, int,
	    const char *, const char *, va_list)
	    __attribute__((format(printf, 5, 0)));

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
void
conf_error(struct conf_parser *p, const char *file, int line,
    const char *what, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	conf_errorv(p, file, line, what, fmt, ap);
	va_end(ap);
}

/* About the key being parsed. */
void
conf_key_error(struct conf_parser *p, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	conf_errorv(p, p->file, p->keylineno, p->key, fmt, ap);
	va_end(ap);
}

/* Objects. */

static void
conf_ca_free(struct conf_ca *ca)
{
	if (ca == NULL)
		return;
	free(ca->name);
	free(ca->file);
	free(ca->directory);
	conf_strlist_clear(&ca->contact);
	free(ca->trust_bundle);
	free(ca->eab_kid);
	free(ca->eab_hmac_key_file);
	free(ca);
}

struct conf_ca *
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
	conf_strlist_clear(&cert->domains);
	conf_strlist_clear(&cert->ca);
	free(cert->preferred_chain);
	free(cert->profile);
	free(cert->webroot);
	free(cert->dns01_hook);
	free(cert->dns01_rfc2136_server);
	free(cert->dns01_tsig_key_file);
	conf_strlist_clear(&cert->dns01_resolvers);
	free(cert->deploy_hook);
	free(cert->failure_hook);
	conf_strlist_clear(&cert->reload_units);
	free(cert->key_owner);
	free(cert);
}

struct conf_cert *
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
	    (d->control_group = strdup(CONFIG_DEFAULT_GROUP)) == NULL ||
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

/* Checks across keys and sections, once every file is read. */

static void
conf_check_ca(struct conf_parser *p, struct conf_section *sec)
{
	if (sec->keyline[AK_DIRECTORY] == 0)
		conf_error(p, sec->file, sec->line, sec->label,
		    "missing required key directory");
	/* External Account Binding takes both. */
	if (sec->keyline[AK_EAB_KID] != 0 &&
	    sec->keyline[AK_EAB_HMAC_KEY_FILE] == 0)
		conf_error(p, sec->file, sec->keyline[AK_EAB_KID], "eab-kid",
		    "needs eab-hmac-key-file");
	if (sec->keyline[AK_EAB_HMAC_KEY_FILE] != 0 &&
	    sec->keyline[AK_EAB_KID] == 0)
		conf_error(p, sec->file, sec->keyline[AK_EAB_HMAC_KEY_FILE],
		    "eab-hmac-key-file", "needs eab-kid");
}

/* Set, and its value taken. */
bool
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
		    conf_ip_valid(cert->domains.v[i]))
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
	conf_check_host(p);
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
	if ((p.labels = json_object()) == NULL ||
	    (p.conf = config_new(path)) == NULL) {
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
	json_decref(p.labels);
	config_errors_clear(&lost);
	if (p.failed) {
		config_free(p.conf);
		return NULL;
	}
	return p.conf;
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
