/*
 * ECMA-262 regular expressions (JSON Schema "pattern") on PCRE2 (issue
 * 15). The dialect is ECMA-262's Pattern with the u flag and no other
 * flag, as the JSON Schema test suite reads "pattern". A pattern is checked
 * and translated once at startup: the constructs whose meaning differs
 * between PCRE2 and ECMA-262 are refused (POSIX classes, \A \Z \z \h \R
 * \K \Q...\E \G \X \C \N, inline flags, possessive quantifiers, atomic
 * groups, recursion and subroutines, conditionals, callouts, comments,
 * backtracking verbs, and what the u flag makes an error: a lone { } or ],
 * an escaped ordinary letter, \0 before a digit, a backreference to a
 * group that does not exist, a quantified assertion, a class escape as a
 * range end), the classes that still differ (\s, \S, '.', \v) are
 * rewritten to ECMA's meaning, and it is compiled with PCRE2_UTF |
 * PCRE2_DOLLAR_ENDONLY | PCRE2_ALLOW_EMPTY_CLASS | PCRE2_ALT_BSUX |
 * PCRE2_MATCH_UNSET_BACKREF (and PCRE2_EXTRA_ALT_BSUX), without PCRE2_UCP
 * (\d \w \b stay ASCII), and JIT-compiled when the JIT is available.
 * Matching is a search (not anchored), with a match limit: no pattern and
 * subject can stall a thread. A compiled expression is read-only;
 * gk_ecma_re_match is safe from any thread at once (each thread keeps its
 * own match data, made on its first match and freed when it exits).
 *
 * What still differs from ECMA-262 (docs/mod_gk_validate.md):
 *  - a lookbehind must have a bounded length ((?<=a+) is refused), and
 *    its captures are made left to right;
 *  - a quantified group keeps the captures of earlier iterations (ECMA
 *    clears them at each iteration): only backreferences can tell;
 *  - group names are ASCII letters, digits and '_' (PCRE2 10.42);
 *  - counted repeats are at most 65535 ({1,70000} is refused), groups
 *    nest at most 250 deep;
 *  - \p{...}: PCRE2's Unicode tables and its loose matching of script
 *    names (\p{Script=greek} is accepted); \p{Assigned} is \P{Cn};
 *  - a match that needs more than the match limit (see below) fails
 *    (-1) where ECMA would run on.
 */
#ifndef GK_ECMA_RE_H
#define GK_ECMA_RE_H

#include "gk.h"

typedef struct gk_ecma_re_t gk_ecma_re_t;

/* The match limit (PCRE2's match_limit; the JIT honours only this one).
 * PCRE2 counts it afresh at each start position; a search that is not
 * anchored gets, for all its start positions together, about 100 times
 * this: beyond 100 positions the limit of each position is shrunk in
 * proportion (down to 100 at the least). A depth limit (10000) and a
 * heap limit (8 MiB) bound the interpreter too, and the JIT's stack is
 * at most 1 MiB a thread (about 30,000 repetitions of a group). */
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

/* The same for a subject the caller knows to be valid UTF-8 (every string
 * jansson parsed or made with json_string is): PCRE2 skips its own check
 * of the subject. Invalid UTF-8 here is undefined behaviour. */
int gk_ecma_re_match_utf8(const gk_ecma_re_t *re, const char *subject,
                          apr_size_t len);

#endif
