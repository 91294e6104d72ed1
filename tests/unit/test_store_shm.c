/* The store interface (gk_store.h) over the shared-memory table
 * (gk_store_shm): incr/decr/add/get/get_multi semantics, expiry at the
 * boundary second with the injected clock, a full table, keys, the
 * header check of a graceful restart, and exact counts from threads,
 * from several handles and mappings, and from forked processes; set
 * (replace in place, a full table), get_multi_in, and the horizon. */
#include <unistd.h>

#include <apr_portable.h>
#include <apr_proc_mutex.h>
#include <apr_shm.h>
#include <apr_thread_mutex.h>
#include <apr_thread_proc.h>

#include "gk_rate.h"
#include "gk_store_shm.h"
#include "gk_test_core.h"

/* ---- helpers ------------------------------------------------------------ */

/* A fresh table of nslots slots in pool memory; *mem and *size receive
 * the block. */
static void *new_block(apr_uint32_t nslots, apr_size_t *size)
{
    apr_size_t n = gk_store_shm_size(nslots);
    void *mem;

    ck_assert_uint_gt(n, 0);
    mem = apr_palloc(tp, n);
    memset(mem, 0xa5, n); /* init must not rely on zeroed memory */
    ck_assert_int_eq(gk_store_shm_init(mem, n, nslots), APR_SUCCESS);
    if (size) {
        *size = n;
    }
    return mem;
}

/* A store over mem with lock (NULL: none). */
static gk_store_t *open_store(void *mem, const gk_store_shm_lock_t *lock)
{
    gk_store_t *s = NULL;

    ck_assert_int_eq(gk_store_shm_open(tp, mem, lock, &s), APR_SUCCESS);
    ck_assert_ptr_nonnull(s);
    return s;
}

/* A fresh table and one store over it. */
static gk_store_t *new_store(apr_uint32_t nslots)
{
    return open_store(new_block(nslots, NULL), NULL);
}

/* incr of a NUL-terminated key, asserting the result. */
#define INCR(s, k, d, init, exp, now, want_rc, want_v)                        \
    do {                                                                      \
        apr_uint64_t v_ = 0xdeadbeefULL;                                      \
        gk_store_result_e rc_ = gk_store_incr((s), (k), strlen(k), (d),       \
                                              (init), (exp), (now), &v_);     \
        ck_assert_msg(rc_ == (want_rc), "incr %s: %s", (k),                   \
                      gk_store_result_name(rc_));                             \
        if (rc_ == GK_STORE_OK) {                                             \
            ck_assert_uint_eq(v_, (want_v));                                  \
        }                                                                     \
        else {                                                                \
            ck_assert_uint_eq(v_, 0xdeadbeefULL);                             \
        }                                                                     \
    } while (0)

/* get of a NUL-terminated key, asserting the result. */
#define GET(s, k, now, want_rc, want_v)                                       \
    do {                                                                      \
        apr_uint64_t v_ = 0xdeadbeefULL;                                      \
        gk_store_result_e rc_ = gk_store_get((s), (k), strlen(k), (now),      \
                                             &v_);                            \
        ck_assert_msg(rc_ == (want_rc), "get %s: %s", (k),                    \
                      gk_store_result_name(rc_));                             \
        if (rc_ == GK_STORE_OK) {                                             \
            ck_assert_uint_eq(v_, (want_v));                                  \
        }                                                                     \
        else {                                                                \
            ck_assert_uint_eq(v_, 0xdeadbeefULL);                             \
        }                                                                     \
    } while (0)

/* A lock that counts and may be told to fail; holds no real lock. */
typedef struct {
    int locks, unlocks, held, fail;
} count_lock_t;

static apr_status_t count_lock(void *baton)
{
    count_lock_t *c = baton;
    if (c->fail) {
        return APR_EGENERAL;
    }
    ck_assert_int_eq(c->held, 0);
    c->held = 1;
    c->locks++;
    return APR_SUCCESS;
}

static apr_status_t count_unlock(void *baton)
{
    count_lock_t *c = baton;
    ck_assert_int_eq(c->held, 1);
    c->held = 0;
    c->unlocks++;
    return APR_SUCCESS;
}

/* The lock callbacks over an apr_thread_mutex_t. */
static apr_status_t thread_lock(void *baton)
{
    return apr_thread_mutex_lock(baton);
}

static apr_status_t thread_unlock(void *baton)
{
    return apr_thread_mutex_unlock(baton);
}

/* The lock callbacks over an apr_proc_mutex_t. */
static apr_status_t proc_lock(void *baton)
{
    return apr_proc_mutex_lock(baton);
}

static apr_status_t proc_unlock(void *baton)
{
    return apr_proc_mutex_unlock(baton);
}

/* ---- results, sizes ----------------------------------------------------- */

START_TEST(result_names)
{
    ck_assert_str_eq(gk_store_result_name(GK_STORE_OK), "OK");
    ck_assert_str_eq(gk_store_result_name(GK_STORE_NOT_FOUND), "NOT_FOUND");
    ck_assert_str_eq(gk_store_result_name(GK_STORE_EXISTS), "EXISTS");
    ck_assert_str_eq(gk_store_result_name(GK_STORE_FULL), "FULL");
    ck_assert_str_eq(gk_store_result_name(GK_STORE_TIMEOUT), "TIMEOUT");
    ck_assert_str_eq(gk_store_result_name(GK_STORE_DOWN), "DOWN");
    ck_assert_str_eq(gk_store_result_name(GK_STORE_ERROR), "ERROR");
    ck_assert_str_eq(gk_store_result_name((gk_store_result_e)99), "?");
}
END_TEST

START_TEST(sizes)
{
    apr_size_t one = gk_store_shm_size(1), two = gk_store_shm_size(2);

    ck_assert_uint_eq(gk_store_shm_size(0), 0);
    ck_assert_uint_eq(gk_store_shm_size(GK_STORE_SHM_SLOTS_MAX + 1), 0);
    ck_assert_uint_gt(one, 0);
    ck_assert_uint_eq(two - one, 96); /* 16 bytes of tag, 80 of record */
    ck_assert_uint_eq(gk_store_shm_size(100000), one - 96 + 9600000);
    ck_assert_uint_gt(gk_store_shm_size(GK_STORE_SHM_SLOTS_MAX), 0);
    ck_assert_str_eq(new_store(1)->ops->name, "shm");
}
END_TEST

/* ---- init, check, open -------------------------------------------------- */

START_TEST(init_refuses)
{
    apr_size_t n = gk_store_shm_size(16);
    char *mem = apr_palloc(tp, n + 8);

    ck_assert_int_eq(gk_store_shm_init(NULL, n, 16), APR_EINVAL);
    ck_assert_int_eq(gk_store_shm_init(mem, n, 0), APR_EINVAL);
    ck_assert_int_eq(gk_store_shm_init(mem, n - 1, 16), APR_EINVAL);
    ck_assert_int_eq(gk_store_shm_init(mem + 4, n, 16), APR_EINVAL);
    ck_assert_int_eq(gk_store_shm_init(mem, n, GK_STORE_SHM_SLOTS_MAX + 1),
                     APR_EINVAL);
    /* a larger block is fine, and its size is what check compares */
    ck_assert_int_eq(gk_store_shm_init(mem, n + 8, 16), APR_SUCCESS);
    ck_assert_int_eq(gk_store_shm_check(mem, n + 8, 16), 1);
    ck_assert_int_eq(gk_store_shm_check(mem, n, 16), 0);
}
END_TEST

