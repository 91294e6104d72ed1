/* Keys (gk_keys): secrets, PEM, JWK and configured sources. */
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "gk_test.h"

/* ---- helpers ---------------------------------------------------------------- */

static const char *from_pem(gk_alg_e alg, EVP_PKEY *k)
{
    gk_key_t *out = NULL;
    const char *pem = tk_pub_pem(tp, k);
    return gk_key_from_pem(tp, alg, pem, strlen(pem), NULL, &out);
}

static const char *from_jwk(json_t *jwk, gk_alg_e def, gk_key_t **out)
{
    gk_key_t *k = NULL;
    const char *err = gk_key_from_jwk(tp, jwk, def, &k);
    json_decref(jwk);
    if (out) {
        *out = err ? NULL : k;
    }
    return err;
}

/* Does key k verify a standard token of its algorithm signed by s? */
static int key_verifies(gk_key_t *k, tk_signer_t s)
{
    return tk_verify(tk_tok(tp, s, TK_PAYLOAD), tk_set(tp, k, NULL), NULL)
           == GK_OK;
}

/* ---- secrets -------------------------------------------------------------- */

START_TEST(hmac_secret_length)
{
    gk_alg_e a;
    for (a = GK_HS256; a <= GK_HS512; a++) {
        unsigned need = gk_alg_info(a)->hash_len;
        gk_key_t *k = NULL;
        const char *err = gk_key_from_secret(
            tp, a, (const unsigned char *)TK_SECRET, need - 1, NULL, &k);
        tk_assert_err(err, "at least");
        ck_assert_ptr_null(k);
        tk_assert_err(gk_key_from_secret(tp, a, (const unsigned char *)"", 0,
                                      NULL, &k),
                   "at least");
        tk_assert_ok(gk_key_from_secret(tp, a, (const unsigned char *)TK_SECRET,
                                     need, "kid-1", &k));
        ck_assert_ptr_nonnull(k);
        ck_assert_int_eq(k->alg, a);
        ck_assert_str_eq(k->kid, "kid-1");
        ck_assert_ptr_nonnull(k->hmac_inner);
        ck_assert_ptr_nonnull(k->hmac_outer);
        ck_assert_ptr_null(k->pkey);
        ck_assert(key_verifies(k, tk_hmac(a, TK_SECRET, need)));
        /* longer secrets are fine, also past the block size */
        tk_assert_ok(gk_key_from_secret(tp, a, (const unsigned char *)
                                     TK_SECRET TK_SECRET TK_SECRET,
                                     192, NULL, &k));
        ck_assert(key_verifies(k, tk_hmac(a, TK_SECRET TK_SECRET TK_SECRET,
                                          192)));
        ck_assert_ptr_null(k->kid);
    }
}
END_TEST

START_TEST(secret_only_for_hmac)
{
    gk_alg_e a;
    gk_key_t *k = NULL;
    for (a = GK_RS256; a < GK_ALG_COUNT; a++) {
        ck_assert_ptr_nonnull(gk_key_from_secret(
            tp, a, (const unsigned char *)TK_SECRET, 64, NULL, &k));
    }
    ck_assert_ptr_nonnull(gk_key_from_secret(
        tp, GK_ALG_UNKNOWN, (const unsigned char *)TK_SECRET, 64, NULL, &k));
    ck_assert_ptr_null(k);
}
END_TEST

/* ---- PEM ------------------------------------------------------------------- */

START_TEST(pem_key_types)
{
    /* right type for every asymmetric algorithm */
    gk_alg_e a;
    for (a = GK_RS256; a < GK_ALG_COUNT; a++) {
        tk_assert_ok(from_pem(a, tk_key_for(a)));
    }
    /* RSA bits */
    tk_assert_err(from_pem(GK_RS256, TK.rsa1024), "1024 bits");
    tk_assert_err(from_pem(GK_PS256, TK.rsa1024), "1024 bits");
    tk_assert_err(from_pem(GK_RS512, TK.rsa1024), "2048");
    /* EC curves must match the algorithm */
    tk_assert_err(from_pem(GK_ES256, TK.ec384), "P-256");
    tk_assert_err(from_pem(GK_ES256, TK.ec521), "P-256");
    tk_assert_err(from_pem(GK_ES384, TK.ec256), "P-384");
    tk_assert_err(from_pem(GK_ES512, TK.ec384), "P-521");
    /* key type mismatches */
    tk_assert_err(from_pem(GK_RS256, TK.ec256), "RSA");
    tk_assert_err(from_pem(GK_PS256, TK.ed), "RSA");
    tk_assert_err(from_pem(GK_ES256, TK.rsa), "EC");
    tk_assert_err(from_pem(GK_ES256, TK.ed), "EC");
    tk_assert_err(from_pem(GK_EDDSA, TK.rsa), "Ed25519");
    tk_assert_err(from_pem(GK_EDDSA, TK.ec256), "Ed25519");
    tk_assert_err(from_pem(GK_EDDSA, TK.ed448), "Ed25519");
    /* HMAC never takes a PEM */
    ck_assert_ptr_nonnull(from_pem(GK_HS256, TK.rsa));
    ck_assert_ptr_nonnull(from_pem(GK_ALG_UNKNOWN, TK.rsa));
}
END_TEST

