/*
 * Signing keys, JWT signing and key publishing (issue 13): the issuing
 * side of common/, beside the verifier (gk_jwt.h) and tested against it.
 *
 *  - A signing key (gk_sign_key_t) is parsed once, at startup, from the
 *    same sources as a verification key (gk_key_load: "env:VAR",
 *    "file:PATH", a PEM PATH), and must hold what signs: an HMAC secret
 *    for HS*, an unencrypted PEM private key otherwise. Public keys,
 *    certificates and encrypted private keys are refused (a passphrase is
 *    never asked for), and so are the keys the verifier refuses (RSA under
 *    2048 bits, secrets shorter than the hash, a key of the wrong type or
 *    curve for the algorithm; EdDSA is Ed25519 only, as for verifying).
 *    Loading makes one signature and verifies it with gk_jwt_verify, so a
 *    key that loads makes tokens that the verifier accepts.
 *  - kid: the one given, else for RSA, EC and OKP keys the RFC 7638 JWK
 *    thumbprint (base64url of the SHA-256 of the canonical JSON of the
 *    public members). For HMAC keys nothing is ever derived from the
 *    secret: without an explicit kid the token has no "kid" header.
 *  - Signing does no parsing and shares nothing mutable: RSA, PSS and EC
 *    duplicate a context set up once at load (digest, padding, PSS salt
 *    length = hash length per RFC 7518 section 3.5), HMAC copies the
 *    precomputed keyed hash states, EdDSA signs in one shot
 *    (EVP_DigestSign, no digest). Any number of threads may sign with one
 *    key at the same time.
 *  - ECDSA signatures are written as JWS wants them: R || S, each the
 *    curve's field length (RFC 7518 section 3.4), not DER.
 *  - Published keys (gk_jwk_public, gk_jwks_document) carry only public
 *    members: never "d", "p", "q", "dp", "dq", "qi", nor an HMAC secret
 *    ("k"); HMAC keys are left out.
 *
 * Everything a key owns is released with the pool it was loaded in.
 */
#ifndef GK_SIGN_H
#define GK_SIGN_H

#include <jansson.h>
#include <openssl/evp.h>

#include "gk.h"
#include "gk_alg.h"
#include "gk_keys.h"

typedef struct gk_sign_key_t {
    gk_alg_e alg;
    const char *kid;            /* NULL: no "kid" header (HS* only) */
    const gk_key_t *verify;     /* the same key, for verifying (made from
                                 * the private key: its public half) */
    EVP_PKEY *pkey;             /* the private key; NULL for HMAC */
    EVP_MD *md;                 /* RSA, PSS, EC */
    EVP_PKEY_CTX *sctx;         /* RSA, PSS, EC: set up for signing once,
                                 * duplicated per signature (never used
                                 * directly) */
    apr_size_t sig_len;         /* bytes of a JWS signature */
    apr_size_t der_max;         /* bytes OpenSSL may write (EC: DER) */
    const char *header;         /* base64url of the JWS header */
    apr_size_t header_len;
    /* The public JWK members (base64url or names); NULL when absent. */
    const char *n, *e, *crv, *x, *y;
    int publish_only;           /* published, never signs (pkey is then
                                 * the public key) */
} gk_sign_key_t;

/* A signing key from a source: "env:VAR" or "file:PATH" (HS*: the secret
 * bytes, less one trailing "\n" or "\r\n"; otherwise PEM text), or a PEM
 * PATH (not HS*). The PEM must hold an unencrypted private key (PKCS#8 or
 * the traditional RSA/EC forms; other PEM blocks such as a certificate or
 * EC parameters beside it are ignored). kid NULL: see above. Returns NULL
 * on success, or why the key was refused. */
const char *gk_sign_key_load(apr_pool_t *p, gk_alg_e alg, const char *source,
                             const char *kid, gk_sign_key_t **out);

/* A key that is published but never signs (a retired key whose tokens
 * are still valid, or one held by another issuer): from the same sources,
 * a public key, a certificate or a private key (its public half), checked
 * by the verifier's rules; kid NULL: the RFC 7638 thumbprint. HS* keys are
 * refused (a shared secret is never published). gk_sign_jwt refuses it. */
