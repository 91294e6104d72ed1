/*
 * The shared-memory store (gk_store_shm.h).
 */
#include <string.h>

#include "gk_rand.h"
#include "gk_siphash.h"
#include "gk_store_shm.h"

/* The header at the start of a block: written by gk_store_shm_init, then
 * constant except for the counters, which change under the lock. */
typedef struct {
    apr_uint32_t magic;        /* GK_STORE_SHM_MAGIC, written last */
    apr_uint32_t version;      /* GK_STORE_SHM_LAYOUT */
    apr_uint32_t nslots;       /* slots in the table */
    apr_uint32_t probe;        /* probe length: min(nslots, PROBE_MAX) */
    apr_uint64_t size;         /* the block's size as given to init */
    unsigned char hashkey[16]; /* SipHash key placing the keys */
    apr_uint64_t used;         /* slots ever used (never empty again) */
    apr_uint64_t inserts;      /* entries created */
    apr_uint64_t reused;       /* entries created in an expired slot */
    apr_uint64_t full;         /* GK_STORE_FULL results */
    apr_int64_t horizon;       /* the latest stored expiry ever written
                                * (SLOT_NEVER for none), 0 at init:
                                * raised under the lock with an atomic
                                * store, read with one atomic load
                                * without it (gk_store_shm_horizon) */
} shm_header_t;

/* Bytes reserved for the header: the tags start there. */
#define HDR_SIZE 128

/* The header must fit in its reserved bytes. */
typedef char shm_header_fits[sizeof(shm_header_t) <= HDR_SIZE ? 1 : -1];

/* What a probe reads of a slot: the key's hash and the expiry, packed
 * apart from the records so that a probe touches few cache lines.
 * expires: SLOT_EMPTY (0) for a slot never used, SLOT_NEVER for an entry
 * without expiry, else the absolute second at which it is gone. */
typedef struct {
    apr_uint64_t hash;
    apr_int64_t expires;
} shm_tag_t;

/* The rest of a slot: the value and the whole key. */
typedef struct {
    apr_uint64_t value;
    apr_uint32_t klen;
    unsigned char key[GK_STORE_SHM_KEY_MAX];
    apr_uint32_t pad; /* explicit, so the record has no hidden padding */
} shm_rec_t;

#define SLOT_EMPTY ((apr_int64_t)0)
#define SLOT_NEVER ((apr_int64_t)APR_INT64_MAX)

/* No slot (indices are below GK_STORE_SHM_SLOTS_MAX). */
#define NONE ((apr_uint32_t)0xffffffffu)

/* Slots scanned per lock by gk_store_shm_stats. */
#define STATS_CHUNK 256

/* Keys hashed per lock by get_multi. */
#define MULTI_CHUNK 8

/* One opened store: the handle (its gk_store_t first) and where the table
 * lies in this process's mapping of the block. nslots, probe and hashkey
 * are copied from the header, which does not change after init. */
typedef struct {
    gk_store_t store;
    shm_header_t *hdr;
    shm_tag_t *tags;
    shm_rec_t *recs;
    apr_uint32_t nslots;
    apr_uint32_t probe;
    unsigned char hashkey[16];
    apr_uint64_t seed;          /* the first 8 bytes of hashkey */
    int prehashed;              /* keys are keyed hashes already */
    gk_store_shm_lock_t lock;
} shm_store_t;

static const gk_store_ops_t shm_ops;

/* The probe length of a table of nslots slots. */
static apr_uint32_t probe_len(apr_uint32_t nslots)
{
    return nslots < GK_STORE_SHM_PROBE_MAX ? nslots : GK_STORE_SHM_PROBE_MAX;
}

apr_size_t gk_store_shm_size(apr_uint32_t nslots)
{
    apr_uint64_t n;

    if (nslots == 0 || nslots > GK_STORE_SHM_SLOTS_MAX) {
        return 0;
    }
    n = HDR_SIZE
        + (apr_uint64_t)nslots * (sizeof(shm_tag_t) + sizeof(shm_rec_t));
    if (n > (apr_uint64_t)APR_SIZE_MAX) {
        return 0; /* a 32-bit host */
    }
    return (apr_size_t)n;
}

/* Is p aligned for the header's 64-bit fields? */
static int aligned(const void *p)
{
    return ((apr_uintptr_t)p & 7u) == 0;
}

