/*
 * X.509 certificate facts, through OpenSSL 3.  See certinfo.h.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "b64url.h"
#include "log.h"
#include "certinfo.h"

static void	 certinfo_error(char **, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static X509	*certinfo_read(const char *);
static int	 certinfo_time(const ASN1_TIME *, time_t *);
static char	*certinfo_serial(const X509 *);
static char	*certinfo_issuer(const X509 *);
static int	 certinfo_names(const X509 *, struct strlist *);
static int	 certinfo_key(const X509 *, struct key_spec *);
static void	 certinfo_strlist_add(struct strlist *, char *);
static bool	 certinfo_name_eq(const char *, const char *);
static bool	 certinfo_names_in(const struct strlist *,
		    const struct strlist *);
static char	*certinfo_bio_text(BIO *);

/*
 * Sets *cause to the message followed by the first OpenSSL error, if any,
 * and empties the error queue.
 */
static void
certinfo_error(char **cause, const char *fmt, ...)
{
	va_list		 ap;
	char		*msg, *full = NULL;
	char		 buf[256];
	unsigned long	 e;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	if ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		if (msg != NULL && asprintf(&full, "%s: %s", msg, buf) == -1)
			full = NULL;
		free(msg);
		msg = full;
	}
	ERR_clear_error();
	if (cause != NULL)
		*cause = msg;
	else {
		log_warnx("%s", msg != NULL ? msg : "certinfo: out of memory");
		free(msg);
	}
}

/* The first certificate in pem, or NULL. */
static X509 *
certinfo_read(const char *pem)
{
	BIO	*bio;
	X509	*x;

	if ((bio = BIO_new_mem_buf(pem, -1)) == NULL)
		return NULL;
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	return x;
}

static int
certinfo_time(const ASN1_TIME *at, time_t *t)
{
	struct tm	tm;

	memset(&tm, 0, sizeof(tm));
	if (at == NULL || ASN1_TIME_to_tm(at, &tm) != 1)
		return -1;
	if ((*t = timegm(&tm)) == (time_t)-1)
		return -1;
	return 0;
}

/* Uppercase hex without leading zeros ("0" for zero); malloc'd. */
static char *
certinfo_serial(const X509 *x)
{
	BIGNUM		*bn;
	char		*hex, *p, *s = NULL;

	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x),
	    NULL)) == NULL)
		return NULL;
	if ((hex = BN_bn2hex(bn)) != NULL) {
		p = hex;
		if (*p == '-')
			p++;	/* invalid in a certificate: sign dropped */
		while (p[0] == '0' && p[1] != '\0')
			p++;
		s = strdup(p);
		OPENSSL_free(hex);
	}
	BN_free(bn);
	return s;
}

/* Everything written to a memory BIO, as a malloc'd string. */
static char *
certinfo_bio_text(BIO *bio)
{
	char	*data, *s;
	long	 len;

	if ((len = BIO_get_mem_data(bio, &data)) < 0)
		return NULL;
	if ((s = malloc((size_t)len + 1)) == NULL)
		return NULL;
	if (len > 0)
		memcpy(s, data, (size_t)len);
	s[len] = '\0';
	return s;
}

/* The issuer's CN, else its one-line DN; malloc'd. */
static char *
certinfo_issuer(const X509 *x)
{
	const X509_NAME		*name;
	const X509_NAME_ENTRY	*ne;
	unsigned char		*utf8;
	char			*s = NULL;
	BIO			*bio;
	int			 idx, len;

	name = X509_get_issuer_name(x);
	idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	if (idx >= 0) {
		ne = X509_NAME_get_entry(name, idx);
		len = ASN1_STRING_to_UTF8(&utf8,
		    X509_NAME_ENTRY_get_data(ne));
		if (len < 0)
			return NULL;
		if (memchr(utf8, '\0', (size_t)len) == NULL)
			s = strndup((char *)utf8, (size_t)len);
		OPENSSL_free(utf8);
		return s;
	}
	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return NULL;
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_ONELINE) >= 0)
		s = certinfo_bio_text(bio);
	BIO_free(bio);
	return s;
}