START_TEST(check_and_open)
{
    apr_size_t n;
    char *mem = new_block(16, &n);
    gk_store_t *s;
    apr_uint32_t magic;

    ck_assert_int_eq(gk_store_shm_check(mem, n, 16), 1);
    ck_assert_int_eq(gk_store_shm_check(NULL, n, 16), 0);
    ck_assert_int_eq(gk_store_shm_check(mem, 4, 16), 0);
    /* a changed size: nslots or the block */
    ck_assert_int_eq(gk_store_shm_check(mem, n, 17), 0);
    ck_assert_int_eq(gk_store_shm_check(mem, n, 15), 0);
    ck_assert_int_eq(gk_store_shm_check(mem, gk_store_shm_size(17), 17), 0);
    ck_assert_int_eq(gk_store_shm_check(mem, n + 8, 16), 0);

    /* a corrupted magic: neither checked nor opened */
    memcpy(&magic, mem, 4);
    ck_assert_uint_eq(magic, GK_STORE_SHM_MAGIC);
    mem[0] ^= 1;
    ck_assert_int_eq(gk_store_shm_check(mem, n, 16), 0);
    ck_assert_int_eq(gk_store_shm_open(tp, mem, NULL, &s), APR_EINVAL);
    mem[0] ^= 1;
    ck_assert_int_eq(gk_store_shm_check(mem, n, 16), 1);

    /* another layout version (the second word) */
    mem[4] ^= 0x40;
    ck_assert_int_eq(gk_store_shm_check(mem, n, 16), 0);
    ck_assert_int_eq(gk_store_shm_open(tp, mem, NULL, &s), APR_EINVAL);
    mem[4] ^= 0x40;

    /* a block never initialised */
    ck_assert_int_eq(gk_store_shm_open(tp, apr_pcalloc(tp, n), NULL, &s),
                     APR_EINVAL);
    ck_assert_int_eq(gk_store_shm_check(apr_pcalloc(tp, n), n, 16), 0);
}
END_TEST

START_TEST(open_refuses_half_lock)
{
    void *mem = new_block(8, NULL);
    count_lock_t c = {0, 0, 0, 0};
    gk_store_shm_lock_t half1 = {count_lock, NULL, &c};
    gk_store_shm_lock_t half2 = {NULL, count_unlock, &c};
    gk_store_t *s = NULL;

    ck_assert_int_eq(gk_store_shm_open(tp, mem, &half1, &s), APR_EINVAL);
    ck_assert_int_eq(gk_store_shm_open(tp, mem, &half2, &s), APR_EINVAL);
    ck_assert_ptr_null(s);
    ck_assert_int_eq(gk_store_shm_open(tp, (char *)mem + 4, NULL, &s),
                     APR_EINVAL);
}
END_TEST

/* A graceful restart keeps the table (check says 1, a new handle sees the
 * counts); a full restart initialises it again and starts afresh. */
START_TEST(restart_keeps_or_resets)
{
    apr_size_t n;
    void *mem = new_block(64, &n);
    gk_store_t *a = open_store(mem, NULL), *b;

    INCR(a, "gkrl:k:1", 1, 1, TS + 60, TS, GK_STORE_OK, 1);
    INCR(a, "gkrl:k:1", 1, 1, TS + 60, TS, GK_STORE_OK, 2);

    ck_assert_int_eq(gk_store_shm_check(mem, n, 64), 1); /* graceful */
    b = open_store(mem, NULL);
    GET(b, "gkrl:k:1", TS + 1, GK_STORE_OK, 2);
    INCR(b, "gkrl:k:1", 1, 1, TS + 60, TS + 1, GK_STORE_OK, 3);

    ck_assert_int_eq(gk_store_shm_init(mem, n, 64), APR_SUCCESS); /* full */
    b = open_store(mem, NULL);
    GET(b, "gkrl:k:1", TS + 1, GK_STORE_NOT_FOUND, 0);
    INCR(b, "gkrl:k:1", 1, 1, TS + 60, TS + 1, GK_STORE_OK, 1);
}
END_TEST

/* ---- semantics ---------------------------------------------------------- */

START_TEST(incr_semantics)
{
    gk_store_t *s = new_store(64);

    /* absent: value = initial, delta not added */
    INCR(s, "a", 2, 5, TS + 10, TS, GK_STORE_OK, 5);
    /* present: += delta */
    INCR(s, "a", 2, 5, TS + 10, TS, GK_STORE_OK, 7);
    INCR(s, "a", 0, 5, TS + 10, TS + 1, GK_STORE_OK, 7);
    GET(s, "a", TS + 9, GK_STORE_OK, 7);
    /* a later incr does not move the expiry set at creation */
    INCR(s, "a", 1, 5, TS + 1000, TS + 9, GK_STORE_OK, 8);
    GET(s, "a", TS + 10, GK_STORE_NOT_FOUND, 0);
    /* expired: fresh, from initial */
    INCR(s, "a", 1, 1, TS + 20, TS + 10, GK_STORE_OK, 1);
    INCR(s, "a", 1, 1, TS + 20, TS + 10, GK_STORE_OK, 2);
    GET(s, "a", TS + 19, GK_STORE_OK, 2);
    GET(s, "a", TS + 20, GK_STORE_NOT_FOUND, 0);
    /* other keys are independent; keys are compared in full */
    INCR(s, "b", 1, 1, TS + 20, TS, GK_STORE_OK, 1);
    INCR(s, "ab", 1, 1, TS + 20, TS, GK_STORE_OK, 1);
    INCR(s, "b", 1, 1, TS + 20, TS, GK_STORE_OK, 2);
    GET(s, "ab", TS, GK_STORE_OK, 1);
}
END_TEST

START_TEST(incr_wraps)
{
    gk_store_t *s = new_store(8);

    INCR(s, "w", 1, APR_UINT64_MAX, TS + 10, TS, GK_STORE_OK, APR_UINT64_MAX);
    INCR(s, "w", 1, 0, TS + 10, TS, GK_STORE_OK, 0); /* modulo 2^64 */
    INCR(s, "w", 5, 0, TS + 10, TS, GK_STORE_OK, 5);
}
END_TEST

START_TEST(decr_saturates)
{
    gk_store_t *s = new_store(8);
    apr_uint64_t v = 0;

    /* absent: value = initial, delta not subtracted */
    ck_assert_int_eq(gk_store_decr(s, "d", 1, 3, 10, TS + 10, TS, &v),
                     GK_STORE_OK);
    ck_assert_uint_eq(v, 10);
    ck_assert_int_eq(gk_store_decr(s, "d", 1, 3, 10, TS + 10, TS, &v),
                     GK_STORE_OK);
    ck_assert_uint_eq(v, 7);
    ck_assert_int_eq(gk_store_decr(s, "d", 1, 100, 10, TS + 10, TS, &v),
                     GK_STORE_OK);
    ck_assert_uint_eq(v, 0);
    ck_assert_int_eq(gk_store_decr(s, "d", 1, 1, 10, TS + 10, TS, &v),
                     GK_STORE_OK);
    ck_assert_uint_eq(v, 0);
    INCR(s, "d", 4, 0, TS + 10, TS, GK_STORE_OK, 4);
    ck_assert_int_eq(gk_store_decr(s, "d", 1, 4, 10, TS + 10, TS, &v),
                     GK_STORE_OK);
    ck_assert_uint_eq(v, 0);
    /* expired: fresh from initial again */
    ck_assert_int_eq(gk_store_decr(s, "d", 1, 4, 10, TS + 20, TS + 10, &v),
                     GK_STORE_OK);
    ck_assert_uint_eq(v, 10);
}
END_TEST

