/* Rate limits (gk_rate): the rate grammar, the fixed window with an
 * injected clock, the key specification grammar, address grouping and the
 * counter keys a store sees. */
#include <arpa/inet.h>

#include "gk_rate.h"
#include "gk_siphash.h"
#include "gk_test_core.h"

/* ---- rates ------------------------------------------------------------- */

/* Parse s, asserting success, and check the result. */
static void rate_ok(const char *s, apr_uint32_t limit, apr_uint32_t window)
{
    gk_rate_t r = {0, 0};
    const char *e = gk_rate_parse(tp, s, &r);

    ck_assert_msg(e == NULL, "\"%s\" refused: %s", s, e);
    ck_assert_msg(r.limit == limit && r.window == window,
                  "\"%s\" gave %u/%us, expected %u/%us", s, r.limit,
                  r.window, limit, window);
}

/* Parse s, asserting refusal with a message holding want, and that the
 * output was not touched. */
static void rate_bad(const char *s, const char *want)
{
    gk_rate_t r = {77, 88};

    tk_assert_err(gk_rate_parse(tp, s, &r), want);
    ck_assert(r.limit == 77 && r.window == 88);
}

START_TEST(rate_units)
{
    rate_ok("5/minute", 5, 60);
    rate_ok("5/min", 5, 60);
    rate_ok("5/m", 5, 60);
    rate_ok("1/second", 1, 1);
    rate_ok("1/sec", 1, 1);
    rate_ok("1/s", 1, 1);
    rate_ok("7/hour", 7, 3600);
    rate_ok("7/h", 7, 3600);
    rate_ok("10000/day", 10000, 86400);
    rate_ok("10000/d", 10000, 86400);
}
END_TEST

START_TEST(rate_durations)
{
    rate_ok("100/10s", 100, 10);
    rate_ok("1000/5m", 1000, 300);
    rate_ok("3/2h", 3, 7200);
    rate_ok("3/7d", 3, 604800);
    rate_ok("3/1s", 3, 1);
    rate_ok("3/7s", 3, 7);
    rate_ok("3/31d", 3, 31 * 86400);
    rate_ok("3/744h", 3, 31 * 86400);
    rate_ok("3/44640m", 3, 31 * 86400);
    rate_ok("3/2678400s", 3, 2678400);
    rate_ok("2147483647/s", 2147483647u, 1);
}
END_TEST

START_TEST(rate_refused)
{
    rate_bad(NULL, "empty rate");
    rate_bad("", "empty rate");
    rate_bad("0/minute", "at least 1");
    rate_bad("5/0s", "at least 1 second");
    rate_bad("-5/minute", "sign");
    rate_bad("+5/minute", "sign");
    rate_bad("5/-1s", "sign");
    rate_bad("5/+1s", "the window has a sign");
    rate_bad(" 5/minute", "white space");
    rate_bad("5/minute ", "white space");
    rate_bad("5 /minute", "white space");
    rate_bad("5/ minute", "white space");
    rate_bad("5/10 s", "white space");
    rate_bad("5/minute\n", "white space");
    rate_bad("2147483648/s", "above 2147483647");
    rate_bad("99999999999999999999999999/s", "above 2147483647");
    rate_bad("5/32d", "longer than 31 days");
    rate_bad("5/2678401s", "longer than 31 days");
    rate_bad("5/745h", "longer than 31 days");
    rate_bad("5/99999999999999999999999s", "longer than 31 days");
    rate_bad("5/minutes", "unknown unit \"minutes\"");
    rate_bad("5/Minute", "unknown unit");
    rate_bad("5/M", "unknown unit");
    rate_bad("5/week", "unknown unit");
    rate_bad("5/", "unknown unit");
    rate_bad("5", "expected '/'");
    rate_bad("5minute", "expected '/'");
    rate_bad("5//minute", "unknown unit");
    rate_bad("5/minute/2", "unknown unit");
    rate_bad("5/10", "needs a unit");
    rate_bad("5/10sec", "unknown window unit \"sec\"");
    rate_bad("5/10ss", "unknown window unit");
    rate_bad("5/10x", "unknown window unit");
    rate_bad("5/1.5m", "unknown window unit");
    rate_bad("05/minute", "leading zero");
    rate_bad("5/010s", "leading zero");
    rate_bad("five/minute", "not a number");
    rate_bad("/minute", "not a number");
    rate_bad("0x10/s", "expected '/'");
    rate_bad("5/s\x01", "unknown unit");
}
END_TEST

