/*
 * Response header fields (gk_hdr.h).
 */
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "gk_hdr.h"
#include "gk_http.h"


int gk_hdr_is_token(const char *s)
{
    return s && gk_http_is_token(s);
}

int gk_hdr_is_value(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i, n;

    if (!s || !*s) {
        return 0;
    }
    n = strlen(s);
    if (u[0] == ' ' || u[0] == '\t' || u[n - 1] == ' ' || u[n - 1] == '\t') {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if ((u[i] < 0x20 && u[i] != '\t') || u[i] > 0x7e) {
            return 0;
        }
    }
    return 1;
}

/* Append the members of list not yet in out (an array of const char *);
 * returns 1 when "*" was met. */
static int add_members(apr_pool_t *p, apr_array_header_t *out,
                       const char *list)
{
    const char *s = list;

    while (s && *s) {
        const char *b, *e;
        char *m;
        int i, dup = 0;

        while (*s == ' ' || *s == '\t' || *s == ',') {
            s++;
        }
        b = s;
        while (*s && *s != ',') {
            s++;
        }
        e = s;
        while (e > b && (e[-1] == ' ' || e[-1] == '\t')) {
            e--;
        }
        if (e == b) {
            continue;
        }
        m = apr_pstrmemdup(p, b, (apr_size_t)(e - b));
        if (!strcmp(m, "*")) {
            return 1;
        }
        if (!gk_hdr_is_token(m)) {
            continue;
        }
        for (i = 0; i < out->nelts && !dup; i++) {
            dup = !strcasecmp(APR_ARRAY_IDX(out, i, const char *), m);
        }
        if (!dup) {
            APR_ARRAY_PUSH(out, const char *) = m;
        }
    }
    return 0;
}

const char *gk_hdr_vary_merge(apr_pool_t *p, const char *have,
                              const char *add)
{
    apr_array_header_t *out = apr_array_make(p, 8, sizeof(const char *));
    char *r, *w;
    apr_size_t len = 0;
    int i;

    if (add_members(p, out, have) || add_members(p, out, add)) {
        return "*";
    }
    if (!out->nelts) {
        return NULL;
    }
    for (i = 0; i < out->nelts; i++) {
        len += strlen(APR_ARRAY_IDX(out, i, const char *)) + 2;
    }
    r = w = apr_palloc(p, len + 1);
    for (i = 0; i < out->nelts; i++) {
        const char *m = APR_ARRAY_IDX(out, i, const char *);
        apr_size_t n = strlen(m);
        if (i) {
            *w++ = ',';
            *w++ = ' ';
        }
        memcpy(w, m, n);
        w += n;
    }
    *w = '\0';
    return r;
}

/* ---- HSTS ------------------------------------------------------------- */

const char *gk_hdr_hsts_parse(apr_pool_t *p, int argc,
                              const char *const argv[], long max_age_max,
                              const char **value)
{
    long age = -1;
    int sub = 0, pre = 0, i;

    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strncasecmp(a, "max-age=", 8)) {
            const char *d = a + 8;
            long n = 0;
            if (age >= 0) {
                return "max-age given twice";
            }
            if (!*d || strlen(d) > 10) {
                return apr_psprintf(p, "'%s': max-age must be a number of "
                                    "seconds from 0 to %ld", a, max_age_max);
            }
            for (; *d; d++) {
                if (*d < '0' || *d > '9') {
                    return apr_psprintf(p, "'%s': max-age must be a number "
                                        "of seconds from 0 to %ld", a,
                                        max_age_max);
                }
                n = n * 10 + (*d - '0');
            }
            if (n > max_age_max) {
                return apr_psprintf(p, "'%s': max-age must be a number of "
                                    "seconds from 0 to %ld", a, max_age_max);
            }
            age = n;
        }
        else if (!strcasecmp(a, "includeSubDomains")) {
            if (sub++) {
                return "includeSubDomains given twice";
            }
        }
        else if (!strcasecmp(a, "preload")) {
            if (pre++) {
                return "preload given twice";
            }
        }
        else {
            return apr_psprintf(p, "'%s' is not max-age=SECONDS, "
                                "includeSubDomains or preload", a);
        }
    }
    if (age < 0) {
        return "max-age=SECONDS is required";
    }
    if (pre && (age < GK_HDR_HSTS_PRELOAD_MIN || !sub)) {
        return apr_psprintf(p, "preload needs max-age of at least %d and "
                            "includeSubDomains", GK_HDR_HSTS_PRELOAD_MIN);
    }
    *value = apr_psprintf(p, "max-age=%ld%s%s", age,
                          sub ? "; includeSubDomains" : "",
                          pre ? "; preload" : "");
    return NULL;
}

