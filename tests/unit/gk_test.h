/*
 * Shared helpers of the common/ unit tests (libcheck) that need keys and
 * tokens; gk_test_core.h has the rest (pools, the clock TS, string lists,
 * temporary files, error-message assertions, TK_MAIN) and is all that
 * tests without keys include.
 *
 *  - test keys made once per binary with OpenSSL EVP (before the runner
 *    forks, so each test inherits them): TK.rsa, TK.ec256...
 *  - tokens signed here with OpenSSL directly, from header and payload JSON
 *    text the test controls byte for byte, base64url-encoded by an encoder
 *    of our own (not gk_b64url_encode, which is under test), so that any
 *    token, well-formed or not, can be made.
 *
 * A test file defines `static Suite *suite(void)` and ends with
 * TK_MAIN(suite), which here makes the keys first. Environment: CK_FORK=no
 * to run without fork (valgrind), CK_TAP_LOG_FILE_NAME=- for TAP lines on
 * stdout (make check-unit).
 */
#ifndef GK_TEST_H
#define GK_TEST_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include <jansson.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "gk_test_core.h"

#include "gk.h"
#include "gk_b64url.h"
#include "gk_jwt.h"
#include "gk_keys.h"

/* 64 bytes: HS256/384/512 secrets are its first 32/48/64 bytes. */
#define TK_SECRET "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!?"
#define TK_SECRET2 "zyxwvutsrqponmlkjihgfedcba9876543210ZYXWVUTSRQPONMLKJIHGFEDCBA#%"

/* ---- keys -------------------------------------------------------------- */

typedef struct {
    EVP_PKEY *rsa, *rsa2;       /* 2048 bits */
    EVP_PKEY *rsa1024;
    EVP_PKEY *ec256, *ec256b, *ec384, *ec521;
    EVP_PKEY *ed, *ed2;         /* Ed25519 */
    EVP_PKEY *ed448;
} tk_keys_t;

static tk_keys_t TK TK_UNUSED;

static inline EVP_PKEY *tk_gen_rsa(unsigned bits)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
    if (!k) {
        fprintf(stderr, "RSA key generation failed\n");
        abort();
    }
    return k;
}

static inline EVP_PKEY *tk_gen_ec(const char *curve)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", curve);
    if (!k) {
        fprintf(stderr, "EC key generation failed (%s)\n", curve);
        abort();
    }
    return k;
}

static inline EVP_PKEY *tk_gen_named(const char *type)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, type);
    if (!k) {
        fprintf(stderr, "%s key generation failed\n", type);
        abort();
    }
    return k;
}

static inline void tk_keys_init(void)
{
    TK.rsa = tk_gen_rsa(2048);
    TK.rsa2 = tk_gen_rsa(2048);
    TK.rsa1024 = tk_gen_rsa(1024);
    TK.ec256 = tk_gen_ec("P-256");
    TK.ec256b = tk_gen_ec("P-256");
    TK.ec384 = tk_gen_ec("P-384");
    TK.ec521 = tk_gen_ec("P-521");
    TK.ed = tk_gen_named("ED25519");
    TK.ed2 = tk_gen_named("ED25519");
    TK.ed448 = tk_gen_named("ED448");
}

static inline void tk_keys_free(void)
{
    EVP_PKEY **all[] = {&TK.rsa, &TK.rsa2, &TK.rsa1024, &TK.ec256,
                        &TK.ec256b, &TK.ec384, &TK.ec521, &TK.ed, &TK.ed2,
                        &TK.ed448};
    size_t i;

    for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        EVP_PKEY_free(*all[i]);
        *all[i] = NULL;
    }
}

/* The key of the right type for an algorithm (first choice). */
static inline EVP_PKEY *tk_key_for(gk_alg_e alg)
{
    switch (alg) {
    case GK_RS256: case GK_RS384: case GK_RS512:
    case GK_PS256: case GK_PS384: case GK_PS512:
        return TK.rsa;
    case GK_ES256:
        return TK.ec256;
    case GK_ES384:
        return TK.ec384;
    case GK_ES512:
        return TK.ec521;
    case GK_EDDSA:
        return TK.ed;
    default:
        return NULL;
    }
}

