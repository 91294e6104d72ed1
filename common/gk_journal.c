/*
 * The revocation journal (gk_journal.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/file.h>
#include <sys/stat.h>

#include <apr_hash.h>

#include "gk_journal.h"

/* Bytes read per read(2). */
#define CHUNK 65536

/* Attempts at locking the file at path before giving up: each failed one
 * means a compaction renamed a new file over it meanwhile, so with
 * compactions minutes apart a second attempt always succeeds; only a
 * compactor looping without pause could starve an appender this long. */
#define LOCK_TRIES 1000

/* The version tag, the checksum's width and the largest valid line. */
#define V1 "v1 "
#define CRC_HEX 8

struct gk_journal_t {
    apr_pool_t *pool;
    const char *path;
};

/* ---- checksum ---------------------------------------------------------- */

apr_uint32_t gk_journal_crc32c(const void *data, apr_size_t len)
{
    const unsigned char *b = data;
    apr_uint32_t crc = 0xffffffffu;
    apr_size_t i;
    int k;

    /* bitwise: lines are short, and there is no table to build or share */
    for (i = 0; i < len; i++) {
        crc ^= b[i];
        for (k = 0; k < 8; k++) {
            crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1u)));
        }
    }
    return crc ^ 0xffffffffu;
}

/* ---- one line ---------------------------------------------------------- */

/* Read a decimal number at s[*pos..len): 1..20 digits, no leading zero
 * (but "0"), at most max. Advances *pos. 1 or 0. */
