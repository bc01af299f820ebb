/* JWS: RFC 7638 and RFC 7515 vectors, JWKs, and signed ACME requests. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "b64url.h"
#include "daemon/acme/acme.h"

int	 main(void);

/* RFC 7638 §3.1. */
static const char rfc7638_n[] =
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7"
    "aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBX"
    "Arwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9"
    "c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM"
    "4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
static const char rfc7638_e[] = "AQAB";
static const char rfc7638_thumbprint[] =
    "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";

/* RFC 7515 Appendix A.3: the ES256 key, signing input and signature. */
static const char a3_x[] = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
static const char a3_y[] = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
static const char a3_d[] = "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI";
static const char a3_input[] =
    "eyJhbGciOiJFUzI1NiJ9"
    "."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
    "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
static const char a3_sig[] =
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSA"
    "pmWQxfKTUJqPP3-Kg6NU1Q";

static BIGNUM *
b64_bn(const char *s)
{
	unsigned char	*raw;
	BIGNUM		*bn;
	size_t		 len;

	assert_non_null(raw = b64url_decode(s, &len));
	assert_non_null(bn = BN_bin2bn(raw, (int)len, NULL));
	free(raw);
	return bn;
}

static EVP_PKEY *
key_fromdata(const char *type, OSSL_PARAM_BLD *bld, int selection)
{
	EVP_PKEY_CTX	*ctx;
	OSSL_PARAM	*params;
	EVP_PKEY	*key = NULL;

	assert_non_null(params = OSSL_PARAM_BLD_to_param(bld));
	assert_non_null(ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL));
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &key, selection, params), 1);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return key;
}

static EVP_PKEY *
rfc7638_key(void)
{
	OSSL_PARAM_BLD	*bld;
	BIGNUM		*n, *e;
	EVP_PKEY	*key;

	n = b64_bn(rfc7638_n);
	e = b64_bn(rfc7638_e);
	assert_non_null(bld = OSSL_PARAM_BLD_new());
	assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N,
	    n), 1);
	assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E,
	    e), 1);
	key = key_fromdata("RSA", bld, EVP_PKEY_PUBLIC_KEY);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return key;
}

static EVP_PKEY *
a3_key(void)
{
	OSSL_PARAM_BLD	*bld;
	unsigned char	 pub[65], *x, *y;
	size_t		 xlen, ylen;
	BIGNUM		*d;
	EVP_PKEY	*key;

	assert_non_null(x = b64url_decode(a3_x, &xlen));
	assert_non_null(y = b64url_decode(a3_y, &ylen));
	assert_int_equal(xlen, 32);
	assert_int_equal(ylen, 32);
	pub[0] = POINT_CONVERSION_UNCOMPRESSED;
	memcpy(pub + 1, x, 32);
	memcpy(pub + 33, y, 32);
	free(x);
	free(y);
	d = b64_bn(a3_d);

	assert_non_null(bld = OSSL_PARAM_BLD_new());
	assert_int_equal(OSSL_PARAM_BLD_push_utf8_string(bld,
	    OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0), 1);
	assert_int_equal(OSSL_PARAM_BLD_push_octet_string(bld,
	    OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub)), 1);
	assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY,
	    d), 1);
	key = key_fromdata("EC", bld, EVP_PKEY_KEYPAIR);
	OSSL_PARAM_BLD_free(bld);
	BN_clear_free(d);
	return key;
}

