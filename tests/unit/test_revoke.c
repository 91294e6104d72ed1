/* Revocation store keys (gk_revoke): determinism, separation between kinds
 * and fields, the key's shape, no raw value in it, and known answers
 * computed here independently with EVP and HMAC over the documented
 * encoding. */
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "gk_revoke.h"
#include "gk_store_shm.h"
#include "gk_test_core.h"

static const unsigned char K1[16] = "0123456789abcdef";
static const unsigned char K2[16] = "0123456789abcdeg";

/* ---- an independent implementation of the documented encoding ---------- */

typedef struct {
    unsigned char buf[512];
    size_t n;
} msg_t;

static void msg_start(msg_t *m, char kind)
{
    memcpy(m->buf, "gk-revoke-v1", 13); /* with its NUL */
    m->n = 13;
    m->buf[m->n++] = (unsigned char)kind;
}

static void msg_field(msg_t *m, const char *s, size_t len)
{
    int i;

    if (!s) {
        m->buf[m->n++] = 0;
        return;
    }
    m->buf[m->n++] = 1;
    for (i = 7; i >= 0; i--) {
        m->buf[m->n++] = (unsigned char)((apr_uint64_t)len >> (8 * i));
    }
    ck_assert_uint_lt(m->n + len, sizeof(m->buf));
    memcpy(m->buf + m->n, s, len);
    m->n += len;
}

/* The key the documentation promises for message m. */
static void expect_key(const msg_t *m, const unsigned char *key16, char kind,
                       char out[GK_REVOKE_KEY_SIZE])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int i;

    if (key16) {
        ck_assert_ptr_nonnull(
            HMAC(EVP_sha256(), key16, 16, m->buf, m->n, md, &mdlen));
    }
    else {
        ck_assert_int_eq(
            EVP_Digest(m->buf, m->n, md, &mdlen, EVP_sha256(), NULL), 1);
    }
    ck_assert_uint_eq(mdlen, 32);
    sprintf(out, "rv:%c:", kind);
    for (i = 0; i < 16; i++) {
        sprintf(out + 5 + 2 * i, "%02x", md[i]);
    }
}

/* The shape every hashed key has. */
static void assert_shape(const char *k, char kind)
{
    size_t i;

    ck_assert_uint_eq(strlen(k), GK_REVOKE_KEY_LEN);
    ck_assert_int_eq(gk_revoke_key_kind(k, strlen(k)), kind);
    for (i = 0; k[i]; i++) {
        ck_assert(k[i] > 0x20 && k[i] < 0x7f);
    }
}

START_TEST(known_answers)
{
    static const unsigned char *keys[2] = {NULL, K1};
    char got[GK_REVOKE_KEY_SIZE], want[GK_REVOKE_KEY_SIZE];
    const char *tok = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln";
    msg_t m;
    int i;

    for (i = 0; i < 2; i++) {
        const unsigned char *k = keys[i];

        ck_assert_uint_eq(gk_revoke_token_key(got, k, "https://idp", "j-1"),
                          GK_REVOKE_KEY_LEN);
        msg_start(&m, 't');
        msg_field(&m, "https://idp", 11);
        msg_field(&m, "j-1", 3);
        expect_key(&m, k, 't', want);
        ck_assert_str_eq(got, want);
        assert_shape(got, 't');

        gk_revoke_token_key(got, k, NULL, "j-1");
        msg_start(&m, 't');
        msg_field(&m, NULL, 0);
        msg_field(&m, "j-1", 3);
        expect_key(&m, k, 't', want);
        ck_assert_str_eq(got, want);

        ck_assert_uint_eq(gk_revoke_token_key_raw(got, k, tok, strlen(tok)),
                          GK_REVOKE_KEY_LEN);
        msg_start(&m, 'r');
        msg_field(&m, tok, strlen(tok));
        expect_key(&m, k, 'r', want);
        ck_assert_str_eq(got, want);
        assert_shape(got, 'r');

        ck_assert_uint_eq(gk_revoke_subject_key(got, k, "https://idp",
                                                "alice"),
                          GK_REVOKE_KEY_LEN);
        msg_start(&m, 's');
        msg_field(&m, "https://idp", 11);
        msg_field(&m, "alice", 5);
        expect_key(&m, k, 's', want);
        ck_assert_str_eq(got, want);
        assert_shape(got, 's');
    }
}
END_TEST

