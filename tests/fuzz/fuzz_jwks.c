/*
 * Fuzz target: JWKS documents (gk_jwks_parse, hence gk_key_from_jwk and the
 * RSA/EC/OKP/oct key builders), with every kind of default algorithm.
 * Keys that parse are then used to verify a few fixed tokens, so that odd
 * but accepted keys (RSA e = 1, huge exponents...) reach OpenSSL's verify.
 * See replay.c for how to build it with libFuzzer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>

#include "gk_b64url.h"
#include "gk_jwt.h"
#include "gk_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static apr_pool_t *root;

/* A token of each family with a signature of the right length (filled
 * with 0x01): none should verify, the point is reaching the verifiers. */
static const struct {
    const char *header;
    size_t siglen;
} families[] = {
    {"{\"alg\":\"HS256\"}", 32}, {"{\"alg\":\"RS256\"}", 256},
    {"{\"alg\":\"PS384\"}", 256}, {"{\"alg\":\"ES256\"}", 64},
    {"{\"alg\":\"ES512\"}", 132}, {"{\"alg\":\"EdDSA\"}", 64},
};
#define NFAM (sizeof(families) / sizeof(families[0]))
static const char *tokens[NFAM];

static void make_tokens(void)
{
    unsigned char sig[256];
    size_t i;

    memset(sig, 1, sizeof(sig));
    for (i = 0; i < NFAM; i++) {
        const char *h = families[i].header;
        tokens[i] = apr_pstrcat(
            root, gk_b64url_encode(root, (const unsigned char *)h, strlen(h)),
            ".eyJzdWIiOiJhIn0.",
            gk_b64url_encode(root, sig, families[i].siglen), NULL);
    }
}

static const gk_alg_e defaults[] = {
    GK_ALG_UNKNOWN, GK_HS256, GK_RS256, GK_PS384, GK_ES256, GK_ES512, GK_EDDSA,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t d, t;

    if (!root) {
        apr_initialize();
        apr_pool_create(&root, NULL);
        make_tokens();
    }
    if (size > 256 * 1024) {
        return 0;
    }
    for (d = 0; d < sizeof(defaults) / sizeof(defaults[0]); d++) {
        apr_pool_t *p;
        apr_array_header_t *keys;
        const char *err;

        apr_pool_create(&p, root);
        keys = apr_array_make(p, 4, sizeof(gk_key_t *));
        err = gk_jwks_parse(p, (const char *)data, size, defaults[d], keys);
        if (!err && keys->nelts == 0) {
            abort(); /* success means at least one key */
        }
        if (!err) {
            const apr_array_header_t *sets[1];
            sets[0] = keys;
            for (t = 0; t < NFAM; t++) {
                gk_verified_t *v = NULL;
                gk_status_e st = gk_jwt_verify(tokens[t], strlen(tokens[t]),
                                               sets, 1, &v);
                if ((st == GK_OK) != (v != NULL)) {
                    abort();
                }
                gk_verified_unref(v);
            }
        }
        apr_pool_destroy(p); /* runs the keys' cleanups */
    }
    return 0;
}
