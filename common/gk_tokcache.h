/*
 * A bounded per-process cache of verified tokens.
 *
 * An entry is keyed by the token bytes (compared in full on every hit, so
 * a hash collision can never turn another token into a cached one) and by
 * the key ring that verified it, with the ring's generation: a token
 * verified by one location's keys is never a hit for another's, and a JWKS
 * reload invalidates what the old keys verified. An entry lives at most
 * the configured lifetime and never past the token's "exp"; it is stored
 * the second time the process verifies it (see gk_tokcache_put). Claims that
 * depend on the location are re-checked on every hit by the caller.
 *
 * Thread-safe; created per process (child_init).
 */
#ifndef GK_TOKCACHE_H
#define GK_TOKCACHE_H

#include "gk.h"
#include "gk_jwt.h"

typedef struct gk_tokcache_t gk_tokcache_t;

/* entries: 0 disables the cache (every call then misses). */
gk_tokcache_t *gk_tokcache_create(apr_pool_t *p, unsigned entries,
                                  unsigned lifetime);

/* A hit returns the record with one more reference for the caller. */
gk_verified_t *gk_tokcache_get(gk_tokcache_t *c, const char *token,
                               apr_size_t len, const void *ring,
                               apr_uint32_t gen, apr_int64_t now);

typedef enum {
    GK_TOKCACHE_STORED,         /* the cache took its own reference to v */
    GK_TOKCACHE_DEFERRED,       /* first offer of this token: remembered,
                                 * stored when it is offered again */
    GK_TOKCACHE_NOT_STORED      /* disabled, expiring now, already cached,
                                 * or out of memory */
} gk_tokcache_put_e;

/* Offer a verified token to the cache. A token is stored on its second
 * offer (the first only marks it as seen), so tokens used once never
 * evict the ones in use. */
gk_tokcache_put_e gk_tokcache_put(gk_tokcache_t *c, gk_verified_t *v,
                                  const char *token, apr_size_t len,
                                  const void *ring, apr_uint32_t gen,
                                  apr_int64_t now);

typedef struct {
    apr_uint64_t hits, misses, stores;
    apr_uint64_t deferred;      /* first offers, not stored */
} gk_tokcache_stats_t;

void gk_tokcache_stats(gk_tokcache_t *c, gk_tokcache_stats_t *st);

#endif
