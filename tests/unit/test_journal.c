/* The revocation journal (gk_journal): the line format and its checksum,
 * append and replay, expiry, a torn last line, damaged and foreign lines,
 * compaction (live entries only, atomic for readers, safe with concurrent
 * appenders), and concurrent appends from threads and processes. */
#include <errno.h>
#include <ctype.h>
#include <pthread.h>
#include <unistd.h>

#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <apr_hash.h>

#include "gk_journal.h"
#include "gk_test_core.h"

/* ---- helpers ----------------------------------------------------------- */

/* Entry number i: a token key from ("iss", "<tag>-<i>"). */
static gk_journal_entry_t entry(const char *tag, int i, apr_int64_t expires,
                                apr_uint64_t value)
{
    gk_journal_entry_t e;
    char jti[64];

    memset(&e, 0, sizeof(e));
    snprintf(jti, sizeof(jti), "%s-%d", tag, i);
    e.kind = GK_REVOKE_KIND_TOKEN;
    ck_assert_uint_eq(gk_revoke_token_key(e.key, NULL, "iss", jti),
                      GK_REVOKE_KEY_LEN);
    e.expires = expires;
    e.value = value;
    return e;
}

/* What a replay delivered. */
typedef struct {
    apr_array_header_t *got; /* gk_journal_entry_t */
    int stop_after;          /* refuse the entry after this many; 0 never */
} collect_t;

static apr_status_t collect_cb(const gk_journal_entry_t *e, void *baton)
{
    collect_t *c = baton;

    if (c->stop_after && c->got->nelts == c->stop_after) {
        return APR_EGENERAL;
    }
    APR_ARRAY_PUSH(c->got, gk_journal_entry_t) = *e;
    return APR_SUCCESS;
}

static collect_t *collector(apr_pool_t *p)
{
    collect_t *c = apr_pcalloc(p, sizeof(*c));
    c->got = apr_array_make(p, 16, sizeof(gk_journal_entry_t));
    return c;
}

static void assert_same(const gk_journal_entry_t *a,
                        const gk_journal_entry_t *b)
{
    ck_assert_int_eq(a->kind, b->kind);
    ck_assert_str_eq(a->key, b->key);
    ck_assert_str_eq(a->group, b->group);
    ck_assert_int_eq(a->expires, b->expires);
    ck_assert_uint_eq(a->value, b->value);
}

static char *slurp(apr_pool_t *p, const char *path, apr_size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = apr_palloc(p, (apr_size_t)n + 1);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = '\0';
    *len = (apr_size_t)n;
    return buf;
}

static void append_raw(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "ab");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* The line of e, NUL-terminated. */
static char *line_of(apr_pool_t *p, const gk_journal_entry_t *e)
{
    char buf[GK_JOURNAL_LINE_MAX];
    apr_size_t n = gk_journal_format_line(buf, e);

    ck_assert_uint_gt(n, 0);
    return apr_pstrmemdup(p, buf, n);
}

/* Replay path at now into a fresh collector, asserting success. */
static collect_t *replay(const char *path, apr_int64_t now,
                         gk_journal_stats_t *st)
{
    collect_t *c = collector(tp);
    ck_assert_int_eq(gk_journal_replay(tp, path, now, collect_cb, c, st),
                     APR_SUCCESS);
    return c;
}

/* ---- the line ---------------------------------------------------------- */

START_TEST(crc32c_known)
{
    ck_assert_uint_eq(gk_journal_crc32c("123456789", 9), 0xe3069283u);
    ck_assert_uint_eq(gk_journal_crc32c("", 0), 0);
    /* RFC 3720 B.4: 32 bytes of zeros */
    {
        unsigned char z[32] = {0};
        ck_assert_uint_eq(gk_journal_crc32c(z, 32), 0x8a9136aau);
    }
}
END_TEST

START_TEST(line_round_trip)
{
    gk_journal_entry_t e = entry("a", 1, TS + 60, 7), back;
    char buf[GK_JOURNAL_LINE_MAX], *l;
    apr_size_t n;

    n = gk_journal_format_line(buf, &e);
    ck_assert_uint_gt(n, 0);
    ck_assert_int_eq(buf[n - 1], '\n');
    l = apr_pstrmemdup(tp, buf, n);
    ck_assert_msg(!strncmp(l, "v1 t gk:rv:t:", 13), "%s", l);
    ck_assert_ptr_nonnull(strstr(l, " - 1700000060 7 "));
    memset(&back, 0, sizeof(back));
    ck_assert_int_eq(gk_journal_parse_line(buf, n - 1, &back),
                     GK_JOURNAL_LINE_OK);
    assert_same(&e, &back);

    /* the extremes, every kind */
    e.expires = APR_INT64_MAX;
    e.value = APR_UINT64_MAX;
    gk_revoke_subject_key(e.group, NULL, "iss", "alice");
    n = gk_journal_format_line(buf, &e);
    ck_assert_uint_le(n, 137);
    l = apr_pstrmemdup(tp, buf, n);
    ck_assert_ptr_nonnull(strstr(l, apr_pstrcat(tp, " ", e.group, " ", NULL)));
    ck_assert_int_eq(gk_journal_parse_line(buf, n - 1, &back),
                     GK_JOURNAL_LINE_OK);
    assert_same(&e, &back);
    e.kind = 's';
    gk_revoke_subject_key(e.key, NULL, "iss", "bob");
    e.expires = 1;
    e.value = 0;
    n = gk_journal_format_line(buf, &e);
    ck_assert_int_eq(gk_journal_parse_line(buf, n - 1, &back),
                     GK_JOURNAL_LINE_OK);
    assert_same(&e, &back);
    e.kind = 'r';
    gk_revoke_token_key_raw(e.key, NULL, "abc", 3);
    e.group[0] = '\0';
    n = gk_journal_format_line(buf, &e);
    ck_assert_int_eq(gk_journal_parse_line(buf, n - 1, &back),
                     GK_JOURNAL_LINE_OK);
    assert_same(&e, &back);
}
END_TEST

