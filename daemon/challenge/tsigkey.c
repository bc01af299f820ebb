/*
 * TSIG for dns-01 by RFC 2136 UPDATE: the key file BIND's tsig-keygen
 * writes, and TSIG signatures (RFC 8945), made and checked through ldns
 * where it has the algorithm, else with our own HMAC.
 */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <ldns/ldns.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "log.h"
#include "util.h"
#include "dnsquery.h"
#include "tsigkey.h"

#define RFC2136_KEYFILE_MAX	65536
#define RFC2136_FUDGE		300

/* tsig-keygen -a NAME; ldns 1.8.3 signs only some of them itself. */
static const struct rfc2136_alg {
	const char	*name;
	const char	*wire;
	const char	*digest;
	bool		 ldns;
} rfc2136_algs[] = {
	{ "hmac-sha256", "hmac-sha256.", "SHA256", true },
	{ "hmac-sha512", "hmac-sha512.", "SHA512", true },
	{ "hmac-sha384", "hmac-sha384.", "SHA384", false },
	{ "hmac-sha224", "hmac-sha224.", "SHA224", false },
	{ "hmac-sha1", "hmac-sha1.", "SHA1", true },
	{ "hmac-md5", "hmac-md5.sig-alg.reg.int.", "MD5", true },
};
#define RFC2136_NALGS	(sizeof(rfc2136_algs) / sizeof(rfc2136_algs[0]))

static const struct rfc2136_alg *
rfc2136_alg_find(const char *name)
{
	size_t	i, len = strlen(name);

	/* A trailing dot is the same name. */
	if (len > 0 && name[len - 1] == '.')
		len--;
	for (i = 0; i < RFC2136_NALGS; i++) {
		if ((strlen(rfc2136_algs[i].name) == len &&
		    strncasecmp(name, rfc2136_algs[i].name, len) == 0) ||
		    (strlen(rfc2136_algs[i].wire) == len + 1 &&
		    strncasecmp(name, rfc2136_algs[i].wire, len) == 0))
			return &rfc2136_algs[i];
	}
	return NULL;
}

static void
rfc2136_wipe_free(char *s)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

/* ------------------------------------------------------------------ */
/* The key file */

enum rfc2136_tok {
	TOK_EOF,
	TOK_WORD,
	TOK_STRING,
	TOK_LBRACE,
	TOK_RBRACE,
	TOK_SEMI,
	TOK_ERROR,
	TOK__MAX
};

struct rfc2136_lex {
	const char	*p;
	const char	*end;
	const char	*path;
	int		 line;
	int		 tokline;	/* where the last token started */
	char		*value;		/* of a WORD or STRING; wiped */
	char		*error;
};

static bool
rfc2136_lex_comment(struct rfc2136_lex *lx)
{
	const char	*p = lx->p;

	if (*p == '#' || (*p == '/' && p + 1 < lx->end && p[1] == '/')) {
		while (lx->p < lx->end && *lx->p != '\n')
			lx->p++;
		return true;
	}
	if (*p != '/' || p + 1 >= lx->end || p[1] != '*')
		return false;
	for (lx->p += 2; lx->p + 1 < lx->end; lx->p++) {
		if (lx->p[0] == '*' && lx->p[1] == '/') {
			lx->p += 2;
			return true;
		}
		if (*lx->p == '\n')
			lx->line++;
	}
	lx->p = lx->end;
	lx->error = xasprintf("%s:%d: unterminated /* comment", lx->path,
	    lx->tokline);
	return true;
}

/* Appends c to *s (len bytes so far); -1 when out of memory. */
static int
rfc2136_lex_put(char **s, size_t *len, char c)
{
	char	*p;

	if ((p = malloc(*len + 2)) == NULL)
		return -1;
	if (*s != NULL) {
		memcpy(p, *s, *len);
		OPENSSL_cleanse(*s, *len);
		free(*s);
	}
	p[(*len)++] = c;
	p[*len] = '\0';
	*s = p;
	return 0;
}

