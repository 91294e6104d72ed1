/*
 * JSON Schema format checks (common/gk_format.c): vectors of our own for
 * each format's edges (email with the cases Pydantic's EmailStr refuses),
 * and every string case of the JSON-Schema-Test-Suite's draft-07
 * optional/format files for the formats we assert (Debian's
 * json-schema-test-suite package), run through gk_format_check directly
 * (GK_FORMAT_SUITE_DIR=DIR reads another copy of those files, such as a
 * newer checkout of the suite's tests/draft7/optional/format).
 */
#include <jansson.h>

#include "gk_test_core.h"
#include "gk_format.h"

#define SUITE_DIR "/usr/share/json-schema-test-suite/tests/draft7/optional/format"

typedef struct {
    const char *s;
    int ok;
} vec_t;

static void run(gk_format_e f, const vec_t *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        ck_assert_msg(gk_format_check(f, v[i].s, strlen(v[i].s)) == v[i].ok,
                      "%s \"%s\": expected %s", gk_format_message(f), v[i].s,
                      v[i].ok ? "valid" : "invalid");
    }
}

#define RUN(f, v) run(f, v, sizeof(v) / sizeof(v[0]))

START_TEST(lookup)
{
    ck_assert_int_eq(gk_format_lookup("email"), GK_FORMAT_EMAIL);
    ck_assert_int_eq(gk_format_lookup("hostname"), GK_FORMAT_HOSTNAME);
    ck_assert_int_eq(gk_format_lookup("ipv4"), GK_FORMAT_IPV4);
    ck_assert_int_eq(gk_format_lookup("ipv6"), GK_FORMAT_IPV6);
    ck_assert_int_eq(gk_format_lookup("date-time"), GK_FORMAT_DATE_TIME);
    ck_assert_int_eq(gk_format_lookup("date"), GK_FORMAT_DATE);
    ck_assert_int_eq(gk_format_lookup("uri"), GK_FORMAT_URI);
    ck_assert_int_eq(gk_format_lookup("Email"), GK_FORMAT_UNKNOWN);
    ck_assert_int_eq(gk_format_lookup("idn-email"), GK_FORMAT_UNKNOWN);
    ck_assert_int_eq(gk_format_lookup("uri-reference"), GK_FORMAT_UNKNOWN);
    ck_assert_int_eq(gk_format_lookup(""), GK_FORMAT_UNKNOWN);
    ck_assert_int_eq(gk_format_lookup(NULL), GK_FORMAT_UNKNOWN);
    ck_assert(gk_format_check(GK_FORMAT_UNKNOWN, "anything \n", 10));
    ck_assert(gk_format_check((gk_format_e)99, "x", 1));
    ck_assert_str_eq(gk_format_message(GK_FORMAT_EMAIL),
                     "must be a valid email address");
    ck_assert_str_eq(gk_format_message(GK_FORMAT_URI), "must be a valid URI");
    ck_assert_ptr_nonnull(gk_format_message((gk_format_e)99));
}
END_TEST

