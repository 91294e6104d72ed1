/*
 * mod_gk_auth's revocation store and its journal (issue 14).
 *
 * The store is the module's own instance (common/ap/gk_ap_store.h): a
 * shared-memory table of the host (mutex type gk-auth-revocation-shm,
 * which the Mutex directive may choose), or memcached for several front
 * ends (GKAuthRevocationStore memcached), one connection pool per child.
 * It is made only when some scope may consult it (gk_auth_revoke_config.c).
 *
 * What it holds (common/gk_revoke.h keys, hashed, never a token or a
 * subject in clear):
 *   rv:t:<hash of iss, jti>   1, until the token's exp + leeway
 *   rv:r:<hash of the token>  the same, for a token without jti
 *   rv:s:<hash of iss, sub>   the cutoff second of "log out everywhere",
 *                                for GKAuthMaxTokenLifetime + leeway
 *   rv:sentinel               (memcached) the journal was replayed
 * Writes and reads go to the group of the subject key (memcached's "by
 * key" commands), so that a token's entry, its subject's cutoff and the
 * sentinel are fetched in one round trip from one server.
 *
 * The journal (common/gk_journal.h): every revocation is also appended to
 * GKAuthRevocationJournal, by the child that made it, one write() each.
 *   - shm: the parent replays the journal into the table whenever the
 *     table is made afresh (the first start of the parent: a full
 *     restart or a reboot; a changed size), in post_config, before any
 *     child exists. A graceful restart keeps the table, and every entry.
 *   - memcached: the sentinel holds an epoch, a random number written
 *     (on every server) by the front end that replays into a memcached
 *     without one. The parent replays at each start and restart (on a
 *     connection of its own, closed before the children fork) and hands
 *     the epoch to its children. A lookup that misses the sentinel
 *     (memcached restarted, or evicted it) replays this front end's
 *     journal and writes a new epoch; a lookup that finds an epoch other
 *     than its own (another front end replayed first) replays too, and
 *     keeps that epoch; either then looks up once more and answers. One
 *     thread of a process replays while the others of that process wait
 *     for it (a replay of a compacted journal is short), and a thread that
 *     waited does not replay again. So the union of every front end's
 *     revocations is back within a request per front end (per child: a
 *     child forked after the parent's last check replays once too).
 *     Replays never lower a subject's cutoff (a later one may be there).
 *   - compaction: the parent compacts the journal at every start and
 *     restart (post_config), and a child after a revocation at most once
 *     an hour (per process: appends and compactions lock each other out
 *     by flock, gk_journal.h, so two never lose an entry), when httpd's
 *     user may write the journal's directory.
 * Running as root, the parent gives the journal to httpd's user (the
 * children append to it).
 */
#include <unistd.h>

#include "apr_atomic.h"
#include "apr_strings.h"
#include "apr_thread_mutex.h"
#include "http_core.h"
#include "unixd.h"

#include "gk_ap_store.h"
#include "gk_auth_private.h"
#include "gk_journal.h"
#include "gk_rand.h"
#include "gk_revoke.h"
#include "gk_store_mc.h"
#include "gk_store_shm.h"

#define USERDATA_KEY "gk-auth-revocation-state"
/* A child compacts the journal at most this often (seconds). */
#define COMPACT_INTERVAL 3600

/* This generation's (parent, then each child's copy). */
static int enabled;                 /* some scope may consult the store */
static gk_ap_shm_t *shm;            /* the shm table's state, or NULL */
static const char *mc_conf;         /* memcached, or NULL */
static int mc_timeout;
static const char *journal_path;
static gk_journal_t *journal;
static const unsigned char *key16;
static server_rec *main_server;
/* The child's. */
static gk_store_t *store;
static int store_failed;            /* the child could not make it */
static apr_thread_mutex_t *replay_lock;
static volatile apr_uint32_t replays;   /* replays done by this process */
/* memcached: the sentinel's value (a random epoch) this process's store
 * holds the journal of; 0: none */
static apr_uint64_t known_epoch;
static volatile apr_uint32_t compacted; /* gk_ap_once_per */
static volatile apr_uint32_t pool_said;
static APR_OPTIONAL_FN_TYPE(gk_log_audit) *audit_fn;
/* The request whose store operation is under way in this thread. */
static __thread request_rec *current;

const unsigned char *gk_auth_revoke_key16(void)
{
    return key16;
}

void gk_auth_revoke_register_mutex(apr_pool_t *pconf)
{
    gk_ap_store_register_mutex(pconf, GK_AUTH_RV_MUTEX);
}

