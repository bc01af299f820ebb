/*
 * The tls-alpn-01 responder (RFC 8737, with RFC 8738 §6 for IP
 * identifiers) on tls-alpn-01-listen.
 *
 * One SSL_CTX and one P-256 key serve every challenge.  The client hello
 * callback looks at the ALPN list and the SNI before any certificate is
 * chosen: a client that does not offer "acme-tls/1", or names an identifier
 * we were not given, is refused with an alert; otherwise the identifier's
 * challenge certificate, built when it was added, is put on the SSL.  The
 * validator closes the connection once the handshake is done; we only wait
 * for that, or for a timeout, and free it.
 */
#include <config.h>

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/listener.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "util.h"
#include "../config.h"
#include "../acme/acme.h"
#include "challenge.h"

#define TLSALPN01_PROTO		"acme-tls/1"
/* id-pe-acmeIdentifier (RFC 8737 §3) */
#define TLSALPN01_OID		"1.3.6.1.5.5.7.1.31"
#define TLSALPN01_MAX_CONNS	256
#define TLSALPN01_TIMEOUT	10	/* seconds a connection may live idle */
#define TLSALPN01_NAME_MAX	256	/* a host name and its NUL */

/* An identifier we answer for, keyed by the SNI the validator sends. */
struct tlsalpn01_id {
	TAILQ_ENTRY(tlsalpn01_id) entry;
	char		*sni;		/* lower case; reverse name for an IP */
	X509		*cert;
};

struct tlsalpn01_conn {
	TAILQ_ENTRY(tlsalpn01_conn) entry;
	struct tlsalpn01	*t;
	struct bufferevent	*bev;
};

struct tlsalpn01 {
	struct event_base		*base;
	struct evconnlistener		*listener;
	struct event			 pause;	/* accept back-off on EMFILE */
	SSL_CTX				*ctx;
	EVP_PKEY			*key;
	TAILQ_HEAD(, tlsalpn01_id)	 ids;
	TAILQ_HEAD(, tlsalpn01_conn)	 conns;
	unsigned int			 nconns;
};

/* A character of a host name as we accept it (letters, digits, -._). */
static int
tlsalpn01_name_char(int c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_';
}

/*
 * The name the validator puts in the SNI for identifier: the DNS name in
 * lower case, or for an IP literal its in-addr.arpa / ip6.arpa name
 * (RFC 8738 §6).  0 or -1 if the identifier is no name we can serve.
 */
static int
tlsalpn01_sni_of(const char *identifier, char *buf, size_t len)
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 a[16];
	size_t			 i, n;
	char			*p;

	if (inet_pton(AF_INET, identifier, a) == 1) {
		snprintf(buf, len, "%u.%u.%u.%u.in-addr.arpa",
		    a[3], a[2], a[1], a[0]);
		return 0;
	}
	if (inet_pton(AF_INET6, identifier, a) == 1) {
		if (len < 16 * 4 + sizeof("ip6.arpa"))
			return -1;
		p = buf;
		for (i = 16; i-- > 0; ) {
			*p++ = hex[a[i] & 0xf];
			*p++ = '.';
			*p++ = hex[a[i] >> 4];
			*p++ = '.';
		}
		strcpy(p, "ip6.arpa");
		return 0;
	}
	n = strlen(identifier);
	if (n == 0 || n >= len || identifier[0] == '*')
		return -1;	/* RFC 8737 §3: no wildcards */
	for (i = 0; i < n; i++) {
		if (!tlsalpn01_name_char((unsigned char)identifier[i]))
			return -1;
		buf[i] = tolower((unsigned char)identifier[i]);
	}
	buf[n] = '\0';
	return 0;
}

static struct tlsalpn01_id *
tlsalpn01_find(struct tlsalpn01 *t, const char *sni)
{
	struct tlsalpn01_id	*id;

	TAILQ_FOREACH(id, &t->ids, entry)
		if (strcasecmp(id->sni, sni) == 0)
			return id;
	return NULL;
}