START_TEST(email)
{
    static const vec_t v[] = {
        {"joe.bloggs@example.com", 1},
        {"user@example.org", 1},
        {"a@b.co", 1},
        {"first.last+tag@sub.example.co.uk", 1},
        {"x!#$%&'*+-/=?^_`{|}~y@example.com", 1},
        {"te~st@example.com", 1},
        {"~test@example.com", 1},
        {"test~@example.com", 1},
        {"te.s.t@example.com", 1},
        {"1234567890@example.com", 1},
        {"user@123.example", 1},
        {"user@x-y.example", 1},
        {"user@xn--bcher-kva.example", 1},
        {"user@xn--X.example", 0},
        /* refused by Pydantic's EmailStr, valid RFC 5321 mailboxes */
        {"\"joe bloggs\"@example.com", 1},
        {"\"joe..bloggs\"@example.com", 1},
        {"\"a\\\"b\"@example.com", 1},
        {"\"\"@example.com", 1},
        {"\"@\"@example.com", 1},
        {"joe.bloggs@[127.0.0.1]", 1},
        {"joe.bloggs@[IPv6:::1]", 1},
        {"joe.bloggs@[ipv6:2001:db8::1]", 1},
        {"user@localhost", 1},
        {"user@printer.local", 1},
        {"user@host.test", 1},
        {"user@example.123", 1},
        {"user@192.0.2.1", 1},
        /* invalid */
        {"2962", 0},
        {"", 0},
        {"@", 0},
        {"@example.com", 0},
        {"user@", 0},
        {"user", 0},
        {".test@example.com", 0},
        {"test.@example.com", 0},
        {"te..st@example.com", 0},
        {"a@b@example.com", 0},
        {"joe bloggs@example.com", 0},
        {"joe.bloggs@invalid=domain.com", 0},
        {"joe.bloggs@[127.0.0.300]", 0},
        {"joe.bloggs@[IPv6:::g]", 0},
        {"joe.bloggs@[::1]", 0},
        {"joe.bloggs@[tag:general]", 0},
        {"joe.bloggs@[127.0.0.1", 0},
        {"user@-example.com", 0},
        {"user@example-.com", 0},
        {"user@example..com", 0},
        {"user@.example.com", 0},
        {"user@example.com.", 0},
        {"user@exa_mple.com", 0},
        {"Joe <joe@example.com>", 0},
        {"joe@example.com (Joe)", 0},
        {"(comment)joe@example.com", 0},
        {" joe@example.com", 0},
        {"joe@example.com ", 0},
        {"joe@example.com\n", 0},
        {"\"unclosed@example.com", 0},
        {"\"a\"b@example.com", 0},
        {"\"a\tb\"@example.com", 0},
        {"\"a\\\n\"@example.com", 0},
        {"j\xc3\xb6rg@example.com", 0},    /* non-ASCII: idn-email */
        {"joe@b\xc3\xbc" "cher.example", 0},
        {"joe@\xe2\x80\x8b" "example.com", 0}};
    char local[80], addr[300];
    size_t n;

    RUN(GK_FORMAT_EMAIL, v);
    /* the local part: 64 octets at most */
    memset(local, 'a', 64);
    local[64] = 0;
    apr_snprintf(addr, sizeof(addr), "%s@example.com", local);
    ck_assert(gk_format_check(GK_FORMAT_EMAIL, addr, strlen(addr)));
    apr_snprintf(addr, sizeof(addr), "a%s@example.com", local);
    ck_assert(!gk_format_check(GK_FORMAT_EMAIL, addr, strlen(addr)));
    apr_snprintf(addr, sizeof(addr), "\"%.62s\"@example.com", local);
    ck_assert(gk_format_check(GK_FORMAT_EMAIL, addr, strlen(addr)));
    apr_snprintf(addr, sizeof(addr), "\"%.63s\"@example.com", local);
    ck_assert(!gk_format_check(GK_FORMAT_EMAIL, addr, strlen(addr)));
    /* the whole: 254 octets at most (a@ + labels of 63) */
    memset(addr, 0, sizeof(addr));
    memcpy(addr, "a@", 2);
    for (n = 2; n + 64 <= 254; n += 64) {
        memset(addr + n, 'b', 63);
        addr[n + 63] = '.';
    }
    memset(addr + n, 'c', 254 - n);   /* exactly 254 */
    ck_assert_uint_eq(strlen(addr), 254);
    ck_assert(gk_format_check(GK_FORMAT_EMAIL, addr, 254));
    addr[254] = 'c';
    ck_assert(!gk_format_check(GK_FORMAT_EMAIL, addr, 255));
    /* the length is honoured: a NUL inside fails, a cut string is read */
    ck_assert(!gk_format_check(GK_FORMAT_EMAIL, "a\0b@example.com", 15));
    ck_assert(gk_format_check(GK_FORMAT_EMAIL, "a@example.comXYZ", 13));
    ck_assert(!gk_format_check(GK_FORMAT_EMAIL, NULL, 0));
}
END_TEST

