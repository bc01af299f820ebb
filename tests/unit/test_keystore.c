/* keystore: generation, PEM round trips, spec_of, signatures that verify. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "daemon/acme/acme.h"

int	 main(void);

static const struct {
	struct key_spec	 spec;
	const char	*alg;
	size_t		 siglen;
	const char	*md;
} kinds[] = {
	{ { KEY_EC_P256, 0 }, "ES256", 64, "SHA256" },
	{ { KEY_EC_P384, 0 }, "ES384", 96, "SHA384" },
	{ { KEY_RSA, 2048 }, "RS256", 256, "SHA256" },
};
#define NKINDS	(sizeof(kinds) / sizeof(kinds[0]))

/* One key of each kind, generated once for all tests. */
static EVP_PKEY	*keys[NKINDS];

static int
setup_keys(void **state)
{
	size_t	 i;

	for (i = 0; i < NKINDS; i++)
		if ((keys[i] = keystore_generate(&kinds[i].spec)) == NULL)
			return -1;
	return 0;
}

static int
teardown_keys(void **state)
{
	size_t	 i;

	for (i = 0; i < NKINDS; i++)
		EVP_PKEY_free(keys[i]);
	return 0;
}

/*
 * Verifies a JWS-style signature: raw r||s for ECDSA is turned back into
 * DER first.  Returns EVP_DigestVerify's result.
 */
static int
verify_jws_sig(EVP_PKEY *key, const char *mdname, const void *msg,
    size_t len, const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX	*ctx;
	ECDSA_SIG	*es;
	BIGNUM		*r, *s;
	unsigned char	*der = NULL;
	int		 derlen, rc;

	if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC) {
		assert_int_equal(siglen % 2, 0);
		r = BN_bin2bn(sig, (int)(siglen / 2), NULL);
		s = BN_bin2bn(sig + siglen / 2, (int)(siglen / 2), NULL);
		assert_non_null(es = ECDSA_SIG_new());
		assert_int_equal(ECDSA_SIG_set0(es, r, s), 1);
		derlen = i2d_ECDSA_SIG(es, &der);
		assert_true(derlen > 0);
		ECDSA_SIG_free(es);
		sig = der;
		siglen = (size_t)derlen;
	}
	assert_non_null(ctx = EVP_MD_CTX_new());
	assert_int_equal(EVP_DigestVerifyInit_ex(ctx, NULL, mdname, NULL, NULL,
	    key, NULL), 1);
	rc = EVP_DigestVerify(ctx, sig, siglen, msg, len);
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(der);
	return rc;
}

static void
test_generate_spec(void **state)
{
	struct key_spec	 spec;
	size_t		 i;

	for (i = 0; i < NKINDS; i++) {
		assert_non_null(keys[i]);
		memset(&spec, 0xff, sizeof(spec));
		assert_int_equal(keystore_spec_of(keys[i], &spec), 0);
		assert_int_equal(spec.kind, kinds[i].spec.kind);
		assert_int_equal(spec.bits, kinds[i].spec.bits);
		assert_string_equal(keystore_jws_alg(keys[i]), kinds[i].alg);
	}
}

static void
test_generate_rsa_sizes(void **state)
{
	struct key_spec	 spec = { KEY_RSA, 3072 }, got;
	EVP_PKEY	*key;

	assert_non_null(key = keystore_generate(&spec));
	assert_int_equal(keystore_spec_of(key, &got), 0);
	assert_int_equal(got.kind, KEY_RSA);
	assert_int_equal(got.bits, 3072);
	EVP_PKEY_free(key);

	spec.bits = 1024;
	assert_null(keystore_generate(&spec));
	spec.kind = KEY_KIND__MAX;
	assert_null(keystore_generate(&spec));
}

