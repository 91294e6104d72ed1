/*
 * A module's store in httpd (gk_ap_store.h).
 */
#include <string.h>

#include "apr_global_mutex.h"
#include "apr_shm.h"
#include "ap_mpm.h"
#include "http_config.h"
#include "util_mutex.h"

#include "gk_ap_store.h"
#include "gk_rand.h"
#include "gk_store_shm.h"

/* What lives as long as the parent process (in s->process->pool). */
struct gk_ap_shm_t {
    apr_shm_t *shm;
    apr_uint32_t nslots;
    apr_global_mutex_t *mutex;
    const char *mutex_file;
    unsigned char key[GK_AP_SHM_KEY_LEN];
};

void gk_ap_store_register_mutex(apr_pool_t *pconf, const char *mutex_type)
{
    ap_mutex_register(pconf, mutex_type, NULL, APR_LOCK_PROC_PTHREAD, 0);
}

/* The state under name in the process pool, made (key and mutex) when
 * there is none yet. */
static apr_status_t find_state(server_rec *s, const char *name,
                               const char *mutex_type, gk_ap_shm_t **out)
{
    apr_pool_t *pp = s->process->pool;
    gk_ap_shm_t *st;
    void *ud = NULL;
    apr_status_t rv;

    apr_pool_userdata_get(&ud, name, pp);
    if (ud) {
        *out = ud;
        return APR_SUCCESS;
    }
    st = apr_pcalloc(pp, sizeof(*st));
    rv = gk_rand_bytes(st->key, sizeof(st->key));
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = ap_global_mutex_create(&st->mutex, &st->mutex_file, mutex_type,
                                NULL, s, pp, 0);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* the name is the caller's constant: it outlives the pool */
    apr_pool_userdata_set(st, name, apr_pool_cleanup_null, pp);
    *out = st;
    return APR_SUCCESS;
}

apr_status_t gk_ap_shm_make(server_rec *s, const char *name,
                            const char *mutex_type, apr_uint32_t nslots,
                            gk_ap_shm_t **out, gk_ap_shm_fresh_e *fresh,
                            apr_uint32_t *prev)
{
    gk_ap_shm_t *st;
    apr_size_t size = gk_store_shm_size(nslots);
    apr_shm_t *shm;
    apr_status_t rv;

    if (prev) {
        *prev = 0;
    }
    if (size == 0) {
        return APR_EINVAL;
    }
    rv = find_state(s, name, mutex_type, &st);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    if (st->shm && st->nslots == nslots) {
        *fresh = GK_AP_SHM_KEPT;
        *out = st;
        return APR_SUCCESS;
    }
    /* anonymous: inherited by every child the parent forks */
    rv = apr_shm_create(&shm, size, NULL, s->process->pool);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    rv = gk_store_shm_init(apr_shm_baseaddr_get(shm), size, nslots);
    if (rv != APR_SUCCESS) {
        apr_shm_destroy(shm);
        return rv;
    }
    if (st->shm) {
        *fresh = GK_AP_SHM_RESIZED;
        if (prev) {
            *prev = st->nslots;
        }
    }
    else {
        *fresh = GK_AP_SHM_NEW;
    }
    /* the old segment, if any, stays mapped until the parent ends:
     * children of the previous generation may still use it */
    st->shm = shm;
    st->nslots = nslots;
    *out = st;
    return APR_SUCCESS;
}

const unsigned char *gk_ap_shm_key(const gk_ap_shm_t *shm)
{
    return shm->key;
}

apr_uint32_t gk_ap_shm_slots(const gk_ap_shm_t *shm)
{
    return shm->nslots;
}

apr_status_t gk_ap_shm_child_init(gk_ap_shm_t *shm, apr_pool_t *p)
{
    return apr_global_mutex_child_init(&shm->mutex, shm->mutex_file, p);
}

static apr_status_t mutex_lock(void *baton)
{
    return apr_global_mutex_lock(baton);
}

static apr_status_t mutex_unlock(void *baton)
{
    return apr_global_mutex_unlock(baton);
}

apr_status_t gk_ap_shm_open(gk_ap_shm_t *shm, apr_pool_t *p,
                            gk_store_t **out)
{
    gk_store_shm_lock_t lk;

    lk.lock = mutex_lock;
    lk.unlock = mutex_unlock;
    lk.baton = shm->mutex;
    return gk_store_shm_open(p, apr_shm_baseaddr_get(shm->shm), &lk, out);
}

int gk_ap_store_threads_per_child(void)
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

apr_status_t gk_ap_store_mc_child_init(apr_pool_t *p, const char *conf,
                                       int timeout_ms,
                                       gk_store_mc_event_fn events,
                                       void *baton, gk_store_t **out,
                                       const char **err)
{
    int pool = gk_ap_store_threads_per_child();
    apr_status_t rv;

    *err = NULL;
    if (pool > GK_STORE_MC_POOL_MAX) {
        pool = GK_STORE_MC_POOL_MAX;
    }
    rv = gk_store_mc_create(p, conf, timeout_ms, pool, out, err);
    if (rv != APR_SUCCESS) {
        *out = NULL;
        return rv;
    }
    if (events) {
        gk_store_mc_set_events(*out, events, baton);
    }
    return APR_SUCCESS;
}