START_TEST(format_refuses)
{
    gk_journal_entry_t e = entry("a", 1, TS, 1), bad;
    char buf[GK_JOURNAL_LINE_MAX];

    bad = e;
    bad.kind = 's'; /* a token key */
    ck_assert_uint_eq(gk_journal_format_line(buf, &bad), 0);
    bad = e;
    bad.kind = 'x';
    ck_assert_uint_eq(gk_journal_format_line(buf, &bad), 0);
    bad = e;
    bad.expires = 0;
    ck_assert_uint_eq(gk_journal_format_line(buf, &bad), 0);
    bad.expires = -5;
    ck_assert_uint_eq(gk_journal_format_line(buf, &bad), 0);
    bad = e;
    strcpy(bad.key, "gk:rv:sentinel");
    ck_assert_uint_eq(gk_journal_format_line(buf, &bad), 0);
    bad = e;
    memset(bad.key, 'a', sizeof(bad.key)); /* no NUL */
    ck_assert_uint_eq(gk_journal_format_line(buf, &bad), 0);
    bad = e;
    bad.key[10] = ' ';
    ck_assert_uint_eq(gk_journal_format_line(buf, &bad), 0);
    /* the group: "" or a subject key */
    bad = e;
    strcpy(bad.group, e.key); /* a token key */
    ck_assert_uint_eq(gk_journal_format_line(buf, &bad), 0);
    bad = e;
    strcpy(bad.group, "-");
    ck_assert_uint_eq(gk_journal_format_line(buf, &bad), 0);
    bad = e;
    strcpy(bad.group, "gk:rv:sentinel");
    ck_assert_uint_eq(gk_journal_format_line(buf, &bad), 0);
    bad = e;
    gk_revoke_subject_key(bad.group, NULL, "iss", "bob");
    bad.group[39] = '\0'; /* short */
    ck_assert_uint_eq(gk_journal_format_line(buf, &bad), 0);
    bad = e;
    memset(bad.group, 'a', sizeof(bad.group)); /* no NUL */
    ck_assert_uint_eq(gk_journal_format_line(buf, &bad), 0);
    bad = e;
    gk_revoke_subject_key(bad.group, NULL, "iss", "bob");
    ck_assert_uint_gt(gk_journal_format_line(buf, &bad), 0);
    ck_assert_uint_eq(gk_journal_format_line(buf, NULL), 0);
}
END_TEST

/* The line with its checksum recomputed, so that only the grammar can
 * refuse it. */
static char *resum(apr_pool_t *p, const char *body)
{
    return apr_psprintf(p, "%s %08x", body,
                        gk_journal_crc32c(body, strlen(body)));
}

static void parse_is(const char *l, gk_journal_line_e want)
{
    gk_journal_entry_t e;
    memset(&e, 0x5a, sizeof(e));
    ck_assert_msg(gk_journal_parse_line(l, strlen(l), &e) == want,
                  "line \"%s\": expected %d", l, want);
    if (want != GK_JOURNAL_LINE_OK) {
        ck_assert_int_eq(e.kind, 0x5a); /* untouched */
    }
}

