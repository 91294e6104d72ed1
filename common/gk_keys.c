#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "gk_b64url.h"
#include "gk_file.h"
#include "gk_keys.h"

static apr_status_t key_cleanup(void *data)
{
    gk_key_t *k = data;

    EVP_PKEY_free(k->pkey);
    EVP_MD_CTX_free(k->hmac_inner);
    EVP_MD_CTX_free(k->hmac_outer);
    EVP_MD_free(k->md);
    EVP_PKEY_CTX_free(k->vctx);
    k->vctx = NULL;
    k->pkey = NULL;
    k->hmac_inner = NULL;
    k->hmac_outer = NULL;
    k->md = NULL;
    return APR_SUCCESS;
}

static gk_key_t *key_new(apr_pool_t *p, gk_alg_e alg, const char *kid)
{
    gk_key_t *k = apr_pcalloc(p, sizeof(*k));

    k->alg = alg;
    k->kid = kid ? apr_pstrdup(p, kid) : NULL;
    apr_pool_cleanup_register(p, k, key_cleanup, apr_pool_cleanup_null);
    return k;
}

/* HMAC (RFC 2104) with the hash states after the padded key precomputed:
 * a verification then only copies them, instead of keying a MAC anew. */
static int hmac_pad_state(EVP_MD_CTX **out, const EVP_MD *md,
                          const unsigned char *key, unsigned keylen,
                          unsigned block, unsigned char pad)
{
    unsigned char buf[128];
    unsigned i;
    int ok;

    for (i = 0; i < block; i++) {
        buf[i] = (unsigned char)((i < keylen ? key[i] : 0) ^ pad);
    }
    *out = EVP_MD_CTX_new();
    ok = *out && EVP_DigestInit_ex(*out, md, NULL)
         && EVP_DigestUpdate(*out, buf, block);
    OPENSSL_cleanse(buf, sizeof(buf));
    return ok;
}

const char *gk_key_from_secret(apr_pool_t *p, gk_alg_e alg,
                               const unsigned char *secret, apr_size_t len,
                               const char *kid, gk_key_t **out)
{
    const gk_alg_info_t *ai = gk_alg_info(alg);
    unsigned char hashed[EVP_MAX_MD_SIZE];
    unsigned int hlen = 0;
    unsigned block;
    gk_key_t *k;
    int ok;

    if (!ai || ai->kind != GK_KIND_HMAC) {
        return "a secret can only be used with HS256, HS384 or HS512";
    }
    if (len < ai->hash_len) {
        return apr_psprintf(p, "the %s secret is %" APR_SIZE_T_FMT
                            " bytes; it must be at least %u bytes (the hash "
                            "output length, RFC 7518 section 3.2)",
                            ai->name, len, ai->hash_len);
    }
    k = key_new(p, alg, kid);
    k->md = EVP_MD_fetch(NULL, ai->digest, NULL);
    if (!k->md) {
        return apr_psprintf(p, "digest %s is not available", ai->digest);
    }
    block = (unsigned)EVP_MD_get_block_size(k->md);
    if (len > block) { /* a long key is hashed first */
        if (!EVP_Digest(secret, len, hashed, &hlen, k->md, NULL)) {
            return "HMAC key setup failed in OpenSSL";
        }
        secret = hashed;
        len = hlen;
    }
    ok = block <= 128
         && hmac_pad_state(&k->hmac_inner, k->md, secret, (unsigned)len,
                           block, 0x36)
         && hmac_pad_state(&k->hmac_outer, k->md, secret, (unsigned)len,
                           block, 0x5c);
    OPENSSL_cleanse(hashed, sizeof(hashed));
    if (!ok) {
        return "HMAC key setup failed in OpenSSL";
    }
    *out = k;
    return NULL;
}

static int curve_nid_of(EVP_PKEY *pkey)
{
    char name[64];
    size_t len = 0;
    int nid;

    if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
                                        name, sizeof(name), &len)) {
        return NID_undef;
    }
    nid = EC_curve_nist2nid(name);
    if (nid == NID_undef) {
        nid = OBJ_sn2nid(name);
    }
    return nid;
}

static apr_uint64_t key_serials; /* atomic: JWKS reloads run in requests */

