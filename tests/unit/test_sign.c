/* Signing keys, JWT signing, claims and key publishing (gk_sign.h): every
 * token checked by the project's verifier, by OpenSSL directly and, for
 * HS256/RS256/ES256, by libjwt. */
#include <errno.h>

#include <apr_hash.h>
#include <apr_thread_proc.h>
#include <jwt.h>
#include <openssl/x509.h>

#include "gk_jwks.h"
#include "gk_sign.h"
#include "gk_test.h"

#define ALG_NAME(a) (gk_alg_info(a)->name)

/* The signing key of alg: TK_SECRET's prefix for HS*, else the private
 * PEM of tk_key_for(alg). */
static gk_sign_key_t *sk_std(gk_alg_e alg, const char *kid)
{
    const gk_alg_info_t *ai = gk_alg_info(alg);
    gk_sign_key_t *k = NULL;
    const char *err;

    if (ai->kind == GK_KIND_HMAC) {
        err = gk_sign_key_from_secret(tp, alg, (const unsigned char *)TK_SECRET,
                                      ai->hash_len, kid, &k);
    }
    else {
        const char *pem = tk_priv_pem(tp, tk_key_for(alg));
        err = gk_sign_key_from_pem(tp, alg, pem, strlen(pem), kid, &k);
    }
    ck_assert_msg(err == NULL, "%s: %s", ai->name, err);
    ck_assert_ptr_nonnull(k);
    return k;
}

static const char *sign(const gk_sign_key_t *k, const char *payload)
{
    const char *tok = NULL;
    tk_assert_ok(gk_sign_jwt(tp, k, payload, strlen(payload), &tok));
    ck_assert_ptr_nonnull(tok);
    return tok;
}

/* Segment i (0..2) of a compact JWS. */
static const char *segment(const char *tok, int i, apr_size_t *len)
{
    const char *s = tok, *dot;
    while (i-- > 0) {
        s = strchr(s, '.');
        ck_assert_ptr_nonnull(s);
        s++;
    }
    dot = strchr(s, '.');
    *len = dot ? (apr_size_t)(dot - s) : strlen(s);
    return s;
}

static char *segment_decoded(const char *tok, int i, apr_size_t *outlen)
{
    apr_size_t len, n;
    const char *s = segment(tok, i, &len);
    unsigned char *d = gk_b64url_decode_pool(tp, s, len, &n);
    ck_assert_ptr_nonnull(d);
    if (outlen) {
        *outlen = n;
    }
    return (char *)d;
}

/* Verify tok with OpenSSL directly: the signing input, the signature
 * (ES: back to DER), the public key of pk (or the HMAC secret). */
static int openssl_verifies(gk_alg_e alg, EVP_PKEY *pk, const char *secret,
                            size_t slen, const char *tok)
{
    const gk_alg_info_t *ai = gk_alg_info(alg);
    const char *last = strrchr(tok, '.');
    size_t inlen = (size_t)(last - tok), siglen;
    unsigned char *sig = (unsigned char *)segment_decoded(tok, 2, &siglen);
    EVP_MD_CTX *ctx;
    EVP_PKEY_CTX *pctx = NULL;
    EVP_PKEY *pub;
    const char *pem;
    BIO *b;
    int ok;

    if (ai->kind == GK_KIND_HMAC) {
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned int mlen = 0;
        ck_assert_ptr_nonnull(HMAC(EVP_get_digestbyname(ai->digest), secret,
                                   (int)slen, (const unsigned char *)tok,
                                   inlen, mac, &mlen));
        return mlen == siglen && !memcmp(mac, sig, siglen);
    }
    if (ai->kind == GK_KIND_EC) {
        ECDSA_SIG *es = ECDSA_SIG_new();
        unsigned char *der = NULL;
        int n;
        ck_assert_uint_eq(siglen, 2 * ai->field_len);
        ck_assert(ECDSA_SIG_set0(es, BN_bin2bn(sig, (int)ai->field_len, NULL),
                                 BN_bin2bn(sig + ai->field_len,
                                           (int)ai->field_len, NULL)));
        n = i2d_ECDSA_SIG(es, &der);
        ck_assert_int_gt(n, 0);
        sig = apr_pmemdup(tp, der, (apr_size_t)n);
        siglen = (size_t)n;
        OPENSSL_free(der);
        ECDSA_SIG_free(es);
    }
    /* the public half only, through PEM, so that nothing private helps */
    pem = tk_pub_pem(tp, pk);
    b = BIO_new_mem_buf(pem, -1);
    pub = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
    BIO_free(b);
    ck_assert_ptr_nonnull(pub);
    ctx = EVP_MD_CTX_new();
    ck_assert_int_eq(EVP_DigestVerifyInit_ex(ctx, &pctx, ai->digest, NULL,
                                             NULL, pub, NULL),
                     1);
    if (ai->kind == GK_KIND_PSS) {
        ck_assert_int_eq(
            EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING), 1);
        /* RFC 7518 3.5: the salt is exactly the hash length */
        ck_assert_int_eq(
            EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, (int)ai->hash_len), 1);
    }
    ok = EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)tok,
                          inlen) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pub);
    return ok;
}

static int std_openssl_verifies(gk_alg_e alg, const char *tok)
{
    const gk_alg_info_t *ai = gk_alg_info(alg);
    return openssl_verifies(alg, tk_key_for(alg), TK_SECRET, ai->hash_len,
                            tok);
}

/* RFC 7638 thumbprint computed here from tk_jwk's members. */
static const char *thumb_of(EVP_PKEY *k)
{
    json_t *j = tk_jwk(tp, k);
    char *canon = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    unsigned char h[32];
    unsigned int hl = 0;
    const char *out;

    ck_assert(EVP_Digest(canon, strlen(canon), h, &hl, EVP_sha256(), NULL));
    out = tk_b64(tp, h, hl);
    free(canon);
    json_decref(j);
    return out;
}

/* ---- every algorithm ---------------------------------------------------- */