START_TEST(parse_refuses)
{
    const char *k = "gk:rv:t:0123456789abcdef0123456789abcdef";
    const char *ks = "gk:rv:s:0123456789abcdef0123456789abcdef";

    parse_is(resum(tp, apr_psprintf(tp, "v1 t %s - 5 0", k)),
             GK_JOURNAL_LINE_OK);
    parse_is(apr_psprintf(tp, "v1 t %s - 5 0 00000000", k),
             GK_JOURNAL_LINE_CORRUPT); /* checksum */
    parse_is(resum(tp, apr_psprintf(tp, "v1 s %s - 5 0", k)),
             GK_JOURNAL_LINE_CORRUPT); /* kind vs key */
    parse_is(resum(tp, apr_psprintf(tp, "v1 t %s - 5 0", ks)),
             GK_JOURNAL_LINE_CORRUPT);
    parse_is(resum(tp, apr_psprintf(tp, "v1 t %s - 05 0", k)),
             GK_JOURNAL_LINE_CORRUPT); /* leading zero */
    parse_is(resum(tp, apr_psprintf(tp, "v1 t %s - 5 00", k)),
             GK_JOURNAL_LINE_CORRUPT);
    parse_is(resum(tp, apr_psprintf(tp, "v1 t %s - 0 0", k)),
             GK_JOURNAL_LINE_CORRUPT); /* expires 0 */
    parse_is(resum(tp, apr_psprintf(tp, "v1 t %s - -5 0", k)),
             GK_JOURNAL_LINE_CORRUPT);
    parse_is(resum(tp, apr_psprintf(tp, "v1 t %s - +5 0", k)),
             GK_JOURNAL_LINE_CORRUPT);
    parse_is(resum(tp, apr_psprintf(tp, "v1 t %s - 9223372036854775808 0", k)),
             GK_JOURNAL_LINE_CORRUPT); /* 2^63 */
    parse_is(resum(tp, apr_psprintf(tp,
                                    "v1 t %s - 9223372036854775807 "
                                    "18446744073709551615",
                                    k)),
             GK_JOURNAL_LINE_OK);
    parse_is(resum(tp, apr_psprintf(tp, "v1 t %s - 5 18446744073709551616", k)),
             GK_JOURNAL_LINE_CORRUPT); /* 2^64 */
    parse_is(resum(tp,
                   apr_psprintf(tp, "v1 t %s - 5 1000000000000000000000", k)),
             GK_JOURNAL_LINE_CORRUPT);
    parse_is(resum(tp, apr_psprintf(tp, "v1 t %s -  5 0", k)),
             GK_JOURNAL_LINE_CORRUPT); /* two spaces */
    parse_is(resum(tp, apr_psprintf(tp, "v1  t %s - 5 0", k)),
             GK_JOURNAL_LINE_CORRUPT);
    parse_is(resum(tp, apr_psprintf(tp, "v1 t %s - 5 0 ", k)),
             GK_JOURNAL_LINE_CORRUPT);
    parse_is(resum(tp, apr_psprintf(tp, "v1 t %s - 5", k)),
             GK_JOURNAL_LINE_CORRUPT); /* no value */
    parse_is(resum(tp, apr_psprintf(tp, "v1 t %s - -\t5 0", k)),
             GK_JOURNAL_LINE_CORRUPT);
    parse_is(resum(tp, "v1 t gk:rv:t:0123456789ABCDEF0123456789abcdef - 5 0"),
             GK_JOURNAL_LINE_CORRUPT);
    parse_is(resum(tp, "V1 t gk:rv:t:0123456789abcdef0123456789abcdef - 5 0"),
             GK_JOURNAL_LINE_CORRUPT);
    /* the checksum in upper case, too short, too long, CR */
    {
        char *l = resum(tp, apr_psprintf(tp, "v1 t %s - 5 0", k));
        char *u = apr_pstrdup(tp, l);
        size_t i;
        for (i = strlen(u) - 8; u[i]; i++) {
            u[i] = (char)toupper((unsigned char)u[i]);
        }
        if (strcmp(u, l)) {
            parse_is(u, GK_JOURNAL_LINE_CORRUPT);
        }
        parse_is(apr_pstrndup(tp, l, strlen(l) - 1), GK_JOURNAL_LINE_CORRUPT);
        parse_is(apr_pstrcat(tp, l, "0", NULL), GK_JOURNAL_LINE_CORRUPT);
        parse_is(apr_pstrcat(tp, l, "\r", NULL), GK_JOURNAL_LINE_CORRUPT);
    }
    /* the group: "-" or a subject key, nothing else */
    parse_is(resum(tp, apr_psprintf(tp, "v1 t %s %s 5 0", k, ks)),
             GK_JOURNAL_LINE_OK);
    parse_is(resum(tp, apr_psprintf(tp, "v1 s %s %s 5 0", ks, ks)),
             GK_JOURNAL_LINE_OK);
    parse_is(resum(tp, apr_psprintf(tp, "v1 t %s %s 5 0", k, k)),
             GK_JOURNAL_LINE_CORRUPT); /* a token key as group */
    parse_is(resum(tp, apr_psprintf(tp, "v1 t %s 5 0", k)),
             GK_JOURNAL_LINE_CORRUPT); /* no group */
    parse_is(resum(tp, apr_psprintf(tp, "v1 t %s -- 5 0", k)),
             GK_JOURNAL_LINE_CORRUPT);
    parse_is(resum(tp, apr_psprintf(tp, "v1 t %s _ 5 0", k)),
             GK_JOURNAL_LINE_CORRUPT);
    parse_is(resum(tp, apr_psprintf(tp, "v1 t %s %.39s 5 0", k, ks)),
             GK_JOURNAL_LINE_CORRUPT); /* one hex digit short */
    parse_is(resum(tp, apr_psprintf(tp, "v1 t %s %sa 5 0", k, ks)),
             GK_JOURNAL_LINE_CORRUPT);
    parse_is(resum(tp, apr_psprintf(tp, "v1 t %s %s  5 0", k, ks)),
             GK_JOURNAL_LINE_CORRUPT);
    parse_is(resum(tp, apr_psprintf(tp,
                                    "v1 t %s "
                                    "gk:rv:s:0123456789ABCDEF0123456789abcdef"
                                    " 5 0",
                                    k)),
             GK_JOURNAL_LINE_CORRUPT);
    parse_is(resum(tp, apr_psprintf(tp, "v1 t %s gk:rv:sentinel 5 0", k)),
             GK_JOURNAL_LINE_CORRUPT);
    parse_is(resum(tp, apr_psprintf(tp, "v1 t %s -", k)),
             GK_JOURNAL_LINE_CORRUPT); /* ends after the group */
    parse_is(apr_psprintf(tp, "v1 t %s -", k), GK_JOURNAL_LINE_CORRUPT);
    parse_is(apr_psprintf(tp, "v1 t %s %s", k, ks), GK_JOURNAL_LINE_CORRUPT);
    /* other versions */
    parse_is("v2 t whatever", GK_JOURNAL_LINE_VERSION);
    parse_is("v10 x", GK_JOURNAL_LINE_VERSION);
    parse_is("v01 x", GK_JOURNAL_LINE_VERSION);
    parse_is("v x", GK_JOURNAL_LINE_CORRUPT);
    parse_is("v1", GK_JOURNAL_LINE_CORRUPT);
    parse_is("v1 ", GK_JOURNAL_LINE_CORRUPT);
    parse_is("", GK_JOURNAL_LINE_CORRUPT);
    ck_assert_int_eq(gk_journal_parse_line(NULL, 0, NULL),
                     GK_JOURNAL_LINE_CORRUPT);
}
END_TEST

/* ---- append and replay ------------------------------------------------- */