/* ---- the journal -------------------------------------------------------- */

/* One journal entry into the store, in its group. */
static apr_status_t replay_one(const gk_journal_entry_t *e, void *baton)
{
    gk_store_t *st = baton;
    apr_int64_t now = apr_time_sec(apr_time_now());
    const char *group = e->group[0] ? e->group : NULL;
    apr_size_t klen = strlen(e->key);
    const void *keys[1] = {e->key};
    gk_store_result_e res;
    apr_uint64_t value;

    if (e->expires <= now) {
        return APR_SUCCESS;
    }
    /* a subject's cutoff never goes back: another front end (or a later
     * "log out everywhere" of this one) may have stored a later one */
    if (e->kind == GK_REVOKE_KIND_SUBJECT
        && gk_store_get_multi_in(st, group, group ? strlen(group) : 0, keys,
                                 &klen, 1, now, &value, &res) == GK_STORE_OK
        && res == GK_STORE_OK && value >= e->value) {
        return APR_SUCCESS;
    }
    res = gk_store_set_in(st, group, group ? strlen(group) : 0, e->key,
                          klen, e->value, e->expires, now);
    if (res != GK_STORE_OK) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, main_server, GKLOGNO(10061)
                     "GKAuthRevocationJournal %s: replaying into the "
                     "revocation store failed (%s)%s", journal_path,
                     gk_store_result_name(res),
                     res == GK_STORE_FULL
                         ? ": the table is full, raise GKAuthRevocationStore "
                           "shm size="
                         : "");
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

static apr_status_t replay(apr_pool_t *p, gk_store_t *st,
                           gk_journal_stats_t *stats)
{
    return gk_journal_replay(p, journal_path, apr_time_sec(apr_time_now()),
                             replay_one, st, stats);
}

static apr_uint64_t epoch_get(void)
{
    return __atomic_load_n(&known_epoch, __ATOMIC_ACQUIRE);
}

static void epoch_set(apr_uint64_t e)
{
    __atomic_store_n(&known_epoch, e, __ATOMIC_RELEASE);
}

/* Replay the journal into st; then, when epoch is 0 (the sentinel was
 * missing), write the sentinel on every server with a new random epoch.
 * GK_STORE_OK and the epoch the store now holds this journal in
 * (*epoch), or the failure (GK_STORE_ERROR for the journal's). */
static gk_store_result_e replay_and_mark(apr_pool_t *p, gk_store_t *st,
                                         apr_uint64_t *epoch,
                                         gk_journal_stats_t *stats)
{
    char sentinel[GK_REVOKE_KEY_SIZE];
    apr_size_t slen = gk_revoke_sentinel_key(sentinel);
    apr_uint64_t e = 0;

    if (replay(p, st, stats) != APR_SUCCESS) {
        return GK_STORE_ERROR;
    }
    if (*epoch) {
        return GK_STORE_OK;
    }
    while (!e) {
        if (gk_rand_bytes(&e, sizeof(e)) != APR_SUCCESS) {
            return GK_STORE_ERROR;
        }
    }
    *epoch = e;
    return gk_store_set_all(st, sentinel, slen, e, GK_STORE_NO_EXPIRY,
                            apr_time_sec(apr_time_now()));
}

/* memcached, in the parent at each start and restart: replay the journal
 * (memcached may have restarted while httpd was down, and another front
 * end written the sentinel back since), writing the sentinel when it is
 * missing; on a connection closed again before the children fork
 * (ptemp). The children inherit the epoch. A memcached that does not
 * answer now is left to the children: their first lookup replays. */
static void mc_startup(apr_pool_t *ptemp, server_rec *s)
{
    char sentinel[GK_REVOKE_KEY_SIZE];
    apr_size_t slen = gk_revoke_sentinel_key(sentinel);
    gk_journal_stats_t stats;
    gk_store_result_e res;
    const char *err = NULL;
    apr_uint64_t epoch = 0;
    gk_store_t *st;

    memset(&stats, 0, sizeof(stats));
    epoch_set(0);
    if (gk_store_mc_create(ptemp, mc_conf, mc_timeout, 1, &st, &err)
        != APR_SUCCESS) {
        res = GK_STORE_ERROR;
    }
    else if ((res = gk_store_get(st, sentinel, slen,
                                 apr_time_sec(apr_time_now()), &epoch))
                 == GK_STORE_OK
             || res == GK_STORE_NOT_FOUND) {
        if (res == GK_STORE_NOT_FOUND) {
            epoch = 0;
        }
        if ((res = replay_and_mark(ptemp, st, &epoch, &stats))
            == GK_STORE_OK) {
            epoch_set(epoch);
            ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, GKLOGNO(10086)
                         "revocation store: %lu revocation(s) replayed from "
                         "%s into memcached", (unsigned long)stats.live,
                         journal_path);
        }
    }
    if (res != GK_STORE_OK) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, GKLOGNO(10087)
                     "revocation store: memcached did not answer at startup "
                     "(%s%s%s): each child replays %s on its first lookup "
                     "once it answers", gk_store_result_name(res),
                     err ? ": " : "", err ? err : "", journal_path);
    }
}

