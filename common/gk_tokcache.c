#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_thread_mutex.h>

#include "gk_tokcache.h"

/* Two-way set-associative: a token may sit in one of two slots.
 *
 * Admission: a token is stored the second time it is offered, not the
 * first. The first offer only writes a 32-bit fingerprint of the token
 * into "seen" (direct-mapped, as many entries as slots); a later offer
 * that finds it there stores the token. Tokens used once (a flood of new
 * tokens, or a client that gets a new token per request) then never evict
 * the tokens in use, and cost no copy, no insertion and no eviction; a
 * token in use costs one more verification per process before it is
 * cached. */
struct gk_tokcache_t {
    apr_thread_mutex_t *mutex;
    gk_verified_t **slots;
    apr_uint32_t *seen;         /* fingerprints of tokens offered once */
    apr_uint32_t mask;          /* slots - 1; slots is a power of two */
    unsigned lifetime;
    apr_uint64_t seed;
    gk_tokcache_stats_t stats;
};

static apr_status_t cache_cleanup(void *data)
{
    gk_tokcache_t *c = data;
    apr_uint32_t i;

    for (i = 0; i <= c->mask; i++) {
        gk_verified_unref(c->slots[i]);
        c->slots[i] = NULL;
    }
    return APR_SUCCESS;
}

gk_tokcache_t *gk_tokcache_create(apr_pool_t *p, unsigned entries,
                                  unsigned lifetime)
{
    gk_tokcache_t *c = apr_pcalloc(p, sizeof(*c));
    apr_uint32_t n = 2;

    if (!entries) {
        return c; /* disabled: no slots */
    }
    while (n < entries && n < (1u << 24)) {
        n <<= 1;
    }
    c->mask = n - 1;
    c->lifetime = lifetime;
    c->slots = apr_pcalloc(p, sizeof(gk_verified_t *) * n);
    c->seen = apr_pcalloc(p, sizeof(apr_uint32_t) * n);
    if (apr_generate_random_bytes((unsigned char *)&c->seed,
                                  sizeof(c->seed)) != APR_SUCCESS) {
        c->seed = (apr_uint64_t)(apr_uintptr_t)c ^ (apr_uint64_t)apr_time_now();
    }
    apr_thread_mutex_create(&c->mutex, APR_THREAD_MUTEX_DEFAULT, p);
    apr_pool_cleanup_register(p, c, cache_cleanup, apr_pool_cleanup_null);
    return c;
}

/* A fast keyed hash that only places tokens: entries are compared in
 * full, so it need not resist collisions. It reads the length and the
 * last 32 bytes, which end the signature and so differ between tokens
 * (only verified tokens are stored: nobody else chooses them). */
#define HASHED_TAIL 32

static apr_uint64_t token_hash(apr_uint64_t seed, const char *s, apr_size_t n)
{
    apr_uint64_t h = seed ^ (n * 0x9e3779b97f4a7c15ULL), w;

    if (n > HASHED_TAIL) {
        s += n - HASHED_TAIL;
        n = HASHED_TAIL;
    }
    while (n >= 8) {
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
        s += 8;
        n -= 8;
    }
    w = 0;
    memcpy(&w, s, n);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 29;
    return h;
}

static int entry_is(const gk_verified_t *v, apr_uint64_t h, const char *t,
                    apr_size_t len, const void *ring, apr_uint32_t gen)
{
    return v && v->hash == h && v->token_len == len && v->ring == ring
           && v->gen == gen && !memcmp(v->token, t, len);
}

gk_verified_t *gk_tokcache_get(gk_tokcache_t *c, const char *token,
                               apr_size_t len, const void *ring,
                               apr_uint32_t gen, apr_int64_t now)
{
    apr_uint64_t h;
    apr_uint32_t i;
    gk_verified_t *v = NULL;

    if (!c->slots) {
        return NULL;
    }
    h = token_hash(c->seed, token, len);
    i = (apr_uint32_t)h & c->mask;
    apr_thread_mutex_lock(c->mutex);
    if (entry_is(c->slots[i], h, token, len, ring, gen)) {
        v = c->slots[i];
    }
    else if (entry_is(c->slots[i ^ 1], h, token, len, ring, gen)) {
        v = c->slots[i ^ 1];
        i ^= 1;
    }
    if (v && v->cached_until <= now) {
        c->slots[i] = NULL;
        gk_verified_unref(v);
        v = NULL;
    }
    if (v) {
        gk_verified_ref(v);
        c->stats.hits++;
    }
    else {
        c->stats.misses++;
    }
    apr_thread_mutex_unlock(c->mutex);
    return v;
}

/* Is this the token's second offer? The doorkeeper slot comes from the
 * hash's high half, the fingerprint from its low half (never 0, which
 * marks an empty slot). Called with the mutex held. */
static int admit(gk_tokcache_t *c, apr_uint64_t h)
{
    apr_uint32_t *seen = &c->seen[(apr_uint32_t)(h >> 32) & c->mask];
    apr_uint32_t fp = (apr_uint32_t)h | 1u;

    if (*seen == fp) {
        *seen = 0;
        return 1;
    }
    *seen = fp;
    c->stats.deferred++;
    return 0;
}

gk_tokcache_put_e gk_tokcache_put(gk_tokcache_t *c, gk_verified_t *v,
                                  const char *token, apr_size_t len,
                                  const void *ring, apr_uint32_t gen,
                                  apr_int64_t now)
{
    apr_int64_t until;
    apr_uint64_t h;
    apr_uint32_t i;
    gk_verified_t *old;
    int ok;

    if (!c->slots || v->token) {
        return GK_TOKCACHE_NOT_STORED; /* disabled, or already cached */
    }
    until = now + c->lifetime;
    if (v->has_exp && v->exp < until) {
        until = v->exp;
    }
    if (until <= now) {
        return GK_TOKCACHE_NOT_STORED;
    }
    h = token_hash(c->seed, token, len);
    apr_thread_mutex_lock(c->mutex);
    ok = admit(c, h);
    apr_thread_mutex_unlock(c->mutex);
    if (!ok) {
        return GK_TOKCACHE_DEFERRED;
    }
    v->token = malloc(len);
    if (!v->token) {
        return GK_TOKCACHE_NOT_STORED;
    }
    memcpy(v->token, token, len);
    v->token_len = len;
    v->hash = h;
    v->ring = ring;
    v->gen = gen;
    v->cached_until = until;
    gk_verified_ref(v);

    i = (apr_uint32_t)h & c->mask;
    apr_thread_mutex_lock(c->mutex);
    /* Fill an empty slot of the pair, else evict the one expiring first. */
    if (c->slots[i] && (!c->slots[i ^ 1]
                        || c->slots[i ^ 1]->cached_until
                               < c->slots[i]->cached_until)) {
        i ^= 1;
    }
    old = c->slots[i];
    c->slots[i] = v;
    c->stats.stores++;
    apr_thread_mutex_unlock(c->mutex);
    gk_verified_unref(old);
    return GK_TOKCACHE_STORED;
}

void gk_tokcache_stats(gk_tokcache_t *c, gk_tokcache_stats_t *st)
{
    if (c->mutex) {
        apr_thread_mutex_lock(c->mutex);
    }
    *st = c->stats;
    if (c->mutex) {
        apr_thread_mutex_unlock(c->mutex);
    }
}