static int read_num(const char *s, apr_size_t len, apr_size_t *pos,
                    apr_uint64_t max, apr_uint64_t *out)
{
    apr_size_t i = *pos, start = i;
    apr_uint64_t v = 0;

    while (i < len && s[i] >= '0' && s[i] <= '9') {
        unsigned d = (unsigned)(s[i] - '0');
        if (i - start >= 20 || v > (max - d) / 10) {
            return 0;
        }
        v = v * 10 + d;
        i++;
    }
    if (i == start || (s[start] == '0' && i - start > 1)) {
        return 0;
    }
    *pos = i;
    *out = v;
    return 1;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

gk_journal_line_e gk_journal_parse_line(const char *line, apr_size_t len,
                                        gk_journal_entry_t *e)
{
    apr_size_t pos, i, body, glen;
    apr_uint64_t expires, value;
    apr_uint32_t crc = 0;
    const char *group;
    int kind;

    if (!line || len < 3 || line[0] != 'v') {
        return GK_JOURNAL_LINE_CORRUPT;
    }
    for (pos = 1; pos < len && line[pos] >= '0' && line[pos] <= '9'; pos++) {
    }
    if (pos == 1 || pos >= len || line[pos] != ' ') {
        return GK_JOURNAL_LINE_CORRUPT;
    }
    if (pos != 2 || line[1] != '1') {
        return GK_JOURNAL_LINE_VERSION;
    }
    /* "v1 " KIND " " KEY " " */
    pos = 3;
    if (len < pos + 2 + GK_REVOKE_KEY_LEN + 1 || line[pos + 1] != ' ') {
        return GK_JOURNAL_LINE_CORRUPT;
    }
    kind = line[pos];
    pos += 2;
    if (gk_revoke_key_kind(line + pos, GK_REVOKE_KEY_LEN) != kind
        || line[pos + GK_REVOKE_KEY_LEN] != ' ') {
        return GK_JOURNAL_LINE_CORRUPT;
    }
    pos += GK_REVOKE_KEY_LEN + 1;
    /* GROUP " " */
    group = line + pos;
    if (pos + 2 <= len && line[pos] == '-' && line[pos + 1] == ' ') {
        glen = 0;
    }
    else if (len >= pos + GK_REVOKE_KEY_LEN + 1
             && gk_revoke_key_kind(group, GK_REVOKE_KEY_LEN)
                    == GK_REVOKE_KIND_SUBJECT
             && line[pos + GK_REVOKE_KEY_LEN] == ' ') {
        glen = GK_REVOKE_KEY_LEN;
    }
    else {
        return GK_JOURNAL_LINE_CORRUPT;
    }
    pos += (glen ? glen : 1) + 1;
    if (!read_num(line, len, &pos, (apr_uint64_t)APR_INT64_MAX, &expires)
        || expires < 1 || pos >= len || line[pos] != ' ') {
        return GK_JOURNAL_LINE_CORRUPT;
    }
    pos++;
    if (!read_num(line, len, &pos, APR_UINT64_MAX, &value) || pos >= len
        || line[pos] != ' ') {
        return GK_JOURNAL_LINE_CORRUPT;
    }
    body = pos;
    pos++;
    if (len - pos != CRC_HEX) {
        return GK_JOURNAL_LINE_CORRUPT;
    }
    for (i = 0; i < CRC_HEX; i++) {
        int h = hexval(line[pos + i]);
        if (h < 0) {
            return GK_JOURNAL_LINE_CORRUPT;
        }
        crc = (crc << 4) | (apr_uint32_t)h;
    }
    if (crc != gk_journal_crc32c(line, body)) {
        return GK_JOURNAL_LINE_CORRUPT;
    }
    e->kind = (char)kind;
    memcpy(e->key, line + 5, GK_REVOKE_KEY_LEN);
    e->key[GK_REVOKE_KEY_LEN] = '\0';
    memcpy(e->group, group, glen);
    e->group[glen] = '\0';
    e->expires = (apr_int64_t)expires;
    e->value = value;
    return GK_JOURNAL_LINE_OK;
}

/* Is an entry's group valid: "" (none) or a subject key, NUL-terminated
 * within its array? */
static int group_ok(const char group[GK_REVOKE_KEY_SIZE])
{
    const char *nul = memchr(group, '\0', GK_REVOKE_KEY_SIZE);

    if (!nul) {
        return 0;
    }
    return nul == group
           || ((apr_size_t)(nul - group) == GK_REVOKE_KEY_LEN
               && gk_revoke_key_kind(group, GK_REVOKE_KEY_LEN)
                      == GK_REVOKE_KIND_SUBJECT);
}

apr_size_t gk_journal_format_line(char buf[GK_JOURNAL_LINE_MAX],
                                  const gk_journal_entry_t *e)
{
    apr_size_t n;

    if (!e
        || (e->kind != GK_REVOKE_KIND_TOKEN && e->kind != GK_REVOKE_KIND_RAW
            && e->kind != GK_REVOKE_KIND_SUBJECT)
        || memchr(e->key, '\0', GK_REVOKE_KEY_SIZE) == NULL
        || strlen(e->key) != GK_REVOKE_KEY_LEN
        || gk_revoke_key_kind(e->key, GK_REVOKE_KEY_LEN) != e->kind
        || !group_ok(e->group) || e->expires < 1) {
        return 0;
    }
    n = apr_snprintf(buf, GK_JOURNAL_LINE_MAX,
                     "v1 %c %s %s %" APR_INT64_T_FMT " %" APR_UINT64_T_FMT,
                     e->kind, e->key, e->group[0] ? e->group : "-",
                     e->expires, e->value);
    n += apr_snprintf(buf + n, GK_JOURNAL_LINE_MAX - n, " %08x\n",
                      gk_journal_crc32c(buf, n));
    return n;
}

/* ---- reading: a scanner fed chunks ------------------------------------- */

typedef struct {
    apr_int64_t now;
    gk_journal_cb_t cb;
    void *baton;
    gk_journal_stats_t *st;
    apr_status_t rv; /* the callback's refusal */
    int skipping;    /* in a line too long: until its LF */
    apr_size_t n;    /* bytes in line */
    char line[GK_JOURNAL_LINE_MAX];
} scan_t;

static void scan_init(scan_t *s, apr_int64_t now, gk_journal_cb_t cb,
                      void *baton, gk_journal_stats_t *st)
{
    s->now = now;
    s->cb = cb;
    s->baton = baton;
    s->st = st;
    s->rv = APR_SUCCESS;
    s->skipping = 0;
    s->n = 0;
    memset(st, 0, sizeof(*st));
}

static void deliver(scan_t *s, const gk_journal_entry_t *e)
{
    if (e->expires <= s->now) {
        s->st->expired++;
        return;
    }
    s->st->live++;
    s->rv = s->cb ? s->cb(e, s->baton) : APR_SUCCESS;
}

/* One complete line (without its LF). */
static void scan_line(scan_t *s, const char *line, apr_size_t len)
{
    gk_journal_entry_t e;
    gk_journal_line_e r;
    apr_size_t i;

    s->st->lines++;
    r = gk_journal_parse_line(line, len, &e);
    if (r == GK_JOURNAL_LINE_OK) {
        deliver(s, &e);
        return;
    }
    if (r == GK_JOURNAL_LINE_VERSION) {
        s->st->version++;
        return;
    }
    s->st->corrupt++;
    /* a torn fragment then a whole v1 line: the line is what ends it */
    for (i = 1; i + 3 <= len; i++) {
        if (!memcmp(line + i, V1, 3)
            && gk_journal_parse_line(line + i, len - i, &e)
                   == GK_JOURNAL_LINE_OK) {
            s->st->recovered++;
            deliver(s, &e);
            return;
        }
    }
}

static void scan_feed(scan_t *s, const char *data, apr_size_t len)
{
    while (len && s->rv == APR_SUCCESS) {
        const char *lf = memchr(data, '\n', len);
        apr_size_t k = lf ? (apr_size_t)(lf - data) : len;

        if (!s->skipping) {
            if (s->n + k > GK_JOURNAL_LINE_MAX - 1) {
                s->skipping = 1;
            }
            else {
                memcpy(s->line + s->n, data, k);
                s->n += k;
            }
        }
        if (!lf) {
            return;
        }
        if (s->skipping) {
            s->st->lines++;
            s->st->too_long++;
        }
        else {
            scan_line(s, s->line, s->n);
        }
        s->skipping = 0;
        s->n = 0;
        data += k + 1;
        len -= k + 1;
    }
}

static void scan_end(scan_t *s)
{
    if (s->rv == APR_SUCCESS && (s->n || s->skipping)) {
        s->st->lines++;
        s->st->torn++;
    }
    s->n = 0;
    s->skipping = 0;
}

apr_status_t gk_journal_replay_buffer(const char *buf, apr_size_t len,
                                      apr_int64_t now, gk_journal_cb_t cb,
                                      void *baton, gk_journal_stats_t *stats)
{
    gk_journal_stats_t dummy;
    scan_t s;

    scan_init(&s, now, cb, baton, stats ? stats : &dummy);
    scan_feed(&s, buf, buf ? len : 0);
    scan_end(&s);
    return s.rv;
}

/* Feed everything fd holds from its offset on into s. */
static apr_status_t scan_fd(apr_pool_t *p, scan_t *s, int fd)
{
    char *buf = apr_palloc(p, CHUNK);

    for (;;) {
        ssize_t n = read(fd, buf, CHUNK);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return APR_FROM_OS_ERROR(errno);
        }
        if (n == 0) {
            break;
        }
        scan_feed(s, buf, (apr_size_t)n);
        if (s->rv != APR_SUCCESS) {
            return s->rv;
        }
    }
    scan_end(s);
    return APR_SUCCESS;
}

