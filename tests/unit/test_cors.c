/* CORS (gk_cors): origins as sent and as configured, matching, the
 * Public Suffix List, and the decisions on requests and preflights. */
#include <arpa/inet.h>

#include "gk_cors.h"
#include "gk_test_core.h"

/* Parse a NUL-terminated origin as a browser would send it. */
static int oparse(const char *s, gk_cors_origin_t *o)
{
    return gk_cors_origin_parse(s, strlen(s), o);
}

/* An allowed entry that must parse. */
static gk_cors_allowed_t allowed(const char *text)
{
    gk_cors_allowed_t a;
    const char *err = gk_cors_allowed_parse(tp, text, &a);

    ck_assert_msg(err == NULL, "'%s' refused: %s", text, err);
    return a;
}

/* The error of gk_cors_allowed_parse on text (must be one). */
static const char *aerr(const char *text)
{
    gk_cors_allowed_t a;
    return gk_cors_allowed_parse(tp, text, &a);
}

/* Does the request origin s match the allowed entry text? */
static int matches(const char *text, const char *s)
{
    gk_cors_allowed_t a = allowed(text);
    gk_cors_origin_t o;

    return oparse(s, &o) && gk_cors_allowed_match(&a, &o);
}

/* ---- gk_cors_origin_parse ---------------------------------------------- */

START_TEST(origin_valid)
{
    gk_cors_origin_t o;

    ck_assert(oparse("https://app.example.com", &o));
    ck_assert_uint_eq(o.scheme_len, 5);
    ck_assert(!strncmp(o.scheme, "https", 5));
    ck_assert_uint_eq(o.host_len, 15);
    ck_assert(!strncmp(o.host, "app.example.com", 15));
    ck_assert_int_eq(o.port, 443);

    ck_assert(oparse("http://localhost:3000", &o));
    ck_assert_int_eq(o.port, 3000);
    ck_assert_uint_eq(o.host_len, 9);
    ck_assert(oparse("http://localhost", &o));
    ck_assert_int_eq(o.port, 80);
    ck_assert(oparse("https://a.example.com:80", &o));
    ck_assert_int_eq(o.port, 80);
    ck_assert(oparse("http://a.example.com:443", &o));
    ck_assert_int_eq(o.port, 443);
    ck_assert(oparse("https://x:65535", &o));
    ck_assert_int_eq(o.port, 65535);
    ck_assert(oparse("https://x:1", &o));
    ck_assert_int_eq(o.port, 1);
    /* other schemes: no default port */
    ck_assert(oparse("chrome-extension://abcdefghijklmnop", &o));
    ck_assert_int_eq(o.port, 0);
    ck_assert_uint_eq(o.scheme_len, 16);
    ck_assert(oparse("ws://a.b:80", &o));
    ck_assert_int_eq(o.port, 80);
    ck_assert(oparse("a+b-c.d://h", &o));
    ck_assert(oparse("app1://h", &o));
    /* hyphens anywhere in a label, digits, punycode */
    ck_assert(oparse("https://-a-.b-", &o));
    ck_assert(oparse("https://xn--caf-dma.example", &o));
    ck_assert(oparse("https://1password.com", &o));
    ck_assert(oparse("https://a.b1", &o));
    ck_assert(oparse("https://a.1b", &o));
    ck_assert(oparse("https://a.0xg", &o));
    ck_assert(oparse("https://localhost", &o));
    /* the length argument bounds the parse */
    ck_assert(gk_cors_origin_parse("https://a.bc/junk", 12, &o));
    ck_assert_uint_eq(o.host_len, 4);
}
END_TEST

START_TEST(origin_invalid)
{
    static const char *bad[] = {
        "", "null", "NULL", "*", "https", "https:", "https:/", "https://",
        "https:/a.com", "https:a.com", "//a.com", "a.com", "://a.com",
        "HTTPS://a.com", "Https://a.com", "https://A.com", "https://a.Com",
        "1http://a", "+a://b", "ht_tp://a", "ht tp://a",
        "https://a.com/", "https://a.com/x", "https://a.com?", "https://a.com#",
        "https://a.com?x=1", "https://a.com#f", "https://u@a.com",
        "https://u:p@a.com", "https://a.com@b.com", "https://a.com.",
        "https://a..com", "https://.a.com", "https://a.com..", "https://.",
        "https://a.com:", "https://a.com:0", "https://a.com:443",
        "http://a.com:80", "https://a.com:0443", "https://a.com:65536",
        "https://a.com:99999", "https://a.com:123456", "https://a.com:-1",
        "https://a.com:+1", "https://a.com:1a", "https://a.com: 1",
        "https://a.com:1:2", "https://a.com, https://b.com",
        "https://a.com,https://b.com", "https://a.com ", " https://a.com",
        "https://a.com\t", "https://a.com\r\n", "https://a%2ecom",
        "https://a_b.com", "https://a\\b.com", "https://a.com\\",
        "https://caf\xc3\xa9.com", "https://a.com\x7f", "https://a\x01.com",
        "https://*.a.com", "https://*", "https://a*.com",
        /* numbers: IPv4 or nothing */
        "https://1.2.3", "https://1.2.3.4.5", "https://01.2.3.4",
        "https://1.2.3.256", "https://1.2.3.04", "https://0x7f.0.0.1",
        "https://127.1", "https://2130706433", "https://a.123",
        "https://a.0x1f", "https://a.0x", "https://1.2.3.4.", "https://1..2.3",
        "https://a.1.2.3.4",
        /* IPv6: canonical only, no zone */
        "https://[::1", "https://::1", "https://[::1]]", "https://[]",
        "https://[::1]x", "https://[::1]:", "https://[::1]:443",
        "https://[::1]/", "https://[0::1]", "https://[::0001]",
        "https://[::FFFF:1]", "https://[::ffff:1.2.3.4]",
        "https://[fe80::1%25eth0]", "https://[fe80::1%eth0]",
        "https://[1:0:0:0:0:0:0:1]", "https://[1::0:1]",
        "https://[1:0::1]", "https://[2001:db8::1:0:0:1]x",
        "https://[2001:db8:0:0:1::1]", "https://[1.2.3.4]",
        "https://[::1:2:3:4:5:6:7]", "https://[2001:db8::]:0",
        NULL};
    gk_cors_origin_t o;
    int i;

    for (i = 0; bad[i]; i++) {
        ck_assert_msg(!oparse(bad[i], &o), "'%s' accepted", bad[i]);
    }
    ck_assert(!gk_cors_origin_parse(NULL, 0, &o));
    ck_assert(!gk_cors_origin_parse("https://a", 9, NULL));
    /* a NUL inside the given length */
    ck_assert(!gk_cors_origin_parse("https://a\0b", 11, &o));
    ck_assert(!gk_cors_origin_parse("https://a.com", 0, &o));
}
END_TEST

