/*
 * Unit tests for daemon/certinfo.c.  Keys and certificates are made here
 * with OpenSSL, so every expected value is known.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "daemon/certinfo.h"

#define T_2026_01_01	((time_t)1767225600)
#define T_2026_04_01	((time_t)1775001600)
#define T_2051_01_01	((time_t)2556144000)	/* GeneralizedTime */

/* What a test certificate is made of. */
struct cert_params {
	EVP_PKEY	*key;		/* subject key */
	EVP_PKEY	*signer;	/* NULL: self-signed */
	const char	*issuer_cn;	/* NULL: only O=issuer_o */
	const char	*issuer_o;
	const char	*serial_hex;
	time_t		 not_before;
	time_t		 not_after;
	const char	*san;		/* "DNS:a,IP:192.0.2.1"; NULL */
	const char	*aki;		/* "keyid:69:88:..."; NULL: none */
};

static char *
bio_string(BIO *bio)
{
	char	*data, *s;
	long	 len;

	len = BIO_get_mem_data(bio, &data);
	assert_true(len >= 0);
	assert_non_null(s = malloc((size_t)len + 1));
	memcpy(s, data, (size_t)len);
	s[len] = '\0';
	return s;
}

static EVP_PKEY *
key_make(const char *kind)
{
	EVP_PKEY	*key;

	if (strcmp(kind, "RSA") == 0)
		key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	else
		key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", kind);
	assert_non_null(key);
	return key;
}

static char *
key_pem(EVP_PKEY *key)
{
	BIO	*bio;
	char	*s;

	assert_non_null(bio = BIO_new(BIO_s_mem()));
	assert_int_equal(PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0,
	    NULL, NULL), 1);
	s = bio_string(bio);
	BIO_free(bio);
	return s;
}

static char *
cert_make(const struct cert_params *cp)
{
	X509		*x;
	X509_NAME	*subj, *iss;
	X509_EXTENSION	*ext;
	BIGNUM		*bn = NULL;
	BIO		*bio;
	char		*s;

	assert_non_null(x = X509_new());
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	assert_true(BN_hex2bn(&bn, cp->serial_hex) > 0);
	assert_non_null(BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)));
	BN_free(bn);
	assert_non_null(ASN1_TIME_set(X509_getm_notBefore(x),
	    cp->not_before));
	assert_non_null(ASN1_TIME_set(X509_getm_notAfter(x), cp->not_after));

	subj = X509_get_subject_name(x);
	assert_int_equal(X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_ASC,
	    (const unsigned char *)"leaf", -1, -1, 0), 1);
	assert_non_null(iss = X509_NAME_new());
	if (cp->issuer_o != NULL)
		assert_int_equal(X509_NAME_add_entry_by_txt(iss, "O",
		    MBSTRING_ASC, (const unsigned char *)cp->issuer_o, -1, -1,
		    0), 1);
	if (cp->issuer_cn != NULL)
		assert_int_equal(X509_NAME_add_entry_by_txt(iss, "CN",
		    MBSTRING_UTF8, (const unsigned char *)cp->issuer_cn, -1,
		    -1, 0), 1);
	assert_int_equal(X509_set_issuer_name(x, iss), 1);
	X509_NAME_free(iss);
	assert_int_equal(X509_set_pubkey(x, cp->key), 1);

	if (cp->san != NULL) {
		ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name,
		    cp->san);
		assert_non_null(ext);
		assert_int_equal(X509_add_ext(x, ext, -1), 1);
		X509_EXTENSION_free(ext);
	}
	if (cp->aki != NULL) {
		/* The keyid as given: X509V3_EXT_conf_nid would derive one. */
		AUTHORITY_KEYID	*akid;
		long		 klen;
		unsigned char	*kid;

		assert_non_null(kid = OPENSSL_hexstr2buf(cp->aki, &klen));
		assert_non_null(akid = AUTHORITY_KEYID_new());
		assert_non_null(akid->keyid = ASN1_OCTET_STRING_new());
		assert_int_equal(ASN1_OCTET_STRING_set(akid->keyid, kid,
		    (int)klen), 1);
		assert_int_equal(X509_add1_ext_i2d(x, NID_authority_key_identifier,
		    akid, 0, X509V3_ADD_DEFAULT), 1);
		AUTHORITY_KEYID_free(akid);
		OPENSSL_free(kid);
	}
	assert_true(X509_sign(x, cp->signer != NULL ? cp->signer : cp->key,
	    EVP_sha256()) > 0);

	assert_non_null(bio = BIO_new(BIO_s_mem()));
	assert_int_equal(PEM_write_bio_X509(bio, x), 1);
	s = bio_string(bio);
	BIO_free(bio);
	X509_free(x);
	return s;
}