/* ---- forwarded protocol ------------------------------------------------ */

/* After the last comma outside a quoted string. */
static const char *last_element(const char *s)
{
    const char *last = s;
    int quoted = 0;

    for (; *s; s++) {
        if (*s == '"') {
            quoted = !quoted;
        }
        else if (*s == '\\' && quoted && s[1]) {
            s++;
        }
        else if (*s == ',' && !quoted) {
            last = s + 1;
        }
    }
    return last;
}

static int is_https(const char *b, const char *e)
{
    while (b < e && (*b == ' ' || *b == '\t')) {
        b++;
    }
    while (e > b && (e[-1] == ' ' || e[-1] == '\t')) {
        e--;
    }
    if (e - b >= 2 && *b == '"' && e[-1] == '"') {
        b++;
        e--;
    }
    return e - b == 5 && !strncasecmp(b, "https", 5);
}

/* The proto parameter of one forwarded-element: -1 when absent, else 1
 * for https and 0 for anything else. */
static int element_proto(const char *el)
{
    const char *s = el;
    int found = -1;

    while (*s && *s != ',') {
        const char *b, *eq, *e;
        int quoted = 0;
        while (*s == ' ' || *s == '\t' || *s == ';') {
            s++;
        }
        b = s;
        eq = NULL;
        while (*s && (quoted || (*s != ',' && *s != ';'))) {
            if (*s == '"') {
                quoted = !quoted;
            }
            else if (*s == '\\' && quoted && s[1]) {
                s++;
            }
            else if (*s == '=' && !eq && !quoted) {
                eq = s;
            }
            s++;
        }
        e = s;
        if (eq && eq - b == 5 && !strncasecmp(b, "proto", 5)) {
            if (found != -1) {
                return 0;           /* two protos: believe neither */
            }
            found = is_https(eq + 1, e);
        }
    }
    return found;
}

int gk_hdr_forwarded_https(const char *forwarded, const char *xfp)
{
    if (forwarded && *forwarded) {
        int v = element_proto(last_element(forwarded));
        if (v != -1) {
            return v;
        }
    }
    if (xfp && *xfp) {
        /* a plain list: no quoted strings */
        const char *c = strrchr(xfp, ',');
        const char *l = c ? c + 1 : xfp;
        return is_https(l, l + strlen(l));
    }
    return 0;
}

/* ---- request targets ---------------------------------------------------- */

const char *gk_hdr_target_path(apr_pool_t *p, const char *target)
{
    const char *t = target, *s;

    if (!t) {
        return NULL;
    }
    if (t[0] != '/') {
        if (!(s = strstr(t, "://")) || s == t) {
            return NULL;
        }
        s += 3;
        s += strcspn(s, "/?#");
        t = *s == '/' ? s : *s == '?' ? apr_pstrcat(p, "/", s, NULL) : "/";
    }
    if ((s = strchr(t, '#'))) {
        t = apr_pstrmemdup(p, t, (apr_size_t)(s - t));
    }
    for (s = t; *s; s++) {
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f) {
            return NULL;
        }
    }
    return t;
}
