/*
 * Private keys: generation, PKCS#8 PEM in and out, signing.
 *
 * Nothing outside this file touches private key material, so moving the
 * keys into a separate process later changes this file only.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/pem.h>

#include "log.h"
#include "acme.h"

#define KEYSTORE_RSA_MIN_BITS	2048
#define KEYSTORE_RSA_MAX_BITS	16384

static const char *const keystore_kind_names[KEY_KIND__MAX] = {
	[KEY_EC_P256] = "ec-p256",
	[KEY_EC_P384] = "ec-p384",
	[KEY_RSA] = "rsa",
};

EVP_PKEY *
keystore_generate(const struct key_spec *spec)
{
	EVP_PKEY	*key = NULL;

	switch (spec->kind) {
	case KEY_EC_P256:
		key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case KEY_EC_P384:
		key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
		break;
	case KEY_RSA:
		if (spec->bits < KEYSTORE_RSA_MIN_BITS ||
		    spec->bits > KEYSTORE_RSA_MAX_BITS) {
			log_warnx("keystore: RSA key of %d bits refused",
			    spec->bits);
			return NULL;
		}
		key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)spec->bits);
		break;
	default:
		log_warnx("keystore: unknown key kind %d", (int)spec->kind);
		return NULL;
	}
	if (key == NULL)
		log_openssl("keystore: generating %s key",
		    keystore_kind_names[spec->kind]);
	return key;
}

char *
keystore_to_pem(EVP_PKEY *key)
{
	BIO	*bio = NULL;
	char	*data, *pem = NULL;
	long	 len;

	/* Secure-heap BUF_MEM: every buffer it outgrows is wiped too. */
	if ((bio = BIO_new(BIO_s_secmem())) == NULL) {
		log_openssl("keystore: BIO_new");
		goto out;
	}
	if (!PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL)) {
		log_openssl("keystore: PEM_write_bio_PrivateKey");
		goto out;
	}
	if ((len = BIO_get_mem_data(bio, &data)) <= 0) {
		log_warnx("keystore: empty PEM");
		goto out;
	}
	if ((pem = malloc((size_t)len + 1)) == NULL) {
		log_warn("keystore: malloc");
		goto out;
	}
	memcpy(pem, data, (size_t)len);
	pem[len] = '\0';
	OPENSSL_cleanse(data, (size_t)len);
out:
	BIO_free(bio);
	return pem;
}

/* Never prompt on a terminal for a passphrase: encrypted keys are refused. */
static int
keystore_no_passphrase_cb(char *buf, int size, int rwflag, void *arg)
{
	return -1;
}

EVP_PKEY *
keystore_from_pem(const char *pem)
{
	BIO		*bio = NULL;
	EVP_PKEY	*key = NULL;
	struct key_spec	 spec;

	if ((bio = BIO_new_mem_buf(pem, -1)) == NULL) {
		log_openssl("keystore: BIO_new_mem_buf");
		goto out;
	}
	key = PEM_read_bio_PrivateKey(bio, NULL, keystore_no_passphrase_cb,
	    NULL);
	if (key == NULL) {
		log_openssl("keystore: PEM_read_bio_PrivateKey");
		goto out;
	}
	if (keystore_spec_of(key, &spec) == -1) {
		log_warnx("keystore: unsupported key type");
		EVP_PKEY_free(key);
		key = NULL;
	}
out:
	BIO_free(bio);
	return key;
}