static enum rfc2136_tok
rfc2136_lex_string(struct rfc2136_lex *lx)
{
	size_t	len = 0;
	char	c;

	for (lx->p++; lx->p < lx->end && *lx->p != '"'; lx->p++) {
		c = *lx->p;
		if (c == '\\' && lx->p + 1 < lx->end)
			c = *++lx->p;
		if (c == '\n')
			lx->line++;
		if (rfc2136_lex_put(&lx->value, &len, c) == -1) {
			lx->error = xasprintf("out of memory");
			return TOK_ERROR;
		}
	}
	if (lx->p >= lx->end) {
		lx->error = xasprintf("%s:%d: unterminated string", lx->path,
		    lx->tokline);
		return TOK_ERROR;
	}
	lx->p++;
	if (lx->value == NULL && (lx->value = strdup("")) == NULL) {
		lx->error = xasprintf("out of memory");
		return TOK_ERROR;
	}
	return TOK_STRING;
}

static enum rfc2136_tok
rfc2136_lex_next(struct rfc2136_lex *lx)
{
	size_t	len = 0;

	rfc2136_wipe_free(lx->value);
	lx->value = NULL;
	for (;;) {
		while (lx->p < lx->end && isspace((unsigned char)*lx->p)) {
			if (*lx->p == '\n')
				lx->line++;
			lx->p++;
		}
		lx->tokline = lx->line;
		if (lx->p >= lx->end)
			return TOK_EOF;
		if (!rfc2136_lex_comment(lx))
			break;
		if (lx->error != NULL)
			return TOK_ERROR;
	}
	switch (*lx->p) {
	case '{':
		lx->p++;
		return TOK_LBRACE;
	case '}':
		lx->p++;
		return TOK_RBRACE;
	case ';':
		lx->p++;
		return TOK_SEMI;
	case '"':
		return rfc2136_lex_string(lx);
	}
	while (lx->p < lx->end && !isspace((unsigned char)*lx->p) &&
	    strchr("{};\"#", *lx->p) == NULL && !(*lx->p == '/' &&
	    lx->p + 1 < lx->end && (lx->p[1] == '/' || lx->p[1] == '*'))) {
		if (rfc2136_lex_put(&lx->value, &len, *lx->p++) == -1) {
			lx->error = xasprintf("out of memory");
			return TOK_ERROR;
		}
	}
	return TOK_WORD;
}

/* "'{'", "end of file", "'word'"; malloc'd. */
static char *
rfc2136_lex_what(const struct rfc2136_lex *lx, enum rfc2136_tok t)
{
	switch (t) {
	case TOK_EOF:
		return xasprintf("end of file");
	case TOK_LBRACE:
		return xasprintf("'{'");
	case TOK_RBRACE:
		return xasprintf("'}'");
	case TOK_SEMI:
		return xasprintf("';'");
	default:
		return xasprintf("'%s'", lx->value != NULL ? lx->value : "");
	}
}

/* Sets lx->error to "path:line: expected X, found Y". */
static void
rfc2136_lex_expected(struct rfc2136_lex *lx, enum rfc2136_tok t,
    const char *expected)
{
	char	*what;

	if (t == TOK_ERROR)
		return;		/* the lexer said why */
	what = rfc2136_lex_what(lx, t);
	lx->error = xasprintf("%s:%d: expected %s, found %s", lx->path,
	    lx->tokline, expected, what != NULL ? what : "?");
	free(what);
}

/* Decodes base64 into *out (wiped and freed by the caller); -1 if bad. */
static int
rfc2136_b64_decode(const char *b64, unsigned char **out, int *outlen)
{
	EVP_ENCODE_CTX	*ctx;
	unsigned char	*buf;
	int		 n, fin, len = strlen(b64);

	*out = NULL;
	if (len == 0 || (ctx = EVP_ENCODE_CTX_new()) == NULL)
		return -1;
	if ((buf = malloc(len + 1)) == NULL) {
		EVP_ENCODE_CTX_free(ctx);
		return -1;
	}
	EVP_DecodeInit(ctx);
	if (EVP_DecodeUpdate(ctx, buf, &n, (const unsigned char *)b64,
	    len) == -1 || EVP_DecodeFinal(ctx, buf + n, &fin) != 1 ||
	    n + fin == 0) {
		EVP_ENCODE_CTX_free(ctx);
		OPENSSL_cleanse(buf, len + 1);
		free(buf);
		return -1;
	}
	EVP_ENCODE_CTX_free(ctx);
	*out = buf;
	*outlen = n + fin;
	return 0;
}