START_TEST(append_replay)
{
    const char *path = tk_path_in(tp, tk_tmpdir(tp), "journal");
    gk_journal_entry_t e[3];
    gk_journal_stats_t st;
    gk_journal_t *j;
    collect_t *c;
    struct stat sb;
    int i;

    ck_assert_int_eq(gk_journal_open(tp, path, &j), APR_SUCCESS);
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 0777, 0600);
    ck_assert_int_eq(sb.st_size, 0);
    e[0] = entry("a", 0, TS + 10, 1);
    e[1] = entry("a", 1, TS + 20, 2);
    e[2] = entry("a", 2, TS + 30, 3);
    e[2].kind = 's';
    gk_revoke_subject_key(e[2].key, NULL, "iss", "carol");
    /* groups: a token in its subject's, the subject's cutoff in its own */
    gk_revoke_subject_key(e[0].group, NULL, "iss", "carol");
    gk_revoke_subject_key(e[2].group, NULL, "iss", "carol");
    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(gk_journal_append(j, &e[i]), APR_SUCCESS);
    }
    c = replay(path, TS, &st);
    ck_assert_int_eq(c->got->nelts, 3);
    for (i = 0; i < 3; i++) {
        assert_same(&APR_ARRAY_IDX(c->got, i, gk_journal_entry_t), &e[i]);
    }
    ck_assert_uint_eq(st.lines, 3);
    ck_assert_uint_eq(st.live, 3);
    ck_assert_uint_eq(st.corrupt + st.torn + st.version + st.too_long
                          + st.expired + st.recovered,
                      0);

    /* reopening keeps the content; a bad entry is refused, not written */
    ck_assert_int_eq(gk_journal_open(tp, path, &j), APR_SUCCESS);
    e[0].expires = 0;
    ck_assert_int_eq(gk_journal_append(j, &e[0]), APR_EINVAL);
    c = replay(path, TS, &st);
    ck_assert_int_eq(c->got->nelts, 3);

    /* the buffer replay agrees */
    {
        apr_size_t len;
        char *buf = slurp(tp, path, &len);
        gk_journal_stats_t bs;
        collect_t *d = collector(tp);
        ck_assert_int_eq(gk_journal_replay_buffer(buf, len, TS, collect_cb, d,
                                                  &bs),
                         APR_SUCCESS);
        ck_assert_int_eq(d->got->nelts, 3);
        ck_assert_int_eq(memcmp(&bs, &st, sizeof(st)), 0);
    }
}
END_TEST

START_TEST(expiry)
{
    const char *path = tk_path_in(tp, tk_tmpdir(tp), "journal");
    gk_journal_entry_t a = entry("x", 1, TS, 1), b = entry("x", 2, TS + 1, 1);
    gk_journal_stats_t st;
    gk_journal_t *j;
    collect_t *c;

    ck_assert_int_eq(gk_journal_open(tp, path, &j), APR_SUCCESS);
    ck_assert_int_eq(gk_journal_append(j, &a), APR_SUCCESS);
    ck_assert_int_eq(gk_journal_append(j, &b), APR_SUCCESS);
    /* live while now < expires */
    c = replay(path, TS, &st);
    ck_assert_int_eq(c->got->nelts, 1);
    assert_same(&APR_ARRAY_IDX(c->got, 0, gk_journal_entry_t), &b);
    ck_assert_uint_eq(st.expired, 1);
    c = replay(path, TS - 1, &st);
    ck_assert_int_eq(c->got->nelts, 2);
    c = replay(path, TS + 1, &st);
    ck_assert_int_eq(c->got->nelts, 0);
    ck_assert_uint_eq(st.expired, 2);
    ck_assert_uint_eq(st.lines, 2);
}
END_TEST

START_TEST(torn_last_line)
{
    const char *path = tk_path_in(tp, tk_tmpdir(tp), "journal");
    gk_journal_entry_t e[4];
    gk_journal_stats_t st;
    gk_journal_t *j;
    collect_t *c;
    struct stat sb;
    int i;

    ck_assert_int_eq(gk_journal_open(tp, path, &j), APR_SUCCESS);
    for (i = 0; i < 3; i++) {
        e[i] = entry("t", i, TS + 100, (apr_uint64_t)i);
        ck_assert_int_eq(gk_journal_append(j, &e[i]), APR_SUCCESS);
    }
    ck_assert_int_eq(stat(path, &sb), 0);
    /* cut the last line in its middle, then just before its LF */
    ck_assert_int_eq(truncate(path, sb.st_size - 30), 0);
    c = replay(path, TS, &st);
    ck_assert_int_eq(c->got->nelts, 2);
    ck_assert_uint_eq(st.torn, 1);
    ck_assert_uint_eq(st.lines, 3);
    ck_assert_uint_eq(st.corrupt, 0);

    /* reopening ends the fragment: the next append is a line of its own */
    ck_assert_int_eq(gk_journal_open(tp, path, &j), APR_SUCCESS);
    e[3] = entry("t", 3, TS + 100, 3);
    ck_assert_int_eq(gk_journal_append(j, &e[3]), APR_SUCCESS);
    c = replay(path, TS, &st);
    ck_assert_int_eq(c->got->nelts, 3);
    assert_same(&APR_ARRAY_IDX(c->got, 2, gk_journal_entry_t), &e[3]);
    ck_assert_uint_eq(st.torn, 0);
    ck_assert_uint_eq(st.corrupt, 1);
    ck_assert_uint_eq(st.recovered, 0);
}
END_TEST

