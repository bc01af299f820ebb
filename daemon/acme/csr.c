/*
 * Certificate signing requests for finalize (RFC 8555 §7.4): every name
 * goes into subjectAltName, DNS names as dNSName and addresses as
 * iPAddress (RFC 8738 §2); the subject is CN=<first DNS name> when that
 * name fits a CN, else empty (and subjectAltName then critical, as
 * RFC 5280 §4.2.1.6 wants for an empty subject).
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "b64url.h"
#include "log.h"
#include "acme.h"

/* ub-common-name (RFC 5280 Appendix A.1). */
#define CSR_CN_MAX	64

bool
acme_is_ip(const char *s)
{
	struct in_addr	 a4;
	struct in6_addr	 a6;

	return s != NULL && (inet_pton(AF_INET, s, &a4) == 1 ||
	    inet_pton(AF_INET6, s, &a6) == 1);
}

/* A DNS name must fit an IA5String: printable ASCII, no spaces. */
static bool
csr_dns_ok(const char *name)
{
	size_t	 i;

	for (i = 0; name[i] != '\0'; i++)
		if (name[i] <= ' ' || name[i] > '~')
			return false;
	return i > 0;
}

/* One subjectAltName entry. */
static GENERAL_NAME *
csr_general_name(const char *name)
{
	GENERAL_NAME	*gen = NULL, *ret = NULL;
	ASN1_STRING	*str = NULL;
	unsigned char	 addr[sizeof(struct in6_addr)];
	size_t		 addrlen = 0;

	if (inet_pton(AF_INET, name, addr) == 1)
		addrlen = sizeof(struct in_addr);
	else if (inet_pton(AF_INET6, name, addr) == 1)
		addrlen = sizeof(struct in6_addr);
	else if (!csr_dns_ok(name)) {
		log_warnx("csr: bad name \"%s\"", name);
		goto out;
	}

	if ((gen = GENERAL_NAME_new()) == NULL) {
		log_openssl("csr: GENERAL_NAME_new");
		goto out;
	}
	if (addrlen != 0) {
		if ((str = ASN1_OCTET_STRING_new()) == NULL ||
		    !ASN1_OCTET_STRING_set(str, addr, (int)addrlen)) {
			log_openssl("csr: iPAddress %s", name);
			goto out;
		}
		GENERAL_NAME_set0_value(gen, GEN_IPADD, str);
	} else {
		if ((str = ASN1_IA5STRING_new()) == NULL ||
		    !ASN1_STRING_set(str, name, -1)) {
			log_openssl("csr: dNSName %s", name);
			goto out;
		}
		GENERAL_NAME_set0_value(gen, GEN_DNS, str);
	}
	str = NULL;		/* gen owns it now */
	ret = gen;
	gen = NULL;
out:
	ASN1_STRING_free(str);
	GENERAL_NAME_free(gen);
	return ret;
}

static X509_EXTENSION *
csr_san(char *const *names, size_t n, int critical)
{
	GENERAL_NAMES	*gens = NULL;
	GENERAL_NAME	*gen;
	X509_EXTENSION	*ext = NULL;
	size_t		 i;

	if ((gens = GENERAL_NAMES_new()) == NULL) {
		log_openssl("csr: GENERAL_NAMES_new");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((gen = csr_general_name(names[i])) == NULL)
			goto out;
		if (!sk_GENERAL_NAME_push(gens, gen)) {
			log_openssl("csr: sk_GENERAL_NAME_push");
			GENERAL_NAME_free(gen);
			goto out;
		}
	}
	if ((ext = X509V3_EXT_i2d(NID_subject_alt_name, critical,
	    gens)) == NULL)
		log_openssl("csr: subjectAltName");
out:
	GENERAL_NAMES_free(gens);
	return ext;
}

/* CN=name, or an empty subject when name is NULL. */
static int
csr_subject(X509_REQ *req, const char *cn)
{
	X509_NAME	*subj = NULL;
	int		 rc = -1;

	if ((subj = X509_NAME_new()) == NULL) {
		log_openssl("csr: X509_NAME_new");
		goto out;
	}
	if (cn != NULL && !X509_NAME_add_entry_by_NID(subj, NID_commonName,
	    MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0)) {
		log_openssl("csr: commonName %s", cn);
		goto out;
	}
	if (!X509_REQ_set_subject_name(req, subj)) {
		log_openssl("csr: X509_REQ_set_subject_name");
		goto out;
	}
	rc = 0;
out:
	X509_NAME_free(subj);
	return rc;
}

