/*
 * The store: one interface for every counter and set the suite shares
 * between processes (the counters of mod_gk_ratelimit now, revoked token
 * IDs later). Two implementations sit behind it: the shared-memory table
 * of one host (gk_store_shm.h) and, later, memcached for several front
 * ends. A caller holds a gk_store_t and calls the gk_store_* functions
 * below; it never needs to know which one it has.
 *
 * Keys are binary-safe byte strings of 1..GK_STORE_KEY_MAX bytes
 * (memcached's limit). memcached's text protocol also refuses spaces and
 * control characters, and an implementation may refuse longer keys than
 * this (the shm store takes at most GK_STORE_SHM_KEY_MAX bytes), so
 * callers pass gk_rate counter keys ("gkrl:<16 hex>:<window start>", at
 * most 42 bytes, printable ASCII without space) or keys of the same
 * shape: short, printable, already hashed, never raw client input.
 *
 * Values are unsigned 64-bit numbers (memcached's incr/decr counters).
 *
 * Time: every operation takes `now`, the caller's clock in Unix seconds
 * (there is no clock inside a store), and every write takes `expires`, the
 * absolute Unix second at which the entry is gone:
 *
 *   an entry is live while now < expires, and gone from now >= expires on
 *   (memcached's rule: an item whose exptime <= current time is expired);
 *   expires == GK_STORE_NO_EXPIRY (0) means never gone;
 *   any other expires must be > now and > 0, else GK_STORE_ERROR.
 *
 * An entry that is gone is exactly as if it had never been written. The
 * memcached store converts `expires` into memcached's exptime (relative
 * seconds up to 30 days, an absolute time beyond).
 *
 * The operations, with memcached's binary incr/decr-with-initial and add
 * semantics, so that the memcached store maps each onto one command:
 *
 *   incr   absent (or gone): the entry is created with value = initial
 *          (delta is NOT added) and the given expiry; *value = initial.
 *          Present: value += delta (modulo 2^64, as memcached wraps);
 *          its expiry is unchanged (the one set at creation stays);
 *          *value = the new value. So a request counter passes
 *          initial = delta = 1 and reads the count including itself.
 *   decr   the same, but present: value -= delta, saturating at 0
 *          (never wraps below 0, as memcached).
 *   add    absent (or gone): created with value and expiry, GK_STORE_OK.
 *          Present: GK_STORE_EXISTS, nothing changed.
 *   get    present: GK_STORE_OK and *value; absent: GK_STORE_NOT_FOUND.
 *   get_multi  one call for n keys: results[i] is GK_STORE_OK (values[i]
 *          set), GK_STORE_NOT_FOUND or GK_STORE_ERROR (a refused key);
 *          the return value is GK_STORE_OK when the lookups ran, or the
 *          store's failure (GK_STORE_ERROR, GK_STORE_TIMEOUT,
 *          GK_STORE_DOWN) with every results[i] set to it.
 *   set    create or replace: afterwards the entry holds value and
 *          expires, whatever was there (memcached's set).
 *
 * Groups (memcached's "by key" commands). set_in and get_multi_in take a
 * group: a byte string (1..GK_STORE_KEY_MAX bytes, NULL for none) that
 * chooses where the entries live instead of each entry's own key, so
 * that entries written in one group are all found by ONE get_multi_in of
 * that group: with memcached, on the one server the group's hash picks
 * (memcached_set_by_key, memcached_mget_by_key: one round trip); with
 * shm, groups change nothing (one table, one lock). An entry is written
 * and read in the same group: the key alone still names it (the group is
 * not part of it), so keys must be unique across groups.
 *
 *   set_in        set, in a group.
 *   get_multi_in  get_multi, every key looked up in the group's place.
 *   set_all       set the key in the place of EVERY group: with
 *                 memcached, on every server (so a get_multi_in of any
 *                 group finds it: what a sentinel needs); with shm, once.
 *                 GK_STORE_OK only when every server took it; otherwise
 *                 the first failure (the servers that answered keep it).
 *
 * Each operation is atomic with respect to every other operation on the
 * same store, from any thread or process sharing it: N concurrent incr
 * of one key give N distinct values (get_multi: each lookup is atomic,
 * the set of them is not, as with memcached). On any result other than
 * GK_STORE_OK, *value is left untouched.
 */
#ifndef GK_STORE_H
#define GK_STORE_H

#include "gk.h"

/* The longest key any store accepts (memcached's limit, bytes). */
#define GK_STORE_KEY_MAX 250

/* `expires` of an entry that never expires. */
#define GK_STORE_NO_EXPIRY 0

/* The result of a store operation. */
typedef enum {
    GK_STORE_OK = 0,    /* done */
    GK_STORE_NOT_FOUND, /* get: no live entry */
    GK_STORE_EXISTS,    /* add: a live entry is already there */
    GK_STORE_FULL,      /* no room for a new entry; nothing was evicted */
    GK_STORE_TIMEOUT,   /* the store did not answer in time */
    GK_STORE_DOWN,      /* the store cannot be reached */
    GK_STORE_ERROR      /* a refused argument (key, expiry) or a failure
                         * of the store itself (its lock, memory) */
} gk_store_result_e;

typedef struct gk_store_t gk_store_t;