/* The value of a base64 digit, -1 for anything else. */
static int
rfc2136_b64_digit(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	return c == '/' ? 63 : -1;
}

/*
 * The secret without the white space BIND allows inside it, or NULL
 * unless the rest is strict base64 (RFC 4648 §3.5): the alphabet, whole
 * groups of four, '=' only as the last one or two, and the bits a
 * padded group leaves over all zero.  ldns decodes it that strictly
 * when it signs; OpenSSL's decoder alone would take more (it stops
 * quietly at a '-', for one), and a key file that passes the
 * configuration check must not fail at the first renewal.
 */
static char *
rfc2136_secret_canon(const char *s)
{
	size_t	 len = strlen(s), n = 0, pad = 0, i;
	char	*out;
	int	 c;

	if ((out = malloc(len + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=')
			pad++;
		else if (pad > 0 || rfc2136_b64_digit(c) == -1)
			goto bad;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	if (n == 0 || n % 4 != 0 || pad > 2)
		goto bad;
	/* "xy==": the last 4 bits of y are left over; "xyz=": 2 of z. */
	if ((pad == 1 && (rfc2136_b64_digit(out[n - 2]) & 0x3) != 0) ||
	    (pad == 2 && (rfc2136_b64_digit(out[n - 3]) & 0xf) != 0))
		goto bad;
	return out;
bad:
	OPENSSL_cleanse(out, len + 1);
	free(out);
	return NULL;
}

/* "algorithm X;" or "secret "X";" inside the braces; -1 on error. */
static int
rfc2136_key_stmt(struct rfc2136_lex *lx, const char *name, char **alg,
    char **secret)
{
	enum rfc2136_tok	 t;
	char			**field;
	const char		*what;

	if (strcasecmp(lx->value, "algorithm") == 0) {
		field = alg;
		what = "algorithm";
	} else if (strcasecmp(lx->value, "secret") == 0) {
		field = secret;
		what = "secret";
	} else {
		lx->error = xasprintf("%s:%d: key \"%s\": unknown statement "
		    "'%s' (expected algorithm or secret)", lx->path,
		    lx->tokline, name, lx->value);
		return -1;
	}
	if (*field != NULL) {
		lx->error = xasprintf("%s:%d: key \"%s\": %s given twice",
		    lx->path, lx->tokline, name, what);
		return -1;
	}
	if ((t = rfc2136_lex_next(lx)) != TOK_WORD && t != TOK_STRING) {
		rfc2136_lex_expected(lx, t, field == alg ?
		    "the algorithm's name" : "the secret");
		return -1;
	}
	*field = lx->value;
	lx->value = NULL;
	if ((t = rfc2136_lex_next(lx)) != TOK_SEMI) {
		rfc2136_lex_expected(lx, t, field == alg ?
		    "';' after the algorithm" : "';' after the secret");
		return -1;
	}
	return 0;
}

/* key NAME { ... } ; then the end of the file.  -1 with lx->error. */
static int
rfc2136_key_syntax(struct rfc2136_lex *lx, char **name, char **alg,
    char **secret)
{
	enum rfc2136_tok	t;

	if ((t = rfc2136_lex_next(lx)) == TOK_EOF) {
		lx->error = xasprintf("%s: no key statement in the file",
		    lx->path);
		return -1;
	}
	if (t != TOK_WORD || strcasecmp(lx->value, "key") != 0) {
		rfc2136_lex_expected(lx, t, "'key'");
		return -1;
	}
	if ((t = rfc2136_lex_next(lx)) != TOK_WORD && t != TOK_STRING) {
		rfc2136_lex_expected(lx, t, "the key's name after 'key'");
		return -1;
	}
	*name = lx->value;
	lx->value = NULL;
	if ((t = rfc2136_lex_next(lx)) != TOK_LBRACE) {
		rfc2136_lex_expected(lx, t, "'{' after the key's name");
		return -1;
	}
	while ((t = rfc2136_lex_next(lx)) != TOK_RBRACE) {
		if (t == TOK_EOF) {
			lx->error = xasprintf("%s: key \"%s\" is not "
			    "terminated (missing '}')", lx->path, *name);
			return -1;
		}
		if (t != TOK_WORD) {
			rfc2136_lex_expected(lx, t, "algorithm, secret or '}'");
			return -1;
		}
		if (rfc2136_key_stmt(lx, *name, alg, secret) == -1)
			return -1;
	}
	if ((t = rfc2136_lex_next(lx)) != TOK_SEMI) {
		rfc2136_lex_expected(lx, t, "';' after '}'");
		return -1;
	}
	if ((t = rfc2136_lex_next(lx)) != TOK_EOF) {
		rfc2136_lex_expected(lx, t, "the end of the file (one key "
		    "per file)");
		return -1;
	}
	return 0;
}

/* The key from its parts; NULL with *cause. */
static struct rfc2136_key *
rfc2136_key_make(const char *path, const char *name, const char *alg,
    const char *secret, char **cause)
{
	const struct rfc2136_alg	*a;
	struct rfc2136_key		*k = NULL;
	ldns_rdf			*dname = NULL;
	unsigned char			*raw = NULL;
	char				*canon = NULL;
	int				 rawlen = 0;
	size_t				 i;

	if (alg == NULL) {
		*cause = xasprintf("%s: key \"%s\" has no algorithm", path,
		    name);
		goto out;
	}
	if (secret == NULL) {
		*cause = xasprintf("%s: key \"%s\" has no secret", path, name);
		goto out;
	}
	if ((a = rfc2136_alg_find(alg)) == NULL) {
		*cause = xasprintf("%s: key \"%s\": unknown algorithm '%s' "
		    "(expected hmac-sha256, hmac-sha384, hmac-sha512, "
		    "hmac-sha224, hmac-sha1 or hmac-md5)", path, name, alg);
		goto out;
	}
	if ((canon = rfc2136_secret_canon(secret)) == NULL ||
	    rfc2136_b64_decode(canon, &raw, &rawlen) == -1) {
		*cause = xasprintf("%s: key \"%s\": the secret is not valid "
		    "base64", path, name);
		goto out;
	}
	if ((dname = ldns_dname_new_frm_str(name)) == NULL) {
		*cause = xasprintf("%s: key \"%s\": not a valid key name",
		    path, name);
		goto out;
	}
	if ((k = calloc(1, sizeof(*k))) == NULL ||
	    (k->name = ldns_rdf2str(dname)) == NULL ||
	    (k->algorithm = strdup(a->wire)) == NULL ||
	    (k->secret = strdup(canon)) == NULL) {
		*cause = xasprintf("out of memory");
		rfc2136_key_free(k);
		k = NULL;
		goto out;
	}
	for (i = 0; k->name[i] != '\0'; i++)
		k->name[i] = tolower((unsigned char)k->name[i]);
	k->digest = a->digest;
out:
	ldns_rdf_deep_free(dname);
	rfc2136_wipe_free(canon);
	if (raw != NULL) {
		OPENSSL_cleanse(raw, rawlen);
		free(raw);
	}
	return k;
}

struct rfc2136_key *
rfc2136_key_parse(const char *text, size_t len, const char *path,
    char **cause)
{
	struct rfc2136_lex	 lx;
	struct rfc2136_key	*k = NULL;
	char			*name = NULL, *alg = NULL, *secret = NULL;

	memset(&lx, 0, sizeof(lx));
	lx.p = text;
	lx.end = text + len;
	lx.path = path;
	lx.line = 1;
	if (memchr(text, '\0', len) != NULL) {
		*cause = xasprintf("%s: not a text file", path);
		return NULL;
	}
	if (rfc2136_key_syntax(&lx, &name, &alg, &secret) == -1) {
		*cause = lx.error != NULL ? lx.error : xasprintf("%s: out of "
		    "memory", path);
		lx.error = NULL;
		goto out;
	}
	k = rfc2136_key_make(path, name, alg, secret, cause);
out:
	rfc2136_wipe_free(lx.value);
	free(lx.error);
	free(name);
	free(alg);
	rfc2136_wipe_free(secret);
	return k;
}

struct rfc2136_key *
rfc2136_key_load(const char *path, char **cause)
{
	struct rfc2136_key	*k = NULL;
	struct stat		 st;
	char			*buf = NULL;
	size_t			 len = 0;
	ssize_t			 n;
	int			 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > RFC2136_KEYFILE_MAX) {
		*cause = xasprintf("%s: not a regular file of at most %d "
		    "bytes", path, RFC2136_KEYFILE_MAX);
		goto out;
	}
	if ((buf = malloc(st.st_size + 1)) == NULL) {
		*cause = xasprintf("%s: out of memory", path);
		goto out;
	}
	while (len < (size_t)st.st_size) {
		if ((n = read(fd, buf + len, st.st_size - len)) == -1 &&
		    errno == EINTR)
			continue;
		if (n == -1) {
			*cause = xasprintf("%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += n;
	}
	k = rfc2136_key_parse(buf, len, path, cause);
out:
	if (buf != NULL) {
		OPENSSL_cleanse(buf, st.st_size + 1);
		free(buf);
	}
	close(fd);
	return k;
}

struct rfc2136_key *
rfc2136_key_dup(const struct rfc2136_key *k)
{
	struct rfc2136_key	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->name = strdup(k->name)) == NULL ||
	    (c->algorithm = strdup(k->algorithm)) == NULL ||
	    (c->secret = strdup(k->secret)) == NULL) {
		rfc2136_key_free(c);
		return NULL;
	}
	c->digest = k->digest;
	return c;
}

void
rfc2136_key_free(struct rfc2136_key *k)
{
	if (k == NULL)
		return;
	free(k->name);
	free(k->algorithm);
	rfc2136_wipe_free(k->secret);
	free(k);
}

/* ------------------------------------------------------------------ */
/* TSIG */

const char *
rfc2136_tsig_error_name(int error)
{
	static const char *const names[] = {
		"BADSIG", "BADKEY", "BADTIME", "BADMODE", "BADNAME",
		"BADALG", "BADTRUNC", "BADCOOKIE",
	};
	static char		 buf[32];

	if (error >= 16 && error < 16 + (int)(sizeof(names) /
	    sizeof(names[0])))
		return names[error - 16];
	if (error > 0 && error < 16)
		return dnsprop_rcode_name(error);
	snprintf(buf, sizeof(buf), "TSIG error %d", error);
	return buf;
}

/*
 * HMAC over what RFC 8945 §4.3.3 signs: the prior MAC (for an answer),
 * the message without its TSIG, and the TSIG variables, taken from rr.
 * The result is length-prefixed, as the MAC field is.  -1 on error.
 */
static int
rfc2136_tsig_mac(const struct rfc2136_key *k, const ldns_rdf *prior,
    const uint8_t *wire, size_t len, const ldns_rr *rr, uint8_t *mac,
    size_t *maclen)
{
	ldns_buffer	*buf = NULL;
	ldns_rdf	*name = NULL, *alg = NULL;
	unsigned char	*secret = NULL;
	int		 secretlen = 0, rc = -1;
	size_t		 n;

	if (ldns_rr_rd_count(rr) != 7 ||
	    (name = ldns_rdf_clone(ldns_rr_owner(rr))) == NULL ||
	    (alg = ldns_rdf_clone(ldns_rr_rdf(rr, 0))) == NULL ||
	    (buf = ldns_buffer_new(len + 2 * LDNS_MAX_DOMAINLEN + 512)) == NULL)
		goto out;
	ldns_dname2canonical(name);
	ldns_dname2canonical(alg);
	if (prior != NULL &&
	    ldns_rdf2buffer_wire(buf, prior) != LDNS_STATUS_OK)
		goto out;
	if (!ldns_buffer_reserve(buf, len))
		goto out;
	ldns_buffer_write(buf, wire, len);
	if (ldns_dname2buffer_wire(buf, name) != LDNS_STATUS_OK ||
	    !ldns_buffer_reserve(buf, 6))
		goto out;
	ldns_buffer_write_u16(buf, LDNS_RR_CLASS_ANY);
	ldns_buffer_write_u32(buf, 0);
	if (ldns_dname2buffer_wire(buf, alg) != LDNS_STATUS_OK ||
	    ldns_rdf2buffer_wire(buf, ldns_rr_rdf(rr, 1)) != LDNS_STATUS_OK ||
	    ldns_rdf2buffer_wire(buf, ldns_rr_rdf(rr, 2)) != LDNS_STATUS_OK ||
	    ldns_rdf2buffer_wire(buf, ldns_rr_rdf(rr, 5)) != LDNS_STATUS_OK ||
	    ldns_rdf2buffer_wire(buf, ldns_rr_rdf(rr, 6)) != LDNS_STATUS_OK ||
	    !ldns_buffer_status_ok(buf))
		goto out;
	if (rfc2136_b64_decode(k->secret, &secret, &secretlen) == -1)
		goto out;
	if (EVP_Q_mac(NULL, "HMAC", NULL, k->digest, NULL, secret, secretlen,
	    ldns_buffer_begin(buf), ldns_buffer_position(buf), mac + 2,
	    EVP_MAX_MD_SIZE, &n) == NULL) {
		log_openssl("TSIG HMAC-%s", k->digest);
		goto out;
	}
	mac[0] = n >> 8;
	mac[1] = n & 0xff;
	*maclen = n + 2;
	rc = 0;
out:
	if (secret != NULL) {
		OPENSSL_cleanse(secret, secretlen);
		free(secret);
	}
	ldns_buffer_free(buf);
	ldns_rdf_deep_free(name);
	ldns_rdf_deep_free(alg);
	return rc;
}

/* A TSIG RR signed now, with an empty MAC; NULL on error. */
static ldns_rr *
rfc2136_tsig_rr(const struct rfc2136_key *k, uint16_t id)
{
	ldns_rr		*rr;
	ldns_rdf	*f[7], *name;
	uint8_t		 when[6], nomac[2] = { 0, 0 };
	uint64_t	 now = (uint64_t)time(NULL);
	size_t		 i;
	bool		 ok = true;

	for (i = 0; i < 6; i++)
		when[i] = now >> (8 * (5 - i));
	if ((rr = ldns_rr_new()) == NULL)
		return NULL;
	f[0] = ldns_dname_new_frm_str(k->algorithm);
	f[1] = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_TSIGTIME, 6, when);
	f[2] = ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, RFC2136_FUDGE);
	f[3] = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16_DATA, 2, nomac);
	f[4] = ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, id);
	f[5] = ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, 0);
	f[6] = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16_DATA, 2, nomac);
	for (i = 0; i < 7; i++) {
		if (f[i] == NULL || !ok || !ldns_rr_push_rdf(rr, f[i])) {
			ldns_rdf_deep_free(f[i]);
			ok = false;
		}
	}
	if ((name = ldns_dname_new_frm_str(k->name)) != NULL)
		ldns_rr_set_owner(rr, name);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_ANY);
	ldns_rr_set_type(rr, LDNS_RR_TYPE_TSIG);
	ldns_rr_set_ttl(rr, 0);
	if (!ok || name == NULL) {
		ldns_rr_free(rr);
		return NULL;
	}
	return rr;
}

