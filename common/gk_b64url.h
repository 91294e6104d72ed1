/*
 * Strict base64url (RFC 4648 section 5, no padding), as JWS requires:
 * '=', '+', '/', white space and non-zero trailing bits are all refused.
 */
#ifndef GK_B64URL_H
#define GK_B64URL_H

#include "gk.h"

/* Upper bound of the decoded length of len characters. */
#define GK_B64URL_DECODED_MAX(len) (((len) / 4) * 3 + 2)

/* Decode len characters into out (GK_B64URL_DECODED_MAX(len) bytes).
 * Returns the decoded length, or -1 on any invalid input. */
long gk_b64url_decode(unsigned char *out, const char *in, apr_size_t len);

/* Decode into pool memory (NUL-terminated for convenience); NULL on error. */
unsigned char *gk_b64url_decode_pool(apr_pool_t *p, const char *in,
                                     apr_size_t len, apr_size_t *outlen);

char *gk_b64url_encode(apr_pool_t *p, const unsigned char *in,
                       apr_size_t len);

#endif
