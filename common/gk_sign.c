#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>

#include "gk_file.h"
#include "gk_jwt.h"
#include "gk_rand.h"
#include "gk_sign.h"

/* ---- base64url into a caller's buffer ------------------------------------ */

static const char enc[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static apr_size_t b64_len(apr_size_t n)
{
    return n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0);
}

/* Encode n bytes at o (b64_len(n) bytes, no NUL); returns the end. */
static char *b64_put(char *o, const unsigned char *in, apr_size_t n)
{
    apr_size_t i;

    for (i = 0; i + 3 <= n; i += 3) {
        *o++ = enc[in[i] >> 2];
        *o++ = enc[(in[i] & 0x03) << 4 | in[i + 1] >> 4];
        *o++ = enc[(in[i + 1] & 0x0f) << 2 | in[i + 2] >> 6];
        *o++ = enc[in[i + 2] & 0x3f];
    }
    if (n - i == 1) {
        *o++ = enc[in[i] >> 2];
        *o++ = enc[(in[i] & 0x03) << 4];
    }
    else if (n - i == 2) {
        *o++ = enc[in[i] >> 2];
        *o++ = enc[(in[i] & 0x03) << 4 | in[i + 1] >> 4];
        *o++ = enc[(in[i + 1] & 0x0f) << 2];
    }
    return o;
}

static char *b64_pool(apr_pool_t *p, const unsigned char *in, apr_size_t n)
{
    char *out = apr_palloc(p, b64_len(n) + 1);

    *b64_put(out, in, n) = '\0';
    return out;
}

/* ---- JWK members and thumbprint ------------------------------------------ */

static char *b64_bn(apr_pool_t *p, const BIGNUM *bn, int padlen)
{
    int n = padlen ? padlen : BN_num_bytes(bn);
    unsigned char *buf;

    if (n <= 0 || (!padlen && BN_is_zero(bn))) {
        return NULL;
    }
    buf = apr_palloc(p, (apr_size_t)n);
    if (BN_bn2binpad(bn, buf, n) != n) {
        return NULL;
    }
    return b64_pool(p, buf, (apr_size_t)n);
}

typedef struct {
    const char *kty, *n, *e, *crv, *x, *y;
} jwk_members_t;

/* The public members of pkey, base64url-encoded. */
static const char *jwk_members(apr_pool_t *p, EVP_PKEY *pkey,
                               jwk_members_t *m)
{
    memset(m, 0, sizeof(*m));
    if (EVP_PKEY_is_a(pkey, "RSA") || EVP_PKEY_is_a(pkey, "RSA-PSS")) {
        BIGNUM *n = NULL, *e = NULL;
        if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n)
            && EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e)) {
            m->kty = "RSA";
            m->n = b64_bn(p, n, 0);
            m->e = b64_bn(p, e, 0);
        }
        BN_free(n);
        BN_free(e);
        return m->n && m->e ? NULL : "cannot read the RSA public key";
    }
    if (EVP_PKEY_is_a(pkey, "EC")) {
        char group[64];
        size_t glen = 0;
        BIGNUM *x = NULL, *y = NULL;
        int flen;

        if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
                                            group, sizeof(group), &glen)) {
            return "cannot read the EC key's curve";
        }
        switch (EC_curve_nist2nid(group) != NID_undef
                    ? EC_curve_nist2nid(group)
                    : OBJ_sn2nid(group)) {
        case NID_X9_62_prime256v1:
            m->crv = "P-256";
            flen = 32;
            break;
        case NID_secp384r1:
            m->crv = "P-384";
            flen = 48;
            break;
        case NID_secp521r1:
            m->crv = "P-521";
            flen = 66;
            break;
        default:
            return apr_psprintf(p, "EC curve %s has no JWK name", group);
        }
        if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x)
            && EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y)) {
            m->kty = "EC";
            m->x = b64_bn(p, x, flen);
            m->y = b64_bn(p, y, flen);
        }
        BN_free(x);
        BN_free(y);
        return m->x && m->y ? NULL : "cannot read the EC public key";
    }
    if (EVP_PKEY_is_a(pkey, "ED25519")) {
        unsigned char raw[32];
        size_t n = sizeof(raw);
        if (EVP_PKEY_get_raw_public_key(pkey, raw, &n) != 1 || n != 32) {
            return "cannot read the Ed25519 public key";
        }
        m->kty = "OKP";
        m->crv = "Ed25519";
        m->x = b64_pool(p, raw, n);
        return NULL;
    }
    return "only RSA, EC and Ed25519 keys have a JWK here";
}