static inline char *tk_bio_text(apr_pool_t *p, BIO *b)
{
    char *data;
    long n = BIO_get_mem_data(b, &data);
    char *s = apr_pstrmemdup(p, data, (apr_size_t)n);
    BIO_free(b);
    return s;
}

/* PEM text of the public key (SubjectPublicKeyInfo). */
static inline char *tk_pub_pem(apr_pool_t *p, EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    ck_assert(PEM_write_bio_PUBKEY(b, k) == 1);
    return tk_bio_text(p, b);
}

/* PEM text of the private key (PKCS#8, unencrypted). */
static inline char *tk_priv_pem(apr_pool_t *p, EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    ck_assert(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) == 1);
    return tk_bio_text(p, b);
}

/* A gk key from the public PEM of k, or from a secret; must succeed. */
static inline gk_key_t *tk_gkkey(apr_pool_t *p, gk_alg_e alg, EVP_PKEY *k,
                                 const char *kid)
{
    gk_key_t *out = NULL;
    const char *pem = tk_pub_pem(p, k);
    const char *err = gk_key_from_pem(p, alg, pem, strlen(pem), kid, &out);
    ck_assert_msg(err == NULL, "gk_key_from_pem(%s): %s",
                  gk_alg_info(alg)->name, err);
    ck_assert_ptr_nonnull(out);
    return out;
}

static inline gk_key_t *tk_gksecret(apr_pool_t *p, gk_alg_e alg,
                                    const char *secret, size_t len,
                                    const char *kid)
{
    gk_key_t *out = NULL;
    const char *err = gk_key_from_secret(p, alg, (const unsigned char *)secret,
                                         len, kid, &out);
    ck_assert_msg(err == NULL, "gk_key_from_secret: %s", err);
    return out;
}

/* The standard key of alg: TK_SECRET prefix for HS*, else tk_key_for. */
static inline gk_key_t *tk_std_key(apr_pool_t *p, gk_alg_e alg,
                                   const char *kid)
{
    const gk_alg_info_t *ai = gk_alg_info(alg);
    if (ai->kind == GK_KIND_HMAC) {
        return tk_gksecret(p, alg, TK_SECRET, ai->hash_len, kid);
    }
    return tk_gkkey(p, alg, tk_key_for(alg), kid);
}

/* A key set (array of gk_key_t *) from a NULL-terminated list. */
static inline apr_array_header_t *tk_set(apr_pool_t *p, ...)
{
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(gk_key_t *));
    gk_key_t *k;
    va_list ap;

    va_start(ap, p);
    while ((k = va_arg(ap, gk_key_t *))) {
        APR_ARRAY_PUSH(a, gk_key_t *) = k;
    }
    va_end(ap);
    return a;
}

/* ---- base64url (our own, independent of gk_b64url) ---------------------- */

static inline char *tk_b64(apr_pool_t *p, const void *data, size_t len)
{
    char *out = apr_palloc(p, (len + 2) / 3 * 4 + 1);
    int n = EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    int i;

    while (n > 0 && out[n - 1] == '=') {
        n--;
    }
    out[n] = '\0';
    for (i = 0; i < n; i++) {
        if (out[i] == '+') {
            out[i] = '-';
        }
        else if (out[i] == '/') {
            out[i] = '_';
        }
    }
    return out;
}

static inline char *tk_b64s(apr_pool_t *p, const char *s)
{
    return tk_b64(p, s, strlen(s));
}

/* ---- signing ------------------------------------------------------------ */

/* Who signs: an HMAC secret or a private key, for one JWS algorithm. */
typedef struct {
    gk_alg_e alg;
    EVP_PKEY *pkey;
    const char *secret;
    size_t secret_len;
    int ec_der;     /* ES*: leave the signature DER-encoded (invalid JWS) */
} tk_signer_t;

