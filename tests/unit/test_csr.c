/* CSRs: decoded back, signature checked, SANs and subject compared. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "b64url.h"
#include "daemon/acme/acme.h"

int	 main(void);

static char *const names4[] = {
	"example.test", "www.example.test", "127.0.0.1", "::1",
};

static X509_REQ *
csr_decode(const char *b64)
{
	unsigned char		*der;
	const unsigned char	*p;
	X509_REQ		*req;
	size_t			 len;

	assert_non_null(der = b64url_decode(b64, &len));
	p = der;
	assert_non_null(req = d2i_X509_REQ(NULL, &p, (long)len));
	assert_ptr_equal(p, der + len);
	free(der);
	return req;
}

/* Its subjectAltName; *critical gets the extension's flag. */
static GENERAL_NAMES *
csr_sans(X509_REQ *req, int *critical)
{
	STACK_OF(X509_EXTENSION) *exts;
	GENERAL_NAMES		*gens;

	assert_non_null(exts = X509_REQ_get_extensions(req));
	assert_int_equal(sk_X509_EXTENSION_num(exts), 1);
	gens = X509V3_get_d2i(exts, NID_subject_alt_name, critical, NULL);
	assert_non_null(gens);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return gens;
}

/* "" when the subject has no CN. */
static void
assert_cn(X509_REQ *req, const char *want)
{
	X509_NAME	*subj;
	char		 cn[256];
	int		 n;

	subj = X509_REQ_get_subject_name(req);
	n = X509_NAME_get_text_by_NID(subj, NID_commonName, cn, sizeof(cn));
	if (*want == '\0') {
		assert_int_equal(n, -1);
		assert_int_equal(X509_NAME_entry_count(subj), 0);
	} else {
		assert_true(n > 0);
		assert_string_equal(cn, want);
		assert_int_equal(X509_NAME_entry_count(subj), 1);
	}
}

static void
assert_dns(const GENERAL_NAME *gen, const char *want)
{
	const ASN1_IA5STRING	*s;
	int			 type;

	s = GENERAL_NAME_get0_value(gen, &type);
	assert_int_equal(type, GEN_DNS);
	assert_int_equal(ASN1_STRING_length(s), strlen(want));
	assert_memory_equal(ASN1_STRING_get0_data(s), want, strlen(want));
}

static void
assert_ip(const GENERAL_NAME *gen, const void *want, size_t len)
{
	const ASN1_OCTET_STRING	*s;
	int			 type;

	s = GENERAL_NAME_get0_value(gen, &type);
	assert_int_equal(type, GEN_IPADD);
	assert_int_equal(ASN1_STRING_length(s), len);
	assert_memory_equal(ASN1_STRING_get0_data(s), want, len);
}

/* The digest behind the request's signature algorithm. */
static int
csr_md_nid(X509_REQ *req)
{
	int	 mdnid, pknid;

	assert_int_equal(OBJ_find_sigid_algs(X509_REQ_get_signature_nid(req),
	    &mdnid, &pknid), 1);
	return mdnid;
}

static void
test_csr_kinds(void **state)
{
	static const struct {
		struct key_spec	 spec;
		int		 mdnid;
	} kinds[] = {
		{ { KEY_EC_P256, 0 }, NID_sha256 },
		{ { KEY_EC_P384, 0 }, NID_sha384 },
		{ { KEY_RSA, 2048 }, NID_sha256 },
	};
	static const unsigned char	 lo4[4] = { 127, 0, 0, 1 };
	static const unsigned char	 lo6[16] = { [15] = 1 };
	EVP_PKEY			*key;
	X509_REQ			*req;
	GENERAL_NAMES			*gens;
	char				*b64;
	size_t				 i;
	int				 crit;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		assert_non_null(key = keystore_generate(&kinds[i].spec));
		assert_non_null(b64 = csr_build(key, names4, 4));
		req = csr_decode(b64);

		assert_int_equal(X509_REQ_verify(req, key), 1);
		assert_int_equal(EVP_PKEY_eq(X509_REQ_get0_pubkey(req), key),
		    1);
		assert_int_equal(csr_md_nid(req), kinds[i].mdnid);
		assert_int_equal(X509_REQ_get_version(req), X509_REQ_VERSION_1);
		assert_cn(req, "example.test");

		gens = csr_sans(req, &crit);
		assert_int_equal(crit, 0);
		assert_int_equal(sk_GENERAL_NAME_num(gens), 4);
		assert_dns(sk_GENERAL_NAME_value(gens, 0), "example.test");
		assert_dns(sk_GENERAL_NAME_value(gens, 1), "www.example.test");
		assert_ip(sk_GENERAL_NAME_value(gens, 2), lo4, sizeof(lo4));
		assert_ip(sk_GENERAL_NAME_value(gens, 3), lo6, sizeof(lo6));
		GENERAL_NAMES_free(gens);

		X509_REQ_free(req);
		free(b64);
		EVP_PKEY_free(key);
	}
}

