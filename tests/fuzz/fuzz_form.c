/*
 * Fuzz target: the token endpoint's request body (gk_form): the
 * Content-Type check and the urlencoded parser.
 *
 * The input splits at its first '\n' into a Content-Type (up to its first
 * NUL) and a body (the rest, as bytes); without a '\n' the whole input is
 * both. max_fields is the Content-Type's length modulo 40 (40 when it is
 * empty). Invariants checked (abort() on violation):
 *  - gk_form_media_type_ok returns 0 or 1, and 1 only when the value,
 *    after spaces and tabs, starts with the media type in some case
 *    followed by the end, white space or ';';
 *  - when gk_form_parse succeeds: *dup is NULL; there are at most
 *    max_fields fields, exactly as many as the non-empty '&'-separated
 *    pairs; every name is non-empty; every name and value is valid UTF-8
 *    (checked here with a decoder of its own) and no longer than the
 *    body; no two names are equal ignoring ASCII case; gk_form_get finds
 *    each; and re-encoding every pair (this file's encoder, two ways:
 *    '+' for spaces and unreserved bytes bare, or every byte as %XX) and
 *    parsing again gives the same fields in the same order;
 *  - when it fails: *out is NULL, the error is non-empty printable ASCII,
 *    and *dup is set exactly when the error is a repeated name (then a
 *    non-empty name).
 * See replay.c for how to build it with libFuzzer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_general.h>
#include <apr_lib.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "gk_form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static apr_pool_t *root;

/* Valid UTF-8 (RFC 3629), by the bit patterns of each length. */
static int utf8_ok(const unsigned char *s)
{
    while (*s) {
        unsigned long cp;
        int k, j;

        if (s[0] < 0x80) {
            s++;
            continue;
        }
        if ((s[0] & 0xe0) == 0xc0) {
            k = 1;
            cp = s[0] & 0x1fu;
        }
        else if ((s[0] & 0xf0) == 0xe0) {
            k = 2;
            cp = s[0] & 0x0fu;
        }
        else if ((s[0] & 0xf8) == 0xf0) {
            k = 3;
            cp = s[0] & 0x07u;
        }
        else {
            return 0;
        }
        for (j = 1; j <= k; j++) {
            if ((s[j] & 0xc0) != 0x80) {
                return 0; /* the NUL terminator fails here too */
            }
            cp = (cp << 6) | (s[j] & 0x3fu);
        }
        if (cp < (k == 1 ? 0x80ul : k == 2 ? 0x800ul : 0x10000ul)
            || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
            return 0;
        }
        s += k + 1;
    }
    return 1;
}

/* s percent-encoded: all = every byte as %XX; else unreserved bytes bare
 * and space as '+'. */
static char *encode(apr_pool_t *p, const char *s, int all)
{
    static const char hex[] = "0123456789ABCDEF";
    char *r = apr_palloc(p, 3 * strlen(s) + 1), *w = r;

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (!all && c == ' ') {
            *w++ = '+';
        }
        else if (!all && (apr_isalnum(c) || strchr("*-._", c))) {
            *w++ = (char)c;
        }
        else {
            *w++ = '%';
            *w++ = hex[c >> 4];
            *w++ = hex[c & 15];
        }
    }
    *w = '\0';
    return r;
}

static void check_media_type(const char *ct)
{
    static const char want[] = "application/x-www-form-urlencoded";
    int ok = gk_form_media_type_ok(ct);
    const char *s = ct;
    char after;

    if (ok != 0 && ok != 1) {
        abort();
    }
    if (!ok) {
        return;
    }
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    if (strncasecmp(s, want, sizeof(want) - 1)) {
        abort();
    }
    after = s[sizeof(want) - 1];
    if (after && after != ' ' && after != '\t' && after != ';') {
        abort();
    }
}

/* Same fields in the same order, byte for byte. */
static void same_fields(const apr_table_t *a, const apr_table_t *b)
{
    const apr_array_header_t *x = apr_table_elts(a), *y = apr_table_elts(b);
    const apr_table_entry_t *ex = (const apr_table_entry_t *)x->elts;
    const apr_table_entry_t *ey = (const apr_table_entry_t *)y->elts;
    int i;

    if (x->nelts != y->nelts) {
        abort();
    }
    for (i = 0; i < x->nelts; i++) {
        if (strcmp(ex[i].key, ey[i].key) || strcmp(ex[i].val, ey[i].val)) {
            abort();
        }
    }
}

static void check_parsed(apr_pool_t *p, const char *body, size_t len,
                         apr_size_t max, const apr_table_t *t)
{
    const apr_array_header_t *a = apr_table_elts(t);
    const apr_table_entry_t *e = (const apr_table_entry_t *)a->elts;
    size_t pairs = 0, i;
    int f, g, all;

    for (i = 0; i < len; i++) {
        pairs += body[i] != '&' && (i + 1 == len || body[i + 1] == '&');
    }
    if (a->nelts < 0 || (size_t)a->nelts > max || (size_t)a->nelts != pairs) {
        abort();
    }
    for (f = 0; f < a->nelts; f++) {
        const char *k = e[f].key, *v = e[f].val;
        if (!k || !v || !*k || strlen(k) > len || strlen(v) > len
            || !utf8_ok((const unsigned char *)k)
            || !utf8_ok((const unsigned char *)v)) {
            abort();
        }
        if (gk_form_get(t, k) != v) {
            abort();
        }
        for (g = 0; g < f; g++) {
            if (!strcasecmp(e[g].key, k)) {
                abort();
            }
        }
    }
    for (all = 0; all < 2; all++) {
        char *again = "";
        apr_table_t *t2 = NULL;
        const char *err, *dup = "x";

        for (f = 0; f < a->nelts; f++) {
            again = apr_pstrcat(p, again, f ? "&" : "",
                                encode(p, e[f].key, all), "=",
                                encode(p, e[f].val, all), NULL);
        }
        err = gk_form_parse(p, again, strlen(again), max, &t2, &dup);
        if (err || dup || !t2) {
            abort();
        }
        same_fields(t, t2);
    }
}

static void check_error(const char *err, const apr_table_t *t,
                        const char *dup)
{
    const unsigned char *u = (const unsigned char *)err;

    if (t || !*u) {
        abort();
    }
    for (; *u; u++) {
        if (*u < 0x20 || *u > 0x7e) {
            abort();
        }
    }
    if (!dup != !strstr(err, "repeated") || (dup && !*dup)) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const uint8_t *nl = memchr(data, '\n', size);
    size_t ct_len = nl ? (size_t)(nl - data) : size;
    const char *ct, *body = (const char *)data, *err, *dup = "unset";
    size_t len = size;
    apr_size_t max;
    apr_table_t *t = (apr_table_t *)data; /* must be reset */

    if (!root) {
        apr_initialize();
        apr_pool_create(&root, NULL);
    }
    apr_pool_create(&p, root);
    ct = apr_pstrmemdup(p, (const char *)data, ct_len);
    if (nl) {
        body = (const char *)nl + 1;
        len = size - ct_len - 1;
    }
    max = ct_len ? ct_len % 40 : 40;

    check_media_type(ct);
    err = gk_form_parse(p, body, len, max, &t, &dup);
    if (!err) {
        if (!t || dup) {
            abort();
        }
        check_parsed(p, body, len, max, t);
    }
    else {
        check_error(err, t, dup);
    }
    apr_pool_destroy(p);
    return 0;
}