/* A plain self-signed certificate for key. */
static char *
cert_simple(EVP_PKEY *key, const char *cn)
{
	struct cert_params	cp = {
		.key = key, .issuer_cn = cn, .serial_hex = "01",
		.not_before = T_2026_01_01, .not_after = T_2026_04_01,
		.san = "DNS:example.com",
	};

	return cert_make(&cp);
}

static bool
has_name(const struct certinfo *ci, const char *name)
{
	size_t	i;

	for (i = 0; i < ci->names.n; i++) {
		if (strcmp(ci->names.v[i], name) == 0)
			return true;
	}
	return false;
}

static void
test_parse_p256(void **state)
{
	struct certinfo		 ci;
	struct cert_params	 cp;
	EVP_PKEY		*key, *ca;
	char			*pem, *cause = NULL;

	key = key_make("P-256");
	ca = key_make("P-384");
	memset(&cp, 0, sizeof(cp));
	cp.key = key;
	cp.signer = ca;
	cp.issuer_cn = "Test Issuing CA R1";
	cp.issuer_o = "Test PKI";
	cp.serial_hex = "00FA0123456789ABCDEF";
	cp.not_before = T_2026_01_01;
	cp.not_after = T_2026_04_01;
	cp.san = "DNS:Example.com,DNS:www.example.com,IP:192.0.2.7,"
	    "IP:2001:db8:0:0::1";
	pem = cert_make(&cp);

	if (certinfo_parse(pem, &ci, &cause) == -1)
		fail_msg("%s", cause);
	assert_int_equal(ci.not_before, T_2026_01_01);
	assert_int_equal(ci.not_after, T_2026_04_01);
	assert_string_equal(ci.serial, "FA0123456789ABCDEF");
	assert_string_equal(ci.issuer, "Test Issuing CA R1");
	assert_int_equal(ci.names.n, 4);
	assert_string_equal(ci.names.v[0], "Example.com");
	assert_string_equal(ci.names.v[1], "www.example.com");
	assert_string_equal(ci.names.v[2], "192.0.2.7");
	assert_string_equal(ci.names.v[3], "2001:db8::1");
	assert_int_equal(ci.key.kind, KEY_EC_P256);
	certinfo_clear(&ci);
	assert_null(ci.serial);
	certinfo_clear(NULL);

	free(pem);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca);
}

static void
test_parse_p384(void **state)
{
	struct certinfo		 ci;
	struct cert_params	 cp;
	EVP_PKEY		*key;
	char			*pem, *cause = NULL;

	key = key_make("P-384");
	memset(&cp, 0, sizeof(cp));
	cp.key = key;
	cp.issuer_o = "No Common Name Inc";
	cp.serial_hex = "0123";			/* one nibble of zero */
	cp.not_before = T_2026_01_01;
	cp.not_after = T_2051_01_01;
	cp.san = "IP:::1,DNS:*.example.org";
	pem = cert_make(&cp);

	if (certinfo_parse(pem, &ci, &cause) == -1)
		fail_msg("%s", cause);
	assert_int_equal(ci.not_after, T_2051_01_01);
	assert_string_equal(ci.serial, "123");
	/* No CN: the one-line DN. */
	assert_non_null(strstr(ci.issuer, "No Common Name Inc"));
	assert_int_equal(ci.names.n, 2);
	assert_true(has_name(&ci, "::1"));
	assert_true(has_name(&ci, "*.example.org"));
	assert_int_equal(ci.key.kind, KEY_EC_P384);
	certinfo_clear(&ci);

	free(pem);
	EVP_PKEY_free(key);
}

static void
test_parse_rsa(void **state)
{
	struct certinfo		 ci;
	struct cert_params	 cp;
	EVP_PKEY		*key;
	char			*pem, *cause = NULL;

	key = key_make("RSA");
	memset(&cp, 0, sizeof(cp));
	cp.key = key;
	cp.issuer_cn = "RSA CA";
	cp.serial_hex = "7F";
	cp.not_before = T_2026_01_01;
	cp.not_after = T_2026_04_01;
	cp.san = NULL;				/* no SAN at all */
	pem = cert_make(&cp);

	if (certinfo_parse(pem, &ci, &cause) == -1)
		fail_msg("%s", cause);
	assert_string_equal(ci.serial, "7F");
	assert_string_equal(ci.issuer, "RSA CA");
	assert_int_equal(ci.names.n, 0);
	assert_int_equal(ci.key.kind, KEY_RSA);
	assert_int_equal(ci.key.bits, 2048);
	certinfo_clear(&ci);

	free(pem);
	EVP_PKEY_free(key);
}