int
rfc2136_tsig_sign_hmac(ldns_pkt *pkt, const struct rfc2136_key *k,
    const ldns_rdf *prior)
{
	ldns_rr		*rr = NULL;
	ldns_rdf	*f;
	uint8_t		*wire = NULL, mac[EVP_MAX_MD_SIZE + 2];
	size_t		 len, maclen;
	int		 rc = -1;

	if (ldns_pkt_tsig(pkt) != NULL ||
	    ldns_pkt2wire(&wire, pkt, &len) != LDNS_STATUS_OK ||
	    (rr = rfc2136_tsig_rr(k, ldns_pkt_id(pkt))) == NULL ||
	    rfc2136_tsig_mac(k, prior, wire, len, rr, mac, &maclen) == -1 ||
	    (f = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16_DATA, maclen,
	    mac)) == NULL)
		goto out;
	ldns_rdf_deep_free(ldns_rr_set_rdf(rr, f, 3));
	ldns_pkt_set_tsig(pkt, rr);
	rr = NULL;
	rc = 0;
out:
	OPENSSL_cleanse(mac, sizeof(mac));
	ldns_rr_free(rr);
	free(wire);
	return rc;
}

int
rfc2136_tsig_verify_hmac(const ldns_pkt *pkt, const struct rfc2136_key *k,
    const ldns_rdf *prior)
{
	const ldns_rr	*tsig = ldns_pkt_tsig(pkt);
	const ldns_rdf	*got;
	ldns_pkt	*copy = NULL;
	ldns_rr		*t;
	uint8_t		*wire = NULL, mac[EVP_MAX_MD_SIZE + 2];
	size_t		 len, maclen;
	int		 rc = -1;

	/*
	 * The message as signed: without its TSIG, with the original ID,
	 * encoded again by ldns.  The answer to an UPDATE has nothing to
	 * compress, so this is the sender's encoding.
	 */
	if (tsig == NULL || ldns_rr_rd_count(tsig) != 7 ||
	    (copy = ldns_pkt_clone(pkt)) == NULL)
		goto out;
	t = ldns_pkt_tsig(copy);
	ldns_pkt_set_tsig(copy, NULL);
	ldns_rr_free(t);
	ldns_pkt_set_id(copy, ldns_rdf2native_int16(ldns_rr_rdf(tsig, 4)));
	if (ldns_pkt2wire(&wire, copy, &len) != LDNS_STATUS_OK ||
	    rfc2136_tsig_mac(k, prior, wire, len, tsig, mac, &maclen) == -1)
		goto out;
	got = ldns_rr_rdf(tsig, 3);
	if (ldns_rdf_size(got) == maclen &&
	    CRYPTO_memcmp(ldns_rdf_data(got), mac, maclen) == 0)
		rc = 0;
out:
	ldns_pkt_free(copy);
	free(wire);
	return rc;
}

