/*
 * JWK Sets (RFC 7517 section 5): parsing a document into keys, and a JWKS
 * file that is re-read when it changes.
 */
#ifndef GK_JWKS_H
#define GK_JWKS_H

#include <apr_file_info.h>
#include <apr_thread_mutex.h>

#include "gk.h"
#include "gk_alg.h"

/* Parse a JWKS document into keys (appended to keys, gk_key_t *);
 * default_alg applies to keys without "alg". One bad key refuses all. */
const char *gk_jwks_parse(apr_pool_t *p, const char *json, apr_size_t len,
                          gk_alg_e default_alg, apr_array_header_t *keys);

/*
 * A JWKS file that is re-read when it changes. Requests take a reference
 * to the current generation of keys and drop it when done, so a reload
 * swaps keys atomically for requests in flight.
 */
typedef struct gk_keygen_t {
    apr_pool_t *pool;               /* owns the keys */
    apr_array_header_t *keys;       /* gk_key_t * */
    apr_uint32_t refs;              /* guarded by the set's mutex */
    apr_uint32_t gen;
} gk_keygen_t;

typedef struct gk_jwks_t {
    const char *path;
    gk_alg_e default_alg;
    apr_thread_mutex_t *mutex;
    gk_keygen_t *current;
    volatile apr_uint32_t gen;          /* current->gen, for lock-free reads */
    volatile apr_uint32_t next_check;   /* seconds; when to stat the file */
    apr_time_t mtime;
    apr_off_t size;
    apr_ino_t inode;
} gk_jwks_t;

/* How often (seconds) a process checks a JWKS file for changes. */
#define GK_JWKS_CHECK_INTERVAL 5

/* Load a JWKS file at startup; pconf's cleanup frees it. */
const char *gk_jwks_open(apr_pool_t *pconf, const char *path,
                         gk_alg_e default_alg, gk_jwks_t **out);
/* Re-read the file if it changed and the interval has passed. */
void gk_jwks_refresh(gk_jwks_t *set, apr_uint32_t now);
gk_keygen_t *gk_jwks_acquire(gk_jwks_t *set);
void gk_jwks_release(gk_jwks_t *set, gk_keygen_t *g);

#endif