static void
certinfo_strlist_add(struct strlist *l, char *s)
{
	char	**v;

	if ((v = reallocarray(l->v, l->n + 1, sizeof(*l->v))) == NULL)
		fatal("%s", __func__);
	l->v = v;
	l->v[l->n++] = s;
}

/* SAN dNSName and iPAddress entries, as text. */
static int
certinfo_names(const X509 *x, struct strlist *l)
{
	GENERAL_NAMES		*gens;
	const GENERAL_NAME	*gen;
	const unsigned char	*data;
	char			 buf[INET6_ADDRSTRLEN];
	char			*s;
	int			 i, len, crit, rc = -1;

	gens = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
	if (gens == NULL)
		return crit == -1 ? 0 : -1;	/* -1: absent */
	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		gen = sk_GENERAL_NAME_value(gens, i);
		s = NULL;
		switch (gen->type) {
		case GEN_DNS:
			data = ASN1_STRING_get0_data(gen->d.dNSName);
			len = ASN1_STRING_length(gen->d.dNSName);
			if (len <= 0 || memchr(data, '\0', (size_t)len) != NULL)
				goto out;
			if ((s = strndup((const char *)data,
			    (size_t)len)) == NULL)
				fatal("%s", __func__);
			break;
		case GEN_IPADD:
			data = ASN1_STRING_get0_data(gen->d.iPAddress);
			len = ASN1_STRING_length(gen->d.iPAddress);
			if ((len != 4 && len != 16) || inet_ntop(len == 4 ?
			    AF_INET : AF_INET6, data, buf, sizeof(buf)) == NULL)
				goto out;
			if ((s = strdup(buf)) == NULL)
				fatal("%s", __func__);
			break;
		default:
			continue;
		}
		certinfo_strlist_add(l, s);
	}
	rc = 0;
out:
	GENERAL_NAMES_free(gens);
	return rc;
}

/* The kind of the subject public key: EC P-256, P-384 or RSA. */
static int
certinfo_key(const X509 *x, struct key_spec *ks)
{
	EVP_PKEY	*pkey;
	char		 group[64];
	int		 nid;

	if ((pkey = X509_get0_pubkey(x)) == NULL)
		return -1;
	if (EVP_PKEY_is_a(pkey, "EC")) {
		if (EVP_PKEY_get_group_name(pkey, group, sizeof(group),
		    NULL) != 1)
			return -1;
		if ((nid = OBJ_sn2nid(group)) == NID_undef)
			nid = EC_curve_nist2nid(group);
		ks->bits = 0;
		if (nid == NID_X9_62_prime256v1)
			ks->kind = KEY_EC_P256;
		else if (nid == NID_secp384r1)
			ks->kind = KEY_EC_P384;
		else
			return -1;
		return 0;
	}
	if (EVP_PKEY_is_a(pkey, "RSA")) {
		ks->kind = KEY_RSA;
		ks->bits = EVP_PKEY_get_bits(pkey);
		return ks->bits > 0 ? 0 : -1;
	}
	return -1;
}

/*
 * The ARI certificate identifier (RFC 9773 §4.1): base64url of the
 * Authority Key Identifier's keyIdentifier, ".", base64url of the serial
 * number's DER content octets (leading zero included when DER has one).
 */
