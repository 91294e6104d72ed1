/*
 * A JSON writer for log lines built from untrusted bytes (common/gk_json_out.c).
 *
 * The writer fills a caller-owned buffer of fixed capacity and never
 * writes past it; it allocates nothing, so it may run anywhere (an
 * error_log hook included). Whatever the input, the finished text is one
 * valid JSON object on one line, at most `cap` bytes with its newline:
 *
 *  - strings are copied as UTF-8 with '"', '\\' and every control
 *    character (C0 and DEL) escaped (\n \r \t \b \f, else \u00XX); a byte
 *    that does not start a valid UTF-8 sequence (overlong forms,
 *    surrogates and code points above U+10FFFF included) becomes U+FFFD;
 *  - a string may be capped (`max` bytes of input): the cut falls between
 *    characters, and the writer counts the member as truncated;
 *  - a member that no longer fits in the room left is cut to fit (a
 *    string) or left out entirely (anything else), and counted as
 *    truncated: the closing brackets and the newline always fit;
 *  - `reserve` bytes can be held back while the main members are written,
 *    for members that must come last.
 *
 * Thread-safety: none needed; a writer is used by one thread.
 */
#ifndef GK_JSON_OUT_H
#define GK_JSON_OUT_H

#include <apr.h>

#include "gk.h"

/* The deepest nesting of objects and arrays. */
#define GK_JSON_MAX_DEPTH 8

/* The smallest capacity a writer accepts: "{}\n" with room to spare. */
#define GK_JSON_MIN_CAP 16

typedef struct {
    char *buf;
    apr_size_t cap;       /* bytes of buf usable, newline included */
    apr_size_t len;       /* bytes written */
    apr_size_t reserve;   /* bytes held back for the members still to come */
    int depth;            /* open objects and arrays, the outer one counted */
    int first[GK_JSON_MAX_DEPTH]; /* no member yet at this depth */
    char closer[GK_JSON_MAX_DEPTH]; /* '}' or ']' of each level */
    int skip;             /* depth at which an open was refused (0: none) */
    int truncated;        /* members cut or left out */
} gk_json_out_t;

/* Start a line: '{' in buf (cap bytes, at least GK_JSON_MIN_CAP). */
void gk_json_begin(gk_json_out_t *o, char *buf, apr_size_t cap);

/* Close every open object and array and add '\n'. Returns the line's
 * length, newline included; buf is also NUL-terminated when a byte is
 * left for it. */
apr_size_t gk_json_end(gk_json_out_t *o);

/* Members of the current object (key must be plain ASCII without '"',
 * '\\' or controls: the caller's constant), or, with key NULL, elements of
 * the current array. */
void gk_json_obj_open(gk_json_out_t *o, const char *key);
void gk_json_arr_open(gk_json_out_t *o, const char *key);
void gk_json_close(gk_json_out_t *o);

/* A string of len bytes, of which at most max are copied (0: no cap
 * besides the room left). val NULL writes null. */
void gk_json_str(gk_json_out_t *o, const char *key, const char *val,
                 apr_size_t len, apr_size_t max);
/* The same for a NUL-terminated string (NULL: null). */
void gk_json_cstr(gk_json_out_t *o, const char *key, const char *val,
                  apr_size_t max);
void gk_json_int(gk_json_out_t *o, const char *key, apr_int64_t val);
void gk_json_null(gk_json_out_t *o, const char *key);
void gk_json_bool(gk_json_out_t *o, const char *key, int val);

/* Escape len bytes of s into dst (dstcap bytes) as the inside of a JSON
 * string, UTF-8 repaired as above, stopping at the last whole character
 * that fits; no NUL is added. Returns bytes written; *used gets the input
 * bytes consumed. For tests and for callers that build their own text. */
apr_size_t gk_json_escape(char *dst, apr_size_t dstcap, const char *s,
                          apr_size_t len, apr_size_t *used);

#endif
