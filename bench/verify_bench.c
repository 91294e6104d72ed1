/*
 * Micro-benchmark: the whole verification of a token by common/ (split,
 * strict base64url, JSON with duplicate rejection, key selection, signature,
 * claims) against OpenSSL's EVP_DigestVerify alone with the same pre-parsed
 * key, measured side by side in one program, rounds interleaved.
 *
 *   make bench-verify        (builds build/bench/verify_bench and runs it)
 *
 * Prints, per algorithm, the median time of each and their ratio.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apr_general.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "gk_b64url.h"
#include "gk_jwt.h"
#include "gk_keys.h"

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

static EVP_PKEY *keygen(const char *type, const char *curve)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY *k = NULL;

    EVP_PKEY_keygen_init(ctx);
    if (!strcmp(type, "RSA")) {
        EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048);
    }
    if (curve) {
        EVP_PKEY_CTX_set_group_name(ctx, curve);
    }
    EVP_PKEY_keygen(ctx, &k);
    EVP_PKEY_CTX_free(ctx);
    return k;
}

typedef struct {
    const char *name;
    gk_alg_e alg;
    const char *type, *curve, *md;
    unsigned flen;
} bench_alg_t;

int main(int argc, char **argv)
{
    static const bench_alg_t algs[] = {
        {"RS256", GK_RS256, "RSA", NULL, "SHA256", 0},
        {"ES256", GK_ES256, "EC", "P-256", "SHA256", 32},
        {"PS256", GK_PS256, "RSA", NULL, "SHA256", 0},
        {"EdDSA", GK_EDDSA, "ED25519", NULL, NULL, 0},
    };
    int iters = argc > 1 ? atoi(argv[1]) : 2000;
    apr_pool_t *p;
    size_t a;

    apr_initialize();
    apr_pool_create(&p, NULL);
    printf("%-6s %12s %12s %8s\n", "alg", "EVP us/op", "gk us/op", "ratio");
    for (a = 0; a < sizeof(algs) / sizeof(algs[0]); a++) {
        const bench_alg_t *ba = &algs[a];
        EVP_PKEY *priv = keygen(ba->type, ba->curve);
        const EVP_MD *md = ba->md ? EVP_get_digestbyname(ba->md) : NULL;
        char hdr[128], *input, *token, *pem;
        const char *payload = "{\"sub\":\"alice\",\"iss\":\"https://issuer."
                              "example\",\"aud\":\"api\",\"roles\":[\"admin\","
                              "\"user\"],\"permissions\":[\"users:read\"],"
                              "\"iat\":1700000000,\"exp\":4000000000}";
        unsigned char sig[1024], der[1024];
        size_t siglen = sizeof(der), derlen;
        EVP_MD_CTX *mctx = EVP_MD_CTX_new();
        EVP_PKEY_CTX *pctx;
        BIO *bio = BIO_new(BIO_s_mem());
        gk_key_t *key;
        apr_array_header_t *keys = apr_array_make(p, 1, sizeof(gk_key_t *));
        const apr_array_header_t *sets[1] = {keys};
        gk_claims_policy_t pol = {60, 1, 0, "https://issuer.example", NULL};
        double t_evp[ROUNDS], t_gk[ROUNDS], ratio[ROUNDS];
        long pemlen;
        int r, i;

        snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\",\"typ\":\"JWT\"}",
                 ba->name);
        input = apr_pstrcat(
            p, gk_b64url_encode(p, (unsigned char *)hdr, strlen(hdr)), ".",
            gk_b64url_encode(p, (const unsigned char *)payload,
                             strlen(payload)),
            NULL);
        EVP_DigestSignInit(mctx, &pctx, md, NULL, priv);
        if (!strcmp(ba->name, "PS256")) {
            EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
            EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
        }
        EVP_DigestSign(mctx, der, &siglen, (unsigned char *)input,
                       strlen(input));
        derlen = siglen;
        if (ba->flen) { /* DER -> R||S for JWS */
            const unsigned char *d = der;
            ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &d, (long)derlen);
            BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, (int)ba->flen);
            BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + ba->flen, (int)ba->flen);
            siglen = 2 * ba->flen;
            ECDSA_SIG_free(es);
        }
        else {
            memcpy(sig, der, siglen);
        }
        token = apr_pstrcat(p, input, ".", gk_b64url_encode(p, sig, siglen),
                            NULL);
        PEM_write_bio_PUBKEY(bio, priv);
        pemlen = BIO_get_mem_data(bio, &pem);
        if (gk_key_from_pem(p, ba->alg, pem, (apr_size_t)pemlen, NULL, &key)) {
            fprintf(stderr, "key setup failed for %s\n", ba->name);
            return 1;
        }
        APR_ARRAY_PUSH(keys, gk_key_t *) = key;

        for (r = 0; r < ROUNDS; r++) {
            double t0 = now_us();
            for (i = 0; i < iters; i++) {
                /* the reference: one verification with a parsed key */
                EVP_PKEY_CTX *vctx = NULL;
                EVP_MD_CTX_reset(mctx);
                EVP_DigestVerifyInit(mctx, &vctx, md, NULL, key->pkey);
                if (!strcmp(ba->name, "PS256")) {
                    EVP_PKEY_CTX_set_rsa_padding(vctx, RSA_PKCS1_PSS_PADDING);
                    EVP_PKEY_CTX_set_rsa_pss_saltlen(vctx,
                                                     RSA_PSS_SALTLEN_DIGEST);
                }
                if (EVP_DigestVerify(mctx, der, derlen, (unsigned char *)input,
                                     strlen(input)) != 1) {
                    fprintf(stderr, "reference verify failed\n");
                    return 1;
                }
            }
            double t1 = now_us();
            for (i = 0; i < iters; i++) {
                gk_verified_t *v;
                if (gk_jwt_verify(token, strlen(token), sets, 1, &v) != GK_OK
                    || gk_jwt_check_claims(v, &pol, 1700000100) != GK_OK) {
                    fprintf(stderr, "gk verify failed\n");
                    return 1;
                }
                gk_verified_unref(v);
            }
            double t2 = now_us();
            t_evp[r] = (t1 - t0) / iters;
            t_gk[r] = (t2 - t1) / iters;
            ratio[r] = t_gk[r] / t_evp[r];
        }
        qsort(t_evp, ROUNDS, sizeof(double), cmp_double);
        qsort(t_gk, ROUNDS, sizeof(double), cmp_double);
        qsort(ratio, ROUNDS, sizeof(double), cmp_double);
        printf("%-6s %12.2f %12.2f %8.3f\n", ba->name, t_evp[ROUNDS / 2],
               t_gk[ROUNDS / 2], ratio[ROUNDS / 2]);
        EVP_MD_CTX_free(mctx);
        BIO_free(bio);
        EVP_PKEY_free(priv);
    }
    apr_pool_destroy(p);
    apr_terminate();
    return 0;
}
