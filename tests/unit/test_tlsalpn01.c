/*
 * tlsalpn01: the challenge certificate (RFC 8737 §3, RFC 8738 §6) parsed
 * back, then real handshakes against the responder on loopback, the client
 * side in a forked child with a blocking OpenSSL client.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "daemon/acme/acme.h"
#include "daemon/challenge/challenge.h"

int	 main(void);

#define THUMBPRINT	"nP1qzpXGymHBrUEepNY9HCsQk7K8KhOypzEt62jcerQ"
#define KEYAUTH1	"evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA." \
		THUMBPRINT
#define KEYAUTH2	"LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0." \
		THUMBPRINT
#define ACME_OID	"1.3.6.1.5.5.7.1.31"
#define SNI_V4		"1.0.0.127.in-addr.arpa"
#define CHILD_DEADLINE	30	/* seconds */

static EVP_PKEY	*key;

struct server {
	struct event_base	*base;
	struct tlsalpn01	*t;
	int			 port;
};

/*
 * What is wrong with a challenge certificate for identifier, or NULL.
 * key NULL: check the signature with the certificate's own key.  Usable
 * in the forked client, so no cmocka asserts here.
 */
static const char *
cert_problem(X509 *x, EVP_PKEY *k, const char *identifier, const char *keyauth)
{
	static char		 why[128];
	ASN1_OBJECT		*obj;
	const ASN1_OCTET_STRING	*v;
	X509_EXTENSION		*ext;
	GENERAL_NAMES		*gens;
	const GENERAL_NAME	*gn;
	unsigned char		 want[2 + 32], ip[16];
	unsigned int		 mdlen;
	int			 idx, again, crit, iplen = 0;

	if (X509_get_version(x) != X509_VERSION_3)
		return "not X.509 v3";
	if (X509_cmp_current_time(X509_get0_notBefore(x)) >= 0 ||
	    X509_cmp_current_time(X509_get0_notAfter(x)) <= 0)
		return "not valid now";
	if ((obj = OBJ_txt2obj(ACME_OID, 1)) == NULL)
		return "OBJ_txt2obj";
	idx = X509_get_ext_by_OBJ(x, obj, -1);
	again = idx < 0 ? -1 : X509_get_ext_by_OBJ(x, obj, idx);
	ASN1_OBJECT_free(obj);
	if (idx < 0)
		return "no acmeIdentifier extension";
	if (again >= 0)
		return "two acmeIdentifier extensions";
	ext = X509_get_ext(x, idx);
	if (X509_EXTENSION_get_critical(ext) != 1)
		return "acmeIdentifier not critical";
	want[0] = 0x04;		/* OCTET STRING */
	want[1] = 0x20;		/* of 32 bytes */
	if (!EVP_Digest(keyauth, strlen(keyauth), want + 2, &mdlen,
	    EVP_sha256(), NULL) || mdlen != 32)
		return "EVP_Digest";
	v = X509_EXTENSION_get_data(ext);
	if (ASN1_STRING_length(v) != (int)sizeof(want) ||
	    memcmp(ASN1_STRING_get0_data(v), want, sizeof(want)) != 0)
		return "acmeIdentifier value is not OCTET STRING(SHA-256)";

	if (inet_pton(AF_INET, identifier, ip) == 1)
		iplen = 4;
	else if (inet_pton(AF_INET6, identifier, ip) == 1)
		iplen = 16;
	if ((gens = X509_get_ext_d2i(x, NID_subject_alt_name, &crit,
	    NULL)) == NULL)
		return "no (or several) subjectAltName";
	snprintf(why, sizeof(why), "subjectAltName is not exactly %s",
	    identifier);
	if (sk_GENERAL_NAME_num(gens) == 1) {
		gn = sk_GENERAL_NAME_value(gens, 0);
		if (iplen != 0 && gn->type == GEN_IPADD &&
		    ASN1_STRING_length(gn->d.iPAddress) == iplen &&
		    memcmp(ASN1_STRING_get0_data(gn->d.iPAddress), ip,
		    iplen) == 0)
			why[0] = '\0';
		if (iplen == 0 && gn->type == GEN_DNS &&
		    ASN1_STRING_length(gn->d.dNSName) ==
		    (int)strlen(identifier) &&
		    memcmp(ASN1_STRING_get0_data(gn->d.dNSName), identifier,
		    strlen(identifier)) == 0)
			why[0] = '\0';
	}
	GENERAL_NAMES_free(gens);
	if (why[0] != '\0')
		return why;

	if (X509_verify(x, k != NULL ? k : X509_get0_pubkey(x)) != 1)
		return "signature does not verify";
	return NULL;
}