START_TEST(hostname)
{
    static const vec_t v[] = {
        {"www.example.com", 1},
        {"xn--4gbwdl.xn--wgbh1c", 1},
        {"hostname", 1},
        {"host-name", 1},
        {"h0stn4me", 1},
        {"1host", 1},
        {"hostnam3", 1},
        {"a", 1},
        {"0", 1},
        {"EXAMPLE.COM", 1},
        {"a.b.c.d.e.f", 1},
        /* A-labels: RFC 3492 Punycode of a non-ASCII label */
        {"xn--bcher-kva.example", 1},
        {"XN--BCHER-KVA.EXAMPLE", 1},
        {"xn--nw2a.xn--j6w193g", 1},
        {"www.xn--4gbwdl.xn--wgbh1c", 1},
        {"xn--X", 0},             /* not Punycode */
        {"xn--abc-", 0},          /* decodes to ASCII */
        {"xn--", 0},
        {"xn--mnchen-3ya", 1},    /* RFC 3492's examples decode */
        {"xn--ls8h", 1},          /* U+1F4A9, beyond the BMP */
        {"xn--99999999999", 0},   /* overflows */
        {"xn--dn32g", 1},         /* U+10FFFF */
        {"xn--en32g", 0},         /* U+110000: past Unicode */
        {"xn--ib9b", 0},          /* U+D800: a surrogate */
        {"xn--abc-9", 0},         /* the integer stops short */
        {"xn--abc--", 0},         /* '-' is not a digit */
        {"ab--cd", 1},            /* not an A-label: RFC 1123 allows it */
        {"-a-host-name-that-starts-with--", 0},
        {"not_a_valid_host_name", 0},
        {"-hostname", 0},
        {"hostname-", 0},
        {"_hostname", 0},
        {"host.-name", 0},
        {"host-.name", 0},
        {"", 0},
        {".", 0},
        {".example", 0},
        {"example.", 0},
        {"example..com", 0},
        {"exa mple", 0},
        {"h\xc3\xa9llo", 0},
        {"host:80", 0},
        {"[::1]", 0}};
    char buf[300];
    size_t n;

    RUN(GK_FORMAT_HOSTNAME, v);
    memset(buf, 'a', 63);
    ck_assert(gk_format_check(GK_FORMAT_HOSTNAME, buf, 63));
    ck_assert(!gk_format_check(GK_FORMAT_HOSTNAME, buf, 64));
    /* 253 in all, in labels of 63 */
    for (n = 0; n + 64 <= 253; n += 64) {
        memset(buf + n, 'b', 63);
        buf[n + 63] = '.';
    }
    memset(buf + n, 'c', 253 - n);
    ck_assert(gk_format_check(GK_FORMAT_HOSTNAME, buf, 253));
    buf[253] = 'c';
    ck_assert(!gk_format_check(GK_FORMAT_HOSTNAME, buf, 254));
}
END_TEST

START_TEST(ipv4)
{
    static const vec_t v[] = {
        {"192.168.0.1", 1},     {"0.0.0.0", 1},         {"255.255.255.255", 1},
        {"87.10.0.1", 1},       {"1.2.3.4", 1},         {"127.0.0.0.1", 0},
        {"256.256.256.256", 0}, {"127.0", 0},           {"0x7f000001", 0},
        {"087.10.0.1", 0},      {"00.0.0.0", 0},        {"1.2.3.04", 0},
        {"1.2.3.4.", 0},        {".1.2.3.4", 0},        {"1..2.3", 0},
        {"1.2.3.256", 0},       {"1.2.3.1000", 0},      {" 1.2.3.4", 0},
        {"1.2.3.4 ", 0},        {"192.168.1.0/24", 0},  {"1.2.3.-4", 0},
        {"+1.2.3.4", 0},        {"1.2.3.\xd9\xa3", 0},  {"", 0},
        {"1.2.3", 0},           {"1.2.3.4\n", 0},       {"a.b.c.d", 0}};

    RUN(GK_FORMAT_IPV4, v);
}
END_TEST