/* The parent, at each start and restart: compaction (the entries that
 * expired go), and the journal given to httpd's user. */
static apr_status_t journal_setup(apr_pool_t *pconf, apr_pool_t *ptemp,
                                  server_rec *s)
{
    gk_journal_stats_t stats;
    apr_status_t rv;

    rv = gk_journal_open(pconf, journal_path, &journal);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, rv, s,
                     GKLOGNO(10062) "GKAuthRevocationJournal: cannot open "
                     "or create %s", journal_path);
        return rv;
    }
    rv = gk_journal_compact(ptemp, journal_path,
                            apr_time_sec(apr_time_now()), &stats);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, rv, s,
                     GKLOGNO(10063) "GKAuthRevocationJournal: cannot "
                     "compact %s (its directory must be writable)",
                     journal_path);
        return rv;
    }
    if (stats.corrupt || stats.torn || stats.version || stats.too_long) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, GKLOGNO(10064)
                     "GKAuthRevocationJournal %s: %lu damaged line(s) "
                     "skipped (%lu torn, %lu of another version, %lu too "
                     "long)", journal_path,
                     (unsigned long)(stats.corrupt + stats.torn
                                     + stats.version + stats.too_long),
                     (unsigned long)stats.torn, (unsigned long)stats.version,
                     (unsigned long)stats.too_long);
    }
    if (!geteuid()
        && chown(journal_path, ap_unixd_config.user_id,
                 ap_unixd_config.group_id)) {
        rv = APR_FROM_OS_ERROR(errno);
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, rv, s,
                     GKLOGNO(10065) "GKAuthRevocationJournal: cannot give "
                     "%s to httpd's user", journal_path);
        return rv;
    }
    return APR_SUCCESS;
}

/* A child's compaction, at most once an hour per process, when the
 * directory is writable by this user. */
static void maybe_compact(request_rec *r)
{
    char *dir;
    apr_status_t rv;

    if (!gk_ap_once_per(&compacted, COMPACT_INTERVAL)) {
        return;
    }
    dir = ap_make_dirstr_parent(r->pool, journal_path);
    if (access(dir, W_OK)) {
        return; /* the parent compacts at its next restart */
    }
    rv = gk_journal_compact(r->pool, journal_path,
                            apr_time_sec(apr_time_now()), NULL);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, GKLOGNO(10066)
                      "GKAuthRevocationJournal: cannot compact %s",
                      journal_path);
    }
}

/* ---- post_config -------------------------------------------------------- */

/* The parent's replay into a fresh table. */
static int shm_setup(apr_pool_t *ptemp, server_rec *s, apr_uint32_t nslots)
{
    gk_ap_shm_fresh_e fresh;
    gk_journal_stats_t stats;
    apr_uint32_t prev = 0;
    gk_store_t *st;
    apr_status_t rv;

    rv = gk_ap_shm_make(s, USERDATA_KEY, GK_AUTH_RV_MUTEX, nslots, &shm,
                        &fresh, &prev);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, rv, s,
                     GKLOGNO(10067) "GKAuthRevocationStore: cannot make the "
                     "shared-memory store of %u entries (%lu bytes) and its "
                     "mutex %s", (unsigned)nslots,
                     (unsigned long)gk_store_shm_size(nslots),
                     GK_AUTH_RV_MUTEX);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (fresh == GK_AP_SHM_KEPT) {
        return OK;
    }
    if ((rv = gk_ap_shm_open(shm, ptemp, &st)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, rv, s,
                     GKLOGNO(10068) "GKAuthRevocationStore: cannot open the "
                     "shared-memory store");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if ((rv = replay(ptemp, st, &stats)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, rv, s,
                     GKLOGNO(10069) "GKAuthRevocationJournal: cannot replay "
                     "%s into the revocation store", journal_path);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, GKLOGNO(10070)
                 "revocation store: %s table of %u entries, %lu "
                 "revocation(s) replayed from %s",
                 fresh == GK_AP_SHM_RESIZED ? "resized" : "new",
                 (unsigned)nslots, (unsigned long)stats.live, journal_path);
    return OK;
}

