/*
 * Unit tests for daemon/config.c: every config is written into a fresh
 * mkdtemp directory and loaded; errors are matched exactly, FILE:LINE and
 * key included.  In the expected strings "%D" stands for that directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <errno.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/config.h"

#define MAIN	"acme-renewd.conf"
#define CA_LE	"[ca le]\ndirectory = https://acme.example/dir\n"
#define A13	"aaaaaaaaaaaaa"
#define A65	A13 A13 A13 A13 A13
/* A self-signed certificate: a trust bundle OpenSSL loads. */
#define PEM_CERT \
	"-----BEGIN CERTIFICATE-----\n" \
	"MIIBcDCCARWgAwIBAgIUF/fMhI4y+bM3ARWwke1stO32iBQwCgYIKoZIzj0EAwIw\n" \
	"DDEKMAgGA1UEAwwBdDAgFw0yNjEyMDIyMjU0MjBaGA8yMTI2MTEwODIyNTQyMFow\n" \
	"DDEKMAgGA1UEAwwBdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABPdqBbarEnDJ\n" \
	"sPi25cbKnp1Dgp5yn6CkfdGtZ1mi7UzqOtJWdEfV23oUgTonPYEL3Um6DG89ovtw\n" \
	"kQhJT56wu1KjUzBRMB0GA1UdDgQWBBRUTdekIqdSFu7Ro8m0bTQOP4ANsDAfBgNV\n" \
	"HSMEGDAWgBRUTdekIqdSFu7Ro8m0bTQOP4ANsDAPBgNVHRMBAf8EBTADAQH/MAoG\n" \
	"CCqGSM49BAMCA0kAMEYCIQD3spHQNH5RRT7/KKostrv8URuPomVwP3sXMB7N2G3L\n" \
	"UgIhAJz6yktklm1CIGOrBOk3WYUTUm/70NgObUrwsG6SCjeN\n" \
	"-----END CERTIFICATE-----\n"

struct fixture {
	char			 dir[64];
	char			 main[128];
	struct config_errors	 errs;
	struct config		*conf;
};

static int
setup(void **state)
{
	struct fixture	*f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_config.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->main, sizeof(f->main), "%s/%s", f->dir, MAIN);
	*state = f;
	return 0;
}

