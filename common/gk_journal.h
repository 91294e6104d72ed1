/*
 * The revocation journal (issue 14): an append-only file of the entries a
 * front end wrote into its revocation store, replayed into the store at
 * startup and whenever the store lost them (memcached restarted or
 * evicted, shm gone with a full restart). No httpd header.
 *
 * File format: lines of printable ASCII, one entry each:
 *
 *   LINE    = "v1" SP KIND SP KEY SP GROUP SP EXPIRES SP VALUE SP CRC LF
 *   KIND    = "t" / "r" / "s"              (gk_revoke.h)
 *   KEY     = "gk:rv:" KIND ":" 32HEXLOWER (gk_revoke_key_kind; the kind
 *                                           must be the line's KIND)
 *   GROUP   = "-" / "gk:rv:s:" 32HEXLOWER  the store group the entry was
 *                                           written in (gk_store.h's
 *                                           set_in: memcached's master
 *                                           key): "-" for none, else a
 *                                           subject key
 *                                           (gk_revoke_key_kind 's')
 *   EXPIRES = 1*19DIGIT                    absolute Unix second at which
 *                                           the entry is gone: 1..2^63-1
 *   VALUE   = 1*20DIGIT                    the store value: 0..2^64-1
 *   CRC     = 8HEXLOWER                    CRC-32C (Castagnoli) of every
 *                                           byte before " " CRC
 *
 * Numbers have no sign and no leading zero ("0" alone is allowed for
 * VALUE). A line is at most GK_JOURNAL_LINE_MAX bytes with its LF (a valid
 * one is at most 137), far below PIPE_BUF.
 *
 * Why a group: with memcached, an entry lives on the server its group
 * hashes to (a token's entry in its subject's group, so that one
 * get_multi_in finds the token, its subject's cutoff and the sentinel on
 * one server); a replay must write each entry into the same group as the
 * original write, or the lookup would not find it. The format has never
 * shipped: the GROUP field is part of "v1" from the start.
 *
 * Why a checksum: the file may be torn (power loss, a full disk: a short
 * write), damaged or edited; CRC-32C catches every error burst of up to
 * 32 bits and almost all others, so a damaged line is skipped instead of
 * revoking the wrong key or keeping one for a wrong time. It is not a MAC:
 * whoever can write the file (mode 0600, httpd's user) can add or delete
 * entries anyway. The grammar is exact (single spaces, fixed fields), so
 * a line parses only one way and gk_journal_format_line of a parsed entry
 * gives back the same bytes.
 *
 * Replay never trusts the file: a line that is too long, malformed, has a
 * bad checksum or a version other than v1 is counted and skipped, as is
 * the last line when it has no LF (torn). When a line is bad, replay also
 * looks for a valid v1 line that ends it (a torn fragment followed by the
 * next append on the same line) and keeps that entry (stats.recovered).
 * gk_journal_open ends a torn last line with a LF so that the next append
 * starts on a line of its own.
 *
 * Writers and the compactor (the locking protocol):
 *
 *  - gk_journal_append opens the file (O_WRONLY|O_APPEND), takes a shared
 *    flock(2), checks that its descriptor still is the file at path
 *    (device and inode, fstat against stat), writes the whole line with
 *    ONE write(), then closes (which releases the lock). When the file at
 *    path changed (a compaction renamed a new one over it) it retries
 *    with the new file. O_APPEND makes each write land at the end as a
 *    whole: concurrent appenders, threads or processes, never interleave
 *    (local file systems; not NFS).
 *  - gk_journal_compact opens the file, takes an exclusive flock(2) (so no
 *    append is under way and none starts), checks it still is the file at
 *    path, reads it, writes the live entries to a fresh temporary file in
 *    the same directory (mode 0600), fsyncs it, renames it over path and
 *    fsyncs the directory, and only then releases the lock of the old
 *    file.
 *
 * So an append either completed before the compactor's lock (the
 * compactor reads it) or takes its shared lock after the rename (it sees
 * the inode changed and writes to the new file): no entry is lost. A
 * reader (gk_journal_replay) takes no lock: rename(2) is atomic, so it
 * sees the whole old file or the whole new one; racing an append it may
 * see that last line torn (counted, skipped: the appender wrote the store
 * too).
 *
 * flock(2), not apr_file_lock: APR uses fcntl(2) record locks on Linux,
 * which belong to the process, so they neither exclude two threads of one
 * process nor survive the close of another descriptor of the same file.
 * flock locks belong to the open file description, and each append and
 * compaction opens its own: threads and processes exclude each other
 * alike. A handle holds no descriptor, so it may be opened before fork
 * (httpd's post_config) and used by every child and thread.
 *
 * Merging: compaction keeps one line per key, the largest EXPIRES and the
 * largest VALUE of its live lines (a subject's later cutoff wins) and the
 * GROUP of its latest live line (the last written), in the order keys
 * first appear. Replay delivers every live line as it is, in
 * file order, duplicates included.
 */