START_TEST(pem_other_curves)
{
    EVP_PKEY *k1 = tk_gen_ec("secp256k1");
    EVP_PKEY *k2 = tk_gen_ec("brainpoolP256r1");
    tk_assert_err(from_pem(GK_ES256, k1), "P-256");
    tk_assert_err(from_pem(GK_ES256, k2), "P-256");
    EVP_PKEY_free(k1);
    EVP_PKEY_free(k2);
}
END_TEST

START_TEST(pem_private_key_and_certificate)
{
    gk_key_t *k = NULL;
    const char *priv = tk_priv_pem(tp, TK.ec256);
    X509 *x = X509_new();
    X509_NAME *name;
    BIO *b = BIO_new(BIO_s_mem());
    const char *cert;

    /* an unencrypted private key is fine (the public half is used) */
    tk_assert_ok(gk_key_from_pem(tp, GK_ES256, priv, strlen(priv), "p", &k));
    ck_assert(key_verifies(k, tk_pk(GK_ES256, TK.ec256)));
    ck_assert_str_eq(k->kid, "p");

    /* a self-signed certificate */
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, TK.rsa);
    name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (const unsigned char *)"gk", -1, -1, 0);
    X509_set_issuer_name(x, name);
    ck_assert_int_gt(X509_sign(x, TK.rsa, EVP_sha256()), 0);
    ck_assert_int_eq(PEM_write_bio_X509(b, x), 1);
    X509_free(x);
    cert = tk_bio_text(tp, b);
    tk_assert_ok(gk_key_from_pem(tp, GK_RS256, cert, strlen(cert), NULL, &k));
    ck_assert(key_verifies(k, tk_pk(GK_RS256, TK.rsa)));
    tk_assert_err(gk_key_from_pem(tp, GK_ES256, cert, strlen(cert), NULL, &k),
               "EC");
}
END_TEST

START_TEST(pem_refused)
{
    gk_key_t *k = NULL;
    BIO *b = BIO_new(BIO_s_mem());
    const char *enc, *pub = tk_pub_pem(tp, TK.rsa);
    static const char *const junk[] = {
        "", "hello", "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    };
    size_t i;

    /* an encrypted private key: refused, never a passphrase prompt */
    ck_assert_int_eq(PEM_write_bio_PKCS8PrivateKey(b, TK.rsa,
                                                   EVP_aes_128_cbc(), "pass",
                                                   4, NULL, NULL),
                     1);
    enc = tk_bio_text(tp, b);
    ck_assert_ptr_nonnull(strstr(enc, "ENCRYPTED PRIVATE KEY"));
    ck_assert_ptr_nonnull(
        gk_key_from_pem(tp, GK_RS256, enc, strlen(enc), NULL, &k));
    for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
        ck_assert_ptr_nonnull(gk_key_from_pem(tp, GK_RS256, junk[i],
                                              strlen(junk[i]), NULL, &k));
    }
    /* a truncated PEM */
    ck_assert_ptr_nonnull(gk_key_from_pem(tp, GK_RS256, pub, strlen(pub) / 2,
                                          NULL, &k));
}
END_TEST

START_TEST(pem_rsa_pss_key)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA-PSS", NULL);
    EVP_PKEY *pss = NULL;
    gk_key_t *k = NULL;
    const char *pem;

    ck_assert_ptr_nonnull(ctx);
    ck_assert_int_eq(EVP_PKEY_keygen_init(ctx), 1);
    ck_assert_int_eq(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048), 1);
    ck_assert_int_eq(EVP_PKEY_generate(ctx, &pss), 1);
    EVP_PKEY_CTX_free(ctx);
    ck_assert_ptr_nonnull(pss);
    pem = tk_pub_pem(tp, pss);
    /* an RSA-PSS key is for PS* only */
    tk_assert_ok(gk_key_from_pem(tp, GK_PS256, pem, strlen(pem), NULL, &k));
    ck_assert(key_verifies(k, tk_pk(GK_PS256, pss)));
    tk_assert_err(gk_key_from_pem(tp, GK_RS256, pem, strlen(pem), NULL, &k),
               "RSA");
    EVP_PKEY_free(pss);
}
END_TEST