static int
setup_key(void **state)
{
	log_init("test_tlsalpn01", LOG_TARGET_STDERR, LOG_WARNING);
	key = keystore_generate(&(struct key_spec){ KEY_EC_P256, 0 });
	return key == NULL ? -1 : 0;
}

static int
teardown_key(void **state)
{
	EVP_PKEY_free(key);
	return 0;
}

static void
check_cert(const char *identifier, const char *keyauth)
{
	X509		*x;
	const char	*why;

	x = tlsalpn01_cert(identifier, keyauth, key);
	assert_non_null(x);
	if ((why = cert_problem(x, key, identifier, keyauth)) != NULL)
		fail_msg("%s: %s", identifier, why);
	X509_free(x);
}

static void
test_cert_dns(void **state)
{
	check_cert("example.test", KEYAUTH1);
}

static void
test_cert_ipv4(void **state)
{
	check_cert("127.0.0.1", KEYAUTH1);
}

static void
test_cert_ipv6(void **state)
{
	check_cert("::1", KEYAUTH2);
}

/* A 200-character name does not fit a CN: SAN only, and critical. */
static void
test_cert_long_name(void **state)
{
	char	 name[201];
	X509	*x;
	int	 crit = -1;
	void	*gens;

	memset(name, 'a', sizeof(name) - 1);
	memcpy(name + sizeof(name) - 6, ".test", 6);
	check_cert(name, KEYAUTH1);
	assert_non_null(x = tlsalpn01_cert(name, KEYAUTH1, key));
	assert_int_equal(X509_NAME_entry_count(X509_get_subject_name(x)), 0);
	gens = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
	assert_non_null(gens);
	assert_int_equal(crit, 1);
	GENERAL_NAMES_free(gens);
	X509_free(x);
}

/* The responder on a free high port of 127.0.0.1. */
static int
setup_server(void **state)
{
	struct server	*s;
	char		 listen[32], *cause = NULL;
	int		 i;

	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->base = event_base_new()) == NULL)
		return -1;
	srand((unsigned int)(time(NULL) ^ getpid()));
	for (i = 0; i < 100 && s->t == NULL; i++) {
		s->port = 20000 + rand() % 40000;
		snprintf(listen, sizeof(listen), "127.0.0.1:%d", s->port);
		s->t = tlsalpn01_new(s->base, listen, &cause);
		free(cause);
		cause = NULL;
	}
	if (s->t == NULL)
		return -1;
	*state = s;
	return 0;
}

static int
teardown_server(void **state)
{
	struct server	*s = *state;

	tlsalpn01_free(s->t);
	event_base_free(s->base);
	free(s);
	return 0;
}

/*
 * Runs the loop until every child has exited; their exit codes go in
 * codes.  A child still running at the deadline is killed and fails.
 */
static void
wait_children(struct server *s, pid_t *pids, int *codes, int n)
{
	const struct timespec	 ms = { 0, 1000 * 1000 };
	time_t			 deadline = time(NULL) + CHILD_DEADLINE;
	int			 i, left = n, status;

	for (i = 0; i < n; i++)
		codes[i] = -1;
	while (left > 0) {
		event_base_loop(s->base, EVLOOP_NONBLOCK);
		for (i = 0; i < n; i++) {
			if (pids[i] == -1 ||
			    waitpid(pids[i], &status, WNOHANG) != pids[i])
				continue;
			codes[i] = WIFEXITED(status) ? WEXITSTATUS(status) :
			    128 + WTERMSIG(status);
			pids[i] = -1;
			left--;
		}
		if (time(NULL) > deadline) {
			for (i = 0; i < n; i++) {
				if (pids[i] == -1)
					continue;
				kill(pids[i], SIGKILL);
				waitpid(pids[i], &status, 0);
			}
			fail_msg("client still running after %d s",
			    CHILD_DEADLINE);
		}
		nanosleep(&ms, NULL);
	}
	/* Let the responder see the closed connections too. */
	for (i = 0; i < 20; i++) {
		event_base_loop(s->base, EVLOOP_NONBLOCK);
		nanosleep(&ms, NULL);
	}
}