START_TEST(every_alg_signs)
{
    gk_alg_e alg = (gk_alg_e)_i;
    const gk_alg_info_t *ai = gk_alg_info(alg);
    gk_sign_key_t *k = sk_std(alg, NULL);
    const char *tok = sign(k, TK_PAYLOAD), *hdr;
    apr_array_header_t *set;
    gk_verified_t *v;

    /* the header, byte for byte */
    hdr = segment_decoded(tok, 0, NULL);
    if (ai->kind == GK_KIND_HMAC) {
        ck_assert_ptr_null(k->kid);
        ck_assert_str_eq(hdr, apr_psprintf(tp, "{\"alg\":\"%s\",\"typ\":"
                                           "\"at+jwt\"}", ai->name));
    }
    else {
        ck_assert_str_eq(k->kid, thumb_of(tk_key_for(alg)));
        ck_assert_str_eq(hdr, apr_psprintf(tp, "{\"alg\":\"%s\",\"typ\":"
                                           "\"at+jwt\",\"kid\":\"%s\"}",
                                           ai->name, k->kid));
    }
    ck_assert_str_eq(segment_decoded(tok, 1, NULL), TK_PAYLOAD);

    /* the project's verifier, with a key made from the public PEM */
    set = tk_set(tp, tk_std_key(tp, alg, k->kid), NULL);
    tk_assert_st(tk_verify(tok, set, &v), GK_OK);
    ck_assert_int_eq(v->alg, alg);
    ck_assert_int_eq(v->typ, GK_TYP_AT_JWT);
    ck_assert_str_eq(v->payload_text, TK_PAYLOAD);
    gk_verified_unref(v);
    /* and with the key's own verification half */
    tk_assert_st(tk_verify(tok, tk_set(tp, (gk_key_t *)k->verify, NULL), NULL),
                 GK_OK);

    /* OpenSSL directly */
    ck_assert(std_openssl_verifies(alg, tok));

    /* a signature length as JWS wants it */
    {
        apr_size_t n;
        segment_decoded(tok, 2, &n);
        ck_assert_uint_eq(n, ai->kind == GK_KIND_EC     ? 2 * ai->field_len
                             : ai->kind == GK_KIND_HMAC ? ai->hash_len
                             : ai->kind == GK_KIND_EDDSA ? 64
                                                         : 256);
    }

    /* tampering is caught by both */
    {
        char *bad = apr_pstrdup(tp, tok);
        char *p2 = strrchr(bad, '.') + 3;
        *p2 = *p2 == 'A' ? 'B' : 'A';
        tk_assert_st(tk_verify(bad, set, NULL), GK_ERR_SIGNATURE);
        ck_assert(!std_openssl_verifies(alg, bad));
    }

    /* deterministic algorithms sign alike; ECDSA and PSS are randomised */
    {
        const char *tok2 = sign(k, TK_PAYLOAD);
        if (ai->kind == GK_KIND_EC || ai->kind == GK_KIND_PSS) {
            ck_assert_str_ne(tok, tok2);
        }
        else {
            ck_assert_str_eq(tok, tok2);
        }
        tk_assert_st(tk_verify(tok2, set, NULL), GK_OK);
    }
}
END_TEST

/* The exported JWK makes a verification key (gk_key_from_jwk) that
 * accepts the tokens: the JWK is right, and has no private member. */
START_TEST(every_alg_jwk_verifies)
{
    gk_alg_e alg = (gk_alg_e)_i;
    gk_sign_key_t *k = sk_std(alg, NULL);
    const char *tok = sign(k, TK_PAYLOAD);
    json_t *jwk = NULL;
    gk_key_t *vk = NULL;
    const char *key;
    json_t *val;

    tk_assert_ok(gk_jwk_public(tp, k, &jwk));
    if (gk_alg_info(alg)->kind == GK_KIND_HMAC) {
        ck_assert_ptr_null(jwk);
        return;
    }
    ck_assert_ptr_nonnull(jwk);
    json_object_foreach(jwk, key, val) {
        ck_assert_msg(strstr(" kty kid use alg n e crv x y ",
                             apr_pstrcat(tp, " ", key, " ", NULL)) != NULL,
                      "member %s", key);
    }
    ck_assert_str_eq(json_string_value(json_object_get(jwk, "use")), "sig");
    ck_assert_str_eq(json_string_value(json_object_get(jwk, "alg")),
                     ALG_NAME(alg));
    ck_assert_str_eq(json_string_value(json_object_get(jwk, "kid")), k->kid);
    tk_assert_ok(gk_key_from_jwk(tp, jwk, GK_ALG_UNKNOWN, &vk));
    json_decref(jwk);
    ck_assert_str_eq(vk->kid, k->kid);
    tk_assert_st(tk_verify(tok, tk_set(tp, vk, NULL), NULL), GK_OK);
}
END_TEST

/* ---- kid ------------------------------------------------------------------ */