/* EVP_DigestVerify of a JWS signature; ECDSA's r||s goes back to DER. */
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
test_rfc7638_thumbprint(void **state)
{
	EVP_PKEY	*key;
	json_t		*jwk;
	char		*tp, *ka;

	key = rfc7638_key();
	assert_non_null(tp = jws_thumbprint(key));
	assert_string_equal(tp, rfc7638_thumbprint);
	free(tp);

	assert_non_null(jwk = jws_jwk(key));
	assert_int_equal(json_object_size(jwk), 3);
	assert_string_equal(json_string_value(json_object_get(jwk, "kty")),
	    "RSA");
	assert_string_equal(json_string_value(json_object_get(jwk, "n")),
	    rfc7638_n);
	assert_string_equal(json_string_value(json_object_get(jwk, "e")),
	    rfc7638_e);
	json_decref(jwk);

	assert_non_null(ka = jws_key_authorization(key,
	    "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"));
	assert_string_equal(ka, "evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"
	    ".NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
	free(ka);
	assert_null(jws_key_authorization(key, ""));
	assert_null(jws_key_authorization(key, NULL));
	EVP_PKEY_free(key);
}

static void
test_rfc7515_a3(void **state)
{
	EVP_PKEY	*key;
	json_t		*jwk;
	unsigned char	*sig;
	size_t		 siglen;

	key = a3_key();
	assert_string_equal(keystore_jws_alg(key), "ES256");

	/* The appendix's own signature verifies with its key. */
	assert_non_null(sig = b64url_decode(a3_sig, &siglen));
	assert_int_equal(siglen, 64);
	assert_int_equal(verify_jws_sig(key, "SHA256", a3_input,
	    strlen(a3_input), sig, siglen), 1);
	assert_int_not_equal(verify_jws_sig(key, "SHA256", a3_input,
	    strlen(a3_input) - 1, sig, siglen), 1);
	free(sig);

	/* And so does ours over the same input. */
	assert_int_equal(keystore_sign(key, a3_input, strlen(a3_input), &sig,
	    &siglen), 0);
	assert_int_equal(siglen, 64);
	assert_int_equal(verify_jws_sig(key, "SHA256", a3_input,
	    strlen(a3_input), sig, siglen), 1);
	free(sig);

	/* The public JWK is the appendix's, minus "d". */
	assert_non_null(jwk = jws_jwk(key));
	assert_int_equal(json_object_size(jwk), 4);
	assert_string_equal(json_string_value(json_object_get(jwk, "kty")),
	    "EC");
	assert_string_equal(json_string_value(json_object_get(jwk, "crv")),
	    "P-256");
	assert_string_equal(json_string_value(json_object_get(jwk, "x")),
	    a3_x);
	assert_string_equal(json_string_value(json_object_get(jwk, "y")),
	    a3_y);
	json_decref(jwk);
	EVP_PKEY_free(key);
}

/* Coordinates are padded to the field size, even with leading zeros. */
static void
test_jwk_padding(void **state)
{
	static const struct {
		struct key_spec	 spec;
		const char	*crv;
		size_t		 field;
	} ec[] = {
		{ { KEY_EC_P256, 0 }, "P-256", 32 },
		{ { KEY_EC_P384, 0 }, "P-384", 48 },
	};
	EVP_PKEY	*key;
	json_t		*jwk;
	unsigned char	*raw;
	size_t		 i, len;
	int		 round, leading_zero = 0;

	for (i = 0; i < sizeof(ec) / sizeof(ec[0]); i++) {
		/*
		 * About one P-256 key in 128 has a coordinate starting with
		 * 0x00: go on until one has been seen.
		 */
		for (round = 0; round < 5000; round++) {
			assert_non_null(key = keystore_generate(&ec[i].spec));
			assert_non_null(jwk = jws_jwk(key));
			assert_int_equal(json_object_size(jwk), 4);
			assert_string_equal(json_string_value(
			    json_object_get(jwk, "crv")), ec[i].crv);
			raw = b64url_decode(json_string_value(
			    json_object_get(jwk, "x")), &len);
			assert_non_null(raw);
			assert_int_equal(len, ec[i].field);
			leading_zero |= raw[0] == 0;
			free(raw);
			raw = b64url_decode(json_string_value(
			    json_object_get(jwk, "y")), &len);
			assert_non_null(raw);
			assert_int_equal(len, ec[i].field);
			leading_zero |= raw[0] == 0;
			free(raw);
			json_decref(jwk);
			EVP_PKEY_free(key);
			if (round >= 20 && (leading_zero || i > 0))
				break;
		}
	}
	assert_true(leading_zero);
}

/*
 * Parses a jws_sign() result, checks its shape and signature, and returns
 * the decoded protected header; *payload gets the decoded payload.
 */
static json_t *
check_jws(EVP_PKEY *key, const char *mdname, const char *text,
    char **payload)
{
	json_t		*jws, *hdr;
	const char	*prot, *body, *sig64;
	unsigned char	*raw, *sig;
	char		*input;
	size_t		 len, siglen;

	assert_non_null(jws = json_loads(text, 0, NULL));
	assert_int_equal(json_object_size(jws), 3);
	assert_non_null(prot = json_string_value(json_object_get(jws,
	    "protected")));
	assert_non_null(body = json_string_value(json_object_get(jws,
	    "payload")));
	assert_non_null(sig64 = json_string_value(json_object_get(jws,
	    "signature")));

	assert_non_null(raw = b64url_decode(prot, &len));
	assert_non_null(hdr = json_loadb((char *)raw, len, 0, NULL));
	free(raw);
	assert_non_null(raw = b64url_decode(body, &len));
	*payload = (char *)raw;

	assert_non_null(sig = b64url_decode(sig64, &siglen));
	assert_true(asprintf(&input, "%s.%s", prot, body) > 0);
	assert_int_equal(verify_jws_sig(key, mdname, input, strlen(input), sig,
	    siglen), 1);
	free(input);
	free(sig);
	json_decref(jws);
	return hdr;
}

static void
test_sign_jwk(void **state)
{
	static const char	 url[] = "https://ca.test/acme/new-acct";
	static const char	 payload[] =
	    "{\"termsOfServiceAgreed\":true,\"contact\":[\"mailto:a@b.test\"]}";
	struct key_spec		 spec = { KEY_EC_P256, 0 };
	EVP_PKEY		*key;
	json_t			*hdr, *jwk;
	char			*text, *body;

	assert_non_null(key = keystore_generate(&spec));
	assert_non_null(text = jws_sign(key, NULL, "nonce-1", url, payload));
	hdr = check_jws(key, "SHA256", text, &body);
	assert_string_equal(body, payload);
	assert_int_equal(json_object_size(hdr), 4);
	assert_string_equal(json_string_value(json_object_get(hdr, "alg")),
	    "ES256");
	assert_string_equal(json_string_value(json_object_get(hdr, "nonce")),
	    "nonce-1");
	assert_string_equal(json_string_value(json_object_get(hdr, "url")),
	    url);
	assert_null(json_object_get(hdr, "kid"));
	assert_non_null(jwk = jws_jwk(key));
	assert_true(json_equal(json_object_get(hdr, "jwk"), jwk));
	json_decref(jwk);
	json_decref(hdr);
	free(body);
	free(text);
	EVP_PKEY_free(key);
}

static void
test_sign_kid_post_as_get(void **state)
{
	static const struct {
		struct key_spec	 spec;
		const char	*alg;
		const char	*md;
	} kinds[] = {
		{ { KEY_EC_P256, 0 }, "ES256", "SHA256" },
		{ { KEY_EC_P384, 0 }, "ES384", "SHA384" },
		{ { KEY_RSA, 2048 }, "RS256", "SHA256" },
	};
	static const char	 kid[] = "https://ca.test/acme/acct/17";
	static const char	 url[] = "https://ca.test/acme/order/9";
	EVP_PKEY		*key;
	json_t			*hdr;
	char			*text, *body;
	size_t			 i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		assert_non_null(key = keystore_generate(&kinds[i].spec));
		assert_non_null(text = jws_sign(key, kid, "n-2", url, NULL));
		/* POST-as-GET: "payload" is present and empty. */
		assert_non_null(strstr(text, "\"payload\":\"\""));
		hdr = check_jws(key, kinds[i].md, text, &body);
		assert_string_equal(body, "");
		assert_int_equal(json_object_size(hdr), 4);
		assert_string_equal(json_string_value(json_object_get(hdr,
		    "alg")), kinds[i].alg);
		assert_string_equal(json_string_value(json_object_get(hdr,
		    "kid")), kid);
		assert_string_equal(json_string_value(json_object_get(hdr,
		    "nonce")), "n-2");
		assert_string_equal(json_string_value(json_object_get(hdr,
		    "url")), url);
		assert_null(json_object_get(hdr, "jwk"));
		json_decref(hdr);
		free(body);
		free(text);
		EVP_PKEY_free(key);
	}
}

/* The inner JWS of keyChange (RFC 8555 §7.3.5) carries no nonce. */
static void
test_sign_no_nonce(void **state)
{
	struct key_spec	 spec = { KEY_EC_P256, 0 };
	EVP_PKEY	*key;
	json_t		*hdr;
	char		*text, *body;

	assert_non_null(key = keystore_generate(&spec));
	assert_non_null(text = jws_sign(key, NULL, NULL,
	    "https://ca.test/acme/key-change", "{\"account\":\"a\"}"));
	hdr = check_jws(key, "SHA256", text, &body);
	assert_int_equal(json_object_size(hdr), 3);
	assert_null(json_object_get(hdr, "nonce"));
	assert_non_null(json_object_get(hdr, "jwk"));
	json_decref(hdr);
	free(body);
	free(text);

	assert_null(jws_sign(key, NULL, "n", NULL, NULL));
	EVP_PKEY_free(key);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7638_thumbprint),
		cmocka_unit_test(test_rfc7515_a3),
		cmocka_unit_test(test_jwk_padding),
		cmocka_unit_test(test_sign_jwk),
		cmocka_unit_test(test_sign_kid_post_as_get),
		cmocka_unit_test(test_sign_no_nonce),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