/* Pinned values (computed with Python's hashlib and hmac over the
 * documented encoding): a change of the derivation orphans every stored
 * and journaled revocation, so it must be deliberate. */
START_TEST(pinned)
{
    char k[GK_REVOKE_KEY_SIZE];

    /* SHA-256("gk-revoke-v1" 00 "t" 01 <8 bytes: 3> "iss" 01 <3> "jti") */
    gk_revoke_token_key(k, NULL, "iss", "jti");
    ck_assert_str_eq(k, "rv:t:52e0938c727ac59e8446199fa7f53115");
    /* HMAC-SHA-256("0123456789abcdef", "gk-revoke-v1" 00 "s" 01 <3> "iss"
     * 01 <5> "alice") */
    gk_revoke_subject_key(k, K1, "iss", "alice");
    ck_assert_str_eq(k, "rv:s:6559f4d05ec98e021f73fde43d3fda3d");
}
END_TEST

START_TEST(deterministic)
{
    char a[GK_REVOKE_KEY_SIZE], b[GK_REVOKE_KEY_SIZE];

    gk_revoke_token_key(a, NULL, "i", "j");
    gk_revoke_token_key(b, NULL, "i", "j");
    ck_assert_str_eq(a, b);
    gk_revoke_token_key(a, K1, "i", "j");
    gk_revoke_token_key(b, K1, "i", "j");
    ck_assert_str_eq(a, b);
    gk_revoke_subject_key(a, K1, "i", "s");
    gk_revoke_subject_key(b, K1, "i", "s");
    ck_assert_str_eq(a, b);
    gk_revoke_token_key_raw(a, NULL, "xyz", 3);
    gk_revoke_token_key_raw(b, NULL, "xyzw", 3);
    ck_assert_str_eq(a, b);
}
END_TEST

/* Every pair in a set of derivations differs. */
START_TEST(separation)
{
    char k[24][GK_REVOKE_KEY_SIZE];
    int n = 0, i, j;

    /* the hash part alone: kinds must differ there too */
    gk_revoke_token_key(k[n++], NULL, "a", "b");
    gk_revoke_subject_key(k[n++], NULL, "a", "b");
    gk_revoke_token_key_raw(k[n++], NULL, "ab", 2);
    gk_revoke_token_key(k[n++], NULL, "ab", "");
    gk_revoke_token_key(k[n++], NULL, "", "ab");
    gk_revoke_token_key(k[n++], NULL, NULL, "ab");
    gk_revoke_token_key(k[n++], NULL, "b", "a");
    gk_revoke_token_key(k[n++], NULL, "a", NULL);
    gk_revoke_token_key(k[n++], NULL, "a", "");
    gk_revoke_token_key(k[n++], NULL, NULL, NULL);
    gk_revoke_token_key(k[n++], NULL, "", "");
    gk_revoke_token_key(k[n++], K1, "a", "b");
    gk_revoke_token_key(k[n++], K2, "a", "b");
    gk_revoke_subject_key(k[n++], K1, "a", "b");
    gk_revoke_subject_key(k[n++], NULL, "ab", "");
    gk_revoke_subject_key(k[n++], NULL, NULL, "ab");
    gk_revoke_subject_key(k[n++], NULL, "", "ab");
    gk_revoke_token_key_raw(k[n++], NULL, "", 0);
    gk_revoke_token_key_raw(k[n++], K1, "ab", 2);
    gk_revoke_token_key_raw(k[n++], NULL, "a\0b", 3);
    gk_revoke_token_key_raw(k[n++], NULL, "a\0c", 3);
    for (i = 0; i < n; i++) {
        for (j = i + 1; j < n; j++) {
            ck_assert_msg(strcmp(k[i] + 5, k[j] + 5) != 0,
                          "derivations %d and %d collide: %s", i, j, k[i]);
        }
    }
}
END_TEST