/* ---- JWK ------------------------------------------------------------------ */

START_TEST(jwk_each_type_verifies)
{
    static const struct {
        gk_alg_e alg;
    } cases[] = {{GK_RS256}, {GK_RS384}, {GK_RS512}, {GK_PS256}, {GK_PS384},
                 {GK_PS512}, {GK_ES256}, {GK_ES384}, {GK_ES512}, {GK_EDDSA}};
    size_t i;
    gk_key_t *k;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        gk_alg_e a = cases[i].alg;
        json_t *jwk = tk_jwk_with(tk_jwk(tp, tk_key_for(a)),
                                  gk_alg_info(a)->name, "k1");
        tk_assert_ok(from_jwk(jwk, GK_ALG_UNKNOWN, &k));
        ck_assert_int_eq(k->alg, a);
        ck_assert_str_eq(k->kid, "k1");
        ck_assert(key_verifies(k, tk_std_signer(a)));
    }
    for (i = 0; i < 3; i++) {
        gk_alg_e a = (gk_alg_e)(GK_HS256 + i);
        unsigned n = gk_alg_info(a)->hash_len;
        json_t *jwk = tk_jwk_with(tk_jwk_oct(tp, TK_SECRET, n),
                                  gk_alg_info(a)->name, NULL);
        tk_assert_ok(from_jwk(jwk, GK_ALG_UNKNOWN, &k));
        ck_assert_ptr_null(k->kid);
        ck_assert(key_verifies(k, tk_hmac(a, TK_SECRET, n)));
    }
}
END_TEST

START_TEST(jwk_default_alg)
{
    gk_key_t *k;
    /* no "alg": refused without a default, used with one */
    tk_assert_err(from_jwk(tk_jwk(tp, TK.rsa), GK_ALG_UNKNOWN, NULL), "alg");
    tk_assert_err(from_jwk(tk_jwk_oct(tp, TK_SECRET, 32), GK_ALG_UNKNOWN, NULL),
               "alg");
    tk_assert_ok(from_jwk(tk_jwk(tp, TK.rsa), GK_PS256, &k));
    ck_assert_int_eq(k->alg, GK_PS256);
    ck_assert(key_verifies(k, tk_pk(GK_PS256, TK.rsa)));
    tk_assert_ok(from_jwk(tk_jwk_oct(tp, TK_SECRET, 32), GK_HS256, &k));
    ck_assert(key_verifies(k, tk_hmac(GK_HS256, TK_SECRET, 32)));
    /* the key's own alg wins over the default */
    tk_assert_ok(from_jwk(tk_jwk_with(tk_jwk(tp, TK.rsa), "RS512", NULL),
                       GK_RS256, &k));
    ck_assert_int_eq(k->alg, GK_RS512);
    /* the default must fit the key type */
    tk_assert_err(from_jwk(tk_jwk(tp, TK.rsa), GK_ES256, NULL), "RSA");
    tk_assert_err(from_jwk(tk_jwk(tp, TK.ec384), GK_ES256, NULL), "P-256");
}
END_TEST

START_TEST(jwk_alg_refused)
{
    tk_assert_err(from_jwk(tk_jwk_with(tk_jwk(tp, TK.rsa), "none", NULL),
                        GK_RS256, NULL),
               "unsupported");
    tk_assert_err(from_jwk(tk_jwk_with(tk_jwk(tp, TK.rsa), "rs256", NULL),
                        GK_RS256, NULL),
               "unsupported");
    tk_assert_err(from_jwk(tk_jwk_with(tk_jwk(tp, TK.rsa), "RSA-OAEP", NULL),
                        GK_RS256, NULL),
               "unsupported");
    {
        json_t *j = tk_jwk(tp, TK.rsa);
        json_object_set_new(j, "alg", json_integer(1));
        tk_assert_err(from_jwk(j, GK_RS256, NULL), "not a string");
    }
}
END_TEST

