/*
 * Request correlation (common/gk_trace.c): the correlation-ID grammar and
 * W3C Trace Context's traceparent (parse, format, new IDs).
 */
#include "gk_test_core.h"
#include "gk_trace.h"

/* ---- correlation IDs ---------------------------------------------------- */

static int corrid(const char *s)
{
    return gk_corrid_is_valid(s, strlen(s));
}

/* The grammar, written out the long way. */
static int reference_char(int c)
{
    return strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                  "0123456789._:-",
                  c)
           && c != 0;
}

START_TEST(corrid_grammar)
{
    static const char *const ok[] = {
        "a", "Z", "0", ".", "_", ":", "-", "req-42",
        "0190a6f2-3c4d-7e5f-8a9b-0c1d2e3f4a5b", "svc.api:v2_call-7",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "..--::__"};
    static const char *const bad[] = {
        "", "a,b", ",", "a b", " a", "a ", "a\tb", "\"a\"", "'a'", "a;b",
        "a/b", "a+b", "a=b", "a@b", "a#b", "a%20b", "a\\b", "<a>", "a\rb",
        "a\nb", "a\r\nX-Injected: 1", "a\x7f", "a\x01", "caf\xc3\xa9",
        "\xd0\xb0", "a\x80", "a\xff", "\xef\xbc\xa1" /* fullwidth A */};
    char s[GK_CORRID_MAX + 2];
    size_t i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        ck_assert_msg(corrid(ok[i]), "'%s'", ok[i]);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(!corrid(bad[i]), "entry %zu", i);
    }
    /* 1 to 128 characters */
    memset(s, 'x', sizeof(s));
    ck_assert(gk_corrid_is_valid(s, 1));
    ck_assert(gk_corrid_is_valid(s, GK_CORRID_MAX));
    ck_assert(!gk_corrid_is_valid(s, GK_CORRID_MAX + 1));
    ck_assert(!gk_corrid_is_valid(s, 0));
    ck_assert(!gk_corrid_is_valid(NULL, 0));
    /* the length is honoured: a NUL inside, what follows it */
    ck_assert(!gk_corrid_is_valid("ab\0c", 4));
    ck_assert(!gk_corrid_is_valid("\0", 1));
    ck_assert(gk_corrid_is_valid("abc,def", 3));
    ck_assert(!gk_corrid_is_valid("abc,def", 4));
    /* every byte, alone and at the end of a 128-character ID */
    for (i = 0; i < 256; i++) {
        int want = reference_char((int)i);
        char one = (char)i;
        s[GK_CORRID_MAX - 1] = (char)i;
        ck_assert_msg(gk_corrid_is_valid(&one, 1) == want, "0x%02zx", i);
        ck_assert_msg(gk_corrid_is_valid(s, GK_CORRID_MAX) == want, "0x%02zx",
                      i);
    }
}
END_TEST

/* ---- traceparent -------------------------------------------------------- */

#define EXAMPLE "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
#define TRACE_HEX "4bf92f3577b34da6a3ce929d0e0e4736"
#define PARENT_HEX "00f067aa0ba902b7"

static const unsigned char example_trace[16] = {
    0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
    0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36};
static const unsigned char example_parent[8] = {0x00, 0xf0, 0x67, 0xaa,
                                                0x0b, 0xa9, 0x02, 0xb7};

/* Parse s (up to its NUL) from a buffer of exactly its length, so that a
 * read past the end is caught by ASan. */
static int parse(const char *s, gk_traceparent_t *out)
{
    size_t n = strlen(s);
    char *exact = malloc(n ? n : 1);
    int ok;

    memcpy(exact, s, n);
    ok = gk_traceparent_parse(exact, n, out);
    free(exact);
    return ok;
}

static int valid(const char *s)
{
    gk_traceparent_t tpv;
    return parse(s, &tpv);
}