/* RFC 7638 section 3: the required members in lexicographic order, no
 * white space. Every value is base64url or a fixed name: nothing to
 * escape. */
static const char *thumbprint_of(apr_pool_t *p, const jwk_members_t *m)
{
    unsigned char hash[32];
    unsigned int hlen = 0;
    const char *json;

    if (!strcmp(m->kty, "RSA")) {
        json = apr_psprintf(p, "{\"e\":\"%s\",\"kty\":\"RSA\",\"n\":\"%s\"}",
                            m->e, m->n);
    }
    else if (!strcmp(m->kty, "EC")) {
        json = apr_psprintf(p, "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\","
                            "\"y\":\"%s\"}", m->crv, m->x, m->y);
    }
    else {
        json = apr_psprintf(p, "{\"crv\":\"%s\",\"kty\":\"OKP\",\"x\":\"%s\"}",
                            m->crv, m->x);
    }
    if (!EVP_Digest(json, strlen(json), hash, &hlen, EVP_sha256(), NULL)
        || hlen != sizeof(hash)) {
        return NULL;
    }
    return b64_pool(p, hash, hlen);
}

const char *gk_jwk_thumbprint(apr_pool_t *p, EVP_PKEY *pkey, const char **out)
{
    jwk_members_t m;
    const char *err;

    if (!pkey) {
        return "no key";
    }
    if ((err = jwk_members(p, pkey, &m))) {
        return err;
    }
    *out = thumbprint_of(p, &m);
    return *out ? NULL : "SHA-256 failed in OpenSSL";
}

/* ---- loading ------------------------------------------------------------- */

static apr_status_t sign_key_cleanup(void *data)
{
    gk_sign_key_t *k = data;

    EVP_PKEY_CTX_free(k->sctx);
    EVP_MD_free(k->md);
    EVP_PKEY_free(k->pkey);
    k->sctx = NULL;
    k->md = NULL;
    k->pkey = NULL;
    return APR_SUCCESS;
}

/* The compact JSON text of o (taken), in p; NULL when jansson refuses. */
static char *dump_json(apr_pool_t *p, json_t *o, apr_size_t *len)
{
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    char *out = NULL;

    if (s) {
        *len = strlen(s);
        out = apr_pstrmemdup(p, s, *len);
        free(s);
    }
    json_decref(o);
    return out;
}

/* The base64url JWS header of k (alg and kid set). */
static const char *make_header(apr_pool_t *p, gk_sign_key_t *k)
{
    json_t *h = json_object();
    apr_size_t len = 0;
    char *text;

    if (!h) {
        return "out of memory";
    }
    json_object_set_new_nocheck(h, "alg",
                                json_string(gk_alg_info(k->alg)->name));
    json_object_set_new_nocheck(h, "typ", json_string("at+jwt"));
    if (k->kid) {
        json_t *jk = json_string(k->kid);
        if (!jk) {
            json_decref(h);
            return "the kid is not valid UTF-8";
        }
        json_object_set_new_nocheck(h, "kid", jk);
    }
    if (!(text = dump_json(p, h, &len))) {
        return "cannot write the JWS header";
    }
    k->header = b64_pool(p, (const unsigned char *)text, len);
    k->header_len = strlen(k->header);
    return NULL;
}

/* Sign a fixed payload with k and verify it with k->verify: a key that
 * loads makes tokens the verifier accepts. */