START_TEST(jwk_use_and_key_ops)
{
    gk_key_t *k;
    json_t *j;

    j = tk_jwk_with(tk_jwk(tp, TK.rsa), "RS256", NULL);
    json_object_set_new(j, "use", json_string("enc"));
    tk_assert_err(from_jwk(j, GK_ALG_UNKNOWN, NULL), "use");
    j = tk_jwk_with(tk_jwk(tp, TK.rsa), "RS256", NULL);
    json_object_set_new(j, "use", json_string("SIG"));
    tk_assert_err(from_jwk(j, GK_ALG_UNKNOWN, NULL), "use");
    j = tk_jwk_with(tk_jwk(tp, TK.rsa), "RS256", NULL);
    json_object_set_new(j, "use", json_integer(1));
    tk_assert_err(from_jwk(j, GK_ALG_UNKNOWN, NULL), "use");
    j = tk_jwk_with(tk_jwk(tp, TK.rsa), "RS256", NULL);
    json_object_set_new(j, "use", json_string("sig"));
    tk_assert_ok(from_jwk(j, GK_ALG_UNKNOWN, &k));

    j = tk_jwk_with(tk_jwk(tp, TK.ec256), "ES256", NULL);
    json_object_set_new(j, "key_ops", json_pack("[s]", "encrypt"));
    tk_assert_err(from_jwk(j, GK_ALG_UNKNOWN, NULL), "verify");
    j = tk_jwk_with(tk_jwk(tp, TK.ec256), "ES256", NULL);
    json_object_set_new(j, "key_ops", json_pack("[s]", "sign"));
    tk_assert_err(from_jwk(j, GK_ALG_UNKNOWN, NULL), "verify");
    j = tk_jwk_with(tk_jwk(tp, TK.ec256), "ES256", NULL);
    json_object_set_new(j, "key_ops", json_array());
    tk_assert_err(from_jwk(j, GK_ALG_UNKNOWN, NULL), "verify");
    j = tk_jwk_with(tk_jwk(tp, TK.ec256), "ES256", NULL);
    json_object_set_new(j, "key_ops", json_string("verify"));
    tk_assert_err(from_jwk(j, GK_ALG_UNKNOWN, NULL), "array");
    j = tk_jwk_with(tk_jwk(tp, TK.ec256), "ES256", NULL);
    json_object_set_new(j, "key_ops", json_pack("[i,s]", 1, "VERIFY"));
    tk_assert_err(from_jwk(j, GK_ALG_UNKNOWN, NULL), "verify");
    j = tk_jwk_with(tk_jwk(tp, TK.ec256), "ES256", NULL);
    json_object_set_new(j, "key_ops", json_pack("[s,s]", "sign", "verify"));
    tk_assert_ok(from_jwk(j, GK_ALG_UNKNOWN, &k));
    ck_assert(key_verifies(k, tk_pk(GK_ES256, TK.ec256)));
}
END_TEST

START_TEST(jwk_kty_alg_mismatch)
{
    json_t *j;
    tk_assert_err(from_jwk(tk_jwk_with(tk_jwk(tp, TK.rsa), "ES256", NULL),
                        GK_ALG_UNKNOWN, NULL),
               "cannot be used");
    tk_assert_err(from_jwk(tk_jwk_with(tk_jwk(tp, TK.rsa), "HS256", NULL),
                        GK_ALG_UNKNOWN, NULL),
               "cannot be used");
    tk_assert_err(from_jwk(tk_jwk_with(tk_jwk(tp, TK.ec256), "RS256", NULL),
                        GK_ALG_UNKNOWN, NULL),
               "cannot be used");
    tk_assert_err(from_jwk(tk_jwk_with(tk_jwk(tp, TK.ed), "ES256", NULL),
                        GK_ALG_UNKNOWN, NULL),
               "cannot be used");
    tk_assert_err(from_jwk(tk_jwk_with(tk_jwk_oct(tp, TK_SECRET, 64), "RS256",
                                    NULL),
                        GK_ALG_UNKNOWN, NULL),
               "cannot be used");
    tk_assert_err(from_jwk(tk_jwk_with(tk_jwk_oct(tp, TK_SECRET, 64), "EdDSA",
                                    NULL),
                        GK_ALG_UNKNOWN, NULL),
               "cannot be used");
    /* kty is case-sensitive, and required */
    j = tk_jwk_with(tk_jwk(tp, TK.rsa), "RS256", NULL);
    json_object_set_new(j, "kty", json_string("rsa"));
    tk_assert_err(from_jwk(j, GK_ALG_UNKNOWN, NULL), "cannot be used");
    j = tk_jwk_with(tk_jwk(tp, TK.rsa), "RS256", NULL);
    json_object_del(j, "kty");
    tk_assert_err(from_jwk(j, GK_ALG_UNKNOWN, NULL), "kty");
    j = tk_jwk_with(tk_jwk(tp, TK.rsa), "RS256", NULL);
    json_object_set_new(j, "kty", json_integer(3));
    tk_assert_err(from_jwk(j, GK_ALG_UNKNOWN, NULL), "kty");
}
END_TEST

