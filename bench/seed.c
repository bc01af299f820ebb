/*
 * bench/seed.c: seeds an acme-renewd state directory with COUNT valid
 * certificates, each with its own EC P-256 key, signed by a local test CA
 * (made here), laid out as DESIGN.md "Files on disk" says:
 *
 *   STATE/certs/PREFIX<i>/v1/{privkey,cert,chain,fullchain,combined}.pem
 *   STATE/certs/PREFIX<i>/current -> v1
 *
 * for i in 1..COUNT, one name each: PREFIX<i>.DOMAIN.  No state.json: the
 * daemon rebuilds its schedule from the files.  The certificates are valid
 * from DAYS_BEFORE days ago for LIFETIME days, so nothing is due for weeks.
 * The CA's certificate is written to STATE/seed-ca.pem.
 *
 * usage: seed STATE COUNT [PREFIX [DOMAIN [LIFETIME_DAYS [DAYS_BEFORE]]]]
 * Build: cc -O2 -o seed seed.c $(pkg-config --cflags --libs openssl)
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static void
die(const char *what)
{
	fprintf(stderr, "seed: %s", what);
	if (errno != 0)
		fprintf(stderr, ": %s", strerror(errno));
	fputc('\n', stderr);
	ERR_print_errors_fp(stderr);
	exit(1);
}

static EVP_PKEY *
keygen(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	if (k == NULL)
		die("EC key generation");
	return k;
}

static void
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX	 ctx;
	X509_EXTENSION	*ext;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL ||
	    !X509_add_ext(x, ext, -1))
		die("X509 extension");
	X509_EXTENSION_free(ext);
}

static X509 *
make_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
    long not_before_off, long lifetime, int ca)
{
	X509		*x = X509_new();
	X509_NAME	*name;
	unsigned char	 serial[16];
	BIGNUM		*bn;
	char		 san[300];

	if (x == NULL || !X509_set_version(x, X509_VERSION_3))
		die("X509_new");
	if (RAND_bytes(serial, sizeof(serial)) != 1)
		die("RAND_bytes");
	serial[0] &= 0x7f;
	if ((bn = BN_bin2bn(serial, sizeof(serial), NULL)) == NULL ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
		die("serial");
	BN_free(bn);
	if (X509_gmtime_adj(X509_getm_notBefore(x), not_before_off) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), not_before_off + lifetime) ==
	    NULL)
		die("validity");
	name = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0))
		die("subject");
	if (!X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer) : name))
		die("issuer");
	if (!X509_set_pubkey(x, key))
		die("pubkey");
	if (ca) {
		add_ext(x, issuer != NULL ? issuer : x, NID_basic_constraints,
		    "critical,CA:TRUE");
		add_ext(x, issuer != NULL ? issuer : x, NID_key_usage,
		    "critical,keyCertSign,cRLSign");
		add_ext(x, issuer != NULL ? issuer : x,
		    NID_subject_key_identifier, "hash");
	} else {
		add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE");
		add_ext(x, issuer, NID_key_usage, "critical,digitalSignature");
		add_ext(x, issuer, NID_ext_key_usage, "serverAuth");
		add_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
		snprintf(san, sizeof(san), "DNS:%s", cn);
		add_ext(x, issuer, NID_subject_alt_name, san);
	}
	if (X509_sign(x, issuer_key != NULL ? issuer_key : key, EVP_sha256())
	    == 0)
		die("X509_sign");
	return x;
}

/* PEM text of a key or a certificate, malloc'ed. */
static char *
pem_of(EVP_PKEY *k, X509 *x)
{
	BIO	*b = BIO_new(BIO_s_mem());
	char	*data, *s;
	long	 n;

	if (b == NULL)
		die("BIO_new");
	if (k != NULL && !PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL,
	    NULL))
		die("PEM key");
	if (x != NULL && !PEM_write_bio_X509(b, x))
		die("PEM cert");
	n = BIO_get_mem_data(b, &data);
	if ((s = malloc(n + 1)) == NULL)
		die("malloc");
	memcpy(s, data, n);
	s[n] = '\0';
	BIO_free(b);
	return s;
}

