/*
 * UUIDs (common/gk_uuid.c): version 7 with an injected clock (timestamp,
 * version and variant bits, the per-thread counter and its rollover, a
 * clock going backwards), version 4, the canonical text and its parser.
 *
 * Each test starts its clock at its own base, days away from the others,
 * so that the per-thread state left by one test (CK_FORK=no) does not
 * change what another sees.
 */
#include <pthread.h>

#include "gk_test_core.h"
#include "gk_uuid.h"

#define MS_BASE ((apr_uint64_t)TS * 1000)
#define DAY_MS APR_UINT64_C(86400000)

typedef struct {
    unsigned char b[16];
    apr_uint64_t ts;
    unsigned counter; /* rand_a */
} fields_t;

/* Check the canonical lower-case text and split it. (Plain tests and
 * ck_abort_msg in the loops: each passing ck_assert costs a write to the
 * runner's pipe, and these run millions of times.) */
static fields_t split(const char *s)
{
    fields_t u;
    int i;

    if (strlen(s) != GK_UUID_LEN) {
        ck_abort_msg("length of %s", s);
    }
    for (i = 0; i < GK_UUID_LEN; i++) {
        int hyphen = i == 8 || i == 13 || i == 18 || i == 23;
        int lchex = (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f');
        if (hyphen ? s[i] != '-' : !lchex) {
            ck_abort_msg("not canonical: %s", s);
        }
    }
    if (!gk_uuid_parse(s, GK_UUID_LEN, u.b)) {
        ck_abort_msg("gk_uuid_parse refuses %s", s);
    }
    u.ts = 0;
    for (i = 0; i < 6; i++) {
        u.ts = u.ts << 8 | u.b[i];
    }
    u.counter = (unsigned)(u.b[6] & 0x0f) << 8 | u.b[7];
    return u;
}

static fields_t v7(apr_uint64_t now)
{
    char s[GK_UUID_LEN + 1];
    fields_t u;

    if (gk_uuid7(s, now) != APR_SUCCESS) {
        ck_abort_msg("gk_uuid7 failed");
    }
    u = split(s);
    if (u.b[6] >> 4 != 7 || (u.b[8] & 0xc0) != 0x80) {
        ck_abort_msg("version or variant of %s", s);
    }
    return u;
}

START_TEST(v7_order)
{
    enum { N = 100000 };
    char(*s)[GK_UUID_LEN + 1] = malloc((size_t)N * (GK_UUID_LEN + 1));
    apr_uint64_t base = MS_BASE + 1 * DAY_MS;
    fields_t prev, u;
    int i;

    /* a new millisecond every 7 IDs: both the counter and new seeds */
    for (i = 0; i < N; i++) {
        if (gk_uuid7(s[i], base + (apr_uint64_t)(i / 7)) != APR_SUCCESS) {
            ck_abort_msg("gk_uuid7 failed");
        }
    }
    for (i = 0; i < N; i++) {
        u = split(s[i]);
        if (u.b[6] >> 4 != 7 || (u.b[8] & 0xc0) != 0x80) {
            ck_abort_msg("version or variant of %s", s[i]);
        }
        if (u.ts != base + (apr_uint64_t)(i / 7)) {
            ck_abort_msg("ID %d: timestamp %" APR_UINT64_T_FMT, i, u.ts);
        }
        /* at a new millisecond, seeded with the guard bit clear; else the
         * counter plus one */
        if (i % 7 == 0 ? u.counter > 0x7ff : u.counter != prev.counter + 1) {
            ck_abort_msg("ID %d: counter %u after %u", i, u.counter,
                         prev.counter);
        }
        /* text and bytes sort alike: strictly increasing, so unique */
        if (i > 0
            && (strcmp(s[i - 1], s[i]) >= 0 || memcmp(prev.b, u.b, 16) >= 0)) {
            ck_abort_msg("%s then %s", s[i - 1], s[i]);
        }
        prev = u;
    }
    free(s);
}
END_TEST

START_TEST(v7_fields)
{
    /* the timestamp field is the clock, big-endian, all 48 bits */
    static const apr_uint64_t clocks[] = {
        0, 1, 255, 256, APR_UINT64_C(1645557742000), MS_BASE + 2 * DAY_MS,
        APR_UINT64_C(0x0123456789ab), GK_UUID7_MAX_MS};
    char s[GK_UUID_LEN + 1];
    size_t i;

    for (i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++) {
        fields_t u = v7(clocks[i]);
        ck_assert_msg(u.ts == clocks[i], "%" APR_UINT64_T_FMT, clocks[i]);
    }
    /* 2^48 ms and more do not fit */
    memcpy(s, "x", 2);
    ck_assert_int_eq(gk_uuid7(s, GK_UUID7_MAX_MS + 1), APR_EINVAL);
    ck_assert_str_eq(s, "");
    ck_assert_int_eq(gk_uuid7(s, ~APR_UINT64_C(0)), APR_EINVAL);
}
END_TEST

START_TEST(v7_rollover)
{
    enum { N = 4097 };
    apr_uint64_t t = MS_BASE + 3 * DAY_MS;
    fields_t prev, u;
    int i, rolled = -1;

    /* one millisecond for 4,097 IDs: the 12-bit counter, seeded at most
     * 0x7ff, rolls over exactly once (after 2,049 to 4,096 IDs: a second
     * rollover needs at least 4,098); the timestamp then runs one
     * millisecond ahead of the clock */
    prev = v7(t);
    ck_assert(prev.ts == t);
    ck_assert_uint_le(prev.counter, 0x7ff);
    for (i = 1; i < N; i++) {
        u = v7(t);
        if (memcmp(prev.b, u.b, 16) >= 0) {
            ck_abort_msg("ID %d not above the one before", i);
        }
        if (u.ts == prev.ts) {
            if (u.counter != prev.counter + 1) {
                ck_abort_msg("ID %d: counter %u after %u", i, u.counter,
                             prev.counter);
            }
        }
        else {
            ck_assert_int_eq(rolled, -1);
            ck_assert_uint_eq(prev.counter, 0xfff);
            ck_assert(u.ts == t + 1);
            ck_assert_uint_le(u.counter, 0x7ff);
            rolled = i;
        }
        prev = u;
    }
    ck_assert_int_ge(rolled, 2049);
    ck_assert_int_le(rolled, 4096);
    /* the clock reaches the borrowed millisecond: still counting */
    u = v7(t + 1);
    ck_assert(u.ts == t + 1 && u.counter == prev.counter + 1);
    prev = u;
    /* and passes it: a new seed */
    u = v7(t + 2);
    ck_assert(u.ts == t + 2 && u.counter <= 0x7ff);
    ck_assert(memcmp(prev.b, u.b, 16) < 0);
}
END_TEST

START_TEST(v7_rollover_at_end)
{
    char s[GK_UUID_LEN + 1];
    int i;
    apr_status_t rv = APR_SUCCESS;

    /* the last millisecond there is: no next one to borrow */
    for (i = 0; i < 4100 && rv == APR_SUCCESS; i++) {
        rv = gk_uuid7(s, GK_UUID7_MAX_MS);
    }
    ck_assert_int_eq(rv, APR_EINVAL);
    ck_assert_int_ge(i, 2050);
    ck_assert_str_eq(s, "");
    /* a day later (backwards, by far): fine again */
    ck_assert_int_eq(gk_uuid7(s, MS_BASE + 4 * DAY_MS), APR_SUCCESS);
}
END_TEST

START_TEST(v7_backwards)
{
    apr_uint64_t t = MS_BASE + 5 * DAY_MS;
    fields_t a, b, c, d, e, f;

    a = v7(t + 100);
    /* a step back: the last timestamp is kept, the counter goes on */
    b = v7(t + 50);
    ck_assert(b.ts == t + 100);
    ck_assert_uint_eq(b.counter, a.counter + 1);
    ck_assert(memcmp(a.b, b.b, 16) < 0);
    c = v7(t + 99);
    ck_assert(c.ts == t + 100 && c.counter == b.counter + 1);
    /* the clock catches up, then moves on */
    d = v7(t + 100);
    ck_assert(d.ts == t + 100 && d.counter == c.counter + 1);
    e = v7(t + 101);
    ck_assert(e.ts == t + 101 && e.counter <= 0x7ff);
    ck_assert(memcmp(d.b, e.b, 16) < 0);
    /* the largest step back that keeps the last timestamp */
    f = v7(t + 101 - GK_UUID7_MAX_BACKSTEP_MS);
    ck_assert(f.ts == t + 101 && f.counter == e.counter + 1);
    /* a larger one is a corrected clock: taken as it is */
    a = v7(t + 101 - GK_UUID7_MAX_BACKSTEP_MS - 1);
    ck_assert(a.ts == t + 101 - GK_UUID7_MAX_BACKSTEP_MS - 1);
    ck_assert(memcmp(f.b, a.b, 16) > 0);
    /* and ordered from there on */
    b = v7(t + 101 - GK_UUID7_MAX_BACKSTEP_MS - 1);
    ck_assert(memcmp(a.b, b.b, 16) < 0);
}
END_TEST

enum { THREADS = 4, PER_THREAD = 20000 };

static void *thread_v7(void *arg)
{
    char(*s)[GK_UUID_LEN + 1] = arg;
    int i;

    for (i = 0; i < PER_THREAD; i++) {
        if (gk_uuid7(s[i], (apr_uint64_t)(apr_time_now() / 1000))
                != APR_SUCCESS
            || (i > 0 && strcmp(s[i - 1], s[i]) >= 0)) {
            return arg;
        }
    }
    return NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(a, b);
}

START_TEST(v7_threads)
{
    char(*s)[GK_UUID_LEN + 1] =
        malloc((size_t)THREADS * PER_THREAD * (GK_UUID_LEN + 1));
    pthread_t t[THREADS];
    void *rv;
    int i;

    /* the real clock: each thread's IDs increase, and none is shared */
    for (i = 0; i < THREADS; i++) {
        ck_assert_int_eq(pthread_create(&t[i], NULL, thread_v7,
                                        s + (size_t)PER_THREAD * i),
                         0);
    }
    for (i = 0; i < THREADS; i++) {
        ck_assert_int_eq(pthread_join(t[i], &rv), 0);
        ck_assert_ptr_null(rv);
    }
    qsort(s, (size_t)THREADS * PER_THREAD, GK_UUID_LEN + 1, cmp_str);
    for (i = 1; i < THREADS * PER_THREAD; i++) {
        if (!strcmp(s[i - 1], s[i])) {
            ck_abort_msg("%s twice", s[i]);
        }
    }
    free(s);
}
END_TEST

START_TEST(v4)
{
    enum { N = 20000 };
    char(*s)[GK_UUID_LEN + 1] = malloc((size_t)N * (GK_UUID_LEN + 1));
    unsigned char or_bits[16] = {0}, and_bits[16];
    int i, j;

    memset(and_bits, 0xff, sizeof(and_bits));
    for (i = 0; i < N; i++) {
        fields_t u;
        if (gk_uuid4(s[i]) != APR_SUCCESS) {
            ck_abort_msg("gk_uuid4 failed");
        }
        u = split(s[i]);
        if (u.b[6] >> 4 != 4 || (u.b[8] & 0xc0) != 0x80) {
            ck_abort_msg("version or variant of %s", s[i]);
        }
        for (j = 0; j < 16; j++) {
            or_bits[j] |= u.b[j];
            and_bits[j] &= u.b[j];
        }
    }
    /* every one of the 122 random bits was seen both set and clear */
    for (j = 0; j < 16; j++) {
        unsigned fixed = j == 6 ? 0xf0 : j == 8 ? 0xc0 : 0;
        ck_assert_uint_eq(or_bits[j] | fixed, 0xff);
        ck_assert_uint_eq(and_bits[j] & ~fixed & 0xff, 0);
    }
    qsort(s, N, GK_UUID_LEN + 1, cmp_str);
    for (i = 1; i < N; i++) {
        if (!strcmp(s[i - 1], s[i])) {
            ck_abort_msg("%s twice", s[i]);
        }
    }
    free(s);
}
END_TEST

START_TEST(text)
{
    /* RFC 9562 appendix A examples (v4 and v7), the Nil and Max UUIDs */
    static const struct {
        const char *text;
        unsigned char b[16];
    } ok[] = {
        {"919108f7-52d1-4320-9bac-f847db4148a8",
         {0x91, 0x91, 0x08, 0xf7, 0x52, 0xd1, 0x43, 0x20, 0x9b, 0xac, 0xf8,
          0x47, 0xdb, 0x41, 0x48, 0xa8}},
        {"017f22e2-79b0-7cc3-98c4-dc0c0c07398f",
         {0x01, 0x7f, 0x22, 0xe2, 0x79, 0xb0, 0x7c, 0xc3, 0x98, 0xc4, 0xdc,
          0x0c, 0x0c, 0x07, 0x39, 0x8f}},
        {"00000000-0000-0000-0000-000000000000", {0}},
        {"ffffffff-ffff-ffff-ffff-ffffffffffff",
         {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
          0xff, 0xff, 0xff, 0xff, 0xff}},
    };
    static const char *const bad[] = {
        "", "017f22e2-79b0-7cc3-98c4-dc0c0c07398",
        "017f22e2-79b0-7cc3-98c4-dc0c0c07398f0",
        "017f22e279b07cc398c4dc0c0c07398f",
        "017f22e2-79b0-7cc3-98c4dc0c-0c07398f",
        "017f22e-279b0-7cc3-98c4-dc0c0c07398f",
        "017f22e2_79b0-7cc3-98c4-dc0c0c07398f",
        "017f22e2-79b0-7cc3-98c4-dc0c0c07398g",
        "017f22e2-79b0-7cc3-98c4-dc0c0c07398 ",
        " 17f22e2-79b0-7cc3-98c4-dc0c0c07398f",
        "017f22e2-79b0-7cc3-+8c4-dc0c0c07398f",
        "017f22e2-79b0-7cc3-98c4-dc0c0c0739\xc3\xa9",
        "{017f22e2-79b0-7cc3-98c4-dc0c0c0739}",
        "urn:uuid:017f22e2-79b0-7cc3-98c4-dc0c0c07398f"};
    unsigned char b[16];
    char s[GK_UUID_LEN + 1];
    size_t i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        gk_uuid_format(s, ok[i].b);
        ck_assert_str_eq(s, ok[i].text);
        ck_assert(gk_uuid_parse(ok[i].text, GK_UUID_LEN, b));
        ck_assert(!memcmp(b, ok[i].b, 16));
        ck_assert(gk_uuid_is_valid(ok[i].text, GK_UUID_LEN));
    }
    /* the RFC's v7 example: 0x017F22E279B0 ms is Feb 22 2022 19:22:22 UTC */
    ck_assert(split("017f22e2-79b0-7cc3-98c4-dc0c0c07398f").ts
              == APR_UINT64_C(1645557742000));
    /* upper case is accepted on input (RFC 9562 section 4) */
    ck_assert(gk_uuid_parse("017F22E2-79B0-7CC3-98C4-DC0C0C07398F", 36, b));
    ck_assert(!memcmp(b, ok[1].b, 16));
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(!gk_uuid_is_valid(bad[i], strlen(bad[i])), "%s",
                      bad[i]);
    }
    /* the length is honoured: a NUL inside, a longer buffer */
    ck_assert(!gk_uuid_is_valid("017f22e2-79b0-7cc3-98c4-dc0c0c07398\0", 36));
    ck_assert(gk_uuid_is_valid("017f22e2-79b0-7cc3-98c4-dc0c0c07398fXYZ", 36));
    ck_assert(!gk_uuid_is_valid("017f22e2-79b0-7cc3-98c4-dc0c0c07398fXYZ", 37));
    /* a failed parse leaves out alone */
    memset(b, 0xaa, sizeof(b));
    ck_assert(!gk_uuid_parse(bad[7], 36, b));
    for (i = 0; i < sizeof(b); i++) {
        ck_assert_uint_eq(b[i], 0xaa);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("uuid");
    TCase *tc = tk_tcase("uuid");

    tcase_add_test(tc, v7_order);
    tcase_add_test(tc, v7_fields);
    tcase_add_test(tc, v7_rollover);
    tcase_add_test(tc, v7_rollover_at_end);
    tcase_add_test(tc, v7_backwards);
    tcase_add_test(tc, v7_threads);
    tcase_add_test(tc, v4);
    tcase_add_test(tc, text);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(suite)