static int
rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	config_free(f->conf);
	config_errors_clear(&f->errs);
	nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* Writes rel (under the fixture's directory), making conf.d as needed. */
static void
put(struct fixture *f, const char *rel, const char *text)
{
	char	 path[256];
	FILE	*fp;

	if (strncmp(rel, "conf.d/", 7) == 0) {
		snprintf(path, sizeof(path), "%s/conf.d", f->dir);
		assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
	}
	snprintf(path, sizeof(path), "%s/%s", f->dir, rel);
	assert_non_null(fp = fopen(path, "w"));
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

static struct config *
load(struct fixture *f)
{
	config_free(f->conf);
	config_errors_clear(&f->errs);
	f->conf = config_load(f->main, &f->errs);
	return f->conf;
}

/* The expected message with "%D" replaced by the fixture's directory. */
static char *
expand(const struct fixture *f, const char *want)
{
	char		*out, *o;
	const char	*s;

	assert_non_null(out = malloc(strlen(want) * 2 + 256));
	for (s = want, o = out; *s != '\0'; s++) {
		if (s[0] == '%' && s[1] == 'D') {
			o = stpcpy(o, f->dir);
			s++;
		} else
			*o++ = *s;
	}
	*o = '\0';
	return out;
}

/* Loading fails with exactly these errors, in this order. */
static void
expect_errors(struct fixture *f, ...)
{
	va_list		 ap;
	const char	*want;
	char		*exp;
	size_t		 i, n = 0;

	assert_null(load(f));
	va_start(ap, f);
	while ((want = va_arg(ap, const char *)) != NULL) {
		exp = expand(f, want);
		if (n >= f->errs.count || strcmp(exp, f->errs.msg[n]) != 0) {
			for (i = 0; i < f->errs.count; i++)
				print_message("got: %s\n", f->errs.msg[i]);
			assert_string_equal(exp, n < f->errs.count ?
			    f->errs.msg[n] : "(no more errors)");
		}
		free(exp);
		n++;
	}
	va_end(ap);
	for (i = n; i < f->errs.count; i++)
		print_message("extra: %s\n", f->errs.msg[i]);
	assert_int_equal(f->errs.count, n);
}

static void
expect_ok(struct fixture *f)
{
	size_t	i;

	if (load(f) == NULL)
		for (i = 0; i < f->errs.count; i++)
			print_message("error: %s\n", f->errs.msg[i]);
	assert_non_null(f->conf);
	assert_int_equal(f->errs.count, 0);
}

static void
test_full(void **state)
{
	struct fixture		*f = *state;
	const struct conf_ca	*ca;
	const struct conf_cert	*c;
	const struct conf_daemon *d;
	char			 bundle[128], text[2048];

	snprintf(bundle, sizeof(bundle), "%s/bundle.pem", f->dir);
	put(f, "bundle.pem", PEM_CERT);
	snprintf(text, sizeof(text),
	    "; a comment\n"
	    "# another\n"
	    "[daemon]\n"
	    "state-dir = /srv/acme\n"
	    "control-socket = /run/x/ctl.sock\n"
	    "control-group = root\n"
	    "metrics-listen =\n"
	    "http-01-listen = 127.0.0.1:8080\n"
	    "tls-alpn-01-listen = [::1]:8443\n"
	    "max-parallel = 1024\n"
	    "log-level = debug\n"
	    "log-target = stderr\n"
	    "hook-timeout = 90s\n"
	    "\n"
	    "[ca pebble]\n"
	    "directory = https://localhost:14000/dir\n"
	    "contact = mailto:a@example.com mailto:b@example.com\n"
	    "accept-tos = yes\n"
	    "account-key-type = ec-p384\n"
	    "trust-bundle = %s\n"
	    "\n"
	    "[certificate www]\n"
	    "domains = Example.COM www.example.com 127.0.0.1 2001:DB8:0::1\n"
	    "ca = pebble\n"
	    "ca-fallback-after = 100\n"
	    "key-type = ec-p384\n"
	    "reuse-key = on\n"
	    "challenge = http-01\n"
	    "renew-before = 30d\n", bundle);
	put(f, MAIN, text);
	expect_ok(f);

	d = &f->conf->daemon;
	assert_string_equal(f->conf->path, f->main);
	assert_string_equal(d->state_dir, "/srv/acme");
	assert_string_equal(d->control_socket, "/run/x/ctl.sock");
	assert_string_equal(d->control_group, "root");
	assert_int_equal(d->control_gid, 0);
	assert_null(d->metrics_listen);
	assert_string_equal(d->http01_listen, "127.0.0.1:8080");
	assert_string_equal(d->tlsalpn01_listen, "[::1]:8443");
	assert_int_equal(d->max_parallel, 1024);
	assert_int_equal(d->log_level, LOG_DEBUG);
	assert_int_equal(d->log_target, LOG_TARGET_STDERR);
	assert_int_equal(d->hook_timeout, 90);

	assert_non_null(ca = config_find_ca(f->conf, "pebble"));
	assert_null(config_find_ca(f->conf, "www"));
	assert_string_equal(ca->name, "pebble");
	assert_string_equal(ca->file, f->main);
	assert_int_equal(ca->line, 15);
	assert_string_equal(ca->directory, "https://localhost:14000/dir");
	assert_int_equal(ca->contact.n, 2);
	assert_string_equal(ca->contact.v[0], "mailto:a@example.com");
	assert_string_equal(ca->contact.v[1], "mailto:b@example.com");
	assert_true(ca->accept_tos);
	assert_int_equal(ca->account_key.kind, KEY_EC_P384);
	assert_string_equal(ca->trust_bundle, bundle);
	assert_null(ca->eab_kid);
	assert_null(ca->eab_hmac_key_file);

	assert_non_null(c = config_find_cert(f->conf, "www"));
	assert_null(config_find_cert(f->conf, "pebble"));
	assert_string_equal(c->name, "www");
	assert_int_equal(c->line, 22);
	assert_int_equal(c->domains.n, 4);
	assert_string_equal(c->domains.v[0], "example.com");
	assert_string_equal(c->domains.v[1], "www.example.com");
	assert_string_equal(c->domains.v[2], "127.0.0.1");
	assert_string_equal(c->domains.v[3], "2001:db8::1");
	assert_int_equal(c->ca.n, 1);
	assert_string_equal(c->ca.v[0], "pebble");
	assert_int_equal(c->ca_fallback_after, 100);
	assert_int_equal(c->key.kind, KEY_EC_P384);
	assert_true(c->reuse_key);
	assert_int_equal(c->challenge, CHALLENGE_HTTP01);
	assert_int_equal(c->renew_before, 30 * 86400);
	assert_ptr_equal(TAILQ_FIRST(&f->conf->certs), c);
	assert_null(TAILQ_NEXT(c, entry));
}

static void
test_defaults(void **state)
{
	struct fixture		*f = *state;
	const struct conf_daemon *d;
	const struct conf_ca	*ca;
	const struct conf_cert	*c;

	put(f, MAIN, "");
	expect_ok(f);
	d = &f->conf->daemon;
	assert_string_equal(d->state_dir, "/var/lib/acme-renewd");
	assert_string_equal(d->control_socket, "/run/acme-renewd/control.sock");
	/* The package's group where it is installed, else no group. */
	if (getgrnam("acme-renewd") != NULL) {
		assert_string_equal(d->control_group, "acme-renewd");
		assert_false(d->control_group_absent);
	} else {
		assert_null(d->control_group);
		assert_true(d->control_group_absent);
	}
	assert_null(d->metrics_listen);
	assert_string_equal(d->http01_listen, "[::]:80");
	assert_string_equal(d->tlsalpn01_listen, "[::]:443");
	assert_int_equal(d->max_parallel, 8);
	assert_int_equal(d->log_level, LOG_INFO);
	assert_int_equal(d->log_target, LOG_TARGET_AUTO);
	assert_int_equal(d->hook_timeout, 300);
	assert_true(TAILQ_EMPTY(&f->conf->cas));
	assert_true(TAILQ_EMPTY(&f->conf->certs));

	put(f, MAIN, "[daemon]\n" CA_LE
	    "[certificate www]\ndomains = example.com\nca = le\n");
	expect_ok(f);
	assert_non_null(ca = config_find_ca(f->conf, "le"));
	assert_int_equal(ca->contact.n, 0);
	assert_false(ca->accept_tos);
	assert_int_equal(ca->account_key.kind, KEY_EC_P256);
	assert_null(ca->trust_bundle);
	assert_non_null(c = config_find_cert(f->conf, "www"));
	assert_int_equal(c->ca_fallback_after, 3);
	assert_int_equal(c->key.kind, KEY_EC_P256);
	assert_false(c->reuse_key);
	assert_null(c->preferred_chain);
	assert_null(c->profile);
	assert_int_equal(c->challenge, CHALLENGE_HTTP01);
	assert_null(c->webroot);
	assert_null(c->dns01_hook);
	assert_null(c->dns01_rfc2136_server);
	assert_null(c->dns01_tsig_key_file);
	assert_int_equal(c->dns01_resolvers.n, 0);
	assert_true(c->dns01_propagation_check);
	assert_int_equal(c->dns01_propagation_timeout, 600);
	assert_int_equal(c->renew_before, 0);
	assert_null(c->deploy_hook);
	assert_null(c->failure_hook);
	assert_int_equal(c->reload_units.n, 0);
	assert_null(c->key_owner);

	/* Empty control-group means none; renew-before = auto is 0. */
	put(f, MAIN, "[daemon]\ncontrol-group =\n" CA_LE
	    "[certificate www]\ndomains = example.com\nca = le\n"
	    "renew-before = auto\n");
	expect_ok(f);
	assert_null(f->conf->daemon.control_group);
	assert_false(f->conf->daemon.control_group_absent);
	assert_int_equal(config_find_cert(f->conf, "www")->renew_before, 0);
}

static void
test_unknown_key(void **state)
{
	struct fixture	*f = *state;

	put(f, MAIN, "[daemon]\nstate-dir = /x\nstatedir = /y\n" CA_LE
	    "webroot = /var/www\n");
	expect_errors(f,
	    "%D/" MAIN ":3: statedir: unknown key in [daemon]",
	    "%D/" MAIN ":6: webroot: unknown key in [ca le]", NULL);
}

static void
test_duplicate_key(void **state)
{
	struct fixture	*f = *state;

	put(f, MAIN, CA_LE "\n\ndirectory = https://other.example/\n");
	expect_errors(f,
	    "%D/" MAIN ":5: directory: duplicate key, first on line 2", NULL);
}

static void
test_duplicate_section(void **state)
{
	struct fixture	*f = *state;

	put(f, MAIN, "[daemon]\n[daemon]\n" CA_LE CA_LE);
	expect_errors(f,
	    "%D/" MAIN ":2: [daemon]: duplicate section, first at "
	    "%D/" MAIN ":1",
	    "%D/" MAIN ":5: [ca le]: duplicate section, first at "
	    "%D/" MAIN ":3", NULL);

	/* Across the main file and conf.d, and within conf.d. */
	put(f, MAIN, CA_LE);
	put(f, "conf.d/a.conf", "\n" CA_LE);
	put(f, "conf.d/b.conf", "[certificate x]\ndomains = x.example\n"
	    "ca = le\n[ certificate   x ]\ndomains = y.example\n");
	expect_errors(f,
	    "%D/conf.d/a.conf:2: [ca le]: duplicate section, first at "
	    "%D/" MAIN ":1",
	    "%D/conf.d/b.conf:4: [certificate x]: duplicate section, first "
	    "at %D/conf.d/b.conf:1", NULL);
}

static void
test_confd_order(void **state)
{
	struct fixture		*f = *state;
	const struct conf_cert	*c;

	put(f, MAIN, "[daemon]\n");
	put(f, "conf.d/20-b.conf", "[certificate b]\ndomains = b.example\n"
	    "ca = le\n");
	put(f, "conf.d/10-a.conf", "[certificate a]\ndomains = a.example\n"
	    "ca = le\n");
	put(f, "conf.d/15-ca.conf", CA_LE);
	put(f, "conf.d/README", "not = a [config\n");
	put(f, "conf.d/30-c.conf.bak", "garbage\n");
	put(f, "conf.d/.hidden.conf", "garbage\n");
	put(f, "conf.d/Z.conf", "[certificate Z]\ndomains = z.example\n"
	    "ca = le\n");
	expect_ok(f);
	assert_non_null(c = TAILQ_FIRST(&f->conf->certs));
	assert_string_equal(c->name, "a");
	assert_non_null(c = TAILQ_NEXT(c, entry));
	assert_string_equal(c->name, "b");
	assert_non_null(c = TAILQ_NEXT(c, entry));
	assert_string_equal(c->name, "Z");	/* byte order: '2' < 'Z' */
	assert_null(TAILQ_NEXT(c, entry));
	assert_string_equal(config_find_ca(f->conf, "le")->file +
	    strlen(f->dir), "/conf.d/15-ca.conf");

	/* A duplicate is reported at the later file. */
	put(f, "conf.d/30-dup.conf", "[certificate a]\ndomains = a.example\n"
	    "ca = le\n");
	expect_errors(f,
	    "%D/conf.d/30-dup.conf:1: [certificate a]: duplicate section, "
	    "first at %D/conf.d/10-a.conf:1", NULL);
}

static void
test_bad_values(void **state)
{
	struct fixture	*f = *state;

	put(f, MAIN, "[daemon]\n"
	    "hook-timeout = 5 minutes\n"
	    "http-01-listen = 80\n"
	    "tls-alpn-01-listen = ::1:443\n"
	    "max-parallel = 0\n"
	    "log-level = loud\n"
	    "log-target = syslog\n"
	    "state-dir = relative/dir\n"
	    "[ca le]\n"
	    "directory = ftp://acme.example/dir\n"
	    "accept-tos = maybe\n"
	    "account-key-type = ec-p521\n"
	    "contact = ops@example.com\n"
	    "[certificate www]\n"
	    "domains = example.com\n"
	    "ca = le\n"
	    "ca-fallback-after = 3x\n"
	    "renew-before = soon\n"
	    "key-type = rsa-1024\n"
	    "challenge = http-02\n");
	expect_errors(f,
	    "%D/" MAIN ":2: hook-timeout: expected a duration like 90s, 15m, "
	    "12h or 30d",
	    "%D/" MAIN ":3: http-01-listen: expected HOST:PORT, [IPV6]:PORT "
	    "or *:PORT, or nothing for off",
	    "%D/" MAIN ":4: tls-alpn-01-listen: expected HOST:PORT, "
	    "[IPV6]:PORT or *:PORT, or nothing for off",
	    "%D/" MAIN ":5: max-parallel: must be between 1 and 1024",
	    "%D/" MAIN ":6: log-level: expected debug, info, notice, warning "
	    "or err",
	    "%D/" MAIN ":7: log-target: expected auto, journal or stderr",
	    "%D/" MAIN ":8: state-dir: must be an absolute path",
	    "%D/" MAIN ":10: directory: expected an https:// or http:// URL",
	    "%D/" MAIN ":11: accept-tos: expected yes or no",
	    "%D/" MAIN ":12: account-key-type: expected ec-p256, ec-p384, "
	    "rsa-2048, rsa-3072 or rsa-4096",
	    "%D/" MAIN ":13: contact: ops@example.com: expected "
	    "mailto:ADDRESS",
	    "%D/" MAIN ":17: ca-fallback-after: expected a number",
	    "%D/" MAIN ":18: renew-before: expected auto or a duration like "
	    "30d",
	    "%D/" MAIN ":19: key-type: expected ec-p256, ec-p384, rsa-2048, "
	    "rsa-3072 or rsa-4096",
	    "%D/" MAIN ":20: challenge: expected http-01, dns-01 or "
	    "tls-alpn-01", NULL);

	put(f, MAIN, "[daemon]\nhook-timeout = 0s\nmax-parallel = 1025\n"
	    "control-socket = /" A65 A65 "\n");
	expect_errors(f,
	    "%D/" MAIN ":2: hook-timeout: must be at least 1s",
	    "%D/" MAIN ":3: max-parallel: must be between 1 and 1024",
	    "%D/" MAIN ":4: control-socket: longer than 107 characters", NULL);
}

static void
test_listen_addr_parse(void **state)
{
	char	*host = NULL;
	int	 port = 0;
	size_t	 i;
	static const struct {
		const char	*in, *host;
		int		 port;
	} good[] = {
		{ "127.0.0.1:80", "127.0.0.1", 80 },
		{ "[::1]:80", "::1", 80 },
		{ "[::]:80", "::", 80 },
		{ "*:80", "", 80 },
		{ "localhost:8080", "localhost", 8080 },
		{ "acme.example.com:65535", "acme.example.com", 65535 },
		{ "0.0.0.0:1", "0.0.0.0", 1 },
	};
	static const char *const bad[] = {
		"", "80", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0",
		"127.0.0.1:65536", "127.0.0.1:http", "127.0.0.1:80x",
		"127.0.0.1:-1", "127.0.0.1:+80", "::1:80", "[::1]80", "[::1]",
		"[1.2.3.4]:80", "[nope]:80", ":80", "*:", "exa mple:80",
		"-x.com:80", "a..b:80", "host:80:90", "1.2.3.400:80",
		"127.0.0.1:80 ", "[::1]:8 0",
	};

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(listen_addr_parse(good[i].in, &host, &port),
		    0);
		assert_string_equal(host, good[i].host);
		assert_int_equal(port, good[i].port);
		free(host);
		host = NULL;
	}
	assert_int_equal(listen_addr_parse("*:443", NULL, NULL), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (listen_addr_parse(bad[i], &host, &port) != -1)
			fail_msg("accepted '%s'", bad[i]);
		assert_null(host);
	}
}

static void
test_key_spec(void **state)
{
	struct key_spec	ks, other;
	char		buf[16];
	size_t		i;
	static const char *const good[] = {
		"ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096",
	};
	static const char *const bad[] = {
		"", "ec-p521", "rsa-1024", "rsa-2047", "rsa-8192", "rsa-",
		"rsa", "EC-P256", "ec-p256 ", "rsa-02048",
	};

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(key_spec_parse(good[i], &ks), 0);
		key_spec_format(&ks, buf, sizeof(buf));
		assert_string_equal(buf, good[i]);
	}
	assert_int_equal(key_spec_parse("rsa-3072", &ks), 0);
	assert_int_equal(ks.kind, KEY_RSA);
	assert_int_equal(ks.bits, 3072);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(key_spec_parse(bad[i], &ks), -1);

	assert_int_equal(key_spec_parse("rsa-2048", &ks), 0);
	assert_int_equal(key_spec_parse("rsa-4096", &other), 0);
	assert_false(key_spec_equal(&ks, &other));
	assert_int_equal(key_spec_parse("rsa-2048", &other), 0);
	assert_true(key_spec_equal(&ks, &other));
	assert_int_equal(key_spec_parse("ec-p256", &ks), 0);
	assert_int_equal(key_spec_parse("ec-p384", &other), 0);
	assert_false(key_spec_equal(&ks, &other));
	ks.bits = 7;	/* ignored for EC */
	other.kind = KEY_EC_P256;
	assert_true(key_spec_equal(&ks, &other));
	assert_string_equal(challenge_type_names[CHALLENGE_TLSALPN01],
	    "tls-alpn-01");
}