START_TEST(rate_messages)
{
    gk_rate_t r;
    const char *e;

    /* the input is quoted, control bytes escaped, long input cut */
    e = gk_rate_parse(tp, "0/minute", &r);
    tk_assert_err(e, "rate \"0/minute\"");
    e = gk_rate_parse(tp, "5/\x1b[31m", &r);
    tk_assert_err(e, "\"5/\\x1b[31m\"");
    ck_assert_ptr_null(strchr(e, '\x1b'));
    e = gk_rate_parse(tp,
                      "5/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                      &r);
    tk_assert_err(e, "...");
    ck_assert_uint_lt(strlen(e), 300);
    e = gk_rate_parse(tp, "5/\"x\\", &r);
    tk_assert_err(e, "\"5/\\x22x\\x5c\"");
}
END_TEST

/* gk_rate_text of limit/window, and that it parses back. */
static void text_is(apr_uint32_t limit, apr_uint32_t window,
                    const char *want)
{
    gk_rate_t r = {limit, window}, back = {0, 0};
    const char *t = gk_rate_text(tp, &r);

    ck_assert_str_eq(t, want);
    tk_assert_ok(gk_rate_parse(tp, t, &back));
    ck_assert(back.limit == limit && back.window == window);
}

START_TEST(rate_text)
{
    text_is(5, 60, "5/minute");
    text_is(1, 1, "1/second");
    text_is(9, 3600, "9/hour");
    text_is(10000, 86400, "10000/day");
    text_is(100, 10, "100/10s");
    text_is(1000, 300, "1000/5m");
    text_is(100, 120, "100/2m");
    text_is(3, 7, "3/7s");
    text_is(3, 90, "3/90s");
    text_is(3, 7200, "3/2h");
    text_is(3, 5400, "3/90m");
    text_is(3, 172800, "3/2d");
    text_is(3, 90000, "3/25h");
    text_is(3, 2678400, "3/31d");
    text_is(2147483647u, 2678399, "2147483647/2678399s");
}
END_TEST

START_TEST(rate_text_round_trip)
{
    static const char *inputs[] = {"5/minute", "5/60s", "5/1m", "5/min",
                                   "1/86400s", "1/24h", "7/3600s"};
    static const char *canon[] = {"5/minute", "5/minute", "5/minute",
                                  "5/minute", "1/day", "1/day", "7/hour"};
    size_t i;

    for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        gk_rate_t r;
        tk_assert_ok(gk_rate_parse(tp, inputs[i], &r));
        ck_assert_str_eq(gk_rate_text(tp, &r), canon[i]);
    }
}
END_TEST

/* ---- windows (injected clock) ------------------------------------------ */

START_TEST(window_minute)
{
    gk_rate_t r = {5, 60};
    /* TS = 1700000000 = 28333333 * 60 + 20 */
    apr_int64_t start = 1700000000 - 20;

    ck_assert_int_eq(gk_rate_window_start(&r, TS), start);
    ck_assert_int_eq(gk_rate_reset(&r, TS), 40);
    /* the first and the last second of the window */
    ck_assert_int_eq(gk_rate_window_start(&r, start), start);
    ck_assert_int_eq(gk_rate_reset(&r, start), 60);
    ck_assert_int_eq(gk_rate_window_start(&r, start + 59), start);
    ck_assert_int_eq(gk_rate_reset(&r, start + 59), 1);
    /* the next window */
    ck_assert_int_eq(gk_rate_window_start(&r, start + 60), start + 60);
    ck_assert_int_eq(gk_rate_reset(&r, start + 60), 60);
    ck_assert_int_eq(gk_rate_window_start(&r, start - 1), start - 60);
    ck_assert_int_eq(gk_rate_reset(&r, start - 1), 1);
}
END_TEST

START_TEST(window_second)
{
    gk_rate_t r = {1, 1};
    apr_int64_t t;

    for (t = TS - 3; t <= TS + 3; t++) {
        ck_assert_int_eq(gk_rate_window_start(&r, t), t);
        ck_assert_int_eq(gk_rate_reset(&r, t), 1);
        ck_assert_uint_eq(gk_rate_ttl(&r, t), 1 + GK_RATE_TTL_MARGIN);
        ck_assert_int_eq(gk_rate_expires(&r, t), t + 1 + GK_RATE_TTL_MARGIN);
    }
}
END_TEST

START_TEST(window_day)
{
    gk_rate_t r = {10000, 86400};
    /* TS is 2023-11-14T22:13:20Z: 80000 s into its UTC day */
    apr_int64_t midnight = TS - 80000;

    ck_assert_int_eq(gk_rate_window_start(&r, TS), midnight);
    ck_assert_int_eq(midnight % 86400, 0);
    ck_assert_int_eq(gk_rate_reset(&r, TS), 6400);
    ck_assert_uint_eq(gk_rate_ttl(&r, TS), 6400 + GK_RATE_TTL_MARGIN);
    ck_assert_int_eq(gk_rate_expires(&r, TS),
                     midnight + 86400 + GK_RATE_TTL_MARGIN);
    ck_assert_int_eq(gk_rate_reset(&r, midnight), 86400);
    ck_assert_int_eq(gk_rate_reset(&r, midnight + 86399), 1);
    ck_assert_int_eq(gk_rate_window_start(&r, midnight + 86400),
                     midnight + 86400);
}
END_TEST