apr_status_t gk_journal_replay(apr_pool_t *p, const char *path,
                               apr_int64_t now, gk_journal_cb_t cb,
                               void *baton, gk_journal_stats_t *stats)
{
    gk_journal_stats_t dummy;
    apr_pool_t *sub;
    apr_status_t rv;
    scan_t *s;
    int fd;

    if (!stats) {
        stats = &dummy;
    }
    memset(stats, 0, sizeof(*stats));
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return errno == ENOENT ? APR_SUCCESS : APR_FROM_OS_ERROR(errno);
    }
    if ((rv = apr_pool_create(&sub, p)) != APR_SUCCESS) {
        close(fd);
        return rv;
    }
    s = apr_palloc(sub, sizeof(*s));
    scan_init(s, now, cb, baton, stats);
    rv = scan_fd(sub, s, fd);
    close(fd);
    apr_pool_destroy(sub);
    return rv;
}

/* ---- locking ----------------------------------------------------------- */

/* Open path with flags and take flock op (LOCK_SH or LOCK_EX), retrying
 * until the locked descriptor is the file at path (a compaction may have
 * renamed another over it between the open and the lock). */
static apr_status_t open_locked(const char *path, int flags, int op, int *fdp)
{
    int tries, err;

    for (tries = 0; tries < LOCK_TRIES; tries++) {
        struct stat a, b;
        int fd = open(path, flags | O_CLOEXEC, 0600);

        if (fd < 0) {
            return APR_FROM_OS_ERROR(errno);
        }
        while (flock(fd, op) != 0) {
            if (errno != EINTR) {
                err = errno;
                close(fd);
                return APR_FROM_OS_ERROR(err);
            }
        }
        if (fstat(fd, &a) != 0) {
            err = errno;
            close(fd);
            return APR_FROM_OS_ERROR(err);
        }
        if (stat(path, &b) == 0 && a.st_dev == b.st_dev
            && a.st_ino == b.st_ino) {
            *fdp = fd;
            return APR_SUCCESS;
        }
        close(fd); /* replaced or removed meanwhile: again */
    }
    return APR_EGENERAL;
}