START_TEST(origin_lengths)
{
    char label63[64], label64[65], name[300];
    gk_cors_origin_t o;
    int i;

    memset(label63, 'a', 63);
    label63[63] = '\0';
    memset(label64, 'a', 64);
    label64[64] = '\0';
    ck_assert(oparse(apr_pstrcat(tp, "https://", label63, ".com", NULL), &o));
    ck_assert(!oparse(apr_pstrcat(tp, "https://", label64, ".com", NULL),
                      &o));
    /* 253 bytes: 63 + 1 + 63 + 1 + 63 + 1 + 61 */
    snprintf(name, sizeof(name), "%s.%s.%s.%.61s", label63, label63, label63,
             label63);
    ck_assert_uint_eq(strlen(name), 253);
    ck_assert(oparse(apr_pstrcat(tp, "https://", name, NULL), &o));
    ck_assert_uint_eq(o.host_len, 253);
    snprintf(name, sizeof(name), "%s.%s.%s.%.62s", label63, label63, label63,
             label63);
    ck_assert(!oparse(apr_pstrcat(tp, "https://", name, NULL), &o));
    /* many one-byte labels */
    for (i = 0; i < 127; i++) {
        name[2 * i] = 'a';
        name[2 * i + 1] = '.';
    }
    name[253] = '\0';
    ck_assert_uint_eq(strlen(name), 253);
    ck_assert(oparse(apr_pstrcat(tp, "https://", name, NULL), &o));
}
END_TEST

START_TEST(origin_ip)
{
    gk_cors_origin_t o;

    ck_assert(oparse("http://127.0.0.1", &o));
    ck_assert_uint_eq(o.host_len, 9);
    ck_assert(oparse("http://127.0.0.1:8080", &o));
    ck_assert_int_eq(o.port, 8080);
    ck_assert(oparse("https://0.0.0.0", &o));
    ck_assert(oparse("https://255.255.255.255", &o));
    ck_assert(oparse("https://10.0.10.100", &o));
    ck_assert(oparse("http://[::1]", &o));
    ck_assert_uint_eq(o.host_len, 5);
    ck_assert(!strncmp(o.host, "[::1]", 5));
    ck_assert_int_eq(o.port, 80);
    ck_assert(oparse("http://[::1]:8080", &o));
    ck_assert_int_eq(o.port, 8080);
    ck_assert(oparse("https://[::]", &o));
    ck_assert(oparse("https://[2001:db8::1]", &o));
    ck_assert(oparse("https://[2001:db8::1:0:0:1]", &o));
    ck_assert(oparse("https://[2001:db8:0:1:1:1:1:1]", &o));
    ck_assert(oparse("https://[1::]", &o));
    ck_assert(oparse("https://[fe80::1]", &o));
    ck_assert(oparse("https://[1:0:1::]", &o));
    /* IPv4-mapped: hex pieces as browsers write them */
    ck_assert(oparse("https://[::ffff:102:304]", &o));
    ck_assert(oparse("https://[::102:304]", &o));
    ck_assert(oparse("https://[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]",
                     &o));
}
END_TEST

/* The IPv6 serialisation agrees with glibc's inet_ntop wherever glibc does
 * not write an embedded dotted quad. */
START_TEST(origin_ipv6_vs_inet_ntop)
{
    static const char *addrs[] = {
        "::1", "::", "1::", "2001:db8::1", "2001:0db8:0:0:1:0:0:1",
        "1:0:0:2:0:0:0:3", "0:0:1:0:0:0:0:0", "1:2:3:4:5:6:7:8",
        "1:0:2:0:3:0:4:0", "fe80::abcd:0:0:0", "0:1:0:0:1:0:0:0",
        "1:2:3:4:5:6:0:0", "0:0:0:0:0:0:0:2:", "0:0:0:0:0:0:0:ffff", NULL};
    int i;

    for (i = 0; addrs[i]; i++) {
        unsigned char b[16];
        char ntop[INET6_ADDRSTRLEN];
        gk_cors_origin_t o;
        const char *s;

        if (inet_pton(AF_INET6, addrs[i], b) != 1) {
            continue;   /* the malformed one */
        }
        ck_assert_ptr_nonnull(inet_ntop(AF_INET6, b, ntop, sizeof(ntop)));
        if (strchr(ntop, '.')) {
            continue;
        }
        s = apr_pstrcat(tp, "https://[", ntop, "]", NULL);
        ck_assert_msg(oparse(s, &o), "'%s' refused", s);
        if (strcmp(ntop, addrs[i]) != 0) {
            s = apr_pstrcat(tp, "https://[", addrs[i], "]", NULL);
            ck_assert_msg(!oparse(s, &o), "'%s' accepted", s);
        }
    }
}
END_TEST

/* ---- gk_cors_allowed_parse --------------------------------------------- */

START_TEST(allowed_exact)
{
    gk_cors_allowed_t a = allowed("https://app.example.com");

    ck_assert_str_eq(a.text, "https://app.example.com");
    ck_assert_uint_eq(a.len, 23);
    ck_assert(!a.wildcard);
    ck_assert_uint_eq(a.o.scheme_len, 5);
    ck_assert(!strncmp(a.o.host, "app.example.com", a.o.host_len));
    ck_assert_uint_eq(a.o.host_len, 15);
    ck_assert_int_eq(a.o.port, 443);

    a = allowed("http://localhost:3000");
    ck_assert_int_eq(a.o.port, 3000);
    ck_assert(!strncmp(a.o.host, "localhost", a.o.host_len));
    a = allowed("http://[::1]:8080");
    ck_assert_uint_eq(a.o.host_len, 5);
    ck_assert(!strncmp(a.o.host, "[::1]", 5));
    a = allowed("foo://bar");
    ck_assert_int_eq(a.o.port, 0);
    a = allowed("foo://bar:80");
    ck_assert_int_eq(a.o.port, 80);
}
END_TEST

