/* The circuit breaker (gk_breaker) with an injected clock: transitions,
 * the back-off's growth and bound, the threshold, a released probe, a
 * lapsed probe, and exactly one probe among threads hammering allow() at
 * one instant. */
#include <apr_atomic.h>
#include <apr_thread_proc.h>

#include "gk_breaker.h"
#include "gk_test_core.h"

/* An arbitrary start of the monotonic clock (ms). */
#define T0 5000000

/* A breaker of 1 s .. 30 s opening after `threshold` failures. */
static gk_breaker_t make(apr_uint32_t threshold)
{
    gk_breaker_t b;

    ck_assert_int_eq(gk_breaker_init(&b, 1000, 30000, threshold),
                     APR_SUCCESS);
    return b;
}

START_TEST(init_refuses)
{
    gk_breaker_t b;

    ck_assert_int_eq(gk_breaker_init(&b, 0, 10, 1), APR_EINVAL);
    ck_assert_int_eq(gk_breaker_init(&b, 10, 9, 1), APR_EINVAL);
    ck_assert_int_eq(gk_breaker_init(&b, 10, 10, 0), APR_EINVAL);
    ck_assert_int_eq(gk_breaker_init(&b, 10, GK_BREAKER_MAX_MS_LIMIT + 1, 1),
                     APR_EINVAL);
    ck_assert_int_eq(gk_breaker_init(&b, 10, 10, 1), APR_SUCCESS);
    ck_assert_int_eq(gk_breaker_state(&b), GK_BREAKER_CLOSED);
    ck_assert_uint_eq(gk_breaker_backoff_ms(&b), 10);
}
END_TEST

START_TEST(closed_allows_and_success_is_quiet)
{
    gk_breaker_t b = make(1);
    int i;

    for (i = 0; i < 100; i++) {
        ck_assert_int_eq(gk_breaker_allow(&b, T0 + i), 1);
        ck_assert_int_eq(gk_breaker_success(&b, T0 + i), GK_BREAKER_EV_NONE);
    }
    ck_assert_int_eq(gk_breaker_state(&b), GK_BREAKER_CLOSED);
    ck_assert_int_eq(gk_breaker_remaining_ms(&b, T0), 0);
}
END_TEST

START_TEST(open_probe_close)
{
    gk_breaker_t b = make(1);

    ck_assert_int_eq(gk_breaker_allow(&b, T0), 1);
    ck_assert_int_eq(gk_breaker_failure(&b, T0), GK_BREAKER_EV_OPENED);
    ck_assert_int_eq(gk_breaker_state(&b), GK_BREAKER_OPEN);
    ck_assert_uint_eq(gk_breaker_backoff_ms(&b), 1000);
    ck_assert_int_eq(gk_breaker_remaining_ms(&b, T0 + 400), 600);
    /* a second failure of a caller let through before: no new event */
    ck_assert_int_eq(gk_breaker_failure(&b, T0 + 1), GK_BREAKER_EV_NONE);
    ck_assert_int_eq(gk_breaker_remaining_ms(&b, T0 + 400), 600);
    /* a late success while open does not close it */
    ck_assert_int_eq(gk_breaker_success(&b, T0 + 2), GK_BREAKER_EV_NONE);
    ck_assert_int_eq(gk_breaker_state(&b), GK_BREAKER_OPEN);
    ck_assert_int_eq(gk_breaker_allow(&b, T0 + 1), 0);
    ck_assert_int_eq(gk_breaker_allow(&b, T0 + 999), 0);
    /* the interval's end: one probe, nobody else */
    ck_assert_int_eq(gk_breaker_allow(&b, T0 + 1000), 1);
    ck_assert_int_eq(gk_breaker_state(&b), GK_BREAKER_PROBING);
    ck_assert_int_eq(gk_breaker_allow(&b, T0 + 1000), 0);
    ck_assert_int_eq(gk_breaker_allow(&b, T0 + 1500), 0);
    ck_assert_int_eq(gk_breaker_success(&b, T0 + 1010),
                     GK_BREAKER_EV_CLOSED);
    ck_assert_int_eq(gk_breaker_state(&b), GK_BREAKER_CLOSED);
    ck_assert_uint_eq(gk_breaker_backoff_ms(&b), 1000);
    ck_assert_int_eq(gk_breaker_allow(&b, T0 + 1011), 1);
    /* a second success: no event */
    ck_assert_int_eq(gk_breaker_success(&b, T0 + 1012), GK_BREAKER_EV_NONE);
}
END_TEST

