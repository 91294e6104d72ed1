#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_atomic.h>

#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>

#include "gk_b64url.h"
#include "gk_jwt.h"
#include "gk_reason.h"

const char *gk_status_text(gk_status_e st)
{
    /* the texts live with the reason vocabulary, defined once */
    return gk_reason_text(gk_reason_of_status(st));
}

void gk_verified_ref(gk_verified_t *v)
{
    apr_atomic_inc32(&v->refs);
}

void *gk_verified_memo_set(gk_verified_t *v, int slot, void *memo,
                           void (*free_fn)(void *))
{
    void *prev;

    /* the same function for a slot from every thread: written before the
     * memo is published */
    v->memo_free[slot] = free_fn;
    prev = apr_atomic_casptr((volatile void **)&v->memo[slot], memo, NULL);
    if (prev) {
        free_fn(memo);
        return prev;
    }
    return memo;
}

void gk_verified_unref(gk_verified_t *v)
{
    if (v && !apr_atomic_dec32(&v->refs)) {
        int i;
        for (i = 0; i < GK_VERIFIED_MEMOS; i++) {
            if (v->memo[i]) {
                v->memo_free[i](v->memo[i]);
            }
        }
        json_decref(v->payload);
        free(v->token); /* payload_text shares v's allocation */
        free(v);
    }
}

/* ---- signatures ---------------------------------------------------------- */

static int verify_hmac(const gk_key_t *k, const unsigned char *in,
                       size_t inlen, const unsigned char *sig, size_t siglen)
{
    unsigned char inner[EVP_MAX_MD_SIZE], mac[EVP_MAX_MD_SIZE];
    unsigned int ilen = 0, maclen = 0;
    EVP_MD_CTX *ctx;
    int ok;

    if (siglen != gk_alg_info(k->alg)->hash_len) {
        return 0;
    }
    ctx = EVP_MD_CTX_new();
    ok = ctx && EVP_MD_CTX_copy_ex(ctx, k->hmac_inner)
         && EVP_DigestUpdate(ctx, in, inlen)
         && EVP_DigestFinal_ex(ctx, inner, &ilen)
         && EVP_MD_CTX_copy_ex(ctx, k->hmac_outer)
         && EVP_DigestUpdate(ctx, inner, ilen)
         && EVP_DigestFinal_ex(ctx, mac, &maclen) && maclen == siglen
         && CRYPTO_memcmp(mac, sig, siglen) == 0;
    EVP_MD_CTX_free(ctx);
    OPENSSL_cleanse(inner, sizeof(inner));
    OPENSSL_cleanse(mac, sizeof(mac));
    return ok;
}

/* JWS carries ECDSA signatures as R || S; OpenSSL wants DER. */
static int ec_sig_to_der(const unsigned char *sig, size_t siglen,
                         unsigned flen, unsigned char *der, size_t *derlen)
{
    ECDSA_SIG *es;
    BIGNUM *r, *s;
    unsigned char *o = der;
    int n;

    if (siglen != 2 * (size_t)flen) {
        return 0;
    }
    es = ECDSA_SIG_new();
    r = BN_bin2bn(sig, (int)flen, NULL);
    s = BN_bin2bn(sig + flen, (int)flen, NULL);
    if (!es || !r || !s || !ECDSA_SIG_set0(es, r, s)) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(es);
        return 0;
    }
    n = i2d_ECDSA_SIG(es, &o);
    ECDSA_SIG_free(es);
    if (n <= 0) {
        return 0;
    }
    *derlen = (size_t)n;
    return 1;
}

/*
 * Each thread keeps a copy of the verifying context of the last public key
 * it used, so that tokens signed by one key cost no context set-up
 * (EVP_PKEY_verify may be called again on a context). A key is recognised
 * by its serial number. The copy holds its own reference to the key, so it
 * stays valid after a JWKS reload frees the key; it is freed when the
 * thread moves to another key or exits.
 */
typedef struct {
    apr_uint64_t serial;        /* 0: none */
    EVP_PKEY_CTX *pctx;
} thread_verifier_t;

static __thread thread_verifier_t thread_verifier;
static pthread_key_t verifier_key;
static pthread_once_t verifier_once = PTHREAD_ONCE_INIT;
static int verifier_key_ok;

static void verifier_free(void *data)
{
    thread_verifier_t *t = data;

    EVP_PKEY_CTX_free(t->pctx);
    t->pctx = NULL;
    t->serial = 0;
}

static void verifier_init(void)
{
    verifier_key_ok = !pthread_key_create(&verifier_key, verifier_free);
}