START_TEST(jwk_rsa_members)
{
    json_t *j;
    const char *n;

    /* n not strict base64url */
    j = tk_jwk_with(tk_jwk(tp, TK.rsa), "RS256", NULL);
    n = json_string_value(json_object_get(j, "n"));
    json_object_set_new(j, "n", json_string(apr_pstrcat(tp, "+", n + 1,
                                                        NULL)));
    tk_assert_err(from_jwk(j, GK_ALG_UNKNOWN, NULL), "base64url");
    j = tk_jwk_with(tk_jwk(tp, TK.rsa), "RS256", NULL);
    n = json_string_value(json_object_get(j, "n"));
    ck_assert_uint_eq(strlen(n) % 4, 2);
    json_object_set_new(j, "n", json_string(apr_pstrcat(tp, n, "==", NULL)));
    tk_assert_err(from_jwk(j, GK_ALG_UNKNOWN, NULL), "base64url");
    j = tk_jwk_with(tk_jwk(tp, TK.rsa), "RS256", NULL);
    n = json_string_value(json_object_get(j, "n"));
    json_object_set_new(j, "n", json_string(apr_pstrcat(tp, "AAAA\n", n,
                                                        NULL)));
    tk_assert_err(from_jwk(j, GK_ALG_UNKNOWN, NULL), "base64url");
    /* missing or empty members */
    j = tk_jwk_with(tk_jwk(tp, TK.rsa), "RS256", NULL);
    json_object_del(j, "n");
    tk_assert_err(from_jwk(j, GK_ALG_UNKNOWN, NULL), "\"n\"");
    j = tk_jwk_with(tk_jwk(tp, TK.rsa), "RS256", NULL);
    json_object_set_new(j, "n", json_string(""));
    tk_assert_err(from_jwk(j, GK_ALG_UNKNOWN, NULL), "\"n\"");
    j = tk_jwk_with(tk_jwk(tp, TK.rsa), "RS256", NULL);
    json_object_set_new(j, "e", json_integer(65537));
    tk_assert_err(from_jwk(j, GK_ALG_UNKNOWN, NULL), "\"e\"");
    /* a 1024-bit modulus */
    tk_assert_err(from_jwk(tk_jwk_with(tk_jwk(tp, TK.rsa1024), "RS256", NULL),
                        GK_ALG_UNKNOWN, NULL),
               "2048");
    /* a leading zero byte in n does not change the key */
    {
        gk_key_t *k;
        BIGNUM *bn = NULL;
        unsigned char buf[257];
        ck_assert(EVP_PKEY_get_bn_param(TK.rsa, OSSL_PKEY_PARAM_RSA_N, &bn));
        ck_assert_int_eq(BN_bn2binpad(bn, buf, 257), 257);
        BN_free(bn);
        j = tk_jwk_with(tk_jwk(tp, TK.rsa), "RS256", NULL);
        json_object_set_new(j, "n", json_string(tk_b64(tp, buf, 257)));
        tk_assert_ok(from_jwk(j, GK_ALG_UNKNOWN, &k));
        ck_assert(key_verifies(k, tk_pk(GK_RS256, TK.rsa)));
    }
}
END_TEST

