/*
 * base64url without padding (RFC 4648 §5), on top of OpenSSL's base64.
 *
 * OpenSSL only knows the standard alphabet with padding, so the text is
 * translated on the way in and out.  EVP_DecodeBlock() is lax (it skips
 * surrounding whitespace, accepts '=' anywhere in the last quantum) and
 * counts padding as decoded bytes, so the input is validated here first
 * and the length corrected afterwards.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "b64url.h"

/* Longest input either way, so every length fits the int OpenSSL takes. */
#define B64URL_MAX_RAW	((size_t)INT_MAX / 4 * 3 - 3)

static int
b64url_valid_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

char *
b64url_encode(const void *data, size_t len)
{
	char	*out = NULL;
	size_t	 outlen, i;
	int	 n;

	if (len > B64URL_MAX_RAW)
		return NULL;
	outlen = (len + 2) / 3 * 4;
	if ((out = malloc(outlen + 1)) == NULL)
		return NULL;
	n = EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	if (n < 0 || (size_t)n != outlen) {
		free(out);
		return NULL;
	}
	while (outlen > 0 && out[outlen - 1] == '=')
		outlen--;
	out[outlen] = '\0';
	for (i = 0; i < outlen; i++) {
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	}
	return out;
}

unsigned char *
b64url_decode(const char *s, size_t *len)
{
	char		*std = NULL;
	unsigned char	*buf = NULL, *ret = NULL;
	size_t		 slen = 0, pad, stdlen = 0, i;
	int		 n;

	if (s == NULL)
		goto out;
	slen = strlen(s);
	/* One character left over holds only 6 bits: never valid. */
	if (slen % 4 == 1 || slen / 4 * 3 > B64URL_MAX_RAW)
		goto out;
	for (i = 0; i < slen; i++)
		if (!b64url_valid_char(s[i]))
			goto out;
	pad = (4 - slen % 4) % 4;
	stdlen = slen + pad;

	if ((std = malloc(stdlen + 1)) == NULL)
		goto out;
	for (i = 0; i < slen; i++) {
		if (s[i] == '-')
			std[i] = '+';
		else if (s[i] == '_')
			std[i] = '/';
		else
			std[i] = s[i];
	}
	memset(std + slen, '=', pad);
	std[stdlen] = '\0';

	/* EVP_DecodeBlock counts the bytes of the padding too. */
	if ((buf = malloc(stdlen / 4 * 3 + 1)) == NULL)
		goto out;
	n = EVP_DecodeBlock(buf, (unsigned char *)std, (int)stdlen);
	if (n < 0 || (size_t)n != stdlen / 4 * 3)
		goto out;
	n -= (int)pad;
	buf[n] = '\0';
	if (len != NULL)
		*len = (size_t)n;
	ret = buf;
	buf = NULL;
out:
	/* The text may have been a secret (an EAB key): wipe the copy. */
	if (std != NULL)
		OPENSSL_cleanse(std, stdlen);
	if (buf != NULL)
		OPENSSL_cleanse(buf, stdlen / 4 * 3 + 1);
	free(std);
	free(buf);
	return ret;
}
