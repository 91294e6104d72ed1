/*
 * The stores' lives: the embedded one, a table of counters in shared
 * memory for the whole host (every child, every thread),
 * common/gk_store_shm.c; or memcached (GKRateLimitStore memcached),
 * common/gk_store_mc.c, one connection pool per child.
 *
 * The shm store:
 *
 * The segment and its global mutex are made once per life of the parent
 * process, from s->process->pool, and found again through that pool's
 * userdata at each restart: a graceful restart (and a hard one, SIGHUP,
 * which keeps the parent) keeps every count; stopping and starting httpd
 * starts afresh, and so does a changed GKRateLimitStore size (logged).
 * Both generations of children after a graceful restart lock the same
 * mutex over the same table. The mutex type gk-ratelimit-shm is
 * registered with ap_mutex_register, so the Mutex directive chooses its
 * mechanism (at the first start: the mutex is made once); its default is
 * a process-shared pthread mutex.
 *
 * The counter keys are hashed with SipHash-2-4 under a 128-bit key:
 * derived from GKRateLimitKeySecret (the first 16 bytes of its SHA-256),
 * else random, drawn once per life of the parent process.
 */
#include "apr_global_mutex.h"
#include "apr_shm.h"
#include "apr_strings.h"
#include "ap_mpm.h"
#include "http_core.h"
#include "util_mutex.h"

#include "gk_ap_logfns.h"
#include "gk_rand.h"
#include "gk_ratelimit_private.h"
#include "gk_reason.h"
#include "gk_siphash.h"
#include "gk_store_mc.h"
#include "gk_store_shm.h"

#define USERDATA_KEY "gk-ratelimit-state"

/* What lives as long as the parent process. */
typedef struct {
    apr_shm_t *shm;
    apr_uint32_t nslots;
    apr_global_mutex_t *mutex;
    const char *mutex_file;
    unsigned char random_key[GK_SIPHASH_KEY_LEN];
} rl_state_t;

/* This generation's (parent, then each child's copy). */
static rl_state_t *state;
static unsigned char counter_key[GK_SIPHASH_KEY_LEN];
/* The child's. */
static gk_store_t *store;
/* GKRateLimitStore memcached's string (NULL: shm) and timeout (ms). */
static const char *mc_conf;
static int mc_timeout;
/* The request whose store operation is under way in this thread (for
 * the audit events of the breaker's transitions). */
static __thread request_rec *current;

void gk_rl_store_begin(request_rec *r)
{
    current = r;
}

void gk_rl_store_end(void)
{
    current = NULL;
}

void gk_rl_register_mutex(apr_pool_t *pconf)
{
    /* a process-shared pthread mutex by default: no system call when it
     * is free (fcntl, APR's usual default, makes two per request); the
     * Mutex directive chooses another */
    ap_mutex_register(pconf, GK_RATELIMIT_MUTEX, NULL,
                      APR_LOCK_PROC_PTHREAD, 0);
}

gk_store_t *gk_rl_store(void)
{
    return store;
}

const unsigned char *gk_rl_key(void)
{
    return counter_key;
}

/* The parent's state: found in the process pool, else made (the random
 * key, the mutex); a new segment at the first start or when the size
 * changed. The store is made whenever the module is loaded, since a
 * limit may appear in .htaccess alone. */
