/* Form bodies (gk_form): the media type of the token endpoint's requests
 * and the urlencoded parser (RFC 6749 §4.3.2, WHATWG urlencoded, made
 * strict). */
#include "gk_form.h"
#include "gk_test_core.h"

/* Parse a NUL-terminated body with room for 32 fields; must succeed. */
static apr_table_t *form_ok(const char *body)
{
    apr_table_t *t = NULL;
    const char *dup = "unset";
    const char *err = gk_form_parse(tp, body, strlen(body), 32, &t, &dup);

    ck_assert_msg(err == NULL, "'%s' refused: %s", body, err);
    ck_assert_ptr_nonnull(t);
    ck_assert_ptr_null(dup);
    return t;
}

/* The error of parsing body with room for max fields (must be one); *out
 * must then be NULL. */
static const char *form_err_n(const char *body, apr_size_t len,
                              apr_size_t max)
{
    apr_table_t *t = (apr_table_t *)tp; /* anything but NULL */
    const char *err = gk_form_parse(tp, body, len, max, &t, NULL);

    ck_assert_msg(err != NULL, "'%s' accepted", body);
    ck_assert_ptr_null(t);
    return err;
}

static const char *form_err(const char *body)
{
    return form_err_n(body, strlen(body), 32);
}

/* Assert that t holds exactly the given name, value pairs, in order. */
static void fields_are(const apr_table_t *t, ...)
{
    const apr_array_header_t *a = apr_table_elts(t);
    const apr_table_entry_t *e = (const apr_table_entry_t *)a->elts;
    const char *name;
    int i = 0;
    va_list ap;

    va_start(ap, t);
    while ((name = va_arg(ap, const char *))) {
        const char *value = va_arg(ap, const char *);
        ck_assert_msg(i < a->nelts, "missing field %s", name);
        ck_assert_str_eq(e[i].key, name);
        ck_assert_str_eq(e[i].val, value);
        i++;
    }
    va_end(ap);
    ck_assert_int_eq(a->nelts, i);
}

/* ---- gk_form_parse: what it accepts -------------------------------------- */

START_TEST(rfc6749_example)
{
    /* RFC 6749 §4.3.2 */
    apr_table_t *t =
        form_ok("grant_type=password&username=johndoe&password=A3ddj3w");

    fields_are(t, "grant_type", "password", "username", "johndoe",
               "password", "A3ddj3w", NULL);
    ck_assert_str_eq(gk_form_get(t, "username"), "johndoe");
    ck_assert_str_eq(gk_form_get(t, "password"), "A3ddj3w");
    ck_assert_ptr_null(gk_form_get(t, "scope"));
    ck_assert_ptr_null(gk_form_get(t, "Username"));
    ck_assert_ptr_null(gk_form_get(t, NULL));
    ck_assert_ptr_null(gk_form_get(NULL, "username"));

    /* FastAPI's OAuth2PasswordRequestForm, as its docs' client sends it */
    t = form_ok("grant_type=&username=johndoe&password=secret&scope="
                "items%3Aread+users%3Ame&client_id=&client_secret=");
    ck_assert_str_eq(gk_form_get(t, "scope"), "items:read users:me");
    ck_assert_str_eq(gk_form_get(t, "grant_type"), "");
}
END_TEST

START_TEST(plus_and_percent)
{
    apr_table_t *t = form_ok("a=x+y&b=x%20y&c=1%2B1&d=%2b%2f%3D%26%25"
                             "&e+f=g&h%3Di=j&k=%7e%7E&l=%41%61");

    fields_are(t, "a", "x y", "b", "x y", "c", "1+1", "d", "+/=&%",
               "e f", "g", "h=i", "j", "k", "~~", "l", "Aa", NULL);
    /* '=' only splits once; '+' alone */
    fields_are(form_ok("a=b=c&+=+"), "a", "b=c", " ", " ", NULL);
    fields_are(form_ok("x=%3D%3d"), "x", "==", NULL);
    /* controls other than NUL pass: the handler decides about them */
    fields_are(form_ok("p=a%0D%0Ab%09"), "p", "a\r\nb\t", NULL);
}
END_TEST