START_TEST(ipv6)
{
    static const vec_t v[] = {
        {"::1", 1},
        {"::", 1},
        {"::abef", 1},
        {"::42:ff:1", 1},
        {"d6::", 1},
        {"1:d6::42", 1},
        {"1::d6:192.168.0.1", 1},
        {"1:2::192.168.0.1", 1},
        {"::ffff:192.168.0.1", 1},
        {"1:2:3:4:5:6:7:8", 1},
        {"1000:1000:1000:1000:1000:1000:255.255.255.255", 1},
        {"2001:0db8:85a3:0000:0000:8a2e:0370:7334", 1},
        {"2001:DB8::8:800:200C:417A", 1},
        {"::1:2:3:4:5:6:7", 1},
        {"1:2:3:4:5:6:7::", 1},
        {"1::8", 1},
        {"::0.0.0.0", 1},
        {"12345::", 0},
        {"1:1:1:1:1:1:1:1:1:1:1:1:1:1:1:1", 0},
        {"::laptop", 0},
        {"::abcef", 0},
        {":2:3:4:5:6:7:8", 0},
        {"1:2:3:4:5:6:7:", 0},
        {":2:3:4::8", 0},
        {"1::d6::42", 0},
        {"1::2:192.168.256.1", 0},
        {"1::2:192.168.ff.1", 0},
        {"1::2:192.168.01.1", 0},
        {"1:2:3:4:5:::8", 0},
        {"1:2:3:4:5:6:7", 0},
        {"1", 0},
        {":", 0},
        {":::", 0},
        {"", 0},
        {"127.0.0.1", 0},
        {"1:2:3:4:1.2.3", 0},
        {"  ::1", 0},
        {"::1  ", 0},
        {"fe80::/64", 0},
        {"fe80::a%eth1", 0},
        {"100:100:100:100:100:100:255.255.255.255.255", 0},
        {"100:100:100:100:100:100:100:255.255.255.255", 0},
        {"1:2:3:4:5:6:7:8:9", 0},
        {"1:2:3:4:5:6:7:8::", 0},
        {"::1:2:3:4:5:6:7:8", 0},
        {"1::2:3:4:5:6:7:8", 0},
        {"1.2.3.4::", 0},
        {"::1.2.3.4:5", 0},
        {"[::1]", 0},
        {"1:2:3:4:5:6:7:\xd9\xa3", 0}};

    RUN(GK_FORMAT_IPV6, v);
}
END_TEST

START_TEST(date)
{
    static const vec_t v[] = {
        {"1963-06-19", 1}, {"2020-01-31", 1}, {"2020-02-29", 1},
        {"2000-02-29", 1}, {"2021-02-28", 1}, {"0000-01-01", 1},
        {"9999-12-31", 1}, {"2020-04-30", 1}, {"2020-12-31", 1},
        {"06/19/1963", 0}, {"2013-350", 0},   {"2020-01-32", 0},
        {"2021-02-29", 0}, {"1900-02-29", 0}, {"2100-02-29", 0},
        {"2020-04-31", 0}, {"2020-06-31", 0}, {"2020-09-31", 0},
        {"2020-11-31", 0}, {"2020-00-01", 0}, {"2020-13-01", 0},
        {"2020-01-00", 0}, {"1998-1-20", 0},  {"1998-01-1", 0},
        {"2020-W01", 0},   {"2020-W01-1", 0}, {"20200101", 0},
        {"+2020-01-01", 0}, {"2020-01-01 ", 0}, {"2020-01-01T00:00:00Z", 0},
        {"1963-06-1\xe0\xa7\xaa", 0}, {"", 0}, {"2020/01/01", 0}};

    RUN(GK_FORMAT_DATE, v);
}
END_TEST