/* Adds the one-entry subjectAltName: dNSName or iPAddress.  0 or -1. */
static int
tlsalpn01_cert_san(X509 *x, const char *identifier, int critical)
{
	GENERAL_NAMES		*gens = NULL;
	GENERAL_NAME		*gn = NULL;
	ASN1_STRING		*s = NULL;
	unsigned char		 a[16];
	const void		*data = a;
	int			 type = GEN_IPADD, len, rc = -1;

	if (inet_pton(AF_INET, identifier, a) == 1)
		len = 4;
	else if (inet_pton(AF_INET6, identifier, a) == 1)
		len = 16;
	else {
		type = GEN_DNS;
		data = identifier;
		len = (int)strlen(identifier);
	}
	s = type == GEN_DNS ? ASN1_IA5STRING_new() : ASN1_OCTET_STRING_new();
	if (s == NULL || !ASN1_STRING_set(s, data, len))
		goto out;
	if ((gn = GENERAL_NAME_new()) == NULL)
		goto out;
	GENERAL_NAME_set0_value(gn, type, s);
	s = NULL;
	if ((gens = sk_GENERAL_NAME_new_null()) == NULL ||
	    !sk_GENERAL_NAME_push(gens, gn))
		goto out;
	gn = NULL;
	if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens, critical,
	    X509V3_ADD_DEFAULT) != 1)
		goto out;
	rc = 0;
out:
	ASN1_STRING_free(s);
	GENERAL_NAME_free(gn);
	GENERAL_NAMES_free(gens);
	return rc;
}

/*
 * Adds the critical acmeIdentifier extension (RFC 8737 §3): its extnValue
 * is the DER of OCTET STRING(SHA-256(key authorization)).  0 or -1.
 */
static int
tlsalpn01_cert_acme(X509 *x, const char *keyauth)
{
	ASN1_OBJECT		*obj = NULL;
	ASN1_OCTET_STRING	*digest = NULL, *value = NULL;
	X509_EXTENSION		*ext = NULL;
	unsigned char		 md[EVP_MAX_MD_SIZE], *der = NULL;
	unsigned int		 mdlen;
	int			 derlen, rc = -1;

	if (!EVP_Digest(keyauth, strlen(keyauth), md, &mdlen, EVP_sha256(),
	    NULL))
		goto out;
	if ((digest = ASN1_OCTET_STRING_new()) == NULL ||
	    !ASN1_OCTET_STRING_set(digest, md, (int)mdlen))
		goto out;
	if ((derlen = i2d_ASN1_OCTET_STRING(digest, &der)) <= 0)
		goto out;
	if ((value = ASN1_OCTET_STRING_new()) == NULL ||
	    !ASN1_OCTET_STRING_set(value, der, derlen))
		goto out;
	if ((obj = OBJ_txt2obj(TLSALPN01_OID, 1)) == NULL)
		goto out;
	if ((ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 1, value)) == NULL ||
	    !X509_add_ext(x, ext, -1))
		goto out;
	rc = 0;
out:
	X509_EXTENSION_free(ext);
	ASN1_OBJECT_free(obj);
	ASN1_OCTET_STRING_free(value);
	OPENSSL_free(der);
	ASN1_OCTET_STRING_free(digest);
	return rc;
}

X509 *
tlsalpn01_cert(const char *identifier, const char *keyauth, EVP_PKEY *key)
{
	X509		*x = NULL;
	X509_NAME	*name = NULL;
	BIGNUM		*serial = NULL;
	int		 use_cn, ok = 0;

	/* A CN holds at most 64 characters; longer names go in the SAN only. */
	use_cn = strlen(identifier) <= 64;
	if ((x = X509_new()) == NULL ||
	    !X509_set_version(x, X509_VERSION_3))
		goto out;
	if ((serial = BN_new()) == NULL ||
	    !BN_rand(serial, 127, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) ||
	    BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) == NULL)
		goto out;
	if (X509_gmtime_adj(X509_getm_notBefore(x), -24 * 60 * 60) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 7 * 24 * 60 * 60) == NULL)
		goto out;
	if ((name = X509_NAME_new()) == NULL)
		goto out;
	if (use_cn && !X509_NAME_add_entry_by_NID(name, NID_commonName,
	    MBSTRING_ASC, (const unsigned char *)identifier, -1, -1, 0))
		goto out;
	if (!X509_set_subject_name(x, name) || !X509_set_issuer_name(x, name) ||
	    !X509_set_pubkey(x, key))
		goto out;
	/* RFC 5280 §4.2.1.6: with an empty subject the SAN is critical. */
	if (tlsalpn01_cert_san(x, identifier, !use_cn) == -1 ||
	    tlsalpn01_cert_acme(x, keyauth) == -1 ||
	    X509_sign(x, key, EVP_sha256()) <= 0)
		goto out;
	ok = 1;
out:
	BN_free(serial);
	X509_NAME_free(name);
	if (!ok) {
		log_openssl("tls-alpn-01: building the certificate for %s",
		    identifier);
		X509_free(x);
		x = NULL;
	}
	return x;
}

/*
 * In a wire-format protocol name list (RFC 7301 §3.1), the entry that is
 * exactly "acme-tls/1", or NULL.
 */