static apr_status_t make_state(server_rec *s, apr_uint32_t nslots,
                               rl_state_t **out)
{
    apr_pool_t *pp = s->process->pool;
    rl_state_t *st;
    void *ud = NULL;
    apr_status_t rv;

    apr_pool_userdata_get(&ud, USERDATA_KEY, pp);
    st = ud;
    if (!st) {
        st = apr_pcalloc(pp, sizeof(*st));
        rv = gk_rand_bytes(st->random_key, sizeof(st->random_key));
        if (rv != APR_SUCCESS) {
            return rv;
        }
        rv = ap_global_mutex_create(&st->mutex, &st->mutex_file,
                                    GK_RATELIMIT_MUTEX, NULL, s, pp, 0);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        apr_pool_userdata_set(st, USERDATA_KEY, apr_pool_cleanup_null, pp);
    }
    if (!st->shm || st->nslots != nslots) {
        apr_size_t size = gk_store_shm_size(nslots);
        apr_shm_t *shm;
        if (st->shm) {
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, GKLOGNO(30001)
                         "GKRateLimitStore: the size changed from %u to %u "
                         "counters: counting starts afresh",
                         (unsigned)st->nslots, (unsigned)nslots);
        }
        /* anonymous: inherited by every child the parent forks */
        rv = apr_shm_create(&shm, size, NULL, pp);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        rv = gk_store_shm_init(apr_shm_baseaddr_get(shm), size, nslots);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        /* the old segment, if any, stays mapped until the parent ends:
         * children of the previous generation may still use it */
        st->shm = shm;
        st->nslots = nslots;
    }
    *out = st;
    return APR_SUCCESS;
}

int gk_rl_shm_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                          apr_pool_t *ptemp, server_rec *s)
{
    const gk_rl_srv_conf_t *sc =
        ap_get_module_config(s->module_config, &gk_ratelimit_module);
    apr_uint32_t nslots = sc->shm_size ? (apr_uint32_t)sc->shm_size
                                       : GK_RATELIMIT_SHM_DEFAULT;
    apr_status_t rv;
    server_rec *v;

    /* the first of the two passes at startup only checks */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return OK;
    }
    for (v = s; v; v = v->next) {
        gk_rl_srv_conf_t *vc =
            ap_get_module_config(v->module_config, &gk_ratelimit_module);
        vc->site_id = gk_rate_site_id(v->server_hostname);
    }
    mc_conf = sc->mc_conf;
    mc_timeout = sc->mc_timeout ? sc->mc_timeout : GK_RATELIMIT_MC_TIMEOUT;
    if (mc_conf) {
        state = NULL;       /* no table: the counters are in memcached */
        /* check_config made sure there is a secret */
        memcpy(counter_key, sc->secret_key, sizeof(counter_key));
        return OK;
    }
    rv = make_state(s, nslots, &state);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s, GKLOGNO(30002)
                     "GKRateLimitStore: cannot make the shared-memory store "
                     "of %u counters (%lu bytes) and its mutex %s",
                     (unsigned)nslots,
                     (unsigned long)gk_store_shm_size(nslots),
                     GK_RATELIMIT_MUTEX);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* the counter keys' hash key: GKRateLimitKeySecret's, else the
     * parent's random key */
    memcpy(counter_key, sc->secret_key ? sc->secret_key : state->random_key,
           sizeof(counter_key));
    return OK;
}

static apr_status_t lock(void *baton)
{
    return apr_global_mutex_lock(baton);
}

static apr_status_t unlock(void *baton)
{
    return apr_global_mutex_unlock(baton);
}

/* ---- memcached ------------------------------------------------------ */

static APR_OPTIONAL_FN_TYPE(gk_log_audit) *audit_fn;
static server_rec *main_server;
static volatile apr_uint32_t pool_said;

/* What the memcached store tells: a debug line per failed operation; a
 * warning when the breaker opens or a probe fails (once per back-off
 * interval, by the breaker's design); a notice when it closes; audit
 * events on open and close; an empty pool once a minute. */
