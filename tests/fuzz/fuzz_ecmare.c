/*
 * Fuzz target: ECMA-262 patterns on PCRE2 (gk_ecma_re).
 *
 * The input is PATTERN NUL SUBJECT (without a NUL, the input is both).
 * Invariants checked (abort() on violation):
 *  - a refused pattern has a message and leaves *out untouched; a
 *    compiled one matches with 1, 0 or -1, and -1 only within the limits
 *    or on a subject that is not UTF-8 (always -1 then);
 *  - "(?:P)" compiles exactly when P does and matches the same; when
 *    "^(?:P)" matches, P does;
 *  - the subject, when it is UTF-8, written as a pattern of \u{...}
 *    escapes, compiles and matches the subject whole;
 *  - code point by code point (the first 16): \s \S [\s] [^\s] [\S] . \d
 *    \w match exactly ECMA-262's sets, computed here.
 * See replay.c for how to build it with libFuzzer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "gk_ecma_re.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static apr_pool_t *root;

/* the class patterns, compiled once */
enum { C_S, C_NS, C_CS, C_CNOTS, C_CNS, C_DOT, C_D, C_W, C_N };
static const char *const CLASS_PAT[C_N] = {
    "^\\s$", "^\\S$", "^[\\s]$", "^[^\\s]$", "^[\\S]$", "^.$", "^\\d$",
    "^\\w$"};
static gk_ecma_re_t *class_re[C_N];

static int ecma_space(uint32_t c)
{
    return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0xa0
           || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028
           || c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000
           || c == 0xfeff;
}

static int ecma_class(int which, uint32_t c)
{
    switch (which) {
    case C_S: case C_CS:
        return ecma_space(c);
    case C_NS: case C_CNOTS: case C_CNS:
        return !ecma_space(c);
    case C_DOT:
        return c != 0x0a && c != 0x0d && c != 0x2028 && c != 0x2029;
    case C_D:
        return c >= '0' && c <= '9';
    default:
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
               || (c >= 'A' && c <= 'Z') || c == '_';
    }
}

/* One UTF-8 sequence at s: its length (0: not UTF-8) and code point. */
static size_t utf8(const uint8_t *s, size_t n, uint32_t *cp)
{
    size_t len, k;
    uint32_t v;

    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
    if (!len || len > n || s[0] > 0xf4) {
        return 0;
    }
    v = s[0] & (0x7f >> len);
    for (k = 1; k < len; k++) {
        if ((s[k] & 0xc0) != 0x80) {
            return 0;
        }
        v = (v << 6) | (s[k] & 0x3f);
    }
    if ((len == 2 && v < 0x80) || (len == 3 && v < 0x800)
        || (len == 4 && v < 0x10000) || v > 0x10ffff
        || (v >= 0xd800 && v <= 0xdfff)) {
        return 0;
    }
    *cp = v;
    return len;
}

static int is_utf8(const uint8_t *s, size_t n)
{
    uint32_t cp;
    size_t i = 0, k;

    while (i < n) {
        if (!(k = utf8(s + i, n - i, &cp))) {
            return 0;
        }
        i += k;
    }
    return 1;
}

static gk_ecma_re_t *compile(apr_pool_t *p, const char *pat, size_t len,
                             const char **err)
{
    gk_ecma_re_t *sentinel = (gk_ecma_re_t *)(void *)&sentinel;
    gk_ecma_re_t *re = sentinel;

    *err = gk_ecma_re_compile(p, pat, len, &re);
    if (*err) {
        if (!**err || re != sentinel) {
            abort();
        }
        return NULL;
    }
    if (!re || re == sentinel) {
        abort();
    }
    return re;
}

static int match(const gk_ecma_re_t *re, const uint8_t *s, size_t n,
                 int utf)
{
    int r = gk_ecma_re_match(re, (const char *)s, n);

    if (r < -1 || r > 1 || (!utf && r != -1)) {
        abort();
    }
    return r;
}

/* the class patterns' PCRE2 code is freed with the root pool */
static void destroy_root(void)
{
    apr_pool_destroy(root);
    root = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const uint8_t *nul = memchr(data, 0, size);
    const char *pat = (const char *)data, *err;
    size_t plen = nul ? (size_t)(nul - data) : size;
    const uint8_t *subj = nul ? nul + 1 : data;
    size_t slen = nul ? size - plen - 1 : size;
    int utf = is_utf8(subj, slen);
    gk_ecma_re_t *re, *wrapped;
    int r;

    if (!root) {
        int k;
        apr_initialize();
        apr_pool_create(&root, NULL);
        atexit(destroy_root);
        for (k = 0; k < C_N; k++) {
            if (gk_ecma_re_compile(root, CLASS_PAT[k],
                                   strlen(CLASS_PAT[k]), &class_re[k])) {
                abort();
            }
        }
    }
    apr_pool_create(&p, root);

    re = compile(p, pat, plen, &err);
    {
        char *w = apr_palloc(p, plen + 5);
        memcpy(w, "(?:", 3);
        memcpy(w + 3, pat, plen);
        w[plen + 3] = ')';
        wrapped = compile(p, w, plen + 4, &err);
        /* "a)(b" becomes "(?:a)(b)": only a refused P may compile */
        if (re && !wrapped) {
            abort();
        }
    }
    if (re) {
        int rw;
        r = match(re, subj, slen, utf);
        rw = match(wrapped, subj, slen, utf);
        if (r >= 0 && rw >= 0 && r != rw) {
            abort();
        }
        {
            char *a = apr_palloc(p, plen + 6);
            gk_ecma_re_t *anch;
            memcpy(a, "^(?:", 4);
            memcpy(a + 4, pat, plen);
            a[plen + 4] = ')';
            anch = compile(p, a, plen + 5, &err);
            if (!anch || (match(anch, subj, slen, utf) == 1 && r == 0)) {
                abort();
            }
        }
    }

    if (utf && slen <= 2048) {
        /* the subject as escapes, and the classes of its code points */
        char *e = apr_palloc(p, slen * 12 + 3), *o = e;
        size_t i = 0, k;
        int n = 0;
        *o++ = '^';
        while (i < slen) {
            uint32_t cp;
            k = utf8(subj + i, slen - i, &cp);
            o += sprintf(o, "\\u{%x}", (unsigned)cp);
            if (n++ < 16) {
                int c;
                for (c = 0; c < C_N; c++) {
                    if (gk_ecma_re_match(class_re[c], (const char *)subj + i,
                                         k)
                        != ecma_class(c, cp)) {
                        abort();
                    }
                }
            }
            i += k;
        }
        *o++ = '$';
        re = compile(p, e, (size_t)(o - e), &err);
        if (!re || gk_ecma_re_match(re, (const char *)subj, slen) != 1) {
            abort();
        }
    }
    apr_pool_destroy(p);
    return 0;
}
