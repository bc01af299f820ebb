/* base64url: RFC 4648 §10 vectors in the url alphabet, round trips, junk. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "b64url.h"

int	 main(void);

struct vector {
	const char	*raw;
	const char	*enc;
};

/* RFC 4648 §10, padding stripped. */
static const struct vector rfc4648[] = {
	{ "", "" },
	{ "f", "Zg" },
	{ "fo", "Zm8" },
	{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg" },
	{ "fooba", "Zm9vYmE" },
	{ "foobar", "Zm9vYmFy" },
};

static void
test_rfc4648_vectors(void **state)
{
	unsigned char	*dec;
	char		*enc;
	size_t		 i, len;

	for (i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
		enc = b64url_encode(rfc4648[i].raw, strlen(rfc4648[i].raw));
		assert_non_null(enc);
		assert_string_equal(enc, rfc4648[i].enc);
		free(enc);

		len = 999;
		dec = b64url_decode(rfc4648[i].enc, &len);
		assert_non_null(dec);
		assert_int_equal(len, strlen(rfc4648[i].raw));
		assert_memory_equal(dec, rfc4648[i].raw, len);
		assert_int_equal(dec[len], '\0');
		free(dec);
	}
}

/* The two characters where the url alphabet differs from the standard. */
static void
test_url_alphabet(void **state)
{
	static const unsigned char	 fbff[] = { 0xfb, 0xff };
	static const unsigned char	 ones[] = { 0xff, 0xff, 0xff };
	static const unsigned char	 dash[] = { 0xfb, 0xef, 0xbe };
	unsigned char			*dec;
	char				*enc;
	size_t				 len;

	enc = b64url_encode(fbff, sizeof(fbff));
	assert_string_equal(enc, "-_8");
	free(enc);
	enc = b64url_encode(ones, sizeof(ones));
	assert_string_equal(enc, "____");
	free(enc);
	enc = b64url_encode(dash, sizeof(dash));
	assert_string_equal(enc, "----");
	free(enc);

	dec = b64url_decode("-_8", &len);
	assert_non_null(dec);
	assert_int_equal(len, sizeof(fbff));
	assert_memory_equal(dec, fbff, len);
	free(dec);
}

static void
test_round_trip(void **state)
{
	unsigned char	 raw[40], *dec;
	char		*enc;
	size_t		 n, i, len;

	for (n = 0; n <= sizeof(raw); n++) {
		for (i = 0; i < n; i++)
			raw[i] = (unsigned char)(i * 37 + n * 11 + 0xf0);
		enc = b64url_encode(raw, n);
		assert_non_null(enc);
		assert_int_equal(strlen(enc), (n * 4 + 2) / 3);
		assert_null(strchr(enc, '='));
		assert_null(strchr(enc, '+'));
		assert_null(strchr(enc, '/'));
		dec = b64url_decode(enc, &len);
		assert_non_null(dec);
		assert_int_equal(len, n);
		assert_memory_equal(dec, raw, n);
		free(dec);
		free(enc);
	}
}

static void
test_invalid(void **state)
{
	static const char *const bad[] = {
		"Z",		/* a lone 6-bit character */
		"Zm9vY",
		"Zg==",		/* padding is not base64url */
		"Zg=",
		"Z=g=",
		"Zm+v",		/* standard alphabet */
		"Zm/v",
		" Zg",		/* OpenSSL would skip the whitespace */
		"Zg ",
		"Zg\n",
		"Zm9v Zm9v",
		"Zm9vZg==Zm9v",
		"Zm9v!",
		"Zm\x80v",
	};
	size_t	 i, len = 7;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_null(b64url_decode(bad[i], &len));
	assert_null(b64url_decode(NULL, &len));
	assert_int_equal(len, 7);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4648_vectors),
		cmocka_unit_test(test_url_alphabet),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