START_TEST(window_seven_seconds)
{
    /* 7 does not divide a minute: windows are aligned to the epoch, not to
     * minutes, and two front ends with the same clock agree */
    gk_rate_t r = {3, 7};
    apr_int64_t t, prev = -1;
    int changes = 0;

    /* 1700000000 = 242857142 * 7 + 6 */
    ck_assert_int_eq(gk_rate_window_start(&r, TS), TS - 6);
    ck_assert_int_eq(gk_rate_reset(&r, TS), 1);
    ck_assert_int_eq(gk_rate_window_start(&r, TS + 1), TS + 1);
    ck_assert_int_eq(gk_rate_reset(&r, TS + 1), 7);
    for (t = TS; t < TS + 70; t++) {
        apr_int64_t s = gk_rate_window_start(&r, t);
        apr_int64_t reset = gk_rate_reset(&r, t);
        ck_assert_int_eq(s % 7, 0);
        ck_assert(s <= t && t < s + 7);
        ck_assert(reset >= 1 && reset <= 7);
        ck_assert_int_eq(s + 7, t + reset);
        if (s != prev) {
            changes++;
            prev = s;
        }
    }
    ck_assert_int_eq(changes, 11); /* TS-6.., then 10 full windows */
}
END_TEST

START_TEST(window_longest)
{
    gk_rate_t r = {1, GK_RATE_WINDOW_MAX};
    apr_int64_t s = gk_rate_window_start(&r, TS);

    ck_assert_int_eq(s % GK_RATE_WINDOW_MAX, 0);
    ck_assert(s <= TS && TS < s + GK_RATE_WINDOW_MAX);
    /* longer than memcached's 30 days of relative expiry */
    ck_assert_uint_eq(gk_rate_ttl(&r, s), GK_RATE_WINDOW_MAX
                                              + GK_RATE_TTL_MARGIN);
    ck_assert_int_eq(gk_rate_expires(&r, s),
                     s + GK_RATE_WINDOW_MAX + GK_RATE_TTL_MARGIN);
}
END_TEST

START_TEST(window_edges)
{
    gk_rate_t r = {1, 60}, zero = {1, 0};

    /* the epoch and before it: still the floor */
    ck_assert_int_eq(gk_rate_window_start(&r, 0), 0);
    ck_assert_int_eq(gk_rate_reset(&r, 0), 60);
    ck_assert_int_eq(gk_rate_window_start(&r, -1), -60);
    ck_assert_int_eq(gk_rate_reset(&r, -1), 1);
    ck_assert_int_eq(gk_rate_window_start(&r, -60), -60);
    ck_assert_int_eq(gk_rate_window_start(&r, -61), -120);
    /* a struct that was never parsed does not divide by zero */
    ck_assert_int_eq(gk_rate_window_start(&zero, TS), TS);
    ck_assert_int_eq(gk_rate_reset(&zero, TS), 1);
}
END_TEST

/* ---- key specifications ------------------------------------------------ */

/* Parse s into keys, asserting success and n items. */
static gk_rate_key_t *keys_ok(const char *s, int want_n)
{
    gk_rate_key_t *k = apr_pcalloc(tp, GK_RATE_KEYS_MAX * sizeof(*k));
    int n = -1;
    const char *e = gk_rate_keys_parse(tp, s, k, GK_RATE_KEYS_MAX, &n);

    ck_assert_msg(e == NULL, "\"%s\" refused: %s", s, e);
    ck_assert_int_eq(n, want_n);
    return k;
}

/* Parse s, asserting refusal with a message holding want, and n = 0. */
static void keys_bad(const char *s, const char *want)
{
    gk_rate_key_t k[GK_RATE_KEYS_MAX];
    int n = -1;

    tk_assert_err(gk_rate_keys_parse(tp, s, k, GK_RATE_KEYS_MAX, &n), want);
    ck_assert_int_eq(n, 0);
}