START_TEST(torn_then_appended)
{
    /* a fragment that nobody ended, then a whole line: the line is kept */
    const char *path = tk_path_in(tp, tk_tmpdir(tp), "journal");
    gk_journal_entry_t a = entry("f", 1, TS + 5, 1),
                       b = entry("f", 2, TS + 5, 2);
    char *la = line_of(tp, &a), *lb = line_of(tp, &b);
    gk_journal_stats_t st;
    collect_t *c;

    append_raw(path, la, 40);
    append_raw(path, lb, strlen(lb));
    c = replay(path, TS, &st);
    ck_assert_int_eq(c->got->nelts, 1);
    assert_same(&APR_ARRAY_IDX(c->got, 0, gk_journal_entry_t), &b);
    ck_assert_uint_eq(st.corrupt, 1);
    ck_assert_uint_eq(st.recovered, 1);
    ck_assert_uint_eq(st.lines, 1);
}
END_TEST

START_TEST(corrupt_middle)
{
    const char *path = tk_path_in(tp, tk_tmpdir(tp), "journal");
    gk_journal_entry_t e[3];
    char *lines[3], *all;
    apr_size_t off, i, len1, alllen;
    int k;

    for (k = 0; k < 3; k++) {
        e[k] = entry("c", k, TS + 100, 9);
        lines[k] = line_of(tp, &e[k]);
    }
    all = apr_pstrcat(tp, lines[0], lines[1], lines[2], NULL);
    alllen = strlen(all);
    off = strlen(lines[0]);
    len1 = strlen(lines[1]) - 1; /* not its LF */
    /* every byte of the middle line, flipped three ways: never accepted */
    for (i = 0; i < len1; i++) {
        static const unsigned char flips[] = {0x01, 0x20, 0x80};
        for (k = 0; k < 3; k++) {
            char *copy = apr_pmemdup(tp, all, alllen);
            gk_journal_stats_t st;
            collect_t *c = collector(tp);

            copy[off + i] = (char)(copy[off + i] ^ flips[k]);
            if (copy[off + i] == '\n') {
                continue; /* splits the line: two bad lines, tested below */
            }
            ck_assert_int_eq(gk_journal_replay_buffer(copy, alllen, TS,
                                                      collect_cb, c, &st),
                             APR_SUCCESS);
            ck_assert_msg(c->got->nelts == 2, "byte %zu flip %d: %d entries",
                          i, k, c->got->nelts);
            assert_same(&APR_ARRAY_IDX(c->got, 0, gk_journal_entry_t), &e[0]);
            assert_same(&APR_ARRAY_IDX(c->got, 1, gk_journal_entry_t), &e[2]);
            ck_assert_uint_eq(st.corrupt + st.version, 1);
        }
    }
    /* a byte flipped in the file itself */
    all[off + 20] ^= 0x04;
    tk_write_file(path, all, strlen(all));
    {
        gk_journal_stats_t st;
        collect_t *c = replay(path, TS, &st);
        ck_assert_int_eq(c->got->nelts, 2);
        ck_assert_uint_eq(st.corrupt, 1);
        ck_assert_uint_eq(st.lines, 3);
    }
}
END_TEST

START_TEST(unknown_version)
{
    const char *path = tk_path_in(tp, tk_tmpdir(tp), "journal");
    gk_journal_entry_t a = entry("u", 1, TS + 5, 1);
    char *la = line_of(tp, &a);
    gk_journal_stats_t st;
    collect_t *c;

    append_raw(path, "v2 t gk:rv:t:x 1 2 3 4 5 6\n", 27);
    append_raw(path, la, strlen(la));
    append_raw(path, "v3\n", 3); /* "v3" alone: not a version line */
    append_raw(path, "v99 {\"json\":1}\n", 15);
    c = replay(path, TS, &st);
    ck_assert_int_eq(c->got->nelts, 1);
    ck_assert_uint_eq(st.version, 2);
    ck_assert_uint_eq(st.corrupt, 1);
    ck_assert_uint_eq(st.lines, 4);
}
END_TEST

START_TEST(long_line)
{
    const char *path = tk_path_in(tp, tk_tmpdir(tp), "journal");
    gk_journal_entry_t a = entry("l", 1, TS + 5, 1),
                       b = entry("l", 2, TS + 5, 2);
    char *la = line_of(tp, &a), *lb = line_of(tp, &b);
    apr_size_t big = 200000, i;
    char *junk = apr_palloc(tp, big);
    gk_journal_stats_t st;
    collect_t *c;

    for (i = 0; i < big; i++) {
        junk[i] = (char)('a' + i % 26);
    }
    append_raw(path, la, strlen(la));
    append_raw(path, junk, big);
    /* a valid line at the end of a too long one is not recovered */
    append_raw(path, lb, strlen(lb));
    append_raw(path, lb, strlen(lb));
    /* exactly the limit: 255 bytes and LF is a line; 256 and LF is not */
    append_raw(path, junk, GK_JOURNAL_LINE_MAX - 1);
    append_raw(path, "\n", 1);
    append_raw(path, junk, GK_JOURNAL_LINE_MAX);
    append_raw(path, "\n", 1);
    /* a long torn tail */
    append_raw(path, junk, big);
    c = replay(path, TS, &st);
    ck_assert_int_eq(c->got->nelts, 2);
    assert_same(&APR_ARRAY_IDX(c->got, 0, gk_journal_entry_t), &a);
    assert_same(&APR_ARRAY_IDX(c->got, 1, gk_journal_entry_t), &b);
    ck_assert_uint_eq(st.too_long, 2);
    ck_assert_uint_eq(st.corrupt, 1);
    ck_assert_uint_eq(st.torn, 1);
    ck_assert_uint_eq(st.lines, 6);
}
END_TEST

