/*
 * Character rules for exported values (common/gk_text.c): roles and
 * permissions are visible ASCII, names are UTF-8 without controls, header
 * names fold as CGI/WSGI fold them, GK_CLAIMS is one printable line.
 */
#include "gk_test.h"
#include "gk_http.h"
#include "gk_text.h"

START_TEST(atom)
{
    static const char *const ok[] = {"a", "admin", "x-y_z.w", "a:b", "*",
                                     "!#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
                                     "0123456789", "\"quoted\""};
    static const char *const bad[] = {
        "", " ", "a b", " a", "a ", "a\tb", "a\nb", "a\rb", "a\r\nb",
        "a\x0b", "a\x0c", "a\x1b", "a\x7f", "\x7f",
        "x\xc2\xa0" "admin",   /* U+00A0: Latin-1 readers split on 0xA0 */
        "x\xc2\x85" "admin",   /* U+0085 NEL */
        "\xd0\xb0" "dmin",     /* Cyrillic a: looks like admin */
        "\xc3\xa9", "a\x80", "a\xff", "a\xfe"};
    size_t i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        ck_assert_msg(gk_text_is_atom(ok[i]), "'%s'", ok[i]);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(!gk_text_is_atom(bad[i]), "'%s'", bad[i]);
    }
    /* every single byte: exactly 0x21-0x7E */
    for (i = 1; i < 256; i++) {
        char s[2] = {(char)i, 0};
        ck_assert_int_eq(gk_text_is_atom(s), i >= 0x21 && i <= 0x7e);
    }
}
END_TEST

static int name(const char *s)
{
    return gk_text_is_name(s, strlen(s));
}

START_TEST(name_rule)
{
    static const char *const ok[] = {
        "", "alice", "bob@example.org", "a b", "J\xc3\xbcrgen",
        "\xe5\xbc\xa0\xe4\xbc\x9f",         /* CJK */
        "\xf0\x9f\x98\x80",                 /* U+1F600 */
        "x\xc2\xa0y",                       /* U+00A0: not a control */
        "\xc2\xa0", "\xef\xbf\xbd",         /* U+FFFD */
        "\xf4\x8f\xbf\xbf",                 /* U+10FFFF */
        "\xe2\x80\xa7",                     /* U+2027, beside U+2028 */
        "\xed\x9f\xbf",                     /* U+D7FF */
        "\xee\x80\x80",                     /* U+E000 */
        "~!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}"};
    static const char *const bad[] = {
        "a\rb", "a\nb", "a\r\nX-Injected: 1", "a\tb", "\x01", "a\x1f",
        "a\x7f", "a\x1b[31m",
        "a\xc2\x80", "a\xc2\x85", "a\xc2\x9f",   /* C1 controls */
        "a\xe2\x80\xa8", "a\xe2\x80\xa9",        /* U+2028, U+2029 */
        "\x80", "a\xbf", "\xc2", "a\xc2", "\xe2\x80", "\xf0\x9f\x98",
        "\xc0\xaf", "\xc1\xbf",                  /* overlong */
        "\xe0\x80\xaf", "\xe0\x9f\xbf",          /* overlong 3 bytes */
        "\xf0\x80\x80\xaf", "\xf0\x8f\xbf\xbf",  /* overlong 4 bytes */
        "\xed\xa0\x80", "\xed\xbf\xbf",          /* surrogates */
        "\xf4\x90\x80\x80", "\xf5\x80\x80\x80",  /* above U+10FFFF */
        "\xf8\x88\x80\x80\x80", "\xfe", "\xff",
        "\xc3\x28", "\xe2\x28\xa1", "\xe2\x82\x28"};
    size_t i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        ck_assert_msg(name(ok[i]), "'%s'", ok[i]);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(!name(bad[i]), "entry %zu", i);
    }
    /* the length is honoured: a NUL inside, or a cut sequence */
    ck_assert(!gk_text_is_name("a\0b", 3));
    ck_assert(gk_text_is_name("ab\n", 2));
    ck_assert(!gk_text_is_name("\xc3\xbc", 1));
    /* every code point from U+0000 to U+10FFFF, encoded by hand */
    for (i = 0; i <= 0x10ffff; i++) {
        unsigned char b[4];
        apr_size_t n;
        int want;
        if (i < 0x80) {
            b[0] = (unsigned char)i;
            n = 1;
        }
        else if (i < 0x800) {
            b[0] = (unsigned char)(0xc0 | (i >> 6));
            b[1] = (unsigned char)(0x80 | (i & 0x3f));
            n = 2;
        }
        else if (i < 0x10000) {
            b[0] = (unsigned char)(0xe0 | (i >> 12));
            b[1] = (unsigned char)(0x80 | ((i >> 6) & 0x3f));
            b[2] = (unsigned char)(0x80 | (i & 0x3f));
            n = 3;
        }
        else {
            b[0] = (unsigned char)(0xf0 | (i >> 18));
            b[1] = (unsigned char)(0x80 | ((i >> 12) & 0x3f));
            b[2] = (unsigned char)(0x80 | ((i >> 6) & 0x3f));
            b[3] = (unsigned char)(0x80 | (i & 0x3f));
            n = 4;
        }
        want = !(i < 0x20 || (i >= 0x7f && i <= 0x9f)
                 || (i >= 0xd800 && i <= 0xdfff) || i == 0x2028
                 || i == 0x2029);
        if (gk_text_is_name((const char *)b, n) != want) {
            ck_abort_msg("U+%04zX: expected %d", i, want);
        }
    }
}
END_TEST