static int
tcp_connect(int port)
{
	struct sockaddr_in	 sin;
	struct timeval		 tv = { 20, 0 };
	int			 fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One client: what it offers and what it should get. */
struct client {
	const char	*sni;		/* NULL: none */
	const char	*alpn;		/* wire format; NULL: none */
	size_t		 alpnlen;
	int		 maxver;	/* 0: any */
	const char	*identifier;	/* expected SAN; NULL: must fail */
	const char	*keyauth;
	int		 linger;	/* wait for the server to hang up */
};

#define ALPN_ACME	"\012acme-tls/1"
#define ALPN(s)		s, sizeof(s) - 1

/* The child's side: 0 if it went as expected, else why not (1..). */
static int
client_run(int port, const struct client *c)
{
	SSL_CTX			*ctx;
	SSL			*ssl;
	X509			*peer;
	const unsigned char	*proto;
	const char		*why;
	unsigned int		 protolen;
	char			 buf[16];
	time_t			 start;
	int			 fd, r;

	if ((fd = tcp_connect(port)) == -1)
		return 1;
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    (c->maxver != 0 && !SSL_CTX_set_max_proto_version(ctx, c->maxver)))
		return 2;
	if (c->maxver != 0 && c->maxver < TLS1_2_VERSION)
		SSL_CTX_set_security_level(ctx, 0);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if ((ssl = SSL_new(ctx)) == NULL || !SSL_set_fd(ssl, fd))
		return 3;
	if (c->sni != NULL && !SSL_set_tlsext_host_name(ssl, c->sni))
		return 4;
	if (c->alpn != NULL && SSL_set_alpn_protos(ssl,
	    (const unsigned char *)c->alpn, (unsigned int)c->alpnlen) != 0)
		return 5;
	r = SSL_connect(ssl);
	if (c->identifier == NULL)
		return r == 1 ? 6 : 0;
	if (r != 1)
		return 7;
	SSL_get0_alpn_selected(ssl, &proto, &protolen);
	if (protolen != 10 || memcmp(proto, "acme-tls/1", 10) != 0)
		return 8;
	if ((peer = SSL_get1_peer_certificate(ssl)) == NULL)
		return 9;
	if ((why = cert_problem(peer, NULL, c->identifier, c->keyauth))
	    != NULL) {
		fprintf(stderr, "client: %s\n", why);
		return 10;
	}
	if (c->linger) {
		/* Idle after the handshake: the server drops us at 10 s. */
		start = time(NULL);
		if (SSL_read(ssl, buf, sizeof(buf)) > 0)
			return 11;
		if (time(NULL) - start < 8 || time(NULL) - start > 15)
			return 12;
	}
	X509_free(peer);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	return 0;
}

static void
run_clients(struct server *s, const struct client *c, int n)
{
	pid_t	pids[16];
	int	codes[16], i;

	assert_true(n <= 16);
	for (i = 0; i < n; i++) {
		if ((pids[i] = fork()) == 0)
			_exit(client_run(s->port, &c[i]));
		assert_int_not_equal(pids[i], -1);
	}
	wait_children(s, pids, codes, n);
	for (i = 0; i < n; i++)
		if (codes[i] != 0)
			fail_msg("client %d (sni %s): exit %d", i,
			    c[i].sni != NULL ? c[i].sni : "-", codes[i]);
}

static void
test_handshake_dns(void **state)
{
	struct server		*s = *state;
	const struct client	 c[] = {
		/* acme-tls/1 and the name: the challenge certificate. */
		{ "example.test", ALPN(ALPN_ACME), 0, "example.test",
		    KEYAUTH1, 0 },
		/* Names compare without case; TLS 1.2 works too. */
		{ "EXAMPLE.Test", ALPN(ALPN_ACME), TLS1_2_VERSION,
		    "example.test", KEYAUTH1, 0 },
		/* acme-tls/1 among other protocols. */
		{ "example.test", ALPN("\002h2" ALPN_ACME "\010http/1.1"), 0,
		    "example.test", KEYAUTH1, 0 },
		/* An ordinary TLS client: no ALPN. */
		{ "example.test", NULL, 0, 0, NULL, NULL, 0 },
		/* Other protocols only, or one that merely starts alike. */
		{ "example.test", ALPN("\002h2\010http/1.1"), 0, NULL, NULL,
		    0 },
		{ "example.test", ALPN("\013acme-tls/10"), 0, NULL, NULL, 0 },
		/* Unknown or missing SNI. */
		{ "unknown.test", ALPN(ALPN_ACME), 0, NULL, NULL, 0 },
		{ NULL, ALPN(ALPN_ACME), 0, NULL, NULL, 0 },
		/* Below TLS 1.2. */
		{ "example.test", ALPN(ALPN_ACME), TLS1_1_VERSION, NULL, NULL,
		    0 },
	};

	assert_int_equal(tlsalpn01_add(s->t, "example.test", KEYAUTH1), 0);
	run_clients(s, c, sizeof(c) / sizeof(c[0]));
}