int gk_auth_revoke_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                               apr_pool_t *ptemp, server_rec *s)
{
    const gk_auth_srv_conf_t *sc =
        ap_get_module_config(s->module_config, &gk_auth_module);

    /* the first of the two passes at startup only checks */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    main_server = s;
    shm = NULL;
    journal = NULL;
    store = NULL;
    enabled = gk_auth_revoke_needed();
    if (!enabled) {
        return OK;
    }
    key16 = sc->rv_key;
    mc_conf = sc->rv_mc_conf;
    mc_timeout = sc->rv_mc_timeout ? sc->rv_mc_timeout
                                   : GK_AUTH_DEFAULT_RV_MC_TIMEOUT;
    journal_path = sc->rv_journal
                       ? sc->rv_journal
                       : ap_runtime_dir_relative(pconf,
                                                 GK_AUTH_RV_JOURNAL_DEFAULT);
    if (!journal_path || journal_setup(pconf, ptemp, s) != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (mc_conf) {
        mc_startup(ptemp, s);
        return OK;
    }
    return shm_setup(ptemp, s,
                     sc->rv_shm_size ? (apr_uint32_t)sc->rv_shm_size
                                     : GK_AUTH_RV_SHM_DEFAULT);
}

/* ---- child_init --------------------------------------------------------- */

/* What the memcached store tells: a debug line per failed operation, a
 * warning when a server's breaker opens or a probe fails (once per
 * back-off interval, by the breaker's design), a notice when it closes,
 * an empty pool once a minute. */
static void mc_event(void *baton, const gk_store_mc_event_t *ev)
{
    request_rec *r = current;

    if (ev->pool_empty) {
        if (gk_ap_once_per(&pool_said, 60)) {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, main_server,
                         GKLOGNO(10071) "revocation store (memcached): no "
                         "free connection in this child's pool (said once "
                         "a minute): GKAuthRevocationOnStoreError applies");
        }
        return;
    }
    if (r && ev->result != GK_STORE_OK && ev->result != GK_STORE_NOT_FOUND
        && ev->result != GK_STORE_EXISTS) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, GKLOGNO(10072)
                      "revocation store: memcached %s: %s%s%s", ev->op,
                      gk_store_result_name(ev->result),
                      ev->detail ? ": " : "", ev->detail ? ev->detail : "");
    }
    switch (ev->breaker) {
    case GK_BREAKER_EV_OPENED:
    case GK_BREAKER_EV_PROBE_FAILED:
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, main_server,
                     GKLOGNO(10073) "revocation store: memcached %s (%s%s%s): "
                     "tokens whose entries it holds take "
                     "GKAuthRevocationOnStoreError for %u ms before one "
                     "probes again",
                     ev->breaker == GK_BREAKER_EV_OPENED
                         ? "is failing" : "is still failing",
                     gk_store_result_name(ev->result),
                     ev->detail ? ": " : "", ev->detail ? ev->detail : "",
                     (unsigned)ev->backoff_ms);
        break;
    case GK_BREAKER_EV_CLOSED:
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, main_server,
                     GKLOGNO(10074) "revocation store: memcached answers "
                     "again");
        break;
    default:
        return;
    }
    if (r && audit_fn && ev->breaker != GK_BREAKER_EV_PROBE_FAILED) {
        int down = ev->breaker == GK_BREAKER_EV_OPENED;
        audit_fn(r, "authentication",
                 down ? "revocation-store-down" : "revocation-store-up",
                 down ? "failure" : "success",
                 gk_reason_name(down ? GK_REASON_STORE_ERROR : GK_REASON_OK),
                 NULL);
    }
}