START_TEST(header_same)
{
    ck_assert(gk_http_header_same("X-User-Email", "X-User-Email"));
    ck_assert(gk_http_header_same("X-User-Email", "x_user_email"));
    ck_assert(gk_http_header_same("X-User-Email", "X_USER-EMAIL"));
    ck_assert(gk_http_header_same("x_user_email", "X-USER-EMAIL"));
    ck_assert(gk_http_header_same("a", "A"));
    ck_assert(!gk_http_header_same("X-User-Email", "X-User-Emai"));
    ck_assert(!gk_http_header_same("X-User-Email", "X-User-Emails"));
    ck_assert(!gk_http_header_same("X-User-Email", "XUserEmail"));
    ck_assert(!gk_http_header_same("X-User-Email", "X.User.Email"));
    ck_assert(!gk_http_header_same("X-User", "X--User"));
    ck_assert(!gk_http_header_same("", "a"));
    ck_assert(gk_http_header_same("", ""));
    /* no locale games: only ASCII letters fold */
    ck_assert(!gk_http_header_same("X-\xc3\x9c", "x-\xc3\xbc"));
}
END_TEST

static void line_is(const char *text, const char *want_same_as,
                    int passthrough)
{
    json_error_t e;
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &e), *back;
    const char *out;
    const unsigned char *u;

    ck_assert_msg(j != NULL, "%s: %s", text, e.text);
    out = gk_text_json_line(tp, text, strlen(text), j);
    ck_assert_ptr_nonnull(out);
    if (passthrough) {
        ck_assert_ptr_eq(out, text);
    }
    else {
        ck_assert_ptr_ne(out, text);
    }
    for (u = (const unsigned char *)out; *u; u++) {
        ck_assert_msg(*u >= 0x20 && *u <= 0x7e, "byte 0x%02x in %s", *u,
                      out);
    }
    if (want_same_as) {
        ck_assert_str_eq(out, want_same_as);
    }
    back = json_loads(out, JSON_REJECT_DUPLICATES, &e);
    ck_assert_msg(back != NULL, "%s: %s", out, e.text);
    ck_assert(json_equal(back, j));
    json_decref(back);
    json_decref(j);
}

START_TEST(json_line)
{
    /* printable ASCII: the text as signed, no copy */
    line_is("{\"sub\":\"alice\",\"n\":1}", NULL, 1);
    line_is("{\"sub\": \"a\\nb\", \"x\": [1, 2]}", NULL, 1);
    /* line breaks between values: compact */
    line_is("{\n  \"sub\": \"alice\",\r\n  \"a\": [1,\t2]\n}",
            "{\"sub\":\"alice\",\"a\":[1,2]}", 0);
    /* non-ASCII, C1 and U+2028 are escaped */
    line_is("{\"name\":\"J\xc3\xbcrgen \xc2\x85 \xe2\x80\xa8 \xf0\x9f\x98\x80\"}",
            "{\"name\":\"J\\u00FCrgen \\u0085 \\u2028 \\uD83D\\uDE00\"}", 0);
    /* DEL, which jansson writes raw */
    line_is("{\"d\":\"a\x7f" "b\x7f\"}", "{\"d\":\"a\\u007Fb\\u007F\"}", 0);
    /* no text at all: serialized */
    {
        json_t *j = json_pack("{s:s}", "a", "b\nc");
        ck_assert_str_eq(gk_text_json_line(tp, NULL, 0, j),
                         "{\"a\":\"b\\nc\"}");
        json_decref(j);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("text");
    TCase *tc = tk_tcase("text");

    tcase_add_test(tc, atom);
    tcase_add_test(tc, name_rule);
    tcase_add_test(tc, header_same);
    tcase_add_test(tc, json_line);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(suite)
