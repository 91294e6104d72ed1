/*
 * The reason vocabulary (common/gk_reason.c): one code and one text per
 * reason, codes unique and stable, every verification status mapped.
 */
#include <ctype.h>

#include "gk_reason.h"
#include "gk_test_core.h"

START_TEST(codes)
{
    int i, j;

    for (i = 0; i < GK_REASON_COUNT; i++) {
        const char *n = gk_reason_name((gk_reason_e)i), *c;
        ck_assert_msg(n && *n, "reason %d has no code", i);
        ck_assert_msg(gk_reason_text((gk_reason_e)i) != NULL
                          && *gk_reason_text((gk_reason_e)i),
                      "reason %s has no text", n);
        for (c = n; *c; c++) {
            ck_assert_msg(islower((unsigned char)*c) || *c == '_', "%s", n);
        }
        ck_assert_int_eq(gk_reason_from_name(n), i);
        for (j = 0; j < i; j++) {
            ck_assert_str_ne(n, gk_reason_name((gk_reason_e)j));
        }
    }
    ck_assert_ptr_null(gk_reason_name(GK_REASON_COUNT));
    ck_assert_int_eq(gk_reason_from_name("nope"), GK_REASON_COUNT);
    ck_assert_int_eq(gk_reason_from_name(NULL), GK_REASON_COUNT);
}
END_TEST

/* Released codes never change: the ones docs/INTEROP.md promises. */
START_TEST(stable)
{
    static const struct {
        gk_reason_e r;
        const char *name;
    } t[] = {
        {GK_REASON_OK, "ok"},
        {GK_REASON_NO_TOKEN, "no_token"},
        {GK_REASON_MALFORMED, "malformed"},
        {GK_REASON_BAD_SIGNATURE, "bad_signature"},
        {GK_REASON_EXPIRED, "expired"},
        {GK_REASON_NOT_YET_VALID, "not_yet_valid"},
        {GK_REASON_WRONG_ISSUER, "wrong_issuer"},
        {GK_REASON_WRONG_AUDIENCE, "wrong_audience"},
        {GK_REASON_INVALID_USER, "invalid_user"},
        {GK_REASON_REVOKED, "revoked"},
        {GK_REASON_INSUFFICIENT_SCOPE, "insufficient_scope"},
        {GK_REASON_RATE_LIMITED, "rate_limited"},
        {GK_REASON_CORS_REFUSED, "cors_refused"},
        {GK_REASON_INVALID_BODY, "invalid_body"},
        {GK_REASON_CORS_ALLOWED, "cors_allowed"},
        {GK_REASON_CORS_PREFLIGHT, "cors_preflight"},
        {GK_REASON_CORS_BAD_ORIGIN, "cors_bad_origin"},
        {GK_REASON_CORS_METHOD_REFUSED, "cors_method_refused"},
        {GK_REASON_CORS_HEADER_REFUSED, "cors_header_refused"},
        {GK_REASON_CORS_MISCONFIGURED, "cors_misconfigured"},
        {GK_REASON_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"},
        {GK_REASON_BODY_TOO_LARGE, "body_too_large"},
        {GK_REASON_EMPTY_BODY, "empty_body"},
        {GK_REASON_MALFORMED_BODY, "malformed_body"},
        {GK_REASON_DUPLICATE_KEY, "duplicate_key"},
        {GK_REASON_BODY_TOO_DEEP, "body_too_deep"},
        {GK_REASON_BODY_READ_ERROR, "body_read_error"},
        {GK_REASON_RATE_LIMIT_REPORT, "rate_limit_report"},
        {GK_REASON_STORE_ERROR, "store_error"},
    };
    size_t i;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        ck_assert_str_eq(gk_reason_name(t[i].r), t[i].name);
    }
    ck_assert_str_eq(gk_reason_text(GK_REASON_INVALID_USER),
                     "token user claim is invalid");
}
END_TEST

/* Each verification status has its reason, and keeps its text. */
START_TEST(statuses)
{
    static const struct {
        gk_status_e st;
        const char *name, *text;
    } t[] = {
        {GK_OK, "ok", "token is valid"},
        {GK_ERR_MALFORMED, "malformed", "token is malformed"},
        {GK_ERR_TOO_LONG, "too_long", "token is too long"},
        {GK_ERR_HEADER, "bad_header", "token header is invalid"},
        {GK_ERR_PAYLOAD, "bad_payload", "token payload is invalid"},
        {GK_ERR_ALG, "bad_algorithm", "token algorithm is not accepted"},
        {GK_ERR_CRIT, "unsupported_crit",
         "token has unsupported critical header parameters"},
        {GK_ERR_NO_KEY, "unknown_key", "token key is unknown"},
        {GK_ERR_SIGNATURE, "bad_signature", "token signature is invalid"},
        {GK_ERR_CLAIM_TYPE, "bad_claim_type",
         "token claims have invalid types"},
        {GK_ERR_EXP_MISSING, "missing_exp", "token has no expiry"},
        {GK_ERR_EXPIRED, "expired", "token has expired"},
        {GK_ERR_NOT_YET_VALID, "not_yet_valid", "token is not yet valid"},
        {GK_ERR_IAT_FUTURE, "issued_in_future",
         "token was issued in the future"},
        {GK_ERR_ISSUER, "wrong_issuer", "token issuer is not accepted"},
        {GK_ERR_AUDIENCE, "wrong_audience", "token audience is not accepted"},
        {GK_ERR_TYPE, "wrong_type", "token type is not accepted"},
        {GK_ERR_INTERNAL, "internal_error", "token could not be verified"},
        {GK_ERR_SYNTAX, "bad_credentials", "malformed Bearer credentials"},
    };
    size_t i;

    ck_assert_int_eq(sizeof(t) / sizeof(t[0]), GK_ERR_COUNT);
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        gk_reason_e r = gk_reason_of_status(t[i].st);
        ck_assert_str_eq(gk_reason_name(r), t[i].name);
        ck_assert_str_eq(gk_reason_text(r), t[i].text);
        ck_assert_str_eq(gk_status_text(t[i].st), t[i].text);
    }
    ck_assert_int_eq(gk_reason_of_status(GK_ERR_COUNT),
                     GK_REASON_INTERNAL_ERROR);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("reason");
    TCase *tc = tk_tcase("reason");

    tcase_add_test(tc, codes);
    tcase_add_test(tc, stable);
    tcase_add_test(tc, statuses);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(suite)