START_TEST(utf8_fields)
{
    /* "été" and "пароль" percent-encoded, raw UTF-8, a 4-byte character */
    apr_table_t *t = form_ok("%C3%A9t%C3%A9=%D0%BF%D0%B0%D1%80%D0%BE%D0%BB"
                             "%D1%8C&n\xc3\xa4me=v\xe2\x82\xac&emoji=%F0%9F"
                             "%94%91&max=%F4%8F%BF%BF&bom=%EF%BB%BF");

    fields_are(t, "\xc3\xa9t\xc3\xa9",
               "\xd0\xbf\xd0\xb0\xd1\x80\xd0\xbe\xd0\xbb\xd1\x8c",
               "n\xc3\xa4me", "v\xe2\x82\xac", "emoji", "\xf0\x9f\x94\x91",
               "max", "\xf4\x8f\xbf\xbf", "bom", "\xef\xbb\xbf", NULL);
}
END_TEST

START_TEST(empty_and_bare)
{
    apr_table_t *t = NULL;
    const char *dup = "unset";

    /* an empty body: an empty table, and NULL is fine for 0 bytes */
    tk_assert_ok(gk_form_parse(tp, NULL, 0, 4, &t, &dup));
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(apr_table_elts(t)->nelts, 0);
    ck_assert_ptr_null(dup);
    fields_are(form_ok(""), NULL);
    tk_assert_ok(gk_form_parse(tp, "", 0, 0, &t, NULL));
    /* empty pairs skipped, wherever they are */
    fields_are(form_ok("&"), NULL);
    fields_are(form_ok("&&&"), NULL);
    fields_are(form_ok("&a=1&&b=2&"), "a", "1", "b", "2", NULL);
    /* a name without '=': value "" */
    fields_are(form_ok("a"), "a", "", NULL);
    fields_are(form_ok("a&b=&c=3"), "a", "", "b", "", "c", "3", NULL);
    /* only the len bytes given are read */
    t = NULL;
    tk_assert_ok(gk_form_parse(tp, "a=1&b=2", 3, 4, &t, NULL));
    fields_are(t, "a", "1", NULL);
    tk_assert_ok(gk_form_parse(tp, "a=%41%42", 5, 4, &t, NULL));
    fields_are(t, "a", "A", NULL);
    tk_assert_err(form_err_n("a=%41%42", 6, 4), "malformed percent");
    tk_assert_err(form_err_n("a=%41%42", 7, 4), "malformed percent");
}
END_TEST

START_TEST(long_values)
{
    apr_size_t n = 100000, i;
    char *body = apr_palloc(tp, 3 * n + 16), *want = apr_palloc(tp, n + 1);
    apr_table_t *t;

    /* 100000 bytes raw, then the same percent-encoded (300000 bytes) */
    memcpy(body, "v=", 2);
    for (i = 0; i < n; i++) {
        body[2 + i] = want[i] = (char)('a' + i % 26);
    }
    body[2 + n] = want[n] = '\0';
    t = form_ok(body);
    ck_assert_str_eq(gk_form_get(t, "v"), want);

    memcpy(body, "v=", 2);
    for (i = 0; i < n; i++) {
        memcpy(body + 2 + 3 * i, "%4A", 3);
        want[i] = 'J';
    }
    memcpy(body + 2 + 3 * n, "&w=1", 5);
    t = form_ok(body);
    ck_assert_str_eq(gk_form_get(t, "v"), want);
    ck_assert_str_eq(gk_form_get(t, "w"), "1");
    ck_assert_uint_eq(strlen(gk_form_get(t, "v")), n);

    /* and as long a name */
    memcpy(body + 2 + 3 * n, "=1", 3);
    t = form_ok(body + 2);
    ck_assert_str_eq(gk_form_get(t, want), "1");

    /* a 100000-byte value ending in a truncated '%' */
    memcpy(body, "v=", 2);
    memset(body + 2, 'a', n);
    memcpy(body + 2 + n, "%4", 3);
    tk_assert_err(form_err(body), "malformed percent-encoding at byte 100002");
}
END_TEST

/* ---- gk_form_parse: what it refuses -------------------------------------- */

