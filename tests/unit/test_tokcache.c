/* The per-process verified-token cache (gk_tokcache). */
#include <apr_thread_proc.h>

#include "gk_tokcache.h"
#include "gk_test.h"

static const int ring_a = 1, ring_b = 2; /* addresses stand for key rings */
#define RA ((const void *)&ring_a)
#define RB ((const void *)&ring_b)

/* A verified HS256 token; *tok receives the token text. */
static gk_verified_t *make_v(const char *payload, const char **tok)
{
    gk_verified_t *v;
    char *t = tk_tok(tp, tk_hmac(GK_HS256, TK_SECRET, 32), payload);
    tk_assert_st(tk_verify(t, tk_set(tp, tk_std_key(tp, GK_HS256, NULL), NULL),
                           &v),
                 GK_OK);
    *tok = t;
    return v;
}

static gk_verified_t *make_n(int n, apr_int64_t exp, const char **tok)
{
    return make_v(exp ? apr_psprintf(tp, "{\"n\":%d,\"exp\":%" APR_INT64_T_FMT
                                         "}",
                                     n, exp)
                      : apr_psprintf(tp, "{\"n\":%d}", n),
                  tok);
}

static gk_verified_t *get(gk_tokcache_t *c, const char *tok, const void *ring,
                          apr_uint32_t gen, apr_int64_t now)
{
    return gk_tokcache_get(c, tok, strlen(tok), ring, gen, now);
}

static gk_tokcache_put_e offer(gk_tokcache_t *c, gk_verified_t *v,
                               const char *tok, const void *ring,
                               apr_uint32_t gen, apr_int64_t now)
{
    return gk_tokcache_put(c, v, tok, strlen(tok), ring, gen, now);
}

/* Offer a token as the module does until the cache stores it: the first
 * offer of a token only marks it as seen. */
static gk_tokcache_put_e put(gk_tokcache_t *c, gk_verified_t *v,
                             const char *tok, const void *ring,
                             apr_uint32_t gen, apr_int64_t now)
{
    gk_tokcache_put_e rv = offer(c, v, tok, ring, gen, now);

    return rv == GK_TOKCACHE_DEFERRED ? offer(c, v, tok, ring, gen, now) : rv;
}

START_TEST(hit_and_miss)
{
    gk_tokcache_t *c = gk_tokcache_create(tp, 16, 300);
    const char *tok;
    gk_verified_t *v = make_n(1, TS + 3600, &tok), *h;
    gk_tokcache_stats_t st;

    ck_assert_ptr_null(get(c, tok, RA, 0, TS));
    put(c, v, tok, RA, 0, TS);
    ck_assert_uint_eq(v->refs, 2); /* ours and the cache's */
    h = get(c, tok, RA, 0, TS + 1);
    ck_assert_ptr_eq(h, v);
    ck_assert_uint_eq(v->refs, 3);
    gk_verified_unref(h);
    /* the cache keeps its own copy of the token */
    ck_assert_ptr_ne(v->token, tok);
    ck_assert_uint_eq(v->token_len, strlen(tok));
    ck_assert_int_eq(v->cached_until, TS + 300);
    gk_tokcache_stats(c, &st);
    ck_assert_uint_eq(st.hits, 1);
    ck_assert_uint_eq(st.misses, 1);
    ck_assert_uint_eq(st.stores, 1);
    gk_verified_unref(v);
}
END_TEST

START_TEST(full_token_compared)
{
    gk_tokcache_t *c = gk_tokcache_create(tp, 16, 300);
    const char *tok;
    gk_verified_t *v = make_n(1, TS + 3600, &tok);
    char *t2 = apr_pstrdup(tp, tok);
    size_t len = strlen(tok);

    put(c, v, tok, RA, 0, TS);
    /* one byte different, anywhere */
    t2[len - 1] ^= 1;
    ck_assert_ptr_null(get(c, t2, RA, 0, TS));
    t2[len - 1] ^= 1;
    t2[0] ^= 1;
    ck_assert_ptr_null(get(c, t2, RA, 0, TS));
    t2[0] ^= 1;
    t2[len / 2] ^= 1;
    ck_assert_ptr_null(get(c, t2, RA, 0, TS));
    t2[len / 2] ^= 1;
    /* a prefix, a longer token */
    ck_assert_ptr_null(gk_tokcache_get(c, tok, len - 1, RA, 0, TS));
    ck_assert_ptr_null(get(c, apr_pstrcat(tp, tok, "x", NULL), RA, 0, TS));
    ck_assert_ptr_null(gk_tokcache_get(c, "", 0, RA, 0, TS));
    /* the same bytes in another buffer hit */
    {
        gk_verified_t *h = get(c, t2, RA, 0, TS);
        ck_assert_ptr_eq(h, v);
        gk_verified_unref(h);
    }
    gk_verified_unref(v);
}
END_TEST