START_TEST(allowed_wildcard)
{
    gk_cors_allowed_t a = allowed("https://*.example.com");

    ck_assert(a.wildcard);
    ck_assert_str_eq(a.text, "https://*.example.com");
    ck_assert_uint_eq(a.len, 21);
    ck_assert_uint_eq(a.o.host_len, 11);
    ck_assert(!strncmp(a.o.host, "example.com", 11));
    ck_assert_int_eq(a.o.port, 443);
    ck_assert_uint_eq(a.o.scheme_len, 5);

    a = allowed("http://*.example.com:8080");
    ck_assert(a.wildcard);
    ck_assert_int_eq(a.o.port, 8080);
    ck_assert_uint_eq(a.o.host_len, 11);
    ck_assert(!strncmp(a.o.host, "example.com", 11));

    a = allowed("https://*.localhost");
    ck_assert(a.wildcard);
    ck_assert_uint_eq(a.o.host_len, 9);
    a = allowed("https://*.com");
    ck_assert(a.wildcard);
}
END_TEST

/* Non-canonical text: refused, with the canonical form in the message. */
START_TEST(allowed_noncanonical)
{
    tk_assert_err(aerr("HTTPS://App.Example.COM:443/"),
                  "'HTTPS://App.Example.COM:443/' is not written as browsers"
                  " send it: write 'https://app.example.com'");
    tk_assert_err(aerr("https://APP.example.com"),
                  "write 'https://app.example.com'");
    tk_assert_err(aerr("Https://app.example.com"),
                  "write 'https://app.example.com'");
    tk_assert_err(aerr("https://app.example.com/"),
                  "write 'https://app.example.com'");
    tk_assert_err(aerr("https://app.example.com."),
                  "write 'https://app.example.com'");
    tk_assert_err(aerr("https://app.example.com.:443/"),
                  "write 'https://app.example.com'");
    tk_assert_err(aerr("https://app.example.com:443"),
                  "write 'https://app.example.com'");
    tk_assert_err(aerr("https://app.example.com:0443"),
                  "write 'https://app.example.com'");
    tk_assert_err(aerr("http://app.example.com:80"),
                  "write 'http://app.example.com'");
    tk_assert_err(aerr("http://localhost:03000"),
                  "write 'http://localhost:3000'");
    tk_assert_err(aerr("http://localhost:3000/"),
                  "write 'http://localhost:3000'");
    tk_assert_err(aerr("https://app.example.com:"),
                  "write 'https://app.example.com'");
    tk_assert_err(aerr("HTTPS://*.Example.com"),
                  "write 'https://*.example.com'");
    tk_assert_err(aerr("https://*.example.com:443/"),
                  "write 'https://*.example.com'");
    tk_assert_err(aerr("https://*.example.com."),
                  "write 'https://*.example.com'");
    tk_assert_err(aerr("https://*.example.com:08443"),
                  "write 'https://*.example.com:8443'");
    tk_assert_err(aerr("http://[::FFFF:1.2.3.4]:80"),
                  "write 'http://[::ffff:102:304]'");
    tk_assert_err(aerr("http://[0:0::1]"), "write 'http://[::1]'");
    tk_assert_err(aerr("https://[2001:DB8:0:0:0:0:0:1]/"),
                  "write 'https://[2001:db8::1]'");
    tk_assert_err(aerr("https://1.2.3.4."), "write 'https://1.2.3.4'");
    tk_assert_err(aerr("FOO://X:80"), "write 'foo://x:80'");
}
END_TEST

START_TEST(allowed_refused)
{
    static const struct {
        const char *text, *want;
    } t[] = {
        {"", "empty"},
        {"null", "'null' cannot be allowed"},
        {"NULL", "'null' cannot be allowed"},
        {"*", "'*' is not an origin"},
        {"app.example.com", "is not an origin"},
        {"*.example.com", "is not an origin"},
        {"https://app.example.com/x", "has a path"},
        {"https://app.example.com//", "has a path"},
        {"https://app.example.com\\", "has a path"},
        {"https://app.example.com/?q", "has a query"},
        {"https://app.example.com?q", "has a query"},
        {"https://app.example.com#f", "has a fragment"},
        {"https://app.example.com/#", "has a fragment"},
        {"https://user@app.example.com", "user information"},
        {"https://u:p@app.example.com", "user information"},
        {"https://caf\xc3\xa9.example", "punycode (xn--"},
        {"https://app.example.com ", "white space or a control"},
        {"https://app.example.com\t", "white space or a control"},
        {"https://a.com, https://b.com", "white space or a control"},
        {"https://a.com,https://b.com", "has a path"},
        {"https://a.com,b.com", "may only hold letters"},
        {"https://a*.example.com", "whole first label"},
        {"https://*example.com", "whole first label"},
        {"https://x.*.example.com", "whole first label"},
        {"https://*.*.example.com", "whole first label"},
        {"https://*", "whole first label"},
        {"https://*.", "whole first label"},
        {"https://*.1.2.3.4", "cannot cover an IP address"},
        {"https://*.2.3.4", "cannot cover an IP address"},
        {"https://*.example.123", "cannot cover an IP address"},
        {"https://*.[::1]", "cannot cover an IP address"},
        {"https://", "has no host"},
        {"https:///", "has no host"},
        {"https://:443", "has no host"},
        {"https://*.", "wildcard"},
        {"https://a.com:0", "not a number from 1 to 65535"},
        {"https://a.com:000", "not a number from 1 to 65535"},
        {"https://a.com:65536", "'65536' is not a number from 1 to 65535"},
        {"https://a.com:1234567", "not a number from 1 to 65535"},
        {"https://a.com:x", "'x' is not a number"},
        {"https://a.com:-1", "not a number"},
        {"https://a.com:1:2", "not a number"},
        {"https://[::1]:x", "not a number"},
        {"https://[::1", "no closing ']'"},
        {"https://[::1]x", "text after the IPv6 address"},
        {"https://[fe80::1%eth0]", "zone identifier"},
        {"https://[fe80::1%25eth0]", "zone identifier"},
        {"https://[::g]", "is not an IPv6 address"},
        {"https://[]", "is not an IPv6 address"},
        {"https://[1.2.3.4]", "is not an IPv6 address"},
        {"h_s://a.com", "is not a URL scheme"},
        {"1https://a.com", "is not a URL scheme"},
        {"://a.com", "is not a URL scheme"},
        {"https://a_b.example.com", "may only hold letters"},
        {"https://a%2eexample.com", "may only hold letters"},
        {"https://a..example.com", "empty label"},
        {"https://.example.com", "empty label"},
        {"https://example.com..", "empty label"},
        {"https://127.1", "ends in a number"},
        {"https://0x7f.0.0.1", "ends in a number"},
        {"https://127.000.0.1", "ends in a number"},
        {"https://1.2.3.256", "ends in a number"},
        {"https://example.0x10", "ends in a number"},
        {"https://2130706433", "ends in a number"},
        {NULL, NULL}};
    gk_cors_allowed_t a;
    char label[70], name[300];
    int i;

    for (i = 0; t[i].text; i++) {
        const char *e = gk_cors_allowed_parse(tp, t[i].text, &a);
        ck_assert_msg(e != NULL, "'%s' accepted", t[i].text);
        ck_assert_msg(strstr(e, t[i].want) != NULL,
                      "'%s': error \"%s\", expected \"%s\"", t[i].text, e,
                      t[i].want);
        /* no canonical suggestion for what is no origin */
        ck_assert_msg(strstr(e, "not written as browsers") == NULL,
                      "'%s': %s", t[i].text, e);
    }
    ck_assert_ptr_nonnull(gk_cors_allowed_parse(tp, NULL, &a));
    memset(label, 'a', 64);
    label[64] = '\0';
    tk_assert_err(aerr(apr_pstrcat(tp, "https://", label, ".com", NULL)),
                  "longer than 63");
    memset(name, 'a', 254);
    for (i = 50; i < 254; i += 50) {
        name[i] = '.';
    }
    name[254] = '\0';
    tk_assert_err(aerr(apr_pstrcat(tp, "https://", name, NULL)),
                  "longer than 253");
}
END_TEST