static const char *self_test(apr_pool_t *p, gk_sign_key_t *k)
{
    static const char probe[] = "{\"sub\":\"gk-sign-self-test\"}";
    apr_array_header_t *set = apr_array_make(p, 1, sizeof(gk_key_t *));
    const apr_array_header_t *sets[1];
    gk_verified_t *v = NULL;
    const char *token, *err;
    gk_status_e st;

    if ((err = gk_sign_jwt(p, k, probe, sizeof(probe) - 1, &token))) {
        return apr_pstrcat(p, "the key cannot sign: ", err, NULL);
    }
    APR_ARRAY_PUSH(set, const gk_key_t *) = k->verify;
    sets[0] = set;
    st = gk_jwt_verify(token, strlen(token), sets, 1, &v);
    gk_verified_unref(v);
    if (st != GK_OK) {
        return apr_psprintf(p, "a token signed with the key does not "
                            "verify (%s)", gk_status_text(st));
    }
    return NULL;
}

static gk_sign_key_t *sign_key_new(apr_pool_t *p, gk_alg_e alg,
                                   const char *kid)
{
    gk_sign_key_t *k = apr_pcalloc(p, sizeof(*k));

    k->alg = alg;
    k->kid = kid ? apr_pstrdup(p, kid) : NULL;
    apr_pool_cleanup_register(p, k, sign_key_cleanup, apr_pool_cleanup_null);
    return k;
}

const char *gk_sign_key_from_secret(apr_pool_t *p, gk_alg_e alg,
                                    const unsigned char *secret,
                                    apr_size_t len, const char *kid,
                                    gk_sign_key_t **out)
{
    const gk_alg_info_t *ai = gk_alg_info(alg);
    gk_key_t *vk = NULL;
    gk_sign_key_t *k;
    const char *err;

    if (!ai) {
        return "unknown algorithm";
    }
    /* the verifier's rules: HS* only, at least the hash length */
    if ((err = gk_key_from_secret(p, alg, secret, len, kid, &vk))) {
        return err;
    }
    k = sign_key_new(p, alg, kid);
    k->verify = vk;
    k->sig_len = ai->hash_len;
    if ((err = make_header(p, k)) || (err = self_test(p, k))) {
        return err;
    }
    *out = k;
    return NULL;
}

/* The first PEM block whose label ends in "PRIVATE KEY", NUL-terminated in
 * p; NULL when there is none. */
static char *private_block(apr_pool_t *p, const char *pem)
{
    const char *s = pem, *begin, *end;

    while ((begin = strstr(s, "-----BEGIN "))) {
        const char *eol = strstr(begin + 11, "-----");
        if (!eol) {
            return NULL;
        }
        if (eol - begin >= 11 + 11
            && !memcmp(eol - 11, "PRIVATE KEY", 11)) {
            end = strstr(eol + 5, "-----END ");
            if (!end || !(end = strstr(end + 9, "-----"))) {
                return NULL;
            }
            return apr_pstrmemdup(p, begin, (apr_size_t)(end + 5 - begin));
        }
        s = eol + 5;
    }
    return NULL;
}

/* A key around an asymmetric verification key vk: its EVP_PKEY shared,
 * its public JWK members, and kid (given, else the RFC 7638 thumbprint,
 * which vk takes too). */
static const char *adopt_public(apr_pool_t *p, gk_alg_e alg, const char *kid,
                                gk_key_t *vk, gk_sign_key_t **out)
{
    gk_sign_key_t *k = sign_key_new(p, alg, kid);
    jwk_members_t m;
    const char *err;

    if (!EVP_PKEY_up_ref(vk->pkey)) {
        return "out of memory";
    }
    k->pkey = vk->pkey;
    k->verify = vk;
    if ((err = jwk_members(p, k->pkey, &m))) {
        return err;
    }
    k->n = m.n;
    k->e = m.e;
    k->crv = m.crv;
    k->x = m.x;
    k->y = m.y;
    if (!k->kid) {
        if (!(k->kid = thumbprint_of(p, &m))) {
            return "SHA-256 failed in OpenSSL";
        }
        vk->kid = k->kid;
    }
    *out = k;
    return NULL;
}