START_TEST(empty_and_missing)
{
    const char *dir = tk_tmpdir(tp);
    const char *path = tk_path_in(tp, dir, "journal");
    gk_journal_stats_t st, zero;
    collect_t *c;

    memset(&zero, 0, sizeof(zero));
    memset(&st, 0x77, sizeof(st));
    c = replay(path, TS, &st); /* missing */
    ck_assert_int_eq(c->got->nelts, 0);
    ck_assert_int_eq(memcmp(&st, &zero, sizeof(st)), 0);
    tk_write_file(path, "", 0);
    c = replay(path, TS, &st);
    ck_assert_int_eq(c->got->nelts, 0);
    ck_assert_int_eq(memcmp(&st, &zero, sizeof(st)), 0);
    tk_write_file(path, "\n\n", 2);
    c = replay(path, TS, &st);
    ck_assert_uint_eq(st.corrupt, 2);
    ck_assert_int_eq(gk_journal_replay_buffer(NULL, 0, TS, NULL, NULL, &st),
                     APR_SUCCESS);
    ck_assert_int_eq(memcmp(&st, &zero, sizeof(st)), 0);
    /* a directory, an empty path */
    ck_assert_int_ne(gk_journal_replay(tp, dir, TS, collect_cb, c, NULL),
                     APR_SUCCESS);
    {
        gk_journal_t *j;
        ck_assert_int_eq(gk_journal_open(tp, "", &j), APR_EINVAL);
        ck_assert_int_ne(gk_journal_open(tp, tk_path_in(tp, dir, "no/x"), &j),
                         APR_SUCCESS);
    }
    /* compacting nothing leaves nothing */
    ck_assert_int_eq(gk_journal_compact(tp, tk_path_in(tp, dir, "none"), TS,
                                        NULL),
                     APR_SUCCESS);
    ck_assert_int_ne(access(tk_path_in(tp, dir, "none"), F_OK), 0);
}
END_TEST

START_TEST(callback_stops)
{
    const char *path = tk_path_in(tp, tk_tmpdir(tp), "journal");
    gk_journal_t *j;
    collect_t *c = collector(tp);
    int i;

    ck_assert_int_eq(gk_journal_open(tp, path, &j), APR_SUCCESS);
    for (i = 0; i < 5; i++) {
        gk_journal_entry_t e = entry("s", i, TS + 5, 1);
        ck_assert_int_eq(gk_journal_append(j, &e), APR_SUCCESS);
    }
    c->stop_after = 2;
    ck_assert_int_eq(gk_journal_replay(tp, path, TS, collect_cb, c, NULL),
                     APR_EGENERAL);
    ck_assert_int_eq(c->got->nelts, 2);
}
END_TEST

/* ---- compaction -------------------------------------------------------- */

/* The number of entries in dir (temporary files left behind show). */
static int files_in(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d))) {
        if (e->d_name[0] != '.') {
            n++;
        }
    }
    closedir(d);
    return n;
}

START_TEST(compact_live_only)
{
    const char *dir = tk_tmpdir(tp), *path = tk_path_in(tp, dir, "journal");
    gk_journal_entry_t live = entry("k", 1, TS + 100, 1);
    gk_journal_entry_t dead = entry("k", 2, TS, 1);
    gk_journal_entry_t dup1 = entry("k", 3, TS + 50, 10);
    gk_journal_entry_t dup2 = entry("k", 3, TS + 40, 20);
    gk_journal_entry_t dup3 = entry("k", 3, TS - 1, 99); /* expired */
    gk_journal_entry_t dup4 = entry("k", 3, TS + 30, 5);
    gk_journal_stats_t st;
    gk_journal_t *j;
    collect_t *c;
    struct stat sb;
    apr_size_t len;
    char *text;

    /* the groups of dup1..3 differ: the merged line takes the latest live
     * line's (dup4, none), not an earlier one nor an expired one */
    gk_revoke_subject_key(dup1.group, NULL, "iss", "u1");
    gk_revoke_subject_key(dup2.group, NULL, "iss", "u2");
    gk_revoke_subject_key(dup3.group, NULL, "iss", "u3");
    gk_revoke_subject_key(live.group, NULL, "iss", "u9");
    ck_assert_int_eq(gk_journal_open(tp, path, &j), APR_SUCCESS);
    ck_assert_int_eq(gk_journal_append(j, &dup1), APR_SUCCESS);
    ck_assert_int_eq(gk_journal_append(j, &dead), APR_SUCCESS);
    ck_assert_int_eq(gk_journal_append(j, &live), APR_SUCCESS);
    ck_assert_int_eq(gk_journal_append(j, &dup2), APR_SUCCESS);
    ck_assert_int_eq(gk_journal_append(j, &dup4), APR_SUCCESS);
    ck_assert_int_eq(gk_journal_append(j, &dup3), APR_SUCCESS);
    append_raw(path, "garbage\nv7 x\n", 13);
    append_raw(path, "v1 t torn", 9);
    ck_assert_int_eq(gk_journal_compact(tp, path, TS, &st), APR_SUCCESS);
    ck_assert_uint_eq(st.live, 4);
    ck_assert_uint_eq(st.expired, 2);
    ck_assert_uint_eq(st.corrupt, 1);
    ck_assert_uint_eq(st.version, 1);
    ck_assert_uint_eq(st.torn, 1);
    ck_assert_int_eq(files_in(dir), 1);
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 0777, 0600);

    /* exactly the merged live lines, in first-seen order */
    dup1.value = 20; /* the largest value and expiry of the live ones */
    dup1.group[0] = '\0'; /* the latest live line's group */
    text = slurp(tp, path, &len);
    ck_assert_str_eq(text, apr_pstrcat(tp, line_of(tp, &dup1),
                                       line_of(tp, &live), NULL));
    c = replay(path, TS - 10, &st);
    ck_assert_int_eq(c->got->nelts, 2);
    ck_assert_uint_eq(st.lines, 2);

    /* appends continue after a compaction; compacting again is stable */
    ck_assert_int_eq(gk_journal_append(j, &dead), APR_SUCCESS);
    ck_assert_int_eq(gk_journal_compact(tp, path, TS, NULL), APR_SUCCESS);
    ck_assert_str_eq(slurp(tp, path, &len), text);
    /* everything expired: an empty file */
    ck_assert_int_eq(gk_journal_compact(tp, path, TS + 1000, NULL),
                     APR_SUCCESS);
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_int_eq(sb.st_size, 0);
    ck_assert_int_eq(files_in(dir), 1);
}
END_TEST