/* Every origin a browser may send is an allowed entry of the same text. */
START_TEST(allowed_roundtrip)
{
    static const char *ok[] = {
        "https://app.example.com", "http://localhost:3000",
        "http://127.0.0.1", "http://[::1]:8080", "https://[2001:db8::1]",
        "https://[::ffff:102:304]", "foo://bar", "foo://bar:80",
        "https://a.example.com:80", "https://-a-.b-", "https://x:65535",
        "chrome-extension://abcdefghijklmnop", "https://xn--caf-dma.example",
        "https://a.0xg", NULL};
    int i;

    for (i = 0; ok[i]; i++) {
        gk_cors_origin_t o;
        gk_cors_allowed_t a = allowed(ok[i]);
        ck_assert_msg(oparse(ok[i], &o), "'%s' refused", ok[i]);
        ck_assert_str_eq(a.text, ok[i]);
        ck_assert_uint_eq(a.len, strlen(ok[i]));
        ck_assert(!a.wildcard);
        ck_assert_uint_eq(a.o.scheme_len, o.scheme_len);
        ck_assert_uint_eq(a.o.host_len, o.host_len);
        ck_assert(!memcmp(a.o.host, o.host, o.host_len));
        ck_assert_int_eq(a.o.port, o.port);
        ck_assert(gk_cors_allowed_match(&a, &o));
    }
}
END_TEST

/* The same over generated strings: every one gk_cors_origin_parse takes
 * is taken by gk_cors_allowed_parse as it is. */
START_TEST(allowed_roundtrip_generated)
{
    static const char *parts[] = {
        "https", "http", "ws", "HTTP", "x", "://", ":/", "a", "A", "b-", "-",
        ".", "1", "0", "9", "255", "256", "01", "[", "]", "::", ":", "ffff",
        "0x", "com", "*", "/", "@", "%", "443", "80", "8080", "65535",
        "65536", " ", ",", NULL};
    int nparts = 0, i, j, k, l, accepted = 0;

    while (parts[nparts]) {
        nparts++;
    }
    /* scheme part, "://", then three more parts */
    for (i = 0; i < 5; i++) {
        for (j = 0; j < nparts; j++) {
            for (k = 0; k < nparts; k++) {
                for (l = 0; l < nparts; l++) {
                    const char *s = apr_pstrcat(tp, parts[i], "://",
                                                parts[j], parts[k], parts[l],
                                                NULL);
                    gk_cors_origin_t o;
                    gk_cors_allowed_t a;
                    const char *e;
                    if (!oparse(s, &o)) {
                        continue;
                    }
                    accepted++;
                    e = gk_cors_allowed_parse(tp, s, &a);
                    ck_assert_msg(e == NULL, "'%s': %s", s, e);
                    ck_assert_str_eq(a.text, s);
                    ck_assert(gk_cors_allowed_match(&a, &o));
                }
            }
        }
    }
    ck_assert_int_gt(accepted, 1000);
}
END_TEST

/* ---- matching ------------------------------------------------------------ */

static const gk_cors_allowed_t *policy_origins(int *n)
{
    static const char *texts[] = {"https://app.example.com",
                                  "https://*.example.com",
                                  "http://localhost:3000"};
    gk_cors_allowed_t *a = apr_pcalloc(tp, 3 * sizeof(*a));
    int i;

    for (i = 0; i < 3; i++) {
        a[i] = allowed(texts[i]);
    }
    *n = 3;
    return a;
}

static gk_cors_policy_t policy(void)
{
    gk_cors_policy_t pol;

    memset(&pol, 0, sizeof(pol));
    pol.origins = policy_origins(&pol.norigins);
    return pol;
}