/* RFC 7638 section 3.1: the example RSA key's thumbprint. */
START_TEST(rfc7638_example)
{
    const char *jwk_text =
        "{\"kty\":\"RSA\",\"n\":\"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM"
        "78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMs"
        "tn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY3"
        "68QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdk"
        "t-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur"
        "-kEgU8awapJzKnqDKgw\",\"e\":\"AQAB\",\"alg\":\"RS256\",\"kid\":"
        "\"2011-04-29\"}";
    json_t *jwk = json_loads(jwk_text, 0, NULL);
    gk_key_t *vk = NULL;
    const char *tp_ = NULL;

    ck_assert_ptr_nonnull(jwk);
    tk_assert_ok(gk_key_from_jwk(tp, jwk, GK_ALG_UNKNOWN, &vk));
    json_decref(jwk);
    tk_assert_ok(gk_jwk_thumbprint(tp, vk->pkey, &tp_));
    ck_assert_str_eq(tp_, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}
END_TEST

/* The thumbprint of each key type against one computed here; a kid given
 * replaces it; HMAC keys get no kid unless one is given. */
START_TEST(kid_default_and_given)
{
    EVP_PKEY *keys[] = {TK.rsa, TK.ec256, TK.ec384, TK.ec521, TK.ed};
    gk_sign_key_t *k;
    const char *t = NULL;
    size_t i;

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        tk_assert_ok(gk_jwk_thumbprint(tp, keys[i], &t));
        ck_assert_str_eq(t, thumb_of(keys[i]));
        ck_assert_uint_eq(strlen(t), 43);
    }
    /* the same key gives the same kid with RS256 and PS256 */
    ck_assert_str_eq(sk_std(GK_RS256, NULL)->kid, sk_std(GK_PS256, NULL)->kid);
    ck_assert_str_ne(sk_std(GK_ES256, NULL)->kid, sk_std(GK_RS256, NULL)->kid);

    k = sk_std(GK_ES256, "key \"2\"");
    ck_assert_str_eq(k->kid, "key \"2\"");
    ck_assert_str_eq(segment_decoded(sign(k, TK_PAYLOAD), 0, NULL),
                     "{\"alg\":\"ES256\",\"typ\":\"at+jwt\",\"kid\":"
                     "\"key \\\"2\\\"\"}");
    tk_assert_st(tk_verify(sign(k, TK_PAYLOAD),
                           tk_set(tp, tk_std_key(tp, GK_ES256, "key \"2\""),
                                  NULL),
                           NULL),
                 GK_OK);
    /* another kid: no key */
    tk_assert_st(tk_verify(sign(k, TK_PAYLOAD),
                           tk_set(tp, tk_std_key(tp, GK_ES256, "key-3"), NULL),
                           NULL),
                 GK_ERR_NO_KEY);

    k = sk_std(GK_HS256, "hs-1");
    ck_assert_str_eq(segment_decoded(sign(k, TK_PAYLOAD), 0, NULL),
                     "{\"alg\":\"HS256\",\"typ\":\"at+jwt\",\"kid\":"
                     "\"hs-1\"}");
    tk_assert_st(tk_verify(sign(k, TK_PAYLOAD),
                           tk_set(tp, tk_std_key(tp, GK_HS256, "hs-1"), NULL),
                           NULL),
                 GK_OK);
    /* a kid that is not UTF-8 */
    {
        const char *pem = tk_priv_pem(tp, TK.ec256);
        tk_assert_err(gk_sign_key_from_pem(tp, GK_ES256, pem, strlen(pem),
                                           "\xff", &k),
                      "UTF-8");
    }
}
END_TEST

/* ---- refusals -------------------------------------------------------------- */

static const char *load_pem(gk_alg_e alg, const char *pem)
{
    gk_sign_key_t *k = NULL;
    const char *err = gk_sign_key_from_pem(tp, alg, pem, strlen(pem), NULL,
                                           &k);
    if (err) {
        ck_assert_ptr_null(k);
    }
    return err;
}

static char *self_signed_cert_pem(EVP_PKEY *k)
{
    X509 *x = X509_new();
    X509_NAME *name;
    BIO *b = BIO_new(BIO_s_mem());

    ck_assert_ptr_nonnull(x);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, k);
    name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (const unsigned char *)"gk-test", -1, -1, 0);
    X509_set_issuer_name(x, name);
    ck_assert_int_gt(X509_sign(x, k, EVP_sha256()), 0);
    ck_assert_int_eq(PEM_write_bio_X509(b, x), 1);
    X509_free(x);
    return tk_bio_text(tp, b);
}

START_TEST(refuses_public_and_certificate)
{
    const char *cert = self_signed_cert_pem(TK.rsa);

    tk_assert_err(load_pem(GK_RS256, tk_pub_pem(tp, TK.rsa)),
                  "public key, not a private key");
    tk_assert_err(load_pem(GK_ES256, tk_pub_pem(tp, TK.ec256)),
                  "public key, not a private key");
    tk_assert_err(load_pem(GK_EDDSA, tk_pub_pem(tp, TK.ed)),
                  "public key, not a private key");
    tk_assert_err(load_pem(GK_RS256, cert), "certificate, not a private key");
    tk_assert_err(load_pem(GK_RS256, "hello"), "no PEM private key");
    tk_assert_err(load_pem(GK_RS256, "-----BEGIN OPENSSH PRIVATE KEY-----\n"
                                     "AAAA\n-----END OPENSSH PRIVATE KEY-----"
                                     "\n"),
                  "could not be read");
    tk_assert_err(load_pem(GK_RS256, ""), "no PEM private key");
    /* a certificate and its private key in one file: the private key */
    tk_assert_ok(load_pem(GK_RS256,
                          apr_pstrcat(tp, cert, tk_priv_pem(tp, TK.rsa),
                                      NULL)));
    tk_assert_ok(load_pem(GK_RS256,
                          apr_pstrcat(tp, tk_priv_pem(tp, TK.rsa), cert,
                                      NULL)));
}
END_TEST

START_TEST(refuses_encrypted)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *pkcs8, *trad;

    ck_assert_int_eq(PEM_write_bio_PrivateKey(b, TK.rsa, EVP_aes_256_cbc(),
                                              (unsigned char *)"secret", 6,
                                              NULL, NULL),
                     1);
    pkcs8 = tk_bio_text(tp, b);
    ck_assert_ptr_nonnull(strstr(pkcs8, "ENCRYPTED PRIVATE KEY"));
    b = BIO_new(BIO_s_mem());
    ck_assert_int_eq(PEM_write_bio_PrivateKey_traditional(
                         b, TK.ec256, EVP_aes_128_cbc(),
                         (unsigned char *)"secret", 6, NULL, NULL),
                     1);
    trad = tk_bio_text(tp, b);
    ck_assert_ptr_nonnull(strstr(trad, "Proc-Type: 4,ENCRYPTED"));
    tk_assert_err(load_pem(GK_RS256, pkcs8), "encrypted");
    tk_assert_err(load_pem(GK_ES256, trad), "encrypted");
    /* unencrypted traditional forms are fine (EC with its parameters) */
    b = BIO_new(BIO_s_mem());
    ck_assert_int_eq(PEM_write_bio_PrivateKey_traditional(b, TK.ec256, NULL,
                                                          NULL, 0, NULL,
                                                          NULL),
                     1);
    tk_assert_ok(load_pem(GK_ES256,
                          apr_pstrcat(tp,
                                      "-----BEGIN EC PARAMETERS-----\n"
                                      "BggqhkjOPQMBBw==\n"
                                      "-----END EC PARAMETERS-----\n",
                                      tk_bio_text(tp, b), NULL)));
    b = BIO_new(BIO_s_mem());
    ck_assert_int_eq(PEM_write_bio_PrivateKey_traditional(b, TK.rsa, NULL,
                                                          NULL, 0, NULL,
                                                          NULL),
                     1);
    trad = tk_bio_text(tp, b);
    ck_assert_ptr_nonnull(strstr(trad, "BEGIN RSA PRIVATE KEY"));
    tk_assert_ok(load_pem(GK_RS256, trad));
}
END_TEST