START_TEST(date_time)
{
    static const vec_t v[] = {
        {"1963-06-19T08:30:06.283185Z", 1},
        {"1963-06-19T08:30:06Z", 1},
        {"1937-01-01T12:00:27.87+00:20", 1},
        {"1990-12-31T15:59:50.123-08:00", 1},
        {"1963-06-19t08:30:06.283185z", 1},
        {"1998-12-31T23:59:60Z", 1},
        {"1998-12-31T15:59:60.123-08:00", 1},
        {"1998-12-31T23:59:60.5z", 1},
        {"1999-01-01T00:59:60+01:00", 1},
        {"2020-02-29T00:00:00-00:00", 1},
        {"2020-01-01T00:00:00+23:59", 1},
        {"2020-01-01T23:59:59.999999999999Z", 1},
        {"1990-02-31T15:59:60.123-08:00", 0},
        {"1990-02-31T15:59:59.123-08:00", 0},
        {"1990-12-31T15:59:60-24:00", 0},
        {"1990-12-31T15:59:59-24:00", 0},
        {"06/19/1963 08:30:06 PST", 0},
        {"2013-350T01:01:01", 0},
        {"1998-12-31T23:59:61Z", 0},
        {"1998-12-31T23:58:60Z", 0},
        {"1998-12-31T22:59:60Z", 0},
        {"1998-12-31T23:59:60+01:00", 0},
        {"1963-06-19T08:30:06.28123+01:00Z", 0},
        {"1963-6-19T08:30:06.283185Z", 0},
        {"1963-06-19T08:30:06", 0},
        {"1963-06-19 08:30:06Z", 0},
        {"1963-06-19T8:30:06Z", 0},
        {"1963-06-19T24:00:00Z", 0},
        {"1963-06-19T23:60:00Z", 0},
        {"1963-06-19T08:30:06.Z", 0},
        {"1963-06-19T08:30:06+0100", 0},
        {"1963-06-19T08:30:06+01", 0},
        {"1963-06-19T08:30:06+01:60", 0},
        {"1963-06-19T08:30:06+01:00 ", 0},
        {"1963-06-19T08:30:06,5Z", 0},
        {"1963-06-1\xe0\xa7\xaaT00:00:00Z", 0},
        {"1963-06-11T0\xe0\xa7\xaa:00:00Z", 0},
        {"1963-06-19", 0},
        {"", 0}};

    RUN(GK_FORMAT_DATE_TIME, v);
}
END_TEST

START_TEST(uri)
{
    static const vec_t v[] = {
        {"http://foo.bar/?baz=qux#quux", 1},
        {"http://foo.com/blah_(wikipedia)_blah#cite-1", 1},
        {"http://foo.bar/?q=Test%20URL-encoded%20stuff", 1},
        {"http://xn--nw2a.xn--j6w193g/", 1},
        {"http://-.~_!$&'()*+,;=:%40:80%2f::::::@example.com", 1},
        {"http://223.255.255.254", 1},
        {"ftp://ftp.is.co.za/rfc/rfc1808.txt", 1},
        {"ldap://[2001:db8::7]/c=GB?objectClass?one", 1},
        {"mailto:John.Doe@example.com", 1},
        {"news:comp.infosystems.www.servers.unix", 1},
        {"tel:+1-816-555-1212", 1},
        {"urn:oasis:names:specification:docbook:dtd:xml:4.1.2", 1},
        {"file:///usr/local/bin", 1},
        {"http://www.example.com:8080/a/b?c=d&e=f#g/h?i", 1},
        {"http://example.com:", 1},
        {"http://user:pass@example.com/", 1},
        {"http://[v1.fe80::a+en1]/", 1},
        {"http://[::ffff:1.2.3.4]:80/", 1},
        {"a:", 1},
        {"a+b-c.d:x", 1},
        {"http://www.example.com/#", 1},
        {"//foo.bar/?baz=qux#quux", 0},
        {"/abc", 0},
        {"\\\\WINDOWS\\fileshare", 0},
        {"abc", 0},
        {"http:// shouldfail.com", 0},
        {":// should fail", 0},
        {"bar,baz:foo", 0},
        {"1http://x", 0},
        {"http://example.com/a b", 0},
        {"http://example.com/%", 0},
        {"http://example.com/%4", 0},
        {"http://example.com/%zz", 0},
        {"http://example.com/\xc3\xa9", 0},
        {"http://example.com/#a#b", 0},
        {"http://example.com/<x>", 0},
        {"http://example.com/\"", 0},
        {"http://ex ample.com", 0},
        {"http://example.com:80a", 0},
        {"http://2001:db8::7/", 0},
        {"http://[2001:db8::7/", 0},
        {"http://[2001:db8::g]/", 0},
        {"http://[v.x]/", 0},
        {"http://a@b@c/", 0},
        {"http://example.com/{x}", 0},
        {"http://example.com/a\\b", 0},
        {"http://example.com/^", 0},
        {"http://example.com/`", 0},
        {"http://example.com/|", 0},
        {"", 0},
        {" http://x", 0},
        {"http://x\n", 0}};

    RUN(GK_FORMAT_URI, v);
}
END_TEST