START_TEST(match_attacks)
{
    static const char *attacks[] = {
        "https://app.example.com.evil.net", "https://example.com.evil.net",
        "https://notexample.com", "http://app.example.com",
        "https://app.example.com:8443", "null", "https://app.example.com.",
        "https://app.example.com/", "https://example.com",
        "https://app.example.com, https://evil.net",
        "https://app%2eexample.com", "https://APP.example.com",
        "https://app.example.com:443", "https://user@app.example.com",
        "https://app.example.com\t", "http://localhost:3001",
        "http://localhost", " https://app.example.com", "",
        "https://evil.net", "https://evilexample.com",
        "https://example.com:443", "https://.example.com",
        "https://a.example.com.", "https://a.example.co",
        "https://a.example.comx", "https://xexample.com",
        "https://app.example.com:80", "https://app.example.com:4430",
        "http://localhost:30000", "http://localhost:300",
        "https://localhost:3000", "http://127.0.0.1:3000",
        "http://[::1]:3000", "https://example.com.", "wss://app.example.com",
        "https://app.example.com/.evil.net", "https://evil.net/.example.com",
        "https://evil.net?.example.com", "https://evil.net#.example.com",
        "https://app.example.com\r\nX: y", "https://app.example.com ",
        "https://app.example.com%00", NULL};
    gk_cors_policy_t pol = policy();
    int i;

    for (i = 0; attacks[i]; i++) {
        gk_cors_result_e r = gk_cors_check_origin(&pol, attacks[i]);
        ck_assert_msg(r == GK_CORS_BAD_ORIGIN || r == GK_CORS_ORIGIN_REFUSED,
                      "'%s' gave %d", attacks[i], (int)r);
    }
    /* the exact kinds of refusal */
    ck_assert_int_eq(gk_cors_check_origin(&pol, "null"), GK_CORS_BAD_ORIGIN);
    ck_assert_int_eq(gk_cors_check_origin(&pol, ""), GK_CORS_BAD_ORIGIN);
    ck_assert_int_eq(gk_cors_check_origin(&pol, "https://example.com"),
                     GK_CORS_ORIGIN_REFUSED);
    ck_assert_int_eq(gk_cors_check_origin(&pol,
                                          "https://app.example.com.evil.net"),
                     GK_CORS_ORIGIN_REFUSED);
    ck_assert_int_eq(gk_cors_check_origin(&pol, "https://app.example.com/"),
                     GK_CORS_BAD_ORIGIN);
    ck_assert_int_eq(gk_cors_check_origin(&pol, NULL), GK_CORS_NO_ORIGIN);
}
END_TEST

START_TEST(match_allowed)
{
    static const char *good[] = {
        "https://app.example.com", "https://a.example.com",
        "https://a.b.example.com", "https://a.b.c.example.com",
        "https://x-y.example.com", "https://1.example.com",
        "https://-.example.com", "http://localhost:3000", NULL};
    gk_cors_policy_t pol = policy();
    int i;

    for (i = 0; good[i]; i++) {
        ck_assert_msg(gk_cors_check_origin(&pol, good[i]) == GK_CORS_ALLOWED,
                      "'%s' refused", good[i]);
    }
    /* any origin: still a serialised one */
    pol.any_origin = 1;
    ck_assert_int_eq(gk_cors_check_origin(&pol, "https://evil.net"),
                     GK_CORS_ALLOWED);
    ck_assert_int_eq(gk_cors_check_origin(&pol, "null"), GK_CORS_BAD_ORIGIN);
    ck_assert_int_eq(gk_cors_check_origin(&pol, "https://A.com"),
                     GK_CORS_BAD_ORIGIN);
    ck_assert_int_eq(gk_cors_check_origin(&pol, NULL), GK_CORS_NO_ORIGIN);
    /* an empty list allows nothing */
    memset(&pol, 0, sizeof(pol));
    ck_assert_int_eq(gk_cors_check_origin(&pol, "https://app.example.com"),
                     GK_CORS_ORIGIN_REFUSED);
}
END_TEST

START_TEST(match_wildcard)
{
    ck_assert(matches("https://*.example.com", "https://a.example.com"));
    ck_assert(matches("https://*.example.com", "https://a.b.example.com"));
    ck_assert(!matches("https://*.example.com", "https://example.com"));
    ck_assert(!matches("https://*.example.com", "https://notexample.com"));
    ck_assert(!matches("https://*.example.com",
                       "https://a.example.com.evil.net"));
    ck_assert(!matches("https://*.example.com", "https://a.example.com:8443"));
    ck_assert(!matches("https://*.example.com", "http://a.example.com"));
    ck_assert(!matches("https://*.example.com", "https://[::1]"));
    ck_assert(matches("https://*.example.com:8443",
                      "https://a.example.com:8443"));
    ck_assert(!matches("https://*.example.com:8443", "https://a.example.com"));
    ck_assert(matches("http://*.localhost", "http://a.localhost"));
    ck_assert(!matches("http://*.localhost", "http://localhost"));
    ck_assert(matches("https://*.a.b", "https://x.a.b"));
    ck_assert(!matches("https://*.a.b", "https://xa.b"));
    ck_assert(!matches("https://*.a.b", "https://.a.b"));
    ck_assert(matches("foo://*.a.b", "foo://x.a.b"));
    ck_assert(!matches("foo://*.a.b", "foo://x.a.b:1"));
    ck_assert(!matches("foo://*.a.b", "foob://x.a.b"));
    /* exact entries */
    ck_assert(matches("https://app.example.com", "https://app.example.com"));
    ck_assert(!matches("https://app.example.com",
                       "https://a.app.example.com"));
    ck_assert(!matches("https://app.example.com", "https://app.example.co"));
    ck_assert(!matches("https://app.example.com", "http://app.example.com"));
    ck_assert(!matches("http://app.example.com", "https://app.example.com"));
    ck_assert(!matches("https://app.example.com", "https://pp.example.com"));
    ck_assert(matches("http://[::1]:8080", "http://[::1]:8080"));
    ck_assert(!matches("http://[::1]:8080", "http://[::2]:8080"));
    ck_assert(matches("http://127.0.0.1", "http://127.0.0.1"));
    ck_assert(!matches("http://127.0.0.1", "http://127.0.0.10"));
    ck_assert(!matches("http://127.0.0.1", "http://27.0.0.1"));
    ck_assert(!gk_cors_allowed_match(NULL, NULL));
}
END_TEST