const char *gk_sign_key_publish_only(apr_pool_t *p, gk_alg_e alg,
                                     const char *source, const char *kid,
                                     gk_sign_key_t **out);

/* The same from PEM text (len bytes) or from secret bytes. */
const char *gk_sign_key_from_pem(apr_pool_t *p, gk_alg_e alg,
                                 const char *pem, apr_size_t len,
                                 const char *kid, gk_sign_key_t **out);
const char *gk_sign_key_from_secret(apr_pool_t *p, gk_alg_e alg,
                                    const unsigned char *secret,
                                    apr_size_t len, const char *kid,
                                    gk_sign_key_t **out);

/* A compact JWS of payload_json (len bytes, the caller's JSON object, used
 * as given) signed with k: base64url(header) "." base64url(payload) "."
 * base64url(signature), with the header {"alg":ALG,"typ":"at+jwt",
 * "kid":KID} ("kid" left out when k has none). *token is NUL-terminated,
 * in p. Refused when the token would be longer than the verifier accepts
 * (GK_TOKEN_MAX_LEN). Returns NULL on success, or what failed. */
const char *gk_sign_jwt(apr_pool_t *p, const gk_sign_key_t *k,
                        const char *payload_json, apr_size_t len,
                        const char **token);

/* The JWS signature (base64url, in p) of a signing input of len bytes
 * that the caller made: the primitive under gk_sign_jwt, for a JWS with
 * another header (and for cross-checks with libraries that refuse
 * "typ":"at+jwt", such as libjwt 1.10). A token endpoint uses
 * gk_sign_jwt. */
const char *gk_sign_input(apr_pool_t *p, const gk_sign_key_t *k,
                          const char *input, apr_size_t len,
                          const char **sig_b64);

/* The claims of an access token (RFC 9068). Strings are UTF-8 (anything
 * else is refused, never repaired) and are escaped as JSON needs. */
typedef struct gk_sign_claims_t {
    const char *iss;            /* NULL: left out */
    const char *sub;            /* required, not empty */
    const char *aud;            /* NULL: left out */
    apr_int64_t iat, nbf, exp;  /* seconds; exp must be after iat and nbf */
    const char *jti;            /* NULL: a fresh one (gk_sign_jti) */
    /* Either a scope (space-separated, not empty)... */
    const char *scope;
    /* ...or roles and permissions (arrays of const char *, NULL: empty)
     * under the claim names given (a NULL name leaves the claim out). A
     * name may not be one of the claims above nor the other's name. */
    const char *roles_claim;
    const apr_array_header_t *roles;
    const char *permissions_claim;
    const apr_array_header_t *permissions;
} gk_sign_claims_t;

/* The JSON payload of c, members in this order: iss, sub, aud, iat, nbf,
 * exp, jti, then scope or the roles and permissions claims. *json is
 * NUL-terminated (*len bytes without the NUL), in p. */
const char *gk_sign_claims(apr_pool_t *p, const gk_sign_claims_t *c,
                           const char **json, apr_size_t *len);

/* A token identifier: 128 bits from gk_rand, as 22 base64url characters
 * and a NUL in out. NULL on success, or why not (p: for the message). */
#define GK_JTI_LEN 22
const char *gk_sign_jti(apr_pool_t *p, char out[GK_JTI_LEN + 1]);

/* The RFC 7638 thumbprint (SHA-256) of an RSA, EC (P-256/384/521) or
 * Ed25519 key's public half, base64url (43 characters), in p. */
const char *gk_jwk_thumbprint(apr_pool_t *p, EVP_PKEY *pkey,
                              const char **out);

/* The public JWK of k: {"kty","kid","use":"sig","alg", then "n","e" |
 * "crv","x","y" | "crv","x"} ("kid" left out when k has none). *out is a
 * new reference (json_decref it), or NULL for an HMAC key, which is not an
 * error: a secret is never published. */
const char *gk_jwk_public(apr_pool_t *p, const gk_sign_key_t *k,
                          json_t **out);

/* The JWK Set (RFC 7517 section 5) of the n keys: {"keys":[...]}, HMAC
 * keys left out ({"keys":[]} when there are only HMAC keys). Compact JSON
 * text, NUL-terminated, in p. */
const char *gk_jwks_document(apr_pool_t *p, gk_sign_key_t *const *keys,
                             int n, const char **json);

#endif