START_TEST(refuses_weak_and_mismatched)
{
    gk_sign_key_t *k = NULL;

    tk_assert_err(load_pem(GK_RS256, tk_priv_pem(tp, TK.rsa1024)),
                  "at least 2048");
    tk_assert_err(load_pem(GK_PS256, tk_priv_pem(tp, TK.rsa1024)),
                  "at least 2048");
    tk_assert_err(load_pem(GK_ES256, tk_priv_pem(tp, TK.rsa)),
                  "needs an EC key");
    tk_assert_err(load_pem(GK_ES256, tk_priv_pem(tp, TK.ec384)), "curve");
    tk_assert_err(load_pem(GK_ES384, tk_priv_pem(tp, TK.ec521)), "curve");
    tk_assert_err(load_pem(GK_ES512, tk_priv_pem(tp, TK.ec256)), "curve");
    tk_assert_err(load_pem(GK_RS256, tk_priv_pem(tp, TK.ec256)),
                  "needs an RSA key");
    tk_assert_err(load_pem(GK_EDDSA, tk_priv_pem(tp, TK.rsa)), "Ed25519");
    tk_assert_err(load_pem(GK_EDDSA, tk_priv_pem(tp, TK.ed448)), "Ed25519");
    tk_assert_err(load_pem(GK_RS256, tk_priv_pem(tp, TK.ed)),
                  "needs an RSA key");
    tk_assert_err(load_pem(GK_HS256, tk_priv_pem(tp, TK.rsa)),
                  "takes a secret");
    tk_assert_err(load_pem(GK_ALG_UNKNOWN, tk_priv_pem(tp, TK.rsa)),
                  "unknown algorithm");
    /* HMAC: at least the hash length; a secret for HS only */
    tk_assert_err(gk_sign_key_from_secret(tp, GK_HS256,
                                          (const unsigned char *)TK_SECRET,
                                          31, NULL, &k),
                  "at least 32 bytes");
    tk_assert_err(gk_sign_key_from_secret(tp, GK_HS512,
                                          (const unsigned char *)TK_SECRET,
                                          48, NULL, &k),
                  "at least 64 bytes");
    tk_assert_err(gk_sign_key_from_secret(tp, GK_RS256,
                                          (const unsigned char *)TK_SECRET,
                                          64, NULL, &k),
                  "HS256, HS384 or HS512");
    ck_assert_ptr_null(k);
}
END_TEST

/* ---- sources ---------------------------------------------------------------- */

START_TEST(load_sources)
{
    const char *dir = tk_tmpdir(tp);
    const char *pem = tk_priv_pem(tp, TK.ec256);
    const char *pemfile = tk_path_in(tp, dir, "key.pem");
    const char *secfile = tk_path_in(tp, dir, "secret");
    const char *pubfile = tk_path_in(tp, dir, "pub.pem");
    const char *secret = apr_pstrcat(tp, apr_pstrmemdup(tp, TK_SECRET, 32),
                                     "\r\n", NULL);
    gk_sign_key_t *k = NULL;

    tk_write_file(pemfile, pem, strlen(pem));
    tk_write_file(pubfile, tk_pub_pem(tp, TK.ec256),
                  strlen(tk_pub_pem(tp, TK.ec256)));
    tk_write_file(secfile, secret, strlen(secret));

    tk_assert_ok(gk_sign_key_load(tp, GK_ES256, pemfile, NULL, &k));
    tk_assert_st(tk_verify(sign(k, TK_PAYLOAD),
                           tk_set(tp, tk_std_key(tp, GK_ES256, k->kid), NULL),
                           NULL),
                 GK_OK);
    tk_assert_ok(gk_sign_key_load(tp, GK_ES256,
                                  apr_pstrcat(tp, "file:", pemfile, NULL),
                                  "f", &k));
    ck_assert_str_eq(k->kid, "f");
    setenv("GK_TEST_SIGN_PEM", pem, 1);
    tk_assert_ok(gk_sign_key_load(tp, GK_ES256, "env:GK_TEST_SIGN_PEM", NULL,
                                  &k));
    ck_assert(std_openssl_verifies(GK_ES256, sign(k, TK_PAYLOAD)));
    tk_assert_err(gk_sign_key_load(tp, GK_ES256, pubfile, NULL, &k),
                  "public key");

    /* secrets lose one line ending */
    tk_assert_ok(gk_sign_key_load(tp, GK_HS256,
                                  apr_pstrcat(tp, "file:", secfile, NULL),
                                  NULL, &k));
    tk_assert_st(tk_verify(sign(k, TK_PAYLOAD),
                           tk_set(tp, tk_std_key(tp, GK_HS256, NULL), NULL),
                           NULL),
                 GK_OK);
    setenv("GK_TEST_SIGN_SECRET", apr_pstrmemdup(tp, TK_SECRET, 48), 1);
    tk_assert_ok(gk_sign_key_load(tp, GK_HS384, "env:GK_TEST_SIGN_SECRET",
                                  "k1", &k));
    tk_assert_st(tk_verify(sign(k, TK_PAYLOAD),
                           tk_set(tp, tk_std_key(tp, GK_HS384, "k1"), NULL),
                           NULL),
                 GK_OK);
    tk_assert_err(gk_sign_key_load(tp, GK_HS512, "env:GK_TEST_SIGN_SECRET",
                                   NULL, &k),
                  "at least 64");
    tk_assert_err(gk_sign_key_load(tp, GK_HS256, secfile, NULL, &k),
                  "takes a secret");
    tk_assert_err(gk_sign_key_load(tp, GK_HS256, "env:GK_TEST_NOT_SET_X",
                                   NULL, &k),
                  "not set");
    tk_assert_err(gk_sign_key_load(tp, GK_HS256, "env:", NULL, &k),
                  "variable name");
    tk_assert_err(gk_sign_key_load(tp, GK_ES256,
                                   tk_path_in(tp, dir, "missing.pem"), NULL,
                                   &k),
                  "cannot open");
    unsetenv("GK_TEST_SIGN_PEM");
    unsetenv("GK_TEST_SIGN_SECRET");
}
END_TEST