const char *gk_sign_key_from_pem(apr_pool_t *p, gk_alg_e alg,
                                 const char *pem, apr_size_t len,
                                 const char *kid, gk_sign_key_t **out)
{
    const gk_alg_info_t *ai = gk_alg_info(alg);
    char *text, *block;
    gk_key_t *vk = NULL;
    gk_sign_key_t *k;
    const char *err;

    if (!ai) {
        return "unknown algorithm";
    }
    if (ai->kind == GK_KIND_HMAC) {
        return apr_psprintf(p, "%s takes a secret, not a PEM key; use "
                            "file:PATH or env:VAR", ai->name);
    }
    text = apr_pstrmemdup(p, pem, len);
    block = private_block(p, text);
    if (!block) {
        err = strstr(text, "-----BEGIN CERTIFICATE-----")
                  ? "the PEM holds a certificate, not a private key: "
                    "signing needs the private key"
              : strstr(text, "PUBLIC KEY-----")
                  ? "the PEM holds a public key, not a private key: "
                    "signing needs the private key"
                  : "no PEM private key could be read";
        OPENSSL_cleanse(text, len);
        return err;
    }
    OPENSSL_cleanse(text, len);
    if (strstr(block, "-----BEGIN ENCRYPTED PRIVATE KEY-----")
        || strstr(block, "Proc-Type: 4,ENCRYPTED")) {
        OPENSSL_cleanse(block, strlen(block));
        return "the private key is encrypted; encrypted keys are not "
               "supported (no passphrase is asked for): store it "
               "unencrypted (openssl pkey -in KEY -out PLAIN) in a file "
               "only the server can read";
    }
    /* The verifier's rules for type, size and curve; the PEM's private
     * key (PEM_read_bio_PrivateKey, no passphrase callback that succeeds)
     * becomes the verification key too. */
    err = gk_key_from_pem(p, alg, block, strlen(block), kid, &vk);
    OPENSSL_cleanse(block, strlen(block));
    if (err) {
        ERR_clear_error();
        if (!vk && !strncmp(err, "no PEM", 6)) {
            return "the PEM private key could not be read (PKCS#8 or the "
                   "traditional RSA and EC forms are read; convert others, "
                   "e.g. with openssl pkey)";
        }
        return err;
    }
    if ((err = adopt_public(p, alg, kid, vk, &k))) {
        return err;
    }
    k->der_max = (apr_size_t)EVP_PKEY_get_size(k->pkey);
    switch (ai->kind) {
    case GK_KIND_EC:
        k->sig_len = 2 * (apr_size_t)ai->field_len;
        break;
    case GK_KIND_EDDSA:
        k->sig_len = 64;
        break;
    default:
        k->sig_len = k->der_max;
    }
    if (ai->digest) {
        k->md = EVP_MD_fetch(NULL, ai->digest, NULL);
        if (!k->md) {
            return apr_psprintf(p, "digest %s is not available", ai->digest);
        }
        k->sctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
        if (!k->sctx || EVP_PKEY_sign_init(k->sctx) <= 0
            || EVP_PKEY_CTX_set_signature_md(k->sctx, k->md) <= 0
            || (ai->kind == GK_KIND_RSA
                && EVP_PKEY_CTX_set_rsa_padding(k->sctx, RSA_PKCS1_PADDING)
                       <= 0)
            || (ai->kind == GK_KIND_PSS
                && (EVP_PKEY_CTX_set_rsa_padding(k->sctx,
                                                 RSA_PKCS1_PSS_PADDING) <= 0
                    || EVP_PKEY_CTX_set_rsa_pss_saltlen(
                           k->sctx, RSA_PSS_SALTLEN_DIGEST) <= 0
                    || EVP_PKEY_CTX_set_rsa_mgf1_md(k->sctx, k->md) <= 0))) {
            return apr_psprintf(p, "OpenSSL cannot sign %s with this key",
                                ai->name);
        }
    }
    if ((err = make_header(p, k)) || (err = self_test(p, k))) {
        return err;
    }
    *out = k;
    return NULL;
}