static void
test_handshake_ip(void **state)
{
	struct server	*s = *state;
	char		 sni6[80];
	struct client	 c[] = {
		{ SNI_V4, ALPN(ALPN_ACME), 0, "127.0.0.1", KEYAUTH1, 0 },
		{ NULL, ALPN(ALPN_ACME), 0, "::1", KEYAUTH2, 0 },
		/* The address itself is no SNI the validator sends. */
		{ "127.0.0.1", ALPN(ALPN_ACME), 0, NULL, NULL, 0 },
		{ "2.0.0.127.in-addr.arpa", ALPN(ALPN_ACME), 0, NULL, NULL,
		    0 },
		{ SNI_V4, NULL, 0, 0, NULL, NULL, 0 },
	};
	int		 i;

	/* ::1 -> 1.0.0. ... .0.ip6.arpa, 32 nibbles, lowest first. */
	strcpy(sni6, "1.");
	for (i = 1; i < 32; i++)
		strcat(sni6, "0.");
	strcat(sni6, "ip6.arpa");
	c[1].sni = sni6;
	assert_int_equal(tlsalpn01_add(s->t, "127.0.0.1", KEYAUTH1), 0);
	/* Written another way, the same address. */
	assert_int_equal(tlsalpn01_add(s->t, "0:0::1", KEYAUTH1), 0);
	assert_int_equal(tlsalpn01_add(s->t, "::1", KEYAUTH2), 0);
	run_clients(s, c, sizeof(c) / sizeof(c[0]));
}

/* Adding again replaces the certificate; removing withdraws it. */
static void
test_replace_remove(void **state)
{
	struct server		*s = *state;
	/* The same name in other case: one entry, the SAN as last given. */
	const struct client	 replaced[] = {
		{ "example.test", ALPN(ALPN_ACME), 0, "Example.TEST",
		    KEYAUTH2, 0 },
		{ "other.test", ALPN(ALPN_ACME), 0, "other.test", KEYAUTH1,
		    0 },
	};
	const struct client	 removed[] = {
		{ "example.test", ALPN(ALPN_ACME), 0, NULL, NULL, 0 },
		{ "other.test", ALPN(ALPN_ACME), 0, "other.test", KEYAUTH1,
		    0 },
	};

	assert_int_equal(tlsalpn01_add(s->t, "example.test", KEYAUTH1), 0);
	assert_int_equal(tlsalpn01_add(s->t, "other.test", KEYAUTH1), 0);
	assert_int_equal(tlsalpn01_add(s->t, "Example.TEST", KEYAUTH2), 0);
	run_clients(s, replaced, 2);
	tlsalpn01_remove(s->t, "example.test");
	tlsalpn01_remove(s->t, "never-added.test");
	run_clients(s, removed, 2);
}

/* Raw TCP that never says hello: dropped after the 10 s timeout. */
static int
idle_run(int port)
{
	char	 c;
	time_t	 start = time(NULL);
	ssize_t	 n;
	int	 fd;

	if ((fd = tcp_connect(port)) == -1)
		return 1;
	n = read(fd, &c, 1);
	if (n != 0 && !(n == -1 && errno == ECONNRESET))
		return 2;
	if (time(NULL) - start < 8 || time(NULL) - start > 15)
		return 3;
	close(fd);
	return 0;
}

static void
test_timeouts(void **state)
{
	struct server		*s = *state;
	const struct client	 c = { "example.test", ALPN(ALPN_ACME), 0,
	    "example.test", KEYAUTH1, 1 };
	pid_t			 pids[2];
	int			 codes[2];

	assert_int_equal(tlsalpn01_add(s->t, "example.test", KEYAUTH1), 0);
	if ((pids[0] = fork()) == 0)
		_exit(idle_run(s->port));
	if ((pids[1] = fork()) == 0)
		_exit(client_run(s->port, &c));
	assert_int_not_equal(pids[0], -1);
	assert_int_not_equal(pids[1], -1);
	wait_children(s, pids, codes, 2);
	assert_int_equal(codes[0], 0);
	assert_int_equal(codes[1], 0);
}