/* ---- JWKS -------------------------------------------------------------------- */

/* publish-only keys: from a public key, a certificate or a private key;
 * published with the same JWK and thumbprint as the signing key, never
 * signing; HS refused. */
START_TEST(publish_only)
{
    const char *dir = tk_tmpdir(tp);
    const char *pub = apr_pstrcat(tp, dir, "/pub.pem", NULL);
    const char *priv = apr_pstrcat(tp, dir, "/priv.pem", NULL);
    const char *ppem = tk_pub_pem(tp, TK.ec256), *kpem = tk_priv_pem(tp, TK.ec256);
    gk_sign_key_t *a = NULL, *b = NULL, *s = NULL;
    json_t *ja = NULL, *js = NULL;
    const char *tok = NULL, *doc = NULL;

    tk_write_file(pub, ppem, strlen(ppem));
    tk_write_file(priv, kpem, strlen(kpem));
    tk_assert_ok(gk_sign_key_publish_only(tp, GK_ES256, pub, NULL, &a));
    tk_assert_ok(gk_sign_key_publish_only(tp, GK_ES256, priv, NULL, &b));
    tk_assert_ok(gk_sign_key_load(tp, GK_ES256, priv, NULL, &s));
    ck_assert(a->publish_only && b->publish_only && !s->publish_only);
    ck_assert_str_eq(a->kid, s->kid);
    ck_assert_str_eq(b->kid, s->kid);
    tk_assert_ok(gk_jwk_public(tp, a, &ja));
    tk_assert_ok(gk_jwk_public(tp, s, &js));
    ck_assert(json_equal(ja, js));
    json_decref(ja);
    json_decref(js);
    tk_assert_err(gk_sign_jwt(tp, a, "{}", 2, &tok), "never signs");
    tk_assert_err(gk_sign_jwt(tp, b, "{}", 2, &tok), "never signs");
    tk_assert_err(gk_sign_key_publish_only(tp, GK_HS256, "env:NOPE", NULL,
                                           &a),
                  "never published");
    tk_assert_err(gk_sign_key_publish_only(tp, GK_RS256, pub, NULL, &a),
                  "");
    /* published in a document beside a signing key */
    {
        gk_sign_key_t *keys[2];
        keys[0] = s;
        keys[1] = b;
        tk_assert_ok(gk_jwks_document(tp, keys, 2, &doc));
        ck_assert_ptr_nonnull(strstr(doc, s->kid));
        ck_assert_ptr_null(strstr(doc, "\"d\""));
    }
}
END_TEST

START_TEST(jwks_document)
{
    static const gk_alg_e algs[] = {GK_RS256, GK_PS384, GK_ES256, GK_ES384,
                                    GK_ES512, GK_EDDSA, GK_HS256, GK_HS512};
    gk_sign_key_t *keys[8];
    const char *doc = NULL, *key;
    json_t *root, *arr, *jwk, *val;
    apr_array_header_t *parsed = apr_array_make(tp, 8, sizeof(gk_key_t *));
    size_t i, j;

    for (i = 0; i < 8; i++) {
        keys[i] = sk_std(algs[i], algs[i] == GK_HS256 ? "hs" : NULL);
    }
    tk_assert_ok(gk_jwks_document(tp, keys, 8, &doc));
    root = json_loads(doc, JSON_REJECT_DUPLICATES, NULL);
    ck_assert_ptr_nonnull(root);
    arr = json_object_get(root, "keys");
    ck_assert_uint_eq(json_array_size(arr), 6);
    json_array_foreach(arr, i, jwk) {
        static const char *const priv[] = {"d", "p", "q", "dp", "dq", "qi",
                                           "k", "oth"};
        for (j = 0; j < sizeof(priv) / sizeof(priv[0]); j++) {
            ck_assert_msg(!json_object_get(jwk, priv[j]),
                          "private member %s", priv[j]);
        }
        json_object_foreach(jwk, key, val) {
            ck_assert_msg(json_is_string(val), "%s", key);
        }
        ck_assert_str_eq(json_string_value(json_object_get(jwk, "alg")),
                         ALG_NAME(algs[i]));
    }
    /* the secrets appear nowhere */
    ck_assert_ptr_null(strstr(doc, tk_b64(tp, TK_SECRET, 32)));
    ck_assert_ptr_null(strstr(doc, "\"oct\""));
    json_decref(root);

    /* the verifier's JWKS parser takes the document, and tokens of every
     * published key verify with it */
    tk_assert_ok(gk_jwks_parse(tp, doc, strlen(doc), GK_ALG_UNKNOWN, parsed));
    ck_assert_int_eq(parsed->nelts, 6);
    for (i = 0; i < 6; i++) {
        tk_assert_st(tk_verify(sign(keys[i], TK_PAYLOAD), parsed, NULL), GK_OK);
    }
    tk_assert_st(tk_verify(sign(keys[6], TK_PAYLOAD), parsed, NULL),
                 GK_ERR_NO_KEY);

    /* only HMAC keys: an empty set */
    tk_assert_ok(gk_jwks_document(tp, keys + 6, 2, &doc));
    ck_assert_str_eq(doc, "{\"keys\":[]}");
    tk_assert_ok(gk_jwks_document(tp, keys, 0, &doc));
    ck_assert_str_eq(doc, "{\"keys\":[]}");
    /* member order of one key */
    {
        json_t *o = NULL;
        char *s;
        tk_assert_ok(gk_jwk_public(tp, keys[5], &o));
        s = json_dumps(o, JSON_COMPACT);
        ck_assert_str_eq(s, apr_psprintf(tp, "{\"kty\":\"OKP\",\"kid\":\"%s\","
                                         "\"use\":\"sig\",\"alg\":\"EdDSA\","
                                         "\"crv\":\"Ed25519\",\"x\":\"%s\"}",
                                         keys[5]->kid, keys[5]->x));
        free(s);
        json_decref(o);
    }
}
END_TEST