/* Bind a parsed public key to alg: type, strength, curve. Takes pkey. */
static const char *key_adopt(apr_pool_t *p, gk_alg_e alg, EVP_PKEY *pkey,
                             const char *kid, gk_key_t **out)
{
    const gk_alg_info_t *ai = gk_alg_info(alg);
    gk_key_t *k;
    const char *err = NULL;

    switch (ai->kind) {
    case GK_KIND_RSA:
    case GK_KIND_PSS:
        if (!EVP_PKEY_is_a(pkey, "RSA")
            && !(ai->kind == GK_KIND_PSS && EVP_PKEY_is_a(pkey, "RSA-PSS"))) {
            err = apr_psprintf(p, "%s needs an RSA key", ai->name);
        }
        else if (EVP_PKEY_get_bits(pkey) < 2048) {
            err = apr_psprintf(p, "the RSA key has %d bits; at least 2048 "
                               "are required", EVP_PKEY_get_bits(pkey));
        }
        break;
    case GK_KIND_EC:
        if (!EVP_PKEY_is_a(pkey, "EC")) {
            err = apr_psprintf(p, "%s needs an EC key", ai->name);
        }
        else if (curve_nid_of(pkey) != ai->curve_nid) {
            err = apr_psprintf(p, "%s needs a key on curve %s", ai->name,
                               EC_curve_nid2nist(ai->curve_nid));
        }
        break;
    case GK_KIND_EDDSA:
        if (!EVP_PKEY_is_a(pkey, "ED25519")) {
            err = "EdDSA needs an Ed25519 key";
        }
        break;
    default:
        err = apr_psprintf(p, "%s takes a secret, not a public key; use "
                           "file:PATH or env:VAR", ai->name);
    }
    if (err) {
        EVP_PKEY_free(pkey);
        return err;
    }
    k = key_new(p, alg, kid);
    k->pkey = pkey;
    if (ai->digest) {
        k->md = EVP_MD_fetch(NULL, ai->digest, NULL);
        if (!k->md) {
            return apr_psprintf(p, "digest %s is not available", ai->digest);
        }
        /* All the per-operation set-up is done here, once: each thread
         * that verifies copies this context and checks digests with it. */
        k->vctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
        if (!k->vctx || EVP_PKEY_verify_init(k->vctx) <= 0
            || EVP_PKEY_CTX_set_signature_md(k->vctx, k->md) <= 0
            || (ai->kind == GK_KIND_RSA
                && EVP_PKEY_CTX_set_rsa_padding(k->vctx, RSA_PKCS1_PADDING)
                       <= 0)
            || (ai->kind == GK_KIND_PSS
                && (EVP_PKEY_CTX_set_rsa_padding(k->vctx,
                                                 RSA_PKCS1_PSS_PADDING) <= 0
                    || EVP_PKEY_CTX_set_rsa_pss_saltlen(
                           k->vctx, RSA_PSS_SALTLEN_DIGEST) <= 0
                    || EVP_PKEY_CTX_set_rsa_mgf1_md(k->vctx, k->md) <= 0))) {
            return apr_psprintf(p, "OpenSSL cannot verify %s with this key",
                                ai->name);
        }
        k->serial = __atomic_add_fetch(&key_serials, 1, __ATOMIC_RELAXED);
    }
    *out = k;
    return NULL;
}

static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    return -1;
}

const char *gk_key_from_pem(apr_pool_t *p, gk_alg_e alg, const char *pem,
                            apr_size_t len, const char *kid, gk_key_t **out)
{
    const gk_alg_info_t *ai = gk_alg_info(alg);
    EVP_PKEY *pkey = NULL;
    BIO *bio;

    if (!ai) {
        return "unknown algorithm";
    }
    if (ai->kind == GK_KIND_HMAC) {
        return apr_psprintf(p, "%s takes a secret, not a PEM key; use "
                            "file:PATH or env:VAR", ai->name);
    }
    if (strstr(pem, "-----BEGIN CERTIFICATE-----")) {
        X509 *x;
        bio = BIO_new_mem_buf(pem, (int)len);
        x = bio ? PEM_read_bio_X509(bio, NULL, no_passphrase, NULL) : NULL;
        if (x) {
            pkey = X509_get_pubkey(x);
            X509_free(x);
        }
        BIO_free(bio);
    }
    else if (strstr(pem, "PRIVATE KEY-----")) {
        bio = BIO_new_mem_buf(pem, (int)len);
        pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL)
                   : NULL;
        BIO_free(bio);
    }
    else {
        bio = BIO_new_mem_buf(pem, (int)len);
        pkey = bio ? PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL)
                   : NULL;
        BIO_free(bio);
    }
    if (!pkey) {
        return "no PEM public key, certificate or unencrypted private key "
               "could be read";
    }
    return key_adopt(p, alg, pkey, kid, out);
}

/* ---- JWK --------------------------------------------------------------- */

static const char *jwk_bytes(apr_pool_t *p, json_t *jwk, const char *name,
                             unsigned char **out, apr_size_t *len)
{
    json_t *v = json_object_get(jwk, name);

    if (!json_is_string(v) || json_string_length(v) == 0) {
        return apr_psprintf(p, "member \"%s\" is missing", name);
    }
    *out = gk_b64url_decode_pool(p, json_string_value(v),
                                 json_string_length(v), len);
    if (!*out) {
        return apr_psprintf(p, "member \"%s\" is not strict base64url", name);
    }
    return NULL;
}

