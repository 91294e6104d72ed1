/*
 * Micro-benchmark (issue 13): making a whole access token with common/
 * (claims JSON with jansson, a fresh jti from gk_rand, base64url, the
 * signature: gk_sign_claims + gk_sign_jwt) against OpenSSL's
 * EVP_DigestSignInit + EVP_DigestSign alone with the same parsed key over
 * an input of the same size, side by side in one program, rounds
 * interleaved.
 *
 *   make bench-sign          (builds build/bench/sign_bench and runs it)
 *   build/bench/sign_bench [SCALE]   SCALE multiplies the iterations
 *
 * Prints, per algorithm, the median time of each, the median of the
 * per-round ratios, and the share of the whole token that is not the
 * signature. The target: at most 1.3 for RS256 and ES256 (HS256 is
 * reported only: there the signature is a few hundred nanoseconds and
 * the JSON dominates).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apr_general.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "gk_sign.h"

#define ROUNDS 9

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v)
{
    qsort(v, ROUNDS, sizeof(double), cmp_double);
    return v[ROUNDS / 2];
}

typedef struct {
    const char *name;
    gk_alg_e alg;
    const char *type, *curve;
    int iters;
} bench_alg_t;

static const char secret[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEF";

static gk_sign_key_t *make_key(apr_pool_t *p, const bench_alg_t *ba,
                               EVP_PKEY **ref)
{
    gk_sign_key_t *k = NULL;
    const char *err;

    if (!ba->type) {
        err = gk_sign_key_from_secret(p, ba->alg,
                                      (const unsigned char *)secret, 32, NULL,
                                      &k);
        /* the reference signs with an HMAC EVP_PKEY of the same secret */
        *ref = EVP_PKEY_new_raw_private_key(EVP_PKEY_HMAC, NULL,
                                            (const unsigned char *)secret,
                                            32);
    }
    else {
        EVP_PKEY *priv = ba->curve
                             ? EVP_PKEY_Q_keygen(NULL, NULL, ba->type,
                                                 ba->curve)
                             : EVP_PKEY_Q_keygen(NULL, NULL, ba->type,
                                                 (size_t)2048);
        BIO *bio = BIO_new(BIO_s_mem());
        char *pem;
        long n;

        PEM_write_bio_PrivateKey(bio, priv, NULL, NULL, 0, NULL, NULL);
        n = BIO_get_mem_data(bio, &pem);
        err = gk_sign_key_from_pem(p, ba->alg, pem, (apr_size_t)n, NULL, &k);
        BIO_free(bio);
        EVP_PKEY_free(priv);
        /* "the same parsed key": the one the signer holds */
        if (k) {
            EVP_PKEY_up_ref(k->pkey);
            *ref = k->pkey;
        }
    }
    if (err) {
        fprintf(stderr, "%s: %s\n", ba->name, err);
        exit(1);
    }
    return k;
}