static inline tk_signer_t tk_hmac(gk_alg_e alg, const char *secret,
                                  size_t len)
{
    tk_signer_t s = {alg, NULL, secret, len, 0};
    return s;
}

static inline tk_signer_t tk_pk(gk_alg_e alg, EVP_PKEY *k)
{
    tk_signer_t s = {alg, k, NULL, 0, 0};
    return s;
}

/* The standard signer of alg, matching tk_std_key. */
static inline tk_signer_t tk_std_signer(gk_alg_e alg)
{
    const gk_alg_info_t *ai = gk_alg_info(alg);
    if (ai->kind == GK_KIND_HMAC) {
        return tk_hmac(alg, TK_SECRET, ai->hash_len);
    }
    return tk_pk(alg, tk_key_for(alg));
}

/* Sign in[0..inlen) as the JWS signature of s.alg; pool memory. */
static inline unsigned char *tk_sign(apr_pool_t *p, tk_signer_t s,
                                     const void *in, size_t inlen,
                                     size_t *siglen)
{
    const gk_alg_info_t *ai = gk_alg_info(s.alg);
    unsigned char *sig;
    EVP_MD_CTX *ctx;
    EVP_PKEY_CTX *pctx = NULL;
    size_t n = 0;

    ck_assert_ptr_nonnull(ai);
    if (ai->kind == GK_KIND_HMAC) {
        unsigned int mlen = 0;
        sig = apr_palloc(p, EVP_MAX_MD_SIZE);
        ck_assert_ptr_nonnull(HMAC(EVP_get_digestbyname(ai->digest),
                                   s.secret, (int)s.secret_len, in, inlen,
                                   sig, &mlen));
        *siglen = mlen;
        return sig;
    }
    ck_assert_ptr_nonnull(s.pkey);
    ctx = EVP_MD_CTX_new();
    ck_assert_int_eq(EVP_DigestSignInit_ex(ctx, &pctx, ai->digest, NULL,
                                           NULL, s.pkey, NULL),
                     1);
    if (ai->kind == GK_KIND_PSS) {
        ck_assert_int_eq(
            EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
        ck_assert_int_eq(
            EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST),
            1);
    }
    ck_assert_int_eq(EVP_DigestSign(ctx, NULL, &n, in, inlen), 1);
    sig = apr_palloc(p, n);
    ck_assert_int_eq(EVP_DigestSign(ctx, sig, &n, in, inlen), 1);
    EVP_MD_CTX_free(ctx);
    if (ai->kind == GK_KIND_EC && !s.ec_der) {
        /* DER ECDSA-Sig-Value -> R || S, each field_len bytes */
        const unsigned char *q = sig;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)n);
        unsigned char *raw = apr_palloc(p, 2 * ai->field_len);
        ck_assert_ptr_nonnull(es);
        ck_assert_int_eq(BN_bn2binpad(ECDSA_SIG_get0_r(es), raw,
                                      (int)ai->field_len),
                         (int)ai->field_len);
        ck_assert_int_eq(BN_bn2binpad(ECDSA_SIG_get0_s(es),
                                      raw + ai->field_len,
                                      (int)ai->field_len),
                         (int)ai->field_len);
        ECDSA_SIG_free(es);
        sig = raw;
        n = 2 * ai->field_len;
    }
    *siglen = n;
    return sig;
}

/* "<b64 header>.<b64 payload>" from JSON text. */
static inline char *tk_input(apr_pool_t *p, const char *header,
                             const char *payload)
{
    return apr_pstrcat(p, tk_b64s(p, header), ".", tk_b64s(p, payload), NULL);
}

/* Sign an arbitrary signing input (already encoded segments). */
static inline char *tk_sign_input(apr_pool_t *p, tk_signer_t s,
                                  const char *input)
{
    size_t n;
    unsigned char *sig = tk_sign(p, s, input, strlen(input), &n);
    return apr_pstrcat(p, input, ".", tk_b64(p, sig, n), NULL);
}