START_TEST(keys_each_kind)
{
    gk_rate_key_t *k;

    k = keys_ok("ip", 1);
    ck_assert_int_eq(k[0].kind, GK_RATE_KEY_IP);
    ck_assert_int_eq(k[0].prefix6, 64);
    ck_assert_ptr_null(k[0].name);
    k = keys_ok("ip/56", 1);
    ck_assert_int_eq(k[0].prefix6, 56);
    k = keys_ok("ip/1", 1);
    ck_assert_int_eq(k[0].prefix6, 1);
    k = keys_ok("ip/128", 1);
    ck_assert_int_eq(k[0].prefix6, 128);
    k = keys_ok("user", 1);
    ck_assert_int_eq(k[0].kind, GK_RATE_KEY_USER);
    ck_assert_int_eq(k[0].prefix6, 0);
    k = keys_ok("global", 1);
    ck_assert_int_eq(k[0].kind, GK_RATE_KEY_GLOBAL);
    k = keys_ok("header:X-API-Key", 1);
    ck_assert_int_eq(k[0].kind, GK_RATE_KEY_HEADER);
    ck_assert_str_eq(k[0].name, "X-API-Key");
    k = keys_ok("header:a!#$%&'*+-.^_`~9", 1);
    ck_assert_str_eq(k[0].name, "a!#$%&'*+-.^_`~9");
    k = keys_ok("env:TENANT_ID2", 1);
    ck_assert_int_eq(k[0].kind, GK_RATE_KEY_ENV);
    ck_assert_str_eq(k[0].name, "TENANT_ID2");
}
END_TEST

START_TEST(keys_fallbacks)
{
    gk_rate_key_t *k;

    k = keys_ok("header:X-API-Key|ip", 2);
    ck_assert_int_eq(k[0].kind, GK_RATE_KEY_HEADER);
    ck_assert_int_eq(k[1].kind, GK_RATE_KEY_IP);
    ck_assert_int_eq(k[1].prefix6, 64);
    k = keys_ok("user|header:X-API-Key|ip/48|global", 4);
    ck_assert_int_eq(k[0].kind, GK_RATE_KEY_USER);
    ck_assert_int_eq(k[2].prefix6, 48);
    ck_assert_int_eq(k[3].kind, GK_RATE_KEY_GLOBAL);
    /* two headers, or a header and a variable of the same name */
    k = keys_ok("header:X-API-Key|header:Authorization", 2);
    ck_assert_str_eq(k[1].name, "Authorization");
    keys_ok("header:A|env:A", 2);
    keys_ok("env:a|env:A", 2);
}
END_TEST

START_TEST(keys_refused)
{
    keys_bad(NULL, "empty key specification");
    keys_bad("", "empty key specification");
    keys_bad("|ip", "empty alternative");
    keys_bad("ip|", "empty alternative");
    keys_bad("ip||user", "empty alternative");
    keys_bad("IP", "unknown key");
    keys_bad("User", "unknown key");
    keys_bad("ip ", "unknown key");
    keys_bad(" ip", "unknown key");
    keys_bad("ip | user", "unknown key");
    keys_bad("cookie:sid", "unknown key");
    keys_bad("iP/64", "unknown key");
    keys_bad("ip/0", "must be 1 to 128");
    keys_bad("ip/129", "must be 1 to 128");
    keys_bad("ip/99999999999", "must be 1 to 128");
    keys_bad("ip/064", "leading zero");
    keys_bad("ip/-1", "sign");
    keys_bad("ip/", "not a number");
    keys_bad("ip/6x", "not a number");
    keys_bad("ip/x", "not a number");
    keys_bad("header:", "needs a field name");
    keys_bad("header:X Y", "not a field name");
    keys_bad("header:X:Y", "not a field name");
    keys_bad("header:caf\xc3\xa9", "not a field name");
    keys_bad("env:", "needs a variable name");
    keys_bad("env:A-B", "letters, digits");
    keys_bad("env:A.B", "letters, digits");
    keys_bad("global|ip", "\"global\" must be the last");
    keys_bad("ip|global|user", "never be used");
    keys_bad("global|global", "\"global\" must be the last");
    keys_bad("ip|ip", "appears twice");
    keys_bad("ip|ip/56", "ip and ip/N are one kind");
    keys_bad("ip/48|ip/56", "appears twice");
    keys_bad("user|ip|user", "appears twice");
    keys_bad("header:X-Key|header:x-key", "appears twice");
    keys_bad("env:A|env:A", "appears twice");
    keys_bad("user|ip|header:A|header:B|global", "more than 4");
    keys_bad("header:A|header:B|header:C|header:D|header:E", "more than 4");
}
END_TEST