static const char *pkey_fromdata(apr_pool_t *p, const char *type,
                                 OSSL_PARAM_BLD *bld, EVP_PKEY **pkey)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    const char *err = NULL;

    *pkey = NULL;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0
        || EVP_PKEY_fromdata(ctx, pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
        err = apr_psprintf(p, "OpenSSL refused the %s key", type);
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return err;
}

static const char *jwk_rsa(apr_pool_t *p, json_t *jwk, EVP_PKEY **pkey)
{
    unsigned char *n, *e;
    apr_size_t nlen, elen;
    BIGNUM *bn = NULL, *be = NULL;
    OSSL_PARAM_BLD *bld;
    const char *err;

    if ((err = jwk_bytes(p, jwk, "n", &n, &nlen))
        || (err = jwk_bytes(p, jwk, "e", &e, &elen))) {
        return err;
    }
    bn = BN_bin2bn(n, (int)nlen, NULL);
    be = BN_bin2bn(e, (int)elen, NULL);
    bld = OSSL_PARAM_BLD_new();
    if (!bn || !be || !bld
        || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn)
        || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be)) {
        err = "cannot build the RSA key";
    }
    else {
        err = pkey_fromdata(p, "RSA", bld, pkey);
    }
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
    return err;
}

static const char *jwk_ec(apr_pool_t *p, json_t *jwk, EVP_PKEY **pkey)
{
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    unsigned char *x, *y, *pt;
    apr_size_t xlen, ylen, flen;
    const char *group, *err;
    OSSL_PARAM_BLD *bld;

    if (!crv) {
        return "member \"crv\" is missing";
    }
    if (!strcmp(crv, "P-256")) {
        group = "prime256v1";
        flen = 32;
    }
    else if (!strcmp(crv, "P-384")) {
        group = "secp384r1";
        flen = 48;
    }
    else if (!strcmp(crv, "P-521")) {
        group = "secp521r1";
        flen = 66;
    }
    else {
        return apr_psprintf(p, "unsupported EC curve \"%s\"", crv);
    }
    if ((err = jwk_bytes(p, jwk, "x", &x, &xlen))
        || (err = jwk_bytes(p, jwk, "y", &y, &ylen))) {
        return err;
    }
    if (xlen != flen || ylen != flen) {
        return apr_psprintf(p, "x and y must be %" APR_SIZE_T_FMT
                            " bytes each on %s", flen, crv);
    }
    pt = apr_palloc(p, 1 + 2 * flen);
    pt[0] = 0x04;
    memcpy(pt + 1, x, flen);
    memcpy(pt + 1 + flen, y, flen);
    bld = OSSL_PARAM_BLD_new();
    if (!bld
        || !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                            group, 0)
        || !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt,
                                             1 + 2 * flen)) {
        err = "cannot build the EC key";
    }
    else {
        err = pkey_fromdata(p, "EC", bld, pkey);
    }
    OSSL_PARAM_BLD_free(bld);
    return err;
}

static const char *jwk_okp(apr_pool_t *p, json_t *jwk, EVP_PKEY **pkey)
{
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    unsigned char *x;
    apr_size_t xlen;
    const char *err;

    if (!crv || strcmp(crv, "Ed25519")) {
        return "only OKP keys on curve Ed25519 are supported";
    }
    if ((err = jwk_bytes(p, jwk, "x", &x, &xlen))) {
        return err;
    }
    if (xlen != 32) {
        return "an Ed25519 key is 32 bytes";
    }
    *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, xlen);
    return *pkey ? NULL : "OpenSSL refused the Ed25519 key";
}

/* The key's algorithm: its "alg", else default_alg. */
static const char *jwk_alg(apr_pool_t *p, json_t *jwk, gk_alg_e default_alg,
                           gk_alg_e *alg)
{
    json_t *jalg = json_object_get(jwk, "alg");

    *alg = default_alg;
    if (jalg) {
        if (!json_is_string(jalg)) {
            return "\"alg\" is not a string";
        }
        *alg = gk_alg_from_name(json_string_value(jalg),
                                json_string_length(jalg));
        if (*alg == GK_ALG_UNKNOWN) {
            return apr_psprintf(p, "unsupported \"alg\" \"%s\"",
                                json_string_value(jalg));
        }
    }
    if (*alg == GK_ALG_UNKNOWN) {
        return "the key has no \"alg\" (add one, or alg= on the directive)";
    }
    return NULL;
}