/* Matching holds on its own, for origins no parser made. */
START_TEST(match_unparsed)
{
    gk_cors_allowed_t a = allowed("https://*.example.com");
    gk_cors_origin_t o = {"https", 5, ".example.com", 12, 443};

    ck_assert(!gk_cors_allowed_match(&a, &o));
    o.host = "x.example.com";
    o.host_len = 13;
    ck_assert(gk_cors_allowed_match(&a, &o));
    o.host = "xxexample.com";
    ck_assert(!gk_cors_allowed_match(&a, &o));
    o.host = "example.com";
    o.host_len = 11;
    ck_assert(!gk_cors_allowed_match(&a, &o));
    o.host = "";
    o.host_len = 0;
    ck_assert(!gk_cors_allowed_match(&a, &o));
    o.host = NULL;
    ck_assert(!gk_cors_allowed_match(&a, &o));
}
END_TEST

START_TEST(match_depth)
{
    gk_cors_policy_t pol = policy();

    ck_assert_int_eq(gk_cors_check_origin(&pol, "https://a.example.com"),
                     GK_CORS_ALLOWED);
    ck_assert_int_eq(gk_cors_check_origin(&pol, "https://a.b.example.com"),
                     GK_CORS_ALLOWED);
    ck_assert_int_eq(gk_cors_check_origin(&pol,
                                          "https://a.b.c.example.com"),
                     GK_CORS_ALLOWED);
    ck_assert_int_eq(gk_cors_check_origin(&pol,
                                          "https://a.b.c.example.com:444"),
                     GK_CORS_ORIGIN_REFUSED);
}
END_TEST

START_TEST(loopback_https)
{
    static const struct {
        const char *text;
        int loopback, https;
    } t[] = {
        {"http://localhost", 1, 0},      {"http://localhost:3000", 1, 0},
        {"http://127.0.0.1", 1, 0},      {"http://127.0.0.1:8080", 1, 0},
        {"http://[::1]", 1, 0},          {"http://[::1]:5173", 1, 0},
        {"https://localhost", 0, 1},     {"https://127.0.0.1:8443", 0, 1},
        {"http://*.localhost", 0, 0},    {"http://localhost.example", 0, 0},
        {"http://127.0.0.2", 0, 0},      {"http://[::2]", 0, 0},
        {"http://a.localhost", 0, 0},    {"https://*.example.com", 0, 1},
        {"https://app.example.com", 0, 1}, {"httpx://localhost", 0, 0},
        {"ws://localhost", 0, 0},        {NULL, 0, 0}};
    int i;

    for (i = 0; t[i].text; i++) {
        gk_cors_allowed_t a = allowed(t[i].text);
        ck_assert_msg(gk_cors_allowed_loopback(&a) == t[i].loopback, "%s",
                      t[i].text);
        ck_assert_msg(gk_cors_allowed_https(&a) == t[i].https, "%s",
                      t[i].text);
    }
    ck_assert(!gk_cors_allowed_loopback(NULL));
    ck_assert(!gk_cors_allowed_https(NULL));
}
END_TEST

START_TEST(public_suffix)
{
    ck_assert(gk_cors_public_suffix("com"));
    ck_assert(gk_cors_public_suffix("co.uk"));
    ck_assert(gk_cors_public_suffix("github.io"));
    ck_assert(gk_cors_public_suffix("unknown-tld-xyz"));
    ck_assert(gk_cors_public_suffix("localhost"));
    ck_assert(!gk_cors_public_suffix("example.com"));
    ck_assert(!gk_cors_public_suffix("corp.example.co.uk"));
    ck_assert(!gk_cors_public_suffix("example.github.io"));
    ck_assert(gk_cors_public_suffix(""));
    ck_assert(gk_cors_public_suffix(NULL));
}
END_TEST

/* ---- methods, headers, preflights -------------------------------------- */

START_TEST(method_list)
{
    static const char *const list[] = {"PUT", "DELETE", "purge"};
    gk_cors_policy_t pol = policy();

    ck_assert(gk_cors_method_allowed(&pol, "GET"));
    ck_assert(gk_cors_method_allowed(&pol, "HEAD"));
    ck_assert(gk_cors_method_allowed(&pol, "POST"));
    ck_assert(!gk_cors_method_allowed(&pol, "get"));
    ck_assert(!gk_cors_method_allowed(&pol, "Post"));
    ck_assert(!gk_cors_method_allowed(&pol, "PUT"));
    ck_assert(!gk_cors_method_allowed(&pol, "OPTIONS"));
    ck_assert(!gk_cors_method_allowed(&pol, ""));
    ck_assert(!gk_cors_method_allowed(&pol, NULL));
    ck_assert(!gk_cors_method_allowed(&pol, "GET "));
    pol.methods = list;
    pol.nmethods = 3;
    ck_assert(gk_cors_method_allowed(&pol, "PUT"));
    ck_assert(gk_cors_method_allowed(&pol, "DELETE"));
    ck_assert(gk_cors_method_allowed(&pol, "purge"));
    ck_assert(!gk_cors_method_allowed(&pol, "put"));
    ck_assert(!gk_cors_method_allowed(&pol, "PURGE"));
    ck_assert(!gk_cors_method_allowed(&pol, "PATCH"));
    ck_assert(!gk_cors_method_allowed(&pol, "PUT\r\n"));
    pol.any_method = 1;
    ck_assert(gk_cors_method_allowed(&pol, "PATCH"));
    ck_assert(gk_cors_method_allowed(&pol, "x!#$%&'*+-.^_`|~"));
    ck_assert(!gk_cors_method_allowed(&pol, "PAT CH"));
    ck_assert(!gk_cors_method_allowed(&pol, "PATCH\n"));
    ck_assert(!gk_cors_method_allowed(&pol, "M(x)"));
    ck_assert(!gk_cors_method_allowed(&pol, "caf\xc3\xa9"));
    ck_assert(!gk_cors_method_allowed(&pol, ""));
}
END_TEST

static int hdr(const gk_cors_policy_t *pol, const char *name)
{
    return gk_cors_header_allowed(pol, name, strlen(name));
}

