/*
 * JWS for ACME: the flattened JSON serialization (RFC 7515 §7.2.2) of
 * RFC 8555 §6.2, public JWKs (RFC 7517/7518) and JWK thumbprints
 * (RFC 7638).  Signatures come from keystore_sign().
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "b64url.h"
#include "log.h"
#include "acme.h"

/* base64url of a BIGNUM param; pad > 0 left-pads to that many bytes. */
static char *
jws_bn_b64(EVP_PKEY *key, const char *param, int pad)
{
	BIGNUM		*bn = NULL;
	unsigned char	*buf = NULL;
	char		*b64 = NULL;
	int		 len;

	if (!EVP_PKEY_get_bn_param(key, param, &bn)) {
		log_openssl("jws: EVP_PKEY_get_bn_param %s", param);
		goto out;
	}
	len = pad > 0 ? pad : BN_num_bytes(bn);
	if (len <= 0 || (buf = malloc((size_t)len)) == NULL) {
		log_warnx("jws: %s: bad size", param);
		goto out;
	}
	if (BN_bn2binpad(bn, buf, len) != len) {
		log_openssl("jws: BN_bn2binpad %s", param);
		goto out;
	}
	if ((b64 = b64url_encode(buf, (size_t)len)) == NULL)
		log_warnx("jws: b64url_encode");
out:
	free(buf);
	BN_free(bn);
	return b64;
}

json_t *
jws_jwk(EVP_PKEY *key)
{
	struct key_spec	 spec;
	json_t		*jwk = NULL;
	char		*x = NULL, *y = NULL, *n = NULL, *e = NULL;
	const char	*crv;
	int		 field;

	if (keystore_spec_of(key, &spec) == -1) {
		log_warnx("jws: no JWK for this key type");
		goto out;
	}
	if (spec.kind == KEY_RSA) {
		/* Base64urlUInt: big-endian, no leading zero octets. */
		if ((n = jws_bn_b64(key, OSSL_PKEY_PARAM_RSA_N, 0)) == NULL ||
		    (e = jws_bn_b64(key, OSSL_PKEY_PARAM_RSA_E, 0)) == NULL)
			goto out;
		jwk = json_pack("{s:s, s:s, s:s}", "e", e, "kty", "RSA",
		    "n", n);
	} else {
		crv = spec.kind == KEY_EC_P256 ? "P-256" : "P-384";
		field = spec.kind == KEY_EC_P256 ? 32 : 48;
		if ((x = jws_bn_b64(key, OSSL_PKEY_PARAM_EC_PUB_X,
		    field)) == NULL ||
		    (y = jws_bn_b64(key, OSSL_PKEY_PARAM_EC_PUB_Y,
		    field)) == NULL)
			goto out;
		jwk = json_pack("{s:s, s:s, s:s, s:s}", "crv", crv,
		    "kty", "EC", "x", x, "y", y);
	}
	if (jwk == NULL)
		log_warnx("jws: json_pack jwk");
out:
	free(x);
	free(y);
	free(n);
	free(e);
	return jwk;
}

