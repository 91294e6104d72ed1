/*
 * Fuzz target: token verification and everything a verified token reaches.
 *
 * Two input forms:
 *  - raw: the bytes are a compact JWS, verified as they are;
 *  - "#sign\n" HEADER "\0" PAYLOAD: HEADER and PAYLOAD (JSON text, any
 *    bytes) are base64url-encoded and signed here with the HS256 secret
 *    FUZZ_SECRET (the same as in make_corpus.py), so that the fuzzer reaches
 *    the header/payload parsers and the claim code behind a valid
 *    signature. Without the NUL, the header is {"alg":"HS256"} and all the
 *    rest is the payload.
 *
 * The key set holds several algorithms (HS256 with and without kid, HS512,
 * RS256, PS256, ES256, ES512, EdDSA) in two key sets. A verified token goes
 * through gk_jwt_check_claims with several policies and clocks, the claim
 * helpers (paths, strings, permissions), a token cache (one per input, so
 * that cached records are released before LeakSanitizer looks), and the
 * problem body (with the subject as a correlation ID too) / HTTP quoting
 * of its subject.
 * See replay.c for how to build it with libFuzzer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "gk_b64url.h"
#include "gk_claims.h"
#include "gk_http.h"
#include "gk_jwt.h"
#include "gk_keys.h"
#include "gk_problem.h"
#include "gk_strlist.h"
#include "gk_tokcache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_SECRET "gatekeeper-fuzz-hs256-secret-0123456789"
#define FUZZ_SECRET_KID "gatekeeper-fuzz-hs256-kid-k1-secret-0123"
#define FUZZ_SECRET_512                                                      \
    "gatekeeper-fuzz-hs512-secret-0123456789-0123456789-0123456789-012"
#define SIGN_PREFIX "#sign\n"
#define TS 1700000000

static apr_pool_t *root;
static apr_array_header_t *set1, *set2;
/* The keys' OpenSSL objects, also referenced from here: APR may allocate
 * pool memory with mmap, which LeakSanitizer does not scan, so objects
 * only pool memory points to would be reported as leaks. */
static void *keep_alive[64];
static int nkeep;
static gk_claims_policy_t policies[3];
static gk_claim_path_t *paths[7];

static void die(const char *what)
{
    fprintf(stderr, "fuzz_jwt setup: %s\n", what);
    abort();
}

static void keep(const gk_key_t *k)
{
    if (nkeep + 5 > (int)(sizeof(keep_alive) / sizeof(keep_alive[0]))) {
        die("keep_alive");
    }
    keep_alive[nkeep++] = k->pkey;
    keep_alive[nkeep++] = k->hmac_inner;
    keep_alive[nkeep++] = k->hmac_outer;
    keep_alive[nkeep++] = k->vctx;
    keep_alive[nkeep++] = k->md;
}

static void add_pkey(apr_array_header_t *set, gk_alg_e alg, EVP_PKEY *k,
                     const char *kid)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *pem;
    long n;
    gk_key_t *key;

    if (!b || PEM_write_bio_PUBKEY(b, k) != 1) {
        die("PEM");
    }
    n = BIO_get_mem_data(b, &pem);
    pem = apr_pstrmemdup(root, pem, (apr_size_t)n);
    BIO_free(b);
    if (gk_key_from_pem(root, alg, pem, (apr_size_t)n, kid, &key)) {
        die("gk_key_from_pem");
    }
    keep(key);
    APR_ARRAY_PUSH(set, gk_key_t *) = key;
}

static void add_secret(apr_array_header_t *set, gk_alg_e alg, const char *s,
                       const char *kid)
{
    gk_key_t *key;
    if (gk_key_from_secret(root, alg, (const unsigned char *)s, strlen(s),
                           kid, &key)) {
        die("gk_key_from_secret");
    }
    keep(key);
    APR_ARRAY_PUSH(set, gk_key_t *) = key;
}

static void setup(void)
{
    EVP_PKEY *rsa, *ec256, *ec521, *ed;
    apr_array_header_t *auds;
    static const char *const names[] = {
        "sub", "roles", "realm_access.roles", "https://example.com/roles",
        "scope", "permissions", "a.b.c"};
    size_t i;

    apr_initialize();
    apr_pool_create(&root, NULL);
    rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    ec256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    ec521 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
    ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (!rsa || !ec256 || !ec521 || !ed) {
        die("key generation");
    }
    set1 = apr_array_make(root, 8, sizeof(gk_key_t *));
    set2 = apr_array_make(root, 8, sizeof(gk_key_t *));
    add_secret(set1, GK_HS256, FUZZ_SECRET, NULL);
    add_secret(set1, GK_HS256, FUZZ_SECRET_KID, "k1");
    add_secret(set1, GK_HS512, FUZZ_SECRET_512, NULL);
    add_pkey(set1, GK_RS256, rsa, "rsa");
    add_pkey(set1, GK_PS256, rsa, NULL);
    add_pkey(set2, GK_ES256, ec256, "ec");
    add_pkey(set2, GK_ES512, ec521, NULL);
    add_pkey(set2, GK_EDDSA, ed, "ed");
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec256);
    EVP_PKEY_free(ec521);
    EVP_PKEY_free(ed);

    policies[0].leeway = 60;
    policies[0].require_exp = 1;
    policies[1].leeway = 0;
    policies[1].issuer = "https://issuer.example";
    auds = apr_array_make(root, 2, sizeof(const char *));
    APR_ARRAY_PUSH(auds, const char *) = "api";
    APR_ARRAY_PUSH(auds, const char *) = "web";
    policies[1].audiences = auds;
    policies[2].leeway = 86400;
    policies[2].require_at_jwt = 1;
    policies[2].audiences = apr_array_make(root, 1, sizeof(const char *));
    for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        paths[i] = gk_claim_path_make(root, names[i]);
    }
}