const char *gk_sign_key_load(apr_pool_t *p, gk_alg_e alg, const char *source,
                             const char *kid, gk_sign_key_t **out)
{
    const gk_alg_info_t *ai = gk_alg_info(alg);
    int is_secret = ai && ai->kind == GK_KIND_HMAC;
    char *data;
    apr_size_t len, n;
    const char *err;

    if ((err = gk_key_source_read(p, alg, source, "a PEM private key",
                                  &data, &len))) {
        return err;
    }
    n = len;
    if (!is_secret) {
        err = gk_sign_key_from_pem(p, alg, data, len, kid, out);
    }
    else {
        /* the raw bytes, less one line ending that editors add */
        if (len && data[len - 1] == '\n') {
            len--;
            if (len && data[len - 1] == '\r') {
                len--;
            }
        }
        err = gk_sign_key_from_secret(p, alg, (unsigned char *)data, len,
                                      kid, out);
    }
    OPENSSL_cleanse(data, n);
    return err;
}

const char *gk_sign_key_publish_only(apr_pool_t *p, gk_alg_e alg,
                                     const char *source, const char *kid,
                                     gk_sign_key_t **out)
{
    const gk_alg_info_t *ai = gk_alg_info(alg);
    gk_key_t *vk = NULL;
    gk_sign_key_t *k;
    const char *err;

    if (!ai) {
        return "unknown algorithm";
    }
    if (ai->kind == GK_KIND_HMAC) {
        return apr_psprintf(p, "%s is a shared secret: it is never "
                            "published", ai->name);
    }
    /* the verifier's loader: a public key, a certificate or a private key
     * (its public half), with the verifier's rules */
    if ((err = gk_key_load(p, alg, source, kid, &vk))) {
        return err;
    }
    if ((err = adopt_public(p, alg, kid, vk, &k))) {
        return err;
    }
    k->publish_only = 1;
    *out = k;
    return NULL;
}

/* ---- signing ------------------------------------------------------------- */

static int sign_hmac(const gk_key_t *vk, const unsigned char *in,
                     size_t inlen, unsigned char *mac, size_t *maclen)
{
    unsigned char inner[EVP_MAX_MD_SIZE];
    unsigned int ilen = 0, mlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok;

    ok = ctx && EVP_MD_CTX_copy_ex(ctx, vk->hmac_inner)
         && EVP_DigestUpdate(ctx, in, inlen)
         && EVP_DigestFinal_ex(ctx, inner, &ilen)
         && EVP_MD_CTX_copy_ex(ctx, vk->hmac_outer)
         && EVP_DigestUpdate(ctx, inner, ilen)
         && EVP_DigestFinal_ex(ctx, mac, &mlen);
    EVP_MD_CTX_free(ctx);
    OPENSSL_cleanse(inner, sizeof(inner));
    *maclen = mlen;
    return ok;
}

/* DER ECDSA-Sig-Value -> R || S, flen bytes each. */
static int ec_der_to_jose(const unsigned char *der, size_t derlen,
                          unsigned flen, unsigned char *out)
{
    const unsigned char *q = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)derlen);
    int ok = es && q == der + derlen
             && BN_bn2binpad(ECDSA_SIG_get0_r(es), out, (int)flen)
                    == (int)flen
             && BN_bn2binpad(ECDSA_SIG_get0_s(es), out + flen, (int)flen)
                    == (int)flen;

    ECDSA_SIG_free(es);
    return ok;
}