static void
test_csr_subject(void **state)
{
	static char *const	 ips[] = { "192.0.2.1", "2001:db8::1" };
	static char *const	 ipfirst[] = { "192.0.2.1", "*.example.test" };
	static char *const	 longfirst[] = {
		"a-label-that-is-quite-long.another-long-label.yet-more."
		    "example.test",
		"short.test",
	};
	struct key_spec		 spec = { KEY_EC_P256, 0 };
	EVP_PKEY		*key;
	X509_REQ		*req;
	GENERAL_NAMES		*gens;
	char			*b64;
	int			 crit;

	assert_non_null(key = keystore_generate(&spec));

	/* Addresses only: empty subject, critical subjectAltName. */
	assert_non_null(b64 = csr_build(key, ips, 2));
	req = csr_decode(b64);
	assert_int_equal(X509_REQ_verify(req, key), 1);
	assert_cn(req, "");
	gens = csr_sans(req, &crit);
	assert_int_equal(crit, 1);
	assert_int_equal(sk_GENERAL_NAME_num(gens), 2);
	GENERAL_NAMES_free(gens);
	X509_REQ_free(req);
	free(b64);

	/* The CN is the first DNS name, wherever it is. */
	assert_non_null(b64 = csr_build(key, ipfirst, 2));
	req = csr_decode(b64);
	assert_cn(req, "*.example.test");
	gens = csr_sans(req, &crit);
	assert_int_equal(crit, 0);
	assert_dns(sk_GENERAL_NAME_value(gens, 1), "*.example.test");
	GENERAL_NAMES_free(gens);
	X509_REQ_free(req);
	free(b64);

	/* A name over 64 characters cannot be a CN, but stays a SAN. */
	assert_true(strlen(longfirst[0]) > 64);
	assert_non_null(b64 = csr_build(key, longfirst, 2));
	req = csr_decode(b64);
	assert_cn(req, "short.test");
	gens = csr_sans(req, &crit);
	assert_int_equal(sk_GENERAL_NAME_num(gens), 2);
	assert_dns(sk_GENERAL_NAME_value(gens, 0), longfirst[0]);
	GENERAL_NAMES_free(gens);
	X509_REQ_free(req);
	free(b64);

	EVP_PKEY_free(key);
}

static void
test_csr_bad(void **state)
{
	static char *const	 space[] = { "exa mple.test" };
	static char *const	 empty[] = { "" };
	static char *const	 high[] = { "b\xc3\xa4r.test" };
	static char *const	 null[] = { "example.test", NULL };
	struct key_spec		 spec = { KEY_EC_P256, 0 };
	EVP_PKEY		*key;

	assert_non_null(key = keystore_generate(&spec));
	assert_null(csr_build(key, names4, 0));
	assert_null(csr_build(key, NULL, 1));
	assert_null(csr_build(key, space, 1));
	assert_null(csr_build(key, empty, 1));
	assert_null(csr_build(key, high, 1));
	assert_null(csr_build(key, null, 2));
	EVP_PKEY_free(key);
}

static void
test_is_ip(void **state)
{
	assert_true(acme_is_ip("127.0.0.1"));
	assert_true(acme_is_ip("192.0.2.255"));
	assert_true(acme_is_ip("::1"));
	assert_true(acme_is_ip("2001:db8::1"));
	assert_true(acme_is_ip("::ffff:192.0.2.1"));
	assert_false(acme_is_ip("example.test"));
	assert_false(acme_is_ip("1.2.3"));
	assert_false(acme_is_ip("256.0.0.1"));
	assert_false(acme_is_ip("[::1]"));
	assert_false(acme_is_ip("fe80::1%eth0"));
	assert_false(acme_is_ip(" 127.0.0.1"));
	assert_false(acme_is_ip(""));
	assert_false(acme_is_ip(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csr_kinds),
		cmocka_unit_test(test_csr_subject),
		cmocka_unit_test(test_csr_bad),
		cmocka_unit_test(test_is_ip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