START_TEST(ring_and_gen)
{
    gk_tokcache_t *c = gk_tokcache_create(tp, 16, 300);
    const char *tok;
    gk_verified_t *v = make_n(1, TS + 3600, &tok), *h;

    put(c, v, tok, RA, 7, TS);
    ck_assert_ptr_null(get(c, tok, RB, 7, TS));
    ck_assert_ptr_null(get(c, tok, NULL, 7, TS));
    ck_assert_ptr_null(get(c, tok, RA, 8, TS));
    ck_assert_ptr_null(get(c, tok, RA, 6, TS));
    ck_assert_ptr_null(get(c, tok, RA, 0, TS));
    h = get(c, tok, RA, 7, TS);
    ck_assert_ptr_eq(h, v);
    gk_verified_unref(h);
    ck_assert_uint_eq(v->refs, 2);
    gk_verified_unref(v);
}
END_TEST

START_TEST(never_past_exp)
{
    gk_tokcache_t *c = gk_tokcache_create(tp, 16, 300);
    const char *tok;
    gk_verified_t *v = make_n(1, TS + 10, &tok), *h;

    put(c, v, tok, RA, 0, TS);
    ck_assert_int_eq(v->cached_until, TS + 10);
    h = get(c, tok, RA, 0, TS + 9);
    ck_assert_ptr_eq(h, v);
    gk_verified_unref(h);
    ck_assert_ptr_null(get(c, tok, RA, 0, TS + 10));
    /* the expired entry was dropped: its reference is back */
    ck_assert_uint_eq(v->refs, 1);
    ck_assert_ptr_null(get(c, tok, RA, 0, TS + 5));
    gk_verified_unref(v);

    /* an entry that expired (exp in the past) is not stored at all */
    v = make_n(2, TS - 1, &tok);
    put(c, v, tok, RA, 0, TS);
    ck_assert_uint_eq(v->refs, 1);
    ck_assert_ptr_null(v->token);
    ck_assert_ptr_null(get(c, tok, RA, 0, TS - 100));
    gk_verified_unref(v);
    v = make_n(3, TS, &tok); /* exp == now */
    put(c, v, tok, RA, 0, TS);
    ck_assert_uint_eq(v->refs, 1);
    gk_verified_unref(v);
    /* a real-valued exp counts as rounded down */
    v = make_v("{\"exp\":1700000010.9}", &tok);
    put(c, v, tok, RA, 0, TS);
    ck_assert_int_eq(v->cached_until, TS + 10);
    gk_verified_unref(v);
}
END_TEST

START_TEST(lifetime_bound)
{
    gk_tokcache_t *c = gk_tokcache_create(tp, 16, 300);
    const char *tok, *tok2;
    gk_verified_t *v = make_n(1, 0, &tok), *w = make_n(2, TS + 100000, &tok2);
    gk_verified_t *h;

    put(c, v, tok, RA, 0, TS);
    put(c, w, tok2, RA, 0, TS);
    h = get(c, tok, RA, 0, TS + 299);
    ck_assert_ptr_eq(h, v);
    gk_verified_unref(h);
    h = get(c, tok2, RA, 0, TS + 299);
    ck_assert_ptr_eq(h, w);
    gk_verified_unref(h);
    ck_assert_ptr_null(get(c, tok, RA, 0, TS + 300));
    ck_assert_ptr_null(get(c, tok2, RA, 0, TS + 300));
    ck_assert_uint_eq(v->refs, 1);
    ck_assert_uint_eq(w->refs, 1);
    /* stored once: putting it again (after its eviction) is a no-op */
    put(c, v, tok, RA, 0, TS + 400);
    ck_assert_ptr_null(get(c, tok, RA, 0, TS + 401));
    gk_verified_unref(v);
    gk_verified_unref(w);

    /* lifetime 0: nothing is ever stored */
    c = gk_tokcache_create(tp, 16, 0);
    v = make_n(3, TS + 1000, &tok);
    put(c, v, tok, RA, 0, TS);
    ck_assert_uint_eq(v->refs, 1);
    ck_assert_ptr_null(get(c, tok, RA, 0, TS));
    gk_verified_unref(v);
}
END_TEST

