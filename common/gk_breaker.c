/*
 * The circuit breaker (gk_breaker.h).
 */
#include "gk_breaker.h"

/* The state bits of the word, and its until_ms part. */
#define STATE_MASK ((apr_uint64_t)3)
#define WORD(until, st) (((apr_uint64_t)(until) << 2) | (apr_uint64_t)(st))
#define WORD_STATE(w) ((gk_breaker_state_e)((w) & STATE_MASK))
#define WORD_UNTIL(w) ((w) >> 2)

/* The largest clock value used: far beyond any monotonic clock, and small
 * enough that until_ms + GK_BREAKER_MAX_MS_LIMIT fits in 62 bits. */
#define NOW_MAX ((apr_uint64_t)1 << 60)

/* now_ms clamped to 0..NOW_MAX. */
static apr_uint64_t clamp_now(apr_int64_t now_ms)
{
    if (now_ms < 0) {
        return 0;
    }
    if ((apr_uint64_t)now_ms > NOW_MAX) {
        return NOW_MAX;
    }
    return (apr_uint64_t)now_ms;
}

apr_status_t gk_breaker_init(gk_breaker_t *b, apr_uint32_t min_ms,
                             apr_uint32_t max_ms, apr_uint32_t threshold)
{
    if (min_ms == 0 || max_ms < min_ms || max_ms > GK_BREAKER_MAX_MS_LIMIT
        || threshold == 0) {
        return APR_EINVAL;
    }
    b->min_ms = min_ms;
    b->max_ms = max_ms;
    b->threshold = threshold;
    apr_atomic_set32(&b->failures, 0);
    apr_atomic_set32(&b->backoff_ms, min_ms);
    apr_atomic_set64(&b->word, WORD(0, GK_BREAKER_CLOSED));
    return APR_SUCCESS;
}

int gk_breaker_allow(gk_breaker_t *b, apr_int64_t now_ms)
{
    apr_uint64_t now = clamp_now(now_ms);
    apr_uint64_t w = apr_atomic_read64(&b->word);

    if (WORD_STATE(w) == GK_BREAKER_CLOSED) {
        return 1;
    }
    if (now < WORD_UNTIL(w)) {
        return 0;
    }
    /* OPEN and over, or a lapsed probe: one caller turns this word into
     * PROBING with a lease of max_ms; every other caller loses the swap */
    return apr_atomic_cas64(&b->word, WORD(now + b->max_ms, GK_BREAKER_PROBING),
                            w)
           == w;
}

gk_breaker_event_e gk_breaker_success(gk_breaker_t *b, apr_int64_t now_ms)
{
    apr_uint64_t w = apr_atomic_read64(&b->word);

    (void)now_ms;
    switch (WORD_STATE(w)) {
    case GK_BREAKER_CLOSED:
        /* read first: no write (no cache-line traffic) in the usual case */
        if (apr_atomic_read32(&b->failures) != 0) {
            apr_atomic_set32(&b->failures, 0);
        }
        return GK_BREAKER_EV_NONE;
    case GK_BREAKER_PROBING:
        if (apr_atomic_cas64(&b->word, WORD(0, GK_BREAKER_CLOSED), w) == w) {
            apr_atomic_set32(&b->backoff_ms, b->min_ms);
            apr_atomic_set32(&b->failures, 0);
            return GK_BREAKER_EV_CLOSED;
        }
        return GK_BREAKER_EV_NONE;
    case GK_BREAKER_OPEN:
    default:
        return GK_BREAKER_EV_NONE;
    }
}

gk_breaker_event_e gk_breaker_failure(gk_breaker_t *b, apr_int64_t now_ms)
{
    apr_uint64_t now = clamp_now(now_ms);
    apr_uint64_t w = apr_atomic_read64(&b->word);
    apr_uint32_t bo;

    switch (WORD_STATE(w)) {
    case GK_BREAKER_CLOSED:
        if (apr_atomic_inc32(&b->failures) + 1 < b->threshold) {
            return GK_BREAKER_EV_NONE;
        }
        if (apr_atomic_cas64(&b->word, WORD(now + b->min_ms, GK_BREAKER_OPEN),
                             w)
            == w) {
            apr_atomic_set32(&b->backoff_ms, b->min_ms);
            apr_atomic_set32(&b->failures, 0);
            return GK_BREAKER_EV_OPENED;
        }
        return GK_BREAKER_EV_NONE;
    case GK_BREAKER_PROBING:
        bo = apr_atomic_read32(&b->backoff_ms);
        bo = bo > b->max_ms / 2 ? b->max_ms : bo * 2;
        if (apr_atomic_cas64(&b->word, WORD(now + bo, GK_BREAKER_OPEN), w)
            == w) {
            apr_atomic_set32(&b->backoff_ms, bo);
            return GK_BREAKER_EV_PROBE_FAILED;
        }
        return GK_BREAKER_EV_NONE;
    case GK_BREAKER_OPEN:
    default:
        return GK_BREAKER_EV_NONE;
    }
}

void gk_breaker_release(gk_breaker_t *b)
{
    apr_uint64_t w = apr_atomic_read64(&b->word);

    if (WORD_STATE(w) == GK_BREAKER_PROBING) {
        /* OPEN with the interval over: the next allow probes */
        (void)apr_atomic_cas64(&b->word, WORD(0, GK_BREAKER_OPEN), w);
    }
}

gk_breaker_state_e gk_breaker_state(gk_breaker_t *b)
{
    return WORD_STATE(apr_atomic_read64(&b->word));
}

apr_uint32_t gk_breaker_backoff_ms(gk_breaker_t *b)
{
    return apr_atomic_read32(&b->backoff_ms);
}

apr_int64_t gk_breaker_remaining_ms(gk_breaker_t *b, apr_int64_t now_ms)
{
    apr_uint64_t now = clamp_now(now_ms);
    apr_uint64_t w = apr_atomic_read64(&b->word);

    if (WORD_STATE(w) != GK_BREAKER_OPEN || now >= WORD_UNTIL(w)) {
        return 0;
    }
    return (apr_int64_t)(WORD_UNTIL(w) - now);
}

const char *gk_breaker_state_name(gk_breaker_state_e s)
{
    switch (s) {
    case GK_BREAKER_CLOSED:
        return "closed";
    case GK_BREAKER_OPEN:
        return "open";
    case GK_BREAKER_PROBING:
        return "probing";
    }
    return "?";
}

const char *gk_breaker_event_name(gk_breaker_event_e e)
{
    switch (e) {
    case GK_BREAKER_EV_NONE:
        return "none";
    case GK_BREAKER_EV_OPENED:
        return "opened";
    case GK_BREAKER_EV_PROBE_FAILED:
        return "probe-failed";
    case GK_BREAKER_EV_CLOSED:
        return "closed";
    }
    return "?";
}