apr_status_t gk_store_shm_init(void *mem, apr_size_t size, apr_uint32_t nslots)
{
    apr_size_t need = gk_store_shm_size(nslots);
    unsigned char key[16];
    shm_header_t *h = mem;

    if (!mem || !aligned(mem) || need == 0 || size < need) {
        return APR_EINVAL;
    }
    if (gk_rand_bytes(key, sizeof(key)) != APR_SUCCESS) {
        return APR_EGENERAL;
    }
    /* all tags zero: every slot empty; the magic zero until the end */
    memset(mem, 0, need);
    h->version = GK_STORE_SHM_LAYOUT;
    h->nslots = nslots;
    h->probe = probe_len(nslots);
    h->size = size;
    memcpy(h->hashkey, key, sizeof(key));
    memset(key, 0, sizeof(key));
    h->magic = GK_STORE_SHM_MAGIC;
    return APR_SUCCESS;
}

/* Does the header at mem describe a table this code can use (magic,
 * version, a valid nslots and its probe length, a size that holds it)? */
static int header_ok(const shm_header_t *h)
{
    apr_size_t need;

    if (h->magic != GK_STORE_SHM_MAGIC || h->version != GK_STORE_SHM_LAYOUT) {
        return 0;
    }
    need = gk_store_shm_size(h->nslots);
    return need != 0 && h->size >= need && h->probe == probe_len(h->nslots);
}

int gk_store_shm_check(const void *mem, apr_size_t size, apr_uint32_t nslots)
{
    const shm_header_t *h = mem;

    if (!mem || !aligned(mem) || size < HDR_SIZE) {
        return 0;
    }
    return header_ok(h) && h->nslots == nslots && h->size == size;
}

apr_status_t gk_store_shm_open(apr_pool_t *p, void *mem,
                               const gk_store_shm_lock_t *lock,
                               gk_store_t **out)
{
    shm_store_t *t;
    shm_header_t *h = mem;

    if (!mem || !aligned(mem) || !header_ok(h)) {
        return APR_EINVAL;
    }
    if (lock && (!lock->lock != !lock->unlock)) {
        return APR_EINVAL;
    }
    t = apr_pcalloc(p, sizeof(*t));
    t->store.ops = &shm_ops;
    t->store.impl = t;
    t->hdr = h;
    t->nslots = h->nslots;
    t->probe = h->probe;
    memcpy(t->hashkey, h->hashkey, sizeof(t->hashkey));
    memcpy(&t->seed, t->hashkey, sizeof(t->seed));
    t->tags = (shm_tag_t *)((char *)mem + HDR_SIZE);
    t->recs = (shm_rec_t *)(t->tags + t->nslots);
    if (lock) {
        t->lock = *lock;
    }
    *out = &t->store;
    return APR_SUCCESS;
}

/* Take the table's lock; 0 when it cannot be taken. */
static int table_lock(shm_store_t *t)
{
    return !t->lock.lock || t->lock.lock(t->lock.baton) == APR_SUCCESS;
}

/* Release the table's lock (its error cannot be helped: the operation is
 * done). */
static void table_unlock(shm_store_t *t)
{
    if (t->lock.unlock) {
        (void)t->lock.unlock(t->lock.baton);
    }
}

/* Is a key acceptable: 1..GK_STORE_SHM_KEY_MAX bytes? */
static int key_ok(const void *key, apr_size_t klen)
{
    return key && klen >= 1 && klen <= GK_STORE_SHM_KEY_MAX;
}

/* The stored form of expires, or SLOT_EMPTY when it is refused (not
 * GK_STORE_NO_EXPIRY and not after both 0 and now). */
static apr_int64_t stored_expiry(apr_int64_t expires, apr_int64_t now)
{
    if (expires == GK_STORE_NO_EXPIRY) {
        return SLOT_NEVER;
    }
    if (expires <= 0 || expires <= now) {
        return SLOT_EMPTY;
    }
    return expires;
}

/* The hash of a key under the table's key: SipHash-2-4; or, for a store
 * told its keys are keyed hashes already (gk_store_shm_set_prehashed),
 * their first 8 bytes mixed with the table's seed (a bijective
 * finaliser: uniform keys give uniform slots). */
static apr_uint64_t key_hash(const shm_store_t *t, const void *key,
                             apr_size_t klen)
{
    if (t->prehashed && klen >= 8) {
        apr_uint64_t h;
        memcpy(&h, key, 8);
        h ^= t->seed;
        h ^= h >> 33;
        h *= APR_UINT64_C(0xff51afd7ed558ccd);
        h ^= h >> 33;
        h *= APR_UINT64_C(0xc4ceb9fe1a85ec53);
        h ^= h >> 33;
        return h;
    }
    return gk_siphash24(t->hashkey, key, klen);
}

