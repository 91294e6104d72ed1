/*
 * Verification keys, each bound to exactly one JWS algorithm (gk_alg.h),
 * and the key ring of a scope: static keys plus a JWKS file (gk_jwks.h).
 *
 * Keys are parsed once (at startup, or when a JWKS file is reloaded) into
 * OpenSSL objects that requests only read: EVP_PKEY and a verification
 * context for public keys, the keyed inner and outer hash states for HMAC
 * secrets (copied per verification).
 * Everything a key owns is released with the pool it was made in.
 */
#ifndef GK_KEYS_H
#define GK_KEYS_H

#include <jansson.h>
#include <openssl/evp.h>

#include "gk.h"
#include "gk_alg.h"
#include "gk_file.h"
#include "gk_jwks.h"

typedef struct gk_key_t {
    gk_alg_e alg;
    const char *kid;        /* NULL when the key has none */
    EVP_PKEY *pkey;         /* asymmetric algorithms */
    EVP_MD_CTX *hmac_inner; /* HMAC: hash states after the keyed inner */
    EVP_MD_CTX *hmac_outer; /* and outer pads, copied per use */
    EVP_MD *md;             /* fetched once; NULL for HMAC and EdDSA */
    EVP_PKEY_CTX *vctx;     /* RSA, PSS, EC: set up for verifying once,
                             * copied per thread (never used directly) */
    apr_uint64_t serial;    /* with vctx: unique in the process, never
                             * reused (a freed key's address may be) */
} gk_key_t;

/* A key from secret bytes (HS* only). */
const char *gk_key_from_secret(apr_pool_t *p, gk_alg_e alg,
                               const unsigned char *secret, apr_size_t len,
                               const char *kid, gk_key_t **out);

/* A key from PEM text: a public key, a certificate or an unencrypted
 * private key (asymmetric algorithms only). */
const char *gk_key_from_pem(apr_pool_t *p, gk_alg_e alg, const char *pem,
                            apr_size_t len, const char *kid, gk_key_t **out);

/* A key from a JWK object; default_alg applies when it has no "alg".
 * Returns NULL on success, or why the key was refused. */
const char *gk_key_from_jwk(apr_pool_t *p, json_t *jwk, gk_alg_e default_alg,
                            gk_key_t **out);

/* The bytes of a configured key source, "env:VAR", "file:PATH" or a PATH
 * (not for HS*, whose error message calls it `what`), in p. */
const char *gk_key_source_read(apr_pool_t *p, gk_alg_e alg,
                               const char *source, const char *what,
                               char **data, apr_size_t *len);

/* A key from a configured source: "env:VAR", "file:PATH" or a PEM PATH
 * (paths already absolute). Secrets lose one trailing "\n" or "\r\n". */
const char *gk_key_load(apr_pool_t *p, gk_alg_e alg, const char *source,
                        const char *kid, gk_key_t **out);

/* The keys one scope verifies with: static keys plus an optional JWKS. */
typedef struct gk_keyring_t {
    apr_array_header_t *keys;   /* gk_key_t *, from GKAuthKey */
    gk_jwks_t *jwks;            /* from GKAuthKeySet, or NULL */
} gk_keyring_t;

#endif