static void
test_rsa_keys(void **state)
{
	struct fixture	*f = *state;
	const struct conf_cert	*cc;

	put(f, MAIN, "[ca le]\ndirectory = https://acme.example/dir\n"
	    "account-key-type = rsa-2048\n"
	    "[certificate www]\ndomains = example.com\nca = le\n"
	    "key-type = rsa-4096\n");
	expect_ok(f);
	assert_int_equal(config_find_ca(f->conf, "le")->account_key.kind,
	    KEY_RSA);
	assert_int_equal(config_find_ca(f->conf, "le")->account_key.bits,
	    2048);
	assert_non_null(cc = config_find_cert(f->conf, "www"));
	assert_int_equal(cc->key.kind, KEY_RSA);
	assert_int_equal(cc->key.bits, 4096);
}

/* The keys of every challenge: files that must exist, hooks that run. */
static void
test_challenge_keys(void **state)
{
	struct fixture	*f = *state;
	char		*hook, *cmd;

	assert_true(asprintf(&hook, "%s/hook.sh", f->dir) != -1);
	put(f, "hook.sh", "#!/bin/sh\nexit 0\n");
	put(f, MAIN, CA_LE "[certificate a]\ndomains = *.example.com\n"
	    "ca = le\nchallenge = dns-01\n"
	    "dns-01-hook = /nonexistent/hook add\n"
	    "[certificate b]\ndomains = b.example.com\nca = le\n"
	    "challenge = dns-01\ndns-01-rfc2136-server = 127.0.0.1:5353\n"
	    "dns-01-tsig-key-file = /nonexistent/tsig.key\n"
	    "[certificate c]\ndomains = c.example.com\nca = le\n"
	    "challenge = dns-01\ndns-01-hook = relative/hook\n");
	/* A refused hook also leaves its certificate without a method. */
	expect_errors(f,
	    "%D/" MAIN ":7: dns-01-hook: /nonexistent/hook: No such file or "
	    "directory",
	    "%D/" MAIN ":13: dns-01-tsig-key-file: /nonexistent/tsig.key: No "
	    "such file or directory",
	    "%D/" MAIN ":18: dns-01-hook: relative/hook: must be an absolute "
	    "path",
	    "%D/" MAIN ":3: [certificate a]: dns-01 needs one of dns-01-hook "
	    "and dns-01-rfc2136-server",
	    "%D/" MAIN ":14: [certificate c]: dns-01 needs one of dns-01-hook "
	    "and dns-01-rfc2136-server", NULL);

	/* A hook that exists but cannot be run. */
	assert_int_equal(chmod(hook, 0644), 0);
	assert_true(asprintf(&cmd, CA_LE "[certificate a]\n"
	    "domains = a.example.com\nca = le\nchallenge = dns-01\n"
	    "dns-01-hook = '%s' --flag\n", hook) != -1);
	put(f, MAIN, cmd);
	config_errors_clear(&f->errs);
	assert_null(load(f));
	assert_int_equal(f->errs.count, 2);	/* and "needs one of" */
	assert_non_null(strstr(f->errs.msg[0], "dns-01-hook: "));
	assert_non_null(strstr(f->errs.msg[0], "not executable"));

	/* Executable: accepted, the command line kept as written. */
	assert_int_equal(chmod(hook, 0755), 0);
	config_errors_clear(&f->errs);
	assert_non_null(f->conf = load(f));
	assert_non_null(strstr(config_find_cert(f->conf, "a")->dns01_hook,
	    "--flag"));
	free(cmd);
	free(hook);
}

