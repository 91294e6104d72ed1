#include <limits.h>
#include <string.h>

#include <apr_atomic.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "gk_rand.h"

/*
 * The size of a thread's buffer: one RAND_bytes call per BLOCK bytes
 * handed out. Chosen by measurement (bench/rand_bench.c, docs/
 * PERFORMANCE.md): a call costs about 6,600 instructions plus 1.7 a byte up
 * to 2 KiB and more beyond, so 2 KiB brings the cost of 16 bytes from
 * 6,616 instructions to 79, and each doubling past it saves only a dozen
 * more for twice the memory in every thread.
 */
#define BLOCK 2048

/* Requests of a block or more that the buffer cannot serve go to
 * RAND_bytes as they are: one call costs them less than the refills they
 * would take (6,600 + 1.7 n instructions against about 5 n). */
#define DIRECT_MIN BLOCK

/* The buffer of one thread: its unread bytes are the last `avail` ones. */
typedef struct {
    apr_size_t avail;
    apr_uint32_t gen;           /* the generation it was filled under */
    unsigned char buf[BLOCK];
} rand_buffer_t;

static __thread rand_buffer_t tbuf;

/* Bumped by gk_rand_child_init: a buffer filled under another generation
 * is discarded unread. */
static volatile apr_uint32_t generation;

static apr_status_t openssl_bytes(unsigned char *out, apr_size_t n)
{
    while (n > 0) {
        int chunk = n > INT_MAX / 2 ? INT_MAX / 2 : (int)n;

        if (RAND_bytes(out, chunk) != 1) {
            return APR_EGENERAL;
        }
        out += chunk;
        n -= (apr_size_t)chunk;
    }
    return APR_SUCCESS;
}

static void discard(rand_buffer_t *t)
{
    memset(t->buf, 0, sizeof(t->buf));
    t->avail = 0;
}

/* gk_rand_bytes when the buffer cannot serve the request as it is: a new
 * generation, an empty buffer, a request larger than what is left. */
static __attribute__((noinline)) apr_status_t
draw_slow(rand_buffer_t *t, unsigned char *out, apr_size_t n)
{
    unsigned char *start = out, *src;
    apr_uint32_t gen = apr_atomic_read32(&generation);
    apr_size_t take;

    if (t->gen != gen) {
        discard(t);
        t->gen = gen;
    }
    if (n >= DIRECT_MIN) {
        if (openssl_bytes(out, n) != APR_SUCCESS) {
            memset(out, 0, n);
            return APR_EGENERAL;
        }
        return APR_SUCCESS;
    }
    while (n > 0) {
        if (!t->avail) {
            if (openssl_bytes(t->buf, BLOCK) != APR_SUCCESS) {
                discard(t);
                memset(start, 0, (apr_size_t)(out - start) + n);
                return APR_EGENERAL;
            }
            t->avail = BLOCK;
        }
        take = n < t->avail ? n : t->avail;
        src = t->buf + (BLOCK - t->avail);
        memcpy(out, src, take);
        memset(src, 0, take);
        t->avail -= take;
        out += take;
        n -= take;
    }
    return APR_SUCCESS;
}

apr_status_t gk_rand_bytes(void *buf, apr_size_t n)
{
    /* with -fPIC, each use of tbuf's address may cost a call to
     * __tls_get_addr: take it once */
    rand_buffer_t *t = &tbuf;
    unsigned char *src;
    apr_size_t avail = t->avail;

    if (n > avail || t->gen != apr_atomic_read32(&generation)) {
        return draw_slow(t, buf, n);
    }
    if (!n) {
        return APR_SUCCESS; /* buf may be NULL: no memcpy */
    }
    src = t->buf + (BLOCK - avail);
    t->avail = avail - n;
    memcpy(buf, src, n);
    memset(src, 0, n);
    return APR_SUCCESS;
}

void gk_rand_child_init(void)
{
    unsigned char prime;

    apr_atomic_inc32(&generation);
    /* OpenSSL sets up its generators on first use (about 9 million
     * instructions, with its configuration file): here, once per process,
     * rather than in a request. Its output is not kept. */
    if (RAND_bytes(&prime, 1) == 1) {
        OPENSSL_cleanse(&prime, sizeof(prime));
    }
}