/* This thread's verifying context for k, or NULL when out of memory. */
static EVP_PKEY_CTX *thread_verifier_for(const gk_key_t *k)
{
    thread_verifier_t *t = &thread_verifier;

    if (t->serial == k->serial) {
        return t->pctx;
    }
    if (!t->pctx) {
        /* freed at thread exit; without a thread key (none left in the
         * process), it lives as long as the thread */
        pthread_once(&verifier_once, verifier_init);
        if (verifier_key_ok) {
            pthread_setspecific(verifier_key, t);
        }
    }
    EVP_PKEY_CTX_free(t->pctx);
    t->serial = 0;
    if (!(t->pctx = EVP_PKEY_CTX_dup(k->vctx))) {
        return NULL;
    }
    t->serial = k->serial;
    return t->pctx;
}

static int verify_pkey(const gk_key_t *k, const unsigned char *in,
                       size_t inlen, const unsigned char *sig, size_t siglen)
{
    const gk_alg_info_t *ai = gk_alg_info(k->alg);
    unsigned char der[160], md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_PKEY_CTX *pctx;
    EVP_MD_CTX *ctx;
    int ok = 0;

    if (ai->kind == GK_KIND_EC) {
        if (!ec_sig_to_der(sig, siglen, ai->field_len, der, &siglen)) {
            return 0;
        }
        sig = der;
    }
    else if ((ai->kind == GK_KIND_RSA || ai->kind == GK_KIND_PSS)
             && siglen != (size_t)EVP_PKEY_get_size(k->pkey)) {
        return 0; /* RFC 8017: exactly the modulus length, no shortcuts */
    }
    if (k->vctx) {
        /* hash, then check the signature of the digest with this thread's
         * copy of the context the key set up at startup */
        return (pctx = thread_verifier_for(k))
               && EVP_Digest(in, inlen, md, &mdlen, k->md, NULL)
               && EVP_PKEY_verify(pctx, sig, siglen, md, mdlen) == 1;
    }
    /* EdDSA signs the message itself, in one shot */
    ctx = EVP_MD_CTX_new();
    if (ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k->pkey) == 1) {
        ok = EVP_DigestVerify(ctx, sig, siglen, in, inlen) == 1;
    }
    EVP_MD_CTX_free(ctx);
    return ok;
}

static int verify_with(const gk_key_t *k, const unsigned char *in,
                       size_t inlen, const unsigned char *sig, size_t siglen)
{
    return k->hmac_inner ? verify_hmac(k, in, inlen, sig, siglen)
                         : verify_pkey(k, in, inlen, sig, siglen);
}

/* ---- parsing ------------------------------------------------------------- */

static gk_typ_e classify_typ(const char *typ)
{
    if (!typ) {
        return GK_TYP_ABSENT;
    }
    if (!strcasecmp(typ, "JWT")) {
        return GK_TYP_JWT;
    }
    if (!strcasecmp(typ, "at+jwt") || !strcasecmp(typ, "application/at+jwt")) {
        return GK_TYP_AT_JWT;
    }
    return GK_TYP_OTHER;
}

/* A NumericDate (RFC 7519): any JSON number, clamped, rounded so that a
 * fraction never extends validity (exp down, nbf and iat up). */
static int numeric_date(json_t *v, int round_up, apr_int64_t *out)
{
    double d;

    if (json_is_integer(v)) {
        *out = (apr_int64_t)json_integer_value(v);
        return 1;
    }
    if (!json_is_real(v)) {
        return 0;
    }
    d = json_real_value(v);
    if (d != d) {
        return 0;
    }
    d = round_up ? ceil(d) : floor(d);
    if (d > 9.0e15) {
        d = 9.0e15;
    }
    else if (d < -9.0e15) {
        d = -9.0e15;
    }
    *out = (apr_int64_t)d;
    return 1;
}

static gk_status_e read_claims(gk_verified_t *v)
{
    json_t *p = v->payload, *c;
    size_t i;

    if ((c = json_object_get(p, "exp"))) {
        if (!numeric_date(c, 0, &v->exp)) {
            return GK_ERR_CLAIM_TYPE;
        }
        v->has_exp = 1;
    }
    if ((c = json_object_get(p, "nbf"))) {
        if (!numeric_date(c, 1, &v->nbf)) {
            return GK_ERR_CLAIM_TYPE;
        }
        v->has_nbf = 1;
    }
    if ((c = json_object_get(p, "iat"))) {
        if (!numeric_date(c, 1, &v->iat)) {
            return GK_ERR_CLAIM_TYPE;
        }
        v->has_iat = 1;
    }
    if ((c = json_object_get(p, "iss"))) {
        if (!json_is_string(c)) {
            return GK_ERR_CLAIM_TYPE;
        }
        v->iss = json_string_value(c);
    }
    if ((c = json_object_get(p, "aud"))) {
        json_t *a;
        if (json_is_array(c)) {
            json_array_foreach(c, i, a) {
                if (!json_is_string(a)) {
                    return GK_ERR_CLAIM_TYPE;
                }
            }
        }
        else if (!json_is_string(c)) {
            return GK_ERR_CLAIM_TYPE;
        }
        v->aud = c;
    }
    return GK_OK;
}