START_TEST(jwk_ec_members)
{
    json_t *j;
    const char *y;
    unsigned char raw[66];
    apr_size_t len;

    j = tk_jwk_with(tk_jwk(tp, TK.ec256), "ES256", NULL);
    json_object_set_new(j, "crv", json_string("P-384"));
    tk_assert_err(from_jwk(j, GK_ALG_UNKNOWN, NULL), "x and y");
    j = tk_jwk_with(tk_jwk(tp, TK.ec256), "ES256", NULL);
    json_object_set_new(j, "crv", json_string("secp256k1"));
    tk_assert_err(from_jwk(j, GK_ALG_UNKNOWN, NULL), "unsupported EC curve");
    j = tk_jwk_with(tk_jwk(tp, TK.ec256), "ES256", NULL);
    json_object_del(j, "crv");
    tk_assert_err(from_jwk(j, GK_ALG_UNKNOWN, NULL), "crv");
    /* a P-384 key declared for ES256 */
    tk_assert_err(from_jwk(tk_jwk_with(tk_jwk(tp, TK.ec384), "ES256", NULL),
                        GK_ALG_UNKNOWN, NULL),
               "P-256");
    /* x, y of the wrong length (a leading zero byte dropped) */
    j = tk_jwk_with(tk_jwk(tp, TK.ec256), "ES256", NULL);
    json_object_set_new(j, "x", json_string(tk_b64(tp, "0123456789abcdef"
                                                       "0123456789abcde",
                                                   31)));
    tk_assert_err(from_jwk(j, GK_ALG_UNKNOWN, NULL), "32 bytes");
    j = tk_jwk_with(tk_jwk(tp, TK.ec256), "ES256", NULL);
    json_object_del(j, "y");
    tk_assert_err(from_jwk(j, GK_ALG_UNKNOWN, NULL), "\"y\"");
    /* a point that is not on the curve */
    j = tk_jwk_with(tk_jwk(tp, TK.ec256), "ES256", NULL);
    y = json_string_value(json_object_get(j, "y"));
    ck_assert_int_eq(gk_b64url_decode(raw, y, strlen(y)), 32);
    raw[31] ^= 1;
    json_object_set_new(j, "y", json_string(tk_b64(tp, raw, 32)));
    ck_assert_ptr_nonnull(from_jwk(j, GK_ALG_UNKNOWN, NULL));
    /* all-zero coordinates */
    memset(raw, 0, sizeof(raw));
    j = tk_jwk_with(tk_jwk(tp, TK.ec256), "ES256", NULL);
    json_object_set_new(j, "x", json_string(tk_b64(tp, raw, 32)));
    json_object_set_new(j, "y", json_string(tk_b64(tp, raw, 32)));
    ck_assert_ptr_nonnull(from_jwk(j, GK_ALG_UNKNOWN, NULL));
    (void)len;
}
END_TEST

START_TEST(jwk_okp_and_oct_members)
{
    json_t *j;
    unsigned char raw[57] = {0};

    j = tk_jwk_with(tk_jwk(tp, TK.ed), "EdDSA", NULL);
    json_object_set_new(j, "crv", json_string("X25519"));
    tk_assert_err(from_jwk(j, GK_ALG_UNKNOWN, NULL), "Ed25519");
    j = tk_jwk_with(tk_jwk(tp, TK.ed), "EdDSA", NULL);
    json_object_del(j, "crv");
    tk_assert_err(from_jwk(j, GK_ALG_UNKNOWN, NULL), "Ed25519");
    tk_assert_err(from_jwk(tk_jwk_with(tk_jwk(tp, TK.ed448), "EdDSA", NULL),
                        GK_ALG_UNKNOWN, NULL),
               "Ed25519");
    j = tk_jwk_with(tk_jwk(tp, TK.ed), "EdDSA", NULL);
    json_object_set_new(j, "x", json_string(tk_b64(tp, raw, 31)));
    tk_assert_err(from_jwk(j, GK_ALG_UNKNOWN, NULL), "32 bytes");
    j = tk_jwk_with(tk_jwk(tp, TK.ed), "EdDSA", NULL);
    json_object_set_new(j, "x", json_string(tk_b64(tp, raw, 33)));
    tk_assert_err(from_jwk(j, GK_ALG_UNKNOWN, NULL), "32 bytes");
    /* oct */
    tk_assert_err(from_jwk(tk_jwk_with(tk_jwk_oct(tp, TK_SECRET, 31), "HS256",
                                    NULL),
                        GK_ALG_UNKNOWN, NULL),
               "at least 32");
    tk_assert_err(from_jwk(tk_jwk_with(tk_jwk_oct(tp, TK_SECRET, 63), "HS512",
                                    NULL),
                        GK_ALG_UNKNOWN, NULL),
               "at least 64");
    j = tk_jwk_with(tk_jwk_oct(tp, TK_SECRET, 32), "HS256", NULL);
    json_object_set_new(j, "k", json_string(apr_pstrcat(
                                    tp, tk_b64(tp, TK_SECRET, 32), "=", NULL)));
    tk_assert_err(from_jwk(j, GK_ALG_UNKNOWN, NULL), "base64url");
    j = tk_jwk_with(tk_jwk_oct(tp, TK_SECRET, 32), "HS256", NULL);
    json_object_del(j, "k");
    tk_assert_err(from_jwk(j, GK_ALG_UNKNOWN, NULL), "\"k\"");
}
END_TEST

START_TEST(jwk_not_an_object_and_kid)
{
    gk_key_t *k;
    json_t *j;
    tk_assert_err(from_jwk(json_array(), GK_RS256, NULL), "object");
    tk_assert_err(from_jwk(json_string("RSA"), GK_RS256, NULL), "object");
    j = tk_jwk_with(tk_jwk(tp, TK.rsa), "RS256", NULL);
    json_object_set_new(j, "kid", json_integer(7));
    tk_assert_err(from_jwk(j, GK_ALG_UNKNOWN, NULL), "kid");
    j = tk_jwk_with(tk_jwk(tp, TK.rsa), "RS256", "");
    tk_assert_ok(from_jwk(j, GK_ALG_UNKNOWN, &k));
    ck_assert_str_eq(k->kid, "");
}
END_TEST