static int sign_pkey(const gk_sign_key_t *k, const unsigned char *in,
                     size_t inlen, unsigned char *sig, size_t *siglen)
{
    const gk_alg_info_t *ai = gk_alg_info(k->alg);
    unsigned char md[EVP_MAX_MD_SIZE], der[160];
    unsigned int mdlen = 0;
    size_t n;
    int ok = 0;

    if (k->sctx) {
        /* hash, then sign the digest with a copy of the context the key
         * set up at load: contexts are not shared between threads */
        EVP_PKEY_CTX *pctx;
        unsigned char *o = ai->kind == GK_KIND_EC ? der : sig;

        n = ai->kind == GK_KIND_EC ? sizeof(der) : k->sig_len;
        if (!EVP_Digest(in, inlen, md, &mdlen, k->md, NULL)
            || !(pctx = EVP_PKEY_CTX_dup(k->sctx))) {
            return 0;
        }
        ok = EVP_PKEY_sign(pctx, o, &n, md, mdlen) == 1;
        EVP_PKEY_CTX_free(pctx);
        if (!ok) {
            return 0;
        }
        if (ai->kind == GK_KIND_EC) {
            ok = ec_der_to_jose(der, n, ai->field_len, sig);
            n = 2 * (size_t)ai->field_len;
        }
        else {
            ok = n == k->sig_len;
        }
        *siglen = n;
        return ok;
    }
    /* EdDSA signs the message itself, in one shot, with no digest */
    {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        n = k->sig_len;
        ok = ctx
             && EVP_DigestSignInit_ex(ctx, NULL, NULL, NULL, NULL, k->pkey,
                                      NULL) == 1
             && EVP_DigestSign(ctx, sig, &n, in, inlen) == 1
             && n == k->sig_len;
        EVP_MD_CTX_free(ctx);
        *siglen = n;
        return ok;
    }
}

/* The JWS signature of in, k->sig_len bytes at sig. */
static int sign_bytes(const gk_sign_key_t *k, const unsigned char *in,
                      size_t inlen, unsigned char *sig, size_t *siglen)
{
    int ok = k->pkey ? sign_pkey(k, in, inlen, sig, siglen)
                     : sign_hmac(k->verify, in, inlen, sig, siglen);

    if (!ok || *siglen != k->sig_len) {
        OPENSSL_cleanse(sig, k->sig_len);
        return 0;
    }
    return 1;
}

const char *gk_sign_input(apr_pool_t *p, const gk_sign_key_t *k,
                          const char *input, apr_size_t len,
                          const char **sig_b64)
{
    unsigned char sigbuf[1024], *sig = sigbuf;
    size_t siglen = 0;

    if (!k || !input) {
        return "nothing to sign";
    }
    if (k->publish_only) {
        return "a publish-only key never signs";
    }
    if (k->sig_len > sizeof(sigbuf)) {
        sig = apr_palloc(p, k->sig_len);
    }
    if (!sign_bytes(k, (const unsigned char *)input, len, sig, &siglen)) {
        ERR_clear_error();
        return apr_psprintf(p, "%s signing failed in OpenSSL",
                            gk_alg_info(k->alg)->name);
    }
    *sig_b64 = b64_pool(p, sig, siglen);
    if (!k->pkey) {
        OPENSSL_cleanse(sig, siglen);
    }
    return NULL;
}