/* "use" and "key_ops", when present, allow verifying. */
static const char *jwk_verifies(json_t *jwk)
{
    json_t *juse = json_object_get(jwk, "use");
    json_t *ops = json_object_get(jwk, "key_ops");
    json_t *op;
    size_t i;

    if (juse && (!json_is_string(juse)
                 || strcmp(json_string_value(juse), "sig"))) {
        return "\"use\" is not \"sig\"";
    }
    if (!ops) {
        return NULL;
    }
    if (!json_is_array(ops)) {
        return "\"key_ops\" is not an array";
    }
    json_array_foreach(ops, i, op) {
        if (json_is_string(op) && !strcmp(json_string_value(op), "verify")) {
            return NULL;
        }
    }
    return "\"key_ops\" does not allow \"verify\"";
}

static const char *jwk_secret(apr_pool_t *p, json_t *jwk, gk_alg_e alg,
                              const char *kid, gk_key_t **out)
{
    unsigned char *secret;
    apr_size_t len;
    const char *err;

    if ((err = jwk_bytes(p, jwk, "k", &secret, &len))) {
        return err;
    }
    err = gk_key_from_secret(p, alg, secret, len, kid, out);
    memset(secret, 0, len);
    return err;
}

const char *gk_key_from_jwk(apr_pool_t *p, json_t *jwk, gk_alg_e default_alg,
                            gk_key_t **out)
{
    json_t *jkid = json_object_get(jwk, "kid");
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    const char *kid = NULL, *err;
    EVP_PKEY *pkey = NULL;
    gk_alg_e alg;

    if (!json_is_object(jwk)) {
        return "a key is not a JSON object";
    }
    if (jkid) {
        if (!json_is_string(jkid)) {
            return "\"kid\" is not a string";
        }
        kid = json_string_value(jkid);
    }
    if ((err = jwk_alg(p, jwk, default_alg, &alg))
        || (err = jwk_verifies(jwk))) {
        return err;
    }
    if (!kty) {
        return "member \"kty\" is missing";
    }
    if (strcmp(kty, gk_alg_kty(alg))) {
        return apr_psprintf(p, "key type \"%s\" cannot be used with %s", kty,
                            gk_alg_info(alg)->name);
    }
    if (!strcmp(kty, "oct")) {
        return jwk_secret(p, jwk, alg, kid, out);
    }
    if (!strcmp(kty, "RSA")) {
        err = jwk_rsa(p, jwk, &pkey);
    }
    else if (!strcmp(kty, "EC")) {
        err = jwk_ec(p, jwk, &pkey);
    }
    else {
        err = jwk_okp(p, jwk, &pkey);
    }
    if (err) {
        return err;
    }
    return key_adopt(p, alg, pkey, kid, out);
}

/* ---- sources ------------------------------------------------------------ */

const char *gk_key_source_read(apr_pool_t *p, gk_alg_e alg,
                               const char *source, const char *what,
                               char **data, apr_size_t *len)
{
    const gk_alg_info_t *ai = gk_alg_info(alg);
    const char *err;

    if (!ai) {
        return "unknown algorithm";
    }
    if (!source) {
        return "no key source";
    }
    if (!strncmp(source, "env:", 4)) {
        const char *v = getenv(source + 4);
        if (!source[4]) {
            return "env: needs a variable name";
        }
        if (!v || !*v) {
            return apr_psprintf(p, "environment variable %s is not set or "
                                "empty", source + 4);
        }
        *data = apr_pstrdup(p, v);
        *len = strlen(*data);
        return NULL;
    }
    if (!strncmp(source, "file:", 5)) {
        return gk_file_read(p, source + 5, data, len);
    }
    if (ai->kind == GK_KIND_HMAC) {
        return apr_psprintf(p, "%s takes a secret: use file:PATH or env:VAR "
                            "(a bare path is read as %s)", ai->name, what);
    }
    if ((err = gk_file_read(p, source, data, len))) {
        return err;
    }
    return NULL;
}

const char *gk_key_load(apr_pool_t *p, gk_alg_e alg, const char *source,
                        const char *kid, gk_key_t **out)
{
    const gk_alg_info_t *ai = gk_alg_info(alg);
    char *data;
    apr_size_t len;
    const char *err;
    int is_secret = ai && ai->kind == GK_KIND_HMAC;

    if ((err = gk_key_source_read(p, alg, source, "a PEM public key", &data,
                                  &len))) {
        return err;
    }
    if (!is_secret) {
        return gk_key_from_pem(p, alg, data, len, kid, out);
    }
    /* A secret is the raw bytes, less one line ending that editors add. */
    if (len && data[len - 1] == '\n') {
        len--;
        if (len && data[len - 1] == '\r') {
            len--;
        }
    }
    err = gk_key_from_secret(p, alg, (unsigned char *)data, len, kid, out);
    memset(data, 0, len);
    return err;
}