START_TEST(disabled_cache)
{
    gk_tokcache_t *c = gk_tokcache_create(tp, 0, 300);
    const char *tok;
    gk_verified_t *v = make_n(1, TS + 3600, &tok);
    gk_tokcache_stats_t st;

    put(c, v, tok, RA, 0, TS);
    ck_assert_uint_eq(v->refs, 1);
    ck_assert_ptr_null(v->token);
    ck_assert_ptr_null(get(c, tok, RA, 0, TS));
    gk_tokcache_stats(c, &st);
    ck_assert_uint_eq(st.hits, 0);
    ck_assert_uint_eq(st.stores, 0);
    gk_verified_unref(v);
}
END_TEST

START_TEST(same_record_put_twice)
{
    gk_tokcache_t *c = gk_tokcache_create(tp, 16, 300);
    const char *tok;
    gk_verified_t *v = make_n(1, TS + 3600, &tok);
    gk_tokcache_stats_t st;

    put(c, v, tok, RA, 0, TS);
    put(c, v, tok, RA, 0, TS);
    put(c, v, tok, RB, 1, TS);
    ck_assert_uint_eq(v->refs, 2);
    gk_tokcache_stats(c, &st);
    ck_assert_uint_eq(st.stores, 1);
    gk_verified_unref(v);
}
END_TEST

/* Two slots in all (entries 1 rounds up to 2): the third token evicts the
 * entry that expires first, and references stay right. */
START_TEST(eviction_refcounts)
{
    gk_tokcache_t *c = gk_tokcache_create(tp, 1, 300);
    const char *t1, *t2, *t3, *t4;
    gk_verified_t *v1 = make_n(1, TS + 100, &t1);
    gk_verified_t *v2 = make_n(2, TS + 200, &t2);
    gk_verified_t *v3 = make_n(3, TS + 150, &t3);
    gk_verified_t *v4 = make_n(4, TS + 1000, &t4);
    gk_verified_t *h;

    put(c, v1, t1, RA, 0, TS);
    put(c, v2, t2, RA, 0, TS);
    ck_assert_uint_eq(v1->refs, 2);
    ck_assert_uint_eq(v2->refs, 2);
    put(c, v3, t3, RA, 0, TS); /* evicts v1 (until TS+100) */
    ck_assert_uint_eq(v1->refs, 1);
    ck_assert_uint_eq(v2->refs, 2);
    ck_assert_uint_eq(v3->refs, 2);
    ck_assert_ptr_null(get(c, t1, RA, 0, TS));
    h = get(c, t3, RA, 0, TS);
    ck_assert_ptr_eq(h, v3);
    /* a hit held by a request survives the entry's eviction */
    put(c, v4, t4, RA, 0, TS); /* evicts v3 (TS+150 < TS+200) */
    ck_assert_uint_eq(v3->refs, 2); /* ours and the request's */
    ck_assert_uint_eq(v2->refs, 2);
    gk_verified_unref(h);
    ck_assert_uint_eq(v3->refs, 1);
    h = get(c, t4, RA, 0, TS);
    ck_assert_ptr_eq(h, v4);
    gk_verified_unref(h);
    h = get(c, t2, RA, 0, TS);
    ck_assert_ptr_eq(h, v2);
    gk_verified_unref(h);
    /* dropping our references while cached: the cache's keep them alive */
    gk_verified_unref(v1);
    gk_verified_unref(v3);
    gk_verified_unref(v2);
    gk_verified_unref(v4);
    h = get(c, t2, RA, 0, TS);
    ck_assert_ptr_nonnull(h);
    ck_assert_str_eq(h->payload_text, "{\"n\":2,\"exp\":1700000200}");
    gk_verified_unref(h);
    /* destroying the pool (tk_teardown) releases the last references;
     * valgrind shows no leak */
}
END_TEST

