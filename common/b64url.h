/* base64url without padding (RFC 4648 §5, RFC 7515 §2), through OpenSSL. */
#ifndef COMMON_B64URL_H
#define COMMON_B64URL_H

#include <stddef.h>

/* Returns a NUL-terminated malloc'd string, or NULL on allocation failure. */
char	*b64url_encode(const void *data, size_t len);
/* Returns malloc'd bytes (NUL-terminated for convenience), length in *len;
 * NULL on invalid input. */
unsigned char *b64url_decode(const char *s, size_t *len);

#endif