/* Write all len bytes (a temporary file: no atomicity needed). */
static apr_status_t write_all(int fd, const char *data, apr_size_t len)
{
    while (len) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return APR_FROM_OS_ERROR(errno);
        }
        data += n;
        len -= (apr_size_t)n;
    }
    return APR_SUCCESS;
}

/* ---- writing ----------------------------------------------------------- */

apr_status_t gk_journal_open(apr_pool_t *p, const char *path, gk_journal_t **j)
{
    apr_status_t rv;
    struct stat st;
    char last;
    int fd;

    if (!path || !*path) {
        return APR_EINVAL;
    }
    rv = open_locked(path, O_RDWR | O_APPEND | O_CREAT, LOCK_EX, &fd);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (fstat(fd, &st) != 0) {
        rv = APR_FROM_OS_ERROR(errno);
    }
    else if (st.st_size > 0) {
        ssize_t n = pread(fd, &last, 1, st.st_size - 1);
        if (n != 1) {
            rv = n < 0 ? APR_FROM_OS_ERROR(errno) : APR_EGENERAL;
        }
        else if (last != '\n' && write(fd, "\n", 1) != 1) {
            rv = APR_FROM_OS_ERROR(errno);
        }
    }
    close(fd);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    *j = apr_palloc(p, sizeof(**j));
    (*j)->pool = p;
    (*j)->path = apr_pstrdup(p, path);
    return APR_SUCCESS;
}

apr_status_t gk_journal_append(gk_journal_t *j, const gk_journal_entry_t *e)
{
    char line[GK_JOURNAL_LINE_MAX];
    apr_size_t len = gk_journal_format_line(line, e);
    apr_status_t rv;
    ssize_t n;
    int fd;

    if (!len) {
        return APR_EINVAL;
    }
    rv = open_locked(j->path, O_WRONLY | O_APPEND | O_CREAT, LOCK_SH, &fd);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    do {
        n = write(fd, line, len);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        rv = APR_FROM_OS_ERROR(errno);
    }
    else if ((apr_size_t)n != len) {
        /* a short write (disk full): end the fragment if we can, so that
         * the next append starts a line; replay skips the fragment */
        if (write(fd, "\n", 1) != 1) {
            /* nothing more to do: replay recovers the next line */
        }
        rv = APR_EGENERAL;
    }
    else if (fdatasync(fd) != 0) {
        rv = APR_FROM_OS_ERROR(errno);
    }
    close(fd);
    return rv;
}

/* ---- compaction -------------------------------------------------------- */

typedef struct {
    apr_pool_t *p;
    apr_hash_t *index;         /* key -> gk_journal_entry_t * */
    apr_array_header_t *order; /* gk_journal_entry_t *, first seen first */
} merge_t;

