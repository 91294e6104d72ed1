/* Content-Security-Policy values (gk_csp): nonces added to policies. */
#include "gk_csp.h"
#include "gk_test_core.h"

#define N "'nonce-abc'"

static const char *add(const char *policy)
{
    return gk_csp_add_nonce(tp, policy, "abc");
}

START_TEST(existing_directives)
{
    ck_assert_str_eq(add("script-src 'self'; style-src 'self' cdn.example"),
                     "script-src 'self' " N "; style-src 'self' cdn.example "
                     N);
    ck_assert_str_eq(add("SCRIPT-SRC 'self'"), "SCRIPT-SRC 'self' " N);
    /* 'none' cannot be combined: replaced */
    ck_assert_str_eq(add("script-src 'none'; style-src"),
                     "script-src " N "; style-src " N);
    /* only the first of a repeated directive counts (CSP3 ignores the
     * others) */
    ck_assert_str_eq(add("script-src a; script-src b"),
                     "script-src a " N "; script-src b");
}
END_TEST

START_TEST(from_default_src)
{
    ck_assert_str_eq(add("default-src 'self'; frame-ancestors 'none'"),
                     "default-src 'self'; frame-ancestors 'none'; "
                     "script-src 'self' " N "; style-src 'self' " N);
    ck_assert_str_eq(add("default-src 'none'; frame-ancestors 'none'"),
                     "default-src 'none'; frame-ancestors 'none'; "
                     "script-src " N "; style-src " N);
    ck_assert_str_eq(add("default-src 'self'; style-src 'self'"),
                     "default-src 'self'; style-src 'self' " N
                     "; script-src 'self' " N);
    /* nothing restricts scripts: left so */
    ck_assert_str_eq(add("frame-ancestors 'none'; object-src 'none'"),
                     "frame-ancestors 'none'; object-src 'none'");
}
END_TEST

START_TEST(shape)
{
    ck_assert_str_eq(add("  ;; default-src  'self' ;;img-src data: ; "),
                     "default-src 'self'; img-src data:; script-src 'self' "
                     N "; style-src 'self' " N);
    ck_assert_str_eq(add("upgrade-insecure-requests"),
                     "upgrade-insecure-requests");
    ck_assert_str_eq(add(""), "");
    ck_assert_ptr_null(gk_csp_add_nonce(tp, NULL, "abc"));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("csp");
    TCase *tc = tk_tcase("csp");
    tcase_add_test(tc, existing_directives);
    tcase_add_test(tc, from_default_src);
    tcase_add_test(tc, shape);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(suite)