START_TEST(many_entries)
{
    gk_tokcache_t *c = gk_tokcache_create(tp, 64, 300);
    const char *toks[200];
    gk_verified_t *vs[200];
    int i, hits = 0;
    gk_tokcache_stats_t st;

    for (i = 0; i < 200; i++) {
        vs[i] = make_n(i, TS + 1000 + i, &toks[i]);
        put(c, vs[i], toks[i], RA, 0, TS);
    }
    for (i = 0; i < 200; i++) {
        gk_verified_t *h = get(c, toks[i], RA, 0, TS);
        if (h) {
            ck_assert_ptr_eq(h, vs[i]);
            hits++;
            gk_verified_unref(h);
        }
    }
    ck_assert_int_le(hits, 64);
    ck_assert_int_gt(hits, 0);
    gk_tokcache_stats(c, &st);
    ck_assert_uint_eq(st.stores, 200);
    ck_assert_uint_eq(st.hits, (apr_uint64_t)hits);
    for (i = 0; i < 200; i++) {
        ck_assert_uint_le(vs[i]->refs, 2);
        gk_verified_unref(vs[i]);
    }
}
END_TEST

/* A token is stored on its second offer; the first leaves no reference
 * and no copy behind. */
START_TEST(stored_on_second_offer)
{
    gk_tokcache_t *c = gk_tokcache_create(tp, 16, 300);
    const char *tok;
    gk_verified_t *v = make_n(1, TS + 3600, &tok), *h;
    gk_tokcache_stats_t st;

    ck_assert_int_eq(offer(c, v, tok, RA, 0, TS), GK_TOKCACHE_DEFERRED);
    ck_assert_uint_eq(v->refs, 1);
    ck_assert_ptr_null(v->token);
    ck_assert_ptr_null(get(c, tok, RA, 0, TS));
    ck_assert_int_eq(offer(c, v, tok, RA, 0, TS), GK_TOKCACHE_STORED);
    ck_assert_uint_eq(v->refs, 2);
    h = get(c, tok, RA, 0, TS);
    ck_assert_ptr_eq(h, v);
    gk_verified_unref(h);
    /* stored: offering again changes nothing */
    ck_assert_int_eq(offer(c, v, tok, RA, 0, TS), GK_TOKCACHE_NOT_STORED);
    gk_tokcache_stats(c, &st);
    ck_assert_uint_eq(st.deferred, 1);
    ck_assert_uint_eq(st.stores, 1);
    gk_verified_unref(v);
}
END_TEST

/* Many tokens offered once each never evict an entry in use, and take no
 * slot. */
START_TEST(one_off_tokens_do_not_evict)
{
    gk_tokcache_t *c = gk_tokcache_create(tp, 4, 300);
    const char *hot, *tok;
    gk_verified_t *v = make_n(0, TS + 3600, &hot), *w, *h;
    gk_tokcache_stats_t st;
    int i;

    ck_assert_int_eq(put(c, v, hot, RA, 0, TS), GK_TOKCACHE_STORED);
    for (i = 1; i <= 300; i++) {
        w = make_n(i, TS + 7200, &tok);
        ck_assert_int_eq(offer(c, w, tok, RA, 0, TS), GK_TOKCACHE_DEFERRED);
        ck_assert_uint_eq(w->refs, 1);
        gk_verified_unref(w);
    }
    h = get(c, hot, RA, 0, TS);
    ck_assert_ptr_eq(h, v);
    gk_verified_unref(h);
    gk_tokcache_stats(c, &st);
    ck_assert_uint_eq(st.stores, 1);
    ck_assert_uint_eq(st.deferred, 301);
    gk_verified_unref(v);
}
END_TEST

/* The mark of a first offer is one small slot: another token that lands
 * there replaces it, and the first token then needs two offers again. */