const char *gk_sign_jwt(apr_pool_t *p, const gk_sign_key_t *k,
                        const char *payload_json, apr_size_t len,
                        const char **token)
{
    unsigned char sigbuf[1024], *sig = sigbuf;
    apr_size_t total, inlen;
    size_t siglen = 0;
    char *buf, *o;

    if (!k || !payload_json || !len) {
        return "nothing to sign";
    }
    if (k->publish_only) {
        return "a publish-only key never signs";
    }
    inlen = k->header_len + 1 + b64_len(len);
    total = inlen + 1 + b64_len(k->sig_len);
    if (len > GK_TOKEN_MAX_LEN || total > GK_TOKEN_MAX_LEN) {
        return apr_psprintf(p, "the token would be longer than %d bytes, "
                            "the most a verifier here accepts",
                            GK_TOKEN_MAX_LEN);
    }
    if (k->sig_len > sizeof(sigbuf)) {
        sig = apr_palloc(p, k->sig_len);
    }
    buf = apr_palloc(p, total + 1);
    memcpy(buf, k->header, k->header_len);
    o = buf + k->header_len;
    *o++ = '.';
    o = b64_put(o, (const unsigned char *)payload_json, len);
    if (!sign_bytes(k, (unsigned char *)buf, inlen, sig, &siglen)) {
        ERR_clear_error();
        return apr_psprintf(p, "%s signing failed in OpenSSL",
                            gk_alg_info(k->alg)->name);
    }
    *o++ = '.';
    o = b64_put(o, sig, siglen);
    *o = '\0';
    if (!k->pkey) {
        OPENSSL_cleanse(sig, siglen);
    }
    *token = buf;
    return NULL;
}

/* ---- claims ---------------------------------------------------------------- */

const char *gk_sign_jti(apr_pool_t *p, char out[GK_JTI_LEN + 1])
{
    unsigned char raw[16];

    if (gk_rand_bytes(raw, sizeof(raw)) != APR_SUCCESS) {
        out[0] = '\0';
        return "the random source failed";
    }
    *b64_put(out, raw, sizeof(raw)) = '\0';
    return NULL;
}

/* The claim names written by gk_sign_claims itself. */
static int reserved_claim(const char *name)
{
    static const char *const names[] = {"iss", "sub", "aud", "iat", "nbf",
                                        "exp", "jti", "scope"};
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (!strcmp(name, names[i])) {
            return 1;
        }
    }
    return 0;
}

/* o[name] = s, refusing what is not UTF-8; 0 when refused. */
static int put_str(json_t *o, const char *name, const char *s)
{
    json_t *v = json_string(s);

    return v && json_object_set_new(o, name, v) == 0;
}

static int put_int(json_t *o, const char *name, apr_int64_t i)
{
    json_t *v = json_integer((json_int_t)i);

    return v && json_object_set_new_nocheck(o, name, v) == 0;
}

static const char *put_list(apr_pool_t *p, json_t *o, const char *name,
                            const apr_array_header_t *list)
{
    json_t *a = json_array();
    int i;

    if (!a || json_object_set_new(o, name, a)) {
        return apr_psprintf(p, "cannot write claim \"%s\"", name);
    }
    for (i = 0; list && i < list->nelts; i++) {
        const char *s = APR_ARRAY_IDX(list, i, const char *);
        json_t *v = s ? json_string(s) : NULL;
        if (!v || json_array_append_new(a, v)) {
            return apr_psprintf(p, "an element of claim \"%s\" is missing "
                                "or not valid UTF-8", name);
        }
    }
    return NULL;
}

static const char *claims_check(apr_pool_t *p, const gk_sign_claims_t *c)
{
    if (!c->sub || !*c->sub) {
        return "a token needs a subject (sub)";
    }
    if (c->exp <= c->iat || c->exp <= c->nbf) {
        return "exp must be after iat and nbf";
    }
    if (c->scope) {
        if (!*c->scope) {
            return "an empty scope (the caller answers invalid_scope)";
        }
        if (c->roles_claim || c->permissions_claim) {
            return "a token carries a scope or roles and permissions, not "
                   "both";
        }
        return NULL;
    }
    if (c->roles_claim && (!*c->roles_claim || reserved_claim(c->roles_claim))) {
        return apr_psprintf(p, "\"%s\" cannot name the roles claim",
                            c->roles_claim);
    }
    if (c->permissions_claim
        && (!*c->permissions_claim || reserved_claim(c->permissions_claim))) {
        return apr_psprintf(p, "\"%s\" cannot name the permissions claim",
                            c->permissions_claim);
    }
    if (c->roles_claim && c->permissions_claim
        && !strcmp(c->roles_claim, c->permissions_claim)) {
        return "the roles and permissions claims need different names";
    }
    return NULL;
}

