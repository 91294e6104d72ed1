/* Response header fields (gk_hdr): names, values, Vary merges. */
#include "gk_hdr.h"
#include "gk_test_core.h"

START_TEST(tokens)
{
    ck_assert(gk_hdr_is_token("X-Frame-Options"));
    ck_assert(gk_hdr_is_token("a!#$%&'*+-.^_`|~9"));
    ck_assert(!gk_hdr_is_token(""));
    ck_assert(!gk_hdr_is_token(NULL));
    ck_assert(!gk_hdr_is_token("X Frame"));
    ck_assert(!gk_hdr_is_token("X:Frame"));
    ck_assert(!gk_hdr_is_token("X\r\nY"));
    ck_assert(!gk_hdr_is_token("caf\xc3\xa9"));
    ck_assert(!gk_hdr_is_token("a(b)"));
}
END_TEST

START_TEST(values)
{
    ck_assert(gk_hdr_is_value("DENY"));
    ck_assert(gk_hdr_is_value("default-src 'self'; img-src\tdata:"));
    ck_assert(gk_hdr_is_value("1; mode=block"));
    ck_assert(!gk_hdr_is_value(""));
    ck_assert(!gk_hdr_is_value(NULL));
    ck_assert(!gk_hdr_is_value(" DENY"));
    ck_assert(!gk_hdr_is_value("DENY "));
    ck_assert(!gk_hdr_is_value("DENY\t"));
    ck_assert(!gk_hdr_is_value("a\r\nX-Injected: 1"));
    ck_assert(!gk_hdr_is_value("a\nb"));
    ck_assert(!gk_hdr_is_value("a\x7f"));
    ck_assert(!gk_hdr_is_value("caf\xc3\xa9"));
}
END_TEST

START_TEST(vary)
{
    ck_assert_str_eq(gk_hdr_vary_merge(tp, "Accept-Encoding", "Origin"),
                     "Accept-Encoding, Origin");
    ck_assert_str_eq(gk_hdr_vary_merge(tp, "accept-encoding,origin",
                                       "Origin, Cookie"),
                     "accept-encoding, origin, Cookie");
    ck_assert_str_eq(gk_hdr_vary_merge(tp, NULL, "Origin"), "Origin");
    ck_assert_str_eq(gk_hdr_vary_merge(tp, "Origin", NULL), "Origin");
    ck_assert_str_eq(gk_hdr_vary_merge(tp, " , ,A ,, b\t", ""), "A, b");
    ck_assert_str_eq(gk_hdr_vary_merge(tp, "A, *", "B"), "*");
    ck_assert_str_eq(gk_hdr_vary_merge(tp, "A", "*"), "*");
    /* members that are not field names are dropped */
    ck_assert_str_eq(gk_hdr_vary_merge(tp, "A B, C\r\nX: y, D", "E"),
                     "D, E");
    ck_assert_ptr_null(gk_hdr_vary_merge(tp, NULL, NULL));
    ck_assert_ptr_null(gk_hdr_vary_merge(tp, " , ", ""));
    ck_assert_str_eq(gk_hdr_vary_merge(tp, "a, A, a", "A"), "a");
}
END_TEST

static const char *hsts(const char *a, const char *b, const char *c,
                        const char **err)
{
    const char *argv[3] = {a, b, c};
    const char *v = NULL;
    int n = c ? 3 : b ? 2 : a ? 1 : 0;

    *err = gk_hdr_hsts_parse(tp, n, argv, 315360000L, &v);
    return v;
}

START_TEST(hsts_values)
{
    const char *e;

    ck_assert_str_eq(hsts("max-age=31536000", NULL, NULL, &e),
                     "max-age=31536000");
    ck_assert_str_eq(hsts("MAX-AGE=0", NULL, NULL, &e), "max-age=0");
    ck_assert_str_eq(hsts("includesubdomains", "max-age=600", NULL, &e),
                     "max-age=600; includeSubDomains");
    ck_assert_str_eq(hsts("max-age=63072000", "preload",
                          "includeSubDomains", &e),
                     "max-age=63072000; includeSubDomains; preload");
    ck_assert_str_eq(hsts("max-age=31536000", "includeSubDomains",
                          "PRELOAD", &e),
                     "max-age=31536000; includeSubDomains; preload");
}
END_TEST