START_TEST(add_exists)
{
    gk_store_t *s = new_store(8);

    ck_assert_int_eq(gk_store_add(s, "jti", 3, 42, TS + 10, TS), GK_STORE_OK);
    GET(s, "jti", TS, GK_STORE_OK, 42);
    ck_assert_int_eq(gk_store_add(s, "jti", 3, 7, TS + 100, TS + 9),
                     GK_STORE_EXISTS);
    GET(s, "jti", TS + 9, GK_STORE_OK, 42);        /* unchanged */
    GET(s, "jti", TS + 10, GK_STORE_NOT_FOUND, 0); /* expiry unchanged */
    /* gone: add succeeds again */
    ck_assert_int_eq(gk_store_add(s, "jti", 3, 7, TS + 100, TS + 10),
                     GK_STORE_OK);
    GET(s, "jti", TS + 10, GK_STORE_OK, 7);
    /* an added value is a counter like any other */
    INCR(s, "jti", 3, 0, TS + 100, TS + 11, GK_STORE_OK, 10);
    /* a counter is present for add */
    INCR(s, "c", 1, 1, TS + 100, TS, GK_STORE_OK, 1);
    ck_assert_int_eq(gk_store_add(s, "c", 1, 9, TS + 100, TS),
                     GK_STORE_EXISTS);
    GET(s, "c", TS, GK_STORE_OK, 1);
}
END_TEST

START_TEST(get_multi)
{
    gk_store_t *s = new_store(128);
    const void *keys[20];
    apr_size_t klens[20];
    apr_uint64_t values[20];
    gk_store_result_e results[20];
    char *names[20];
    int i;

    /* 20 keys (more than one chunk of 8): even ones present with value
     * i, i = 6 expired, i = 13 too long, i = 17 empty */
    for (i = 0; i < 20; i++) {
        names[i] = apr_psprintf(tp, "gkrl:%016x:%d", i * 7919, i);
        keys[i] = names[i];
        klens[i] = strlen(names[i]);
        values[i] = 0xdeadbeefULL;
        if (i % 2 == 0) {
            ck_assert_int_eq(gk_store_add(s, keys[i], klens[i],
                                          (apr_uint64_t)i,
                                          i == 6 ? TS + 1 : TS + 60, TS),
                             GK_STORE_OK);
        }
    }
    klens[13] = GK_STORE_SHM_KEY_MAX + 1;
    names[13] = apr_pcalloc(tp, klens[13]);
    keys[13] = names[13];
    klens[17] = 0;
    ck_assert_int_eq(gk_store_get_multi(s, keys, klens, 20, TS + 1, values,
                                        results),
                     GK_STORE_OK);
    for (i = 0; i < 20; i++) {
        if (i == 13 || i == 17) {
            ck_assert_int_eq(results[i], GK_STORE_ERROR);
            ck_assert_uint_eq(values[i], 0xdeadbeefULL);
        }
        else if (i % 2 == 0 && i != 6) {
            ck_assert_int_eq(results[i], GK_STORE_OK);
            ck_assert_uint_eq(values[i], (apr_uint64_t)i);
        }
        else {
            ck_assert_int_eq(results[i], GK_STORE_NOT_FOUND);
            ck_assert_uint_eq(values[i], 0xdeadbeefULL);
        }
    }
    /* none at all */
    ck_assert_int_eq(gk_store_get_multi(s, keys, klens, 0, TS, values,
                                        results),
                     GK_STORE_OK);
}
END_TEST

/* ---- expiry ------------------------------------------------------------- */

/* Live while now < expires, gone at expires: checked at the boundary
 * second for every operation. */
START_TEST(expiry_boundary)
{
    gk_store_t *s = new_store(32);
    apr_uint64_t v;

    INCR(s, "e", 1, 1, TS + 60, TS, GK_STORE_OK, 1);
    GET(s, "e", TS + 59, GK_STORE_OK, 1);
    INCR(s, "e", 1, 1, TS + 999, TS + 59, GK_STORE_OK, 2);
    GET(s, "e", TS + 60, GK_STORE_NOT_FOUND, 0);
    /* a reader with an older clock still sees it */
    GET(s, "e", TS + 59, GK_STORE_OK, 2);
    ck_assert_int_eq(gk_store_add(s, "e", 1, 5, TS + 120, TS + 59),
                     GK_STORE_EXISTS);
    ck_assert_int_eq(gk_store_add(s, "e", 1, 5, TS + 120, TS + 60),
                     GK_STORE_OK);
    GET(s, "e", TS + 119, GK_STORE_OK, 5);
    GET(s, "e", TS + 120, GK_STORE_NOT_FOUND, 0);
    ck_assert_int_eq(gk_store_decr(s, "e", 1, 1, 9, TS + 121, TS + 120, &v),
                     GK_STORE_OK);
    ck_assert_uint_eq(v, 9);
}
END_TEST

/* A rate-limit counter as mod_gk_ratelimit will keep it: the gk_rate key
 * and expiry, counted across the window and gone at its end + margin. */
START_TEST(expiry_rate_window)
{
    gk_store_t *s = new_store(32);
    unsigned char k16[16] = {1, 2,  3,  4,  5,  6,  7,  8,
                             9, 10, 11, 12, 13, 14, 15, 16};
    gk_rate_t r = {5, 60};
    char key[GK_RATE_COUNTER_KEY_SIZE];
    apr_int64_t now = TS + 17, ws = gk_rate_window_start(&r, now);
    apr_int64_t exp = gk_rate_expires(&r, now);
    apr_size_t kl = gk_rate_counter_key(key, sizeof(key), k16, "example.org",
                                        "login", GK_RATE_KEY_IP, NULL,
                                        "\x04\x0a\x00\x00\x01", 5,
                                        (apr_uint64_t)ws);
    apr_uint64_t v = 0;
    int i;

    ck_assert_uint_gt(kl, 0);
    ck_assert_uint_le(kl, GK_STORE_SHM_KEY_MAX);
    ck_assert_int_eq(exp, ws + 60 + GK_RATE_TTL_MARGIN);
    for (i = 1; i <= 7; i++) {
        ck_assert_int_eq(gk_store_incr(s, key, kl, 1, 1, exp, now, &v),
                         GK_STORE_OK);
        ck_assert_uint_eq(v, (apr_uint64_t)i);
    }
    ck_assert_int_eq(gk_store_get(s, key, kl, exp - 1, &v), GK_STORE_OK);
    ck_assert_uint_eq(v, 7);
    ck_assert_int_eq(gk_store_get(s, key, kl, exp, &v), GK_STORE_NOT_FOUND);
}
END_TEST

START_TEST(expiry_arguments)
{
    gk_store_t *s = new_store(8);
    apr_uint64_t v = 77;

    /* expires must be after now (and after 0), or GK_STORE_NO_EXPIRY */
    INCR(s, "x", 1, 1, TS, TS, GK_STORE_ERROR, 0);
    INCR(s, "x", 1, 1, TS - 1, TS, GK_STORE_ERROR, 0);
    INCR(s, "x", 1, 1, -5, -10, GK_STORE_ERROR, 0);
    ck_assert_int_eq(gk_store_decr(s, "x", 1, 1, 1, TS, TS, &v),
                     GK_STORE_ERROR);
    ck_assert_int_eq(gk_store_add(s, "x", 1, 1, TS, TS), GK_STORE_ERROR);
    ck_assert_uint_eq(v, 77);
    GET(s, "x", TS, GK_STORE_NOT_FOUND, 0);
    /* never expires */
    INCR(s, "x", 1, 1, GK_STORE_NO_EXPIRY, TS, GK_STORE_OK, 1);
    GET(s, "x", APR_INT64_MAX - 1, GK_STORE_OK, 1);
    ck_assert_int_eq(gk_store_add(s, "x", 1, 1, GK_STORE_NO_EXPIRY,
                                  APR_INT64_MAX - 1),
                     GK_STORE_EXISTS);
}
END_TEST

/* ---- keys --------------------------------------------------------------- */