int main(int argc, char **argv)
{
    static const bench_alg_t algs[] = {
        {"RS256", GK_RS256, "RSA", NULL, 400},
        {"ES256", GK_ES256, "EC", "P-256", 4000},
        {"HS256", GK_HS256, NULL, NULL, 40000},
    };
    double scale = argc > 1 ? atof(argv[1]) : 1.0;
    apr_pool_t *p, *rp;
    size_t a;

    apr_initialize();
    apr_pool_create(&p, NULL);
    apr_pool_create(&rp, p);
    printf("%-6s %6s %8s %12s %12s %8s %10s\n", "alg", "input", "iters",
           "EVP us/op", "token us/op", "ratio", "overhead");
    for (a = 0; a < sizeof(algs) / sizeof(algs[0]); a++) {
        const bench_alg_t *ba = &algs[a];
        int iters = (int)(ba->iters * scale), r, i;
        EVP_PKEY *ref = NULL;
        gk_sign_key_t *k = make_key(p, ba, &ref);
        gk_sign_claims_t c;
        apr_array_header_t *roles = apr_array_make(p, 2, sizeof(char *));
        apr_array_header_t *perms = apr_array_make(p, 2, sizeof(char *));
        const char *json, *tok, *last;
        apr_size_t len, inlen;
        unsigned char *input, sig[1024];
        EVP_MD_CTX *mctx = EVP_MD_CTX_new();
        double t_evp[ROUNDS], t_tok[ROUNDS], ratio[ROUNDS], m_evp, m_tok;
        double t_floor[ROUNDS], t_claims[ROUNDS];
        EVP_PKEY_CTX *floor_ctx = NULL;
        const EVP_MD *sha256 = EVP_sha256();

        if (iters < 1) {
            iters = 1;
        }
        APR_ARRAY_PUSH(roles, const char *) = "admin";
        APR_ARRAY_PUSH(roles, const char *) = "user";
        APR_ARRAY_PUSH(perms, const char *) = "users:read";
        APR_ARRAY_PUSH(perms, const char *) = "users:write";
        memset(&c, 0, sizeof(c));
        c.iss = "https://issuer.example";
        c.sub = "alice";
        c.aud = "api";
        c.iat = c.nbf = 1700000000;
        c.exp = c.iat + 900;
        c.roles_claim = "roles";
        c.roles = roles;
        c.permissions_claim = "permissions";
        c.permissions = perms;

        /* an input of the same size as the token's signing input */
        if (gk_sign_claims(p, &c, &json, &len)
            || gk_sign_jwt(p, k, json, len, &tok)) {
            fprintf(stderr, "%s: signing failed\n", ba->name);
            return 1;
        }
        last = strrchr(tok, '.');
        inlen = (apr_size_t)(last - tok);
        input = (unsigned char *)apr_pstrmemdup(p, tok, inlen);

        /* the floor: hash + EVP_PKEY_sign on a context prepared once (what
         * gk_sign_jwt duplicates per call); none for HMAC */
        if (k->sctx) {
            floor_ctx = EVP_PKEY_CTX_dup(k->sctx);
        }
        for (r = 0; r < ROUNDS; r++) {
            double t0 = now_us(), t1, t2, t3, t4;
            for (i = 0; i < iters; i++) {
                size_t siglen = sizeof(sig);
                EVP_MD_CTX_reset(mctx);
                if (EVP_DigestSignInit_ex(mctx, NULL, "SHA256", NULL, NULL,
                                          ref, NULL) != 1
                    || EVP_DigestSign(mctx, sig, &siglen, input, inlen)
                           != 1) {
                    fprintf(stderr, "reference sign failed\n");
                    return 1;
                }
            }
            t1 = now_us();
            for (i = 0; i < iters; i++) {
                apr_pool_clear(rp);
                if (gk_sign_claims(rp, &c, &json, &len)
                    || gk_sign_jwt(rp, k, json, len, &tok)) {
                    fprintf(stderr, "token failed\n");
                    return 1;
                }
            }
            t2 = now_us();
            for (i = 0; floor_ctx && i < iters; i++) {
                unsigned char md[32];
                unsigned int mdlen = 0;
                size_t siglen = sizeof(sig);
                if (!EVP_Digest(input, inlen, md, &mdlen, sha256, NULL)
                    || EVP_PKEY_sign(floor_ctx, sig, &siglen, md, mdlen)
                           != 1) {
                    fprintf(stderr, "floor sign failed\n");
                    return 1;
                }
            }
            t3 = now_us();
            for (i = 0; i < iters; i++) {
                apr_pool_clear(rp);
                if (gk_sign_claims(rp, &c, &json, &len)) {
                    return 1;
                }
            }
            t4 = now_us();
            t_floor[r] = (t3 - t2) / iters;
            t_claims[r] = (t4 - t3) / iters;
            t_evp[r] = (t1 - t0) / iters;
            t_tok[r] = (t2 - t1) / iters;
            ratio[r] = t_tok[r] / t_evp[r];
        }
        m_evp = median(t_evp);
        m_tok = median(t_tok);
        printf("%-6s %6u %8d %12.2f %12.2f %8.3f %9.2fus\n", ba->name,
               (unsigned)inlen, iters, m_evp, m_tok, median(ratio),
               m_tok - m_evp);
        if (floor_ctx) {
            double m_floor = median(t_floor);
            printf("       floor (digest + EVP_PKEY_sign, prepared ctx) "
                   "%.2f us: token/floor %.3f\n", m_floor, m_tok / m_floor);
        }
        printf("       of the token: claims JSON + jti %.2f us\n",
               median(t_claims));
        EVP_PKEY_CTX_free(floor_ctx);
        EVP_MD_CTX_free(mctx);
        EVP_PKEY_free(ref);
    }
    printf("input: bytes signed; ratio: median of the rounds' whole token / "
           "EVP_DigestSign (target <= 1.3 for RS256, ES256)\n");
    apr_pool_destroy(p);
    apr_terminate();
    return 0;
}
