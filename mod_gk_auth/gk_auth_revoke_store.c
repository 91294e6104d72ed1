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
 *   gk:rv:t:<hash of iss, jti>   1, until the token's exp + leeway
 *   gk:rv:r:<hash of the token>  the same, for a token without jti
 *   gk:rv:s:<hash of iss, sub>   the cutoff second of "log out everywhere",
 *                                for GKAuthMaxTokenLifetime + leeway
 *   gk:rv:sentinel               (memcached) the journal was replayed
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
 *   - memcached: the sentinel is written (on every server) after each
 *     replay. A lookup that misses it (memcached restarted, or evicted
 *     it) replays this front end's journal, writes the sentinel again,
 *     then looks up once more and answers; one thread of a process
 *     replays while the others of that process wait for it (a replay of
 *     a compacted journal is short), and a thread that waited does not
 *     replay again. Each front end does the same on its own next request,
 *     so the union of every front end's revocations is back within a
 *     request per front end.
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
    gk_store_result_e res;

    if (e->expires <= now) {
        return APR_SUCCESS;
    }
    res = gk_store_set_in(st, group, group ? strlen(group) : 0, e->key,
                          strlen(e->key), e->value, e->expires, now);
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
        return OK; /* each child replays when it misses the sentinel */
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
static gk_store_result_e mc_recover(request_rec *r, apr_uint32_t seen)
{
    gk_journal_stats_t stats;
    char sentinel[GK_REVOKE_KEY_SIZE];
    apr_size_t slen = gk_revoke_sentinel_key(sentinel);
    gk_store_result_e res = GK_STORE_OK;
    apr_status_t rv;

    apr_thread_mutex_lock(replay_lock);
    if (apr_atomic_read32(&replays) != seen) {
        apr_thread_mutex_unlock(replay_lock);
        return GK_STORE_OK;
    }
    rv = replay(r->pool, store, &stats);
    if (rv == APR_SUCCESS) {
        apr_int64_t now = apr_time_sec(apr_time_now());
        res = gk_store_set_all(store, sentinel, slen, 1, GK_STORE_NO_EXPIRY,
                               now);
    }
    if (rv == APR_SUCCESS && res == GK_STORE_OK) {
        apr_atomic_inc32(&replays);
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, GKLOGNO(10076)
                      "revocation store: the sentinel was missing (memcached "
                      "restarted or evicted): %lu revocation(s) replayed "
                      "from %s", (unsigned long)stats.live, journal_path);
    }
    else {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, GKLOGNO(10077)
                      "revocation store: the sentinel was missing and the "
                      "replay of %s failed (%s): GKAuthRevocationOnStoreError "
                      "applies", journal_path,
                      rv == APR_SUCCESS ? gk_store_result_name(res)
                                        : "journal");
        if (res == GK_STORE_OK) {
            res = GK_STORE_ERROR;
        }
    }
    apr_thread_mutex_unlock(replay_lock);
    return res;
}

/* The lookup of n keys in one call; with memcached, the sentinel is the
 * last key, in the group of the first key of the subject. */
static gk_store_result_e lookup(request_rec *r, const rv_keys_t *k,
                                apr_int64_t now, apr_uint64_t *values,
                                gk_store_result_e *results)
{
    const void *keys[3];
    apr_size_t klens[3], n = 0;
    char sentinel[GK_REVOKE_KEY_SIZE];
    gk_store_result_e res;
    int attempt;

    keys[n] = k->tkey;
    klens[n++] = GK_REVOKE_KEY_LEN;
    keys[n] = k->skey;
    klens[n++] = k->skey[0] ? GK_REVOKE_KEY_LEN : 0;
    if (!mc_conf) {
        /* a token without sub looks up its own key alone */
        return gk_store_get_multi(store, keys, klens, k->skey[0] ? 2 : 1,
                                  now, values, results);
    }
    if (!k->skey[0]) {
        /* no subject: an empty key would be refused; look up the token
         * key twice instead (still one command) */
        keys[1] = k->tkey;
        klens[1] = GK_REVOKE_KEY_LEN;
    }
    keys[n] = sentinel;
    klens[n++] = gk_revoke_sentinel_key(sentinel);
    for (attempt = 0;; attempt++) {
        apr_uint32_t seen = apr_atomic_read32(&replays);
        current = r;
        res = gk_store_get_multi_in(store, k->skey[0] ? k->skey : NULL,
                                    k->skey[0] ? GK_REVOKE_KEY_LEN : 0, keys,
                                    klens, n, now, values, results);
        if (res == GK_STORE_OK && results[2] == GK_STORE_NOT_FOUND
            && attempt == 0) {
            res = mc_recover(r, seen);
            current = NULL;
            if (res == GK_STORE_OK) {
                continue;
            }
        }
        current = NULL;
        if (res == GK_STORE_OK && results[2] != GK_STORE_OK) {
            /* still no sentinel after a replay: memcached is losing what
             * it is given (full without -M) */
            res = GK_STORE_ERROR;
        }
        return res;
    }
}

gk_auth_rv_e gk_auth_revoked(request_rec *r, gk_verified_t *v,
                             const char *token, apr_size_t len,
                             apr_int64_t now)
{
    apr_uint64_t values[3];
    gk_store_result_e results[3];
    const rv_keys_t *k;
    rv_keys_t buf;

    if (!store) {
        /* no store anywhere: nothing was ever revoked here */
        return store_failed ? GK_AUTH_RV_ERROR : GK_AUTH_RV_OK;
    }
    /* shm: every entry is gone at now >= the horizon: ONE atomic load for
     * an empty (or wholly expired) list */
    if (!mc_conf && now >= gk_store_shm_horizon(store)) {
        return GK_AUTH_RV_OK;
    }
    if (!(k = token_keys(v, token, len, &buf))) {
        return GK_AUTH_RV_ERROR;
    }
    if (lookup(r, k, now, values, results) != GK_STORE_OK
        || results[0] == GK_STORE_ERROR
        || (k->skey[0] && results[1] == GK_STORE_ERROR)) {
        return GK_AUTH_RV_ERROR;
    }
    if (results[0] == GK_STORE_OK) {
        return GK_AUTH_RV_REVOKED;
    }
    /* "log out everywhere": tokens issued at or before the cutoff, and,
     * once there is one, those that do not say when they were issued */
    if (k->skey[0] && results[1] == GK_STORE_OK
        && (!v->has_iat || v->iat <= (apr_int64_t)values[1])) {
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