/* The operations of one implementation (see the top of this file). */
typedef struct {
    const char *name; /* "shm", "memcached": for logs */
    gk_store_result_e (*incr)(gk_store_t *s, const void *key, apr_size_t klen,
                              apr_uint64_t delta, apr_uint64_t initial,
                              apr_int64_t expires, apr_int64_t now,
                              apr_uint64_t *value);
    gk_store_result_e (*decr)(gk_store_t *s, const void *key, apr_size_t klen,
                              apr_uint64_t delta, apr_uint64_t initial,
                              apr_int64_t expires, apr_int64_t now,
                              apr_uint64_t *value);
    gk_store_result_e (*add)(gk_store_t *s, const void *key, apr_size_t klen,
                             apr_uint64_t value, apr_int64_t expires,
                             apr_int64_t now);
    gk_store_result_e (*get)(gk_store_t *s, const void *key, apr_size_t klen,
                             apr_int64_t now, apr_uint64_t *value);
    gk_store_result_e (*get_multi)(gk_store_t *s, const void *const *keys,
                                   const apr_size_t *klens, apr_size_t n,
                                   apr_int64_t now, apr_uint64_t *values,
                                   gk_store_result_e *results);
    gk_store_result_e (*set_in)(gk_store_t *s, const void *group,
                                apr_size_t glen, const void *key,
                                apr_size_t klen, apr_uint64_t value,
                                apr_int64_t expires, apr_int64_t now);
    gk_store_result_e (*get_multi_in)(gk_store_t *s, const void *group,
                                      apr_size_t glen,
                                      const void *const *keys,
                                      const apr_size_t *klens, apr_size_t n,
                                      apr_int64_t now, apr_uint64_t *values,
                                      gk_store_result_e *results);
    gk_store_result_e (*set_all)(gk_store_t *s, const void *key,
                                 apr_size_t klen, apr_uint64_t value,
                                 apr_int64_t expires, apr_int64_t now);
} gk_store_ops_t;

/* A store: its implementation's operations and state. Made by the
 * implementation's open function; lives as long as the pool given to it.
 * Safe from any thread. */
struct gk_store_t {
    const gk_store_ops_t *ops;
    void *impl;
};

/* The name of a result, "OK", "NOT_FOUND", ... (for logs; "?" for a value
 * outside the enum). */
static inline const char *gk_store_result_name(gk_store_result_e r)
{
    switch (r) {
    case GK_STORE_OK:
        return "OK";
    case GK_STORE_NOT_FOUND:
        return "NOT_FOUND";
    case GK_STORE_EXISTS:
        return "EXISTS";
    case GK_STORE_FULL:
        return "FULL";
    case GK_STORE_TIMEOUT:
        return "TIMEOUT";
    case GK_STORE_DOWN:
        return "DOWN";
    case GK_STORE_ERROR:
        return "ERROR";
    }
    return "?";
}

/* Create-or-increment (see the top of this file). */
static inline gk_store_result_e gk_store_incr(
    gk_store_t *s, const void *key, apr_size_t klen, apr_uint64_t delta,
    apr_uint64_t initial, apr_int64_t expires, apr_int64_t now,
    apr_uint64_t *value)
{
    return s->ops->incr(s, key, klen, delta, initial, expires, now, value);
}

/* Create-or-decrement, saturating at 0. */
static inline gk_store_result_e gk_store_decr(
    gk_store_t *s, const void *key, apr_size_t klen, apr_uint64_t delta,
    apr_uint64_t initial, apr_int64_t expires, apr_int64_t now,
    apr_uint64_t *value)
{
    return s->ops->decr(s, key, klen, delta, initial, expires, now, value);
}

/* Create when absent; GK_STORE_EXISTS when present. */
static inline gk_store_result_e gk_store_add(gk_store_t *s, const void *key,
                                             apr_size_t klen,
                                             apr_uint64_t value,
                                             apr_int64_t expires,
                                             apr_int64_t now)
{
    return s->ops->add(s, key, klen, value, expires, now);
}

/* The value of a live entry. */
static inline gk_store_result_e gk_store_get(gk_store_t *s, const void *key,
                                             apr_size_t klen, apr_int64_t now,
                                             apr_uint64_t *value)
{
    return s->ops->get(s, key, klen, now, value);
}

/* The values of n entries in one call. */
static inline gk_store_result_e gk_store_get_multi(
    gk_store_t *s, const void *const *keys, const apr_size_t *klens,
    apr_size_t n, apr_int64_t now, apr_uint64_t *values,
    gk_store_result_e *results)
{
    return s->ops->get_multi(s, keys, klens, n, now, values, results);
}

/* Create or replace. */
static inline gk_store_result_e gk_store_set(gk_store_t *s, const void *key,
                                             apr_size_t klen,
                                             apr_uint64_t value,
                                             apr_int64_t expires,
                                             apr_int64_t now)
{
    return s->ops->set_in(s, NULL, 0, key, klen, value, expires, now);
}

/* Create or replace, in a group (group NULL: none). */
static inline gk_store_result_e gk_store_set_in(
    gk_store_t *s, const void *group, apr_size_t glen, const void *key,
    apr_size_t klen, apr_uint64_t value, apr_int64_t expires,
    apr_int64_t now)
{
    return s->ops->set_in(s, group, glen, key, klen, value, expires, now);
}

/* The values of n entries of one group in one call (one round trip). */
static inline gk_store_result_e gk_store_get_multi_in(
    gk_store_t *s, const void *group, apr_size_t glen,
    const void *const *keys, const apr_size_t *klens, apr_size_t n,
    apr_int64_t now, apr_uint64_t *values, gk_store_result_e *results)
{
    return s->ops->get_multi_in(s, group, glen, keys, klens, n, now, values,
                                results);
}

/* Set a key where every group's get_multi_in finds it. */
static inline gk_store_result_e gk_store_set_all(gk_store_t *s,
                                                 const void *key,
                                                 apr_size_t klen,
                                                 apr_uint64_t value,
                                                 apr_int64_t expires,
                                                 apr_int64_t now)
{
    return s->ops->set_all(s, key, klen, value, expires, now);
}

#endif