/* A compact JWS of header and payload JSON text, signed by s. */
static inline char *tk_jws(apr_pool_t *p, tk_signer_t s, const char *header,
                           const char *payload)
{
    return tk_sign_input(p, s, tk_input(p, header, payload));
}

/* A token with header {"alg":"<alg>"} and the payload given. */
static inline char *tk_tok(apr_pool_t *p, tk_signer_t s, const char *payload)
{
    const char *h = apr_psprintf(p, "{\"alg\":\"%s\"}",
                                 gk_alg_info(s.alg)->name);
    return tk_jws(p, s, h, payload);
}

/* A token with header {"alg":"<alg>","kid":"<kid>"}. */
static inline char *tk_tok_kid(apr_pool_t *p, tk_signer_t s, const char *kid,
                               const char *payload)
{
    const char *h = apr_psprintf(p, "{\"alg\":\"%s\",\"kid\":\"%s\"}",
                                 gk_alg_info(s.alg)->name, kid);
    return tk_jws(p, s, h, payload);
}

/* The usual payload: sub, and exp an hour after TS. */
#define TK_PAYLOAD "{\"sub\":\"alice\",\"exp\":1700003600}"

/* ---- verifying ---------------------------------------------------------- */

static inline gk_status_e tk_verify_len(const char *tok, size_t len,
                                        const apr_array_header_t *set,
                                        gk_verified_t **out)
{
    const apr_array_header_t *const sets[1] = {set};
    gk_verified_t *v = NULL;
    gk_status_e st = gk_jwt_verify(tok, len, sets, 1, &v);
    if (st != GK_OK) {
        ck_assert_msg(v == NULL, "verify failed but returned a record");
    }
    else {
        ck_assert_ptr_nonnull(v);
        ck_assert_uint_eq(v->refs, 1);
    }
    if (out) {
        *out = v;
    }
    else {
        gk_verified_unref(v);
    }
    return st;
}

static inline gk_status_e tk_verify(const char *tok,
                                    const apr_array_header_t *set,
                                    gk_verified_t **out)
{
    return tk_verify_len(tok, strlen(tok), set, out);
}

/* ck_assert on a status, naming both statuses on failure. */
#define tk_assert_st(got, want)                                              \
    do {                                                                     \
        gk_status_e tk_g_ = (got), tk_w_ = (want);                           \
        ck_assert_msg(tk_g_ == tk_w_, "status %d (%s), expected %d (%s)",    \
                      (int)tk_g_, gk_status_text(tk_g_), (int)tk_w_,         \
                      gk_status_text(tk_w_));                                \
    } while (0)

/* Verify then check claims with policy pol at now; the first failure. */
static inline gk_status_e tk_check(const char *tok,
                                   const apr_array_header_t *set,
                                   const gk_claims_policy_t *pol,
                                   apr_int64_t now)
{
    gk_verified_t *v;
    gk_status_e st = tk_verify(tok, set, &v);
    if (st == GK_OK) {
        st = gk_jwt_check_claims(v, pol, now);
        gk_verified_unref(v);
    }
    return st;
}

/* A policy: leeway, require_exp, nothing else. */
static inline gk_claims_policy_t tk_policy(int leeway, int require_exp)
{
    gk_claims_policy_t pol;
    memset(&pol, 0, sizeof(pol));
    pol.leeway = leeway;
    pol.require_exp = require_exp;
    return pol;
}

/* ---- JWK ---------------------------------------------------------------- */

static inline char *tk_b64_bn(apr_pool_t *p, const BIGNUM *bn, int padlen)
{
    int n = padlen ? padlen : BN_num_bytes(bn);
    unsigned char *buf = apr_palloc(p, (apr_size_t)n + 1);
    ck_assert_int_eq(BN_bn2binpad(bn, buf, n), n);
    return tk_b64(p, buf, (size_t)n);
}