START_TEST(bad_percent)
{
    static const char *const bad[] = {
        "a=%", "a=%4", "a=%G1", "a=%1G", "a=%%41", "a=%+41", "a=% 41",
        "a=%-1", "a=%\xc3\xa9", "%=a", "%4=a", "a%zz=b", "a=1&b=%",
        "a=%4&b=1", "a=100%", "a=%0x41", NULL
    };
    int i;

    for (i = 0; bad[i]; i++) {
        tk_assert_err(form_err(bad[i]), "malformed percent-encoding");
    }
    tk_assert_err(form_err("a=%"), "at byte 2");
    tk_assert_err(form_err("a=1&bb=%G1"), "at byte 7");
    tk_assert_err(form_err("xy%4"), "at byte 2");
    /* '%' may not straddle a pair: "%4" then "&1" */
    tk_assert_err(form_err("a=%4&1"), "malformed percent-encoding");
    /* the error never repeats the body */
    ck_assert_ptr_null(strstr(form_err("password=s3cr%et"), "s3cr"));
}
END_TEST

START_TEST(bad_utf8)
{
    static const char *const bad[] = {
        "a=%FF", "a=%C3", "a=%C3%28", "a=%80", "a=%C0%AF", "a=%C1%BF",
        "a=%E0%80%AF", "a=%E0%9F%BF", "a=%ED%A0%80", "a=%ED%BF%BF",
        "a=%F0%80%80%AF", "a=%F4%90%80%80", "a=%F5%80%80%80",
        "a=%F8%88%80%80%80", "a=%E2%82", "a=%F0%9F%94", "a=\xff",
        "a=\xc3", "a=x\xe2\x82", "%FF=a", "n\xc3=1",
        /* a character may not straddle '=' */
        "%C3=%A9", NULL
    };
    int i;

    for (i = 0; bad[i]; i++) {
        tk_assert_err(form_err(bad[i]), "invalid UTF-8");
    }
    tk_assert_err(form_err("%FF=a"), "in the name");
    tk_assert_err(form_err("x=1&a=%FF"), "in the value of the field at byte 4");
    /* the edges that are valid */
    fields_are(form_ok("a=%C2%80%DF%BF%E0%A0%80%ED%9F%BF%EE%80%80%EF%BF%BF"
                       "%F0%90%80%80"),
               "a", "\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80"
                    "\xef\xbf\xbf\xf0\x90\x80\x80", NULL);
}
END_TEST

START_TEST(nul)
{
    tk_assert_err(form_err("a=%00"), "NUL in the value");
    tk_assert_err(form_err("a=x%00y"), "NUL");
    tk_assert_err(form_err("%00=a"), "NUL in the name");
    tk_assert_err(form_err("a%00b=1"), "NUL in the name");
    /* raw NUL bytes in the body */
    tk_assert_err(form_err_n("a=x\0y", 5, 4), "NUL in the value");
    tk_assert_err(form_err_n("a\0=1", 4, 4), "NUL in the name");
    tk_assert_err(form_err_n("\0", 1, 4), "NUL in the name");
    tk_assert_err(form_err_n("a=1&\0", 5, 4), "at byte 4");
}
END_TEST

START_TEST(no_name)
{
    tk_assert_err(form_err("=x"), "field without a name at byte 0");
    tk_assert_err(form_err("="), "without a name");
    tk_assert_err(form_err("a=1&=2"), "at byte 4");
    /* a name that decodes to a space is a name */
    fields_are(form_ok("+=1"), " ", "1", NULL);
}
END_TEST