/* ---- concurrency ------------------------------------------------------- */

#define THREADS 8
#define PER_THREAD 100
#define LIVE_SET 20

typedef struct {
    const char *path;
    gk_journal_t *j;
    int id;
    int errors;
    volatile int *stop;
    int rounds;
    int bad;      /* reader: replays that saw a broken file */
    int min_live; /* reader: the fewest live-set entries seen */
    int pace;     /* appender: microseconds between appends */
} worker_t;

static void *append_worker(void *arg)
{
    worker_t *w = arg;
    char tag[16];
    int i;

    snprintf(tag, sizeof(tag), "w%d", w->id);
    for (i = 0; i < PER_THREAD; i++) {
        gk_journal_entry_t e = entry(tag, i, TS + 1000, (apr_uint64_t)i);
        apr_status_t rv = gk_journal_append(w->j, &e);
        if (rv != APR_SUCCESS) {
            fprintf(stderr, "append: %d\n", rv);
            w->errors++;
        }
        if (w->pace) {
            usleep((useconds_t)w->pace);
        }
    }
    return NULL;
}

/* Every line of path valid and live, n of them, all keys distinct. */
static void assert_n_distinct(const char *path, int n)
{
    gk_journal_stats_t st;
    collect_t *c = replay(path, TS, &st);
    apr_hash_t *seen = apr_hash_make(tp);
    int i;

    ck_assert_uint_eq(st.lines, (apr_size_t)n);
    ck_assert_uint_eq(st.live, (apr_size_t)n);
    ck_assert_uint_eq(st.corrupt + st.torn + st.too_long + st.version, 0);
    for (i = 0; i < c->got->nelts; i++) {
        gk_journal_entry_t *e = &APR_ARRAY_IDX(c->got, i, gk_journal_entry_t);
        ck_assert_ptr_null(apr_hash_get(seen, e->key, APR_HASH_KEY_STRING));
        apr_hash_set(seen, e->key, APR_HASH_KEY_STRING, e);
    }
    ck_assert_uint_eq(apr_hash_count(seen), (unsigned)n);
}

START_TEST(threads_append)
{
    const char *path = tk_path_in(tp, tk_tmpdir(tp), "journal");
    pthread_t t[THREADS];
    worker_t w[THREADS];
    gk_journal_t *j;
    int i;

    ck_assert_int_eq(gk_journal_open(tp, path, &j), APR_SUCCESS);
    for (i = 0; i < THREADS; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].j = j;
        w[i].id = i;
        ck_assert_int_eq(pthread_create(&t[i], NULL, append_worker, &w[i]), 0);
    }
    for (i = 0; i < THREADS; i++) {
        ck_assert_int_eq(pthread_join(t[i], NULL), 0);
        ck_assert_int_eq(w[i].errors, 0);
    }
    assert_n_distinct(path, THREADS * PER_THREAD);
}
END_TEST