START_TEST(tp_example)
{
    gk_traceparent_t tpv;
    char out[GK_TRACEPARENT_LEN + 1];

    ck_assert(parse(EXAMPLE, &tpv));
    ck_assert_uint_eq(tpv.version, 0);
    ck_assert(!memcmp(tpv.trace_id, example_trace, 16));
    ck_assert(!memcmp(tpv.parent_id, example_parent, 8));
    ck_assert_uint_eq(tpv.flags, GK_TRACE_FLAG_SAMPLED);
    gk_traceparent_format(out, tpv.trace_id, tpv.parent_id, tpv.flags);
    ck_assert_str_eq(out, EXAMPLE);
    /* the specification's other examples */
    ck_assert(parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
                    &tpv));
    ck_assert_uint_eq(tpv.flags, 0);
    ck_assert(valid("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"));
    /* hex as text */
    gk_trace_hex(out, tpv.trace_id, 16);
    ck_assert_str_eq(out, TRACE_HEX);
    gk_trace_hex(out, tpv.parent_id, 8);
    ck_assert_str_eq(out, PARENT_HEX);
    gk_trace_hex(out, tpv.parent_id, 0);
    ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(tp_case_and_hex)
{
    static const char *const bad[] = {
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e473A-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bB-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A",
        "0A-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bz-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
        "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-+1",
        "00-4bf92f3577b34da6a3ce929d0e0e4736--0f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7--1",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7- 1",
        "00-4bf92f3577b34da6a3ce929d0e0e47\xc3\xa9-00f067aa0ba902b7-01"};
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(!valid(bad[i]), "%s", bad[i]);
    }
}
END_TEST

START_TEST(tp_lengths)
{
    static const char *const bad[] = {
        "", "0", "00", "00-",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e47366-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b77-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-011",
        "000-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        /* version 00 has nothing after the flags, not even a field */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what",
        /* httpd strips white space around the value; inside it is invalid */
        " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 ",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\t",
        /* two header fields, folded into one value by httpd */
        EXAMPLE ", " EXAMPLE,
        EXAMPLE "," EXAMPLE};
    gk_traceparent_t tpv;
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(!valid(bad[i]), "%s", bad[i]);
    }
    /* the length given is what counts, not a NUL */
    ck_assert(gk_traceparent_parse(EXAMPLE "-more", GK_TRACEPARENT_LEN, &tpv));
    ck_assert(!gk_traceparent_parse(EXAMPLE, GK_TRACEPARENT_LEN - 1, &tpv));
    ck_assert(!gk_traceparent_parse(EXAMPLE "\0", GK_TRACEPARENT_LEN + 1, &tpv));
    ck_assert(!gk_traceparent_parse(NULL, 0, &tpv));
}
END_TEST

START_TEST(tp_zero_ids)
{
    gk_traceparent_t tpv;

    ck_assert(!valid("00-00000000000000000000000000000000-00f067aa0ba902b7-01"));
    ck_assert(!valid("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"));
    ck_assert(!valid("00-00000000000000000000000000000000-0000000000000000-01"));
    ck_assert(!valid("cc-00000000000000000000000000000000-00f067aa0ba902b7-01"));
    ck_assert(!valid("cc-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"));
    /* one bit set, first or last, is enough */
    ck_assert(parse("00-00000000000000000000000000000001-8000000000000000-00",
                    &tpv));
    ck_assert_uint_eq(tpv.trace_id[15], 1);
    ck_assert_uint_eq(tpv.parent_id[0], 0x80);
    ck_assert(valid("00-80000000000000000000000000000000-0000000000000001-00"));
}
END_TEST

START_TEST(tp_versions)
{
    static const char *const bad[] = {
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
        "FF-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        /* a future version still needs the first 55 characters right */
        "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",
        "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01.x",
        "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
        "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-011",
        "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 ",
        "cc-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0F",
        "cc_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
        "cc-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01-x",
        "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01-x",
        "Cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"};
    static const char *const ok[] = {
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "fe-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
        "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-"
        "future-will-be-like",
        "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-X Y,Z\x01"};
    gk_traceparent_t tpv;
    char out[GK_TRACEPARENT_LEN + 1];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(!valid(bad[i]), "%s", bad[i]);
    }
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        ck_assert_msg(parse(ok[i], &tpv), "%s", ok[i]);
        ck_assert(!memcmp(tpv.trace_id, example_trace, 16));
        ck_assert(!memcmp(tpv.parent_id, example_parent, 8));
        ck_assert_uint_eq(tpv.flags, 1);
        /* forwarded as version 00, what is known of it */
        gk_traceparent_format(out, tpv.trace_id, tpv.parent_id, tpv.flags);
        ck_assert_str_eq(out, EXAMPLE);
    }
    ck_assert(parse(ok[1], &tpv));
    ck_assert_uint_eq(tpv.version, 0xcc);
    ck_assert(parse(ok[2], &tpv));
    ck_assert_uint_eq(tpv.version, 0xfe);
    /* every version byte: all but ff parse */
    for (i = 0; i < 256; i++) {
        char s[GK_TRACEPARENT_LEN + 1];
        gk_trace_hex(s, (const unsigned char[]){(unsigned char)i}, 1);
        memcpy(s + 2, EXAMPLE + 2, GK_TRACEPARENT_LEN - 1);
        ck_assert_int_eq(valid(s), i != 0xff);
        if (i != 0xff) {
            ck_assert(parse(s, &tpv));
            ck_assert_uint_eq(tpv.version, i);
        }
    }
}
END_TEST