static apr_status_t merge_cb(const gk_journal_entry_t *e, void *baton)
{
    merge_t *m = baton;
    gk_journal_entry_t *have = apr_hash_get(m->index, e->key,
                                            GK_REVOKE_KEY_LEN);

    if (have) {
        if (e->expires > have->expires) {
            have->expires = e->expires;
        }
        if (e->value > have->value) {
            have->value = e->value;
        }
        /* the latest line's group: where the entry was written last */
        memcpy(have->group, e->group, sizeof(have->group));
        return APR_SUCCESS;
    }
    have = apr_pmemdup(m->p, e, sizeof(*e));
    apr_hash_set(m->index, have->key, GK_REVOKE_KEY_LEN, have);
    APR_ARRAY_PUSH(m->order, gk_journal_entry_t *) = have;
    return APR_SUCCESS;
}

/* The directory of path, for its fsync. */
static const char *dir_of(apr_pool_t *p, const char *path)
{
    const char *slash = strrchr(path, '/');

    if (!slash) {
        return ".";
    }
    if (slash == path) {
        return "/";
    }
    return apr_pstrmemdup(p, path, (apr_size_t)(slash - path));
}

apr_status_t gk_journal_compact(apr_pool_t *p, const char *path,
                                apr_int64_t now, gk_journal_stats_t *stats)
{
    gk_journal_stats_t dummy;
    apr_pool_t *sub;
    apr_status_t rv;
    merge_t m;
    scan_t *s;
    char *tmp, *out;
    apr_size_t len = 0;
    int fd, tfd = -1, dfd, i;

    if (!stats) {
        stats = &dummy;
    }
    memset(stats, 0, sizeof(*stats));
    rv = open_locked(path, O_RDONLY, LOCK_EX, &fd);
    if (rv != APR_SUCCESS) {
        return APR_STATUS_IS_ENOENT(rv) ? APR_SUCCESS : rv;
    }
    if ((rv = apr_pool_create(&sub, p)) != APR_SUCCESS) {
        close(fd);
        return rv;
    }
    m.p = sub;
    m.index = apr_hash_make(sub);
    m.order = apr_array_make(sub, 64, sizeof(gk_journal_entry_t *));
    s = apr_palloc(sub, sizeof(*s));
    scan_init(s, now, merge_cb, &m, stats);
    if ((rv = scan_fd(sub, s, fd)) != APR_SUCCESS) {
        goto done;
    }
    out = apr_palloc(sub,
                     (apr_size_t)m.order->nelts * GK_JOURNAL_LINE_MAX + 1);
    for (i = 0; i < m.order->nelts; i++) {
        len += gk_journal_format_line(
            out + len, APR_ARRAY_IDX(m.order, i, gk_journal_entry_t *));
    }
    tmp = apr_pstrcat(sub, path, ".compact.XXXXXX", NULL);
    if ((tfd = mkstemp(tmp)) < 0) {
        rv = APR_FROM_OS_ERROR(errno);
        goto done;
    }
    if ((rv = write_all(tfd, out, len)) != APR_SUCCESS) {
        goto failed;
    }
    if (fsync(tfd) != 0 || close(tfd) != 0) {
        rv = APR_FROM_OS_ERROR(errno);
        tfd = -1;
        goto failed;
    }
    tfd = -1;
    if (rename(tmp, path) != 0) {
        rv = APR_FROM_OS_ERROR(errno);
        goto failed;
    }
    /* the rename itself durable; best effort (some file systems refuse) */
    if ((dfd = open(dir_of(sub, path), O_RDONLY | O_DIRECTORY | O_CLOEXEC))
        >= 0) {
        if (fsync(dfd) != 0) {
            /* the data is in place; only its durability is unsure */
        }
        close(dfd);
    }
    goto done;

failed:
    if (tfd >= 0) {
        close(tfd);
    }
    unlink(tmp);
done:
    close(fd); /* releases the lock, after the rename */
    apr_pool_destroy(sub);
    return rv;
}