static void
test_pem_round_trip(void **state)
{
	struct key_spec	 spec;
	EVP_PKEY	*back;
	char		*pem;
	size_t		 i;

	for (i = 0; i < NKINDS; i++) {
		assert_non_null(pem = keystore_to_pem(keys[i]));
		/* PKCS#8, unencrypted. */
		assert_int_equal(strncmp(pem, "-----BEGIN PRIVATE KEY-----\n",
		    28), 0);
		assert_non_null(strstr(pem, "-----END PRIVATE KEY-----\n"));
		assert_non_null(back = keystore_from_pem(pem));
		assert_int_equal(EVP_PKEY_eq(back, keys[i]), 1);
		assert_int_equal(keystore_spec_of(back, &spec), 0);
		assert_int_equal(spec.kind, kinds[i].spec.kind);
		assert_int_equal(spec.bits, kinds[i].spec.bits);
		EVP_PKEY_free(back);
		OPENSSL_cleanse(pem, strlen(pem));
		free(pem);
	}
}

static void
test_pem_bad(void **state)
{
	EVP_PKEY	*ed;
	BIO		*bio;
	char		*pem, *data;
	long		 len;

	assert_null(keystore_from_pem(""));
	assert_null(keystore_from_pem("garbage"));
	assert_null(keystore_from_pem("-----BEGIN PRIVATE KEY-----\n"
	    "AAAA\n-----END PRIVATE KEY-----\n"));

	/* A key type we do not support loads as an error. */
	assert_non_null(ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"));
	assert_non_null(pem = keystore_to_pem(ed));
	assert_null(keystore_from_pem(pem));
	free(pem);
	EVP_PKEY_free(ed);

	/* An encrypted key is refused without asking for a passphrase. */
	assert_non_null(bio = BIO_new(BIO_s_mem()));
	assert_int_equal(PEM_write_bio_PKCS8PrivateKey(bio, keys[0],
	    EVP_aes_256_cbc(), "secret", 6, NULL, NULL), 1);
	assert_true((len = BIO_get_mem_data(bio, &data)) > 0);
	assert_non_null(pem = strndup(data, (size_t)len));
	assert_non_null(strstr(pem, "ENCRYPTED"));
	assert_null(keystore_from_pem(pem));
	free(pem);
	BIO_free(bio);
}

static void
test_unsupported(void **state)
{
	struct key_spec	 spec;
	EVP_PKEY	*key;
	unsigned char	*sig = NULL;
	size_t		 siglen;

	assert_non_null(key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521"));
	assert_int_equal(keystore_spec_of(key, &spec), -1);
	assert_null(keystore_jws_alg(key));
	assert_int_equal(keystore_sign(key, "x", 1, &sig, &siglen), -1);
	assert_null(sig);
	EVP_PKEY_free(key);

	assert_non_null(key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
	    (size_t)1024));
	assert_int_equal(keystore_spec_of(key, &spec), -1);
	EVP_PKEY_free(key);
}

static void
test_sign_verify(void **state)
{
	static const char	 msg[] = "eyJhbGciOiJFUzI1NiJ9.e30";
	unsigned char		*sig;
	size_t			 i, siglen;
	int			 round;

	for (i = 0; i < NKINDS; i++) {
		/* ECDSA is randomized: a few rounds catch short r or s. */
		for (round = 0; round < 16; round++) {
			sig = NULL;
			assert_int_equal(keystore_sign(keys[i], msg,
			    strlen(msg), &sig, &siglen), 0);
			assert_int_equal(siglen, kinds[i].siglen);
			assert_int_equal(verify_jws_sig(keys[i], kinds[i].md,
			    msg, strlen(msg), sig, siglen), 1);
			/* Another message, or another digest, must fail. */
			assert_int_not_equal(verify_jws_sig(keys[i],
			    kinds[i].md, msg, strlen(msg) - 1, sig, siglen), 1);
			if (kinds[i].spec.kind == KEY_EC_P384)
				assert_int_not_equal(verify_jws_sig(keys[i],
				    "SHA256", msg, strlen(msg), sig, siglen),
				    1);
			free(sig);
			if (kinds[i].spec.kind == KEY_RSA)
				break;
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generate_spec),
		cmocka_unit_test(test_generate_rsa_sizes),
		cmocka_unit_test(test_pem_round_trip),
		cmocka_unit_test(test_pem_bad),
		cmocka_unit_test(test_unsupported),
		cmocka_unit_test(test_sign_verify),
	};

	return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}
