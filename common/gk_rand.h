/*
 * One cryptographically secure random source for the whole suite:
 * correlation IDs, trace and span IDs, CSP nonces, JWT "jti".
 *
 * The bytes come from OpenSSL's public DRBG (RAND_bytes), drawn in blocks
 * into a buffer private to each thread and handed out from there, because
 * a RAND_bytes call has a fixed cost (thousands of instructions: locking,
 * DRBG bookkeeping) that a 16-byte request would pay in full
 * (docs/PERFORMANCE.md, "Randomness and identifiers").
 *
 * The contract:
 *
 *  - Thread-safe without locks: each thread draws from its own buffer; no
 *    byte is ever handed out twice, in one thread or across threads, and
 *    each byte is wiped from the buffer as it is handed out.
 *  - After fork(), call gk_rand_child_init() in the child before it draws
 *    (a module does so in its child_init hook): without it the child would
 *    hand out the bytes its forking thread had buffered, which that thread
 *    hands out in the parent too. OpenSSL reseeds its own DRBG in the child.
 *    common/ is linked into each module with hidden visibility, so each
 *    module has its own buffers and generation: every module that uses
 *    gk_rand (or gk_uuid, gk_trace) calls gk_rand_child_init itself.
 *  - A failure of RAND_bytes is returned, never hidden: there is no
 *    fall-back to a weaker source.
 *  - Nothing here initialises or cleans up OpenSSL globally, and nothing
 *    needs a pool: the buffers are thread-local storage (2 KiB in each
 *    thread that draws), released when the thread exits.
 *  - Buffered bytes sit in the process's memory until handed out, so they
 *    are as secret as the process's memory: use gk_rand for values that
 *    are public once issued (IDs, nonces), not for long-term keys, which
 *    should come from RAND_priv_bytes directly.
 */
#ifndef GK_RAND_H
#define GK_RAND_H

#include <apr_errno.h>

#include "gk.h"

/* Fill buf with n random bytes. APR_SUCCESS, or APR_EGENERAL when OpenSSL
 * fails (its error queue says why); buf is then all zeros. Any n works
 * (n = 0 succeeds); a large request the buffer cannot serve goes to
 * RAND_bytes directly. */
apr_status_t gk_rand_bytes(void *buf, apr_size_t n);

/* Discard what every thread has buffered: each thread refills before it
 * hands out another byte. Call it in a child process right after fork()
 * (httpd: child_init), before any thread of the child draws. Cheap: it
 * bumps a generation number that each thread compares with its own. */
void gk_rand_child_init(void);

#endif