START_TEST(duplicates)
{
    apr_table_t *t = (apr_table_t *)tp;
    const char *dup = NULL;
    const char *b;

    b = "username=a&password=x&username=b";
    tk_assert_err(gk_form_parse(tp, b, strlen(b), 32, &t, &dup),
                  "field repeated at byte 22");
    ck_assert_ptr_null(t);
    ck_assert_str_eq(dup, "username");

    /* the same with an empty value, or none */
    b = "scope=&scope=admin";
    tk_assert_err(gk_form_parse(tp, b, strlen(b), 32, &t, &dup), "repeated");
    ck_assert_str_eq(dup, "scope");
    b = "scope&scope";
    tk_assert_err(gk_form_parse(tp, b, strlen(b), 32, &t, &dup), "repeated");
    /* as decoded names: encoded and not, '+' and %20 */
    b = "user%6eame=a&username=b";
    tk_assert_err(gk_form_parse(tp, b, strlen(b), 32, &t, &dup), "repeated");
    ck_assert_str_eq(dup, "username");
    b = "a+b=1&a%20b=2";
    tk_assert_err(gk_form_parse(tp, b, strlen(b), 32, &t, &dup), "repeated");
    ck_assert_str_eq(dup, "a b");
    /* in any ASCII case: the table's lookups fold case */
    b = "username=a&USERNAME=b";
    tk_assert_err(gk_form_parse(tp, b, strlen(b), 32, &t, &dup), "repeated");
    ck_assert_str_eq(dup, "USERNAME");
    /* dup may be NULL; it is reset on other errors and on success */
    tk_assert_err(gk_form_parse(tp, b, strlen(b), 32, &t, NULL), "repeated");
    dup = "x";
    tk_assert_err(gk_form_parse(tp, "a=%", 3, 32, &t, &dup), "malformed");
    ck_assert_ptr_null(dup);
    dup = "x";
    tk_assert_ok(gk_form_parse(tp, "a=1", 3, 32, &t, &dup));
    ck_assert_ptr_null(dup);
    /* names that differ beyond case are different */
    fields_are(form_ok("user=1&username=2&\xc3\xa9=3&\xc3\x89=4"), "user",
               "1", "username", "2", "\xc3\xa9", "3", "\xc3\x89", "4", NULL);
    /* and gk_form_get is exact */
    t = form_ok("Username=a&password=b");
    ck_assert_ptr_null(gk_form_get(t, "username"));
    ck_assert_str_eq(gk_form_get(t, "Username"), "a");
}
END_TEST

START_TEST(max_fields)
{
    apr_table_t *t = NULL;
    apr_size_t n;
    char *body;
    int i;

    tk_assert_ok(gk_form_parse(tp, "a=1&b=2&c=3", 11, 3, &t, NULL));
    ck_assert_int_eq(apr_table_elts(t)->nelts, 3);
    tk_assert_err(form_err_n("a=1&b=2&c=3", 11, 2), "more than 2 fields");
    tk_assert_err(form_err_n("a", 1, 0), "more than 0 fields");
    /* empty pairs do not count */
    tk_assert_ok(gk_form_parse(tp, "&&a=1&&b=2&&", 12, 2, &t, NULL));
    tk_assert_ok(gk_form_parse(tp, "&&&", 3, 0, &t, NULL));
    /* counted before decoding: the error is the count, not the '%' */
    tk_assert_err(form_err_n("a=1&b=2&c=%", 11, 2), "more than 2 fields");
    /* nor the repeat */
    tk_assert_err(form_err_n("a&a&a", 5, 2), "more than 2 fields");

    /* 4096 one-byte fields, each distinct: 1 to 2^12 in base 26... */
    body = apr_palloc(tp, 4096 * 4 + 1);
    n = 0;
    for (i = 0; i < 4096; i++) {
        body[n++] = (char)('a' + i % 26);
        body[n++] = (char)('a' + i / 26 % 26);
        body[n++] = (char)('a' + i / 676);
        body[n++] = '&';
    }
    tk_assert_ok(gk_form_parse(tp, body, n, 4096, &t, NULL));
    ck_assert_int_eq(apr_table_elts(t)->nelts, 4096);
    tk_assert_err(form_err_n(body, n, 4095), "more than 4095 fields");
}
END_TEST

/* ---- gk_form_media_type_ok ------------------------------------------------ */