static void
test_ca_reference(void **state)
{
	struct fixture	*f = *state;

	put(f, MAIN, CA_LE "[certificate www]\ndomains = example.com\n"
	    "ca = zerossl\n[certificate b]\ndomains = b.example\n"
	    "ca = bad/name\n");
	expect_errors(f,
	    "%D/" MAIN ":8: ca: bad/name: not a section name",
	    "%D/" MAIN ":5: ca: no [ca zerossl] section", NULL);

	/* A [ca] defined in a later conf.d file is found. */
	put(f, MAIN, "[certificate www]\ndomains = example.com\nca = le\n");
	put(f, "conf.d/ca.conf", CA_LE);
	expect_ok(f);
}

static void
test_required(void **state)
{
	struct fixture	*f = *state;

	put(f, MAIN, "[ca le]\ncontact = mailto:a@example.com\n"
	    "[certificate none]\n"
	    "[certificate empty]\ndomains =\nca =\n"
	    "[certificate ok]\ndomains = example.com\nca = le\n");
	expect_errors(f,
	    "%D/" MAIN ":5: domains: must list at least one name",
	    "%D/" MAIN ":6: ca: must name at least one [ca NAME] section",
	    "%D/" MAIN ":1: [ca le]: missing required key directory",
	    "%D/" MAIN ":3: [certificate none]: missing required key domains",
	    "%D/" MAIN ":3: [certificate none]: missing required key ca",
	    NULL);
}