const char *gk_sign_claims(apr_pool_t *p, const gk_sign_claims_t *c,
                           const char **json, apr_size_t *len)
{
    char jti[GK_JTI_LEN + 1];
    const char *err;
    json_t *o;
    char *text;

    if ((err = claims_check(p, c))) {
        return err;
    }
    if (!c->jti && (err = gk_sign_jti(p, jti))) {
        return err;
    }
    if (!(o = json_object())) {
        return "out of memory";
    }
    /* jansson keeps insertion order and escapes '"', '\\' and controls;
     * json_string refuses invalid UTF-8 rather than repairing it (two
     * different names must never become the same subject) */
    if ((c->iss && !put_str(o, "iss", c->iss))
        || !put_str(o, "sub", c->sub)
        || (c->aud && !put_str(o, "aud", c->aud))) {
        err = "iss, sub or aud is not valid UTF-8";
    }
    else if (!put_int(o, "iat", c->iat) || !put_int(o, "nbf", c->nbf)
             || !put_int(o, "exp", c->exp)
             || !put_str(o, "jti", c->jti ? c->jti : jti)) {
        err = "cannot write iat, nbf, exp or jti";
    }
    else if (c->scope) {
        if (!put_str(o, "scope", c->scope)) {
            err = "the scope is not valid UTF-8";
        }
    }
    else if ((c->roles_claim
              && (err = put_list(p, o, c->roles_claim, c->roles)))
             || (c->permissions_claim
                 && (err = put_list(p, o, c->permissions_claim,
                                    c->permissions)))) {
        /* err set */
    }
    if (err) {
        json_decref(o);
        return err;
    }
    if (!(text = dump_json(p, o, len))) {
        return "cannot write the claims";
    }
    *json = text;
    return NULL;
}

/* ---- publishing ------------------------------------------------------------ */

const char *gk_jwk_public(apr_pool_t *p, const gk_sign_key_t *k,
                          json_t **out)
{
    json_t *o;
    int bad = 0;

    *out = NULL;
    if (!k) {
        return "no key";
    }
    if (!k->pkey) {
        return NULL; /* HMAC: never published */
    }
    if (!(o = json_object())) {
        return "out of memory";
    }
    bad |= !put_str(o, "kty", gk_alg_kty(k->alg));
    if (k->kid) {
        bad |= !put_str(o, "kid", k->kid);
    }
    bad |= !put_str(o, "use", "sig");
    bad |= !put_str(o, "alg", gk_alg_info(k->alg)->name);
    if (k->n) {
        bad |= !put_str(o, "n", k->n) || !put_str(o, "e", k->e);
    }
    else {
        bad |= !put_str(o, "crv", k->crv) || !put_str(o, "x", k->x);
        if (k->y) {
            bad |= !put_str(o, "y", k->y);
        }
    }
    if (bad) {
        json_decref(o);
        return "cannot write the JWK";
    }
    *out = o;
    return NULL;
}

const char *gk_jwks_document(apr_pool_t *p, gk_sign_key_t *const *keys,
                             int n, const char **json)
{
    json_t *root = json_object(), *arr = json_array(), *jwk;
    const char *err = NULL;
    apr_size_t len;
    char *text;
    int i;

    if (!root || !arr || json_object_set_new_nocheck(root, "keys", arr)) {
        json_decref(root);
        return "out of memory";
    }
    for (i = 0; i < n && !err; i++) {
        if ((err = gk_jwk_public(p, keys[i], &jwk)) == NULL && jwk
            && json_array_append_new(arr, jwk)) {
            err = "out of memory";
        }
    }
    if (err) {
        json_decref(root);
        return err;
    }
    if (!(text = dump_json(p, root, &len))) {
        return "cannot write the JWK Set";
    }
    *json = text;
    return NULL;
}