static void mc_event(void *baton, const gk_store_mc_event_t *ev)
{
    request_rec *r = current;

    if (ev->pool_empty) {
        if (gk_ap_once_per(&pool_said, 60)) {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, main_server,
                         GKLOGNO(30011) "memcached: no free connection in "
                         "this child's pool (said once a minute): "
                         "GKRateLimitOnStoreError applies");
        }
        return;
    }
    if (ev->result != GK_STORE_OK && ev->result != GK_STORE_NOT_FOUND
        && ev->result != GK_STORE_EXISTS) {
        if (r) {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, GKLOGNO(30012)
                          "memcached %s: %s%s%s", ev->op,
                          gk_store_result_name(ev->result),
                          ev->detail ? ": " : "",
                          ev->detail ? ev->detail : "");
        }
    }
    switch (ev->breaker) {
    case GK_BREAKER_EV_OPENED:
    case GK_BREAKER_EV_PROBE_FAILED:
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, main_server,
                     GKLOGNO(30013) "memcached %s (%s%s%s): requests for "
                     "its keys take GKRateLimitOnStoreError for %u ms "
                     "before one probes again",
                     ev->breaker == GK_BREAKER_EV_OPENED
                         ? "is failing" : "is still failing",
                     gk_store_result_name(ev->result),
                     ev->detail ? ": " : "", ev->detail ? ev->detail : "",
                     (unsigned)ev->backoff_ms);
        break;
    case GK_BREAKER_EV_CLOSED:
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, main_server,
                     GKLOGNO(30014) "memcached answers again: rate limits "
                     "count again (from zero if it restarted)");
        break;
    default:
        return;
    }
    if (r && audit_fn && ev->breaker != GK_BREAKER_EV_PROBE_FAILED) {
        audit_fn(r, "web", ev->breaker == GK_BREAKER_EV_OPENED
                               ? "rate-limit-store-down"
                               : "rate-limit-store-up",
                 ev->breaker == GK_BREAKER_EV_OPENED ? "failure" : "success",
                 gk_reason_name(ev->breaker == GK_BREAKER_EV_OPENED
                                    ? GK_REASON_STORE_ERROR
                                    : GK_REASON_OK),
                 NULL);
    }
}

/* The threads of a child that may run requests: the MPM's, and
 * mod_http2's workers when it is loaded (they run the requests of h2
 * streams). */
static int threads_per_child(void)
{
    int threads = 1;

    if (ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads) != APR_SUCCESS
        || threads < 1) {
        threads = 1;
    }
    if (ap_find_linked_module("mod_http2.c")) {
        threads += threads * 3 / 2 + 1;
    }
    return threads;
}

static void mc_child_init(apr_pool_t *p, server_rec *s)
{
    const char *err = NULL;
    apr_status_t rv;

    main_server = s;
    audit_fn = APR_RETRIEVE_OPTIONAL_FN(gk_log_audit);
    rv = gk_store_mc_create(p, mc_conf, mc_timeout, threads_per_child(),
                            &store, &err);
    if (rv != APR_SUCCESS) {
        store = NULL;
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, GKLOGNO(30015)
                     "GKRateLimitStore memcached: %s: rate limits follow "
                     "GKRateLimitOnStoreError", err ? err : "cannot start");
        return;
    }
    gk_store_mc_set_events(store, mc_event, NULL);
}

void gk_rl_shm_child_init(apr_pool_t *p, server_rec *s)
{
    gk_store_shm_lock_t lk;
    apr_status_t rv;

    gk_rand_child_init();
    if (mc_conf) {
        mc_child_init(p, s);
        return;
    }
    if (!state) {
        return;
    }
    rv = apr_global_mutex_child_init(&state->mutex, state->mutex_file, p);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, GKLOGNO(30004)
                     "cannot attach the mutex %s in a child: rate limits "
                     "follow GKRateLimitOnStoreError", GK_RATELIMIT_MUTEX);
        return;
    }
    lk.lock = lock;
    lk.unlock = unlock;
    lk.baton = state->mutex;
    rv = gk_store_shm_open(p, apr_shm_baseaddr_get(state->shm), &lk, &store);
    if (rv == APR_SUCCESS) {
        /* the keys begin with gk_rate_counter_hash's keyed hash */
        gk_store_shm_set_prehashed(store, 1);
    }
    else {
        store = NULL;
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, GKLOGNO(30005)
                     "cannot open the shared-memory store in a child: rate "
                     "limits follow GKRateLimitOnStoreError");
    }
}