START_TEST(keys_messages_and_max)
{
    gk_rate_key_t k[GK_RATE_KEYS_MAX];
    const char *e;
    int n = -1;

    e = gk_rate_keys_parse(tp, "ip|ip/200", k, GK_RATE_KEYS_MAX, &n);
    tk_assert_err(e, "key specification \"ip|ip/200\"");
    tk_assert_err(e, "key \"ip/200\"");
    e = gk_rate_keys_parse(tp, "header:\r\nX", k, GK_RATE_KEYS_MAX, &n);
    tk_assert_err(e, "\\x0d\\x0a");
    /* a smaller max than GK_RATE_KEYS_MAX */
    tk_assert_err(gk_rate_keys_parse(tp, "user|ip", k, 1, &n), "more than 1");
    ck_assert_int_eq(n, 0);
    tk_assert_ok(gk_rate_keys_parse(tp, "user", k, 1, &n));
    ck_assert_int_eq(n, 1);
    tk_assert_err(gk_rate_keys_parse(tp, "user", k, 0, &n), "no room");
    /* a larger max is still at most GK_RATE_KEYS_MAX */
    {
        gk_rate_key_t big[8];
        tk_assert_err(gk_rate_keys_parse(tp, "env:A|env:B|env:C|env:D|env:E",
                                         big, 8, &n),
                      "more than 4");
    }
}
END_TEST

/* ---- addresses --------------------------------------------------------- */

/* Group ip and compare with the expected bytes (family byte first). */
static void group_is(const char *ip, int prefix6, const unsigned char *want,
                     apr_size_t want_len)
{
    unsigned char out[17];
    apr_size_t len = 0;

    ck_assert_msg(gk_rate_ip_group(ip, prefix6, out, &len) == 1,
                  "\"%s\" refused", ip);
    ck_assert_uint_eq(len, want_len);
    ck_assert_mem_eq(out, want, want_len);
}

START_TEST(ip_v4)
{
    static const unsigned char a[] = {4, 192, 0, 2, 1};
    static const unsigned char b[] = {4, 10, 0, 0, 1};

    group_is("192.0.2.1", 64, a, 5);
    /* IPv4 is never grouped, whatever the prefix */
    group_is("192.0.2.1", 1, a, 5);
    group_is("::ffff:192.0.2.1", 64, a, 5);
    group_is("::FFFF:192.0.2.1", 1, a, 5);
    group_is("::ffff:c000:0201", 128, a, 5);
    group_is("0:0:0:0:0:ffff:10.0.0.1", 64, b, 5);
}
END_TEST

START_TEST(ip_v6)
{
    static const unsigned char p64[] = {6, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2,
                                        0, 0, 0, 0, 0, 0, 0, 0};
    static const unsigned char p56[] = {6, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0,
                                        0, 0, 0, 0, 0, 0, 0, 0};
    static const unsigned char p128[] = {6, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0,
                                         2, 0xaa, 0xbb, 0, 0, 0, 0, 0, 5};
    static const unsigned char p1[] = {6, 0, 0, 0, 0, 0, 0, 0, 0,
                                       0, 0, 0, 0, 0, 0, 0, 0};
    static const unsigned char p3[] = {6, 0x20, 0, 0, 0, 0, 0, 0, 0,
                                       0, 0, 0, 0, 0, 0, 0, 0};
    static const unsigned char p61[] = {6, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0xff,
                                        0xf8, 0, 0, 0, 0, 0, 0, 0, 0};
    static const unsigned char lo[] = {6, 0, 0, 0, 0, 0, 0, 0, 0,
                                       0, 0, 0, 0, 0, 0, 0, 1};

    group_is("2001:db8:1:2:aabb::5", 64, p64, 17);
    group_is("2001:db8:1:2:ffff:ffff:ffff:ffff", 64, p64, 17);
    group_is("2001:DB8:1:2::", 64, p64, 17);
    group_is("2001:db8:1:ff::1", 56, p56, 17);
    group_is("2001:db8:1:2ff::1", 54, p56, 17);
    group_is("2001:db8:1:2:aabb::5", 128, p128, 17);
    group_is("2001:db8:1:2:aabb::5", 1, p1, 17);
    group_is("2001:db8:1:2:aabb::5", 3, p3, 17);
    group_is("2001:db8:1:ffff::", 61, p61, 17);
    group_is("::1", 128, lo, 17);
    /* a zone is ignored */
    group_is("2001:db8:1:2::9%eth0", 64, p64, 17);
}
END_TEST

/* From parsed bytes (r->useragent_addr): the same groups as from text. */
START_TEST(ip_raw)
{
    static const char *const texts[] = {
        "192.0.2.7", "2001:db8:1:2:3:4:5:6", "::ffff:198.51.100.9", "::1",
        "fe80::1"};
    unsigned char a[16], t[17], b[17];
    apr_size_t tl, bl;
    size_t i;
    int prefix;

    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        int v4 = inet_pton(AF_INET, texts[i], a) == 1;
        if (!v4) {
            ck_assert_int_eq(inet_pton(AF_INET6, texts[i], a), 1);
        }
        for (prefix = 1; prefix <= 128; prefix += 9) {
            ck_assert(gk_rate_ip_group(texts[i], prefix, t, &tl));
            ck_assert(gk_rate_ip_group_raw(v4 ? 4 : 6, a, prefix, b, &bl));
            ck_assert_uint_eq(tl, bl);
            ck_assert(!memcmp(t, b, tl));
        }
    }
    ck_assert(!gk_rate_ip_group_raw(5, a, 64, b, &bl));
    ck_assert(!gk_rate_ip_group_raw(6, NULL, 64, b, &bl));
    ck_assert(!gk_rate_ip_group_raw(6, a, 0, b, &bl));
    ck_assert(!gk_rate_ip_group_raw(6, a, 129, b, &bl));
}
END_TEST