static const unsigned char *
tlsalpn01_alpn_find(const unsigned char *p, size_t len)
{
	const size_t	 plen = sizeof(TLSALPN01_PROTO) - 1;
	size_t		 n;

	while (len > 0) {
		n = p[0];
		if (n == 0 || n + 1 > len)
			return NULL;	/* malformed */
		if (n == plen && memcmp(p + 1, TLSALPN01_PROTO, plen) == 0)
			return p;
		p += n + 1;
		len -= n + 1;
	}
	return NULL;
}

/* The ClientHello offers "acme-tls/1" among its ALPN protocols. */
static int
tlsalpn01_hello_alpn(SSL *ssl)
{
	const unsigned char	*p;
	size_t			 len;

	if (!SSL_client_hello_get0_ext(ssl,
	    TLSEXT_TYPE_application_layer_protocol_negotiation, &p, &len) ||
	    len < 2 || (size_t)((p[0] << 8) | p[1]) != len - 2)
		return 0;
	return tlsalpn01_alpn_find(p + 2, len - 2) != NULL;
}

/*
 * The host_name of the ClientHello's server_name extension (RFC 6066 §3)
 * into buf as a string.  -1 if there is none or it is not a plain host
 * name, which also keeps what we log printable.
 */
static int
tlsalpn01_hello_sni(SSL *ssl, char *buf, size_t bufsz)
{
	const unsigned char	*p;
	size_t			 len, n, i;

	if (!SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &p,
	    &len) || len < 2 || (size_t)((p[0] << 8) | p[1]) != len - 2)
		return -1;
	p += 2;
	len -= 2;
	while (len >= 3) {
		n = (p[1] << 8) | p[2];
		if (n + 3 > len)
			return -1;
		if (p[0] == TLSEXT_NAMETYPE_host_name) {
			if (n == 0 || n >= bufsz)
				return -1;
			for (i = 0; i < n; i++) {
				if (!tlsalpn01_name_char(p[3 + i]))
					return -1;
				buf[i] = p[3 + i];
			}
			buf[n] = '\0';
			return 0;
		}
		p += n + 3;
		len -= n + 3;
	}
	return -1;
}

static int
tlsalpn01_hello_cb(SSL *ssl, int *al, void *arg)
{
	struct tlsalpn01	*t = arg;
	struct tlsalpn01_id	*id;
	char			 sni[TLSALPN01_NAME_MAX];

	if (!tlsalpn01_hello_alpn(ssl)) {
		log_debug("tls-alpn-01: refused a client not offering ALPN "
		    TLSALPN01_PROTO);
		*al = SSL_AD_NO_APPLICATION_PROTOCOL;
		return SSL_CLIENT_HELLO_ERROR;
	}
	if (tlsalpn01_hello_sni(ssl, sni, sizeof(sni)) == -1) {
		log_debug("tls-alpn-01: refused a client without a usable SNI");
		*al = SSL_AD_UNRECOGNIZED_NAME;
		return SSL_CLIENT_HELLO_ERROR;
	}
	if ((id = tlsalpn01_find(t, sni)) == NULL) {
		log_debug("tls-alpn-01: refused unknown SNI %s", sni);
		*al = SSL_AD_UNRECOGNIZED_NAME;
		return SSL_CLIENT_HELLO_ERROR;
	}
	if (SSL_use_certificate(ssl, id->cert) != 1 ||
	    SSL_use_PrivateKey(ssl, t->key) != 1) {
		log_openssl("tls-alpn-01: certificate for %s", sni);
		*al = SSL_AD_INTERNAL_ERROR;
		return SSL_CLIENT_HELLO_ERROR;
	}
	log_debug("tls-alpn-01: answering for %s", sni);
	return SSL_CLIENT_HELLO_SUCCESS;
}

static int
tlsalpn01_alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	const unsigned char	*p;

	if ((p = tlsalpn01_alpn_find(in, inlen)) == NULL)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	*out = p + 1;
	*outlen = p[0];
	return SSL_TLSEXT_ERR_OK;
}

static void
tlsalpn01_conn_free(struct tlsalpn01_conn *c)
{
	if (c == NULL)
		return;
	TAILQ_REMOVE(&c->t->conns, c, entry);
	c->t->nconns--;
	if (c->bev != NULL)
		bufferevent_free(c->bev);	/* frees the SSL, closes fd */
	free(c);
}

/* Application data: the validator must not send any (RFC 8737 §3). */
static void
tlsalpn01_conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct tlsalpn01_conn	*c = arg;

	log_debug("tls-alpn-01: client sent data after the handshake");
	tlsalpn01_conn_free(c);
}