START_TEST(key_lengths)
{
    gk_store_t *s = new_store(64);
    unsigned char k[GK_STORE_KEY_MAX + 1];
    apr_uint64_t v = 0;
    const void *keys[1] = {k};
    apr_size_t klens[1] = {GK_STORE_SHM_KEY_MAX + 1};
    gk_store_result_e res[1];

    memset(k, 'k', sizeof(k));
    /* the longest accepted key, and its prefixes are other keys */
    ck_assert_int_eq(gk_store_incr(s, k, GK_STORE_SHM_KEY_MAX, 1, 1, TS + 9,
                                   TS, &v),
                     GK_STORE_OK);
    ck_assert_int_eq(gk_store_incr(s, k, GK_STORE_SHM_KEY_MAX, 1, 1, TS + 9,
                                   TS, &v),
                     GK_STORE_OK);
    ck_assert_uint_eq(v, 2);
    ck_assert_int_eq(gk_store_get(s, k, GK_STORE_SHM_KEY_MAX - 1, TS, &v),
                     GK_STORE_NOT_FOUND);
    ck_assert_int_eq(gk_store_get(s, k, GK_STORE_SHM_KEY_MAX, TS, &v),
                     GK_STORE_OK);
    ck_assert_uint_eq(v, 2);
    /* longer, empty or NULL: refused by every operation */
    v = 99;
    ck_assert_int_eq(gk_store_incr(s, k, GK_STORE_SHM_KEY_MAX + 1, 1, 1,
                                   TS + 9, TS, &v),
                     GK_STORE_ERROR);
    ck_assert_int_eq(gk_store_decr(s, k, GK_STORE_KEY_MAX, 1, 1, TS + 9, TS,
                                   &v),
                     GK_STORE_ERROR);
    ck_assert_int_eq(gk_store_add(s, k, GK_STORE_KEY_MAX + 1, 1, TS + 9, TS),
                     GK_STORE_ERROR);
    ck_assert_int_eq(gk_store_get(s, k, GK_STORE_SHM_KEY_MAX + 1, TS, &v),
                     GK_STORE_ERROR);
    ck_assert_int_eq(gk_store_incr(s, k, 0, 1, 1, TS + 9, TS, &v),
                     GK_STORE_ERROR);
    ck_assert_int_eq(gk_store_incr(s, NULL, 4, 1, 1, TS + 9, TS, &v),
                     GK_STORE_ERROR);
    ck_assert_int_eq(gk_store_get_multi(s, keys, klens, 1, TS, &v, res),
                     GK_STORE_OK);
    ck_assert_int_eq(res[0], GK_STORE_ERROR);
    ck_assert_uint_eq(v, 99);

    /* binary-safe: NUL bytes are key bytes */
    ck_assert_int_eq(gk_store_add(s, "a\0b", 3, 1, TS + 9, TS), GK_STORE_OK);
    ck_assert_int_eq(gk_store_add(s, "a\0c", 3, 2, TS + 9, TS), GK_STORE_OK);
    ck_assert_int_eq(gk_store_add(s, "a", 1, 3, TS + 9, TS), GK_STORE_OK);
    ck_assert_int_eq(gk_store_add(s, "a\0", 2, 4, TS + 9, TS), GK_STORE_OK);
    ck_assert_int_eq(gk_store_get(s, "a\0b", 3, TS, &v), GK_STORE_OK);
    ck_assert_uint_eq(v, 1);
    ck_assert_int_eq(gk_store_get(s, "a\0", 2, TS, &v), GK_STORE_OK);
    ck_assert_uint_eq(v, 4);
}
END_TEST

/* ---- a full table ------------------------------------------------------- */

/* Keys that begin with a keyed hash (the rate limits' binary keys):
 * placed from their first 8 bytes, the same semantics; two handles that
 * both say so see the same counters; short keys are hashed as usual. */
START_TEST(prehashed_keys)
{
    apr_size_t size;
    void *mem = new_block(2048, &size);
    gk_store_t *a = open_store(mem, NULL), *b = open_store(mem, NULL);
    unsigned char key[16];
    apr_uint64_t v = 0, x = UINT64_C(0x9e3779b97f4a7c15);
    int i, round;

    gk_store_shm_set_prehashed(a, 1);
    gk_store_shm_set_prehashed(b, 1);
    for (round = 1; round <= 2; round++) {
        for (i = 0; i < 1000; i++) {
            apr_uint64_t h = x * (apr_uint64_t)(i + 1);
            h ^= h >> 29;
            memcpy(key, &h, 8);
            memset(key + 8, 0, 8);
            ck_assert_int_eq(gk_store_incr(round == 1 ? a : b, key,
                                           sizeof(key), 1, 1, TS + 60, TS,
                                           &v),
                             GK_STORE_OK);
            ck_assert_uint_eq(v, (apr_uint64_t)round);
        }
    }
    ck_assert_int_eq(gk_store_incr(a, "abc", 3, 1, 1, TS + 60, TS, &v),
                     GK_STORE_OK);
    ck_assert_int_eq(gk_store_incr(a, "abc", 3, 1, 1, TS + 60, TS, &v),
                     GK_STORE_OK);
    ck_assert_uint_eq(v, 2);
    /* another store type is left alone */
    gk_store_shm_set_prehashed(NULL, 1);
}
END_TEST

START_TEST(full_table)
{
    void *mem = new_block(4, NULL);
    gk_store_t *s = open_store(mem, NULL);
    gk_store_shm_stats_t st;

    /* 4 slots, one probe over all of them: two short-lived, two long */
    INCR(s, "s1", 1, 11, TS + 10, TS, GK_STORE_OK, 11);
    INCR(s, "s2", 1, 12, TS + 10, TS, GK_STORE_OK, 12);
    INCR(s, "l1", 1, 21, TS + 100, TS, GK_STORE_OK, 21);
    INCR(s, "l2", 1, 22, TS + 100, TS, GK_STORE_OK, 22);
    INCR(s, "n1", 1, 1, TS + 100, TS, GK_STORE_FULL, 0);
    ck_assert_int_eq(gk_store_add(s, "n1", 2, 1, TS + 100, TS + 9),
                     GK_STORE_FULL);
    GET(s, "n1", TS, GK_STORE_NOT_FOUND, 0);
    /* present keys still count in a full table */
    INCR(s, "s1", 1, 0, TS + 10, TS + 9, GK_STORE_OK, 12);
    ck_assert_int_eq(gk_store_shm_stats(s, TS + 9, &st), APR_SUCCESS);
    ck_assert_uint_eq(st.nslots, 4);
    ck_assert_uint_eq(st.used, 4);
    ck_assert_uint_eq(st.live, 4);
    ck_assert_uint_eq(st.inserts, 4);
    ck_assert_uint_eq(st.reused, 0);
    ck_assert_uint_eq(st.full, 2);

    /* s1 and s2 expire: their slots are taken, and only theirs */
    INCR(s, "n1", 1, 1, TS + 100, TS + 10, GK_STORE_OK, 1);
    ck_assert_int_eq(gk_store_add(s, "n2", 2, 2, TS + 100, TS + 10),
                     GK_STORE_OK);
    INCR(s, "n3", 1, 1, TS + 100, TS + 10, GK_STORE_FULL, 0);
    INCR(s, "s1", 1, 1, TS + 100, TS + 10, GK_STORE_FULL, 0);
    /* the live counters were never evicted */
    GET(s, "l1", TS + 10, GK_STORE_OK, 21);
    GET(s, "l2", TS + 10, GK_STORE_OK, 22);
    GET(s, "n1", TS + 10, GK_STORE_OK, 1);
    GET(s, "n2", TS + 10, GK_STORE_OK, 2);
    GET(s, "s1", TS + 10, GK_STORE_NOT_FOUND, 0);
    ck_assert_int_eq(gk_store_shm_stats(s, TS + 10, &st), APR_SUCCESS);
    ck_assert_uint_eq(st.used, 4);
    ck_assert_uint_eq(st.live, 4);
    ck_assert_uint_eq(st.inserts, 6);
    ck_assert_uint_eq(st.reused, 2);
    ck_assert_uint_eq(st.full, 4);
    ck_assert_int_eq(gk_store_shm_stats(s, TS + 100, &st), APR_SUCCESS);
    ck_assert_uint_eq(st.live, 0);
}
END_TEST

