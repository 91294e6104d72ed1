/* HTTP grammar helpers (gk_http): tokens, b64tokens, control characters,
 * quoting, reserved headers. */
#include "gk_http.h"
#include "gk_test_core.h"

START_TEST(token)
{
    static const char *const good[] = {
        "X-User", "x", "gk_session", "!#$%&'*+-.^_`|~", "A1", "TE",
    };
    static const char *const bad[] = {
        "", "X User", "X-User:", "a\tb", "a\r\nb", "(x)", "a/b", "a;b",
        "a=b", "\"q\"", "\xc3\xa9", "a@b", "[x]", "{x}", "a,b", "a\\b",
        "\x7f", "a?b",
    };
    size_t i;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        ck_assert_msg(gk_http_is_token(good[i]), "'%s' refused", good[i]);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(!gk_http_is_token(bad[i]), "'%s' accepted", bad[i]);
    }
}
END_TEST

START_TEST(b64token)
{
    static const char *const good[] = {
        "abc", "a.b.c", "A-Z_0~9+/", "x=", "x==", "eyJ.eyJ.sig", "/", "~",
    };
    static const char *const bad[] = {
        "", "=", "==", "a=b", "a b", "a\tb", "a,b", "a\"b", "a;b",
        "\xc3\xa9", "a=.", "a\x7f",
    };
    size_t i;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        ck_assert_msg(gk_http_is_b64token(good[i], strlen(good[i])),
                      "'%s' refused", good[i]);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(!gk_http_is_b64token(bad[i], strlen(bad[i])),
                      "'%s' accepted", bad[i]);
    }
    /* len bytes, not the NUL: a NUL inside is not a b64token character */
    ck_assert(gk_http_is_b64token("abc=def", 4));
    ck_assert(!gk_http_is_b64token("ab\0c", 4));
    ck_assert(!gk_http_is_b64token("abc", 0));
}
END_TEST

START_TEST(ctl)
{
    int c;

    for (c = 0; c < 256; c++) {
        ck_assert_int_eq(gk_http_is_ctl((char)c), c < 0x20 || c == 0x7f);
    }
    ck_assert(!gk_http_has_ctl(""));
    ck_assert(!gk_http_has_ctl("plain text, \"quoted\" \xc3\xa9"));
    ck_assert(gk_http_has_ctl("a\r\nb"));
    ck_assert(gk_http_has_ctl("tab\t"));
    ck_assert(gk_http_has_ctl("\x7f"));
    ck_assert(gk_http_has_ctl("\x01x"));
}
END_TEST

START_TEST(http_quote)
{
    ck_assert_str_eq(gk_http_quote(tp, "gatekeeper"), "\"gatekeeper\"");
    ck_assert_str_eq(gk_http_quote(tp, ""), "\"\"");
    ck_assert_str_eq(gk_http_quote(tp, "a \"b\" c"), "\"a \\\"b\\\" c\"");
    ck_assert_str_eq(gk_http_quote(tp, "back\\slash"), "\"back\\\\slash\"");
    ck_assert_str_eq(gk_http_quote(tp, "\\\""), "\"\\\\\\\"\"");
    /* control characters (CR, LF: header injection) are dropped */
    ck_assert_str_eq(gk_http_quote(tp, "a\r\nSet-Cookie: x"),
                     "\"aSet-Cookie: x\"");
    ck_assert_str_eq(gk_http_quote(tp, "\x01\x1f\x7f" "x\t"), "\"x\"");
    /* bytes >= 0x80 (obs-text) are kept */
    ck_assert_str_eq(gk_http_quote(tp, "r\xc3\xa9" "alm"),
                     "\"r\xc3\xa9" "alm\"");
}
END_TEST

START_TEST(http_quote_worst_case)
{
    /* every character escaped: 2n + 2 */
    char in[1001];
    const char *q;
    memset(in, '"', 1000);
    in[1000] = '\0';
    q = gk_http_quote(tp, in);
    ck_assert_uint_eq(strlen(q), 2002);
}
END_TEST

START_TEST(reserved_headers)
{
    static const char *const reserved[] = {
        "Authorization", "authorization", "COOKIE", "Host", "content-length",
        "Transfer-Encoding", "Connection", "Upgrade", "TE", "te", "Trailer",
        "Proxy-Authorization", "Expect",
    };
    static const char *const free_[] = {
        "X-User", "Cookie2", "Hosts", "X-Authorization", "", "Authorizatio",
    };
    size_t i;

    for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
        ck_assert_msg(gk_http_header_is_reserved(reserved[i]), "%s",
                      reserved[i]);
    }
    for (i = 0; i < sizeof(free_) / sizeof(free_[0]); i++) {
        ck_assert_msg(!gk_http_header_is_reserved(free_[i]), "%s", free_[i]);
    }
}
END_TEST

/* JSON media types (mod_gk_validate's 415). */
START_TEST(json_media_type)
{
    static const char *const ok[] = {
        "application/json", "APPLICATION/JSON", "application/Json",
        "application/problem+json", "application/vnd.api+json",
        "application/json; charset=utf-8", "application/json;charset=UTF-8",
        "application/json; charset=\"utf-8\"", " application/json \t",
        "application/json;", "application/json; ; x=1",
        "application/json; profile=\"https://example.com/p; v=1\"",
        "application/merge-patch+json; charset=utf-8",
    };
    static const char *const bad[] = {
        "", "text/json", "text/plain", "application/jsonx",
        "application/json-seq", "application/+json", "application/x+jsonx",
        "application/json; charset=latin1", "application/json; charset=utf-16",
        "application/json; charset=us-ascii",
        "application/json; charset=utf-8; charset=utf-8",
        "application/json; charset=\"utf-8", "application/json; charset=",
        "application/json x", "application/json; x", "application/json,text/x",
        "application/json; x=\"a\x01\"", "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x", "application/json\x01",
    };
    size_t i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        ck_assert_msg(gk_http_json_media_type_ok(ok[i]), "refused: %s",
                      ok[i]);
    }
    ck_assert(!gk_http_json_media_type_ok(NULL));
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(!gk_http_json_media_type_ok(bad[i]), "accepted: %s",
                      bad[i]);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("http");
    TCase *tc = tk_tcase("http");

    tcase_add_test(tc, token);
    tcase_add_test(tc, b64token);
    tcase_add_test(tc, ctl);
    tcase_add_test(tc, http_quote);
    tcase_add_test(tc, http_quote_worst_case);
    tcase_add_test(tc, reserved_headers);
    tcase_add_test(tc, json_media_type);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(suite)