START_TEST(seen_mark_is_replaced)
{
    gk_tokcache_t *c = gk_tokcache_create(tp, 1, 300); /* 2 marks */
    const char *t[3];
    gk_verified_t *v[3];
    int i, stored_early = 0;

    for (i = 0; i < 3; i++) {
        v[i] = make_n(i, TS + 3600, &t[i]);
    }
    /* with two marks, of three tokens offered in turn at least two share
     * one; offering them in turn once more stores at most the token whose
     * mark survived */
    for (i = 0; i < 3; i++) {
        ck_assert_int_eq(offer(c, v[i], t[i], RA, 0, TS),
                         GK_TOKCACHE_DEFERRED);
    }
    for (i = 0; i < 3; i++) {
        if (offer(c, v[i], t[i], RA, 0, TS) == GK_TOKCACHE_STORED) {
            stored_early++;
        }
    }
    ck_assert_int_le(stored_early, 2);
    /* two offers in a row always store (a record once stored, even if
     * evicted since, is not stored again: the module offers new ones) */
    for (i = 0; i < 3; i++) {
        if (!v[i]->token) {
            ck_assert_int_eq(put(c, v[i], t[i], RA, 0, TS),
                             GK_TOKCACHE_STORED);
        }
        gk_verified_unref(v[i]);
    }
}
END_TEST

/* Threads getting and putting the same few tokens; each thread puts only
 * records it verified itself (as requests do), hits may be anyone's. */
#define NTHREADS 4
#define NTOKS 12

typedef struct {
    gk_tokcache_t *c;
    const char **toks;
    gk_verified_t *vs[NTOKS]; /* this thread's records */
    unsigned seed;
    int bad;
} stress_t;

static void *APR_THREAD_FUNC stress_fn(apr_thread_t *t, void *data)
{
    stress_t *s = data;
    unsigned i;
    for (i = 0; i < 20000; i++) {
        unsigned k = (i * 7u + s->seed) % NTOKS;
        size_t len = strlen(s->toks[k]);
        gk_verified_t *h = gk_tokcache_get(s->c, s->toks[k], len, RA, 0, TS);
        if (h) {
            if (h->token_len != len || memcmp(h->token, s->toks[k], len)
                || strcmp(h->payload_text, s->vs[k]->payload_text)) {
                s->bad++;
            }
            gk_verified_unref(h);
        }
        else {
            gk_tokcache_put(s->c, s->vs[k], s->toks[k], len, RA, 0, TS);
        }
    }
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

START_TEST(threads)
{
    stress_t s[NTHREADS];
    apr_thread_t *th[NTHREADS];
    gk_tokcache_t *c = gk_tokcache_create(tp, 4, 300);
    const char **toks = apr_pcalloc(tp, sizeof(char *) * NTOKS);
    apr_status_t rv;
    int i, k;

    for (i = 0; i < NTHREADS; i++) {
        s[i].c = c;
        s[i].toks = toks;
        s[i].seed = (unsigned)i * 5u;
        s[i].bad = 0;
        for (k = 0; k < NTOKS; k++) {
            const char *tok;
            s[i].vs[k] = make_n(k, TS + 1000, &tok);
            toks[k] = tok; /* the same text for every thread */
        }
    }
    for (i = 0; i < NTHREADS; i++) {
        ck_assert_int_eq(apr_thread_create(&th[i], NULL, stress_fn, &s[i],
                                           tp),
                         APR_SUCCESS);
    }
    for (i = 0; i < NTHREADS; i++) {
        apr_thread_join(&rv, th[i]);
    }
    for (i = 0; i < NTHREADS; i++) {
        ck_assert_int_eq(s[i].bad, 0);
        for (k = 0; k < NTOKS; k++) {
            ck_assert_uint_le(s[i].vs[k]->refs, 2);
            gk_verified_unref(s[i].vs[k]);
        }
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("tokcache");
    TCase *tc = tk_tcase("tokcache");

    tcase_add_test(tc, hit_and_miss);
    tcase_add_test(tc, full_token_compared);
    tcase_add_test(tc, ring_and_gen);
    tcase_add_test(tc, never_past_exp);
    tcase_add_test(tc, lifetime_bound);
    tcase_add_test(tc, disabled_cache);
    tcase_add_test(tc, same_record_put_twice);
    tcase_add_test(tc, eviction_refcounts);
    tcase_add_test(tc, many_entries);
    tcase_add_test(tc, stored_on_second_offer);
    tcase_add_test(tc, one_off_tokens_do_not_evict);
    tcase_add_test(tc, seen_mark_is_replaced);
    tcase_add_test(tc, threads);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(suite)