void gk_auth_revoke_child_init(apr_pool_t *p, server_rec *s)
{
    const char *err = NULL;
    apr_status_t rv;

    store = NULL;
    store_failed = 0;
    if (!enabled) {
        return;
    }
    audit_fn = APR_RETRIEVE_OPTIONAL_FN(gk_log_audit);
    if (mc_conf) {
        rv = apr_thread_mutex_create(&replay_lock, APR_THREAD_MUTEX_DEFAULT,
                                     p);
        if (rv == APR_SUCCESS) {
            rv = gk_ap_store_mc_child_init(p, mc_conf, mc_timeout, mc_event,
                                           NULL, &store, &err);
        }
    }
    else {
        rv = gk_ap_shm_child_init(shm, p);
        if (rv == APR_SUCCESS) {
            rv = gk_ap_shm_open(shm, p, &store);
        }
    }
    if (rv != APR_SUCCESS) {
        store = NULL;
        store_failed = 1;
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, GKLOGNO(10075)
                     "revocation store (%s): %s: GKAuthRevocationOnStoreError "
                     "applies to every token", mc_conf ? "memcached" : "shm",
                     err ? err : "cannot attach it in this child");
    }
}

/* ---- the keys of a token ------------------------------------------------ */

/* What a token's lookups need, derived once per cached token. */
typedef struct {
    char tkey[GK_REVOKE_KEY_SIZE];  /* its own key (jti or raw) */
    char skey[GK_REVOKE_KEY_SIZE];  /* its subject's, "" without sub */
} rv_keys_t;

static const char *claim_string(const gk_verified_t *v, const char *name)
{
    return json_string_value(json_object_get(v->payload, name));
}

static int derive_keys(const gk_verified_t *v, const char *token,
                       apr_size_t len, rv_keys_t *k)
{
    const char *jti = claim_string(v, "jti"), *sub = claim_string(v, "sub");

    k->skey[0] = '\0';
    if (!(jti ? gk_revoke_token_key(k->tkey, key16, v->iss, jti)
              : gk_revoke_token_key_raw(k->tkey, key16, token, len))) {
        return 0;
    }
    return !sub || gk_revoke_subject_key(k->skey, key16, v->iss, sub);
}

/* The keys of v: its memo for a cached token, else derived into buf. */
static const rv_keys_t *token_keys(gk_verified_t *v, const char *token,
                                   apr_size_t len, rv_keys_t *buf)
{
    rv_keys_t *m = v->memo[GK_AUTH_MEMO_REVOKE];

    if (m) {
        return m;
    }
    if (!derive_keys(v, token, len, buf)) {
        return NULL;
    }
    if (v->token && (m = malloc(sizeof(*m)))) {
        /* a token the cache stored: the next request hashes nothing */
        memcpy(m, buf, sizeof(*m));
        return gk_verified_memo_set(v, GK_AUTH_MEMO_REVOKE, m, free);
    }
    return buf;
}

/* ---- lookups ------------------------------------------------------------ */

/* After a lookup that missed the sentinel: replay this front end's
 * journal (one thread of the process at a time; a thread that waited for
 * another's replay does not replay again) and write the sentinel. */
static gk_store_result_e mc_recover(request_rec *r, apr_uint32_t seen,
                                    apr_uint64_t epoch)
{
    const char *why = epoch ? "a new epoch: another front end replayed "
                              "into memcached"
                            : "no sentinel: memcached restarted or evicted";
    gk_journal_stats_t stats;
    gk_store_result_e res;

    apr_thread_mutex_lock(replay_lock);
    if (apr_atomic_read32(&replays) != seen) {
        apr_thread_mutex_unlock(replay_lock);
        return GK_STORE_OK;
    }
    memset(&stats, 0, sizeof(stats));
    if ((res = replay_and_mark(r->pool, store, &epoch, &stats))
        == GK_STORE_OK) {
        epoch_set(epoch);
        apr_atomic_inc32(&replays);
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, GKLOGNO(10076)
                      "revocation store (%s): %lu revocation(s) replayed "
                      "from %s", why, (unsigned long)stats.live,
                      journal_path);
    }
    else {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, GKLOGNO(10077)
                      "revocation store (%s): the replay of %s failed (%s): "
                      "GKAuthRevocationOnStoreError applies", why,
                      journal_path, gk_store_result_name(res));
    }
    apr_thread_mutex_unlock(replay_lock);
    return res;
}

/* What a lookup found. */
typedef struct {
    int revoked;            /* the token's own entry */
    int has_cutoff;         /* its subject's cutoff */
    apr_uint64_t cutoff;
} found_t;

/* The token's key, its subject's (when it has a sub) and, with memcached,
 * the sentinel, in ONE call: in the subject's group, so on one server.
 * GK_STORE_OK and *f, or the failure. */