/* A key that expires is created again in its own slot: the table does not
 * grow, and the key never sits in two slots. */
START_TEST(expired_key_reuses_own_slot)
{
    gk_store_t *s = new_store(64);
    gk_store_shm_stats_t st;
    int i;

    for (i = 0; i < 10; i++) {
        INCR(s, "k", 1, 1, TS + 10 * (i + 1), TS + 10 * i, GK_STORE_OK, 1);
        INCR(s, "k", 1, 1, TS + 10 * (i + 1), TS + 10 * i, GK_STORE_OK, 2);
    }
    ck_assert_int_eq(gk_store_shm_stats(s, TS + 95, &st), APR_SUCCESS);
    ck_assert_uint_eq(st.used, 1);
    ck_assert_uint_eq(st.live, 1);
    ck_assert_uint_eq(st.inserts, 10);
    ck_assert_uint_eq(st.reused, 9);
}
END_TEST

/* Window after window of new counter keys in a small table: expired
 * slots are reused, so the table never fills although it has seen many
 * times more keys than slots. */
START_TEST(windows_reuse_expired)
{
    gk_store_t *s = new_store(256);
    gk_store_shm_stats_t st;
    char key[64];
    apr_uint64_t v;
    int w, i, full = 0;

    for (w = 0; w < 200; w++) {
        apr_int64_t now = TS + 60 * (apr_int64_t)w;
        for (i = 0; i < 100; i++) {
            int n = snprintf(key, sizeof(key), "gkrl:%016x:%lld", i,
                             (long long)now);
            gk_store_result_e rc = gk_store_incr(s, key, (apr_size_t)n, 1, 1,
                                                 now + 60, now, &v);
            full += rc == GK_STORE_FULL;
            ck_assert(rc == GK_STORE_OK || rc == GK_STORE_FULL);
        }
    }
    ck_assert_int_eq(gk_store_shm_stats(s, TS + 60 * 199, &st), APR_SUCCESS);
    /* at most 200 live of 256 during a window: a bounded probe may refuse
     * a few, never many */
    ck_assert_int_lt(full, 200);
    ck_assert_uint_le(st.used, 256);
    ck_assert_uint_eq(st.inserts + st.full, 20000);
    ck_assert_uint_eq(st.full, (apr_uint64_t)full);
    ck_assert_uint_ge(st.reused, 20000 - 256 - (apr_uint64_t)full);
}
END_TEST

/* ---- set, groups, the horizon -------------------------------------------- */

/* set creates or replaces (value and expiry) whatever is there: a live
 * entry of incr or add, an expired one; set_in and set_all are set. */
START_TEST(set_replace)
{
    gk_store_t *s = new_store(64);
    gk_store_shm_stats_t st;

    ck_assert_int_eq(gk_store_set(s, "a", 1, 7, TS + 10, TS), GK_STORE_OK);
    GET(s, "a", TS, GK_STORE_OK, 7);
    /* replaced in place: the value, and the expiry made shorter */
    ck_assert_int_eq(gk_store_set(s, "a", 1, 8, TS + 5, TS + 1),
                     GK_STORE_OK);
    GET(s, "a", TS + 4, GK_STORE_OK, 8);
    GET(s, "a", TS + 5, GK_STORE_NOT_FOUND, 0);
    /* ...or longer, and never gone */
    ck_assert_int_eq(gk_store_set(s, "a", 1, 9, GK_STORE_NO_EXPIRY, TS + 5),
                     GK_STORE_OK);
    GET(s, "a", APR_INT64_MAX - 1, GK_STORE_OK, 9);
    /* over a counter, which counts on from the value set */
    INCR(s, "c", 1, 5, TS + 10, TS, GK_STORE_OK, 5);
    ck_assert_int_eq(gk_store_set(s, "c", 1, 100, TS + 10, TS), GK_STORE_OK);
    INCR(s, "c", 1, 5, TS + 10, TS, GK_STORE_OK, 101);
    /* over an add; add then finds it */
    ck_assert_int_eq(gk_store_add(s, "d", 1, 1, TS + 10, TS), GK_STORE_OK);
    ck_assert_int_eq(gk_store_set_in(s, "grp", 3, "d", 1, 2, TS + 10, TS),
                     GK_STORE_OK);
    ck_assert_int_eq(gk_store_add(s, "d", 1, 3, TS + 10, TS),
                     GK_STORE_EXISTS);
    GET(s, "d", TS, GK_STORE_OK, 2);
    ck_assert_int_eq(gk_store_set_all(s, "d", 1, 4, TS + 10, TS),
                     GK_STORE_OK);
    GET(s, "d", TS, GK_STORE_OK, 4);
    /* three slots: a (set anew once, after it expired), c, d */
    ck_assert_int_eq(gk_store_shm_stats(s, TS, &st), APR_SUCCESS);
    ck_assert_uint_eq(st.used, 3);
    ck_assert_uint_eq(st.inserts, 4);
    ck_assert_uint_eq(st.reused, 1);
    /* refused arguments */
    ck_assert_int_eq(gk_store_set(s, "e", 1, 1, TS, TS), GK_STORE_ERROR);
    ck_assert_int_eq(gk_store_set(s, "e", 1, 1, -1, TS), GK_STORE_ERROR);
    ck_assert_int_eq(gk_store_set(s, "", 0, 1, TS + 1, TS), GK_STORE_ERROR);
    ck_assert_int_eq(gk_store_set_all(s, "e", GK_STORE_SHM_KEY_MAX + 1, 1,
                                      TS + 1, TS),
                     GK_STORE_ERROR);
    GET(s, "e", TS, GK_STORE_NOT_FOUND, 0);
    /* an expired entry is set anew in its own slot */
    ck_assert_int_eq(gk_store_set(s, "a", 1, 1, TS + 99, TS + 10),
                     GK_STORE_OK);
    ck_assert_int_eq(gk_store_set(s, "c", 1, 1, TS + 30, TS + 20),
                     GK_STORE_OK);
    GET(s, "c", TS + 20, GK_STORE_OK, 1);
    GET(s, "a", TS + 20, GK_STORE_OK, 1); /* a never expiring: replaced */
    ck_assert_int_eq(gk_store_shm_stats(s, TS + 20, &st), APR_SUCCESS);
    ck_assert_uint_eq(st.used, 3);
    ck_assert_uint_eq(st.inserts, 5);
    ck_assert_uint_eq(st.reused, 2);
}
END_TEST

/* A full table: set replaces a live key in place, refuses a new key with
 * FULL and evicts nothing; once an entry expires its slot is set. */