static void
test_domains(void **state)
{
	struct fixture		*f = *state;
	const struct conf_cert	*c;

	put(f, MAIN, CA_LE "[certificate www]\n"
	    "domains = exa mple -x.com a..b x.com. x_y.com 1.2.3.400 "
	    "x.com/ *.*.x.com x.-com ok.example OK.Example\n"
	    "ca = le\n");
	expect_errors(f,
	    "%D/" MAIN ":4: domains: exa: not a fully qualified name",
	    "%D/" MAIN ":4: domains: mple: not a fully qualified name",
	    "%D/" MAIN ":4: domains: -x.com: label starts or ends with '-'",
	    "%D/" MAIN ":4: domains: a..b: empty label",
	    "%D/" MAIN ":4: domains: x.com.: empty label",
	    "%D/" MAIN ":4: domains: x_y.com: bad character (use letters, "
	    "digits, '-')",
	    "%D/" MAIN ":4: domains: 1.2.3.400: neither an IP address nor a "
	    "name",
	    "%D/" MAIN ":4: domains: x.com/: bad character (use letters, "
	    "digits, '-')",
	    "%D/" MAIN ":4: domains: *.*.x.com: bad character (use letters, "
	    "digits, '-')",
	    "%D/" MAIN ":4: domains: x.-com: label starts or ends with '-'",
	    "%D/" MAIN ":4: domains: ok.example: listed twice", NULL);

	put(f, MAIN, CA_LE "[certificate www]\n"
	    "domains = 192.0.2.1 ::FFFF:192.0.2.1 xn--bcher-kva.example "
	    "2001:db8::1 2001:0db8:0:0::1\n"
	    "ca = le\n");
	expect_errors(f,
	    "%D/" MAIN ":4: domains: 2001:db8::1: listed twice", NULL);

	put(f, MAIN, CA_LE "[certificate www]\n"
	    "domains =   A.Example\tb-1.example  \n"
	    "ca = le\n");
	expect_ok(f);
	c = config_find_cert(f->conf, "www");
	assert_int_equal(c->domains.n, 2);
	assert_string_equal(c->domains.v[0], "a.example");
	assert_string_equal(c->domains.v[1], "b-1.example");
}

static void
test_missing_main(void **state)
{
	struct fixture	*f = *state;

	expect_errors(f, "%D/" MAIN ": No such file or directory", NULL);

	snprintf(f->main, sizeof(f->main), "%s/file/" MAIN, f->dir);
	put(f, "file", "");
	expect_errors(f, "%D/file/" MAIN ": Not a directory",
	    "%D/file/conf.d: Not a directory", NULL);

	snprintf(f->main, sizeof(f->main), "%s/conf.d", f->dir);
	put(f, "conf.d/a.conf", "");
	expect_errors(f, "%D/conf.d: not a regular file", NULL);

	/* Unreadable: only a non-root user can be refused. */
	snprintf(f->main, sizeof(f->main), "%s/%s", f->dir, MAIN);
	put(f, MAIN, "");
	assert_int_equal(chmod(f->main, 0), 0);
	if (geteuid() != 0)
		expect_errors(f, "%D/" MAIN ": Permission denied", NULL);
	else
		expect_ok(f);
}

static void
test_trust_bundle(void **state)
{
	struct fixture	*f = *state;
	char		*text;

	/* put() does not expand %D. */
	text = expand(f, CA_LE "trust-bundle = %D/missing.pem\n"
	    "[ca dir]\ndirectory = http://acme.example/dir\n"
	    "trust-bundle = /\n[ca rel]\ndirectory = http://x.example/\n"
	    "trust-bundle = bundle.pem\n");
	put(f, MAIN, text);
	free(text);
	expect_errors(f,
	    "%D/" MAIN ":3: trust-bundle: %D/missing.pem: No such file or "
	    "directory",
	    "%D/" MAIN ":6: trust-bundle: /: not a regular file",
	    "%D/" MAIN ":9: trust-bundle: must be an absolute path", NULL);
}

/*
 * control-group: a group that exists is resolved; one that does not is
 * an error at its line; the default may be missing (then nobody).
 */
static void
test_control_group(void **state)
{
	struct fixture	*f = *state;

	put(f, MAIN, "[daemon]\ncontrol-group = root\n");
	expect_ok(f);
	assert_string_equal(f->conf->daemon.control_group, "root");
	assert_int_equal(f->conf->daemon.control_gid, 0);
	assert_false(f->conf->daemon.control_group_absent);

	put(f, MAIN, "[daemon]\nlog-level = info\n"
	    "control-group = no-such-group-acme\n");
	expect_errors(f, "%D/" MAIN ":3: control-group: no-such-group-acme: "
	    "no such group", NULL);
}

/*
 * An empty *-listen turns that listener off; a certificate that needs
 * it is an error naming both lines.  A listener no certificate uses is
 * never checked.
 */
static void
test_listeners_off(void **state)
{
	struct fixture	*f = *state;
	char		*text;

	put(f, MAIN, "[daemon]\nhttp-01-listen =\ntls-alpn-01-listen =\n"
	    "metrics-listen =\n" CA_LE
	    "[certificate www]\ndomains = www.example.com\nca = le\n"
	    "[certificate edge]\ndomains = edge.example.com\nca = le\n"
	    "challenge = tls-alpn-01\n");			/* 13 */
	expect_errors(f,
	    "%D/" MAIN ":7: [certificate www]: http-01 without webroot needs "
	    "http-01-listen, which is off (%D/" MAIN ":2)",
	    "%D/" MAIN ":13: challenge: tls-alpn-01 needs tls-alpn-01-listen, "
	    "which is off (%D/" MAIN ":3)", NULL);

	/* webroot and dns-01 need no listener. */
	text = expand(f, "[daemon]\nhttp-01-listen =\ntls-alpn-01-listen =\n"
	    CA_LE "[certificate blog]\ndomains = blog.example.com\nca = le\n"
	    "webroot = %D\n"
	    "[certificate api]\ndomains = api.example.com\nca = le\n"
	    "challenge = dns-01\ndns-01-rfc2136-server = 127.0.0.1\n");
	put(f, MAIN, text);
	free(text);
	expect_ok(f);
	assert_null(f->conf->daemon.http01_listen);
	assert_null(f->conf->daemon.tlsalpn01_listen);

	/* Unused, an address this machine lacks is not an error. */
	put(f, MAIN, "[daemon]\ntls-alpn-01-listen = 192.0.2.1:443\n");
	expect_ok(f);
}

