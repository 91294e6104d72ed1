/*
 * Content-Security-Policy values (gk_csp.h).
 */
#include <string.h>
#include <strings.h>

#include <apr_strings.h>

#include "gk_csp.h"
#include "gk_strlist.h"

typedef struct {
    const char *name;   /* the directive name as written */
    apr_size_t nlen;
    const char *value;  /* the source list, trimmed ("" for none) */
    apr_size_t vlen;
} directive_t;

static int is_ws(char c)
{
    return c == ' ' || c == '\t';
}

/* The directives of policy, empty ones dropped. */
static apr_array_header_t *split(apr_pool_t *p, const char *policy)
{
    apr_array_header_t *a = apr_array_make(p, 8, sizeof(directive_t));
    const char *s = policy;

    while (*s) {
        const char *b, *e, *n;
        directive_t *d;

        while (is_ws(*s) || *s == ';') {
            s++;
        }
        if (!*s) {
            break;
        }
        b = s;
        while (*s && *s != ';') {
            s++;
        }
        e = s;
        while (e > b && is_ws(e[-1])) {
            e--;
        }
        d = apr_array_push(a);
        d->name = b;
        for (n = b; n < e && !is_ws(*n); n++) {
        }
        d->nlen = (apr_size_t)(n - b);
        while (n < e && is_ws(*n)) {
            n++;
        }
        d->value = n;
        d->vlen = (apr_size_t)(e - n);
    }
    return a;
}

static int named(const directive_t *d, const char *name)
{
    return d->nlen == strlen(name) && !strncasecmp(d->name, name, d->nlen);
}

static int find(const apr_array_header_t *a, const char *name)
{
    int i;

    for (i = 0; i < a->nelts; i++) {
        if (named(&APR_ARRAY_IDX(a, i, directive_t), name)) {
            return i;
        }
    }
    return -1;
}

/* A source list with the nonce: 'none' alone is replaced. */
static const char *with_nonce(apr_pool_t *p, const char *v, apr_size_t n,
                              const char *src)
{
    if (n == 0 || (n == 6 && !strncasecmp(v, "'none'", 6))) {
        return src;
    }
    return apr_pstrcat(p, apr_pstrmemdup(p, v, n), " ", src, NULL);
}

const char *gk_csp_add_nonce(apr_pool_t *p, const char *policy,
                             const char *nonce)
{
    static const char *const targets[] = {"script-src", "style-src"};
    apr_array_header_t *a, *out;
    const char *src;
    int i, t, dflt;

    if (!policy) {
        return NULL;
    }
    src = apr_pstrcat(p, "'nonce-", nonce, "'", NULL);
    a = split(p, policy);
    out = apr_array_make(p, a->nelts + 2, sizeof(const char *));
    for (i = 0; i < a->nelts; i++) {
        const directive_t *d = &APR_ARRAY_IDX(a, i, directive_t);
        const char *name = apr_pstrmemdup(p, d->name, d->nlen);
        int first = 0;

        for (t = 0; t < 2; t++) {
            first |= named(d, targets[t]) && find(a, targets[t]) == i;
        }
        if (first) {
            APR_ARRAY_PUSH(out, const char *) = apr_pstrcat(
                p, name, " ", with_nonce(p, d->value, d->vlen, src), NULL);
        }
        else if (d->vlen) {
            APR_ARRAY_PUSH(out, const char *) = apr_pstrcat(
                p, name, " ", apr_pstrmemdup(p, d->value, d->vlen), NULL);
        }
        else {
            APR_ARRAY_PUSH(out, const char *) = name;
        }
    }
    dflt = find(a, "default-src");
    for (t = 0; t < 2 && dflt >= 0; t++) {
        if (find(a, targets[t]) < 0) {
            const directive_t *d = &APR_ARRAY_IDX(a, dflt, directive_t);
            APR_ARRAY_PUSH(out, const char *) = apr_pstrcat(
                p, targets[t], " ", with_nonce(p, d->value, d->vlen, src),
                NULL);
        }
    }
    return gk_strlist_join(p, out, "; ");
}