START_TEST(hsts_refused)
{
    const char *e;

    ck_assert_ptr_null(hsts(NULL, NULL, NULL, &e));
    ck_assert_str_eq(e, "max-age=SECONDS is required");
    ck_assert_ptr_null(hsts("includeSubDomains", NULL, NULL, &e));
    ck_assert_ptr_null(hsts("max-age=", NULL, NULL, &e));
    ck_assert_ptr_nonnull(strstr(e, "max-age must be"));
    ck_assert_ptr_null(hsts("max-age=-1", NULL, NULL, &e));
    ck_assert_ptr_null(hsts("max-age=1e6", NULL, NULL, &e));
    ck_assert_ptr_null(hsts("max-age=315360001", NULL, NULL, &e));
    ck_assert_ptr_null(hsts("max-age=99999999999", NULL, NULL, &e));
    ck_assert_ptr_null(hsts("max-age= 5", NULL, NULL, &e));
    ck_assert_ptr_null(hsts("max-age=5", "max-age=6", NULL, &e));
    ck_assert_str_eq(e, "max-age given twice");
    ck_assert_ptr_null(hsts("max-age=5", "includeSubdomain", NULL, &e));
    ck_assert_ptr_nonnull(strstr(e, "'includeSubdomain' is not"));
    ck_assert_ptr_null(hsts("max-age=5", "includeSubDomains",
                            "includesubdomains", &e));
    /* preload: a year and includeSubDomains */
    ck_assert_ptr_null(hsts("max-age=31535999", "includeSubDomains",
                            "preload", &e));
    ck_assert_ptr_nonnull(strstr(e, "preload needs"));
    ck_assert_ptr_null(hsts("max-age=31536000", "preload", NULL, &e));
    ck_assert_ptr_nonnull(strstr(e, "preload needs"));
}
END_TEST

START_TEST(forwarded)
{
    ck_assert(gk_hdr_forwarded_https(NULL, "https"));
    ck_assert(gk_hdr_forwarded_https(NULL, "HTTPS"));
    ck_assert(gk_hdr_forwarded_https(NULL, " https "));
    ck_assert(!gk_hdr_forwarded_https(NULL, "http"));
    ck_assert(!gk_hdr_forwarded_https(NULL, NULL));
    ck_assert(!gk_hdr_forwarded_https(NULL, ""));
    ck_assert(!gk_hdr_forwarded_https(NULL, "httpsx"));
    /* the last member is the nearest proxy's */
    ck_assert(gk_hdr_forwarded_https(NULL, "http, https"));
    ck_assert(!gk_hdr_forwarded_https(NULL, "https, http"));
    ck_assert(gk_hdr_forwarded_https("proto=https", NULL));
    ck_assert(gk_hdr_forwarded_https("for=192.0.2.1;Proto=\"https\"", NULL));
    ck_assert(gk_hdr_forwarded_https(
        "for=a;proto=http, for=\"[2001:db8::1]\";proto=https;by=x", NULL));
    ck_assert(!gk_hdr_forwarded_https("for=a;proto=https, for=b;proto=http",
                                      NULL));
    /* Forwarded decides when it has a proto, else X-Forwarded-Proto */
    ck_assert(!gk_hdr_forwarded_https("proto=http", "https"));
    ck_assert(gk_hdr_forwarded_https("for=a", "https"));
    ck_assert(gk_hdr_forwarded_https("proto=https, for=b", "https"));
    ck_assert(!gk_hdr_forwarded_https("proto=https, for=b", NULL));
    /* a quoted comma does not start an element */
    ck_assert(gk_hdr_forwarded_https("for=\"a,b\";proto=https", NULL));
    ck_assert(!gk_hdr_forwarded_https("proto=https;proto=https", NULL));
    ck_assert(!gk_hdr_forwarded_https("proto=\"https", NULL));
    ck_assert(!gk_hdr_forwarded_https("proto=", NULL));
}
END_TEST

START_TEST(targets)
{
    ck_assert_str_eq(gk_hdr_target_path(tp, "/a//b/%7E?x=%20&y=/?z"),
                     "/a//b/%7E?x=%20&y=/?z");
    ck_assert_str_eq(gk_hdr_target_path(tp, "/p?"), "/p?");
    ck_assert_str_eq(gk_hdr_target_path(tp, "/p#frag"), "/p");
    ck_assert_str_eq(gk_hdr_target_path(tp, "http://h/abs//p?q=%41"),
                     "/abs//p?q=%41");
    ck_assert_str_eq(gk_hdr_target_path(tp, "https://h:8080?q"), "/?q");
    ck_assert_str_eq(gk_hdr_target_path(tp, "http://h"), "/");
    ck_assert_str_eq(gk_hdr_target_path(tp, "http://h#x"), "/");
    ck_assert_str_eq(gk_hdr_target_path(tp, "http://u@h/x"), "/x");
    ck_assert_ptr_null(gk_hdr_target_path(tp, "*"));
    ck_assert_ptr_null(gk_hdr_target_path(tp, "h:443"));
    ck_assert_ptr_null(gk_hdr_target_path(tp, "://h/x"));
    ck_assert_ptr_null(gk_hdr_target_path(tp, NULL));
    ck_assert_ptr_null(gk_hdr_target_path(tp, ""));
    ck_assert_ptr_null(gk_hdr_target_path(tp, "/a b"));
    ck_assert_ptr_null(gk_hdr_target_path(tp, "/a\r\nX: y"));
    ck_assert_ptr_null(gk_hdr_target_path(tp, "/caf\xc3\xa9"));
    ck_assert_ptr_null(gk_hdr_target_path(tp, "/a\x7f"));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("hdr");
    TCase *tc = tk_tcase("hdr");
    tcase_add_test(tc, tokens);
    tcase_add_test(tc, values);
    tcase_add_test(tc, vary);
    tcase_add_test(tc, hsts_values);
    tcase_add_test(tc, hsts_refused);
    tcase_add_test(tc, forwarded);
    tcase_add_test(tc, targets);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(suite)
