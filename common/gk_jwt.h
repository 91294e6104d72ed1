/*
 * JWS/JWT verification on OpenSSL's EVP API and jansson (RFC 7515, 7519,
 * 8725, 9068). libjwt is not used to verify: it trusts the token's "alg".
 *
 * The result of a successful verification is a gk_verified_t: an immutable,
 * reference-counted record of what the token proved, shared between the
 * request that verified it and the per-process cache. Claim checks that
 * depend on the location (time, issuer, audience, type) run on every use,
 * cached or not, through gk_jwt_check_claims().
 */
#ifndef GK_JWT_H
#define GK_JWT_H

#include <jansson.h>

#include "gk.h"
#include "gk_keys.h"

typedef enum {
    GK_OK = 0,
    GK_ERR_MALFORMED,       /* not three strict base64url segments */
    GK_ERR_TOO_LONG,
    GK_ERR_HEADER,          /* header not a JSON object, duplicates... */
    GK_ERR_PAYLOAD,         /* payload not a JSON object, duplicates... */
    GK_ERR_ALG,             /* alg missing, none, unknown */
    GK_ERR_CRIT,            /* a critical extension we do not understand */
    GK_ERR_NO_KEY,          /* no key for this alg (and kid) */
    GK_ERR_SIGNATURE,
    GK_ERR_CLAIM_TYPE,      /* exp/nbf/iat not numbers, iss/aud not strings */
    GK_ERR_EXP_MISSING,
    GK_ERR_EXPIRED,
    GK_ERR_NOT_YET_VALID,   /* nbf in the future */
    GK_ERR_IAT_FUTURE,
    GK_ERR_ISSUER,
    GK_ERR_AUDIENCE,
    GK_ERR_TYPE,            /* typ not allowed */
    GK_ERR_INTERNAL,
    GK_ERR_SYNTAX,          /* the credentials are not a b64token (RFC
                             * 6750): a bad request, not a bad token. The
                             * caller's check; gk_jwt_verify never says it */
    GK_ERR_COUNT
} gk_status_e;

/* A short description, safe to send to clients and to log. */
const char *gk_status_text(gk_status_e st);

/* How the header's "typ" was classified. */
typedef enum {
    GK_TYP_ABSENT = 0,
    GK_TYP_JWT,
    GK_TYP_AT_JWT,      /* at+jwt or application/at+jwt */
    GK_TYP_OTHER
} gk_typ_e;

/* The memo slots of a verified record. */
#define GK_VERIFIED_MEMOS 2

typedef struct gk_verified_t {
    apr_uint32_t refs;          /* atomic */
    json_t *payload;            /* the claims (an object) */
    const char *payload_text;   /* the payload JSON as it was signed */
    apr_size_t payload_len;
    gk_alg_e alg;
    gk_typ_e typ;
    unsigned has_exp : 1, has_nbf : 1, has_iat : 1;
    apr_int64_t exp, nbf, iat; /* seconds */
    const char *iss;            /* borrowed from payload, or NULL */
    json_t *aud;                /* borrowed from payload, or NULL */
    /* set when cached: */
    char *token;
    apr_size_t token_len;
    apr_uint64_t hash;
    const void *ring;
    apr_uint32_t gen;
    apr_int64_t cached_until;
    /* What users of the record derived from it, one slot each (mod_gk_auth
     * numbers them), each set once (see gk_verified_memo_set), freed
     * with the record. */
    void *volatile memo[GK_VERIFIED_MEMOS];
    void (*memo_free[GK_VERIFIED_MEMOS])(void *memo);
} gk_verified_t;

void gk_verified_ref(gk_verified_t *v);
/* Attach memo (malloc'd) once to slot (0..GK_VERIFIED_MEMOS-1): returns
 * memo, or the memo another thread attached first (then memo is freed
 * with free_fn). */
void *gk_verified_memo_set(gk_verified_t *v, int slot, void *memo,
                           void (*free_fn)(void *));
void gk_verified_unref(gk_verified_t *v);

/* What a location demands of a token's claims. */
typedef struct gk_claims_policy_t {
    int leeway;                         /* seconds */
    int require_exp;
    int require_at_jwt;                 /* typ must be at+jwt */
    const char *issuer;                 /* NULL: not checked */
    const apr_array_header_t *audiences; /* const char *; NULL: not checked */
} gk_claims_policy_t;

/* Verify the signature of a compact JWS with keys (an array of gk_key_t *)
 * and parse it. Neither the claims nor the time are checked here. On
 * success *out holds one reference. kid_tries bounds how many keys of the
 * token's algorithm are tried when it carries no "kid". */
#define GK_KIDLESS_TRIES 4
gk_status_e gk_jwt_verify(const char *token, apr_size_t len,
                          const apr_array_header_t *const *keysets,
                          int nkeysets, gk_verified_t **out);

/* Check time, issuer, audience and type against a policy at time now. */
gk_status_e gk_jwt_check_claims(const gk_verified_t *v,
                                const gk_claims_policy_t *pol,
                                apr_int64_t now);

#endif