/* Listeners in use must bind here, each on a port of its own. */
static void
test_listeners_bind(void **state)
{
	struct fixture	*f = *state;

	put(f, MAIN, "[daemon]\nhttp-01-listen = 192.0.2.1:80\n" CA_LE
	    "[certificate www]\ndomains = www.example.com\nca = le\n");
	expect_errors(f, "%D/" MAIN ":2: http-01-listen: 192.0.2.1:80: cannot "
	    "listen there: Cannot assign requested address", NULL);

	put(f, MAIN, "[daemon]\nhttp-01-listen = 127.0.0.1:8080\n"
	    "metrics-listen = 127.0.0.1:8080\n" CA_LE
	    "[certificate www]\ndomains = www.example.com\nca = le\n");
	expect_errors(f, "%D/" MAIN ":3: metrics-listen: 127.0.0.1:8080: the "
	    "same port as http-01-listen = 127.0.0.1:8080 (%D/" MAIN ":2)",
	    NULL);

	/* "*" shares its port with every address; other ports are fine. */
	put(f, MAIN, "[daemon]\nhttp-01-listen = *:8080\n"
	    "tls-alpn-01-listen = 127.0.0.1:8443\n"
	    "metrics-listen = 127.0.0.1:8080\n" CA_LE
	    "[certificate www]\ndomains = www.example.com\nca = le\n"
	    "[certificate edge]\ndomains = edge.example.com\nca = le\n"
	    "challenge = tls-alpn-01\n");
	expect_errors(f, "%D/" MAIN ":4: metrics-listen: 127.0.0.1:8080: the "
	    "same port as http-01-listen = *:8080 (%D/" MAIN ":2)", NULL);

	put(f, MAIN, "[daemon]\nhttp-01-listen = 127.0.0.1:8080\n"
	    "metrics-listen = 127.0.0.2:8080\n" CA_LE
	    "[certificate www]\ndomains = www.example.com\nca = le\n");
	expect_ok(f);
}

/* state-dir and control-socket: nothing in the way of making them. */
static void
test_host_paths(void **state)
{
	struct fixture	*f = *state;
	char		*text;

	put(f, "file", "x");
	text = expand(f, "[daemon]\nstate-dir = %D/file/state\n"
	    "control-socket = %D/file\n");
	put(f, MAIN, text);
	free(text);
	expect_errors(f,
	    "%D/" MAIN ":2: state-dir: %D/file/state: %D/file is not a "
	    "directory",
	    "%D/" MAIN ":3: control-socket: %D/file exists and is not a socket",
	    NULL);

	text = expand(f, "[daemon]\nstate-dir = %D/new/state\n"
	    "control-socket = %D/file/ctl.sock\n");
	put(f, MAIN, text);
	free(text);
	expect_errors(f, "%D/" MAIN ":3: control-socket: %D/file/ctl.sock: "
	    "%D/file is not a directory", NULL);
}

/*
 * What the files hold: certificates, an EAB key, a TSIG key.  A webroot
 * that does not exist (yet) is the renewal's business.
 */
static void
test_host_files(void **state)
{
	struct fixture	*f = *state;
	char		*text;

	put(f, "empty.pem", "not a certificate\n");
	put(f, "good.pem", PEM_CERT);
	put(f, "eab.key", "!!not base64url!!\n");
	put(f, "tsig.key", "key \"k\" { algorithm hmac-sha256; };\n");
	text = expand(f, "[ca a]\ndirectory = https://a.example/dir\n"
	    "trust-bundle = %D/empty.pem\n"
	    "eab-kid = kid-1\n"
	    "eab-hmac-key-file = %D/eab.key\n"			/* 5 */
	    "[ca b]\ndirectory = https://b.example/dir\n"
	    "trust-bundle = %D/good.pem\n"
	    "eab-kid = kid-2\n"					/* 9 */
	    "[ca c]\ndirectory = https://c.example/dir\n"
	    "trust-bundle = %D/empty.pem\n"			/* 12 */
	    "[certificate d]\ndomains = d.example.com\nca = b\n"
	    "challenge = dns-01\ndns-01-rfc2136-server = 127.0.0.1\n"
	    "dns-01-tsig-key-file = %D/tsig.key\n"		/* 18 */
	    "[certificate w]\ndomains = w.example.com\nca = b\n"
	    "webroot = %D/nowhere\n");				/* 22 */
	put(f, MAIN, text);
	free(text);
	expect_errors(f,
	    "%D/" MAIN ":9: eab-kid: needs eab-hmac-key-file",
	    "%D/" MAIN ":3: trust-bundle: %D/empty.pem: no PEM certificate in "
	    "it (no certificate or crl found)",
	    "%D/" MAIN ":5: eab-hmac-key-file: %D/eab.key: not a base64url key",
	    "%D/" MAIN ":12: trust-bundle: %D/empty.pem: no PEM certificate in "
	    "it (no certificate or crl found)",
	    "%D/" MAIN ":18: dns-01-tsig-key-file: %D/tsig.key: key \"k\" has "
	    "no secret", NULL);
}

static void
test_wildcard(void **state)
{
	struct fixture	*f = *state;

	put(f, MAIN, CA_LE "[certificate w]\n"
	    "domains = example.com *.Example.com\nca = le\n");
	expect_errors(f,
	    "%D/" MAIN ":4: domains: *.example.com: wildcards need dns-01",
	    NULL);
}

static void
test_profile(void **state)
{
	struct fixture		*f = *state;
	const struct conf_cert	*c;

	/* Every feature is built: profile, fallback CAs, metrics. */
	put(f, MAIN, "[daemon]\nmetrics-listen = 127.0.0.1:9565\n"
	    "[ca le]\ndirectory = https://acme.example/dir\n"
	    "[ca zerossl]\ndirectory = https://acme.zerossl.example/dir\n"
	    "[certificate www]\n"
	    "domains = example.com\n"
	    "ca = le zerossl\n"				/* 9 */
	    "profile = tlsserver\n");
	expect_ok(f);
	assert_non_null(c = config_find_cert(f->conf, "www"));
	assert_string_equal(c->profile, "tlsserver");

	put(f, MAIN, CA_LE "[certificate www]\n"
	    "domains = example.com\nca = le\n"
	    "profile = short lived\n"				/* 6 */
	    "[certificate two]\ndomains = example.org\nca = le\n"
	    "profile =\n");
	expect_errors(f,
	    "%D/" MAIN ":6: profile: short lived: a profile name is one word "
	    "of printable characters",
	    "%D/" MAIN ":10: profile: must not be empty", NULL);
}

