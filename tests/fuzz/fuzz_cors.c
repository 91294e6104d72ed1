/*
 * Fuzz target: CORS origins and preflights (gk_cors), what mod_gk_headers
 * does with a request's Origin and Access-Control-Request-Headers and
 * with the origins an administrator configured.
 *
 * Invariants checked (abort() on violation):
 *  1. when gk_cors_origin_parse accepts the input, it is visible ASCII
 *     with no ',', ' ', '@', nor '/' after the "://"; gk_cors_allowed_parse
 *     takes the same text as it is, and that exact entry matches it;
 *  2. whenever gk_cors_allowed_parse accepts the input (up to its first
 *     NUL), its canonical text is accepted again unchanged, and, for an
 *     exact entry, is an origin gk_cors_origin_parse accepts;
 *  3. with the input split at its first '\n' into an allowed entry A and a
 *     request origin O: when A is a wildcard that matches O, O has A's
 *     scheme and port and a host longer than ".DOMAIN" that ends with it
 *     (and an exact A matches only O equal to its text);
 *  4. gk_cors_check_preflight on a fixed policy with the input as
 *     Access-Control-Request-Headers never crashes, and when it allows,
 *     every member of Access-Control-Allow-Headers is a lower-case token
 *     (or "*") and the request's list was one of 64 tokens at most in
 *     8192 bytes at most.
 * gk_cors_public_suffix is not called (it reads files). See replay.c for
 * how to build it with libFuzzer (add -lpsl to the libraries).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "gk_cors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static apr_pool_t *root;

/* Is c a lower-case tchar (RFC 9110)? */
static int lower_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
           || (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Invariant 1: what origin_parse accepts. */
static void check_origin(apr_pool_t *p, const char *v, size_t n)
{
    gk_cors_origin_t o;
    gk_cors_allowed_t a;
    const char *sep, *text;
    size_t i;

    if (!gk_cors_origin_parse(v, n, &o)) {
        return;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c <= 0x20 || c >= 0x7f || c == ',' || c == '@') {
            abort();
        }
    }
    text = apr_pstrmemdup(p, v, n);
    sep = strstr(text, "://");
    if (!sep || strchr(sep + 3, '/')) {
        abort();
    }
    if (o.scheme != v || o.scheme_len != (size_t)(sep - text)
        || o.host != v + (sep - text) + 3 || o.host_len == 0
        || o.port < 0 || o.port > 65535) {
        abort();
    }
    if (gk_cors_allowed_parse(p, text, &a) != NULL) {
        abort();
    }
    if (a.wildcard || a.len != n || strcmp(a.text, text) != 0
        || a.o.port != o.port || a.o.host_len != o.host_len
        || a.o.scheme_len != o.scheme_len) {
        abort();
    }
    if (!gk_cors_allowed_match(&a, &o)) {
        abort();
    }
    if (gk_cors_check_origin(NULL, text) != GK_CORS_ORIGIN_REFUSED) {
        abort();
    }
}

/* Invariant 2: the canonical form of an allowed entry is a fixed point. */
static void check_allowed(apr_pool_t *p, const char *text)
{
    gk_cors_allowed_t a, b;
    gk_cors_origin_t o;

    if (gk_cors_allowed_parse(p, text, &a) != NULL) {
        return;
    }
    if (strcmp(a.text, text) != 0 || a.len != strlen(a.text)) {
        abort();
    }
    if (gk_cors_allowed_parse(p, a.text, &b) != NULL
        || strcmp(a.text, b.text) != 0 || a.wildcard != b.wildcard
        || a.o.port != b.o.port || a.o.host_len != b.o.host_len) {
        abort();
    }
    if (!a.wildcard) {
        if (!gk_cors_origin_parse(a.text, a.len, &o)
            || !gk_cors_allowed_match(&a, &o)) {
            abort();
        }
    }
    else if (gk_cors_origin_parse(a.text, a.len, &o)) {
        abort();    /* "*" is never in an origin */
    }
}