START_TEST(backoff_doubles_to_bound_and_resets)
{
    gk_breaker_t b = make(1);
    static const apr_uint32_t want[] = {2000,  4000,  8000,  16000,
                                        30000, 30000, 30000};
    apr_int64_t t = T0;
    size_t i;

    ck_assert_int_eq(gk_breaker_failure(&b, t), GK_BREAKER_EV_OPENED);
    t += 1000;
    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        ck_assert_int_eq(gk_breaker_allow(&b, t - 1), 0);
        ck_assert_int_eq(gk_breaker_allow(&b, t), 1);
        ck_assert_int_eq(gk_breaker_failure(&b, t + 50),
                         GK_BREAKER_EV_PROBE_FAILED);
        ck_assert_uint_eq(gk_breaker_backoff_ms(&b), want[i]);
        ck_assert_int_eq(gk_breaker_remaining_ms(&b, t + 50), want[i]);
        t += 50 + want[i];
    }
    ck_assert_int_eq(gk_breaker_allow(&b, t), 1);
    ck_assert_int_eq(gk_breaker_success(&b, t), GK_BREAKER_EV_CLOSED);
    ck_assert_uint_eq(gk_breaker_backoff_ms(&b), 1000);
    /* the next opening starts again from the minimum */
    ck_assert_int_eq(gk_breaker_failure(&b, t + 1), GK_BREAKER_EV_OPENED);
    ck_assert_int_eq(gk_breaker_remaining_ms(&b, t + 1), 1000);
}
END_TEST

START_TEST(threshold_counts_consecutive_failures)
{
    gk_breaker_t b = make(3);

    ck_assert_int_eq(gk_breaker_failure(&b, T0), GK_BREAKER_EV_NONE);
    ck_assert_int_eq(gk_breaker_failure(&b, T0), GK_BREAKER_EV_NONE);
    ck_assert_int_eq(gk_breaker_success(&b, T0), GK_BREAKER_EV_NONE);
    ck_assert_int_eq(gk_breaker_failure(&b, T0), GK_BREAKER_EV_NONE);
    ck_assert_int_eq(gk_breaker_failure(&b, T0), GK_BREAKER_EV_NONE);
    ck_assert_int_eq(gk_breaker_state(&b), GK_BREAKER_CLOSED);
    ck_assert_int_eq(gk_breaker_failure(&b, T0), GK_BREAKER_EV_OPENED);
    ck_assert_int_eq(gk_breaker_state(&b), GK_BREAKER_OPEN);
    /* a failed probe reopens at once, whatever the threshold */
    ck_assert_int_eq(gk_breaker_allow(&b, T0 + 1000), 1);
    ck_assert_int_eq(gk_breaker_failure(&b, T0 + 1000),
                     GK_BREAKER_EV_PROBE_FAILED);
    /* after closing, the count starts again */
    ck_assert_int_eq(gk_breaker_allow(&b, T0 + 3000), 1);
    ck_assert_int_eq(gk_breaker_success(&b, T0 + 3000),
                     GK_BREAKER_EV_CLOSED);
    ck_assert_int_eq(gk_breaker_failure(&b, T0 + 3001), GK_BREAKER_EV_NONE);
    ck_assert_int_eq(gk_breaker_state(&b), GK_BREAKER_CLOSED);
}
END_TEST

START_TEST(release_hands_back_the_probe)
{
    gk_breaker_t b = make(1);

    gk_breaker_failure(&b, T0);
    ck_assert_int_eq(gk_breaker_allow(&b, T0 + 1000), 1);
    ck_assert_int_eq(gk_breaker_allow(&b, T0 + 1001), 0);
    gk_breaker_release(&b);
    ck_assert_int_eq(gk_breaker_state(&b), GK_BREAKER_OPEN);
    ck_assert_int_eq(gk_breaker_allow(&b, T0 + 1002), 1);
    ck_assert_int_eq(gk_breaker_allow(&b, T0 + 1002), 0);
    /* release in another state does nothing */
    ck_assert_int_eq(gk_breaker_success(&b, T0 + 1003),
                     GK_BREAKER_EV_CLOSED);
    gk_breaker_release(&b);
    ck_assert_int_eq(gk_breaker_state(&b), GK_BREAKER_CLOSED);
}
END_TEST

START_TEST(lapsed_probe_is_replaced)
{
    gk_breaker_t b = make(1);

    gk_breaker_failure(&b, T0);
    ck_assert_int_eq(gk_breaker_allow(&b, T0 + 1000), 1);
    /* the probe never reports; after max_ms another caller probes */
    ck_assert_int_eq(gk_breaker_allow(&b, T0 + 1000 + 29999), 0);
    ck_assert_int_eq(gk_breaker_allow(&b, T0 + 1000 + 30000), 1);
    ck_assert_int_eq(gk_breaker_allow(&b, T0 + 1000 + 30000), 0);
    ck_assert_int_eq(gk_breaker_failure(&b, T0 + 31000),
                     GK_BREAKER_EV_PROBE_FAILED);
    ck_assert_uint_eq(gk_breaker_backoff_ms(&b), 2000);
}
END_TEST