static int
csr_add_san(X509_REQ *req, char *const *names, size_t n, int critical)
{
	STACK_OF(X509_EXTENSION) *exts = NULL;
	X509_EXTENSION		*san = NULL;
	int			 rc = -1;

	if ((san = csr_san(names, n, critical)) == NULL)
		goto out;
	if ((exts = sk_X509_EXTENSION_new_null()) == NULL ||
	    !sk_X509_EXTENSION_push(exts, san)) {
		log_openssl("csr: extension list");
		goto out;
	}
	san = NULL;		/* exts owns it now */
	if (!X509_REQ_add_extensions(req, exts)) {
		log_openssl("csr: X509_REQ_add_extensions");
		goto out;
	}
	rc = 0;
out:
	X509_EXTENSION_free(san);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return rc;
}

/*
 * The request's public key.  For an EC key the SubjectPublicKeyInfo is
 * filled in directly (id-ecPublicKey, the named curve, the encoded point):
 * X509_REQ_set_pubkey() would encode the key with an OpenSSL 3 encoder and
 * decode the result again, a sixth of the CPU a whole renewal costs.
 */
static int
csr_set_pubkey(X509_REQ *req, EVP_PKEY *key, const struct key_spec *spec)
{
	X509_PUBKEY	*pub = X509_REQ_get_X509_PUBKEY(req);
	unsigned char	*point = NULL;
	size_t		 len;
	int		 curve;

	if (spec->kind == KEY_RSA)
		return X509_REQ_set_pubkey(req, key) ? 0 : -1;
	curve = spec->kind == KEY_EC_P384 ? NID_secp384r1 :
	    NID_X9_62_prime256v1;
	if (pub == NULL ||
	    (len = EVP_PKEY_get1_encoded_public_key(key, &point)) == 0 ||
	    len > INT_MAX)
		goto fail;
	if (!X509_PUBKEY_set0_param(pub, OBJ_nid2obj(NID_X9_62_id_ecPublicKey),
	    V_ASN1_OBJECT, OBJ_nid2obj(curve), point, (int)len))
		goto fail;
	return 0;	/* pub owns point */
fail:
	OPENSSL_free(point);
	return -1;
}

char *
csr_build(EVP_PKEY *key, char *const *names, size_t n)
{
	X509_REQ	*req = NULL;
	struct key_spec	 spec;
	const EVP_MD	*md;
	const char	*cn = NULL;
	unsigned char	*der = NULL, *p;
	char		*b64 = NULL;
	size_t		 i;
	int		 derlen;

	if (names == NULL || n == 0) {
		log_warnx("csr: no names");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (names[i] == NULL || *names[i] == '\0') {
			log_warnx("csr: empty name");
			goto out;
		}
		if (cn == NULL && !acme_is_ip(names[i]) &&
		    strlen(names[i]) <= CSR_CN_MAX)
			cn = names[i];
	}
	if (keystore_spec_of(key, &spec) == -1) {
		log_warnx("csr: unsupported key type");
		goto out;
	}
	md = spec.kind == KEY_EC_P384 ? EVP_sha384() : EVP_sha256();

	if ((req = X509_REQ_new()) == NULL) {
		log_openssl("csr: X509_REQ_new");
		goto out;
	}
	if (!X509_REQ_set_version(req, X509_REQ_VERSION_1) ||
	    csr_set_pubkey(req, key, &spec) == -1) {
		log_openssl("csr: X509_REQ_set_pubkey");
		goto out;
	}
	if (csr_subject(req, cn) == -1 ||
	    csr_add_san(req, names, n, cn == NULL) == -1)
		goto out;
	if (X509_REQ_sign(req, key, md) <= 0) {
		log_openssl("csr: X509_REQ_sign");
		goto out;
	}

	if ((derlen = i2d_X509_REQ(req, NULL)) <= 0) {
		log_openssl("csr: i2d_X509_REQ");
		goto out;
	}
	if ((der = malloc((size_t)derlen)) == NULL) {
		log_warn("csr: malloc");
		goto out;
	}
	p = der;
	if (i2d_X509_REQ(req, &p) != derlen) {
		log_openssl("csr: i2d_X509_REQ");
		goto out;
	}
	if ((b64 = b64url_encode(der, (size_t)derlen)) == NULL)
		log_warnx("csr: b64url_encode");
out:
	free(der);
	X509_REQ_free(req);
	return b64;
}
