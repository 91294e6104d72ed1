/*
 * The shared-memory store: a gk_store_t (gk_store.h) over a fixed-size
 * hash table in a memory block the caller provides, so that a module can
 * place it in an apr_shm segment made once per process life and every
 * child, every thread and every generation of children after a graceful
 * restart works on the same table.
 *
 * Layout of the block (version GK_STORE_SHM_LAYOUT; gk_store_shm_size):
 *
 *   header   magic, layout version, nslots, probe length, the block's
 *            size, a random 128-bit SipHash key made by
 *            gk_store_shm_init, counters for gk_store_shm_stats and
 *            the horizon (gk_store_shm_horizon)
 *   tags     nslots x { 64-bit hash, expires }      16 bytes each
 *   records  nslots x { value, key length, key }    80 bytes each
 *
 * so about 96 bytes a slot: 100,000 slots take 9.6 MB. Offsets only, no
 * pointer is stored in the block: it may be mapped at a different address
 * in each process.
 *
 * The table: open addressing with linear probing from the slot the key's
 * SipHash picks, over at most GK_STORE_SHM_PROBE_MAX slots (or nslots if
 * fewer). A key is stored in full and compared in full, so a hash
 * collision never merges two keys. A slot is empty (never used since
 * init), or holds a key, live or expired. Nothing is ever deleted: an
 * expired slot is reused by the next insert whose probe passes it, and a
 * probe goes on past expired slots and stops at the first empty one. An
 * insert first looks along the whole probe for the key itself (reusing
 * its own slot if it has expired, so a key never sits in two slots), then
 * takes the first expired or empty slot on the way. When there is none,
 * the result is GK_STORE_FULL: a live entry is never evicted. Size the
 * table with headroom (a bounded linear probe starts refusing some keys
 * before every slot is live): at most about 70% live entries.
 *
 * Locking: one lock over the whole table, given as a pair of callbacks
 * (a module passes an apr_global_mutex_t, a unit test a thread mutex),
 * held only for one probe and its update (the hash is computed before).
 */
#ifndef GK_STORE_SHM_H
#define GK_STORE_SHM_H

#include "gk_store.h"

/* The longest key the shm store accepts (bytes); longer keys give
 * GK_STORE_ERROR. gk_rate counter keys take at most 42. */
#define GK_STORE_SHM_KEY_MAX 64

/* The longest probe sequence (slots). */
#define GK_STORE_SHM_PROBE_MAX 32

/* The most slots a table may have. */
#define GK_STORE_SHM_SLOTS_MAX (1u << 26)

/* The magic number and layout version in the header: a block written by
 * another layout is never read as a table. */
#define GK_STORE_SHM_MAGIC 0x474b5354u /* "GKST" */
#define GK_STORE_SHM_LAYOUT 2u

/* The lock over a table: lock(baton) and unlock(baton) return
 * APR_SUCCESS or an error. Both NULL: no lock (one thread only). The
 * struct is copied by gk_store_shm_open. */
typedef struct {
    apr_status_t (*lock)(void *baton);
    apr_status_t (*unlock)(void *baton);
    void *baton;
} gk_store_shm_lock_t;

/* Bytes a table of nslots slots takes (header included), or 0 when nslots
 * is 0 or more than GK_STORE_SHM_SLOTS_MAX. */
apr_size_t gk_store_shm_size(apr_uint32_t nslots);

/* Make a fresh table in mem (size bytes, at least gk_store_shm_size
 * (nslots), 8-byte aligned): writes the header with a new random hash key
 * and empties every slot; the magic is written last. Not atomic with
 * respect to users of the block: call it before any open (httpd: in
 * post_config, before the children start). APR_SUCCESS; APR_EINVAL for a
 * bad nslots, a size too small or a misaligned mem; APR_EGENERAL when no
 * random key could be made (nothing written then). */
apr_status_t gk_store_shm_init(void *mem, apr_size_t size,
                               apr_uint32_t nslots);

/* Does mem (size bytes) hold a table made by gk_store_shm_init with this
 * layout version, this nslots and this size? 1 or 0. A graceful restart
 * that finds 1 keeps the table and every count in it; on 0 (a full
 * restart, a changed size or layout, a corrupted header) the caller calls
 * gk_store_shm_init. */
int gk_store_shm_check(const void *mem, apr_size_t size, apr_uint32_t nslots);

/* A store over the table in mem, made in pool p (the handle, not the
 * table, lives in p), locking with lock (may be NULL: no lock). Several
 * stores may be opened over one block, in one process or in several
 * (each child its own); they then share every entry, and must share one
 * lock. APR_SUCCESS and *out; APR_EINVAL when mem does not hold a table
 * (bad magic, version or sizes: gk_store_shm_check the block first) or
 * only one of lock/unlock is given. */
apr_status_t gk_store_shm_open(apr_pool_t *p, void *mem,
                               const gk_store_shm_lock_t *lock,
                               gk_store_t **out);

/* Tell a store (from gk_store_shm_open, before threads use it) that its
 * keys of 8 bytes or more begin with a keyed hash that no client can
 * choose (gk_rate_counter_hash): their slots then come from those bytes
 * and the table's seed, without hashing the key again. Every process
 * opening the same table must say the same. Other keys are hashed as
 * usual. */
void gk_store_shm_set_prehashed(gk_store_t *s, int on);

/* The table's horizon: the latest `expires` of any entry ever written
 * into it since init (GK_STORE_NO_EXPIRY entries count as INT64_MAX), 0
 * when nothing was written. Every entry is gone at now >= horizon, so a
 * caller that finds now >= horizon may skip a lookup: the whole test is
 * ONE atomic load, no lock, no hash (what keeps an empty revocation list
 * free). Raised, never lowered, under the lock by every write. A store
 * that is not an shm store gives INT64_MAX (never skip). */
apr_int64_t gk_store_shm_horizon(gk_store_t *s);

/* Figures for logs. */
typedef struct {
    apr_uint32_t nslots;  /* slots in the table */
    apr_uint32_t used;    /* slots holding an entry, live or expired */
    apr_uint32_t live;    /* slots holding a live entry at now */
    apr_uint64_t inserts; /* entries created since init */
    apr_uint64_t reused;  /* ...of which in an expired slot */
    apr_uint64_t full;    /* GK_STORE_FULL results since init */
} gk_store_shm_stats_t;

/* Fill *st for the table behind s (a store from gk_store_shm_open) at
 * now. Counting live entries reads every slot; the lock is taken for 256
 * slots at a time, so a request never waits for the whole scan, and the
 * figures are a near snapshot, not an atomic one. APR_SUCCESS, APR_EINVAL
 * when s is not an shm store, or the lock's error. */
apr_status_t gk_store_shm_stats(gk_store_t *s, apr_int64_t now,
                                gk_store_shm_stats_t *st);

#endif