START_TEST(clock_edges)
{
    gk_breaker_t b = make(1);

    /* negative and huge clocks do not overflow */
    ck_assert_int_eq(gk_breaker_failure(&b, -5), GK_BREAKER_EV_OPENED);
    ck_assert_int_eq(gk_breaker_allow(&b, -5), 0);
    ck_assert_int_eq(gk_breaker_allow(&b, 1000), 1);
    ck_assert_int_eq(gk_breaker_failure(&b, APR_INT64_MAX),
                     GK_BREAKER_EV_PROBE_FAILED);
    ck_assert_int_eq(gk_breaker_allow(&b, APR_INT64_MAX), 0);
    ck_assert_str_eq(gk_breaker_state_name(GK_BREAKER_OPEN), "open");
    ck_assert_str_eq(gk_breaker_state_name((gk_breaker_state_e)9), "?");
    ck_assert_str_eq(gk_breaker_event_name(GK_BREAKER_EV_PROBE_FAILED),
                     "probe-failed");
    ck_assert_str_eq(gk_breaker_event_name((gk_breaker_event_e)9), "?");
}
END_TEST

/* ---- concurrency -------------------------------------------------------- */

#define NTHREADS 16
#define NCALLS 20000

/* What the hammering threads share. */
typedef struct {
    gk_breaker_t *b;
    apr_int64_t now;
    volatile apr_uint32_t go;
    volatile apr_uint32_t granted;
    volatile apr_uint32_t opened;
    volatile apr_uint32_t closed;
    int phase; /* 0: allow only; 1: allow then report failure/success */
} hammer_t;

/* Call allow NCALLS times at the fixed clock; count the grants. */
static void *APR_THREAD_FUNC hammer(apr_thread_t *t, void *data)
{
    hammer_t *h = data;
    int i;

    while (apr_atomic_read32(&h->go) == 0) {
    }
    for (i = 0; i < NCALLS; i++) {
        if (h->phase == 0) {
            if (gk_breaker_allow(h->b, h->now)) {
                apr_atomic_inc32(&h->granted);
            }
        }
        else {
            /* every caller fails at once: exactly one sees OPENED */
            if (gk_breaker_failure(h->b, h->now) == GK_BREAKER_EV_OPENED) {
                apr_atomic_inc32(&h->opened);
            }
        }
    }
    /* Return rather than apr_thread_exit(): its pthread_exit() unwinds
     * in a way ASan reports as a stack-buffer-underflow */
    (void)t;
    return NULL;
}

/* Run NTHREADS hammer threads to the end. */
static void run_hammer(hammer_t *h)
{
    apr_thread_t *th[NTHREADS];
    apr_status_t rv;
    int i;

    apr_atomic_set32(&h->go, 0);
    for (i = 0; i < NTHREADS; i++) {
        ck_assert_int_eq(apr_thread_create(&th[i], NULL, hammer, h, tp),
                         APR_SUCCESS);
    }
    apr_atomic_set32(&h->go, 1);
    for (i = 0; i < NTHREADS; i++) {
        ck_assert_int_eq(apr_thread_join(&rv, th[i]), APR_SUCCESS);
    }
}

START_TEST(exactly_one_probe_under_threads)
{
    gk_breaker_t b = make(1);
    hammer_t h;
    int round;

    memset(&h, 0, sizeof(h));
    h.b = &b;
    for (round = 0; round < 5; round++) {
        /* open it (at the same clock, from every thread at once) */
        h.phase = 1;
        h.now = T0 + round * 100000;
        apr_atomic_set32(&h.opened, 0);
        run_hammer(&h);
        ck_assert_uint_eq(apr_atomic_read32(&h.opened), 1);
        ck_assert_int_eq(gk_breaker_state(&b), GK_BREAKER_OPEN);
        /* at the interval's end: exactly one of 320,000 calls probes */
        h.phase = 0;
        h.now += 1000;
        apr_atomic_set32(&h.granted, 0);
        run_hammer(&h);
        ck_assert_uint_eq(apr_atomic_read32(&h.granted), 1);
        ck_assert_int_eq(gk_breaker_state(&b), GK_BREAKER_PROBING);
        ck_assert_int_eq(gk_breaker_success(&b, h.now),
                         GK_BREAKER_EV_CLOSED);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("breaker");
    TCase *tc = tk_tcase("breaker");

    tcase_add_test(tc, init_refuses);
    tcase_add_test(tc, closed_allows_and_success_is_quiet);
    tcase_add_test(tc, open_probe_close);
    tcase_add_test(tc, backoff_doubles_to_bound_and_resets);
    tcase_add_test(tc, threshold_counts_consecutive_failures);
    tcase_add_test(tc, release_hands_back_the_probe);
    tcase_add_test(tc, lapsed_probe_is_replaced);
    tcase_add_test(tc, clock_edges);
    tcase_add_test(tc, exactly_one_probe_under_threads);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(suite)