int
keystore_spec_of(EVP_PKEY *key, struct key_spec *spec)
{
	char	 group[64];
	size_t	 len;
	int	 nid, bits;

	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_EC:
		if (!EVP_PKEY_get_group_name(key, group, sizeof(group), &len))
			return -1;
		if ((nid = OBJ_sn2nid(group)) == NID_undef)
			nid = EC_curve_nist2nid(group);
		if (nid == NID_X9_62_prime256v1)
			spec->kind = KEY_EC_P256;
		else if (nid == NID_secp384r1)
			spec->kind = KEY_EC_P384;
		else
			return -1;
		spec->bits = 0;
		return 0;
	case EVP_PKEY_RSA:
		bits = EVP_PKEY_get_bits(key);
		if (bits < KEYSTORE_RSA_MIN_BITS ||
		    bits > KEYSTORE_RSA_MAX_BITS)
			return -1;
		spec->kind = KEY_RSA;
		spec->bits = bits;
		return 0;
	default:
		return -1;
	}
}

const char *
keystore_jws_alg(EVP_PKEY *key)
{
	struct key_spec	 spec;

	if (keystore_spec_of(key, &spec) == -1)
		return NULL;
	switch (spec.kind) {
	case KEY_EC_P256:
		return "ES256";
	case KEY_EC_P384:
		return "ES384";
	case KEY_RSA:
		return "RS256";
	default:
		return NULL;
	}
}

/* DER ECDSA-Sig-Value to r||s, each left-padded to the field size. */
static int
keystore_ec_raw(const unsigned char *der, size_t derlen, size_t field,
    unsigned char **raw, size_t *rawlen)
{
	ECDSA_SIG	*sig = NULL;
	const BIGNUM	*r, *s;
	const unsigned char *p = der;
	unsigned char	*buf = NULL;
	int		 rc = -1;

	if ((sig = d2i_ECDSA_SIG(NULL, &p, (long)derlen)) == NULL ||
	    p != der + derlen) {
		log_openssl("keystore: d2i_ECDSA_SIG");
		goto out;
	}
	ECDSA_SIG_get0(sig, &r, &s);
	if ((buf = malloc(2 * field)) == NULL) {
		log_warn("keystore: malloc");
		goto out;
	}
	if (BN_bn2binpad(r, buf, (int)field) != (int)field ||
	    BN_bn2binpad(s, buf + field, (int)field) != (int)field) {
		log_openssl("keystore: BN_bn2binpad");
		goto out;
	}
	*raw = buf;
	*rawlen = 2 * field;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	ECDSA_SIG_free(sig);
	return rc;
}

int
keystore_sign(EVP_PKEY *key, const void *msg, size_t len,
    unsigned char **sig, size_t *siglen)
{
	EVP_MD_CTX	*ctx = NULL;
	const EVP_MD	*md;
	struct key_spec	 spec;
	unsigned char	*buf = NULL;
	size_t		 buflen, field = 0;
	int		 rc = -1;

	if (keystore_spec_of(key, &spec) == -1) {
		log_warnx("keystore: cannot sign with this key type");
		goto out;
	}
	switch (spec.kind) {
	case KEY_EC_P256:
		md = EVP_sha256();
		field = 32;
		break;
	case KEY_EC_P384:
		md = EVP_sha384();
		field = 48;
		break;
	default:
		md = EVP_sha256();
		break;
	}

	if ((ctx = EVP_MD_CTX_new()) == NULL) {
		log_openssl("keystore: EVP_MD_CTX_new");
		goto out;
	}
	if (EVP_DigestSignInit(ctx, NULL, md, NULL, key) != 1 ||
	    EVP_DigestSign(ctx, NULL, &buflen, msg, len) != 1) {
		log_openssl("keystore: EVP_DigestSignInit");
		goto out;
	}
	if ((buf = malloc(buflen)) == NULL) {
		log_warn("keystore: malloc");
		goto out;
	}
	if (EVP_DigestSign(ctx, buf, &buflen, msg, len) != 1) {
		log_openssl("keystore: EVP_DigestSign");
		goto out;
	}

	if (field != 0) {
		if (keystore_ec_raw(buf, buflen, field, sig, siglen) == -1)
			goto out;
	} else {
		*sig = buf;
		*siglen = buflen;
		buf = NULL;
	}
	rc = 0;
out:
	free(buf);
	EVP_MD_CTX_free(ctx);
	return rc;
}
