/*
 * Verification keys, each bound to exactly one JWS algorithm.
 *
 * Keys are parsed once (at startup, or when a JWKS file is reloaded) into
 * OpenSSL objects that requests only read: EVP_PKEY and a verification
 * context for public keys, the keyed inner and outer hash states for HMAC
 * secrets (copied per verification).
 * Everything a key owns is released with the pool it was made in.
 */
#ifndef GK_KEYS_H
#define GK_KEYS_H

#include <apr_thread_mutex.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "gk.h"

typedef enum {
    GK_ALG_UNKNOWN = 0,
    GK_HS256, GK_HS384, GK_HS512,
    GK_RS256, GK_RS384, GK_RS512,
    GK_PS256, GK_PS384, GK_PS512,
    GK_ES256, GK_ES384, GK_ES512,
    GK_EDDSA,
    GK_ALG_COUNT
} gk_alg_e;

typedef enum {
    GK_KIND_HMAC, GK_KIND_RSA, GK_KIND_PSS, GK_KIND_EC, GK_KIND_EDDSA
} gk_alg_kind_e;

typedef struct {
    const char *name;       /* as in the JWS "alg" header */
    gk_alg_kind_e kind;
    const char *digest;     /* OpenSSL digest name; NULL for EdDSA */
    unsigned hash_len;      /* digest output, bytes */
    int curve_nid;          /* ES*: the curve the key must be on */
    unsigned field_len;     /* ES*: bytes of R and of S */
} gk_alg_info_t;

/* Exact, case-sensitive lookup (RFC 7515); GK_ALG_UNKNOWN for "none" too. */
gk_alg_e gk_alg_from_name(const char *name, apr_size_t len);
const gk_alg_info_t *gk_alg_info(gk_alg_e alg);

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

/* A key from a configured source: "env:VAR", "file:PATH" or a PEM PATH
 * (paths already absolute). Secrets lose one trailing "\n" or "\r\n". */
const char *gk_key_load(apr_pool_t *p, gk_alg_e alg, const char *source,
                        const char *kid, gk_key_t **out);

/* Parse a JWKS document into keys (appended to keys, gk_key_t *). */
const char *gk_jwks_parse(apr_pool_t *p, const char *json, apr_size_t len,
                          gk_alg_e default_alg, apr_array_header_t *keys);

/* Read a whole (small) file into pool memory, NUL-terminated. */
const char *gk_file_read(apr_pool_t *p, const char *path, char **data,
                         apr_size_t *len);

/*
 * A JWKS file that is re-read when it changes. Requests take a reference
 * to the current generation of keys and drop it when done, so a reload
 * swaps keys atomically for requests in flight.
 */
typedef struct gk_keygen_t {
    apr_pool_t *pool;               /* owns the keys */
    apr_array_header_t *keys;       /* gk_key_t * */
    apr_uint32_t refs;              /* guarded by the set's mutex */
    apr_uint32_t gen;
} gk_keygen_t;

typedef struct gk_jwks_t {
    const char *path;
    gk_alg_e default_alg;
    apr_thread_mutex_t *mutex;
    gk_keygen_t *current;
    volatile apr_uint32_t gen;          /* current->gen, for lock-free reads */
    volatile apr_uint32_t next_check;   /* seconds; when to stat the file */
    apr_time_t mtime;
    apr_off_t size;
    apr_ino_t inode;
} gk_jwks_t;

/* How often (seconds) a process checks a JWKS file for changes. */
#define GK_JWKS_CHECK_INTERVAL 5

/* Load a JWKS file at startup; pconf's cleanup frees it. */
const char *gk_jwks_open(apr_pool_t *pconf, const char *path,
                         gk_alg_e default_alg, gk_jwks_t **out);
/* Re-read the file if it changed and the interval has passed. */
void gk_jwks_refresh(gk_jwks_t *set, apr_uint32_t now);
gk_keygen_t *gk_jwks_acquire(gk_jwks_t *set);
void gk_jwks_release(gk_jwks_t *set, gk_keygen_t *g);

/* The keys one scope verifies with: static keys plus an optional JWKS. */
typedef struct gk_keyring_t {
    apr_array_header_t *keys;   /* gk_key_t *, from GKAuthKey */
    gk_jwks_t *jwks;            /* from GKAuthKeySet, or NULL */
} gk_keyring_t;

#endif