static void
test_inline_comments(void **state)
{
	struct fixture	*f = *state;

	put(f, MAIN, "[daemon]   # the daemon\n"
	    "max-parallel = 8   # renewals at once\n"
	    "log-level = debug ; semicolon too\n"
	    "control-socket = /run/acme#1/ctl.sock\n"
	    "  hook-timeout = 1h   \n"
	    "[ca le] ; the CA\n"
	    "directory = https://acme.example/dir#frag\n");
	expect_ok(f);
	assert_int_equal(f->conf->daemon.max_parallel, 8);
	assert_int_equal(f->conf->daemon.log_level, LOG_DEBUG);
	assert_string_equal(f->conf->daemon.control_socket,
	    "/run/acme#1/ctl.sock");
	assert_int_equal(f->conf->daemon.hook_timeout, 3600);
	assert_string_equal(config_find_ca(f->conf, "le")->directory,
	    "https://acme.example/dir#frag");
}

static void
test_long_line(void **state)
{
	struct fixture		*f = *state;
	const struct conf_cert	*c;
	char			*text, *p;
	size_t			 i, n = 40, huge = 70000;

	/* 40 names of 12+ characters: a line of ~560. */
	assert_non_null(text = malloc(huge + 256));
	p = stpcpy(text, CA_LE "[certificate big]\nca = le\ndomains =");
	for (i = 0; i < n; i++)
		p += sprintf(p, " host%03zu.example", i);
	strcpy(p, "\n");
	put(f, MAIN, text);
	expect_ok(f);
	c = config_find_cert(f->conf, "big");
	assert_int_equal(c->domains.n, n);
	assert_string_equal(c->domains.v[n - 1], "host039.example");

	/* The longest line inih's buffer takes. */
	p = stpcpy(text, "[daemon]\nstate-dir = /");
	memset(p, 'a', 65520);
	strcpy(p + 65520, "\n");
	put(f, MAIN, text);
	expect_ok(f);
	assert_int_equal(strlen(f->conf->daemon.state_dir), 65521);

	/* Longer than inih's buffer: an error, not a cut line. */
	p = stpcpy(text, "[daemon]\nstate-dir = /");
	memset(p, 'a', huge);
	strcpy(p + huge, "\nlog-level = bad\n");
	put(f, MAIN, text);
	free(text);
	expect_errors(f,
	    "%D/" MAIN ":2: line longer than 65533 characters",
	    "%D/" MAIN ":3: log-level: expected debug, info, notice, warning "
	    "or err", NULL);
}

static void
test_sections(void **state)
{
	struct fixture	*f = *state;

	put(f, MAIN, "log-level = info\n"
	    "[daemon extra]\nlog-level = info\n"
	    "[ca]\ndirectory = x\n"
	    "[certificate bad!name]\n"
	    "[certificate ..]\n"
	    "[cert www]\n"
	    "[ca a b]\n"
	    "[ca le\n"
	    "[ca le] junk\n"
	    "[]\n"
	    "[certificate " A65 "]\n"
	    "[certificate ok.name_1-2]\ndomains = example.com\nca = le\n"
	    "[ca le]\ndirectory = https://acme.example/\n");
	expect_errors(f,
	    "%D/" MAIN ":1: log-level: not in a section",
	    "%D/" MAIN ":2: [daemon extra]: expected [daemon], without a name",
	    "%D/" MAIN ":4: [ca]: missing NAME; expected [ca NAME]",
	    "%D/" MAIN ":6: [certificate bad!name]: bad name 'bad!name': use "
	    "up to 64 letters, digits, '.', '_' and '-'",
	    "%D/" MAIN ":7: [certificate ..]: bad name '..': use up to 64 "
	    "letters, digits, '.', '_' and '-'",
	    "%D/" MAIN ":8: [cert www]: unknown section; expected [daemon], "
	    "[ca NAME] or [certificate NAME]",
	    "%D/" MAIN ":9: [ca a b]: too many words; expected [daemon], "
	    "[ca NAME] or [certificate NAME]",
	    "%D/" MAIN ":10: syntax error: missing ']'",
	    "%D/" MAIN ":11: syntax error: text after ']'",
	    "%D/" MAIN ":12: []: unknown section; expected [daemon], "
	    "[ca NAME] or [certificate NAME]",
	    "%D/" MAIN ":13: [certificate " A65 "]: bad name '" A65 "': use "
	    "up to 64 letters, digits, '.', '_' and '-'", NULL);

	/* Keys before any header of a conf.d file are not in a section. */
	put(f, MAIN, "[daemon]\n");
	put(f, "conf.d/a.conf", "\nmax-parallel = 2\n");
	expect_errors(f, "%D/conf.d/a.conf:2: max-parallel: not in a section",
	    NULL);
}

static void
test_syntax_errors(void **state)
{
	struct fixture	*f = *state;

	put(f, MAIN, "[daemon]\n"
	    "max-parallel 8\n"
	    "max-parallel = 4\n"
	    "  continued\n"
	    "= value\n"
	    "log-level : debug\n"
	    "just words # = not a key\n");
	expect_errors(f,
	    "%D/" MAIN ":2: syntax error: expected KEY = VALUE",
	    "%D/" MAIN ":4: syntax error: expected KEY = VALUE",
	    "%D/" MAIN ":5: syntax error: expected KEY = VALUE",
	    "%D/" MAIN ":7: syntax error: expected KEY = VALUE", NULL);
}

static void
test_multiple_errors(void **state)
{
	struct fixture	*f = *state;

	put(f, MAIN, "[daemon]\nmax-parallel = lots\nbogus = 1\n"
	    "[ca le]\naccept-tos = perhaps\n");
	put(f, "conf.d/10-www.conf", "[certificate www]\n"
	    "domains = *.example.com\nca = zerossl\nkey-type = rsa-1024\n"
	    "renew-before = 0s\n");
	put(f, "conf.d/20-api.conf", "[certificate api]\nca = le\n"
	    "hook-timeout = 5m\n");
	expect_errors(f,
	    "%D/" MAIN ":2: max-parallel: expected a number",
	    "%D/" MAIN ":3: bogus: unknown key in [daemon]",
	    "%D/" MAIN ":5: accept-tos: expected yes or no",
	    "%D/conf.d/10-www.conf:4: key-type: expected ec-p256, ec-p384, "
	    "rsa-2048, rsa-3072 or rsa-4096",
	    "%D/conf.d/10-www.conf:5: renew-before: expected auto or a "
	    "duration like 30d",
	    "%D/conf.d/20-api.conf:3: hook-timeout: unknown key in "
	    "[certificate api]",
	    "%D/" MAIN ":4: [ca le]: missing required key directory",
	    "%D/conf.d/10-www.conf:3: ca: no [ca zerossl] section",
	    "%D/conf.d/10-www.conf:2: domains: *.example.com: wildcards need "
	    "dns-01",
	    "%D/conf.d/20-api.conf:1: [certificate api]: missing required "
	    "key domains", NULL);
}

