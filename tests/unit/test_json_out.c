/* The JSON writer of log lines (gk_json_out): escaping, UTF-8 repair,
 * caps, nesting and the line's own cap. */
#include <jansson.h>

#include "gk_json_out.h"
#include "gk_test_core.h"

static const char *esc(const char *s, apr_size_t len)
{
    char *out = apr_palloc(tp, 6 * len + 1);
    apr_size_t used, n = gk_json_escape(out, 6 * len, s, len, &used);

    ck_assert_uint_eq(used, len);
    out[n] = 0;
    return out;
}

START_TEST(escaping)
{
    ck_assert_str_eq(esc("plain", 5), "plain");
    ck_assert_str_eq(esc("a\"b\\c", 5), "a\\\"b\\\\c");
    ck_assert_str_eq(esc("\n\r\t\b\f", 5), "\\n\\r\\t\\b\\f");
    ck_assert_str_eq(esc("\x01\x1f\x7f", 3), "\\u0001\\u001f\\u007f");
    ck_assert_str_eq(esc("a\0b", 3), "a\\u0000b");
    ck_assert_str_eq(esc("/", 1), "/");
}
END_TEST

START_TEST(utf8_repair)
{
    /* valid: kept as they are */
    ck_assert_str_eq(esc("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9),
                     "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    ck_assert_str_eq(esc("\xf4\x8f\xbf\xbf", 4), "\xf4\x8f\xbf\xbf");
    /* invalid: one U+FFFD per byte that starts nothing valid */
    ck_assert_str_eq(esc("\xff", 1), "\xef\xbf\xbd");
    ck_assert_str_eq(esc("\xc0\xaf", 2), "\xef\xbf\xbd\xef\xbf\xbd");
    ck_assert_str_eq(esc("\xed\xa0\x80", 3),   /* a surrogate */
                     "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    ck_assert_str_eq(esc("\xf4\x90\x80\x80", 4), /* above U+10FFFF */
                     "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    ck_assert_str_eq(esc("a\xe2\x82", 3), "a\xef\xbf\xbd\xef\xbf\xbd");
    ck_assert_str_eq(esc("\xe0\x80\x80", 3),   /* overlong */
                     "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
}
END_TEST

static json_t *parse(const char *buf, apr_size_t len)
{
    json_error_t e;
    json_t *j;

    ck_assert_int_eq(buf[len - 1], '\n');
    j = json_loadb(buf, len - 1, JSON_ALLOW_NUL, &e);
    ck_assert_msg(j != NULL, "%s: %.*s", e.text, (int)len, buf);
    return j;
}

START_TEST(object)
{
    char buf[512];
    gk_json_out_t o;
    apr_size_t len;
    json_t *j;

    gk_json_begin(&o, buf, sizeof(buf));
    gk_json_cstr(&o, "s", "v\"1", 0);
    gk_json_int(&o, "n", -42);
    gk_json_int(&o, "big", APR_INT64_MAX);
    gk_json_null(&o, "z");
    gk_json_cstr(&o, "nullstr", NULL, 0);
    gk_json_bool(&o, "t", 1);
    gk_json_obj_open(&o, "http");
    gk_json_obj_open(&o, "request");
    gk_json_cstr(&o, "method", "GET", 0);
    gk_json_close(&o);
    gk_json_close(&o);
    gk_json_arr_open(&o, "roles");
    gk_json_cstr(&o, NULL, "a", 0);
    gk_json_cstr(&o, NULL, "b", 0);
    gk_json_close(&o);
    gk_json_obj_open(&o, "empty");
    len = gk_json_end(&o);          /* closes "empty" */
    ck_assert_str_eq(buf, "{\"s\":\"v\\\"1\",\"n\":-42,\"big\":"
                          "9223372036854775807,\"z\":null,\"nullstr\":null,"
                          "\"t\":true,\"http\":{\"request\":{\"method\":"
                          "\"GET\"}},\"roles\":[\"a\",\"b\"],\"empty\":{}}\n");
    ck_assert_uint_eq(len, strlen(buf));
    ck_assert_int_eq(o.truncated, 0);
    j = parse(buf, len);
    json_decref(j);
}
END_TEST

START_TEST(field_cap)
{
    char buf[256];
    gk_json_out_t o;
    json_t *j;

    gk_json_begin(&o, buf, sizeof(buf));
    gk_json_cstr(&o, "a", "abcdef", 3);
    /* the cap falls inside the euro sign: cut before it */
    gk_json_cstr(&o, "b", "x\xe2\x82\xac", 3);
    gk_json_cstr(&o, "c", "abc", 3);
    ck_assert_int_eq(o.truncated, 2);
    j = parse(buf, gk_json_end(&o));
    ck_assert_str_eq(json_string_value(json_object_get(j, "a")), "abc");
    ck_assert_str_eq(json_string_value(json_object_get(j, "b")), "x");
    ck_assert_str_eq(json_string_value(json_object_get(j, "c")), "abc");
    json_decref(j);
}
END_TEST

START_TEST(line_cap)
{
    char buf[64], big[300];
    gk_json_out_t o;
    apr_size_t len;
    json_t *j;
    int i;

    memset(big, '"', sizeof(big));
    for (i = 0; i < 4; i++) {
        gk_json_begin(&o, buf, sizeof(buf));
        gk_json_obj_open(&o, "x");
        gk_json_arr_open(&o, "y");
        gk_json_str(&o, NULL, big, sizeof(big), 0);
        gk_json_int(&o, NULL, 12345);
        gk_json_obj_open(&o, "dropped"); /* in an array: no key written */
        gk_json_cstr(&o, "inner", "v", 0);
        gk_json_close(&o);
        len = gk_json_end(&o);
        ck_assert_uint_le(len, sizeof(buf));
        ck_assert(o.truncated > 0);
        j = parse(buf, len);
        json_decref(j);
    }
    /* the reserve keeps room for the tail */
    gk_json_begin(&o, buf, sizeof(buf));
    o.reserve = 20;
    gk_json_str(&o, "a", big, sizeof(big), 0);
    o.reserve = 0;
    gk_json_cstr(&o, "id", "0123456789", 0);
    len = gk_json_end(&o);
    j = parse(buf, len);
    ck_assert_str_eq(json_string_value(json_object_get(j, "id")),
                     "0123456789");
    json_decref(j);
}
END_TEST

START_TEST(too_deep)
{
    char buf[256];
    gk_json_out_t o;
    json_t *j;
    int i;

    gk_json_begin(&o, buf, sizeof(buf));
    for (i = 0; i < GK_JSON_MAX_DEPTH + 3; i++) {
        gk_json_obj_open(&o, "d");
    }
    gk_json_cstr(&o, "leaf", "x", 0);
    for (i = 0; i < GK_JSON_MAX_DEPTH + 3; i++) {
        gk_json_close(&o);
    }
    gk_json_cstr(&o, "after", "y", 0);
    ck_assert(o.truncated > 0);
    j = parse(buf, gk_json_end(&o));
    ck_assert_str_eq(json_string_value(json_object_get(j, "after")), "y");
    json_decref(j);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("json_out");
    TCase *tc = tk_tcase("json_out");

    tcase_add_test(tc, escaping);
    tcase_add_test(tc, utf8_repair);
    tcase_add_test(tc, object);
    tcase_add_test(tc, field_cap);
    tcase_add_test(tc, line_cap);
    tcase_add_test(tc, too_deep);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(suite)