START_TEST(processes_append)
{
    /* a handle opened before fork, as httpd's children inherit it */
    const char *path = tk_path_in(tp, tk_tmpdir(tp), "journal");
    pid_t pid[THREADS];
    gk_journal_t *j;
    int i, status;

    ck_assert_int_eq(gk_journal_open(tp, path, &j), APR_SUCCESS);
    for (i = 0; i < THREADS; i++) {
        pid[i] = fork();
        ck_assert_int_ge(pid[i], 0);
        if (pid[i] == 0) {
            worker_t w;
            memset(&w, 0, sizeof(w));
            w.j = j;
            w.id = i;
            append_worker(&w);
            _exit(w.errors ? 1 : 0);
        }
    }
    for (i = 0; i < THREADS; i++) {
        ck_assert_int_eq(waitpid(pid[i], &status, 0), pid[i]);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    assert_n_distinct(path, THREADS * PER_THREAD);
}
END_TEST

static void *compact_worker(void *arg)
{
    worker_t *w = arg;
    apr_pool_t *p;

    apr_pool_create(&p, NULL);
    while (!*w->stop) {
        if (gk_journal_compact(p, w->path, TS, NULL) != APR_SUCCESS) {
            w->errors++;
        }
        w->rounds++;
        apr_pool_clear(p);
        /* a breath, or the appenders could starve (gk_journal.c:
         * LOCK_TRIES): still far more often than any server compacts */
        usleep(500);
    }
    apr_pool_destroy(p);
    return NULL;
}

START_TEST(compact_while_appending)
{
    /* appenders in threads and processes while another thread compacts
     * over and over: no entry is lost, no line is damaged */
    const char *path = tk_path_in(tp, tk_tmpdir(tp), "journal");
    pthread_t t[THREADS], ct;
    worker_t w[THREADS], cw;
    volatile int stop = 0;
    pid_t pid[2];
    gk_journal_t *j;
    int i, status;

    ck_assert_int_eq(gk_journal_open(tp, path, &j), APR_SUCCESS);
    for (i = 0; i < 2; i++) {
        pid[i] = fork();
        ck_assert_int_ge(pid[i], 0);
        if (pid[i] == 0) {
            worker_t pw;
            memset(&pw, 0, sizeof(pw));
            pw.j = j;
            pw.id = 100 + i;
            pw.pace = 300;
            append_worker(&pw);
            _exit(pw.errors ? 1 : 0);
        }
    }
    /* the thread after the forks: a child of a threaded process may only
     * call async-signal-safe functions */
    memset(&cw, 0, sizeof(cw));
    cw.path = path;
    cw.stop = &stop;
    ck_assert_int_eq(pthread_create(&ct, NULL, compact_worker, &cw), 0);
    for (i = 0; i < THREADS; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].j = j;
        w[i].id = i;
        w[i].pace = 300;
        ck_assert_int_eq(pthread_create(&t[i], NULL, append_worker, &w[i]), 0);
    }
    for (i = 0; i < THREADS; i++) {
        ck_assert_int_eq(pthread_join(t[i], NULL), 0);
        ck_assert_int_eq(w[i].errors, 0);
    }
    for (i = 0; i < 2; i++) {
        ck_assert_int_eq(waitpid(pid[i], &status, 0), pid[i]);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    stop = 1;
    ck_assert_int_eq(pthread_join(ct, NULL), 0);
    ck_assert_int_eq(cw.errors, 0);
    ck_assert_int_gt(cw.rounds, 5);
    assert_n_distinct(path, (THREADS + 2) * PER_THREAD);
}
END_TEST

static apr_status_t count_live_set(const gk_journal_entry_t *e, void *baton)
{
    int *n = baton;
    if (e->expires == TS + 1000) {
        (*n)++;
    }
    return APR_SUCCESS;
}

static void *read_worker(void *arg)
{
    worker_t *w = arg;
    apr_pool_t *p;

    apr_pool_create(&p, NULL);
    w->min_live = LIVE_SET;
    while (!*w->stop) {
        gk_journal_stats_t st;
        int n = 0;
        if (gk_journal_replay(p, w->path, TS - 100, count_live_set, &n, &st)
            != APR_SUCCESS) {
            w->errors++;
        }
        /* a replay racing an append may see that last line torn, never
         * anything else broken, and never a missing or partial file */
        if (st.corrupt || st.version || st.too_long || st.torn > 1) {
            w->bad++;
        }
        if (n < w->min_live) {
            w->min_live = n;
        }
        w->rounds++;
        apr_pool_clear(p);
    }
    apr_pool_destroy(p);
    return NULL;
}

START_TEST(compact_atomic_for_readers)
{
    /* LIVE_SET entries live for good; a writer appends entries that the
     * next compaction drops (expired at TS, live for the readers at
     * TS - 100) and compacts, over and over: readers always see every
     * live entry and a whole file, old or new */
    const char *path = tk_path_in(tp, tk_tmpdir(tp), "journal");
    pthread_t rt[2];
    worker_t rw[2];
    volatile int stop = 0;
    gk_journal_t *j;
    int i, round;

    ck_assert_int_eq(gk_journal_open(tp, path, &j), APR_SUCCESS);
    for (i = 0; i < LIVE_SET; i++) {
        gk_journal_entry_t e = entry("live", i, TS + 1000, 1);
        ck_assert_int_eq(gk_journal_append(j, &e), APR_SUCCESS);
    }
    for (i = 0; i < 2; i++) {
        memset(&rw[i], 0, sizeof(rw[i]));
        rw[i].path = path;
        rw[i].stop = &stop;
        ck_assert_int_eq(pthread_create(&rt[i], NULL, read_worker, &rw[i]), 0);
    }
    for (round = 0; round < 200; round++) {
        for (i = 0; i < 20; i++) {
            gk_journal_entry_t e = entry("old", round * 20 + i, TS - 50, 1);
            ck_assert_int_eq(gk_journal_append(j, &e), APR_SUCCESS);
        }
        ck_assert_int_eq(gk_journal_compact(tp, path, TS, NULL), APR_SUCCESS);
    }
    stop = 1;
    for (i = 0; i < 2; i++) {
        ck_assert_int_eq(pthread_join(rt[i], NULL), 0);
        ck_assert_int_eq(rw[i].errors, 0);
        ck_assert_int_eq(rw[i].bad, 0);
        ck_assert_int_eq(rw[i].min_live, LIVE_SET);
        ck_assert_int_gt(rw[i].rounds, 0);
    }
    assert_n_distinct(path, LIVE_SET);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("gk_journal");
    TCase *tc = tk_tcase("line");

    tcase_add_test(tc, crc32c_known);
    tcase_add_test(tc, line_round_trip);
    tcase_add_test(tc, format_refuses);
    tcase_add_test(tc, parse_refuses);
    suite_add_tcase(s, tc);

    tc = tk_tcase("file");
    tcase_add_test(tc, append_replay);
    tcase_add_test(tc, expiry);
    tcase_add_test(tc, torn_last_line);
    tcase_add_test(tc, torn_then_appended);
    tcase_add_test(tc, corrupt_middle);
    tcase_add_test(tc, unknown_version);
    tcase_add_test(tc, long_line);
    tcase_add_test(tc, empty_and_missing);
    tcase_add_test(tc, callback_stops);
    suite_add_tcase(s, tc);

    tc = tk_tcase("compaction");
    tcase_add_test(tc, compact_live_only);
    tcase_add_test(tc, compact_atomic_for_readers);
    suite_add_tcase(s, tc);

    tc = tk_tcase("concurrency");
    tcase_add_test(tc, threads_append);
    tcase_add_test(tc, processes_append);
    tcase_add_test(tc, compact_while_appending);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(suite)