char *
jws_thumbprint(EVP_PKEY *key)
{
	json_t		*jwk = NULL;
	char		*canon = NULL, *tp = NULL;
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen;

	if ((jwk = jws_jwk(key)) == NULL)
		goto out;
	/* RFC 7638 §3: required members only, sorted, no whitespace. */
	if ((canon = json_dumps(jwk, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
		log_warnx("jws: json_dumps jwk");
		goto out;
	}
	if (!EVP_Digest(canon, strlen(canon), md, &mdlen, EVP_sha256(),
	    NULL)) {
		log_openssl("jws: EVP_Digest");
		goto out;
	}
	if ((tp = b64url_encode(md, mdlen)) == NULL)
		log_warnx("jws: b64url_encode");
out:
	free(canon);
	json_decref(jwk);
	return tp;
}

/*
 * kid or else jwk (RFC 8555 §6.2); no nonce for the inner JWS of a
 * keyChange (§7.3.5).  "s*"/"O*" leave out a member whose value is NULL.
 */
static json_t *
jws_header(EVP_PKEY *key, const char *kid, const char *nonce,
    const char *url)
{
	json_t		*hdr = NULL, *jwk = NULL;
	const char	*alg;

	if ((alg = keystore_jws_alg(key)) == NULL) {
		log_warnx("jws: no JWS algorithm for this key type");
		goto out;
	}
	if (kid == NULL && (jwk = jws_jwk(key)) == NULL)
		goto out;
	hdr = json_pack("{s:s, s:s*, s:O*, s:s*, s:s}", "alg", alg,
	    "kid", kid, "jwk", jwk, "nonce", nonce, "url", url);
	if (hdr == NULL)
		log_warnx("jws: building the protected header");
out:
	json_decref(jwk);
	return hdr;
}

char *
jws_sign(EVP_PKEY *key, const char *kid, const char *nonce,
    const char *url, const char *payload)
{
	json_t		*hdr = NULL, *jws = NULL;
	char		*hdrtext = NULL, *prot = NULL, *body = NULL;
	char		*input = NULL, *sig64 = NULL, *text = NULL;
	unsigned char	*sig = NULL;
	size_t		 siglen;

	if (url == NULL) {
		log_warnx("jws: no url");
		goto out;
	}
	if ((hdr = jws_header(key, kid, nonce, url)) == NULL)
		goto out;
	if ((hdrtext = json_dumps(hdr, JSON_COMPACT)) == NULL) {
		log_warnx("jws: json_dumps header");
		goto out;
	}
	/* POST-as-GET (RFC 8555 §6.3): the payload is the empty string. */
	if ((prot = b64url_encode(hdrtext, strlen(hdrtext))) == NULL ||
	    (body = b64url_encode(payload != NULL ? payload : "",
	    payload != NULL ? strlen(payload) : 0)) == NULL) {
		log_warnx("jws: b64url_encode");
		goto out;
	}
	if (asprintf(&input, "%s.%s", prot, body) == -1) {
		input = NULL;
		log_warn("jws: asprintf");
		goto out;
	}
	if (keystore_sign(key, input, strlen(input), &sig, &siglen) == -1)
		goto out;
	if ((sig64 = b64url_encode(sig, siglen)) == NULL) {
		log_warnx("jws: b64url_encode");
		goto out;
	}
	jws = json_pack("{s:s, s:s, s:s}", "protected", prot,
	    "payload", body, "signature", sig64);
	if (jws == NULL || (text = json_dumps(jws, JSON_COMPACT)) == NULL)
		log_warnx("jws: building the JWS");
out:
	free(hdrtext);
	free(prot);
	free(body);
	free(input);
	free(sig);
	free(sig64);
	json_decref(hdr);
	json_decref(jws);
	return text;
}

char *
jws_key_authorization(EVP_PKEY *account_key, const char *token)
{
	char	*tp = NULL, *ka = NULL;

	if (token == NULL || *token == '\0') {
		log_warnx("jws: empty challenge token");
		goto out;
	}
	if ((tp = jws_thumbprint(account_key)) == NULL)
		goto out;
	if (asprintf(&ka, "%s.%s", token, tp) == -1) {
		ka = NULL;
		log_warn("jws: asprintf");
	}
out:
	free(tp);
	return ka;
}

/* base64url of a JSON value's compact text. */
static char *
jws_b64_json(const json_t *v)
{
	char	*text, *b64 = NULL;

	if ((text = json_dumps(v, JSON_COMPACT)) == NULL)
		return NULL;
	b64 = b64url_encode(text, strlen(text));
	free(text);
	return b64;
}

json_t *
jws_eab(EVP_PKEY *account_key, const char *kid, const unsigned char *hmac,
    size_t hmaclen, const char *url)
{
	json_t		*hdr = NULL, *jwk = NULL, *eab = NULL;
	char		*prot = NULL, *body = NULL, *input = NULL, *sig64 = NULL;
	unsigned char	 mac[EVP_MAX_MD_SIZE];
	size_t		 maclen;

	/* RFC 8555 §7.3.4: the account's JWK, MACed with the CA's key. */
	if ((hdr = json_pack("{s:s, s:s, s:s}", "alg", "HS256", "kid", kid,
	    "url", url)) == NULL || (jwk = jws_jwk(account_key)) == NULL ||
	    (prot = jws_b64_json(hdr)) == NULL ||
	    (body = jws_b64_json(jwk)) == NULL ||
	    asprintf(&input, "%s.%s", prot, body) == -1) {
		input = NULL;
		log_warnx("jws: building the external account binding");
		goto out;
	}
	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, hmac, hmaclen,
	    (unsigned char *)input, strlen(input), mac, sizeof(mac),
	    &maclen) == NULL) {
		log_openssl("jws: HMAC-SHA256 for the external account binding");
		goto out;
	}
	if ((sig64 = b64url_encode(mac, maclen)) == NULL)
		goto out;
	eab = json_pack("{s:s, s:s, s:s}", "protected", prot, "payload", body,
	    "signature", sig64);
out:
	OPENSSL_cleanse(mac, sizeof(mac));
	json_decref(hdr);
	json_decref(jwk);
	free(prot);
	free(body);
	free(input);
	free(sig64);
	return eab;
}