START_TEST(headers)
{
    static const char *const list[] = {"Content-Type", "x-api-key"};
    static const char *const list_auth[] = {"X-Api-Key", "Authorization"};
    gk_cors_policy_t pol = policy();

    ck_assert(hdr(&pol, "accept"));
    ck_assert(hdr(&pol, "Accept"));
    ck_assert(hdr(&pol, "ACCEPT-LANGUAGE"));
    ck_assert(hdr(&pol, "content-language"));
    ck_assert(!hdr(&pol, "content-type"));
    ck_assert(!hdr(&pol, "authorization"));
    ck_assert(!hdr(&pol, "accept-encoding"));
    ck_assert(!hdr(&pol, "accept "));
    ck_assert(!hdr(&pol, ""));
    ck_assert(!gk_cors_header_allowed(&pol, NULL, 0));
    /* the length bounds the name */
    ck_assert(gk_cors_header_allowed(&pol, "accept-language", 6));
    ck_assert(!gk_cors_header_allowed(&pol, "accept-language", 7));

    pol.headers = list;
    pol.nheaders = 2;
    ck_assert(hdr(&pol, "content-type"));
    ck_assert(hdr(&pol, "CONTENT-TYPE"));
    ck_assert(hdr(&pol, "X-API-Key"));
    ck_assert(!hdr(&pol, "x-api-key2"));
    ck_assert(!hdr(&pol, "x-api-ke"));
    ck_assert(!hdr(&pol, "authorization"));
    ck_assert(!hdr(&pol, "x api"));
    ck_assert(!hdr(&pol, "x-api-key\r\n"));

    pol.any_header = 1;
    ck_assert(hdr(&pol, "x-anything"));
    ck_assert(hdr(&pol, "X-Requested-With"));
    ck_assert(!hdr(&pol, "authorization"));
    ck_assert(!hdr(&pol, "Authorization"));
    ck_assert(!hdr(&pol, "x(y)"));
    ck_assert(!hdr(&pol, "x:y"));

    pol.headers = list_auth;
    ck_assert(hdr(&pol, "authorization"));
    ck_assert(hdr(&pol, "AUTHORIZATION"));
    pol.any_header = 0;
    ck_assert(hdr(&pol, "Authorization"));
    ck_assert(!hdr(&pol, "content-type"));
}
END_TEST

START_TEST(preflight_origin_method)
{
    static const char *const methods[] = {"PUT"};
    gk_cors_policy_t pol = policy();
    const char *ah = "unset";

    pol.methods = methods;
    pol.nmethods = 1;
    ck_assert_int_eq(gk_cors_check_preflight(tp, &pol, NULL, "PUT", NULL,
                                             &ah), GK_CORS_NO_ORIGIN);
    ck_assert_ptr_null(ah);
    ck_assert_int_eq(gk_cors_check_preflight(tp, &pol, "null", "PUT", NULL,
                                             &ah), GK_CORS_BAD_ORIGIN);
    ck_assert_int_eq(gk_cors_check_preflight(tp, &pol, "https://evil.net",
                                             "PUT", NULL, &ah),
                     GK_CORS_ORIGIN_REFUSED);
    /* the origin is checked before the method */
    ck_assert_int_eq(gk_cors_check_preflight(tp, &pol, "https://evil.net",
                                             "PATCH", "x-a", &ah),
                     GK_CORS_ORIGIN_REFUSED);
    ah = "unset";
    ck_assert_int_eq(gk_cors_check_preflight(tp, &pol,
                                             "https://app.example.com", "PUT",
                                             NULL, &ah), GK_CORS_ALLOWED);
    ck_assert_ptr_null(ah);
    ck_assert_int_eq(gk_cors_check_preflight(tp, &pol,
                                             "https://app.example.com", "GET",
                                             "", &ah), GK_CORS_ALLOWED);
    ck_assert_ptr_null(ah);
    ck_assert_int_eq(gk_cors_check_preflight(tp, &pol,
                                             "https://app.example.com", "GET",
                                             " , ,\t,", &ah),
                     GK_CORS_ALLOWED);
    ck_assert_ptr_null(ah);
    ck_assert_int_eq(gk_cors_check_preflight(tp, &pol,
                                             "https://a.example.com", "PATCH",
                                             NULL, &ah),
                     GK_CORS_METHOD_REFUSED);
    ck_assert_int_eq(gk_cors_check_preflight(tp, &pol,
                                             "https://a.example.com", "put",
                                             NULL, &ah),
                     GK_CORS_METHOD_REFUSED);
    ck_assert_int_eq(gk_cors_check_preflight(tp, &pol,
                                             "https://a.example.com", NULL,
                                             NULL, &ah),
                     GK_CORS_METHOD_REFUSED);
    ck_assert_int_eq(gk_cors_check_preflight(tp, &pol,
                                             "https://a.example.com", "",
                                             NULL, &ah),
                     GK_CORS_METHOD_REFUSED);
    ck_assert_int_eq(gk_cors_check_preflight(tp, &pol,
                                             "https://a.example.com", "P T",
                                             NULL, &ah),
                     GK_CORS_METHOD_REFUSED);
    /* the method is checked before the headers */
    ck_assert_int_eq(gk_cors_check_preflight(tp, &pol,
                                             "https://a.example.com", "PATCH",
                                             "x y", &ah),
                     GK_CORS_METHOD_REFUSED);
    pol.any_method = 1;
    ck_assert_int_eq(gk_cors_check_preflight(tp, &pol,
                                             "https://a.example.com", "PATCH",
                                             NULL, &ah), GK_CORS_ALLOWED);
    ck_assert_int_eq(gk_cors_check_preflight(tp, &pol,
                                             "https://a.example.com", "P T",
                                             NULL, &ah),
                     GK_CORS_METHOD_REFUSED);
}
END_TEST

/* The preflight's decision and Access-Control-Allow-Headers for request
 * headers rh; "!" for a refusal. */
static const char *pf(const gk_cors_policy_t *pol, const char *rh)
{
    const char *ah = "unset";
    gk_cors_result_e r = gk_cors_check_preflight(tp, pol,
                                                 "https://app.example.com",
                                                 "GET", rh, &ah);
    if (r == GK_CORS_HEADER_REFUSED) {
        ck_assert_ptr_null(ah);
        return "!";
    }
    ck_assert_int_eq(r, GK_CORS_ALLOWED);
    return ah ? ah : "(null)";
}