START_TEST(no_raw_value)
{
    char k[GK_REVOKE_KEY_SIZE];
    const char *sub = "alice@example.com", *jti = "0123456789abcdef";

    gk_revoke_subject_key(k, NULL, "iss", sub);
    ck_assert_ptr_null(strstr(k, "alice"));
    gk_revoke_token_key(k, NULL, "iss", jti);
    ck_assert_ptr_null(strstr(k, "0123456789"));
    ck_assert_ptr_null(strstr(k, "iss"));
    gk_revoke_token_key_raw(k, K1, jti, strlen(jti));
    ck_assert_ptr_null(strstr(k, "0123456789"));
}
END_TEST

START_TEST(lengths)
{
    char k[GK_REVOKE_KEY_SIZE], *big = apr_palloc(tp, GK_TOKEN_MAX_LEN);

    memset(big, 'x', GK_TOKEN_MAX_LEN);
    ck_assert_uint_eq(gk_revoke_token_key_raw(k, K1, big, GK_TOKEN_MAX_LEN),
                      GK_REVOKE_KEY_LEN);
    assert_shape(k, 'r');
    ck_assert_uint_eq(gk_revoke_token_key_raw(k, NULL, NULL, 0),
                      GK_REVOKE_KEY_LEN);
    ck_assert_uint_le(GK_REVOKE_KEY_LEN, GK_STORE_SHM_KEY_MAX);
    ck_assert_uint_le(GK_REVOKE_KEY_LEN, 64);
    ck_assert_uint_lt(GK_REVOKE_KEY_LEN, GK_REVOKE_KEY_SIZE);
    ck_assert_uint_eq(gk_revoke_sentinel_key(k), GK_REVOKE_SENTINEL_LEN);
    ck_assert_str_eq(k, "rv:sentinel");
    ck_assert_uint_eq(strlen(k), GK_REVOKE_SENTINEL_LEN);
}
END_TEST

START_TEST(key_kind)
{
    char k[GK_REVOKE_KEY_SIZE];

    gk_revoke_subject_key(k, NULL, "i", "s");
    ck_assert_int_eq(gk_revoke_key_kind(k, strlen(k)), 's');
    ck_assert_int_eq(gk_revoke_key_kind(k, strlen(k) - 1), 0);
    ck_assert_int_eq(gk_revoke_key_kind(NULL, 37), 0);
    ck_assert_int_eq(gk_revoke_key_kind("rv:sentinel", 11), 0);
    ck_assert_int_eq(
        gk_revoke_key_kind("rv:x:0123456789abcdef0123456789abcdef", 37), 0);
    ck_assert_int_eq(
        gk_revoke_key_kind("rv:t:0123456789abcdef0123456789abcdef", 37),
        't');
    ck_assert_int_eq(
        gk_revoke_key_kind("rv:t:0123456789ABCDEF0123456789abcdef", 37), 0);
    ck_assert_int_eq(
        gk_revoke_key_kind("rv:t;0123456789abcdef0123456789abcdef", 37), 0);
    ck_assert_int_eq(
        gk_revoke_key_kind("rv:t:0123456789abcdef0123456789abcde ", 37), 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("gk_revoke");
    TCase *tc = tk_tcase("keys");

    tcase_add_test(tc, known_answers);
    tcase_add_test(tc, pinned);
    tcase_add_test(tc, deterministic);
    tcase_add_test(tc, separation);
    tcase_add_test(tc, no_raw_value);
    tcase_add_test(tc, lengths);
    tcase_add_test(tc, key_kind);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(suite)