/* Past 256 open connections, new ones are closed at once. */
#define CAP_TRY	300
#define CAP_MAX	256

static int
cap_run(int port)
{
	struct pollfd	 pfd[CAP_TRY];
	time_t		 deadline;
	char		 c;
	int		 i, closed = 0;

	for (i = 0; i < CAP_TRY; i++) {
		if ((pfd[i].fd = tcp_connect(port)) == -1)
			return 1;
		pfd[i].events = POLLIN;
	}
	deadline = time(NULL) + 3;
	while (closed < CAP_TRY - CAP_MAX && time(NULL) <= deadline) {
		if (poll(pfd, CAP_TRY, 100) == -1)
			return 2;
		for (i = 0; i < CAP_TRY; i++) {
			if (pfd[i].fd == -1 || pfd[i].revents == 0)
				continue;
			if (read(pfd[i].fd, &c, 1) > 0)
				return 3;
			close(pfd[i].fd);
			pfd[i].fd = -1;
			closed++;
		}
	}
	/* Give the server time to wrongly close more, then count again. */
	if (poll(pfd, CAP_TRY, 500) > 0)
		return 4;
	return closed == CAP_TRY - CAP_MAX ? 0 : 5;
}

static void
test_cap(void **state)
{
	struct server	*s = *state;
	pid_t		 pid;
	int		 code;

	if ((pid = fork()) == 0)
		_exit(cap_run(s->port));
	assert_int_not_equal(pid, -1);
	wait_children(s, &pid, &code, 1);
	assert_int_equal(code, 0);
}

/* Out of descriptors: accepting pauses, then resumes by itself. */
static void
test_emfile(void **state)
{
	struct server		*s = *state;
	const struct client	 c = { "example.test", ALPN(ALPN_ACME), 0,
	    "example.test", KEYAUTH1, 0 };
	const struct timespec	 ms = { 0, 1000 * 1000 };
	struct rlimit		 saved, low;
	pid_t			 pid;
	int			 fd, code, i;

	assert_int_equal(tlsalpn01_add(s->t, "example.test", KEYAUTH1), 0);
	if ((pid = fork()) == 0)
		_exit(client_run(s->port, &c));
	assert_int_not_equal(pid, -1);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
	assert_int_not_equal(fd = dup(0), -1);
	close(fd);
	low = saved;
	low.rlim_cur = (rlim_t)fd;	/* no descriptor left to accept */
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	for (i = 0; i < 300; i++) {
		event_base_loop(s->base, EVLOOP_NONBLOCK);
		nanosleep(&ms, NULL);
	}
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
	wait_children(s, &pid, &code, 1);
	assert_int_equal(code, 0);
}

static void
test_bad_input(void **state)
{
	struct server	*s = *state;
	char		*cause = NULL, listen[32];

	assert_null(tlsalpn01_new(s->base, "no-port", &cause));
	assert_non_null(cause);
	free(cause);
	cause = NULL;
	/* The port is taken: by our own responder. */
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", s->port);
	assert_null(tlsalpn01_new(s->base, listen, &cause));
	assert_non_null(cause);
	assert_non_null(strstr(cause, "in use"));
	free(cause);
	assert_int_equal(tlsalpn01_add(s->t, "*.example.test", KEYAUTH1), -1);
	assert_int_equal(tlsalpn01_add(s->t, "", KEYAUTH1), -1);
	assert_int_equal(tlsalpn01_add(s->t, "bad name.test", KEYAUTH1), -1);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_cert_dns),
		cmocka_unit_test(test_cert_ipv4),
		cmocka_unit_test(test_cert_ipv6),
		cmocka_unit_test(test_cert_long_name),
		cmocka_unit_test_setup_teardown(test_handshake_dns,
		    setup_server, teardown_server),
		cmocka_unit_test_setup_teardown(test_handshake_ip,
		    setup_server, teardown_server),
		cmocka_unit_test_setup_teardown(test_replace_remove,
		    setup_server, teardown_server),
		cmocka_unit_test_setup_teardown(test_bad_input,
		    setup_server, teardown_server),
		cmocka_unit_test_setup_teardown(test_emfile,
		    setup_server, teardown_server),
		cmocka_unit_test_setup_teardown(test_cap,
		    setup_server, teardown_server),
		cmocka_unit_test_setup_teardown(test_timeouts,
		    setup_server, teardown_server),
	};

	return cmocka_run_group_tests(tests, setup_key, teardown_key);
}
