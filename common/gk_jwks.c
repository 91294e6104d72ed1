#include <apr_atomic.h>
#include <apr_file_info.h>

#include "gk_file.h"
#include "gk_jwks.h"
#include "gk_keys.h"
#include "gk_log.h"

const char *gk_jwks_parse(apr_pool_t *p, const char *json, apr_size_t len,
                          gk_alg_e default_alg, apr_array_header_t *keys)
{
    json_error_t jerr;
    json_t *root, *arr, *jwk;
    const char *err = NULL;
    size_t i;

    root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        return apr_psprintf(p, "not valid JSON (line %d: %s)", jerr.line,
                            jerr.text);
    }
    arr = json_object_get(root, "keys");
    if (!json_is_array(arr)) {
        json_decref(root);
        return "no \"keys\" array";
    }
    if (json_array_size(arr) == 0) {
        json_decref(root);
        return "the \"keys\" array is empty";
    }
    json_array_foreach(arr, i, jwk) {
        gk_key_t *k;
        if ((err = gk_key_from_jwk(p, jwk, default_alg, &k))) {
            err = apr_psprintf(p, "key %d: %s", (int)i, err);
            break;
        }
        APR_ARRAY_PUSH(keys, gk_key_t *) = k;
    }
    json_decref(root);
    return err;
}

/* ---- the reloadable set ------------------------------------------------- */

static const char *keygen_load(gk_jwks_t *set, apr_finfo_t *fi,
                               gk_keygen_t **out, apr_pool_t *errp)
{
    apr_pool_t *pool;
    gk_keygen_t *g;
    char *data;
    apr_size_t len;
    const char *err;

    /* An unmanaged pool: it lives exactly as long as its generation, and
     * may be created and destroyed from any thread. */
    if (apr_pool_create_unmanaged_ex(&pool, NULL, NULL) != APR_SUCCESS) {
        return "out of memory";
    }
    g = apr_pcalloc(pool, sizeof(*g));
    g->pool = pool;
    g->keys = apr_array_make(pool, 4, sizeof(gk_key_t *));
    err = gk_file_read(pool, set->path, &data, &len);
    if (!err) {
        err = gk_jwks_parse(pool, data, len, set->default_alg, g->keys);
    }
    if (err) {
        err = apr_pstrdup(errp, err);
        apr_pool_destroy(pool);
        return err;
    }
    set->mtime = fi->mtime;
    set->size = fi->size;
    set->inode = fi->inode;
    *out = g;
    return NULL;
}

static apr_status_t jwks_cleanup(void *data)
{
    gk_jwks_t *set = data;

    if (set->current) {
        apr_pool_destroy(set->current->pool);
        set->current = NULL;
    }
    return APR_SUCCESS;
}

const char *gk_jwks_open(apr_pool_t *pconf, const char *path,
                         gk_alg_e default_alg, gk_jwks_t **out)
{
    gk_jwks_t *set = apr_pcalloc(pconf, sizeof(*set));
    apr_finfo_t fi;
    const char *err;
    apr_status_t rv;

    set->path = apr_pstrdup(pconf, path);
    set->default_alg = default_alg;
    rv = apr_stat(&fi, path, APR_FINFO_MTIME | APR_FINFO_SIZE
                  | APR_FINFO_INODE, pconf);
    if (rv != APR_SUCCESS && rv != APR_INCOMPLETE) {
        return apr_psprintf(pconf, "cannot stat %s", path);
    }
    if ((err = keygen_load(set, &fi, &set->current, pconf))) {
        return err;
    }
    set->current->refs = 1; /* the set's own reference */
    if (apr_thread_mutex_create(&set->mutex, APR_THREAD_MUTEX_DEFAULT, pconf)
        != APR_SUCCESS) {
        apr_pool_destroy(set->current->pool);
        return "cannot create a mutex";
    }
    apr_pool_cleanup_register(pconf, set, jwks_cleanup,
                              apr_pool_cleanup_null);
    *out = set;
    return NULL;
}

static void keygen_unref(gk_keygen_t *g)
{
    /* called with the mutex held */
    if (--g->refs == 0) {
        apr_pool_destroy(g->pool);
    }
}

void gk_jwks_refresh(gk_jwks_t *set, apr_uint32_t now)
{
    apr_uint32_t due = apr_atomic_read32(&set->next_check);
    apr_finfo_t fi;
    apr_pool_t *tmp;
    gk_keygen_t *g, *old;
    const char *err;
    apr_status_t rv;

    if (now < due
        || apr_atomic_cas32(&set->next_check, now + GK_JWKS_CHECK_INTERVAL,
                            due) != due) {
        return; /* not yet, or another thread is checking */
    }
    if (apr_pool_create_unmanaged_ex(&tmp, NULL, NULL) != APR_SUCCESS) {
        return;
    }
    rv = apr_stat(&fi, set->path, APR_FINFO_MTIME | APR_FINFO_SIZE
                  | APR_FINFO_INODE, tmp);
    if (rv != APR_SUCCESS && rv != APR_INCOMPLETE) {
        gk_log(GK_LOG_ERR, GKLOGNO(00001) "JWKS %s: cannot stat the file; "
               "keeping the keys loaded before", set->path);
    }
    else if (fi.mtime != set->mtime || fi.size != set->size
             || fi.inode != set->inode) {
        if ((err = keygen_load(set, &fi, &g, tmp))) {
            gk_log(GK_LOG_ERR, GKLOGNO(00002) "JWKS %s: reload failed (%s); "
                   "keeping the keys loaded before", set->path, err);
            /* try again only when the file changes once more */
            set->mtime = fi.mtime;
            set->size = fi.size;
            set->inode = fi.inode;
        }
        else {
            apr_thread_mutex_lock(set->mutex);
            old = set->current;
            g->refs = 1;
            g->gen = old->gen + 1;
            set->current = g;
            apr_atomic_set32(&set->gen, g->gen);
            keygen_unref(old);
            apr_thread_mutex_unlock(set->mutex);
            gk_log(GK_LOG_NOTICE, GKLOGNO(00003) "JWKS %s: reloaded, %d keys",
                   set->path, g->keys->nelts);
        }
    }
    apr_pool_destroy(tmp);
}

gk_keygen_t *gk_jwks_acquire(gk_jwks_t *set)
{
    gk_keygen_t *g;

    apr_thread_mutex_lock(set->mutex);
    g = set->current;
    g->refs++;
    apr_thread_mutex_unlock(set->mutex);
    return g;
}

void gk_jwks_release(gk_jwks_t *set, gk_keygen_t *g)
{
    apr_thread_mutex_lock(set->mutex);
    keygen_unref(g);
    apr_thread_mutex_unlock(set->mutex);
}