/* Invariant 3: an allowed entry and an origin, one per line. */
static void check_match(apr_pool_t *p, const char *data, size_t size)
{
    const char *nl = memchr(data, '\n', size);
    const char *atext, *tail;
    gk_cors_allowed_t a;
    gk_cors_origin_t o;
    size_t olen;

    if (!nl) {
        return;
    }
    atext = apr_pstrmemdup(p, data, (apr_size_t)(nl - data));
    olen = size - (size_t)(nl - data) - 1;
    if (gk_cors_allowed_parse(p, atext, &a) != NULL
        || !gk_cors_origin_parse(nl + 1, olen, &o)
        || !gk_cors_allowed_match(&a, &o)) {
        return;
    }
    if (o.scheme_len != a.o.scheme_len
        || memcmp(o.scheme, a.o.scheme, o.scheme_len) != 0
        || o.port != a.o.port) {
        abort();
    }
    if (!a.wildcard) {
        if (olen != a.len || memcmp(nl + 1, a.text, olen) != 0) {
            abort();
        }
        return;
    }
    if (o.host_len <= a.o.host_len + 1) {
        abort();
    }
    tail = o.host + o.host_len - a.o.host_len;
    if (tail[-1] != '.' || memcmp(tail, a.o.host, a.o.host_len) != 0
        || tail - 1 == o.host) {
        abort();
    }
}

/* Is every member of the list rh a token, are there 64 at most and is rh
 * 8192 bytes at most? */
static int good_list(const char *rh)
{
    const char *s = rh;
    int n = 0;

    if (strlen(rh) > 8192) {
        return 0;
    }
    while (*s) {
        const char *b, *e;
        while (*s == ' ' || *s == '\t') {
            s++;
        }
        b = s;
        s += strcspn(s, ",");
        e = s;
        if (*s) {
            s++;
        }
        while (e > b && (e[-1] == ' ' || e[-1] == '\t')) {
            e--;
        }
        if (e == b) {
            continue;
        }
        if (++n > 64) {
            return 0;
        }
        for (; b < e; b++) {
            unsigned char c = (unsigned char)*b;
            if (!lower_tchar(c) && !(c >= 'A' && c <= 'Z')) {
                return 0;
            }
        }
    }
    return 1;
}

/* Invariant 4: a preflight with the input as the requested headers. */
static void check_preflight(apr_pool_t *p, const char *rh)
{
    static const char *const methods[] = {"PUT", "DELETE"};
    static const char *const headers[] = {"Content-Type", "X-Api-Key",
                                          "Authorization"};
    gk_cors_allowed_t origins[2];
    gk_cors_policy_t pol;
    const char *ah;
    int any;

    if (gk_cors_allowed_parse(p, "https://app.example.com", &origins[0])
        || gk_cors_allowed_parse(p, "https://*.example.com", &origins[1])) {
        abort();
    }
    for (any = 0; any < 2; any++) {
        gk_cors_result_e r;
        const char *m;

        memset(&pol, 0, sizeof(pol));
        pol.origins = origins;
        pol.norigins = 2;
        pol.methods = methods;
        pol.nmethods = 2;
        pol.headers = headers;
        pol.nheaders = any ? 1 : 3;
        pol.any_header = any;
        ah = "unset";
        r = gk_cors_check_preflight(p, &pol, "https://a.example.com", "PUT",
                                    rh, &ah);
        if (r != GK_CORS_ALLOWED) {
            if (r != GK_CORS_HEADER_REFUSED || ah != NULL) {
                abort();
            }
            continue;
        }
        if (!good_list(rh)) {
            abort();
        }
        if (!ah) {
            continue;
        }
        if (any && strcmp(ah, "*") != 0) {
            abort();    /* Authorization is not on that list */
        }
        /* members separated by exactly ", " */
        for (m = ah; *m;) {
            size_t k = 0;
            while (m[k] && m[k] != ',') {
                if (!lower_tchar((unsigned char)m[k])) {
                    abort();
                }
                k++;
            }
            if (!k) {
                abort();
            }
            m += k;
            if (*m) {
                if (m[1] != ' ' || !m[2]) {
                    abort();
                }
                m += 2;
            }
        }
        if (strlen(ah) > strlen(rh) + 2 * 64) {
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *text;

    if (!root) {
        apr_initialize();
        apr_pool_create(&root, NULL);
    }
    apr_pool_create(&p, root);
    text = apr_pstrmemdup(p, (const char *)data, size);
    check_origin(p, (const char *)data, size);
    check_allowed(p, text);
    check_match(p, (const char *)data, size);
    check_preflight(p, text);
    apr_pool_destroy(p);
    return 0;
}