/* The public JWK of k (kty and key members only; add alg, kid...). */
static inline json_t *tk_jwk(apr_pool_t *p, EVP_PKEY *k)
{
    json_t *o = json_object();

    if (EVP_PKEY_is_a(k, "RSA")) {
        BIGNUM *n = NULL, *e = NULL;
        ck_assert(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n));
        ck_assert(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e));
        json_object_set_new(o, "kty", json_string("RSA"));
        json_object_set_new(o, "n", json_string(tk_b64_bn(p, n, 0)));
        json_object_set_new(o, "e", json_string(tk_b64_bn(p, e, 0)));
        BN_free(n);
        BN_free(e);
    }
    else if (EVP_PKEY_is_a(k, "EC")) {
        BIGNUM *x = NULL, *y = NULL;
        int bits = EVP_PKEY_get_bits(k), flen = (bits + 7) / 8;
        ck_assert(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, &x));
        ck_assert(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, &y));
        json_object_set_new(o, "kty", json_string("EC"));
        json_object_set_new(o, "crv",
                            json_string(bits == 256   ? "P-256"
                                        : bits == 384 ? "P-384"
                                                      : "P-521"));
        json_object_set_new(o, "x", json_string(tk_b64_bn(p, x, flen)));
        json_object_set_new(o, "y", json_string(tk_b64_bn(p, y, flen)));
        BN_free(x);
        BN_free(y);
    }
    else {
        unsigned char raw[64];
        size_t n = sizeof(raw);
        ck_assert(EVP_PKEY_get_raw_public_key(k, raw, &n) == 1);
        json_object_set_new(o, "kty", json_string("OKP"));
        json_object_set_new(o, "crv", json_string(EVP_PKEY_is_a(k, "ED25519")
                                                      ? "Ed25519"
                                                      : "Ed448"));
        json_object_set_new(o, "x", json_string(tk_b64(p, raw, n)));
    }
    return o;
}

/* An oct JWK of a secret. */
static inline json_t *tk_jwk_oct(apr_pool_t *p, const char *secret,
                                 size_t len)
{
    json_t *o = json_object();
    json_object_set_new(o, "kty", json_string("oct"));
    json_object_set_new(o, "k", json_string(tk_b64(p, secret, len)));
    return o;
}

/* jwk with "alg" (unless NULL) and "kid" (unless NULL) added; steals jwk. */
static inline json_t *tk_jwk_with(json_t *jwk, const char *alg,
                                  const char *kid)
{
    if (alg) {
        json_object_set_new(jwk, "alg", json_string(alg));
    }
    if (kid) {
        json_object_set_new(jwk, "kid", json_string(kid));
    }
    return jwk;
}

/* JSON text of a JWKS holding the given JWKs (NULL-terminated, stolen). */
static inline char *tk_jwks_text(apr_pool_t *p, ...)
{
    json_t *keys = json_array(), *root = json_object(), *k;
    char *s, *out;
    va_list ap;

    va_start(ap, p);
    while ((k = va_arg(ap, json_t *))) {
        json_array_append_new(keys, k);
    }
    va_end(ap);
    json_object_set_new(root, "keys", keys);
    s = json_dumps(root, JSON_COMPACT);
    out = apr_pstrdup(p, s);
    free(s);
    json_decref(root);
    return out;
}

/* Text of a JSON value (for building test inputs); pool memory. */
static inline char *tk_json_text(apr_pool_t *p, json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    char *out = apr_pstrdup(p, s);
    free(s);
    return out;
}

/* ---- main --------------------------------------------------------------- */

/* Run a suite: keys first (inherited by the forked tests), then every
 * test; the exit status is non-zero when any test failed. */
static inline int tk_run(Suite *s)
{
    return tk_run_with(s, tk_keys_init, tk_keys_free);
}

#undef TK_MAIN
#define TK_MAIN(suite_fn)                                                    \
    int main(void);                                                          \
    int main(void)                                                           \
    {                                                                        \
        return tk_run(suite_fn());                                           \
    }

#endif