START_TEST(full_table_set)
{
    gk_store_t *s = new_store(4);
    gk_store_shm_stats_t st;

    ck_assert_int_eq(gk_store_set(s, "k1", 2, 1, TS + 10, TS), GK_STORE_OK);
    ck_assert_int_eq(gk_store_set(s, "k2", 2, 2, TS + 100, TS), GK_STORE_OK);
    ck_assert_int_eq(gk_store_set(s, "k3", 2, 3, GK_STORE_NO_EXPIRY, TS),
                     GK_STORE_OK);
    ck_assert_int_eq(gk_store_set_all(s, "k4", 2, 4, TS + 100, TS),
                     GK_STORE_OK);
    ck_assert_int_eq(gk_store_set(s, "k5", 2, 5, TS + 100, TS),
                     GK_STORE_FULL);
    ck_assert_int_eq(gk_store_set_in(s, "g", 1, "k5", 2, 5, TS + 100, TS),
                     GK_STORE_FULL);
    ck_assert_int_eq(gk_store_set(s, "k1", 2, 11, TS + 10, TS + 1),
                     GK_STORE_OK);
    GET(s, "k1", TS + 1, GK_STORE_OK, 11);
    GET(s, "k2", TS + 1, GK_STORE_OK, 2);
    GET(s, "k3", TS + 1, GK_STORE_OK, 3);
    GET(s, "k4", TS + 1, GK_STORE_OK, 4);
    GET(s, "k5", TS + 1, GK_STORE_NOT_FOUND, 0);
    ck_assert_int_eq(gk_store_shm_stats(s, TS + 1, &st), APR_SUCCESS);
    ck_assert_uint_eq(st.live, 4);
    ck_assert_uint_eq(st.full, 2);
    /* k1 expires: k5 takes its slot, the others stay */
    ck_assert_int_eq(gk_store_set(s, "k5", 2, 5, TS + 100, TS + 10),
                     GK_STORE_OK);
    GET(s, "k1", TS + 10, GK_STORE_NOT_FOUND, 0);
    GET(s, "k2", TS + 10, GK_STORE_OK, 2);
    GET(s, "k3", TS + 10, GK_STORE_OK, 3);
    GET(s, "k4", TS + 10, GK_STORE_OK, 4);
    GET(s, "k5", TS + 10, GK_STORE_OK, 5);
}
END_TEST

/* The horizon: 0 for a fresh table, raised by every kind of write that
 * stores an expiry (incr and decr when they create, add, set, set_in,
 * set_all), never lowered (not by a shorter write, not by a replace with
 * a shorter expiry, not by an incr of an existing key), INT64_MAX for an
 * entry without expiry; not raised by refused or FULL writes; the same
 * for every store over the block, and kept by a graceful restart's
 * check, reset by init. */
START_TEST(horizon)
{
    apr_size_t size;
    void *mem = new_block(4, &size);
    gk_store_t *s = open_store(mem, NULL), *other = open_store(mem, NULL);
    apr_uint64_t v;
    const void *keys[1] = {"i"};
    apr_size_t klens[1] = {1};
    gk_store_result_e res[1];

    ck_assert_int_eq(gk_store_shm_horizon(s), 0);
    /* reads change nothing */
    GET(s, "x", TS, GK_STORE_NOT_FOUND, 0);
    ck_assert_int_eq(gk_store_get_multi_in(s, "g", 1, keys, klens, 1, TS,
                                           &v, res),
                     GK_STORE_OK);
    ck_assert_int_eq(res[0], GK_STORE_NOT_FOUND);
    ck_assert_int_eq(gk_store_shm_horizon(s), 0);
    /* refused: nothing */
    ck_assert_int_eq(gk_store_set(s, "x", 1, 1, TS, TS), GK_STORE_ERROR);
    ck_assert_int_eq(gk_store_shm_horizon(s), 0);
    INCR(s, "i", 1, 1, TS + 10, TS, GK_STORE_OK, 1);
    ck_assert_int_eq(gk_store_shm_horizon(s), TS + 10);
    /* an incr of a live key keeps its expiry: no change */
    INCR(s, "i", 1, 1, TS + 50, TS, GK_STORE_OK, 2);
    ck_assert_int_eq(gk_store_shm_horizon(s), TS + 10);
    ck_assert_int_eq(gk_store_decr(s, "d", 1, 1, 1, TS + 20, TS, &v),
                     GK_STORE_OK);
    ck_assert_int_eq(gk_store_shm_horizon(other), TS + 20);
    ck_assert_int_eq(gk_store_add(s, "a", 1, 1, TS + 30, TS), GK_STORE_OK);
    ck_assert_int_eq(gk_store_shm_horizon(s), TS + 30);
    /* a shorter write does not lower it */
    ck_assert_int_eq(gk_store_set(s, "a", 1, 1, TS + 5, TS), GK_STORE_OK);
    ck_assert_int_eq(gk_store_shm_horizon(s), TS + 30);
    ck_assert_int_eq(gk_store_set(s, "a", 1, 1, TS + 40, TS), GK_STORE_OK);
    ck_assert_int_eq(gk_store_shm_horizon(s), TS + 40);
    ck_assert_int_eq(gk_store_set_in(s, "g", 1, "b", 1, 1, TS + 45, TS),
                     GK_STORE_OK);
    ck_assert_int_eq(gk_store_shm_horizon(s), TS + 45);
    ck_assert_int_eq(gk_store_set_all(s, "b", 1, 1, TS + 50, TS),
                     GK_STORE_OK);
    ck_assert_int_eq(gk_store_shm_horizon(s), TS + 50);
    /* full (i, d, a, b live): a FULL write does not raise it */
    ck_assert_int_eq(gk_store_set(s, "f", 1, 1, TS + 99, TS), GK_STORE_FULL);
    ck_assert_int_eq(gk_store_shm_horizon(s), TS + 50);
    /* every entry is gone at now >= horizon */
    ck_assert_int_eq(gk_store_get_multi(s, keys, klens, 1, TS + 50, &v, res),
                     GK_STORE_OK);
    ck_assert_int_eq(res[0], GK_STORE_NOT_FOUND);
    /* an entry that never expires: INT64_MAX, and it stays there */
    ck_assert_int_eq(gk_store_set(s, "n", 1, 1, GK_STORE_NO_EXPIRY, TS + 50),
                     GK_STORE_OK);
    ck_assert_int_eq(gk_store_shm_horizon(s), APR_INT64_MAX);
    ck_assert_int_eq(gk_store_set(s, "n", 1, 1, TS + 60, TS + 50),
                     GK_STORE_OK);
    ck_assert_int_eq(gk_store_shm_horizon(s), APR_INT64_MAX);
    INCR(s, "m", 1, 1, GK_STORE_NO_EXPIRY, TS + 50, GK_STORE_OK, 1);
    ck_assert_int_eq(gk_store_shm_horizon(other), APR_INT64_MAX);
    /* a graceful restart keeps the table and its horizon; init resets */
    ck_assert_int_eq(gk_store_shm_check(mem, size, 4), 1);
    ck_assert_int_eq(gk_store_shm_horizon(open_store(mem, NULL)),
                     APR_INT64_MAX);
    ck_assert_int_eq(gk_store_shm_init(mem, size, 4), APR_SUCCESS);
    ck_assert_int_eq(gk_store_shm_horizon(open_store(mem, NULL)), 0);
}
END_TEST

/* get_multi_in is get_multi: one table, whatever the group; one lock for
 * up to 8 keys. */