/* ---- claims ------------------------------------------------------------------- */

static gk_sign_claims_t base_claims(void)
{
    gk_sign_claims_t c;
    memset(&c, 0, sizeof(c));
    c.iss = "https://issuer.example";
    c.sub = "alice";
    c.aud = "api";
    c.iat = TS;
    c.nbf = TS;
    c.exp = TS + 900;
    c.jti = "J";
    return c;
}

static const char *claims_json(const gk_sign_claims_t *c)
{
    const char *json = NULL;
    apr_size_t len = 0;
    tk_assert_ok(gk_sign_claims(tp, c, &json, &len));
    ck_assert_uint_eq(len, strlen(json));
    return json;
}

START_TEST(claims_scope_and_roles)
{
    gk_sign_claims_t c = base_claims();
    const char *json, *err;
    apr_size_t len;

    c.scope = "users:read items:write";
    ck_assert_str_eq(claims_json(&c),
                     "{\"iss\":\"https://issuer.example\",\"sub\":\"alice\","
                     "\"aud\":\"api\",\"iat\":1700000000,\"nbf\":1700000000,"
                     "\"exp\":1700000900,\"jti\":\"J\",\"scope\":\"users:read "
                     "items:write\"}");
    c.scope = NULL;
    c.roles_claim = "roles";
    c.roles = tk_strs(tp, "admin", "user", NULL);
    c.permissions_claim = "permissions";
    c.permissions = tk_strs(tp, "users:read", NULL);
    ck_assert_str_eq(claims_json(&c),
                     "{\"iss\":\"https://issuer.example\",\"sub\":\"alice\","
                     "\"aud\":\"api\",\"iat\":1700000000,\"nbf\":1700000000,"
                     "\"exp\":1700000900,\"jti\":\"J\",\"roles\":[\"admin\","
                     "\"user\"],\"permissions\":[\"users:read\"]}");
    /* no roles: an empty array; no iss or aud: left out; other names */
    c.iss = c.aud = NULL;
    c.roles = NULL;
    c.roles_claim = "https://example.com/roles";
    c.permissions_claim = NULL;
    ck_assert_str_eq(claims_json(&c),
                     "{\"sub\":\"alice\",\"iat\":1700000000,\"nbf\":"
                     "1700000000,\"exp\":1700000900,\"jti\":\"J\","
                     "\"https://example.com/roles\":[]}");
    /* neither: only the registered claims */
    c.roles_claim = NULL;
    ck_assert_str_eq(claims_json(&c),
                     "{\"sub\":\"alice\",\"iat\":1700000000,\"nbf\":"
                     "1700000000,\"exp\":1700000900,\"jti\":\"J\"}");

    /* refusals */
    c = base_claims();
    c.scope = "a";
    c.roles_claim = "roles";
    tk_assert_err(gk_sign_claims(tp, &c, &json, &len), "not both");
    c = base_claims();
    c.scope = "";
    tk_assert_err(gk_sign_claims(tp, &c, &json, &len), "empty scope");
    c = base_claims();
    c.roles_claim = "sub";
    tk_assert_err(gk_sign_claims(tp, &c, &json, &len), "cannot name");
    c.roles_claim = "roles";
    c.permissions_claim = "exp";
    tk_assert_err(gk_sign_claims(tp, &c, &json, &len), "cannot name");
    c.permissions_claim = "roles";
    tk_assert_err(gk_sign_claims(tp, &c, &json, &len), "different names");
    c = base_claims();
    c.sub = "";
    tk_assert_err(gk_sign_claims(tp, &c, &json, &len), "subject");
    c.sub = NULL;
    tk_assert_err(gk_sign_claims(tp, &c, &json, &len), "subject");
    c = base_claims();
    c.exp = c.iat;
    tk_assert_err(gk_sign_claims(tp, &c, &json, &len), "exp must be after");
    c = base_claims();
    c.sub = "al\xc3ice"; /* not UTF-8: refused, never repaired */
    tk_assert_err(gk_sign_claims(tp, &c, &json, &len), "UTF-8");
    c = base_claims();
    c.roles_claim = "roles";
    c.roles = tk_strs(tp, "ok", "\xff", NULL);
    tk_assert_err(gk_sign_claims(tp, &c, &json, &len), "UTF-8");
    (void)err;
}
END_TEST

START_TEST(claims_escaping)
{
    gk_sign_claims_t c = base_claims();
    /* (jansson writes \u00XX with upper-case hex digits) */
    const char *sub = "a\"b\\c\nd\te\x01" "f\x1f/g\xc3\xa9h\xe2\x80\xa8i\x7f";
    const char *json;
    json_t *o;

    c.sub = sub;
    c.roles_claim = "roles";
    c.roles = tk_strs(tp, "r\"1", "</script>", NULL);
    json = claims_json(&c);
    ck_assert_ptr_nonnull(strstr(json, "\"sub\":\"a\\\"b\\\\c\\nd\\te\\u0001f"
                                       "\\u001F/g\xc3\xa9h"));
    /* no raw control character anywhere */
    {
        const char *s;
        for (s = json; *s; s++) {
            ck_assert_uint_ge((unsigned char)*s, 0x20);
        }
    }
    o = json_loads(json, JSON_REJECT_DUPLICATES, NULL);
    ck_assert_ptr_nonnull(o);
    ck_assert_str_eq(json_string_value(json_object_get(o, "sub")), sub);
    ck_assert_str_eq(json_string_value(json_array_get(
                         json_object_get(o, "roles"), 0)),
                     "r\"1");
    json_decref(o);
}
END_TEST

