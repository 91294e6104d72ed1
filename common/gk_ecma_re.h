/*
 * ECMA-262 regular expressions (JSON Schema "pattern") on PCRE2 (issue
 * 15). A pattern is checked and translated once at startup: the
 * constructs whose meaning differs between PCRE2 and ECMA-262 are refused
 * (POSIX classes, \A \Z \z \h \R \K \Q...\E, inline flags, possessive and
 * atomic groups, recursion...), the classes that still differ (\s, \S,
 * '.') are rewritten to ECMA's meaning, and it is compiled with
 * PCRE2_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_ALLOW_EMPTY_CLASS |
 * PCRE2_ALT_BSUX (and PCRE2_EXTRA_ALT_BSUX), without PCRE2_UCP, and
 * JIT-compiled when the JIT is available. Matching is a search (not
 * anchored), with a match limit: no pattern and subject can stall a
 * thread. A compiled expression is read-only; gk_ecma_re_match is safe
 * from any thread at once.
 */
#ifndef GK_ECMA_RE_H
#define GK_ECMA_RE_H

#include "gk.h"

typedef struct gk_ecma_re_t gk_ecma_re_t;

/* The match limit (PCRE2's match_limit; the JIT honours only this one). */
#define GK_ECMA_RE_MATCH_LIMIT 100000

/* Check, translate and compile the len bytes of an ECMA-262 pattern
 * (UTF-8). NULL and *out on success (lives as long as p); otherwise a
 * message saying what is refused and at which character offset, *out
 * untouched. */
const char *gk_ecma_re_compile(apr_pool_t *p, const char *pattern,
                               apr_size_t len, gk_ecma_re_t **out);

/* Search the len bytes of subject (UTF-8, may hold NUL): 1 match, 0 no
 * match, -1 the match limit was hit (callers fail closed) or another
 * error of the matcher. */
int gk_ecma_re_match(const gk_ecma_re_t *re, const char *subject,
                     apr_size_t len);

#endif