static void
write_file(const char *dir, const char *name, mode_t mode, const char *a,
    const char *b, const char *c)
{
	char	 path[4096];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	umask(mode == 0600 ? 077 : 022);
	if ((f = fopen(path, "w")) == NULL)
		die(path);
	fputs(a, f);
	if (b != NULL)
		fputs(b, f);
	if (c != NULL)
		fputs(c, f);
	if (fclose(f) != 0 || chmod(path, mode) == -1)
		die(path);
}

static void
mkdir_p(const char *path, mode_t mode)
{
	if (mkdir(path, mode) == -1 && errno != EEXIST)
		die(path);
}

int
main(int argc, char **argv)
{
	const char	*state, *prefix = "s", *domain = "example.test";
	long		 count, lifetime = 90, before = 1, i;
	EVP_PKEY	*ca_key, *key;
	X509		*ca, *x;
	char		*ca_pem, *key_pem, *cert_pem, path[4096], cn[256];
	char		 certdir[2048];

	if (argc < 3 || argc > 7) {
		fprintf(stderr, "usage: seed STATE COUNT [PREFIX [DOMAIN "
		    "[LIFETIME_DAYS [DAYS_BEFORE]]]]\n");
		return 2;
	}
	state = argv[1];
	count = strtol(argv[2], NULL, 10);
	if (argc > 3)
		prefix = argv[3];
	if (argc > 4)
		domain = argv[4];
	if (argc > 5)
		lifetime = strtol(argv[5], NULL, 10);
	if (argc > 6)
		before = strtol(argv[6], NULL, 10);
	if (count <= 0 || lifetime <= 0 || before < 0 || before >= lifetime) {
		fprintf(stderr, "seed: bad COUNT, LIFETIME_DAYS or DAYS_BEFORE\n");
		return 2;
	}

	ca_key = keygen();
	ca = make_cert("acme-renewd bench seed CA", ca_key, NULL, NULL,
	    -2 * 86400L, 3650 * 86400L, 1);
	ca_pem = pem_of(NULL, ca);
	mkdir_p(state, 0700);
	write_file(state, "seed-ca.pem", 0644, ca_pem, NULL, NULL);
	snprintf(path, sizeof(path), "%s/certs", state);
	mkdir_p(path, 0700);

	for (i = 1; i <= count; i++) {
		snprintf(cn, sizeof(cn), "%s%ld.%s", prefix, i, domain);
		key = keygen();
		x = make_cert(cn, key, ca, ca_key, -before * 86400L,
		    lifetime * 86400L, 0);
		key_pem = pem_of(key, NULL);
		cert_pem = pem_of(NULL, x);
		snprintf(certdir, sizeof(certdir), "%s/certs/%s%ld", state,
		    prefix, i);
		mkdir_p(certdir, 0755);
		snprintf(path, sizeof(path), "%s/v1", certdir);
		mkdir_p(path, 0755);
		write_file(path, "privkey.pem", 0600, key_pem, NULL, NULL);
		write_file(path, "cert.pem", 0644, cert_pem, NULL, NULL);
		write_file(path, "chain.pem", 0644, ca_pem, NULL, NULL);
		write_file(path, "fullchain.pem", 0644, cert_pem, ca_pem, NULL);
		write_file(path, "combined.pem", 0600, key_pem, cert_pem,
		    ca_pem);
		snprintf(path, sizeof(path), "%s/current", certdir);
		if (symlink("v1", path) == -1 && errno != EEXIST)
			die(path);
		OPENSSL_cleanse(key_pem, strlen(key_pem));
		free(key_pem);
		free(cert_pem);
		X509_free(x);
		EVP_PKEY_free(key);
	}
	free(ca_pem);
	X509_free(ca);
	EVP_PKEY_free(ca_key);
	return 0;
}