START_TEST(get_multi_in)
{
    void *mem = new_block(64, NULL);
    count_lock_t c = {0, 0, 0, 0};
    gk_store_shm_lock_t l = {count_lock, count_unlock, &c};
    gk_store_t *s = open_store(mem, &l);
    const void *keys[10];
    apr_size_t klens[10];
    apr_uint64_t vals[10];
    gk_store_result_e res[10];
    int i;

    ck_assert_int_eq(gk_store_set_in(s, "u1", 2, "j1", 2, 11, TS + 9, TS),
                     GK_STORE_OK);
    ck_assert_int_eq(gk_store_set_in(s, "u2", 2, "j2", 2, 12, TS + 9, TS),
                     GK_STORE_OK);
    ck_assert_int_eq(gk_store_set(s, "j3", 2, 13, TS + 9, TS), GK_STORE_OK);
    for (i = 0; i < 10; i++) {
        char *k = apr_psprintf(tp, "j%d", i);
        keys[i] = k;
        klens[i] = strlen(k);
        vals[i] = 0xdeadbeefULL;
    }
    klens[9] = 0; /* refused */
    c.locks = c.unlocks = 0;
    ck_assert_int_eq(gk_store_get_multi_in(s, "u1", 2, keys, klens, 8, TS,
                                           vals, res),
                     GK_STORE_OK);
    ck_assert_int_eq(c.locks, 1);
    for (i = 0; i < 8; i++) {
        if (i >= 1 && i <= 3) {
            ck_assert_int_eq(res[i], GK_STORE_OK);
            ck_assert_uint_eq(vals[i], (apr_uint64_t)(10 + i));
        }
        else {
            ck_assert_int_eq(res[i], GK_STORE_NOT_FOUND);
            ck_assert_uint_eq(vals[i], 0xdeadbeefULL);
        }
    }
    c.locks = 0;
    ck_assert_int_eq(gk_store_get_multi_in(s, NULL, 0, keys, klens, 10,
                                           TS + 9, vals, res),
                     GK_STORE_OK);
    ck_assert_int_eq(c.locks, 2);
    ck_assert_int_eq(res[1], GK_STORE_NOT_FOUND); /* expired */
    ck_assert_int_eq(res[9], GK_STORE_ERROR);
    c.fail = 1;
    ck_assert_int_eq(gk_store_get_multi_in(s, "u1", 2, keys, klens, 2, TS,
                                           vals, res),
                     GK_STORE_ERROR);
    ck_assert_int_eq(gk_store_set_in(s, "u1", 2, "j1", 2, 1, TS + 9, TS),
                     GK_STORE_ERROR);
    ck_assert_int_eq(res[0], GK_STORE_ERROR);
    ck_assert_int_eq(res[1], GK_STORE_ERROR);
    ck_assert_int_eq(c.held, 0);
}
END_TEST

/* ---- locking ------------------------------------------------------------ */

/* Each operation takes the lock once and releases it; a lock that fails
 * makes the operation fail and change nothing. */
START_TEST(lock_calls)
{
    void *mem = new_block(64, NULL);
    count_lock_t c = {0, 0, 0, 0};
    gk_store_shm_lock_t l = {count_lock, count_unlock, &c};
    gk_store_t *s = open_store(mem, &l), *bare = open_store(mem, NULL);
    const void *keys[2] = {"a", "b"};
    apr_size_t klens[2] = {1, 1};
    apr_uint64_t vals[2] = {0, 0}, v = 5;
    gk_store_result_e res[2];
    gk_store_shm_stats_t st;

    INCR(s, "a", 1, 1, TS + 9, TS, GK_STORE_OK, 1);
    ck_assert_int_eq(c.locks, 1);
    ck_assert_int_eq(gk_store_add(s, "b", 1, 1, TS + 9, TS), GK_STORE_OK);
    GET(s, "a", TS, GK_STORE_OK, 1);
    ck_assert_int_eq(gk_store_get_multi(s, keys, klens, 2, TS, vals, res),
                     GK_STORE_OK);
    ck_assert_int_eq(c.locks, 4);
    ck_assert_int_eq(c.unlocks, 4);
    /* refused arguments never take the lock */
    INCR(s, "a", 1, 1, TS, TS, GK_STORE_ERROR, 0);
    ck_assert_int_eq(c.locks, 4);
    /* stats: the lock per 256 slots */
    ck_assert_int_eq(gk_store_shm_stats(s, TS, &st), APR_SUCCESS);
    ck_assert_int_eq(c.locks, 5);

    c.fail = 1;
    INCR(s, "a", 1, 1, TS + 9, TS, GK_STORE_ERROR, 0);
    ck_assert_int_eq(gk_store_decr(s, "a", 1, 1, 1, TS + 9, TS, &v),
                     GK_STORE_ERROR);
    ck_assert_int_eq(gk_store_add(s, "c", 1, 1, TS + 9, TS), GK_STORE_ERROR);
    GET(s, "a", TS, GK_STORE_ERROR, 0);
    ck_assert_int_eq(gk_store_get_multi(s, keys, klens, 2, TS, vals, res),
                     GK_STORE_ERROR);
    ck_assert_int_eq(res[0], GK_STORE_ERROR);
    ck_assert_int_eq(res[1], GK_STORE_ERROR);
    ck_assert_int_eq(gk_store_shm_stats(s, TS, &st), APR_EGENERAL);
    ck_assert_uint_eq(v, 5);
    ck_assert_int_eq(c.held, 0);
    GET(bare, "a", TS, GK_STORE_OK, 1);
    GET(bare, "c", TS, GK_STORE_NOT_FOUND, 0);
}
END_TEST

START_TEST(stats_refuses_other_store)
{
    static const gk_store_ops_t other = {.name = "other"};
    gk_store_t s = {&other, NULL};
    gk_store_shm_stats_t st;

    ck_assert_int_eq(gk_store_shm_stats(&s, TS, &st), APR_EINVAL);
    ck_assert_int_eq(gk_store_shm_stats(NULL, TS, &st), APR_EINVAL);
    ck_assert_int_eq(gk_store_shm_horizon(&s), APR_INT64_MAX);
}
END_TEST

/* ---- concurrency -------------------------------------------------------- */

#define NTHREADS 8
#define NITER 10000

/* One thread's work: NITER incr over 3 keys through its own handle, the
 * values it got for each key recorded. */
typedef struct {
    gk_store_t *store;
    apr_uint64_t *got[3];
    apr_size_t ngot[3];
    int errors;
} worker_t;

static const char *const hot_keys[3] = {"gkrl:0000000000000001:1700000000",
                                        "gkrl:0000000000000002:1700000000",
                                        "gkrl:0000000000000003:1700000000"};

static void *APR_THREAD_FUNC worker(apr_thread_t *th, void *data)
{
    worker_t *w = data;
    int i;

    for (i = 0; i < NITER; i++) {
        int k = i % 3;
        apr_uint64_t v;
        if (gk_store_incr(w->store, hot_keys[k], strlen(hot_keys[k]), 1, 1,
                          TS + 60, TS, &v)
            != GK_STORE_OK) {
            w->errors++;
            continue;
        }
        w->got[k][w->ngot[k]++] = v;
    }
    /* Return rather than apr_thread_exit(): its pthread_exit() leaves the
     * stack poisoned, which ASan reports when the thread is torn down. */
    return NULL;
}

/* 8 threads x 10,000 incr of 3 keys: the totals are exact and every value
 * was handed out exactly once. */
START_TEST(threads_exact)
{
    void *mem = new_block(1024, NULL);
    apr_thread_mutex_t *mx;
    gk_store_shm_lock_t l = {thread_lock, thread_unlock, NULL};
    apr_thread_t *th[NTHREADS];
    worker_t w[NTHREADS];
    apr_uint64_t total[3] = {0, 0, 0}, v;
    unsigned char *seen;
    int t, k;
    apr_size_t i;

    ck_assert_int_eq(apr_thread_mutex_create(&mx, APR_THREAD_MUTEX_DEFAULT,
                                             tp),
                     APR_SUCCESS);
    l.baton = mx;
    memset(w, 0, sizeof(w));
    for (t = 0; t < NTHREADS; t++) {
        w[t].store = open_store(mem, &l); /* a handle each, one lock */
        for (k = 0; k < 3; k++) {
            w[t].got[k] = apr_palloc(tp, sizeof(apr_uint64_t) * NITER);
        }
    }
    for (t = 0; t < NTHREADS; t++) {
        ck_assert_int_eq(apr_thread_create(&th[t], NULL, worker, &w[t], tp),
                         APR_SUCCESS);
    }
    for (t = 0; t < NTHREADS; t++) {
        apr_status_t rv;
        ck_assert_int_eq(apr_thread_join(&rv, th[t]), APR_SUCCESS);
        ck_assert_int_eq(w[t].errors, 0);
        for (k = 0; k < 3; k++) {
            total[k] += w[t].ngot[k];
        }
    }
    for (k = 0; k < 3; k++) {
        apr_uint64_t want = (apr_uint64_t)NTHREADS * ((NITER + 2 - k) / 3);
        ck_assert_uint_eq(total[k], want);
        ck_assert_int_eq(gk_store_get(w[0].store, hot_keys[k],
                                      strlen(hot_keys[k]), TS, &v),
                         GK_STORE_OK);
        ck_assert_uint_eq(v, want);
        /* the values 1..want, each handed to exactly one incr */
        seen = apr_pcalloc(tp, want + 1);
        for (t = 0; t < NTHREADS; t++) {
            for (i = 0; i < w[t].ngot[k]; i++) {
                apr_uint64_t x = w[t].got[k][i];
                ck_assert(x >= 1 && x <= want);
                ck_assert_int_eq(seen[x], 0);
                seen[x] = 1;
            }
        }
    }
    ck_assert_uint_eq(total[0] + total[1] + total[2],
                      (apr_uint64_t)NTHREADS * NITER);
}
END_TEST