/* A whole token as the token endpoint makes it: claims, jti, signature;
 * the verifier's claim checks pass with an at+jwt policy. */
START_TEST(whole_token)
{
    gk_alg_e alg = (gk_alg_e)_i;
    gk_sign_key_t *k = sk_std(alg, NULL);
    gk_sign_claims_t c = base_claims();
    gk_claims_policy_t pol = tk_policy(0, 1);
    const char *json, *tok;
    apr_size_t len;
    gk_verified_t *v;

    c.jti = NULL;
    c.roles_claim = "roles";
    c.roles = tk_strs(tp, "admin", NULL);
    tk_assert_ok(gk_sign_claims(tp, &c, &json, &len));
    tk_assert_ok(gk_sign_jwt(tp, k, json, len, &tok));
    pol.issuer = "https://issuer.example";
    pol.audiences = tk_strs(tp, "api", NULL);
    pol.require_at_jwt = 1;
    tk_assert_st(tk_verify(tok, tk_set(tp, tk_std_key(tp, alg, k->kid), NULL),
                           &v),
                 GK_OK);
    tk_assert_st(gk_jwt_check_claims(v, &pol, TS + 1), GK_OK);
    tk_assert_st(gk_jwt_check_claims(v, &pol, TS + 901), GK_ERR_EXPIRED);
    ck_assert_uint_eq(strlen(json_string_value(json_object_get(v->payload,
                                                               "jti"))),
                      GK_JTI_LEN);
    gk_verified_unref(v);
}
END_TEST

START_TEST(jti_random)
{
    apr_hash_t *seen = apr_hash_make(tp);
    int i;

    for (i = 0; i < 2000; i++) {
        char jti[GK_JTI_LEN + 1];
        const char *s;
        memset(jti, 'x', sizeof(jti));
        tk_assert_ok(gk_sign_jti(tp, jti));
        ck_assert_uint_eq(strlen(jti), GK_JTI_LEN);
        for (s = jti; *s; s++) {
            ck_assert_msg(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq"
                                 "rstuvwxyz0123456789-_", *s) != NULL,
                          "%s", jti);
        }
        /* 128 bits: the last character carries 2 bits, then 4 zero bits */
        ck_assert_ptr_nonnull(strchr("AQgw", jti[GK_JTI_LEN - 1]));
        ck_assert_ptr_null(apr_hash_get(seen, jti, GK_JTI_LEN));
        apr_hash_set(seen, apr_pstrdup(tp, jti), GK_JTI_LEN, "");
    }
    /* and in claims: a fresh one each time */
    {
        gk_sign_claims_t c = base_claims();
        c.jti = NULL;
        ck_assert_str_ne(claims_json(&c), claims_json(&c));
    }
}
END_TEST

/* ---- limits and threads ------------------------------------------------------ */

START_TEST(token_length_bounded)
{
    gk_sign_key_t *k = sk_std(GK_HS256, NULL);
    apr_size_t n = 6200;
    char *big = apr_palloc(tp, n + 1);
    const char *tok = NULL;

    memset(big, 'a', n);
    big[0] = '"';
    big[n - 1] = '"';
    big[n] = '\0';
    tk_assert_err(gk_sign_jwt(tp, k, big, n, &tok), "longer than 8192");
    tk_assert_ok(gk_sign_jwt(tp, k, big, 4000, &tok));
    ck_assert_uint_le(strlen(tok), GK_TOKEN_MAX_LEN);
    tk_assert_err(gk_sign_jwt(tp, k, big, 0, &tok), "nothing to sign");
}
END_TEST

#define ST_THREADS 8
#define ST_ROUNDS 40

typedef struct {
    gk_sign_key_t *keys[3];
    apr_array_header_t *set;
    volatile int bad;
} st_state_t;

static void *APR_THREAD_FUNC st_fn(apr_thread_t *t, void *data)
{
    st_state_t *s = data;
    apr_pool_t *p;
    int i;

    apr_pool_create(&p, NULL);
    for (i = 0; i < ST_ROUNDS; i++) {
        const char *tok = NULL;
        const char *payload = apr_psprintf(p, "{\"sub\":\"u%d\"}", i);
        const apr_array_header_t *sets[1] = {s->set};
        gk_verified_t *v = NULL;
        if (gk_sign_jwt(p, s->keys[i % 3], payload, strlen(payload), &tok)
            || gk_jwt_verify(tok, strlen(tok), sets, 1, &v) != GK_OK
            || strcmp(v->payload_text, payload)) {
            __atomic_add_fetch(&s->bad, 1, __ATOMIC_RELAXED);
        }
        gk_verified_unref(v);
    }
    apr_pool_destroy(p);
    /* return rather than apr_thread_exit(), whose pthread_exit() leaves
     * the stack poisoned for ASan (as in test_jwt.c) */
    return NULL;
}

START_TEST(threads_sign_with_shared_keys)
{
    st_state_t s;
    apr_thread_t *th[ST_THREADS];
    apr_status_t rv;
    int i;

    memset(&s, 0, sizeof(s));
    s.keys[0] = sk_std(GK_ES256, NULL);
    s.keys[1] = sk_std(GK_RS256, NULL);
    s.keys[2] = sk_std(GK_HS256, NULL);
    s.set = tk_set(tp, tk_std_key(tp, GK_ES256, s.keys[0]->kid),
                   tk_std_key(tp, GK_RS256, s.keys[1]->kid),
                   tk_std_key(tp, GK_HS256, NULL), NULL);
    for (i = 0; i < ST_THREADS; i++) {
        ck_assert_int_eq(apr_thread_create(&th[i], NULL, st_fn, &s, tp),
                         APR_SUCCESS);
    }
    for (i = 0; i < ST_THREADS; i++) {
        apr_thread_join(&rv, th[i]);
    }
    ck_assert_int_eq(s.bad, 0);
}
END_TEST

/* ---- libjwt ---------------------------------------------------------------- */