START_TEST(tp_flags)
{
    static const struct {
        const char *hex;
        unsigned char v;
    } flags[] = {{"00", 0}, {"01", 1}, {"02", 2}, {"03", 3}, {"09", 9},
                 {"80", 0x80}, {"fe", 0xfe}, {"ff", 0xff}};
    char s[GK_TRACEPARENT_LEN + 1], out[GK_TRACEPARENT_LEN + 1];
    gk_traceparent_t tpv;
    size_t i;

    for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        memcpy(s, EXAMPLE, sizeof(s));
        memcpy(s + 53, flags[i].hex, 2);
        ck_assert_msg(parse(s, &tpv), "%s", s);
        /* kept whole: the caller masks what it forwards */
        ck_assert_uint_eq(tpv.flags, flags[i].v);
        gk_traceparent_format(out, tpv.trace_id, tpv.parent_id, tpv.flags);
        ck_assert_str_eq(out, s);
    }
    ck_assert(parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09",
                    &tpv));
    ck_assert(tpv.flags & GK_TRACE_FLAG_SAMPLED);
    ck_assert(!(tpv.flags & GK_TRACE_FLAG_RANDOM));
}
END_TEST

START_TEST(tp_untouched)
{
    gk_traceparent_t tpv, before;

    memset(&tpv, 0x5a, sizeof(tpv));
    before = tpv;
    ck_assert(!valid("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"));
    ck_assert(!parse("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                     &tpv));
    ck_assert(!parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",
                     &tpv));
    ck_assert(!memcmp(&tpv, &before, sizeof(tpv)));
}
END_TEST

START_TEST(tp_round_trip)
{
    int i;

    /* new IDs, every flags value: format, parse, the same fields */
    for (i = 0; i < 2000; i++) {
        unsigned char trace[16], span[8];
        char s[GK_TRACEPARENT_LEN + 1];
        gk_traceparent_t tpv;

        ck_assert_int_eq(gk_trace_new_trace_id(trace), APR_SUCCESS);
        ck_assert_int_eq(gk_trace_new_span_id(span), APR_SUCCESS);
        gk_traceparent_format(s, trace, span, (unsigned char)i);
        ck_assert_uint_eq(strlen(s), GK_TRACEPARENT_LEN);
        ck_assert_msg(parse(s, &tpv), "%s", s);
        ck_assert_uint_eq(tpv.version, 0);
        ck_assert(!memcmp(tpv.trace_id, trace, 16));
        ck_assert(!memcmp(tpv.parent_id, span, 8));
        ck_assert_uint_eq(tpv.flags, (unsigned char)i);
    }
}
END_TEST

static int cmp8(const void *a, const void *b)
{
    return memcmp(a, b, 8);
}

START_TEST(new_ids)
{
    enum { N = 20000 };
    unsigned char(*spans)[8] = malloc(sizeof(*spans) * N), t1[16], t2[16];
    static const unsigned char zero[16];
    int i;

    for (i = 0; i < N; i++) {
        if (gk_trace_new_span_id(spans[i]) != APR_SUCCESS
            || !memcmp(spans[i], zero, 8)) {
            ck_abort_msg("span ID %d", i);
        }
    }
    qsort(spans, N, 8, cmp8);
    for (i = 1; i < N; i++) {
        if (!memcmp(spans[i - 1], spans[i], 8)) {
            ck_abort_msg("a span ID twice");
        }
    }
    ck_assert_int_eq(gk_trace_new_trace_id(t1), APR_SUCCESS);
    ck_assert_int_eq(gk_trace_new_trace_id(t2), APR_SUCCESS);
    ck_assert(memcmp(t1, zero, 16) && memcmp(t2, zero, 16));
    ck_assert(memcmp(t1, t2, 16));
    free(spans);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("trace");
    TCase *tc = tk_tcase("trace");

    tcase_add_test(tc, corrid_grammar);
    tcase_add_test(tc, tp_example);
    tcase_add_test(tc, tp_case_and_hex);
    tcase_add_test(tc, tp_lengths);
    tcase_add_test(tc, tp_zero_ids);
    tcase_add_test(tc, tp_versions);
    tcase_add_test(tc, tp_flags);
    tcase_add_test(tc, tp_untouched);
    tcase_add_test(tc, tp_round_trip);
    tcase_add_test(tc, new_ids);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(suite)