/* The suite's cases, file by file: only strings are checked ("format"
 * ignores other types). */
static int suite_file(const char *name, gk_format_e f, int *count)
{
    char path[512];
    json_error_t je;
    json_t *doc, *group, *t;
    size_t gi, ti;
    int bad = 0;

    const char *dir = getenv("GK_FORMAT_SUITE_DIR");

    apr_snprintf(path, sizeof(path), "%s/%s.json",
                 dir && *dir ? dir : SUITE_DIR, name);
    doc = json_load_file(path, JSON_ALLOW_NUL, &je);
    ck_assert_msg(doc != NULL, "%s: %s (install json-schema-test-suite)",
                  path, je.text);
    json_array_foreach(doc, gi, group) {
        const char *fmt = json_string_value(
            json_object_get(json_object_get(group, "schema"), "format"));
        ck_assert_msg(fmt && gk_format_lookup(fmt) == f, "%s", name);
        json_array_foreach(json_object_get(group, "tests"), ti, t) {
            json_t *data = json_object_get(t, "data");
            int want = json_is_true(json_object_get(t, "valid"));
            if (!json_is_string(data)) {
                continue;
            }
            if (gk_format_check(f, json_string_value(data),
                                json_string_length(data))
                != want) {
                fprintf(stderr, "%s: \"%s\" (%s) expected %s\n", name,
                        json_string_value(data),
                        json_string_value(json_object_get(t, "description")),
                        want ? "valid" : "invalid");
                bad++;
            }
            (*count)++;
        }
    }
    json_decref(doc);
    return bad;
}

START_TEST(test_suite)
{
    static const struct {
        const char *file;
        gk_format_e f;
    } files[] = {{"email", GK_FORMAT_EMAIL},         {"hostname", GK_FORMAT_HOSTNAME},
                 {"ipv4", GK_FORMAT_IPV4},           {"ipv6", GK_FORMAT_IPV6},
                 {"date-time", GK_FORMAT_DATE_TIME}, {"date", GK_FORMAT_DATE},
                 {"uri", GK_FORMAT_URI}};
    size_t i;
    int bad = 0, count = 0;

    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        int before = count;
        bad += suite_file(files[i].file, files[i].f, &count);
        ck_assert_msg(count > before, "%s: no string case", files[i].file);
    }
    fprintf(stderr, "format: %d of %d suite cases pass\n", count - bad,
            count);
    ck_assert_int_eq(bad, 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("format");
    TCase *tc = tk_tcase("format");

    tcase_add_test(tc, lookup);
    tcase_add_test(tc, email);
    tcase_add_test(tc, hostname);
    tcase_add_test(tc, ipv4);
    tcase_add_test(tc, ipv6);
    tcase_add_test(tc, date);
    tcase_add_test(tc, date_time);
    tcase_add_test(tc, uri);
    tcase_add_test(tc, test_suite);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(suite)