/* libjwt 1.10 refuses any "typ" but "JWT" (EINVAL), so it checks the
 * signatures of this signer on a token with that header (made with
 * gk_sign_input, the primitive under gk_sign_jwt); for the deterministic
 * HS256 and RS256, libjwt's own signature of its own token is ours byte
 * for byte. */
START_TEST(libjwt_verifies)
{
    static const struct {
        gk_alg_e alg;
        jwt_alg_t jalg;
    } algs[] = {{GK_HS256, JWT_ALG_HS256},
                {GK_RS256, JWT_ALG_RS256},
                {GK_ES256, JWT_ALG_ES256}};
    gk_alg_e alg = algs[_i].alg;
    gk_sign_key_t *k = sk_std(alg, NULL);
    gk_sign_claims_t c = base_claims();
    const char *json, *tok, *key, *input, *sig, *hdr;
    apr_size_t len;
    jwt_t *jwt = NULL;
    int klen, rc;

    c.scope = "users:read";
    tk_assert_ok(gk_sign_claims(tp, &c, &json, &len));
    tk_assert_ok(gk_sign_jwt(tp, k, json, len, &tok));
    if (alg == GK_HS256) {
        key = TK_SECRET;
        klen = 32;
    }
    else {
        key = tk_pub_pem(tp, tk_key_for(alg));
        klen = (int)strlen(key);
    }
    /* the at+jwt token itself */
    rc = jwt_decode(&jwt, tok, (const unsigned char *)key, klen);
    if (rc == 0) {
        ck_assert_str_eq(jwt_get_grant(jwt, "sub"), "alice");
        jwt_free(jwt);
    }
    else {
        ck_assert_int_eq(rc, EINVAL);
    }

    /* the same payload under a "typ":"JWT" header */
    hdr = k->kid ? apr_psprintf(tp, "{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":"
                                "\"%s\"}", ALG_NAME(alg), k->kid)
                 : apr_psprintf(tp, "{\"alg\":\"%s\",\"typ\":\"JWT\"}",
                                ALG_NAME(alg));
    input = apr_pstrcat(tp, tk_b64s(tp, hdr), ".",
                        tk_b64(tp, json, len), NULL);
    tk_assert_ok(gk_sign_input(tp, k, input, strlen(input), &sig));
    /* the same signature as gk_sign_jwt's for the deterministic ones */
    jwt = NULL;
    ck_assert_int_eq(jwt_decode(&jwt, apr_pstrcat(tp, input, ".", sig, NULL),
                                (const unsigned char *)key, klen),
                     0);
    ck_assert_int_eq(jwt_get_alg(jwt), algs[_i].jalg);
    ck_assert_str_eq(jwt_get_grant(jwt, "sub"), "alice");
    ck_assert_str_eq(jwt_get_grant(jwt, "scope"), "users:read");
    ck_assert_str_eq(jwt_get_grant(jwt, "iss"), "https://issuer.example");
    ck_assert_int_eq(jwt_get_grant_int(jwt, "exp"), TS + 900);
    jwt_free(jwt);
    /* a tampered one is refused by libjwt */
    {
        char *bad = apr_pstrcat(tp, input, ".", sig, NULL);
        char *q = strrchr(bad, '.') + 4;
        *q = *q == 'A' ? 'B' : 'A';
        jwt = NULL;
        ck_assert_int_ne(jwt_decode(&jwt, bad, (const unsigned char *)key,
                                    klen),
                         0);
        jwt_free(jwt);
    }

    /* libjwt's own token: HS256 and RS256 signatures are deterministic */
    if (alg != GK_ES256) {
        const char *skey = alg == GK_HS256 ? TK_SECRET
                                           : tk_priv_pem(tp, TK.rsa);
        int sklen = alg == GK_HS256 ? 32 : (int)strlen(skey);
        char *ltok, *dot;
        jwt = NULL;
        ck_assert_int_eq(jwt_new(&jwt), 0);
        ck_assert_int_eq(jwt_add_grant(jwt, "sub", "alice"), 0);
        ck_assert_int_eq(jwt_add_grant_int(jwt, "exp", TS + 900), 0);
        ck_assert_int_eq(jwt_set_alg(jwt, algs[_i].jalg,
                                     (const unsigned char *)skey, sklen),
                         0);
        ltok = jwt_encode_str(jwt);
        ck_assert_ptr_nonnull(ltok);
        jwt_free(jwt);
        dot = strrchr(ltok, '.');
        tk_assert_ok(gk_sign_input(tp, k, ltok, (apr_size_t)(dot - ltok),
                                   &sig));
        ck_assert_str_eq(sig, dot + 1);
        free(ltok);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("sign");
    TCase *tc = tk_tcase("algorithms");

    tcase_add_loop_test(tc, every_alg_signs, GK_HS256, GK_ALG_COUNT);
    tcase_add_loop_test(tc, every_alg_jwk_verifies, GK_HS256, GK_ALG_COUNT);
    tcase_add_loop_test(tc, whole_token, GK_HS256, GK_ALG_COUNT);
    suite_add_tcase(s, tc);

    tc = tk_tcase("keys");
    tcase_add_test(tc, rfc7638_example);
    tcase_add_test(tc, kid_default_and_given);
    tcase_add_test(tc, refuses_public_and_certificate);
    tcase_add_test(tc, publish_only);
    tcase_add_test(tc, refuses_encrypted);
    tcase_add_test(tc, refuses_weak_and_mismatched);
    tcase_add_test(tc, load_sources);
    tcase_add_test(tc, jwks_document);
    suite_add_tcase(s, tc);

    tc = tk_tcase("claims");
    tcase_add_test(tc, claims_scope_and_roles);
    tcase_add_test(tc, claims_escaping);
    tcase_add_test(tc, jti_random);
    tcase_add_test(tc, token_length_bounded);
    tcase_add_test(tc, threads_sign_with_shared_keys);
    suite_add_tcase(s, tc);

    tc = tk_tcase("libjwt");
    tcase_add_loop_test(tc, libjwt_verifies, 0, 3);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(suite)
