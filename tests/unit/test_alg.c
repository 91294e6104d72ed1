/* Algorithms (gk_alg): names, families, sizes, JWK key types. */
#include "gk_alg.h"
#include "gk_test_core.h"

START_TEST(alg_names)
{
    static const char *const names[] = {
        "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256",
        "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"};
    static const char *const bad[] = {
        "none", "None", "NONE", "", "hs256", "Hs256", "HS256 ", "HS", "H",
        "EDDSA", "eddsa", "Ed25519", "ES256K", "RS1", "HS1024", "PS256\n"};
    size_t i;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        gk_alg_e a = gk_alg_from_name(names[i], strlen(names[i]));
        ck_assert_int_eq(a, (gk_alg_e)(i + 1));
        ck_assert_str_eq(gk_alg_info(a)->name, names[i]);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(gk_alg_from_name(bad[i], strlen(bad[i]))
                          == GK_ALG_UNKNOWN,
                      "\"%s\" accepted", bad[i]);
    }
    /* only len bytes are the name */
    ck_assert_int_eq(gk_alg_from_name("HS2560", 5), GK_HS256);
    ck_assert_int_eq(gk_alg_from_name("HS256", 4), GK_ALG_UNKNOWN);
    ck_assert_int_eq(gk_alg_from_name("HS256\0", 6), GK_ALG_UNKNOWN);
    ck_assert_ptr_null(gk_alg_info(GK_ALG_UNKNOWN));
    ck_assert_ptr_null(gk_alg_info(GK_ALG_COUNT));
    ck_assert_ptr_null(gk_alg_info((gk_alg_e)-1));
}
END_TEST

START_TEST(alg_table)
{
    gk_alg_e a;
    for (a = GK_HS256; a < GK_ALG_COUNT; a++) {
        const gk_alg_info_t *ai = gk_alg_info(a);
        ck_assert_ptr_nonnull(ai);
        if (a == GK_EDDSA) {
            ck_assert_int_eq(ai->kind, GK_KIND_EDDSA);
            ck_assert_ptr_null(ai->digest);
            continue;
        }
        ck_assert_uint_eq(ai->hash_len, (unsigned)atoi(ai->name + 2) / 8);
        ck_assert_str_eq(ai->digest + 3, ai->name + 2);
        if (ai->kind == GK_KIND_EC) {
            ck_assert_uint_eq(ai->field_len, a == GK_ES256   ? 32u
                                             : a == GK_ES384 ? 48u
                                                             : 66u);
        }
    }
}
END_TEST

START_TEST(alg_kty)
{
    static const struct {
        gk_alg_e alg;
        const char *kty;
    } t[] = {
        {GK_HS256, "oct"}, {GK_HS384, "oct"}, {GK_HS512, "oct"},
        {GK_RS256, "RSA"}, {GK_RS512, "RSA"}, {GK_PS256, "RSA"},
        {GK_PS384, "RSA"}, {GK_ES256, "EC"},  {GK_ES384, "EC"},
        {GK_ES512, "EC"},  {GK_EDDSA, "OKP"},
    };
    size_t i;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        ck_assert_str_eq(gk_alg_kty(t[i].alg), t[i].kty);
    }
    ck_assert_ptr_null(gk_alg_kty(GK_ALG_UNKNOWN));
    ck_assert_ptr_null(gk_alg_kty(GK_ALG_COUNT));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("alg");
    TCase *tc = tk_tcase("alg");

    tcase_add_test(tc, alg_names);
    tcase_add_test(tc, alg_table);
    tcase_add_test(tc, alg_kty);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(suite)
