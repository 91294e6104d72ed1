/*
 * A module's store in httpd (common/gk_store.h): the life of the
 * shared-memory table (common/gk_store_shm.h) and of the per-child
 * memcached store (common/gk_store_mc.h), the same for every module that
 * keeps one (mod_gk_ratelimit's counters, mod_gk_auth's revocations).
 * Each module has its OWN instance: its own segment, its own global
 * mutex type (the Mutex directive names it), its own userdata key; the
 * layer keeps no state of its own and logs nothing: every message stays
 * in the module, in its words and with its tags.
 *
 * The shm store, in the order of httpd's hooks:
 *
 *   pre_config    gk_ap_store_register_mutex(pconf, "gk-foo-shm")
 *   post_config   (second pass only) gk_ap_shm_make(s, "gk-foo-state",
 *                 "gk-foo-shm", nslots, &shm, &prev): the segment of
 *                 nslots slots, its global mutex and a random 16-byte key,
 *                 made in s->process->pool and found again under that name
 *                 at every restart, so that a graceful (or SIGHUP) restart
 *                 keeps every entry. The mutex and the key are made once
 *                 per life of the parent; the segment again when nslots
 *                 changed. The result says whether the table is FRESH
 *                 (empty: first start, or a new size, then prev is the old
 *                 size) so that a module with a journal replays it.
 *                 gk_ap_shm_open(shm, ptemp, &st) gives a store usable in
 *                 the parent right there (to replay into the table before
 *                 the children fork).
 *   child_init    gk_ap_shm_child_init(shm, p) attaches the mutex, then
 *                 gk_ap_shm_open(shm, p, &st) opens the child's store.
 *
 * A segment made for an earlier size stays mapped until the parent ends
 * (children of the previous generation may still use it); the mutex is
 * the same for both generations.
 *
 * The memcached store: gk_ap_store_mc_child_init in child_init makes the
 * child's store with a connection pool sized for every thread that may
 * run a request (gk_ap_store_threads_per_child).
 */
#ifndef GK_AP_STORE_H
#define GK_AP_STORE_H

#include "httpd.h"

#include "gk_store.h"
#include "gk_store_mc.h"

/* The length of the random key made with a segment's state. */
#define GK_AP_SHM_KEY_LEN 16

/* What lives as long as the parent process for one module's table. */
typedef struct gk_ap_shm_t gk_ap_shm_t;

/* pre_config: register the global mutex type (ap_mutex_register) with a
 * process-shared pthread mutex as its default: no system call when the
 * lock is free (fcntl, APR's usual default, makes two per operation). */
void gk_ap_store_register_mutex(apr_pool_t *pconf, const char *mutex_type);

/* How gk_ap_shm_make found the table. */
typedef enum {
    GK_AP_SHM_KEPT = 0, /* the same table as before the restart */
    GK_AP_SHM_NEW,      /* made empty: the first start of this parent */
    GK_AP_SHM_RESIZED   /* made empty: the size changed (*prev: the old) */
} gk_ap_shm_fresh_e;

/* post_config (second pass): find in s->process->pool, under the userdata
 * key `name` (a string constant: it is kept, not copied, and must be the
 * module's own, e.g. "gk-auth-revocation-state"), the state of the
 * module's table, or make it (the mutex of
 * mutex_type, registered in pre_config, and a random key), then make a
 * new empty segment of nslots slots when there is none or its size is not
 * nslots. APR_SUCCESS with *out and *fresh (and *prev, the previous
 * number of slots for GK_AP_SHM_RESIZED, else 0; prev may be NULL); or an
 * error from APR (the mutex, the segment, the random key): the module
 * logs it naming its directive and refuses to start. */
apr_status_t gk_ap_shm_make(server_rec *s, const char *name,
                            const char *mutex_type, apr_uint32_t nslots,
                            gk_ap_shm_t **out, gk_ap_shm_fresh_e *fresh,
                            apr_uint32_t *prev);

/* The random key made once per life of the parent with the state
 * (GK_AP_SHM_KEY_LEN bytes), for a module that needs a secret shared by
 * its children and kept across restarts. */
const unsigned char *gk_ap_shm_key(const gk_ap_shm_t *shm);

/* The number of slots of the current segment. */
apr_uint32_t gk_ap_shm_slots(const gk_ap_shm_t *shm);

/* child_init: attach the global mutex in this child (before
 * gk_ap_shm_open). APR_SUCCESS or APR's error. */
apr_status_t gk_ap_shm_child_init(gk_ap_shm_t *shm, apr_pool_t *p);

/* A store over the current segment, made in p, locked by the state's
 * global mutex: in the parent from post_config on (after gk_ap_shm_make),
 * in a child after gk_ap_shm_child_init. APR_SUCCESS and *out, or
 * gk_store_shm_open's error. */
apr_status_t gk_ap_shm_open(gk_ap_shm_t *shm, apr_pool_t *p,
                            gk_store_t **out);

/* The threads of a child that may run requests: the MPM's, and
 * mod_http2's workers when it is loaded (they run the requests of h2
 * streams): the size of a per-child memcached pool that never waits. */
int gk_ap_store_threads_per_child(void);

/* child_init: the child's memcached store (gk_store_mc_create with conf,
 * timeout_ms and a pool of gk_ap_store_threads_per_child connections),
 * its events sent to events(baton) when events is not NULL. APR_SUCCESS
 * and *out; else the error, *out NULL and *err (p's memory, or NULL). */
apr_status_t gk_ap_store_mc_child_init(apr_pool_t *p, const char *conf,
                                       int timeout_ms,
                                       gk_store_mc_event_fn events,
                                       void *baton, gk_store_t **out,
                                       const char **err);

#endif