START_TEST(ip_bad)
{
    unsigned char out[17];
    apr_size_t len = 99;
    static const char *bad[] = {
        NULL, "", "localhost", "192.0.2", "192.0.2.256", "192.0.2.1.5",
        " 192.0.2.1", "192.0.2.1 ", "192.0.2.1/24", "[::1]", "::1::2",
        "2001:db8::g", "1.2.3.4%eth0", "::1%", "%eth0",
        "2001:0db8:0001:0002:0003:0004:0005:0006:0007",
        "0000:0000:0000:0000:0000:ffff:192.168.100.200x",
    };
    size_t i;

    memset(out, 0x5a, sizeof(out));
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(gk_rate_ip_group(bad[i], 64, out, &len) == 0,
                      "\"%s\" accepted", bad[i] ? bad[i] : "(null)");
    }
    ck_assert_uint_eq(len, 99);
    ck_assert_uint_eq(out[0], 0x5a);
    /* the prefix must be a valid one */
    ck_assert_int_eq(gk_rate_ip_group("2001:db8::1", 0, out, &len), 0);
    ck_assert_int_eq(gk_rate_ip_group("2001:db8::1", 129, out, &len), 0);
    ck_assert_int_eq(gk_rate_ip_group("192.0.2.1", 0, out, &len), 0);
}
END_TEST

/* ---- counter keys ------------------------------------------------------ */

static const unsigned char K1[16] = "0123456789abcdef";
static const unsigned char K2[16] = "0123456789abcdeg";

/* The counter key of the arguments as a pool string, asserting its form. */
static const char *ckey(const unsigned char *key, const char *site,
                        const char *name, int kind, const char *dir,
                        const void *value, apr_size_t value_len,
                        apr_uint64_t ws)
{
    char buf[GK_RATE_COUNTER_KEY_SIZE];
    apr_size_t n, i;

    memset(buf, 'Z', sizeof(buf));
    n = gk_rate_counter_key(buf, sizeof(buf), key, site, name, kind, dir,
                            value, value_len, ws);
    ck_assert_uint_gt(n, 0);
    ck_assert_uint_eq(strlen(buf), n);
    ck_assert_uint_le(n, 250);
    ck_assert(!strncmp(buf, "gkrl:", 5));
    ck_assert_int_eq(buf[21], ':');
    for (i = 5; i < 21; i++) {
        ck_assert(strchr("0123456789abcdef", buf[i]) != NULL);
    }
    for (i = 0; i < n; i++) {
        ck_assert(buf[i] > 0x20 && buf[i] < 0x7f);
    }
    return apr_pstrdup(tp, buf);
}

START_TEST(counter_key_form)
{
    const char *k = ckey(K1, "api.example.com", "login", GK_RATE_KEY_IP,
                         NULL, "\x04\xc0\x00\x02\x01", 5, 1699999980);

    ck_assert_uint_eq(strlen(k), 32);
    ck_assert_str_eq(k + 21, ":1699999980");
    /* deterministic */
    ck_assert_str_eq(k, ckey(K1, "api.example.com", "login", GK_RATE_KEY_IP,
                             NULL, "\x04\xc0\x00\x02\x01", 5, 1699999980));
    /* the window start is the only clear part */
    ck_assert_str_eq(ckey(K1, "s", "n", 1, NULL, "v", 1, 0) + 21, ":0");
    ck_assert_str_eq(ckey(K1, "s", "n", 1, NULL, "v", 1, UINT64_MAX) + 21,
                     ":18446744073709551615");
    ck_assert_uint_eq(strlen(ckey(K1, "s", "n", 1, NULL, "v", 1,
                                  UINT64_MAX)),
                      42);
    /* the hash part does not depend on the window */
    ck_assert(!strncmp(ckey(K1, "s", "n", 1, NULL, "v", 1, 60),
                       ckey(K1, "s", "n", 1, NULL, "v", 1, 120), 21));
}
END_TEST