static char *
certinfo_ari_id(const X509 *x)
{
	const ASN1_OCTET_STRING	*kid = X509_get0_authority_key_id((X509 *)x);
	unsigned char		*der = NULL;
	const unsigned char	*p;
	char			*a = NULL, *b = NULL, *id = NULL;
	long			 len;
	int			 dlen, tag, class;

	if (kid == NULL || (dlen = i2d_ASN1_INTEGER(
	    X509_get0_serialNumber(x), &der)) <= 0)
		goto out;
	p = der;
	/* Skip the INTEGER's tag and length: the content octets remain. */
	if (ASN1_get_object(&p, &len, &tag, &class, dlen) & 0x80 ||
	    tag != V_ASN1_INTEGER || len <= 0)
		goto out;
	if ((a = b64url_encode(ASN1_STRING_get0_data(kid),
	    (size_t)ASN1_STRING_length(kid))) == NULL ||
	    (b = b64url_encode(p, (size_t)len)) == NULL)
		goto out;
	if (asprintf(&id, "%s.%s", a, b) == -1)
		id = NULL;
out:
	OPENSSL_free(der);
	free(a);
	free(b);
	return id;
}

int
certinfo_parse(const char *pem, struct certinfo *ci, char **cause)
{
	return certinfo_parse_with_key(pem, NULL, ci, NULL, cause);
}

int
certinfo_parse_with_key(const char *pem, const EVP_PKEY *key,
    struct certinfo *ci, bool *key_matches, char **cause)
{
	X509	*x;
	int	 rc = -1;

	memset(ci, 0, sizeof(*ci));
	if ((x = certinfo_read(pem)) == NULL) {
		certinfo_error(cause, "no certificate");
		goto out;
	}
	if (key != NULL) {
		*key_matches = EVP_PKEY_eq(X509_get0_pubkey(x), key) == 1;
		ERR_clear_error();
	}
	if (certinfo_time(X509_get0_notBefore(x), &ci->not_before) == -1 ||
	    certinfo_time(X509_get0_notAfter(x), &ci->not_after) == -1) {
		certinfo_error(cause, "invalid validity dates");
		goto out;
	}
	if ((ci->serial = certinfo_serial(x)) == NULL) {
		certinfo_error(cause, "invalid serial number");
		goto out;
	}
	if ((ci->issuer = certinfo_issuer(x)) == NULL) {
		certinfo_error(cause, "invalid issuer name");
		goto out;
	}
	if (certinfo_names(x, &ci->names) == -1) {
		certinfo_error(cause, "invalid subjectAltName");
		goto out;
	}
	if (certinfo_key(x, &ci->key) == -1) {
		certinfo_error(cause, "unsupported public key type");
		goto out;
	}
	ci->ari_id = certinfo_ari_id(x);	/* NULL without an AKI */
	rc = 0;
out:
	if (rc == -1)
		certinfo_clear(ci);
	X509_free(x);
	return rc;
}

void
certinfo_clear(struct certinfo *ci)
{
	size_t	i;

	if (ci == NULL)
		return;
	free(ci->serial);
	free(ci->issuer);
	free(ci->ari_id);
	for (i = 0; i < ci->names.n; i++)
		free(ci->names.v[i]);
	free(ci->names.v);
	memset(ci, 0, sizeof(*ci));
}

EVP_PKEY *
certinfo_read_key(const char *key_pem)
{
	EVP_PKEY	*key;
	BIO		*bio;

	if ((bio = BIO_new_mem_buf(key_pem, -1)) == NULL)
		return NULL;
	key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	ERR_clear_error();
	BIO_free(bio);
	return key;
}

/* Names compare case-insensitively; IP addresses by their value. */
static bool
certinfo_name_eq(const char *a, const char *b)
{
	unsigned char	 ba[sizeof(struct in6_addr)];
	unsigned char	 bb[sizeof(struct in6_addr)];

	if (inet_pton(AF_INET6, a, ba) == 1 && inet_pton(AF_INET6, b, bb) == 1)
		return memcmp(ba, bb, sizeof(struct in6_addr)) == 0;
	if (inet_pton(AF_INET, a, ba) == 1 && inet_pton(AF_INET, b, bb) == 1)
		return memcmp(ba, bb, sizeof(struct in_addr)) == 0;
	return strcasecmp(a, b) == 0;
}

/* Every name of a is in b. */
static bool
certinfo_names_in(const struct strlist *a, const struct strlist *b)
{
	size_t	i, j;

	for (i = 0; i < a->n; i++) {
		for (j = 0; j < b->n; j++) {
			if (certinfo_name_eq(a->v[i], b->v[j]))
				break;
		}
		if (j == b->n)
			return false;
	}
	return true;
}

