#include <string.h>

#include "gk_http.h"
#include "gk_rand.h"
#include "gk_uuid.h"

#define COUNTER_MAX 0xfff       /* 12 bits: rand_a */
#define COUNTER_SEED_MASK 0x7ff /* the top bit starts at zero */

/* The two lower-case hex digits of every byte, at 2 * byte. */
static const char hex_pairs[] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
    "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
    "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
    "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

/* The version 7 state of one thread: the last timestamp and counter. */
typedef struct {
    int used;
    apr_uint64_t last_ms;
    unsigned counter;
} v7_state_t;

static __thread v7_state_t v7;

void gk_uuid_format(char out[GK_UUID_LEN + 1], const unsigned char b[16])
{
    /* where the two digits of each byte go */
    static const unsigned char at[16] = {0,  2,  4,  6,  9,  11, 14, 16,
                                         19, 21, 24, 26, 28, 30, 32, 34};
    int i;

    for (i = 0; i < 16; i++) {
        memcpy(out + at[i], hex_pairs + 2 * b[i], 2);
    }
    out[8] = out[13] = out[18] = out[23] = '-';
    out[GK_UUID_LEN] = '\0';
}

apr_status_t gk_uuid7(char out[GK_UUID_LEN + 1], apr_uint64_t now_ms)
{
    unsigned char r[10], b[16];
    v7_state_t *st;
    apr_uint64_t ms;
    unsigned seed, counter;
    apr_status_t rv;
    int i;

    out[0] = '\0';
    if (now_ms > GK_UUID7_MAX_MS) {
        return APR_EINVAL;
    }
    /* r[0..1]: the counter seed (used at a new millisecond); r[2..9]:
     * rand_b. Drawn every time, so that the cost does not vary. */
    if ((rv = gk_rand_bytes(r, sizeof(r))) != APR_SUCCESS) {
        return rv;
    }
    seed = (((unsigned)r[0] << 8) | r[1]) & COUNTER_SEED_MASK;
    /* one look-up of the thread's state (a call to __tls_get_addr in a
     * module), and no call until it is written back */
    st = &v7;
    if (!st->used || now_ms > st->last_ms
        || st->last_ms - now_ms > GK_UUID7_MAX_BACKSTEP_MS) {
        ms = now_ms;
        counter = seed;
    }
    else if (st->counter < COUNTER_MAX) {
        ms = st->last_ms;
        counter = st->counter + 1;
    }
    else if (st->last_ms < GK_UUID7_MAX_MS) {
        /* rollover: borrow the next millisecond */
        ms = st->last_ms + 1;
        counter = seed;
    }
    else {
        return APR_EINVAL;
    }
    st->used = 1;
    st->last_ms = ms;
    st->counter = counter;
    for (i = 0; i < 6; i++) {
        b[i] = (unsigned char)(ms >> (40 - 8 * i));
    }
    b[6] = (unsigned char)(0x70 | (counter >> 8));
    b[7] = (unsigned char)(counter & 0xff);
    b[8] = (unsigned char)(0x80 | (r[2] & 0x3f));
    memcpy(b + 9, r + 3, 7);
    gk_uuid_format(out, b);
    return APR_SUCCESS;
}

apr_status_t gk_uuid4(char out[GK_UUID_LEN + 1])
{
    unsigned char b[16];
    apr_status_t rv;

    out[0] = '\0';
    if ((rv = gk_rand_bytes(b, sizeof(b))) != APR_SUCCESS) {
        return rv;
    }
    b[6] = (unsigned char)(0x40 | (b[6] & 0x0f));
    b[8] = (unsigned char)(0x80 | (b[8] & 0x3f));
    gk_uuid_format(out, b);
    return APR_SUCCESS;
}


int gk_uuid_parse(const char *s, apr_size_t len, unsigned char out[16])
{
    const unsigned char *u = (const unsigned char *)s;
    unsigned char b[16];
    apr_size_t i, n = 0;

    if (len != GK_UUID_LEN) {
        return 0;
    }
    for (i = 0; i < GK_UUID_LEN; i += 2) {
        int hi, lo;
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (u[i] != '-') {
                return 0;
            }
            i++;
        }
        hi = gk_http_hexval(u[i]);
        lo = gk_http_hexval(u[i + 1]);
        if (hi < 0 || lo < 0) {
            return 0;
        }
        b[n++] = (unsigned char)(hi << 4 | lo);
    }
    if (out) {
        memcpy(out, b, sizeof(b));
    }
    return 1;
}

int gk_uuid_is_valid(const char *s, apr_size_t len)
{
    return gk_uuid_parse(s, len, NULL);
}