void gk_store_shm_set_prehashed(gk_store_t *s, int on)
{
    if (s && s->ops == &shm_ops) {
        ((shm_store_t *)s->impl)->prehashed = on;
    }
}

/* The first slot of the probe of hash h: its high 32 bits scaled to
 * 0..nslots-1 (no division). */
static apr_uint32_t home_slot(apr_uint64_t h, apr_uint32_t nslots)
{
    return (apr_uint32_t)(((h >> 32) * (apr_uint64_t)nslots) >> 32);
}

/* Look for key (hash h) along its probe, lock held. Returns the slot that
 * holds the key, live or expired (a key never sits in two slots), or NONE;
 * then *reuse is the first empty or expired slot on the probe, or NONE
 * when the probe holds only live entries of other keys. The probe stops
 * at the first empty slot: a key is always inserted at or before it, and
 * a slot never becomes empty again. */
static apr_uint32_t probe_find(const shm_store_t *t, apr_uint64_t h,
                               const void *key, apr_size_t klen,
                               apr_int64_t now, apr_uint32_t *reuse)
{
    apr_uint32_t i, j = home_slot(h, t->nslots);

    *reuse = NONE;
    for (i = 0; i < t->probe; i++) {
        const shm_tag_t *tg = &t->tags[j];

        if (tg->expires == SLOT_EMPTY) {
            if (*reuse == NONE) {
                *reuse = j;
            }
            return NONE;
        }
        if (tg->hash == h && t->recs[j].klen == klen
            && memcmp(t->recs[j].key, key, klen) == 0) {
            return j;
        }
        if (*reuse == NONE && tg->expires <= now) {
            *reuse = j;
        }
        if (++j == t->nslots) {
            j = 0;
        }
    }
    return NONE;
}

/* Is the entry in slot j live at now? */
static int slot_live(const shm_store_t *t, apr_uint32_t j, apr_int64_t now)
{
    return t->tags[j].expires > now;
}

/* Raise the table's horizon to exp (a stored expiry) if it is later, lock
 * held (so no two writers race); one atomic store, for readers without
 * the lock. Called before the slot is written: whoever can find the entry
 * also finds the horizon covering it. */
static void raise_horizon(shm_store_t *t, apr_int64_t exp)
{
    if (exp > t->hdr->horizon) {
        __atomic_store_n(&t->hdr->horizon, exp, __ATOMIC_RELEASE);
    }
}

apr_int64_t gk_store_shm_horizon(gk_store_t *s)
{
    const shm_store_t *t;

    if (s->ops != &shm_ops) {
        return APR_INT64_MAX; /* not a table: never skip a lookup */
    }
    t = s->impl;
    return __atomic_load_n(&t->hdr->horizon, __ATOMIC_ACQUIRE);
}

/* Write a new entry into slot j (empty, expired, or the key's own expired
 * slot), lock held, and count it. */
static void slot_put(shm_store_t *t, apr_uint32_t j, apr_uint64_t h,
                     const void *key, apr_size_t klen, apr_uint64_t value,
                     apr_int64_t expires)
{
    shm_rec_t *r = &t->recs[j];

    raise_horizon(t, expires);
    if (t->tags[j].expires == SLOT_EMPTY) {
        t->hdr->used++;
    }
    else {
        t->hdr->reused++;
    }
    t->hdr->inserts++;
    r->value = value;
    r->klen = (apr_uint32_t)klen;
    memcpy(r->key, key, klen);
    memset(r->key + klen, 0, sizeof(r->key) - klen);
    t->tags[j].hash = h;
    t->tags[j].expires = expires;
}

/* The slot of key, under the lock: hash it, take the lock, probe. 1 with
 * the lock held (*h, *j: its slot or NONE, *reuse: the first expired or
 * empty slot on the way or NONE), 0 for a refused key or a lock that
 * failed (not held). */
static int find_locked(shm_store_t *t, const void *key, apr_size_t klen,
                       apr_int64_t now, apr_uint64_t *h, apr_uint32_t *j,
                       apr_uint32_t *reuse)
{
    if (!key_ok(key, klen)) {
        return 0;
    }
    *h = key_hash(t, key, klen);
    if (!table_lock(t)) {
        return 0;
    }
    *j = probe_find(t, *h, key, klen, now, reuse);
    return 1;
}

/* A new entry where find_locked found room (its own expired slot j, else
 * reuse), or GK_STORE_FULL (counted) when the probe had none. */
