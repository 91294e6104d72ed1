/*
 * A circuit breaker in front of a remote store (gk_store_mc.h): pure
 * logic over a few atomics, no clock of its own (every call takes now_ms,
 * the caller's monotonic clock in milliseconds), no allocation, safe from
 * any thread. One breaker per store per child process, shared by that
 * child's threads.
 *
 * States:
 *
 *   CLOSED    every caller asks the store (gk_breaker_allow gives 1).
 *             `threshold` consecutive failures (gk_breaker_failure with
 *             no success between them) open it; the default the store
 *             uses is 1: the first failure opens it, since each failure
 *             may have cost a request the whole timeout.
 *   OPEN      nobody asks the store (allow gives 0: the caller takes
 *             its store-error policy at once) until now_ms reaches the
 *             end of the back-off interval. The first interval lasts
 *             min_ms; each failed probe doubles it, up to max_ms.
 *   PROBING   (half-open) the first caller of allow at or after the end
 *             of the interval wins a compare-and-swap and gets 1: it is
 *             the one probe; every other caller gets 0. The probe's
 *             gk_breaker_success closes the breaker (back-off reset to
 *             min_ms); its gk_breaker_failure opens it again for twice
 *             the previous interval (at most max_ms). A probe that was
 *             granted but not made (the caller found no connection)
 *             is handed back with gk_breaker_release. A probe never
 *             reported (a bug in the caller) is not fatal: after max_ms
 *             the next allow grants a new one.
 *
 * Reports from callers that were allowed while the breaker was CLOSED
 * and finish after it opened are ignored (a failure does not extend the
 * interval, a success does not close it); a success reported while
 * PROBING closes it whoever reports it: it shows the store answers.
 *
 * Transitions are returned as events so that the caller logs one warning
 * per interval (GK_BREAKER_EV_OPENED and GK_BREAKER_EV_PROBE_FAILED:
 * exactly one caller sees each) and audits the opening and the closing
 * (GK_BREAKER_EV_OPENED, GK_BREAKER_EV_CLOSED).
 *
 * Implementation: the state and the end of the interval (or the probe's
 * lapse) share one 64-bit word, (until_ms << 2) | state, changed only by
 * compare-and-swap, so that every transition is one atomic step and, for
 * a given word, exactly one caller wins it.
 */
#ifndef GK_BREAKER_H
#define GK_BREAKER_H

#include <apr_atomic.h>

#include "gk.h"

/* Defaults of the store's breaker (milliseconds; consecutive failures). */
#define GK_BREAKER_MIN_MS_DEFAULT 1000u
#define GK_BREAKER_MAX_MS_DEFAULT 30000u
#define GK_BREAKER_THRESHOLD_DEFAULT 1u

/* The longest back-off bound accepted (one day, milliseconds). */
#define GK_BREAKER_MAX_MS_LIMIT 86400000u

/* The state of a breaker. */
typedef enum {
    GK_BREAKER_CLOSED = 0, /* the store is asked */
    GK_BREAKER_OPEN,       /* the store is not asked until the interval ends */
    GK_BREAKER_PROBING     /* one caller is probing the store */
} gk_breaker_state_e;

/* A transition caused by a call, for logs and audits. */
typedef enum {
    GK_BREAKER_EV_NONE = 0,     /* no transition */
    GK_BREAKER_EV_OPENED,       /* CLOSED -> OPEN (min_ms interval) */
    GK_BREAKER_EV_PROBE_FAILED, /* PROBING -> OPEN (a longer interval) */
    GK_BREAKER_EV_CLOSED        /* PROBING -> CLOSED: the store answers */
} gk_breaker_event_e;

/* A breaker. Initialise with gk_breaker_init; the fields are private
 * (read them with the functions below). Place it in memory shared by the
 * threads that use it; it holds no pointer and needs no cleanup. */
typedef struct {
    volatile apr_uint64_t word;       /* (until_ms << 2) | state; until_ms:
                                       * OPEN the interval's end, PROBING
                                       * when the probe lapses, CLOSED 0 */
    volatile apr_uint32_t failures;   /* consecutive failures while CLOSED */
    volatile apr_uint32_t backoff_ms; /* the interval in force (OPEN,
                                       * PROBING) or min_ms (CLOSED) */
    apr_uint32_t min_ms;              /* first interval */
    apr_uint32_t max_ms;              /* bound of the interval */
    apr_uint32_t threshold;           /* failures that open it */
} gk_breaker_t;

/* Initialise b: CLOSED, back-off min_ms, bounded by max_ms, opening after
 * threshold consecutive failures. Not atomic: call it before the breaker
 * is shared. APR_SUCCESS, or APR_EINVAL (b untouched) when min_ms is 0,
 * max_ms < min_ms, max_ms > GK_BREAKER_MAX_MS_LIMIT or threshold is 0. */
apr_status_t gk_breaker_init(gk_breaker_t *b, apr_uint32_t min_ms,
                             apr_uint32_t max_ms, apr_uint32_t threshold);

/* May the caller ask the store now? 1: yes (CLOSED, or this caller is
 * the one probe); 0: no, take the store-error policy at once. now_ms must
 * not go backwards by much between calls (a monotonic clock); negative
 * values count as 0. */
int gk_breaker_allow(gk_breaker_t *b, apr_int64_t now_ms);

/* The store answered a caller that allow let through. Returns
 * GK_BREAKER_EV_CLOSED when this closed the breaker, else
 * GK_BREAKER_EV_NONE. */
gk_breaker_event_e gk_breaker_success(gk_breaker_t *b, apr_int64_t now_ms);

/* The store failed (timed out, unreachable) for a caller that allow let
 * through. Returns GK_BREAKER_EV_OPENED when this opened a CLOSED breaker,
 * GK_BREAKER_EV_PROBE_FAILED when this was the probe's failure (open again,
 * the interval doubled up to max_ms), else GK_BREAKER_EV_NONE. */
gk_breaker_event_e gk_breaker_failure(gk_breaker_t *b, apr_int64_t now_ms);

/* A probe granted by allow was not made (no free connection, a refused
 * argument): PROBING -> OPEN with the interval already over, so that the
 * next allow grants a new probe. No effect in another state. */
void gk_breaker_release(gk_breaker_t *b);

/* The current state (a snapshot). */
gk_breaker_state_e gk_breaker_state(gk_breaker_t *b);

/* The current back-off interval in milliseconds: min_ms while CLOSED
 * (the next opening's interval), else the interval in force. */
apr_uint32_t gk_breaker_backoff_ms(gk_breaker_t *b);

/* Milliseconds from now_ms until an OPEN breaker lets a probe through
 * (0 when it is not OPEN or the interval is over). */
apr_int64_t gk_breaker_remaining_ms(gk_breaker_t *b, apr_int64_t now_ms);

/* "closed", "open", "probing" ("?" outside the enum). */
const char *gk_breaker_state_name(gk_breaker_state_e s);

/* "none", "opened", "probe-failed", "closed" ("?" outside the enum). */
const char *gk_breaker_event_name(gk_breaker_event_e e);

#endif