START_TEST(media_type_accepted)
{
    static const char *const ok[] = {
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=UTF-8",
        "application/x-www-form-urlencoded;charset=utf-8",
        "application/x-www-form-urlencoded ; charset=\"UTF-8\"",
        "application/x-www-form-urlencoded;\tcharset=us-ascii",
        "application/x-www-form-urlencoded; charset=US-ASCII",
        "APPLICATION/X-WWW-FORM-URLENCODED",
        "Application/X-Www-Form-Urlencoded; Charset=Utf-8",
        "  application/x-www-form-urlencoded  ",
        "\tapplication/x-www-form-urlencoded\t;\tcharset=utf-8\t",
        "application/x-www-form-urlencoded;",
        "application/x-www-form-urlencoded; ;",
        "application/x-www-form-urlencoded;;charset=utf-8;;",
        "application/x-www-form-urlencoded; foo=bar",
        "application/x-www-form-urlencoded; foo=\"a;b \\\" c\"; charset=utf-8",
        "application/x-www-form-urlencoded; foo=\"\"",
        "application/x-www-form-urlencoded; charset=\"utf\\-8\"",
        NULL
    };
    int i;

    for (i = 0; ok[i]; i++) {
        ck_assert_msg(gk_form_media_type_ok(ok[i]), "refused: %s", ok[i]);
    }
}
END_TEST

START_TEST(media_type_refused)
{
    static const char *const bad[] = {
        "",
        " ",
        "application/x-www-form-urlencoded-evil",
        "application/x-www-form-urlencodedXYZ",
        "application/x-www-form-urlencoded/x",
        "application/x-www-form-urlencoded x",
        "application/x-www-form-urlencoded,text/plain",
        "application/x-www-form-urlencode",
        "application/x-www-form",
        "application /x-www-form-urlencoded",
        "application/ x-www-form-urlencoded",
        "multipart/form-data",
        "multipart/form-data; boundary=x",
        "text/plain",
        "text/plain; x=application/x-www-form-urlencoded",
        "application/json",
        "*/*",
        "application/*",
        "application/x-www-form-urlencoded; charset=ISO-8859-1",
        "application/x-www-form-urlencoded; charset=utf-16",
        "application/x-www-form-urlencoded; charset=utf8",
        "application/x-www-form-urlencoded; charset=utf-8x",
        "application/x-www-form-urlencoded; charset=\"utf-8 \"",
        "application/x-www-form-urlencoded; charset=",
        "application/x-www-form-urlencoded; charset=\"\"",
        "application/x-www-form-urlencoded; charset=utf-8; charset=utf-8",
        "application/x-www-form-urlencoded; charset=utf-8; CHARSET=latin1",
        "application/x-www-form-urlencoded; charset=utf-8-and-more-bytes",
        "application/x-www-form-urlencoded; charset = utf-8",
        "application/x-www-form-urlencoded; charset",
        "application/x-www-form-urlencoded; =utf-8",
        "application/x-www-form-urlencoded; foo=\"unterminated",
        "application/x-www-form-urlencoded; foo=\"a\"b",
        "application/x-www-form-urlencoded; foo=a b",
        "application/x-www-form-urlencoded; foo=\"\x01\"",
        "application/x-www-form-urlencoded; foo=\"\\",
        "application/x-www-form-urlencoded\r\nX-Evil: 1",
        "application/x-www-form-urlencoded\x0b",
        "application/x-www-form-urlencoded\xc2\xa0",
        "\xef\xbb\xbf" "application/x-www-form-urlencoded",
        NULL
    };
    int i;

    ck_assert(!gk_form_media_type_ok(NULL));
    for (i = 0; bad[i]; i++) {
        ck_assert_msg(!gk_form_media_type_ok(bad[i]), "accepted: %s", bad[i]);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("form");
    TCase *tc = tk_tcase("parse");

    tcase_add_test(tc, rfc6749_example);
    tcase_add_test(tc, plus_and_percent);
    tcase_add_test(tc, utf8_fields);
    tcase_add_test(tc, empty_and_bare);
    tcase_add_test(tc, long_values);
    suite_add_tcase(s, tc);

    tc = tk_tcase("refused");
    tcase_add_test(tc, bad_percent);
    tcase_add_test(tc, bad_utf8);
    tcase_add_test(tc, nul);
    tcase_add_test(tc, no_name);
    tcase_add_test(tc, duplicates);
    tcase_add_test(tc, max_fields);
    suite_add_tcase(s, tc);

    tc = tk_tcase("media_type");
    tcase_add_test(tc, media_type_accepted);
    tcase_add_test(tc, media_type_refused);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(suite)