/* Two stores over one block, as two children: each sees the other's
 * writes. */
START_TEST(two_handles_share)
{
    void *mem = new_block(64, NULL);
    gk_store_t *a = open_store(mem, NULL), *b = open_store(mem, NULL);

    ck_assert_ptr_ne(a, b);
    INCR(a, "k", 1, 1, TS + 60, TS, GK_STORE_OK, 1);
    INCR(b, "k", 1, 1, TS + 60, TS, GK_STORE_OK, 2);
    INCR(a, "k", 1, 1, TS + 60, TS, GK_STORE_OK, 3);
    GET(b, "k", TS, GK_STORE_OK, 3);
    ck_assert_int_eq(gk_store_add(b, "r", 1, 1, TS + 60, TS), GK_STORE_OK);
    ck_assert_int_eq(gk_store_add(a, "r", 1, 1, TS + 60, TS), GK_STORE_EXISTS);
}
END_TEST

/* The same named segment mapped twice, at two addresses: the table holds
 * no pointer, so both mappings are the same table. */
START_TEST(two_mappings_share)
{
    const char *path = tk_path_in(tp, tk_tmpdir(tp), "store.shm");
    apr_uint32_t nslots = 64;
    apr_size_t n = gk_store_shm_size(nslots);
    apr_shm_t *m1, *m2;
    void *b1, *b2;
    gk_store_t *a, *b;

    ck_assert_int_eq(apr_shm_create(&m1, n, path, tp), APR_SUCCESS);
    ck_assert_int_eq(apr_shm_attach(&m2, path, tp), APR_SUCCESS);
    b1 = apr_shm_baseaddr_get(m1);
    b2 = apr_shm_baseaddr_get(m2);
    ck_assert_ptr_ne(b1, b2);
    ck_assert_int_eq(gk_store_shm_init(b1, apr_shm_size_get(m1), nslots),
                     APR_SUCCESS);
    ck_assert_int_eq(gk_store_shm_check(b2, apr_shm_size_get(m2), nslots), 1);
    a = open_store(b1, NULL);
    b = open_store(b2, NULL);
    INCR(a, "k", 1, 1, TS + 60, TS, GK_STORE_OK, 1);
    INCR(b, "k", 1, 1, TS + 60, TS, GK_STORE_OK, 2);
    GET(a, "k", TS, GK_STORE_OK, 2);
    ck_assert_int_eq(apr_shm_detach(m2), APR_SUCCESS);
    ck_assert_int_eq(apr_shm_destroy(m1), APR_SUCCESS);
}
END_TEST

#define NPROCS 4
#define PROC_ITER 5000

/* As httpd's children: forked processes over an anonymous segment with a
 * process mutex through the lock callbacks; the count is exact. */
START_TEST(processes_exact)
{
    apr_uint32_t nslots = 64;
    apr_shm_t *m;
    apr_proc_mutex_t *mx;
    apr_proc_t procs[NPROCS];
    void *base;
    gk_store_t *s;
    apr_uint64_t v;
    int i;

    ck_assert_int_eq(apr_shm_create(&m, gk_store_shm_size(nslots), NULL, tp),
                     APR_SUCCESS);
    base = apr_shm_baseaddr_get(m);
    ck_assert_int_eq(gk_store_shm_init(base, apr_shm_size_get(m), nslots),
                     APR_SUCCESS);
    ck_assert_int_eq(apr_proc_mutex_create(&mx, NULL, APR_LOCK_DEFAULT, tp),
                     APR_SUCCESS);
    for (i = 0; i < NPROCS; i++) {
        apr_status_t rv = apr_proc_fork(&procs[i], tp);
        ck_assert(rv == APR_INCHILD || rv == APR_INPARENT);
        if (rv == APR_INCHILD) {
            /* the child: its own handle, as child_init would make it */
            gk_store_shm_lock_t l = {proc_lock, proc_unlock, NULL};
            gk_store_t *cs = NULL;
            int j, bad = 0;

            if (apr_proc_mutex_child_init(&mx, NULL, tp) != APR_SUCCESS) {
                _exit(2);
            }
            l.baton = mx;
            if (gk_store_shm_open(tp, base, &l, &cs) != APR_SUCCESS) {
                _exit(2);
            }
            for (j = 0; j < PROC_ITER; j++) {
                bad += gk_store_incr(cs, "p", 1, 1, 1, TS + 60, TS, &v)
                       != GK_STORE_OK;
            }
            _exit(bad ? 1 : 0);
        }
    }
    for (i = 0; i < NPROCS; i++) {
        int code = -1;
        apr_exit_why_e why;
        ck_assert_int_eq(apr_proc_wait(&procs[i], &code, &why, APR_WAIT),
                         APR_CHILD_DONE);
        ck_assert_int_eq(why, APR_PROC_EXIT);
        ck_assert_int_eq(code, 0);
    }
    s = open_store(base, NULL);
    ck_assert_int_eq(gk_store_get(s, "p", 1, TS, &v), GK_STORE_OK);
    ck_assert_uint_eq(v, (apr_uint64_t)NPROCS * PROC_ITER);
    ck_assert_int_eq(apr_proc_mutex_destroy(mx), APR_SUCCESS);
    ck_assert_int_eq(apr_shm_destroy(m), APR_SUCCESS);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("store_shm");
    TCase *tc = tk_tcase("store_shm");

    tcase_add_test(tc, result_names);
    tcase_add_test(tc, sizes);
    tcase_add_test(tc, init_refuses);
    tcase_add_test(tc, check_and_open);
    tcase_add_test(tc, open_refuses_half_lock);
    tcase_add_test(tc, restart_keeps_or_resets);
    tcase_add_test(tc, incr_semantics);
    tcase_add_test(tc, incr_wraps);
    tcase_add_test(tc, decr_saturates);
    tcase_add_test(tc, add_exists);
    tcase_add_test(tc, get_multi);
    tcase_add_test(tc, expiry_boundary);
    tcase_add_test(tc, expiry_rate_window);
    tcase_add_test(tc, expiry_arguments);
    tcase_add_test(tc, key_lengths);
    tcase_add_test(tc, prehashed_keys);
    tcase_add_test(tc, full_table);
    tcase_add_test(tc, expired_key_reuses_own_slot);
    tcase_add_test(tc, windows_reuse_expired);
    tcase_add_test(tc, set_replace);
    tcase_add_test(tc, full_table_set);
    tcase_add_test(tc, horizon);
    tcase_add_test(tc, get_multi_in);
    tcase_add_test(tc, lock_calls);
    tcase_add_test(tc, stats_refuses_other_store);
    tcase_add_test(tc, threads_exact);
    tcase_add_test(tc, two_handles_share);
    tcase_add_test(tc, two_mappings_share);
    tcase_add_test(tc, processes_exact);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(suite)