static void
test_errors_clear(void **state)
{
	struct config_errors	errs = { NULL, 0 };

	config_errors_clear(&errs);
	config_errors_clear(NULL);
	config_free(NULL);
	assert_null(config_load("/nonexistent/acme-renewd.conf", NULL));
	assert_null(config_load("/nonexistent/acme-renewd.conf", &errs));
	assert_int_equal(errs.count, 1);
	assert_string_equal(errs.msg[0],
	    "/nonexistent/acme-renewd.conf: No such file or directory");
	/* Appends. */
	assert_null(config_load("/nonexistent/x.conf", &errs));
	assert_int_equal(errs.count, 2);
	config_errors_clear(&errs);
	assert_int_equal(errs.count, 0);
	assert_null(errs.msg);
}

/* The top of the source tree: $SRCDIR, else from this file's path. */
static char *
srcdir_path(const char *rel)
{
	const char	*src = getenv("SRCDIR"), *me = __FILE__;
	const char	*tail = "tests/unit/test_config.c";
	char		*path;
	int		 len;

	if (src != NULL && *src != '\0')
		assert_true(asprintf(&path, "%s/%s", src, rel) != -1);
	else {
		len = (int)(strlen(me) - strlen(tail));
		assert_true(len >= 0 && strcmp(me + len, tail) == 0);
		assert_true(asprintf(&path, "%.*s%s", len, me, rel) != -1);
	}
	return path;
}

/*
 * etc/acme-renewd.conf loads as shipped; with every commented-out key
 * turned on (but trust-bundle, a file that need not exist), the only
 * errors are about files and the group this machine may not have.
 */
static void
test_example_config(void **state)
{
	struct fixture	*f = *state;
	char		*path, *line = NULL;
	size_t		 linesz = 0, i;
	FILE		*in, *out;

	path = srcdir_path("etc/acme-renewd.conf");
	assert_non_null(f->conf = config_load(path, &f->errs));
	assert_int_equal(f->errs.count, 0);
	assert_non_null(config_find_ca(f->conf, "letsencrypt"));
	assert_true(TAILQ_EMPTY(&f->conf->certs));

	assert_non_null(in = fopen(path, "r"));
	assert_non_null(out = fopen(f->main, "w"));
	while (getline(&line, &linesz, in) != -1) {
		if (strncmp(line, "#trust-bundle", 13) == 0)
			continue;
		if (line[0] == '#' && (line[1] == '[' ||
		    (line[1] >= 'a' && line[1] <= 'z')))
			fputs(line + 1, out);
		else
			fputs(line, out);
	}
	free(line);
	fclose(in);
	assert_int_equal(fclose(out), 0);
	free(path);
	config_free(f->conf);
	f->conf = NULL;
	assert_null(load(f));
	/* Files the example names, and the package's group, need not
	 * exist on this machine. */
	for (i = 0; i < f->errs.count; i++) {
		if (strstr(f->errs.msg[i], ": No such file or directory") ==
		    NULL && strstr(f->errs.msg[i], "control-group: acme-renewd: "
		    "no such group") == NULL)
			fail_msg("unexpected: %s", f->errs.msg[i]);
	}
	assert_true(f->errs.count > 0);
}

static char	*srcdir_path(const char *);

/*
 * Each etc/conf.d/NAME.conf.example, installed as a conf.d file beside a
 * main file with its CA, is valid but for the hooks and keys it names,
 * which need not exist here.  Unsupported keys would show up too.
 */
static void
test_confd_examples(void **state)
{
	static const struct {
		const char	*file;
		const char	*cert;		/* NULL: names absent files */
	} examples[] = {
		{ "10-http01-standalone", "www" },
		{ "20-http01-webroot", "blog" },
		{ "30-dns01-hook", NULL },
		{ "40-dns01-rfc2136", NULL },
		{ "50-tls-alpn01", "edge" },
	};
	struct fixture	*f = *state;
	char		*path, *text;
	size_t		 i, j, len;
	FILE		*in;

	put(f, MAIN, "[ca letsencrypt]\ndirectory = https://acme.example/dir\n");
	for (i = 0; i < sizeof(examples) / sizeof(examples[0]); i++) {
		assert_true(asprintf(&path, "etc/conf.d/%s.conf.example",
		    examples[i].file) != -1);
		text = srcdir_path(path);
		free(path);
		assert_non_null(in = fopen(text, "r"));
		free(text);
		assert_non_null(text = calloc(1, 8192));
		len = fread(text, 1, 8191, in);
		fclose(in);
		assert_true(len > 0);
		put(f, "conf.d/example.conf", text);
		free(text);
		if (load(f) != NULL) {
			assert_non_null(examples[i].cert);
			assert_non_null(config_find_cert(f->conf,
			    examples[i].cert));
			continue;
		}
		assert_null(examples[i].cert);
		assert_true(f->errs.count > 0);
		for (j = 0; j < f->errs.count; j++)
			if (strstr(f->errs.msg[j], "No such file") == NULL &&
			    strstr(f->errs.msg[j], "needs one of") == NULL)
				fail_msg("%s: %s", examples[i].file,
				    f->errs.msg[j]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_key, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_key, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_section, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_confd_order, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_values, setup,
		    teardown),
		cmocka_unit_test(test_listen_addr_parse),
		cmocka_unit_test(test_key_spec),
		cmocka_unit_test_setup_teardown(test_confd_examples, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_challenge_keys, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rsa_keys, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ca_reference, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_required, setup, teardown),
		cmocka_unit_test_setup_teardown(test_domains, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_main, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_trust_bundle, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_control_group, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_listeners_off, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_listeners_bind, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_host_paths, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_host_files, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_wildcard, setup, teardown),
		cmocka_unit_test_setup_teardown(test_profile, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_inline_comments, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_long_line, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syntax_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_multiple_errors, setup,
		    teardown),
		cmocka_unit_test(test_errors_clear),
		cmocka_unit_test_setup_teardown(test_example_config, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