int
rfc2136_tsig_sign(ldns_pkt *pkt, const struct rfc2136_key *k)
{
	const struct rfc2136_alg	*a;
	ldns_status			 st;

	if ((a = rfc2136_alg_find(k->algorithm)) == NULL)
		return -1;
	if (!a->ldns)
		return rfc2136_tsig_sign_hmac(pkt, k, NULL);
	if ((st = ldns_pkt_tsig_sign(pkt, k->name, k->secret, RFC2136_FUDGE,
	    k->algorithm, NULL)) != LDNS_STATUS_OK) {
		log_warnx("TSIG %s: %s", k->algorithm,
		    ldns_get_errorstr_by_id(st));
		return -1;
	}
	return 0;
}

/* Is the answer's TSIG good?  -1 with *why. */
int
rfc2136_tsig_verify(const ldns_pkt *pkt, const uint8_t *wire, size_t len,
    const struct rfc2136_key *k, const ldns_rdf *prior, const char **why)
{
	const struct rfc2136_alg	*a;
	ldns_pkt			*copy;
	ldns_rr				*tsig;
	bool				 ok;

	if (ldns_pkt_tsig(pkt) == NULL) {
		*why = "the answer is not signed";
		return -1;
	}
	if ((a = rfc2136_alg_find(k->algorithm)) == NULL)
		return -1;
	if (!a->ldns) {
		if (rfc2136_tsig_verify_hmac(pkt, k, prior) == -1) {
			*why = "the answer's TSIG signature does not verify";
			return -1;
		}
		return 0;
	}
	if ((copy = ldns_pkt_clone(pkt)) == NULL) {
		*why = "out of memory";
		return -1;
	}
	tsig = ldns_pkt_tsig(copy);
	ok = ldns_pkt_tsig_verify(copy, wire, len, k->name, k->secret, prior);
	/* ldns 1.8.3 takes the TSIG out of the packet and does not put it
	 * back when it cannot compute the MAC (an algorithm it does not
	 * know, a malformed answer): it is ours to free then. */
	if (ldns_pkt_tsig(copy) == NULL)
		ldns_rr_free(tsig);
	ldns_pkt_free(copy);
	if (!ok) {
		*why = "the answer's TSIG signature does not verify";
		return -1;
	}
	return 0;
}
