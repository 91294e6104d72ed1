/*
 * Fuzz target: the revocation journal reader (gk_journal), what a front
 * end replays into its store at startup from a file that may be torn,
 * damaged or edited.
 *
 * Invariants checked (abort() on violation), for the input as a journal:
 *  - every line (split at LF) that gk_journal_parse_line accepts is
 *    exactly gk_journal_format_line of what it parsed (one spelling per
 *    entry), and that line parses back to the same entry;
 *  - every entry replay delivers (gk_journal_replay_buffer) is valid: a
 *    kind, a key of that kind, a group that is none or a subject key,
 *    expires after now; it re-serialises to a line that parses back
 *    identically (group included);
 *  - the counts add up: every line is counted once (live, expired,
 *    corrupt, other version, too long or torn; a recovered entry also in
 *    corrupt), and replaying at now = 0 delivers no fewer entries;
 *  - the file reader (gk_journal_replay over the input written to a
 *    temporary file) delivers the same entries and counts as the buffer
 *    reader.
 * The seed corpus (tests/fuzz/corpus/journal) is written by
 * make_corpus.py. See replay.c for how to build it with libFuzzer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "gk_journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1700000000

static apr_pool_t *root;
static char tmpdir[] = "/tmp/gk_fuzz_journal_XXXXXX";
static char *tmpfile_path;

static void remove_tmpdir(void)
{
    unlink(tmpfile_path);
    rmdir(tmpdir);
}

typedef struct {
    apr_int64_t now;
    apr_size_t n;
    apr_uint32_t sum; /* a digest of what was delivered, in order */
} check_t;

static int same(const gk_journal_entry_t *a, const gk_journal_entry_t *b)
{
    return a->kind == b->kind && !strcmp(a->key, b->key)
           && !strcmp(a->group, b->group) && a->expires == b->expires
           && a->value == b->value;
}

static apr_status_t check_cb(const gk_journal_entry_t *e, void *baton)
{
    check_t *c = baton;
    char line[GK_JOURNAL_LINE_MAX];
    gk_journal_entry_t back;
    apr_size_t n;

    if (e->expires <= c->now || e->expires < 1
        || memchr(e->key, '\0', sizeof(e->key)) == NULL
        || gk_revoke_key_kind(e->key, strlen(e->key)) != e->kind
        || memchr(e->group, '\0', sizeof(e->group)) == NULL
        || (e->group[0]
            && gk_revoke_key_kind(e->group, strlen(e->group))
                   != GK_REVOKE_KIND_SUBJECT)) {
        abort();
    }
    n = gk_journal_format_line(line, e);
    if (n < 2 || n > GK_JOURNAL_LINE_MAX || line[n - 1] != '\n'
        || memchr(line, '\n', n - 1)) {
        abort();
    }
    memset(&back, 0, sizeof(back));
    if (gk_journal_parse_line(line, n - 1, &back) != GK_JOURNAL_LINE_OK
        || !same(&back, e)) {
        abort();
    }
    c->n++;
    c->sum = c->sum * 31 + gk_journal_crc32c(line, n);
    return APR_SUCCESS;
}

/* Each line parsed on its own: accepted means canonical. */
static void check_lines(const char *in, apr_size_t size)
{
    const char *p = in, *end = in + size;

    while (p < end) {
        const char *lf = memchr(p, '\n', (apr_size_t)(end - p));
        apr_size_t len = lf ? (apr_size_t)(lf - p) : (apr_size_t)(end - p);
        gk_journal_entry_t e, back;
        char line[GK_JOURNAL_LINE_MAX];

        if (gk_journal_parse_line(p, len, &e) == GK_JOURNAL_LINE_OK) {
            apr_size_t n = gk_journal_format_line(line, &e);
            if (n != len + 1 || memcmp(line, p, len)
                || gk_journal_parse_line(line, n - 1, &back)
                       != GK_JOURNAL_LINE_OK
                || !same(&back, &e)) {
                abort();
            }
        }
        if (!lf) {
            break;
        }
        p = lf + 1;
    }
}

static void check_counts(const gk_journal_stats_t *st)
{
    if (st->lines + st->recovered
            != st->live + st->expired + st->corrupt + st->version
                   + st->too_long + st->torn
        || st->recovered > st->corrupt || st->torn > 1) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    gk_journal_stats_t st, st0, fst;
    check_t c = {NOW, 0, 0}, c0 = {0, 0, 0}, fc = {NOW, 0, 0};
    apr_pool_t *p;
    FILE *f;

    if (!root) {
        apr_initialize();
        apr_pool_create(&root, NULL);
        if (!mkdtemp(tmpdir)) {
            abort();
        }
        tmpfile_path = apr_pstrcat(root, tmpdir, "/journal", NULL);
        atexit(remove_tmpdir);
    }
    apr_pool_create(&p, root);

    check_lines(in, size);
    if (gk_journal_replay_buffer(in, size, NOW, check_cb, &c, &st)
        != APR_SUCCESS) {
        abort();
    }
    check_counts(&st);
    if (st.live != c.n) {
        abort();
    }
    if (gk_journal_replay_buffer(in, size, 0, check_cb, &c0, &st0)
        != APR_SUCCESS) {
        abort();
    }
    check_counts(&st0);
    if (st0.live != st.live + st.expired || st0.expired != 0
        || st0.lines != st.lines) {
        abort();
    }

    /* the same through a file */
    f = fopen(tmpfile_path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
        abort();
    }
    if (gk_journal_replay(p, tmpfile_path, NOW, check_cb, &fc, &fst)
            != APR_SUCCESS
        || memcmp(&fst, &st, sizeof(st)) || fc.n != c.n || fc.sum != c.sum) {
        abort();
    }
    unlink(tmpfile_path);
    apr_pool_destroy(p);
    return 0;
}