static void
test_parse_bad(void **state)
{
	struct certinfo	 ci;
	char		*cause = NULL;

	assert_int_equal(certinfo_parse("not a certificate", &ci, &cause), -1);
	assert_non_null(cause);
	assert_null(ci.serial);
	free(cause);
	cause = NULL;
	assert_int_equal(certinfo_parse("-----BEGIN CERTIFICATE-----\n"
	    "AAAA\n-----END CERTIFICATE-----\n", &ci, &cause), -1);
	assert_non_null(cause);
	free(cause);
}

/* certinfo_parse_with_key() of a certificate with a key read from PEM. */
static bool
key_matches(const char *cert, const char *kpem)
{
	struct certinfo	 ci;
	EVP_PKEY	*k = certinfo_read_key(kpem);
	char		*cause = NULL;
	bool		 m = false;

	assert_non_null(k);
	assert_int_equal(certinfo_parse_with_key(cert, k, &ci, &m, &cause), 0);
	certinfo_clear(&ci);
	EVP_PKEY_free(k);
	return m;
}

/* A key read back from its PEM is the same key. */
static void
assert_reads_back(EVP_PKEY *k, const char *kpem)
{
	EVP_PKEY	*back = certinfo_read_key(kpem);

	assert_non_null(back);
	assert_int_equal(EVP_PKEY_eq(k, back), 1);
	EVP_PKEY_free(back);
}

static void
test_key_matches(void **state)
{
	EVP_PKEY	*k1, *k2, *k3;
	char		*c1, *c3, *p1, *p2, *p3;

	k1 = key_make("P-256");
	k2 = key_make("P-256");
	k3 = key_make("RSA");
	c1 = cert_simple(k1, "one");
	c3 = cert_simple(k3, "three");
	p1 = key_pem(k1);
	p2 = key_pem(k2);
	p3 = key_pem(k3);

	assert_true(key_matches(c1, p1));
	assert_false(key_matches(c1, p2));
	assert_false(key_matches(c1, p3));
	assert_true(key_matches(c3, p3));
	assert_false(key_matches(c3, p1));
	assert_null(certinfo_read_key("garbage"));
	assert_null(certinfo_read_key(c1));	/* a certificate, no key */
	assert_reads_back(k2, p2);
	{
		struct certinfo	 ci;
		char		*cause = NULL;
		bool		 m = true;

		assert_int_equal(certinfo_parse_with_key("garbage", k1, &ci, &m,
		    &cause), -1);
		assert_non_null(cause);
		free(cause);
	}

	free(c1);
	free(c3);
	free(p1);
	free(p2);
	free(p3);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	EVP_PKEY_free(k3);
}

/* Lists compared with the SAN of test_names_equal's certificate. */
static char *names_same[] = { "2001:DB8::1", "WWW.example.com", "192.0.2.7",
    "example.COM" };
static char *names_padded[] = { "2001:0db8:0::0001", "example.com",
    "www.example.com", "192.0.2.7" };
static char *names_fewer[] = { "example.com", "www.example.com",
    "192.0.2.7" };
static char *names_more[] = { "example.com", "www.example.com", "192.0.2.7",
    "2001:db8::1", "a.example" };
static char *names_other[] = { "example.com", "www.example.com",
    "192.0.2.8", "2001:db8::1" };

static void
test_names_equal(void **state)
{
	struct certinfo		 ci;
	struct cert_params	 cp;
	struct strlist		 l;
	EVP_PKEY		*key;
	char			*pem, *cause = NULL;

	key = key_make("P-256");
	memset(&cp, 0, sizeof(cp));
	cp.key = key;
	cp.issuer_cn = "CA";
	cp.serial_hex = "01";
	cp.not_before = T_2026_01_01;
	cp.not_after = T_2026_04_01;
	cp.san = "DNS:example.com,DNS:www.example.com,IP:192.0.2.7,"
	    "IP:2001:db8::1";
	pem = cert_make(&cp);
	if (certinfo_parse(pem, &ci, &cause) == -1)
		fail_msg("%s", cause);

	l.v = names_same;
	l.n = 4;
	assert_true(certinfo_names_equal(&ci, &l));
	l.v = names_padded;
	assert_true(certinfo_names_equal(&ci, &l));
	l.v = names_fewer;
	l.n = 3;
	assert_false(certinfo_names_equal(&ci, &l));
	l.v = names_more;
	l.n = 5;
	assert_false(certinfo_names_equal(&ci, &l));
	l.v = names_other;
	l.n = 4;
	assert_false(certinfo_names_equal(&ci, &l));
	l.v = NULL;
	l.n = 0;
	assert_false(certinfo_names_equal(&ci, &l));

	certinfo_clear(&ci);
	free(pem);
	EVP_PKEY_free(key);
}