static void
tlsalpn01_conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct tlsalpn01_conn	*c = arg;
	unsigned long		 e;
	char			 buf[256];

	if (what & BEV_EVENT_CONNECTED) {
		log_debug("tls-alpn-01: handshake done");
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		log_debug("tls-alpn-01: connection timed out");
	else if ((what & BEV_EVENT_ERROR) &&
	    (e = bufferevent_get_openssl_error(bev)) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		log_debug("tls-alpn-01: connection failed: %s", buf);
	}
	tlsalpn01_conn_free(c);
}

static void
tlsalpn01_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct tlsalpn01	*t = arg;
	struct tlsalpn01_conn	*c = NULL;
	SSL			*ssl = NULL;
	const struct timeval	 tv = { TLSALPN01_TIMEOUT, 0 };

	if (t->nconns >= TLSALPN01_MAX_CONNS) {
		log_debug("tls-alpn-01: %u connections open, refusing one",
		    t->nconns);
		goto out;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("tls-alpn-01: calloc");
		goto out;
	}
	if ((ssl = SSL_new(t->ctx)) == NULL) {
		log_openssl("tls-alpn-01: SSL_new");
		goto out;
	}
	/*
	 * With BEV_OPT_CLOSE_ON_FREE the bufferevent owns ssl from here on,
	 * even when its creation fails (libevent frees it then); the fd
	 * becomes its own only once it exists.
	 */
	c->bev = bufferevent_openssl_socket_new(t->base, fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	ssl = NULL;
	if (c->bev == NULL) {
		log_warnx("tls-alpn-01: bufferevent_openssl_socket_new failed");
		goto out;
	}
	fd = -1;
	bufferevent_setcb(c->bev, tlsalpn01_conn_read_cb, NULL,
	    tlsalpn01_conn_event_cb, c);
	if (bufferevent_set_timeouts(c->bev, &tv, &tv) == -1 ||
	    bufferevent_enable(c->bev, EV_READ) == -1) {
		log_warnx("tls-alpn-01: cannot set up the connection");
		goto out;
	}
	c->t = t;
	TAILQ_INSERT_TAIL(&t->conns, c, entry);
	t->nconns++;
	c = NULL;
out:
	if (c != NULL && c->bev != NULL)
		bufferevent_free(c->bev);
	free(c);
	SSL_free(ssl);
	if (fd != -1)
		evutil_closesocket(fd);
}

/* accept(2) failed, most likely EMFILE: pause for a second. */
static void
tlsalpn01_accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct tlsalpn01	*t = arg;
	const struct timeval	 tv = { 1, 0 };

	log_warn("tls-alpn-01: accept");
	evconnlistener_disable(t->listener);
	evtimer_add(&t->pause, &tv);
}

static void
tlsalpn01_pause_cb(evutil_socket_t fd, short events, void *arg)
{
	struct tlsalpn01	*t = arg;

	evconnlistener_enable(t->listener);
}

/* Listens on the first address of host:port that binds: 0, or -1, *cause. */
static int
tlsalpn01_bind(struct tlsalpn01 *t, const char *host, int port, char **cause)
{
	struct addrinfo		 hints, *res = NULL, *ai;
	char			 portstr[16];
	const unsigned int	 flags = LEV_OPT_CLOSE_ON_FREE |
	    LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC;
	int			 e, saved = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	snprintf(portstr, sizeof(portstr), "%d", port);
	if ((e = getaddrinfo(host, portstr, &hints, &res)) != 0) {
		*cause = xasprintf("tls-alpn-01 responder: %s: %s", host,
		    gai_strerror(e));
		return -1;
	}
	for (ai = res; ai != NULL && t->listener == NULL; ai = ai->ai_next) {
		t->listener = evconnlistener_new_bind(t->base,
		    tlsalpn01_accept_cb, t, flags, -1, ai->ai_addr,
		    (int)ai->ai_addrlen);
		if (t->listener == NULL)
			saved = errno;
	}
	freeaddrinfo(res);
	if (t->listener == NULL) {
		*cause = xasprintf("tls-alpn-01 responder: cannot listen on "
		    "%s port %d: %s", host, port, strerror(saved));
		return -1;
	}
	return 0;
}

static SSL_CTX *
tlsalpn01_ctx_new(struct tlsalpn01 *t)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		return NULL;
	/* RFC 8737 §4: TLS 1.2 or higher; nothing to resume. */
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_num_tickets(ctx, 0)) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_client_hello_cb(ctx, tlsalpn01_hello_cb, t);
	SSL_CTX_set_alpn_select_cb(ctx, tlsalpn01_alpn_cb, t);
	return ctx;
}