#ifndef GK_JOURNAL_H
#define GK_JOURNAL_H

#include "gk.h"
#include "gk_revoke.h"

/* The longest line read or written, LF included. */
#define GK_JOURNAL_LINE_MAX 256

/* One entry: what goes into the store. Zero it before filling it in (an
 * empty group is "none"). */
typedef struct {
    char kind;                    /* GK_REVOKE_KIND_* */
    char key[GK_REVOKE_KEY_SIZE]; /* the store key, NUL-terminated */
    char group[GK_REVOKE_KEY_SIZE]; /* the store group it is written in
                                     * (a subject key), NUL-terminated;
                                     * "" for none */
    apr_int64_t expires;          /* Unix second it is gone, >= 1 */
    apr_uint64_t value;           /* the store value */
} gk_journal_entry_t;

/* What a replay saw. */
typedef struct {
    apr_size_t lines;     /* lines read, the torn last one included */
    apr_size_t live;      /* entries handed to the callback */
    apr_size_t expired;   /* valid entries with expires <= now */
    apr_size_t corrupt;   /* malformed or bad checksum (empty lines too) */
    apr_size_t version;   /* "v<digits> " with another version */
    apr_size_t too_long;  /* longer than GK_JOURNAL_LINE_MAX */
    apr_size_t torn;      /* a last line without LF */
    apr_size_t recovered; /* valid entries found at the end of a bad line
                           * (counted in live or expired too) */
} gk_journal_stats_t;

/* The callback of a replay: anything but APR_SUCCESS stops the replay,
 * which returns it. */
typedef apr_status_t (*gk_journal_cb_t)(const gk_journal_entry_t *e,
                                        void *baton);

/* The result of gk_journal_parse_line. */
typedef enum {
    GK_JOURNAL_LINE_OK = 0,
    GK_JOURNAL_LINE_CORRUPT, /* malformed or bad checksum */
    GK_JOURNAL_LINE_VERSION  /* another version's line */
} gk_journal_line_e;

typedef struct gk_journal_t gk_journal_t;

/* Open the journal at path, creating it (mode 0600) when missing, and end
 * a torn last line with a LF (under the exclusive lock). The handle lives
 * in p and holds no descriptor (see the top of this file). */
apr_status_t gk_journal_open(apr_pool_t *p, const char *path,
                             gk_journal_t **j);

/* Append one entry: one line, one write() (protocol above). APR_EINVAL
 * for an entry gk_journal_format_line refuses; an error of the file
 * otherwise (a short write: APR_EGENERAL after trying to end the line). */
apr_status_t gk_journal_append(gk_journal_t *j, const gk_journal_entry_t *e);

/* Replay the journal at path: every valid v1 entry with now < expires is
 * handed to cb, in file order. A missing file is an empty journal. stats
 * (may be NULL) is zeroed first. APR_SUCCESS, the callback's status, or
 * an error reading the file (entries before it were delivered). */
apr_status_t gk_journal_replay(apr_pool_t *p, const char *path,
                               apr_int64_t now, gk_journal_cb_t cb,
                               void *baton, gk_journal_stats_t *stats);

/* The same over len bytes in memory (what the file would hold). */
apr_status_t gk_journal_replay_buffer(const char *buf, apr_size_t len,
                                      apr_int64_t now, gk_journal_cb_t cb,
                                      void *baton, gk_journal_stats_t *stats);

/* Rewrite the journal at path with only its entries live at now (merged
 * per key, see the top of this file), atomically (temporary file and
 * rename, under the exclusive lock). A missing file is left missing.
 * stats (may be NULL) is what was read. */
apr_status_t gk_journal_compact(apr_pool_t *p, const char *path,
                                apr_int64_t now, gk_journal_stats_t *stats);

/* Parse one line of len bytes without its LF. GK_JOURNAL_LINE_OK with *e
 * set; otherwise *e is untouched. */
gk_journal_line_e gk_journal_parse_line(const char *line, apr_size_t len,
                                        gk_journal_entry_t *e);

/* Write the line of e into buf, LF included, no NUL: returns its length,
 * or 0 when e is not a valid entry (kind, key of that kind, group "" or a
 * subject key, expires >= 1). */
apr_size_t gk_journal_format_line(char buf[GK_JOURNAL_LINE_MAX],
                                  const gk_journal_entry_t *e);

/* CRC-32C (Castagnoli, reflected 0x82F63B78, as in iSCSI and ext4) of len
 * bytes; crc32c("123456789") = 0xe3069283. */
apr_uint32_t gk_journal_crc32c(const void *data, apr_size_t len);

#endif