START_TEST(counter_key_known_answer)
{
    /* the encoding is part of every shared store's contents: pin it.
     * Computed independently: the identities are SipHash-2-4 under the
     * fixed key "gk-rate-identity" of "site" | 01 len8 "s" and of
     * "limit" | 01 len8 "n" | 00 (no dir); the key is SipHash-2-4 under K1
     * of "gkrl" 02 | site id (8, LE) | limit id (8, LE) |
     * kind 03 00 00 00 | len8(1) | "v" */
    static const unsigned char idk[16] = {
        'g', 'k', '-', 'r', 'a', 't', 'e', '-', 'i', 'd', 'e', 'n', 't', 'i',
        't', 'y'};
    static const unsigned char site[] = {
        's', 'i', 't', 'e', 1, 1, 0, 0, 0, 0, 0, 0, 0, 's'};
    static const unsigned char limit[] = {
        'l', 'i', 'm', 'i', 't', 1, 1, 0, 0, 0, 0, 0, 0, 0, 'n', 0};
    unsigned char enc[5 + 8 + 8 + 4 + 8 + 1] = {'g', 'k', 'r', 'l', 2};
    uint64_t sid = gk_siphash24(idk, site, sizeof(site));
    uint64_t lid = gk_siphash24(idk, limit, sizeof(limit));
    char want[40];
    int i;

    for (i = 0; i < 8; i++) {
        enc[5 + i] = (unsigned char)(sid >> (8 * i));
        enc[13 + i] = (unsigned char)(lid >> (8 * i));
    }
    enc[21] = 3;
    enc[25] = 1;
    enc[33] = 'v';
    ck_assert_uint_eq(gk_rate_site_id("s"), sid);
    ck_assert_uint_eq(gk_rate_limit_id("n", NULL), lid);
    snprintf(want, sizeof(want), "gkrl:%016llx:7",
             (unsigned long long)gk_siphash24(K1, enc, sizeof(enc)));
    ck_assert_str_eq(ckey(K1, "s", "n", GK_RATE_KEY_HEADER, NULL, "v", 1, 7),
                     want);
    /* a value longer than the one-call buffer: the same hash as one call
     * over the whole encoding */
    {
        char longv[300], k1[GK_RATE_COUNTER_KEY_SIZE];
        unsigned char big[5 + 28 + 300];
        memset(longv, 'x', sizeof(longv));
        memcpy(big, enc, 33);
        big[25] = (unsigned char)(sizeof(longv) & 0xff);
        big[26] = (unsigned char)(sizeof(longv) >> 8);
        memcpy(big + 33, longv, sizeof(longv));
        ck_assert_uint_gt(gk_rate_counter_key_ids(k1, sizeof(k1), K1, sid,
                                                  lid, 3, longv,
                                                  sizeof(longv), 7),
                          0);
        snprintf(want, sizeof(want), "gkrl:%016llx:7",
                 (unsigned long long)gk_siphash24(K1, big, sizeof(big)));
        ck_assert_str_eq(k1, want);
    }
}
END_TEST

START_TEST(counter_key_separation)
{
    const char *base = ckey(K1, "site", "name", GK_RATE_KEY_USER, NULL,
                            "10.0.0.1", 8, 60);
    unsigned char g[17];
    apr_size_t glen;

    /* a user named "10.0.0.1" and that address (grouped or as text) */
    ck_assert(gk_rate_ip_group("10.0.0.1", 64, g, &glen));
    ck_assert_str_ne(base, ckey(K1, "site", "name", GK_RATE_KEY_IP, NULL,
                                "10.0.0.1", 8, 60));
    ck_assert_str_ne(base, ckey(K1, "site", "name", GK_RATE_KEY_IP, NULL, g,
                                glen, 60));
    ck_assert_str_ne(base, ckey(K1, "site", "name", GK_RATE_KEY_HEADER,
                                NULL, "10.0.0.1", 8, 60));
    /* each field counts */
    ck_assert_str_ne(base, ckey(K2, "site", "name", GK_RATE_KEY_USER, NULL,
                                "10.0.0.1", 8, 60));
    ck_assert_str_ne(base, ckey(K1, "site2", "name", GK_RATE_KEY_USER, NULL,
                                "10.0.0.1", 8, 60));
    ck_assert_str_ne(base, ckey(K1, "site", "name2", GK_RATE_KEY_USER, NULL,
                                "10.0.0.1", 8, 60));
    ck_assert_str_ne(base, ckey(K1, "site", "name", GK_RATE_KEY_USER, "/",
                                "10.0.0.1", 8, 60));
    ck_assert_str_ne(base, ckey(K1, "site", "name", GK_RATE_KEY_USER, NULL,
                                "10.0.0.2", 8, 60));
    ck_assert_str_ne(base, ckey(K1, "site", "name", GK_RATE_KEY_USER, NULL,
                                "10.0.0.1", 8, 120));
    /* field boundaries cannot be moved: "ab"+"c" is not "a"+"bc" */
    ck_assert_str_ne(ckey(K1, "ab", "c", 1, NULL, "v", 1, 0),
                     ckey(K1, "a", "bc", 1, NULL, "v", 1, 0));
    ck_assert_str_ne(ckey(K1, "s", "n", 1, "d", "v", 1, 0),
                     ckey(K1, "s", "n", 1, NULL, "dv", 2, 0));
    /* absent and empty differ; NUL bytes in the value count */
    ck_assert_str_ne(ckey(K1, "s", "n", 1, NULL, "v", 1, 0),
                     ckey(K1, "s", "n", 1, "", "v", 1, 0));
    ck_assert_str_ne(ckey(K1, NULL, "n", 1, NULL, "v", 1, 0),
                     ckey(K1, "", "n", 1, NULL, "v", 1, 0));
    /* a NULL value is the empty value (global has an empty key) */
    ck_assert_str_eq(ckey(K1, "s", "n", 1, NULL, NULL, 0, 0),
                     ckey(K1, "s", "n", 1, NULL, "", 0, 0));
    ck_assert_str_ne(ckey(K1, "s", "n", 1, NULL, "a\0b", 3, 0),
                     ckey(K1, "s", "n", 1, NULL, "a\0c", 3, 0));
    ck_assert_str_ne(ckey(K1, "s", "n", 1, NULL, "a\0", 2, 0),
                     ckey(K1, "s", "n", 1, NULL, "a", 1, 0));
    /* a NULL value ignores value_len */
    ck_assert_str_eq(ckey(K1, "s", "n", 1, NULL, NULL, 5, 0),
                     ckey(K1, "s", "n", 1, NULL, NULL, 0, 0));
    /* kinds differing only in their high bytes */
    ck_assert_str_ne(ckey(K1, "s", "n", 1, NULL, "v", 1, 0),
                     ckey(K1, "s", "n", 1 + 256, NULL, "v", 1, 0));
}
END_TEST

