/* Secrets kept out of log lines (gk_redact): query parameters by name,
 * URL user-info, fragments. */
#include "gk_redact.h"
#include "gk_test_core.h"

static apr_array_header_t *names(void)
{
    return tk_strs(tp, "access_token", "token", "password", "code", NULL);
}

static const char *q(const char *s)
{
    return gk_redact_query(tp, s, strlen(s), names());
}

START_TEST(query)
{
    const char *same = "a=1&b=2";

    ck_assert_ptr_eq(gk_redact_query(tp, same, strlen(same), names()), same);
    ck_assert_str_eq(q("token=abc"), "token=REDACTED");
    ck_assert_str_eq(q("a=1&token=abc&b=2"), "a=1&token=REDACTED&b=2");
    ck_assert_str_eq(q("TOKEN=abc;Password=x"),
                     "TOKEN=REDACTED;Password=REDACTED");
    ck_assert_str_eq(q("access%5Ftoken=abc"), "access%5Ftoken=REDACTED");
    ck_assert_str_eq(q("access%5ftoken=abc&x"), "access%5ftoken=REDACTED&x");
    ck_assert_str_eq(q("tok%65n=abc"), "tok%65n=REDACTED");
    ck_assert_str_eq(q("token=a=b=c"), "token=REDACTED");
    ck_assert_str_eq(q("token="), "token=");        /* nothing to hide */
    ck_assert_str_eq(q("token"), "token");
    ck_assert_str_eq(q("tokens=abc&xtoken=1"), "tokens=abc&xtoken=1");
    ck_assert_str_eq(q("token=1&token=2"), "token=REDACTED&token=REDACTED");
    ck_assert_str_eq(q("&&token=1&&"), "&&token=REDACTED&&");
    ck_assert_str_eq(q("%=1&%zz=2&token%=3"), "%=1&%zz=2&token%=3");
    ck_assert_ptr_null(gk_redact_query(tp, NULL, 0, names()));
    /* only len bytes count */
    ck_assert_str_eq(gk_redact_query(tp, "token=abc#frag", 9, names()),
                     "token=REDACTED");
}
END_TEST

static const char *u(const char *s)
{
    return gk_redact_url(tp, s, names());
}

START_TEST(url)
{
    const char *same = "https://app.test/p?a=1#f";

    ck_assert_ptr_eq(gk_redact_url(tp, same, names()), same);
    ck_assert_str_eq(u("https://bob:pw@app.test/p"), "https://app.test/p");
    ck_assert_str_eq(u("https://bob@app.test"), "https://app.test");
    ck_assert_str_eq(u("http://a:b@c@host:8080/x?token=1"),
                     "http://host:8080/x?token=REDACTED");
    ck_assert_str_eq(u("//u:p@h/x"), "//h/x");
    ck_assert_str_eq(u("/cb?code=xyz&state=1"), "/cb?code=REDACTED&state=1");
    ck_assert_str_eq(u("https://h/cb#access_token=t&type=bearer"),
                     "https://h/cb#access_token=REDACTED&type=bearer");
    ck_assert_str_eq(u("https://h/cb?token=1#token=2"),
                     "https://h/cb?token=REDACTED#token=REDACTED");
    ck_assert_str_eq(u("https://h/a@b?x=1"), "https://h/a@b?x=1");
    ck_assert_str_eq(u("mailto:a@b"), "mailto:a@b");
    ck_assert_str_eq(u(""), "");
    ck_assert_ptr_null(gk_redact_url(tp, NULL, names()));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("redact");
    TCase *tc = tk_tcase("redact");

    tcase_add_test(tc, query);
    tcase_add_test(tc, url);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(suite)