static void
test_split_chain(void **state)
{
	EVP_PKEY	*k[3];
	char		*c[3], *text, *leaf, *chain, *cause = NULL, *expect;
	int		 i;

	for (i = 0; i < 3; i++) {
		k[i] = key_make("P-256");
		c[i] = cert_simple(k[i], i == 0 ? "leaf" : "ca");
	}

	/* One certificate: the chain is empty. */
	assert_int_equal(certinfo_split_chain(c[0], &leaf, &chain, &cause),
	    0);
	assert_string_equal(leaf, c[0]);
	assert_string_equal(chain, "");
	free(leaf);
	free(chain);

	/* Three, with the text a CA may put around them (CRLF too). */
	if (asprintf(&text, "leaf:\r\n%s\r\nintermediate\n%s\n\nroot\n%s",
	    c[0], c[1], c[2]) == -1)
		fail();
	assert_int_equal(certinfo_split_chain(text, &leaf, &chain, &cause),
	    0);
	assert_string_equal(leaf, c[0]);
	if (asprintf(&expect, "%s%s", c[1], c[2]) == -1)
		fail();
	assert_string_equal(chain, expect);
	free(expect);
	free(leaf);
	free(chain);
	free(text);

	/* Garbage. */
	leaf = chain = (char *)"unset";
	assert_int_equal(certinfo_split_chain("garbage\n", &leaf, &chain,
	    &cause), -1);
	assert_non_null(cause);
	assert_null(leaf);
	assert_null(chain);
	free(cause);
	cause = NULL;
	assert_int_equal(certinfo_split_chain("", &leaf, &chain, &cause), -1);
	free(cause);
	cause = NULL;

	/* A broken block after a good one is an error too. */
	if (asprintf(&text, "%s-----BEGIN CERTIFICATE-----\nAAAA\n"
	    "-----END CERTIFICATE-----\n", c[0]) == -1)
		fail();
	assert_int_equal(certinfo_split_chain(text, &leaf, &chain, &cause),
	    -1);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "certificate 2"));
	free(cause);
	free(text);

	for (i = 0; i < 3; i++) {
		free(c[i]);
		EVP_PKEY_free(k[i]);
	}
}

/* RFC 9773 §4.1's example: AKI 69:88:5B... and serial 0x87654321. */
static void
test_ari_id(void **state)
{
	EVP_PKEY		*key = key_make("P-256");
	struct certinfo		 ci;
	char			*pem, *cause = NULL;
	struct cert_params	 cp = {
		.key = key, .issuer_cn = "ARI CA", .serial_hex = "87654321",
		.not_before = T_2026_01_01, .not_after = T_2026_04_01,
		.san = "DNS:example.com",
		.aki = "69:88:5B:6B:87:46:40:41:E1:B3:7B:84:7B:A0:AE:2C:DE:01:"
		    "C8:D4",
	};

	pem = cert_make(&cp);
	assert_int_equal(certinfo_parse(pem, &ci, &cause), 0);
	assert_string_equal(ci.ari_id, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
	certinfo_clear(&ci);
	free(pem);

	/* No AKI, no identifier (and no error). */
	cp.aki = NULL;
	pem = cert_make(&cp);
	assert_int_equal(certinfo_parse(pem, &ci, &cause), 0);
	assert_null(ci.ari_id);
	certinfo_clear(&ci);
	free(pem);
	EVP_PKEY_free(key);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ari_id),
		cmocka_unit_test(test_parse_p256),
		cmocka_unit_test(test_parse_p384),
		cmocka_unit_test(test_parse_rsa),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_key_matches),
		cmocka_unit_test(test_names_equal),
		cmocka_unit_test(test_split_chain),
	};

	log_init("test_certinfo", LOG_TARGET_STDERR, LOG_WARNING);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
