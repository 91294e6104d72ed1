/* Cross-check with libjwt (1.10): tokens libjwt signs verify with
 * gk_jwt_verify and pass gk_jwt_check_claims; tokens this test suite signs
 * verify with libjwt (which checks our test signer). */
#include <jwt.h>

#include "gk_test.h"

static const struct {
    jwt_alg_t jalg;
    gk_alg_e alg;
} algs[] = {
    {JWT_ALG_HS256, GK_HS256}, {JWT_ALG_HS384, GK_HS384},
    {JWT_ALG_HS512, GK_HS512}, {JWT_ALG_RS256, GK_RS256},
    {JWT_ALG_RS384, GK_RS384}, {JWT_ALG_RS512, GK_RS512},
    {JWT_ALG_ES256, GK_ES256}, {JWT_ALG_ES384, GK_ES384},
    {JWT_ALG_ES512, GK_ES512},
};
#define NALGS ((int)(sizeof(algs) / sizeof(algs[0])))

/* The signing key libjwt takes: the secret, or the private key PEM. */
static const char *libjwt_sign_key(gk_alg_e alg, int *len)
{
    const gk_alg_info_t *ai = gk_alg_info(alg);
    const char *k;
    if (ai->kind == GK_KIND_HMAC) {
        *len = (int)ai->hash_len;
        return TK_SECRET;
    }
    k = tk_priv_pem(tp, tk_key_for(alg));
    *len = (int)strlen(k);
    return k;
}

static char *libjwt_token(gk_alg_e alg, jwt_alg_t jalg, const char *kid)
{
    jwt_t *jwt = NULL;
    char *s, *tok;
    int len;
    const char *key = libjwt_sign_key(alg, &len);

    ck_assert_int_eq(jwt_new(&jwt), 0);
    ck_assert_int_eq(jwt_add_grant(jwt, "sub", "alice"), 0);
    ck_assert_int_eq(jwt_add_grant(jwt, "iss", "https://issuer.example"), 0);
    ck_assert_int_eq(jwt_add_grant(jwt, "aud", "api"), 0);
    ck_assert_int_eq(jwt_add_grant(jwt, "roles", "admin user"), 0);
    ck_assert_int_eq(jwt_add_grant_int(jwt, "iat", TS), 0);
    ck_assert_int_eq(jwt_add_grant_int(jwt, "nbf", TS - 10), 0);
    ck_assert_int_eq(jwt_add_grant_int(jwt, "exp", TS + 3600), 0);
    if (kid) {
        ck_assert_int_eq(jwt_add_header(jwt, "kid", kid), 0);
    }
    ck_assert_int_eq(jwt_set_alg(jwt, jalg, (const unsigned char *)key, len),
                     0);
    s = jwt_encode_str(jwt);
    ck_assert_ptr_nonnull(s);
    tok = apr_pstrdup(tp, s);
    free(s);
    jwt_free(jwt);
    return tok;
}

START_TEST(libjwt_tokens_verify)
{
    gk_alg_e alg = algs[_i].alg;
    char *tok = libjwt_token(alg, algs[_i].jalg, NULL);
    apr_array_header_t *set = tk_set(tp, tk_std_key(tp, alg, NULL), NULL);
    gk_claims_policy_t pol = tk_policy(60, 1);
    gk_verified_t *v;

    pol.issuer = "https://issuer.example";
    pol.audiences = tk_strs(tp, "web", "api", NULL);
    pol.require_at_jwt = 0;
    tk_assert_st(tk_verify(tok, set, &v), GK_OK);
    ck_assert_int_eq(v->alg, alg);
    ck_assert_int_eq(v->typ, GK_TYP_JWT); /* libjwt writes typ JWT */
    ck_assert_int_eq(v->exp, TS + 3600);
    ck_assert_int_eq(v->nbf, TS - 10);
    ck_assert_int_eq(v->iat, TS);
    ck_assert_str_eq(v->iss, "https://issuer.example");
    tk_assert_st(gk_jwt_check_claims(v, &pol, TS), GK_OK);
    tk_assert_st(gk_jwt_check_claims(v, &pol, TS + 3600 + 60),
                 GK_ERR_EXPIRED);
    pol.require_at_jwt = 1;
    tk_assert_st(gk_jwt_check_claims(v, &pol, TS), GK_ERR_TYPE);
    gk_verified_unref(v);
}
END_TEST

START_TEST(libjwt_tokens_with_kid)
{
    gk_alg_e alg = algs[_i].alg;
    char *tok = libjwt_token(alg, algs[_i].jalg, "key-2");
    apr_array_header_t *set =
        tk_set(tp, tk_std_key(tp, alg, "key-1"), tk_std_key(tp, alg, "key-2"),
               NULL);
    tk_assert_st(tk_verify(tok, set, NULL), GK_OK);
    set = tk_set(tp, tk_std_key(tp, alg, "key-1"), NULL);
    tk_assert_st(tk_verify(tok, set, NULL), GK_ERR_NO_KEY);
}
END_TEST

/* libjwt's token, signed by another key of the same type, fails. */
START_TEST(libjwt_tokens_other_key)
{
    gk_alg_e alg = algs[_i].alg;
    const gk_alg_info_t *ai = gk_alg_info(alg);
    char *tok = libjwt_token(alg, algs[_i].jalg, NULL);
    gk_key_t *k;
    EVP_PKEY *other = NULL;

    if (ai->kind == GK_KIND_HMAC) {
        k = tk_gksecret(tp, alg, TK_SECRET2, ai->hash_len, NULL);
    }
    else if (ai->kind == GK_KIND_RSA) {
        k = tk_gkkey(tp, alg, TK.rsa2, NULL);
    }
    else {
        other = tk_gen_ec(alg == GK_ES256 ? "P-256"
                          : alg == GK_ES384 ? "P-384" : "P-521");
        k = tk_gkkey(tp, alg, other, NULL);
    }
    tk_assert_st(tk_verify(tok, tk_set(tp, k, NULL), NULL), GK_ERR_SIGNATURE);
    EVP_PKEY_free(other);
}
END_TEST

/* The other direction: our test signer's tokens verify with libjwt. */
START_TEST(our_tokens_verify_with_libjwt)
{
    gk_alg_e alg = algs[_i].alg;
    const gk_alg_info_t *ai = gk_alg_info(alg);
    char *tok = tk_tok(tp, tk_std_signer(alg), TK_PAYLOAD);
    const char *key;
    int len;
    jwt_t *jwt = NULL;

    if (ai->kind == GK_KIND_HMAC) {
        key = TK_SECRET;
        len = (int)ai->hash_len;
    }
    else {
        key = tk_pub_pem(tp, tk_key_for(alg));
        len = (int)strlen(key);
    }
    ck_assert_int_eq(jwt_decode(&jwt, tok, (const unsigned char *)key, len),
                     0);
    ck_assert_str_eq(jwt_get_grant(jwt, "sub"), "alice");
    ck_assert_int_eq(jwt_get_grant_int(jwt, "exp"), TS + 3600);
    ck_assert_int_eq(jwt_get_alg(jwt), algs[_i].jalg);
    jwt_free(jwt);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("jwt_libjwt");
    TCase *tc = tk_tcase("libjwt");

    tcase_add_loop_test(tc, libjwt_tokens_verify, 0, NALGS);
    tcase_add_loop_test(tc, libjwt_tokens_with_kid, 0, NALGS);
    tcase_add_loop_test(tc, libjwt_tokens_other_key, 0, NALGS);
    tcase_add_loop_test(tc, our_tokens_verify_with_libjwt, 0, NALGS);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(suite)
