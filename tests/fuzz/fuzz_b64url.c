/*
 * Fuzz target: strict base64url (gk_b64url).
 *
 * Invariants checked (abort() on violation):
 *  - decoding never writes past GK_B64URL_DECODED_MAX(len) (the output
 *    buffer has exactly that size: ASan sees an overflow);
 *  - the decoder is strict, so a successful decode is canonical:
 *    encoding the result gives back exactly the input;
 *  - encoding any bytes and decoding gives back those bytes;
 *  - gk_b64url_decode_pool agrees with gk_b64url_decode.
 * See replay.c for how to build it with libFuzzer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>

#include "gk_b64url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static apr_pool_t *root;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    unsigned char *out;
    apr_size_t plen = 0;
    unsigned char *pout;
    long n;

    if (!root) {
        apr_initialize();
        apr_pool_create(&root, NULL);
    }
    apr_pool_create(&p, root);

    /* 1. the bytes as base64url text */
    out = malloc(GK_B64URL_DECODED_MAX(size) + 1);
    n = gk_b64url_decode(out, (const char *)data, size);
    if (n >= 0) {
        char *again = gk_b64url_encode(p, out, (apr_size_t)n);
        if ((size_t)n > GK_B64URL_DECODED_MAX(size) || strlen(again) != size
            || memcmp(again, data, size) != 0) {
            abort(); /* accepted a non-canonical encoding */
        }
    }
    pout = gk_b64url_decode_pool(p, (const char *)data, size, &plen);
    if ((pout == NULL) != (n < 0)
        || (pout && (plen != (apr_size_t)n || memcmp(pout, out, plen) != 0
                     || pout[plen] != '\0'))) {
        abort();
    }
    free(out);

    /* 2. the bytes as data to encode */
    {
        char *e = gk_b64url_encode(p, data, size);
        size_t elen = strlen(e);
        unsigned char *back = malloc(GK_B64URL_DECODED_MAX(elen) + 1);
        if (elen != (size * 4 + 2) / 3
            || gk_b64url_decode(back, e, elen) != (long)size
            || memcmp(back, data, size) != 0) {
            abort();
        }
        free(back);
    }
    apr_pool_destroy(p);
    return 0;
}