static gk_store_result_e insert(shm_store_t *t, apr_uint32_t j,
                                apr_uint32_t reuse, apr_uint64_t h,
                                const void *key, apr_size_t klen,
                                apr_uint64_t value, apr_int64_t exp)
{
    if (j == NONE && reuse == NONE) {
        t->hdr->full++;
        return GK_STORE_FULL;
    }
    slot_put(t, j != NONE ? j : reuse, h, key, klen, value, exp);
    return GK_STORE_OK;
}

/* incr (down = 0) and decr (down = 1): see gk_store.h. */
static gk_store_result_e shm_count(gk_store_t *s, const void *key,
                                   apr_size_t klen, apr_uint64_t delta,
                                   apr_uint64_t initial, apr_int64_t expires,
                                   apr_int64_t now, apr_uint64_t *value,
                                   int down)
{
    shm_store_t *t = s->impl;
    apr_int64_t exp = stored_expiry(expires, now);
    apr_uint64_t h, v;
    apr_uint32_t j, reuse;
    gk_store_result_e rc = GK_STORE_OK;

    if (exp == SLOT_EMPTY
        || !find_locked(t, key, klen, now, &h, &j, &reuse)) {
        return GK_STORE_ERROR;
    }
    if (j != NONE && slot_live(t, j, now)) {
        v = t->recs[j].value;
        if (down) {
            v = v > delta ? v - delta : 0;
        }
        else {
            v += delta; /* modulo 2^64, as memcached */
        }
        t->recs[j].value = v;
    }
    else {
        v = initial;
        rc = insert(t, j, reuse, h, key, klen, v, exp);
    }
    table_unlock(t);
    if (rc == GK_STORE_OK) {
        *value = v;
    }
    return rc;
}

/* ops->incr */
static gk_store_result_e shm_incr(gk_store_t *s, const void *key,
                                  apr_size_t klen, apr_uint64_t delta,
                                  apr_uint64_t initial, apr_int64_t expires,
                                  apr_int64_t now, apr_uint64_t *value)
{
    return shm_count(s, key, klen, delta, initial, expires, now, value, 0);
}

/* ops->decr */
static gk_store_result_e shm_decr(gk_store_t *s, const void *key,
                                  apr_size_t klen, apr_uint64_t delta,
                                  apr_uint64_t initial, apr_int64_t expires,
                                  apr_int64_t now, apr_uint64_t *value)
{
    return shm_count(s, key, klen, delta, initial, expires, now, value, 1);
}

/* add (replace = 0) and set (replace = 1): a live entry of the key gives
 * GK_STORE_EXISTS to add and is replaced in place by set (value and
 * expiry); otherwise the key is inserted (its own expired slot, or the
 * first expired or empty one on its probe), GK_STORE_FULL when the probe
 * holds only live entries of other keys. */
static gk_store_result_e shm_write(gk_store_t *s, const void *key,
                                   apr_size_t klen, apr_uint64_t value,
                                   apr_int64_t expires, apr_int64_t now,
                                   int replace)
{
    shm_store_t *t = s->impl;
    apr_int64_t exp = stored_expiry(expires, now);
    apr_uint64_t h;
    apr_uint32_t j, reuse;
    gk_store_result_e rc = GK_STORE_OK;

    if (exp == SLOT_EMPTY
        || !find_locked(t, key, klen, now, &h, &j, &reuse)) {
        return GK_STORE_ERROR;
    }
    if (j != NONE && slot_live(t, j, now)) {
        if (replace) {
            raise_horizon(t, exp);
            t->recs[j].value = value;
            t->tags[j].expires = exp;
        }
        else {
            rc = GK_STORE_EXISTS;
        }
    }
    else {
        rc = insert(t, j, reuse, h, key, klen, value, exp);
    }
    table_unlock(t);
    return rc;
}

/* ops->add */
static gk_store_result_e shm_add(gk_store_t *s, const void *key,
                                 apr_size_t klen, apr_uint64_t value,
                                 apr_int64_t expires, apr_int64_t now)
{
    return shm_write(s, key, klen, value, expires, now, 0);
}

/* ops->get */
static gk_store_result_e shm_get(gk_store_t *s, const void *key,
                                 apr_size_t klen, apr_int64_t now,
                                 apr_uint64_t *value)
{
    shm_store_t *t = s->impl;
    apr_uint64_t h, v = 0;
    apr_uint32_t j, reuse;
    gk_store_result_e rc = GK_STORE_NOT_FOUND;

    if (!find_locked(t, key, klen, now, &h, &j, &reuse)) {
        return GK_STORE_ERROR;
    }
    if (j != NONE && slot_live(t, j, now)) {
        v = t->recs[j].value;
        rc = GK_STORE_OK;
    }
    table_unlock(t);
    if (rc == GK_STORE_OK) {
        *value = v;
    }
    return rc;
}