static gk_store_result_e lookup(request_rec *r, const rv_keys_t *k,
                                apr_int64_t now, found_t *f)
{
    const void *keys[3];
    apr_size_t klens[3], n = 0, is = 0, isent = 0;
    char sentinel[GK_REVOKE_KEY_SIZE];
    apr_uint64_t values[3];
    gk_store_result_e results[3], res;
    const char *group = k->skey[0] ? k->skey : NULL;
    int attempt;

    keys[n] = k->tkey;
    klens[n++] = GK_REVOKE_KEY_LEN;
    if (group) {
        is = n;
        keys[n] = k->skey;
        klens[n++] = GK_REVOKE_KEY_LEN;
    }
    if (mc_conf) {
        isent = n;
        keys[n] = sentinel;
        klens[n++] = gk_revoke_sentinel_key(sentinel);
    }
    for (attempt = 0;; attempt++) {
        apr_uint32_t seen = apr_atomic_read32(&replays);
        current = r;
        res = gk_store_get_multi_in(store, group,
                                    group ? GK_REVOKE_KEY_LEN : 0, keys,
                                    klens, n, now, values, results);
        current = NULL;
        if (res == GK_STORE_OK && mc_conf && attempt == 0
            && (results[isent] == GK_STORE_NOT_FOUND
                || (results[isent] == GK_STORE_OK
                    && values[isent] != epoch_get()))) {
            /* memcached restarted or evicted (no sentinel), or another
             * front end replayed into it since (a new epoch): replay this
             * front end's journal, then look up once more */
            res = mc_recover(r, seen, results[isent] == GK_STORE_OK
                                          ? values[isent]
                                          : 0);
            if (res == GK_STORE_OK) {
                continue;
            }
        }
        break;
    }
    if (res != GK_STORE_OK) {
        return res;
    }
    if (results[0] == GK_STORE_ERROR
        || (group && results[is] == GK_STORE_ERROR)
        || (mc_conf && results[isent] != GK_STORE_OK)) {
        return GK_STORE_ERROR;
    }
    f->revoked = results[0] == GK_STORE_OK;
    f->has_cutoff = group && results[is] == GK_STORE_OK;
    f->cutoff = f->has_cutoff ? values[is] : 0;
    return GK_STORE_OK;
}

gk_auth_rv_e gk_auth_revoked(request_rec *r, gk_verified_t *v,
                             const char *token, apr_size_t len,
                             apr_int64_t now)
{
    const rv_keys_t *k;
    rv_keys_t buf;
    found_t f;

    if (!store) {
        /* no store anywhere: nothing was ever revoked here */
        return store_failed ? GK_AUTH_RV_ERROR : GK_AUTH_RV_OK;
    }
    /* shm: every entry is gone at now >= the horizon: ONE atomic load for
     * an empty (or wholly expired) list */
    if (!mc_conf && now >= gk_store_shm_horizon(store)) {
        return GK_AUTH_RV_OK;
    }
    if (!(k = token_keys(v, token, len, &buf))
        || lookup(r, k, now, &f) != GK_STORE_OK) {
        return GK_AUTH_RV_ERROR;
    }
    /* "log out everywhere": tokens issued at or before the cutoff, and,
     * once there is one, those that do not say when they were issued */
    if (f.revoked
        || (f.has_cutoff
            && (!v->has_iat || v->iat <= (apr_int64_t)f.cutoff))) {
        return GK_AUTH_RV_REVOKED;
    }
    return GK_AUTH_RV_OK;
}

/* ---- writes ------------------------------------------------------------- */

gk_store_result_e gk_auth_revoke_put(request_rec *r, char kind,
                                     const char *key, const char *group,
                                     apr_uint64_t value, apr_int64_t expires,
                                     apr_int64_t now)
{
    gk_journal_entry_t e;
    gk_store_result_e res;
    apr_status_t rv;

    if (!store) {
        return GK_STORE_DOWN;
    }
    current = r;
    res = gk_store_set_in(store, group, group ? strlen(group) : 0, key,
                          strlen(key), value, expires, now);
    current = NULL;
    if (res != GK_STORE_OK) {
        return res;
    }
    memset(&e, 0, sizeof(e));
    e.kind = kind;
    apr_cpystrn(e.key, key, sizeof(e.key));
    apr_cpystrn(e.group, group ? group : "", sizeof(e.group));
    e.expires = expires;
    e.value = value;
    if ((rv = gk_journal_append(journal, &e)) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, GKLOGNO(10078)
                      "GKAuthRevocationJournal: cannot append to %s: the "
                      "revocation would not survive a restart of the store",
                      journal_path);
        return GK_STORE_ERROR;
    }
    maybe_compact(r);
    return GK_STORE_OK;
}