/* ---- sources: env:, file:, bare paths ------------------------------------- */

START_TEST(load_env)
{
    gk_key_t *k = NULL;
    const char *pem = tk_pub_pem(tp, TK.ec256);

    setenv("GK_UNIT_SECRET", TK_SECRET, 1);
    tk_assert_ok(gk_key_load(tp, GK_HS512, "env:GK_UNIT_SECRET", "e", &k));
    ck_assert_str_eq(k->kid, "e");
    ck_assert(key_verifies(k, tk_hmac(GK_HS512, TK_SECRET, 64)));
    /* the environment is not changed by loading (the copy is wiped) */
    ck_assert_str_eq(getenv("GK_UNIT_SECRET"), TK_SECRET);
    /* too short for HS512 after a trailing newline is stripped */
    setenv("GK_UNIT_SECRET", apr_pstrcat(tp, apr_pstrndup(tp, TK_SECRET, 63),
                                         "\n", NULL),
           1);
    tk_assert_err(gk_key_load(tp, GK_HS512, "env:GK_UNIT_SECRET", NULL, &k),
               "63 bytes");
    setenv("GK_UNIT_PEM", pem, 1);
    tk_assert_ok(gk_key_load(tp, GK_ES256, "env:GK_UNIT_PEM", NULL, &k));
    ck_assert(key_verifies(k, tk_pk(GK_ES256, TK.ec256)));
    tk_assert_err(gk_key_load(tp, GK_ES384, "env:GK_UNIT_PEM", NULL, &k),
               "P-384");
    setenv("GK_UNIT_EMPTY", "", 1);
    tk_assert_err(gk_key_load(tp, GK_HS256, "env:GK_UNIT_EMPTY", NULL, &k),
               "GK_UNIT_EMPTY");
    unsetenv("GK_UNIT_UNSET");
    tk_assert_err(gk_key_load(tp, GK_HS256, "env:GK_UNIT_UNSET", NULL, &k),
               "GK_UNIT_UNSET");
    ck_assert_ptr_nonnull(gk_key_load(tp, GK_HS256, "env:", NULL, &k));
    ck_assert_ptr_nonnull(
        gk_key_load(tp, GK_ALG_UNKNOWN, "env:GK_UNIT_PEM", NULL, &k));
    unsetenv("GK_UNIT_SECRET");
    unsetenv("GK_UNIT_PEM");
    unsetenv("GK_UNIT_EMPTY");
}
END_TEST

START_TEST(load_file_secret_line_endings)
{
    const char *dir = tk_tmpdir(tp);
    static const struct {
        const char *suffix;
        const char *effective_suffix; /* what the key really is */
    } cases[] = {
        {"", ""},         {"\n", ""},     {"\r\n", ""},
        {"\n\n", "\n"},   {"\r\n\r\n", "\r\n"}, {"\r", "\r"},
        {" ", " "},       {"\n\r", "\n\r"},
    };
    size_t i;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *path = tk_path_in(tp, dir, apr_psprintf(tp, "s%zu", i));
        const char *content = apr_pstrcat(tp, apr_pstrndup(tp, TK_SECRET, 40),
                                          cases[i].suffix, NULL);
        const char *eff = apr_pstrcat(tp, apr_pstrndup(tp, TK_SECRET, 40),
                                      cases[i].effective_suffix, NULL);
        gk_key_t *k = NULL;
        tk_write_file(path, content, strlen(content));
        tk_assert_ok(gk_key_load(tp, GK_HS256, apr_pstrcat(tp, "file:", path,
                                                        NULL),
                              NULL, &k));
        ck_assert_msg(key_verifies(k, tk_hmac(GK_HS256, eff, strlen(eff))),
                      "case %zu: the secret is not the stripped content", i);
        if (strcmp(eff, content)) {
            ck_assert_msg(!key_verifies(k, tk_hmac(GK_HS256, content,
                                                   strlen(content))),
                          "case %zu: the line ending was kept", i);
        }
    }
}
END_TEST