/* What the JOSE header says, once checked. */
#define GK_KID_MAX 256
typedef struct {
    gk_alg_e alg;
    gk_typ_e typ;
    int has_kid;
    char kid[GK_KID_MAX + 1];
} jose_header_t;

static gk_status_e parse_header(const char *seg, apr_size_t seglen,
                                jose_header_t *h)
{
    unsigned char buf[GK_B64URL_DECODED_MAX(GK_TOKEN_MAX_LEN) + 1];
    json_error_t jerr;
    json_t *header, *c;
    gk_status_e st = GK_OK;
    long hlen;

    hlen = gk_b64url_decode(buf, seg, seglen);
    if (hlen < 0) {
        return GK_ERR_MALFORMED;
    }
    /* jansson skips some NUL bytes: JSON text never contains one */
    if (memchr(buf, '\0', (size_t)hlen)) {
        return GK_ERR_HEADER;
    }
    header = json_loadb((const char *)buf, (size_t)hlen,
                        JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(header)) {
        json_decref(header);
        return GK_ERR_HEADER;
    }
    c = json_object_get(header, "alg");
    h->alg = json_is_string(c) ? gk_alg_from_name(json_string_value(c),
                                                  json_string_length(c))
                               : GK_ALG_UNKNOWN;
    h->typ = GK_TYP_ABSENT;
    h->has_kid = 0;
    if (h->alg == GK_ALG_UNKNOWN) {
        st = GK_ERR_ALG;
    }
    else if (json_object_get(header, "crit")) {
        st = GK_ERR_CRIT; /* we implement no extension */
    }
    else if ((c = json_object_get(header, "kid"))) {
        if (!json_is_string(c) || json_string_length(c) > GK_KID_MAX) {
            st = GK_ERR_HEADER;
        }
        else {
            memcpy(h->kid, json_string_value(c), json_string_length(c) + 1);
            h->has_kid = 1;
        }
    }
    if (st == GK_OK && (c = json_object_get(header, "typ"))) {
        if (!json_is_string(c)) {
            st = GK_ERR_HEADER;
        }
        else {
            h->typ = classify_typ(json_string_value(c));
        }
    }
    json_decref(header);
    return st;
}

/*
 * Tokens of one issuer share their header, so each thread remembers the
 * last header segment it parsed (the bytes, compared in full) and what it
 * said. Only headers that passed every check are remembered.
 */
#define HEADER_MEMO_MAX 256

static __thread struct {
    apr_size_t len;
    char seg[HEADER_MEMO_MAX];
    jose_header_t h;
} header_memo;

static gk_status_e read_header(const char *seg, apr_size_t seglen,
                               const jose_header_t **out)
{
    gk_status_e st;

    if (header_memo.len == seglen && !memcmp(header_memo.seg, seg, seglen)) {
        *out = &header_memo.h;
        return GK_OK;
    }
    header_memo.len = 0;
    st = parse_header(seg, seglen, &header_memo.h);
    if (st == GK_OK && seglen <= HEADER_MEMO_MAX) {
        memcpy(header_memo.seg, seg, seglen);
        header_memo.len = seglen;
    }
    *out = &header_memo.h;
    return st;
}

