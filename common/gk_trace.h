/*
 * Request correlation: the correlation-ID grammar, and W3C Trace Context
 * level 1's traceparent (https://www.w3.org/TR/trace-context/).
 *
 * Values are taken as httpd gives a request header's value: leading and
 * trailing white space already stripped. The parsers strip nothing: a
 * value with white space around it (or a NUL, or a comma from two header
 * fields folded into one) is invalid, and for traceparent that means the
 * specification's "restart the trace".
 */
#ifndef GK_TRACE_H
#define GK_TRACE_H

#include <apr_errno.h>

#include "gk.h"

/* ---- correlation IDs ---------------------------------------------------- */

#define GK_CORRID_MAX 128

/* Is s (len bytes) a correlation ID: 1 to GK_CORRID_MAX characters, each
 * an ASCII letter, a digit or one of "._:-"? Such an ID is safe anywhere:
 * a header, a log line, a CSV field, a URL. */
int gk_corrid_is_valid(const char *s, apr_size_t len);

/* ---- traceparent -------------------------------------------------------- */

/* Characters of a version 00 traceparent, without a NUL. */
#define GK_TRACEPARENT_LEN 55

/* trace-flags bits: sampled (level 1); random trace-id (level 2). */
#define GK_TRACE_FLAG_SAMPLED 0x01
#define GK_TRACE_FLAG_RANDOM 0x02

typedef struct {
    unsigned char version;      /* as received: 0x00 to 0xfe */
    unsigned char trace_id[16]; /* never all zeros */
    unsigned char parent_id[8]; /* never all zeros */
    unsigned char flags;        /* all eight bits, as received */
} gk_traceparent_t;

/* Parse a traceparent value of len bytes, as the specification says:
 *  - version: two lower-case hex digits and a '-'; "ff" is invalid;
 *  - version 00: exactly "00-<32 hex trace-id>-<16 hex parent-id>-<2 hex
 *    flags>", 55 characters, hex in lower case;
 *  - a higher version: at least 55 characters, the first 55 as for 00, and
 *    either nothing after them or a '-' (fields of that version, ignored);
 *  - a trace-id or parent-id of all zeros is invalid.
 * Reads no byte at or past s[len]. Returns 1 and fills out, else 0 (out
 * untouched). The flags are kept whole: a caller that propagates them in
 * version 00 keeps the bits it knows (GK_TRACE_FLAG_SAMPLED) and clears
 * the others, as the specification asks. */
int gk_traceparent_parse(const char *s, apr_size_t len,
                         gk_traceparent_t *out);

/* Write a version 00 traceparent (55 characters and a NUL) from a trace-id,
 * a parent-id and the flags, as given (the caller keeps the IDs non-zero
 * and the flags to the bits it means). */
void gk_traceparent_format(char out[GK_TRACEPARENT_LEN + 1],
                           const unsigned char trace_id[16],
                           const unsigned char parent_id[8],
                           unsigned char flags);

/* Lower-case hex of n bytes into out (2 n characters and a NUL). */
void gk_trace_hex(char *out, const unsigned char *bin, apr_size_t n);

/* A new random trace-id (16 bytes) or span-id (8 bytes, the parent-id of
 * the requests this one makes), from gk_rand, never all zeros. APR_SUCCESS,
 * or gk_rand_bytes' error (id is then all zeros: invalid). */
apr_status_t gk_trace_new_trace_id(unsigned char id[16]);
apr_status_t gk_trace_new_span_id(unsigned char id[8]);

#endif
