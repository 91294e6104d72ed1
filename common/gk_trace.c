#include <string.h>

#include "gk_rand.h"
#include "gk_trace.h"

static const char hex_lc[] = "0123456789abcdef";

/* ---- correlation IDs ---------------------------------------------------- */

/* 1 for the bytes a correlation ID may hold: A-Z a-z 0-9 . _ : - */
static const unsigned char corrid_chars[256] = {
    ['.'] = 1, ['_'] = 1, [':'] = 1, ['-'] = 1,
    ['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1,
};

int gk_corrid_is_valid(const char *s, apr_size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    unsigned ok = 1;
    apr_size_t i;

    if (len < 1 || len > GK_CORRID_MAX) {
        return 0;
    }
    /* branch-free over the ID: one table load a byte */
    for (i = 0; i < len; i++) {
        ok &= corrid_chars[u[i]];
    }
    return (int)ok;
}

/* ---- traceparent -------------------------------------------------------- */

/* Offsets in a traceparent. */
#define TP_TRACE 3
#define TP_PARENT 36
#define TP_FLAGS 53

/* 1 + the value of each lower-case hex digit; 0 for every other byte. */
static const unsigned char hexlc_value[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,
    ['6'] = 7,  ['7'] = 8,  ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12,
    ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16};

/* Decode 2 n lower-case hex digits into n bytes; 0 on any other byte. */
static int hexlc_decode(const char *s, apr_size_t n, unsigned char *out)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t i;

    for (i = 0; i < n; i++) {
        unsigned hi = hexlc_value[u[2 * i]], lo = hexlc_value[u[2 * i + 1]];
        if (!hi || !lo) {
            return 0;
        }
        out[i] = (unsigned char)((hi - 1) << 4 | (lo - 1));
    }
    return 1;
}

static int all_zero(const unsigned char *b, apr_size_t n)
{
    unsigned char acc = 0;
    apr_size_t i;

    for (i = 0; i < n; i++) {
        acc |= b[i];
    }
    return acc == 0;
}

int gk_traceparent_parse(const char *s, apr_size_t len,
                         gk_traceparent_t *out)
{
    gk_traceparent_t tp;

    if (len < GK_TRACEPARENT_LEN || !hexlc_decode(s, 1, &tp.version)
        || tp.version == 0xff || s[2] != '-') {
        return 0;
    }
    if (tp.version == 0x00 ? len != GK_TRACEPARENT_LEN
                           : len > GK_TRACEPARENT_LEN
                                 && s[GK_TRACEPARENT_LEN] != '-') {
        return 0;
    }
    if (!hexlc_decode(s + TP_TRACE, 16, tp.trace_id)
        || s[TP_PARENT - 1] != '-'
        || !hexlc_decode(s + TP_PARENT, 8, tp.parent_id)
        || s[TP_FLAGS - 1] != '-' || !hexlc_decode(s + TP_FLAGS, 1, &tp.flags)
        || all_zero(tp.trace_id, 16) || all_zero(tp.parent_id, 8)) {
        return 0;
    }
    *out = tp;
    return 1;
}

void gk_trace_hex(char *out, const unsigned char *bin, apr_size_t n)
{
    apr_size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = hex_lc[bin[i] >> 4];
        out[2 * i + 1] = hex_lc[bin[i] & 0x0f];
    }
    out[2 * n] = '\0';
}

void gk_traceparent_format(char out[GK_TRACEPARENT_LEN + 1],
                           const unsigned char trace_id[16],
                           const unsigned char parent_id[8],
                           unsigned char flags)
{
    out[0] = '0';
    out[1] = '0';
    out[2] = '-';
    gk_trace_hex(out + TP_TRACE, trace_id, 16);
    out[TP_PARENT - 1] = '-';
    gk_trace_hex(out + TP_PARENT, parent_id, 8);
    out[TP_FLAGS - 1] = '-';
    gk_trace_hex(out + TP_FLAGS, &flags, 1);
}

/* n random bytes, drawn again in the (2^-64 or less) case of all zeros. */
static apr_status_t new_id(unsigned char *id, apr_size_t n)
{
    apr_status_t rv;

    do {
        if ((rv = gk_rand_bytes(id, n)) != APR_SUCCESS) {
            return rv;
        }
    } while (all_zero(id, n));
    return APR_SUCCESS;
}

apr_status_t gk_trace_new_trace_id(unsigned char id[16])
{
    return new_id(id, 16);
}

apr_status_t gk_trace_new_span_id(unsigned char id[8])
{
    return new_id(id, 8);
}