bool
certinfo_names_equal(const struct certinfo *ci, const struct strlist *names)
{
	return certinfo_names_in(&ci->names, names) &&
	    certinfo_names_in(names, &ci->names);
}

/* DER that is one SEQUENCE filling exactly len bytes (a certificate's
 * shape, checked without decoding it: see certinfo_split_chain()). */
static bool
certinfo_der_is_sequence(const unsigned char *der, long len)
{
	const unsigned char	*p = der;
	long			 inner;
	int			 tag, class, ret;

	ret = ASN1_get_object(&p, &inner, &tag, &class, len);
	ERR_clear_error();
	return !(ret & 0x80) && ret == V_ASN1_CONSTRUCTED &&
	    tag == V_ASN1_SEQUENCE && class == V_ASN1_UNIVERSAL &&
	    (p - der) + inner == len;
}

/*
 * The blocks are split as PEM, not parsed as X.509: decoding a certificate
 * sets up OpenSSL 3's key decoders for its public key, the largest part of
 * the CPU a renewal costs, and the leaf is parsed once afterwards anyway.
 */
int
certinfo_split_chain(const char *pem, char **leaf, char **chain,
    char **cause)
{
	BIO		*in = NULL, *lbio = NULL, *cbio = NULL;
	char		*name = NULL, *header = NULL;
	unsigned char	*der = NULL;
	long		 len;
	unsigned long	 e;
	int		 n, rc = -1;

	*leaf = *chain = NULL;
	if ((in = BIO_new_mem_buf(pem, -1)) == NULL ||
	    (lbio = BIO_new(BIO_s_mem())) == NULL ||
	    (cbio = BIO_new(BIO_s_mem())) == NULL) {
		certinfo_error(cause, "split chain");
		goto out;
	}
	for (n = 0; PEM_read_bio(in, &name, &header, &der, &len) == 1; n++) {
		if (strcmp(name, PEM_STRING_X509) != 0 ||
		    !certinfo_der_is_sequence(der, len)) {
			certinfo_error(cause, "certificate %d of the chain",
			    n + 1);
			goto out;
		}
		if (PEM_write_bio(n == 0 ? lbio : cbio, name, "", der,
		    len) <= 0) {
			certinfo_error(cause, "split chain");
			goto out;
		}
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(der);
		name = header = NULL;
		der = NULL;
	}
	/* The loop ends at the end of the text, or at a broken block. */
	e = ERR_peek_last_error();
	if (ERR_GET_LIB(e) != ERR_LIB_PEM ||
	    ERR_GET_REASON(e) != PEM_R_NO_START_LINE) {
		certinfo_error(cause, "certificate %d of the chain", n + 1);
		goto out;
	}
	ERR_clear_error();
	if (n == 0) {
		certinfo_error(cause, "no certificate in the chain");
		goto out;
	}
	if ((*leaf = certinfo_bio_text(lbio)) == NULL ||
	    (*chain = certinfo_bio_text(cbio)) == NULL) {
		certinfo_error(cause, "split chain");
		goto out;
	}
	rc = 0;
out:
	if (rc == -1) {
		free(*leaf);
		free(*chain);
		*leaf = *chain = NULL;
	}
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(der);
	BIO_free(in);
	BIO_free(lbio);
	BIO_free(cbio);
	return rc;
}

char *
certinfo_chain_top_issuer(const char *pem)
{
	BIO	*bio;
	X509	*x, *top = NULL;
	char	*issuer = NULL;

	if ((bio = BIO_new_mem_buf(pem, -1)) == NULL)
		return NULL;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		X509_free(top);
		top = x;
	}
	ERR_clear_error();	/* the end of the text */
	if (top != NULL)
		issuer = certinfo_issuer(top);
	X509_free(top);
	BIO_free(bio);
	return issuer;
}