START_TEST(counter_key_no_raw_value)
{
    static const char secret[] = "sk_live_abcdef";
    const char *k = ckey(K1, "example.org", "api", GK_RATE_KEY_HEADER,
                         NULL, secret, strlen(secret), 0);

    ck_assert_ptr_null(strstr(k, "sk_live"));
    ck_assert_ptr_null(strstr(k, "example"));
    ck_assert_ptr_null(strstr(k, "api"));
}
END_TEST

START_TEST(counter_key_sizes)
{
    char buf[GK_RATE_COUNTER_KEY_SIZE];
    char big[8192];

    /* "gkrl:" + 16 + ":" + "60" = 24 characters: 25 bytes with the NUL */
    memset(buf, 'Z', sizeof(buf));
    ck_assert_uint_eq(gk_rate_counter_key(buf, 24, K1, "s", "n", 1, NULL,
                                          "v", 1, 60),
                      0);
    ck_assert_str_eq(buf, "");
    ck_assert_uint_eq(gk_rate_counter_key(buf, 25, K1, "s", "n", 1, NULL,
                                          "v", 1, 60),
                      24);
    ck_assert_uint_eq(gk_rate_counter_key(buf, 0, K1, "s", "n", 1, NULL,
                                          "v", 1, 60),
                      0);
    ck_assert_uint_eq(gk_rate_counter_key(NULL, 48, K1, "s", "n", 1, NULL,
                                          "v", 1, 60),
                      0);
    /* a long value still gives a short key */
    memset(big, 'x', sizeof(big));
    ck_assert_uint_eq(gk_rate_counter_key(buf, sizeof(buf), K1, "s", "n", 1,
                                          NULL, big, sizeof(big), 60),
                      24);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("rate");
    TCase *tc = tk_tcase("rate");

    tcase_add_test(tc, rate_units);
    tcase_add_test(tc, ip_raw);
    tcase_add_test(tc, rate_durations);
    tcase_add_test(tc, rate_refused);
    tcase_add_test(tc, rate_messages);
    tcase_add_test(tc, rate_text);
    tcase_add_test(tc, rate_text_round_trip);
    tcase_add_test(tc, window_minute);
    tcase_add_test(tc, window_second);
    tcase_add_test(tc, window_day);
    tcase_add_test(tc, window_seven_seconds);
    tcase_add_test(tc, window_longest);
    tcase_add_test(tc, window_edges);
    tcase_add_test(tc, keys_each_kind);
    tcase_add_test(tc, keys_fallbacks);
    tcase_add_test(tc, keys_refused);
    tcase_add_test(tc, keys_messages_and_max);
    tcase_add_test(tc, ip_v4);
    tcase_add_test(tc, ip_v6);
    tcase_add_test(tc, ip_bad);
    tcase_add_test(tc, counter_key_form);
    tcase_add_test(tc, counter_key_known_answer);
    tcase_add_test(tc, counter_key_separation);
    tcase_add_test(tc, counter_key_no_raw_value);
    tcase_add_test(tc, counter_key_sizes);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(suite)