START_TEST(preflight_headers)
{
    static const char *const list[] = {"Content-Type", "X-Api-Key"};
    static const char *const list_auth[] = {"content-type", "authorization"};
    gk_cors_policy_t pol = policy();

    ck_assert_str_eq(pf(&pol, NULL), "(null)");
    ck_assert_str_eq(pf(&pol, "accept"), "accept");
    ck_assert_str_eq(pf(&pol, "content-type"), "!");
    ck_assert_str_eq(pf(&pol, "authorization"), "!");

    pol.headers = list;
    pol.nheaders = 2;
    ck_assert_str_eq(pf(&pol, "content-type"), "content-type");
    ck_assert_str_eq(pf(&pol, "Content-Type,X-API-KEY"),
                     "content-type, x-api-key");
    ck_assert_str_eq(pf(&pol, " content-type ,\tx-api-key\t, ,,"),
                     "content-type, x-api-key");
    ck_assert_str_eq(pf(&pol, "x-api-key,content-type,X-Api-Key,accept"),
                     "x-api-key, content-type, accept");
    ck_assert_str_eq(pf(&pol, "content-type, x-other"), "!");
    ck_assert_str_eq(pf(&pol, "content-type, authorization"), "!");
    ck_assert_str_eq(pf(&pol, "content type"), "!");
    ck_assert_str_eq(pf(&pol, "content-type;x-api-key"), "!");
    ck_assert_str_eq(pf(&pol, "content-type\r\n, x-api-key"), "!");
    ck_assert_str_eq(pf(&pol, "content-type\n"), "!");
    ck_assert_str_eq(pf(&pol, "caf\xc3\xa9"), "!");
    ck_assert_str_eq(pf(&pol, "*"), "!");

    /* "*": every name but Authorization */
    pol.any_header = 1;
    ck_assert_str_eq(pf(&pol, "x-anything, x-other"), "*");
    ck_assert_str_eq(pf(&pol, "accept"), "*");
    ck_assert_str_eq(pf(&pol, ","), "(null)");
    ck_assert_str_eq(pf(&pol, "x-anything, authorization"), "!");
    ck_assert_str_eq(pf(&pol, "x a"), "!");
    pol.headers = list_auth;
    ck_assert_str_eq(pf(&pol, "x-anything, Authorization"),
                     "*, authorization");
    ck_assert_str_eq(pf(&pol, "authorization"), "*, authorization");
    ck_assert_str_eq(pf(&pol, "x-anything"), "*");
    pol.any_header = 0;
    ck_assert_str_eq(pf(&pol, "Authorization, Content-Type"),
                     "authorization, content-type");
    ck_assert_str_eq(pf(&pol, "x-anything, authorization"), "!");
}
END_TEST

START_TEST(preflight_bounds)
{
    static const char *const list[] = {"x-a"};
    gk_cors_policy_t pol = policy();
    apr_array_header_t *m = apr_array_make(tp, 80, sizeof(const char *));
    char *big;
    const char *s;
    int i;

    /* 64 members are fine, 65 are too many, duplicates counted */
    pol.any_header = 1;
    for (i = 0; i < 64; i++) {
        APR_ARRAY_PUSH(m, const char *) = apr_psprintf(tp, "x-h%d", i);
    }
    ck_assert_str_eq(pf(&pol, apr_array_pstrcat(tp, m, ',')), "*");
    APR_ARRAY_PUSH(m, const char *) = "x-h64";
    ck_assert_str_eq(pf(&pol, apr_array_pstrcat(tp, m, ',')), "!");
    s = "x-a";
    for (i = 1; i < 65; i++) {
        s = apr_pstrcat(tp, s, ",x-a", NULL);
    }
    ck_assert_str_eq(pf(&pol, s), "!");
    /* empty members are not counted */
    s = "x-a";
    for (i = 1; i < 64; i++) {
        s = apr_pstrcat(tp, s, ", ,x-a", NULL);
    }
    ck_assert_str_eq(pf(&pol, s), "*");

    /* 8192 bytes are fine, 8193 are too many */
    pol.any_header = 0;
    pol.headers = list;
    pol.nheaders = 1;
    big = apr_palloc(tp, 8194);
    memset(big, ' ', 8193);
    memcpy(big, "x-a", 3);
    big[8192] = '\0';
    ck_assert_str_eq(pf(&pol, big), "x-a");
    big[8192] = ' ';
    big[8193] = '\0';
    ck_assert_str_eq(pf(&pol, big), "!");
    /* a long name is still one member */
    memset(big, 'x', 8192);
    big[8192] = '\0';
    pol.any_header = 1;
    ck_assert_str_eq(pf(&pol, big), "*");
}
END_TEST

START_TEST(preflight_no_out)
{
    gk_cors_policy_t pol = policy();

    pol.any_header = 1;
    ck_assert_int_eq(gk_cors_check_preflight(tp, &pol,
                                             "https://app.example.com", "GET",
                                             "x-a", NULL), GK_CORS_ALLOWED);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("cors");
    TCase *tc = tk_tcase("origin");

    tcase_add_test(tc, origin_valid);
    tcase_add_test(tc, origin_invalid);
    tcase_add_test(tc, origin_lengths);
    tcase_add_test(tc, origin_ip);
    tcase_add_test(tc, origin_ipv6_vs_inet_ntop);
    suite_add_tcase(s, tc);

    tc = tk_tcase("allowed");
    tcase_add_test(tc, allowed_exact);
    tcase_add_test(tc, allowed_wildcard);
    tcase_add_test(tc, allowed_noncanonical);
    tcase_add_test(tc, allowed_refused);
    tcase_add_test(tc, allowed_roundtrip);
    tcase_add_test(tc, allowed_roundtrip_generated);
    suite_add_tcase(s, tc);

    tc = tk_tcase("match");
    tcase_add_test(tc, match_attacks);
    tcase_add_test(tc, match_allowed);
    tcase_add_test(tc, match_wildcard);
    tcase_add_test(tc, match_unparsed);
    tcase_add_test(tc, match_depth);
    tcase_add_test(tc, loopback_https);
    tcase_add_test(tc, public_suffix);
    suite_add_tcase(s, tc);

    tc = tk_tcase("preflight");
    tcase_add_test(tc, method_list);
    tcase_add_test(tc, headers);
    tcase_add_test(tc, preflight_origin_method);
    tcase_add_test(tc, preflight_headers);
    tcase_add_test(tc, preflight_bounds);
    tcase_add_test(tc, preflight_no_out);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(suite)
