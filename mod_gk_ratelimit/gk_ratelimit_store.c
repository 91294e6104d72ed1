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
 * userdata at each restart (common/ap/gk_ap_store.c, shared with
 * mod_gk_auth's revocation store, which has its own): a graceful restart (and a hard one, SIGHUP,
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
#include "apr_strings.h"
#include "http_core.h"

#include "gk_ap_logfns.h"
#include "gk_ap_store.h"
#include "gk_rand.h"
#include "gk_ratelimit_private.h"
#include "gk_reason.h"
#include "gk_siphash.h"
#include "gk_store_mc.h"
#include "gk_store_shm.h"

#define USERDATA_KEY "gk-ratelimit-state"

/* This generation's table (parent, then each child's copy). */
static gk_ap_shm_t *state;
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
    /* the Mutex directive chooses another mechanism than the default */
    gk_ap_store_register_mutex(pconf, GK_RATELIMIT_MUTEX);
}

gk_store_t *gk_rl_store(void)
{
    return store;
}

const unsigned char *gk_rl_key(void)
{
    return counter_key;
}

/* The parent's table (common/ap/gk_ap_store.c): found again at a
 * restart, made afresh at the first start or when the size changed. The
 * store is made whenever the module is loaded, since a limit may appear
 * in .htaccess alone. */
static apr_status_t make_state(server_rec *s, apr_uint32_t nslots,
                               gk_ap_shm_t **out)
{
    gk_ap_shm_fresh_e fresh;
    apr_uint32_t prev;
    apr_status_t rv;

    rv = gk_ap_shm_make(s, USERDATA_KEY, GK_RATELIMIT_MUTEX, nslots, out,
                        &fresh, &prev);
    if (rv == APR_SUCCESS && fresh == GK_AP_SHM_RESIZED) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, GKLOGNO(30001)
                     "GKRateLimitStore: the size changed from %u to %u "
                     "counters: counting starts afresh",
                     (unsigned)prev, (unsigned)nslots);
    }
    return rv;
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
    memcpy(counter_key, sc->secret_key ? sc->secret_key : gk_ap_shm_key(state),
           sizeof(counter_key));
    return OK;
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

static void mc_child_init(apr_pool_t *p, server_rec *s)
{
    const char *err = NULL;
    apr_status_t rv;

    main_server = s;
    audit_fn = APR_RETRIEVE_OPTIONAL_FN(gk_log_audit);
    rv = gk_ap_store_mc_child_init(p, mc_conf, mc_timeout, mc_event, NULL,
                                   &store, &err);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, GKLOGNO(30015)
                     "GKRateLimitStore memcached: %s: rate limits follow "
                     "GKRateLimitOnStoreError", err ? err : "cannot start");
    }
}

void gk_rl_shm_child_init(apr_pool_t *p, server_rec *s)
{
    apr_status_t rv;

    gk_rand_child_init();
    if (mc_conf) {
        mc_child_init(p, s);
        return;
    }
    if (!state) {
        return;
    }
    rv = gk_ap_shm_child_init(state, p);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, GKLOGNO(30004)
                     "cannot attach the mutex %s in a child: rate limits "
                     "follow GKRateLimitOnStoreError", GK_RATELIMIT_MUTEX);
        return;
    }
    rv = gk_ap_shm_open(state, p, &store);
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
