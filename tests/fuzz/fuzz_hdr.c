/*
 * Fuzz target: response header fields (gk_hdr), what mod_gk_headers does
 * with the Vary a backend sends and the names and values of its
 * configuration.
 *
 * Invariants checked (abort() on violation):
 *  - gk_hdr_is_token accepts exactly non-empty strings of RFC 9110 tchars;
 *  - gk_hdr_is_value accepts exactly non-empty visible ASCII with inner
 *    spaces and tabs;
 *  - gk_hdr_vary_merge of the two halves of the input is NULL, "*", or a
 *    list of tokens joined by ", " with no duplicate (case-insensitive),
 *    which is a valid value and merges with itself to itself; every token
 *    of the second half is in it;
 *  - gk_hdr_hsts_parse of the input split at spaces either fails or gives
 *    "max-age=N[; includeSubDomains][; preload]", which parses again
 *    (split at "; ") to itself; preload only with a year and subdomains;
 *  - gk_hdr_forwarded_https of the halves never reads past them, and
 *    with no Forwarded it follows X-Forwarded-Proto's last member;
 *  - gk_hdr_target_path gives NULL or a string that starts with '/',
 *    holds only 0x21-0x7E and no '#', and is a suffix of the input (or
 *    "/" plus one) that maps to itself.
 * See replay.c for how to build it with libFuzzer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "gk_hdr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static apr_pool_t *root;

static int ref_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int ref_token(const char *s)
{
    if (!*s) {
        return 0;
    }
    for (; *s; s++) {
        if (!ref_tchar((unsigned char)*s)) {
            return 0;
        }
    }
    return 1;
}

static int ref_value(const char *s)
{
    size_t n = strlen(s), i;

    if (!n || s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' '
        || s[n - 1] == '\t') {
        return 0;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(c == '\t' || (c >= 0x20 && c <= 0x7e))) {
            return 0;
        }
    }
    return 1;
}

static void check_list(apr_pool_t *p, const char *m)
{
    char *copy, *tok, *last;
    apr_array_header_t *seen = apr_array_make(p, 8, sizeof(char *));
    int i;

    if (!strcmp(m, "*")) {
        return;
    }
    if (!gk_hdr_is_value(m)) {
        abort();
    }
    copy = apr_pstrdup(p, m);
    for (tok = apr_strtok(copy, ",", &last); tok;
         tok = apr_strtok(NULL, ",", &last)) {
        if (tok != copy) {
            if (*tok != ' ') {
                abort();
            }
            tok++;
        }
        if (!gk_hdr_is_token(tok)) {
            abort();
        }
        for (i = 0; i < seen->nelts; i++) {
            if (!strcasecmp(APR_ARRAY_IDX(seen, i, char *), tok)) {
                abort();
            }
        }
        APR_ARRAY_PUSH(seen, char *) = tok;
    }
    if (strcmp(gk_hdr_vary_merge(p, m, m), m)) {
        abort();
    }
}

static void check_hsts(apr_pool_t *p, char *z)
{
    const char *argv[8], *v = NULL, *v2 = NULL;
    char *tok, *last, *copy;
    int n = 0;

    for (tok = apr_strtok(z, " ", &last); tok && n < 8;
         tok = apr_strtok(NULL, " ", &last)) {
        argv[n++] = tok;
    }
    if (gk_hdr_hsts_parse(p, n, argv, 315360000L, &v)) {
        if (v) {
            abort();
        }
        return;
    }
    if (!v || strncmp(v, "max-age=", 8)) {
        abort();
    }
    if (strstr(v, "preload") && (!strstr(v, "includeSubDomains")
                                 || atol(v + 8) < GK_HDR_HSTS_PRELOAD_MIN)) {
        abort();
    }
    copy = apr_pstrdup(p, v);
    n = 0;
    for (tok = apr_strtok(copy, ";", &last); tok && n < 8;
         tok = apr_strtok(NULL, ";", &last)) {
        argv[n++] = *tok == ' ' ? tok + 1 : tok;
    }
    if (gk_hdr_hsts_parse(p, n, argv, 315360000L, &v2) || strcmp(v, v2)) {
        abort();
    }
}

static void check_forwarded(apr_pool_t *p, const char *a, const char *b)
{
    const char *l = strrchr(b, ',');
    char *m = apr_pstrdup(p, l ? l + 1 : b);
    char *e = m + strlen(m);

    (void)gk_hdr_forwarded_https(a, b);
    (void)gk_hdr_forwarded_https(a, NULL);
    while (*m == ' ' || *m == '\t') {
        m++;
    }
    while (e > m && (e[-1] == ' ' || e[-1] == '\t')) {
        *--e = '\0';
    }
    if (e - m >= 2 && *m == '"' && e[-1] == '"') {
        m++;
        *--e = '\0';
    }
    if (gk_hdr_forwarded_https(NULL, b) != !strcasecmp(m, "https")) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    char *z, *a, *b;
    const char *m;
    size_t half = size / 2;

    if (!root) {
        apr_initialize();
        apr_pool_create(&root, NULL);
    }
    apr_pool_create(&p, root);
    z = apr_pstrmemdup(p, (const char *)data, size);
    if (gk_hdr_is_token(z) != ref_token(z)
        || gk_hdr_is_value(z) != ref_value(z)) {
        abort();
    }
    a = apr_pstrmemdup(p, (const char *)data, half);
    b = apr_pstrmemdup(p, (const char *)data + half, size - half);
    m = gk_hdr_vary_merge(p, a, b);
    if (m) {
        check_list(p, m);
        /* the second half's members are all there */
        if (strcmp(m, "*") && strcmp(gk_hdr_vary_merge(p, m, b), m)) {
            abort();
        }
    }
    check_forwarded(p, a, b);
    {
        const char *t = gk_hdr_target_path(p, z), *c;
        if (t) {
            size_t tl = strlen(t), zl = strlen(z);
            if (t[0] != '/' || strchr(t, '#')) {
                abort();
            }
            for (c = t; *c; c++) {
                if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f) {
                    abort();
                }
            }
            if (strcmp(gk_hdr_target_path(p, t), t)) {
                abort();
            }
            if (!strstr(z, t[1] ? t + 1 : t) && tl > 1) {
                abort();
            }
            (void)zl;
        }
    }
    check_hsts(p, z);
    apr_pool_destroy(p);
    return 0;
}
