/*
 * JWS algorithms (RFC 7518, RFC 8037): their names, families and sizes.
 * What a key, a verifier or a signer needs to know of an "alg".
 */
#ifndef GK_ALG_H
#define GK_ALG_H

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

/* The algorithm's properties; NULL for GK_ALG_UNKNOWN or out of range. */
const gk_alg_info_t *gk_alg_info(gk_alg_e alg);

/* The JWK key type ("kty") the algorithm needs (RFC 7518 section 6.1):
 * "oct", "RSA", "EC" or "OKP"; NULL for an unknown algorithm. */
const char *gk_alg_kty(gk_alg_e alg);

#endif