START_TEST(load_file_short_and_binary_secret)
{
    const char *dir = tk_tmpdir(tp);
    const char *path = tk_path_in(tp, dir, "short");
    gk_key_t *k = NULL;
    unsigned char bin[64];
    int i;

    /* 32 bytes with the newline: 31 after stripping */
    tk_write_file(path, "0123456789012345678901234567890\n", 32);
    tk_assert_err(gk_key_load(tp, GK_HS256, apr_pstrcat(tp, "file:", path, NULL),
                           NULL, &k),
               "31 bytes");
    /* empty file */
    tk_write_file(path, "", 0);
    tk_assert_err(gk_key_load(tp, GK_HS256, apr_pstrcat(tp, "file:", path, NULL),
                           NULL, &k),
               "0 bytes");
    /* binary bytes, NULs included, are the secret as they are */
    for (i = 0; i < 64; i++) {
        bin[i] = (unsigned char)(i * 37);
    }
    bin[5] = 0;
    tk_write_file(path, bin, 64);
    tk_assert_ok(gk_key_load(tp, GK_HS512, apr_pstrcat(tp, "file:", path, NULL),
                          NULL, &k));
    ck_assert(key_verifies(k, tk_hmac(GK_HS512, (const char *)bin, 64)));
}
END_TEST

START_TEST(load_file_and_bare_path)
{
    const char *dir = tk_tmpdir(tp);
    const char *pem = tk_pub_pem(tp, TK.rsa), *secret = tk_path_in(tp, dir, "sec");
    const char *pempath = tk_path_in(tp, dir, "rsa.pem");
    gk_key_t *k = NULL;

    tk_write_file(pempath, pem, strlen(pem));
    tk_write_file(secret, TK_SECRET, 32);
    /* PEM by bare path or file: */
    tk_assert_ok(gk_key_load(tp, GK_RS256, pempath, "r", &k));
    ck_assert(key_verifies(k, tk_pk(GK_RS256, TK.rsa)));
    tk_assert_ok(gk_key_load(tp, GK_PS384, apr_pstrcat(tp, "file:", pempath,
                                                    NULL),
                          NULL, &k));
    ck_assert(key_verifies(k, tk_pk(GK_PS384, TK.rsa)));
    /* a bare path is never a secret */
    tk_assert_err(gk_key_load(tp, GK_HS256, secret, NULL, &k), "file:PATH");
    tk_assert_err(gk_key_load(tp, GK_HS256, pempath, NULL, &k), "file:PATH");
    /* a secret file is not a PEM */
    ck_assert_ptr_nonnull(gk_key_load(tp, GK_RS256, secret, NULL, &k));
    /* missing files */
    tk_assert_err(gk_key_load(tp, GK_RS256, tk_path_in(tp, dir, "nope"), NULL, &k),
               "cannot open");
    tk_assert_err(gk_key_load(tp, GK_HS256,
                           apr_pstrcat(tp, "file:", tk_path_in(tp, dir, "nope"),
                                       NULL),
                           NULL, &k),
               "cannot open");
    ck_assert_ptr_nonnull(gk_key_load(tp, GK_HS256, "file:", NULL, &k));
    /* a directory */
    ck_assert_ptr_nonnull(gk_key_load(tp, GK_RS256, dir, NULL, &k));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("keys");
    TCase *tc = tk_tcase("secrets");

    tcase_add_test(tc, hmac_secret_length);
    tcase_add_test(tc, secret_only_for_hmac);
    suite_add_tcase(s, tc);

    tc = tk_tcase("pem");
    tcase_add_test(tc, pem_key_types);
    tcase_add_test(tc, pem_other_curves);
    tcase_add_test(tc, pem_private_key_and_certificate);
    tcase_add_test(tc, pem_refused);
    tcase_add_test(tc, pem_rsa_pss_key);
    suite_add_tcase(s, tc);

    tc = tk_tcase("jwk");
    tcase_add_test(tc, jwk_each_type_verifies);
    tcase_add_test(tc, jwk_default_alg);
    tcase_add_test(tc, jwk_alg_refused);
    tcase_add_test(tc, jwk_use_and_key_ops);
    tcase_add_test(tc, jwk_kty_alg_mismatch);
    tcase_add_test(tc, jwk_rsa_members);
    tcase_add_test(tc, jwk_ec_members);
    tcase_add_test(tc, jwk_okp_and_oct_members);
    tcase_add_test(tc, jwk_not_an_object_and_kid);
    suite_add_tcase(s, tc);

    tc = tk_tcase("sources");
    tcase_add_test(tc, load_env);
    tcase_add_test(tc, load_file_secret_line_endings);
    tcase_add_test(tc, load_file_short_and_binary_secret);
    tcase_add_test(tc, load_file_and_bare_path);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(suite)