/* ops->get_multi: the keys in chunks of MULTI_CHUNK, hashed before the
 * lock and looked up under one lock per chunk (each lookup is atomic,
 * the whole set is not, as with memcached). */
static gk_store_result_e shm_get_multi(gk_store_t *s, const void *const *keys,
                                       const apr_size_t *klens, apr_size_t n,
                                       apr_int64_t now, apr_uint64_t *values,
                                       gk_store_result_e *results)
{
    shm_store_t *t = s->impl;
    apr_uint64_t hs[MULTI_CHUNK];
    apr_size_t base, i, m;
    apr_uint32_t j, reuse;

    for (base = 0; base < n; base += m) {
        m = n - base < MULTI_CHUNK ? n - base : MULTI_CHUNK;
        for (i = 0; i < m; i++) {
            if (key_ok(keys[base + i], klens[base + i])) {
                hs[i] = key_hash(t, keys[base + i], klens[base + i]);
                results[base + i] = GK_STORE_NOT_FOUND;
            }
            else {
                results[base + i] = GK_STORE_ERROR;
            }
        }
        if (!table_lock(t)) {
            for (i = 0; i < n; i++) {
                results[i] = GK_STORE_ERROR;
            }
            return GK_STORE_ERROR;
        }
        for (i = 0; i < m; i++) {
            if (results[base + i] == GK_STORE_ERROR) {
                continue;
            }
            j = probe_find(t, hs[i], keys[base + i], klens[base + i], now,
                           &reuse);
            if (j != NONE && slot_live(t, j, now)) {
                values[base + i] = t->recs[j].value;
                results[base + i] = GK_STORE_OK;
            }
        }
        table_unlock(t);
    }
    return GK_STORE_OK;
}

/* ops->set_in: set (one table: the group changes nothing). */
static gk_store_result_e shm_set_in(gk_store_t *s, const void *group,
                                    apr_size_t glen, const void *key,
                                    apr_size_t klen, apr_uint64_t value,
                                    apr_int64_t expires, apr_int64_t now)
{
    return shm_write(s, key, klen, value, expires, now, 1);
}

/* ops->get_multi_in: get_multi (one table: the group changes nothing). */
static gk_store_result_e shm_get_multi_in(gk_store_t *s, const void *group,
                                          apr_size_t glen,
                                          const void *const *keys,
                                          const apr_size_t *klens,
                                          apr_size_t n, apr_int64_t now,
                                          apr_uint64_t *values,
                                          gk_store_result_e *results)
{
    return shm_get_multi(s, keys, klens, n, now, values, results);
}

/* ops->set_all: set (one table is every group's place). */
static gk_store_result_e shm_set_all(gk_store_t *s, const void *key,
                                     apr_size_t klen, apr_uint64_t value,
                                     apr_int64_t expires, apr_int64_t now)
{
    return shm_write(s, key, klen, value, expires, now, 1);
}

/* The operations of the shm store. */
static const gk_store_ops_t shm_ops = {
    "shm",  shm_incr,   shm_decr,         shm_add,    shm_get,
    shm_get_multi, shm_set_in, shm_get_multi_in, shm_set_all,
};

apr_status_t gk_store_shm_stats(gk_store_t *s, apr_int64_t now,
                                gk_store_shm_stats_t *st)
{
    shm_store_t *t;
    apr_uint32_t i, end, live = 0;
    apr_status_t rv;

    if (!s || s->ops != &shm_ops) {
        return APR_EINVAL;
    }
    t = s->impl;
    memset(st, 0, sizeof(*st));
    st->nslots = t->nslots;
    for (i = 0; i < t->nslots; i = end) {
        end = t->nslots - i < STATS_CHUNK ? t->nslots : i + STATS_CHUNK;
        if (t->lock.lock
            && (rv = t->lock.lock(t->lock.baton)) != APR_SUCCESS) {
            return rv;
        }
        if (i == 0) {
            st->used = (apr_uint32_t)t->hdr->used;
            st->inserts = t->hdr->inserts;
            st->reused = t->hdr->reused;
            st->full = t->hdr->full;
        }
        for (; i < end; i++) {
            if (t->tags[i].expires != SLOT_EMPTY && t->tags[i].expires > now) {
                live++;
            }
        }
        table_unlock(t);
    }
    st->live = live;
    return APR_SUCCESS;
}