/* "#sign\n" form: the token for header and payload, HS256-signed. */
static char *signed_token(apr_pool_t *p, const uint8_t *data, size_t size,
                          size_t *len)
{
    const uint8_t *h = (const uint8_t *)"{\"alg\":\"HS256\"}", *pl = data;
    size_t hlen = 15, plen = size;
    const uint8_t *nul = memchr(data, '\0', size);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    char *input, *tok;

    if (nul) {
        h = data;
        hlen = (size_t)(nul - data);
        pl = nul + 1;
        plen = size - hlen - 1;
    }
    input = apr_pstrcat(p, gk_b64url_encode(p, h, hlen), ".",
                        gk_b64url_encode(p, pl, plen), NULL);
    if (!HMAC(EVP_sha256(), FUZZ_SECRET, (int)strlen(FUZZ_SECRET),
              (const unsigned char *)input, strlen(input), mac, &maclen)) {
        abort();
    }
    tok = apr_pstrcat(p, input, ".", gk_b64url_encode(p, mac, maclen), NULL);
    *len = strlen(tok);
    return tok;
}

static void use_claims(apr_pool_t *p, gk_verified_t *v)
{
    apr_array_header_t *list = apr_array_make(p, 4, sizeof(const char *));
    json_t *sub;
    size_t i;
    int j;

    for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        json_t *c = gk_claim_get(v->payload, paths[i]);
        gk_claim_strings(p, c, list);
    }
    for (j = 0; j < list->nelts; j++) {
        const char *s = APR_ARRAY_IDX(list, j, const char *);
        if (!gk_perm_check(p, s, 1)) {
            (void)gk_perm_covers(s, "admin:users:delete");
            (void)gk_perm_covers(s, "read");
        }
        (void)gk_perm_covers("admin:*", s);
        (void)gk_perm_covers("a:*:c", s);
        (void)gk_perm_covers("*", s);
    }
    (void)gk_strlist_has(list, "admin");
    (void)gk_strlist_join(p, list, " ");
    sub = json_object_get(v->payload, "sub");
    if (json_is_string(sub)) {
        apr_size_t len;
        gk_problem_t pb = {403, "Forbidden", NULL, json_string_value(sub),
                           NULL, NULL, NULL, 0};
        (void)gk_http_quote(p, json_string_value(sub));
        (void)gk_problem_json(p, 403, "Forbidden", json_string_value(sub),
                              &len);
        (void)gk_problem_render(p, &pb, &len);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const apr_int64_t nows[] = {TS, 0, 4102444800LL, -1};
    const apr_array_header_t *sets[2];
    apr_pool_t *p;
    const char *tok = (const char *)data;
    char *copy;
    size_t len = size, i, k;
    gk_verified_t *v = NULL, *h;
    gk_tokcache_t *cache;
    gk_status_e st;
    int b64token;

    if (!root) {
        setup();
    }
    apr_pool_create(&p, root);
    /* per input: its cleanup drops the cached records (no leak reports) */
    cache = gk_tokcache_create(p, 2, 300);
    if (size >= sizeof(SIGN_PREFIX) - 1
        && !memcmp(data, SIGN_PREFIX, sizeof(SIGN_PREFIX) - 1)) {
        tok = signed_token(p, data + sizeof(SIGN_PREFIX) - 1,
                           size - (sizeof(SIGN_PREFIX) - 1), &len);
    }
    /* exactly len bytes, not NUL-terminated (ASan sees over-reads) */
    copy = malloc(len ? len : 1);
    memcpy(copy, tok, len);
    sets[0] = set1;
    sets[1] = set2;
    st = gk_jwt_verify(copy, len, sets, 2, &v);
    if ((st == GK_OK) != (v != NULL) || st < 0 || st >= GK_ERR_COUNT
        || !gk_status_text(st)) {
        abort();
    }
    /* mod_gk_auth checks the b64token syntax only of tokens that fail:
     * one that verifies must be one (the check runs on every input) */
    b64token = gk_http_is_b64token(copy, len);
    if (st == GK_OK && !b64token) {
        abort();
    }
    if (v) {
        /* JSON text holds no raw NUL, so payload_text is a C string of
         * payload_len bytes (consumers, e.g. GK_CLAIMS, read it so) */
        if (!json_is_object(v->payload) || v->refs != 1
            || v->payload_len != strlen(v->payload_text) || len == 0) {
            abort();
        }
        for (i = 0; i < sizeof(policies) / sizeof(policies[0]); i++) {
            for (k = 0; k < sizeof(nows) / sizeof(nows[0]); k++) {
                gk_status_e c = gk_jwt_check_claims(v, &policies[i], nows[k]);
                if (c != GK_OK && (c < GK_ERR_CLAIM_TYPE || c > GK_ERR_TYPE)) {
                    abort();
                }
            }
        }
        use_claims(p, v);
        gk_tokcache_put(cache, v, copy, len, set1, 0, TS);
        h = gk_tokcache_get(cache, copy, len, set1, 0, TS);
        /* a hit is this record (or, were the cache shared, an earlier
         * record of the same token), never one of another token */
        if (h && (h->payload_len != v->payload_len
                  || memcmp(h->payload_text, v->payload_text, v->payload_len)
                  || h->token_len != len || memcmp(h->token, copy, len))) {
            abort();
        }
        gk_verified_unref(h);
        gk_verified_unref(v);
    }
    free(copy);
    apr_pool_destroy(p);
    return 0;
}