struct tlsalpn01 *
tlsalpn01_new(struct event_base *base, const char *listen, char **cause)
{
	struct tlsalpn01	*t = NULL;
	char			*host = NULL;
	const char		*why;
	int			 port, rc;

	if (listen_addr_parse(listen, &host, &port) == -1) {
		*cause = xasprintf("tls-alpn-01-listen: bad address '%s'",
		    listen);
		goto fail;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		*cause = xasprintf("tls-alpn-01 responder: out of memory");
		goto fail;
	}
	t->base = base;
	TAILQ_INIT(&t->ids);
	TAILQ_INIT(&t->conns);
	evtimer_assign(&t->pause, base, tlsalpn01_pause_cb, t);
	if ((t->key = keystore_generate(&(struct key_spec){ KEY_EC_P256, 0 }))
	    == NULL) {
		*cause = xasprintf("tls-alpn-01 responder: cannot generate "
		    "its key");
		goto fail;
	}
	if ((t->ctx = tlsalpn01_ctx_new(t)) == NULL) {
		why = ERR_reason_error_string(ERR_peek_last_error());
		*cause = xasprintf("tls-alpn-01 responder: TLS setup: %s",
		    why != NULL ? why : "failed");
		ERR_clear_error();
		goto fail;
	}
	/* "*" (host "") is every address: IPv6 with IPv4 mapped, else IPv4. */
	if (*host != '\0')
		rc = tlsalpn01_bind(t, host, port, cause);
	else if ((rc = tlsalpn01_bind(t, "::", port, cause)) == -1) {
		free(*cause);
		rc = tlsalpn01_bind(t, "0.0.0.0", port, cause);
	}
	if (rc == -1)
		goto fail;
	evconnlistener_set_error_cb(t->listener, tlsalpn01_accept_error_cb);
	log_info("tls-alpn-01 responder listening on %s", listen);
	free(host);
	return t;
fail:
	free(host);
	tlsalpn01_free(t);
	return NULL;
}

static void
tlsalpn01_id_free(struct tlsalpn01_id *id)
{
	if (id == NULL)
		return;
	X509_free(id->cert);
	free(id->sni);
	free(id);
}

void
tlsalpn01_free(struct tlsalpn01 *t)
{
	struct tlsalpn01_id	*id;

	if (t == NULL)
		return;
	while (!TAILQ_EMPTY(&t->conns))
		tlsalpn01_conn_free(TAILQ_FIRST(&t->conns));
	while ((id = TAILQ_FIRST(&t->ids)) != NULL) {
		TAILQ_REMOVE(&t->ids, id, entry);
		tlsalpn01_id_free(id);
	}
	if (t->listener != NULL)
		evconnlistener_free(t->listener);
	event_del(&t->pause);
	SSL_CTX_free(t->ctx);
	EVP_PKEY_free(t->key);
	free(t);
}

int
tlsalpn01_add(struct tlsalpn01 *t, const char *identifier, const char *keyauth)
{
	struct tlsalpn01_id	*id;
	char			 sni[TLSALPN01_NAME_MAX];
	X509			*cert;

	if (tlsalpn01_sni_of(identifier, sni, sizeof(sni)) == -1) {
		log_warnx("tls-alpn-01: cannot answer for identifier '%s'",
		    identifier);
		return -1;
	}
	if ((cert = tlsalpn01_cert(identifier, keyauth, t->key)) == NULL)
		return -1;	/* already logged */
	if ((id = tlsalpn01_find(t, sni)) != NULL) {
		X509_free(id->cert);
		id->cert = cert;
		return 0;
	}
	if ((id = calloc(1, sizeof(*id))) == NULL ||
	    (id->sni = strdup(sni)) == NULL) {
		log_warn("tls-alpn-01: adding %s", identifier);
		free(id);
		X509_free(cert);
		return -1;
	}
	id->cert = cert;
	TAILQ_INSERT_TAIL(&t->ids, id, entry);
	return 0;
}

void
tlsalpn01_remove(struct tlsalpn01 *t, const char *identifier)
{
	struct tlsalpn01_id	*id;
	char			 sni[TLSALPN01_NAME_MAX];

	if (tlsalpn01_sni_of(identifier, sni, sizeof(sni)) == -1 ||
	    (id = tlsalpn01_find(t, sni)) == NULL)
		return;
	TAILQ_REMOVE(&t->ids, id, entry);
	tlsalpn01_id_free(id);
}