gk_status_e gk_jwt_verify(const char *token, apr_size_t len,
                          const apr_array_header_t *const *keysets,
                          int nkeysets, gk_verified_t **out)
{
    unsigned char buf[GK_B64URL_DECODED_MAX(GK_TOKEN_MAX_LEN) + 1];
    unsigned char sig[1024];
    const char *d1, *d2, *kid;
    const jose_header_t *hdr;
    json_error_t jerr;
    long plen, siglen;
    gk_alg_e alg;
    gk_verified_t *v;
    gk_status_e st;
    int i, j, tries = 0, verified = 0, candidates = 0;

    *out = NULL;
    if (len > GK_TOKEN_MAX_LEN) {
        return GK_ERR_TOO_LONG;
    }
    d1 = memchr(token, '.', len);
    d2 = d1 ? memchr(d1 + 1, '.', len - (apr_size_t)(d1 + 1 - token)) : NULL;
    if (!d2 || d1 == token || d2 == d1 + 1 || d2 + 1 == token + len
        || memchr(d2 + 1, '.', len - (apr_size_t)(d2 + 1 - token))) {
        return GK_ERR_MALFORMED;
    }
    if ((apr_size_t)(token + len - (d2 + 1)) > (sizeof(sig) / 3) * 4) {
        return GK_ERR_MALFORMED;
    }
    if ((st = read_header(token, (apr_size_t)(d1 - token), &hdr)) != GK_OK) {
        return st;
    }
    alg = hdr->alg;
    kid = hdr->has_kid ? hdr->kid : NULL;
    /* signature */
    siglen = gk_b64url_decode(sig, d2 + 1,
                              (apr_size_t)(token + len - (d2 + 1)));
    if (siglen <= 0) {
        return GK_ERR_MALFORMED;
    }
    for (i = 0; i < nkeysets && !verified; i++) {
        const apr_array_header_t *ks = keysets[i];
        for (j = 0; ks && j < ks->nelts && !verified; j++) {
            const gk_key_t *k = APR_ARRAY_IDX(ks, j, const gk_key_t *);
            if (k->alg != alg) {
                continue;
            }
            if (kid ? !(k->kid && !strcmp(k->kid, kid))
                    : tries >= GK_KIDLESS_TRIES) {
                continue;
            }
            candidates++;
            tries++;
            verified = verify_with(k, (const unsigned char *)token,
                                   (size_t)(d2 - token), sig, (size_t)siglen);
        }
    }
    v = NULL;
    if (!verified) {
        st = candidates ? GK_ERR_SIGNATURE : GK_ERR_NO_KEY;
    }
    else if ((plen = gk_b64url_decode(buf, d1 + 1,
                                      (apr_size_t)(d2 - d1 - 1))) < 0) {
        st = GK_ERR_MALFORMED;
    }
    else if (!(v = calloc(1, sizeof(*v) + (size_t)plen + 1))) {
        st = GK_ERR_INTERNAL;
    }
    else {
        char *text = (char *)(v + 1);

        v->refs = 1;
        v->alg = alg;
        v->typ = hdr->typ;
        v->payload = memchr(buf, '\0', (size_t)plen)
                         ? NULL
                         : json_loadb((const char *)buf, (size_t)plen,
                                      JSON_REJECT_DUPLICATES, &jerr);
        if (!json_is_object(v->payload)) {
            st = GK_ERR_PAYLOAD;
        }
        else {
            memcpy(text, buf, (size_t)plen);
            text[plen] = '\0';
            v->payload_text = text;
            v->payload_len = (apr_size_t)plen;
            st = read_claims(v);
        }
    }
    if (st != GK_OK) {
        gk_verified_unref(v);
        return st;
    }
    *out = v;
    return GK_OK;
}

gk_status_e gk_jwt_check_claims(const gk_verified_t *v,
                                const gk_claims_policy_t *pol,
                                apr_int64_t now)
{
    int i;

    if (v->has_exp) {
        if (now - pol->leeway >= v->exp) {
            return GK_ERR_EXPIRED;
        }
    }
    else if (pol->require_exp) {
        return GK_ERR_EXP_MISSING;
    }
    if (v->has_nbf && now + pol->leeway < v->nbf) {
        return GK_ERR_NOT_YET_VALID;
    }
    if (v->has_iat && v->iat > now + pol->leeway) {
        return GK_ERR_IAT_FUTURE;
    }
    if (v->typ == GK_TYP_OTHER
        || (pol->require_at_jwt && v->typ != GK_TYP_AT_JWT)) {
        return GK_ERR_TYPE;
    }
    if (pol->issuer && !(v->iss && !strcmp(v->iss, pol->issuer))) {
        return GK_ERR_ISSUER;
    }
    if (pol->audiences) {
        for (i = 0; i < pol->audiences->nelts; i++) {
            const char *want = APR_ARRAY_IDX(pol->audiences, i, const char *);
            json_t *a;
            size_t k;
            if (json_is_string(v->aud)) {
                if (!strcmp(json_string_value(v->aud), want)) {
                    return GK_OK;
                }
                continue;
            }
            json_array_foreach(v->aud, k, a) {
                if (!strcmp(json_string_value(a), want)) {
                    return GK_OK;
                }
            }
        }
        return GK_ERR_AUDIENCE;
    }
    return GK_OK;
}
