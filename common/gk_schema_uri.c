/*
 * gk_schema: URI reference resolution (RFC 3986 section 5.2, with its
 * remove_dot_segments) and JSON pointer segments (RFC 6901). Used at
 * compile time only.
 */
#include <string.h>

#include "gk_http.h"
#include "gk_schema_int.h"

typedef struct {
    const char *scheme, *auth, *path, *query, *frag; /* NULL: undefined */
} uri_t;

static const char *sub(apr_pool_t *p, const char *a, const char *b)
{
    return apr_pstrmemdup(p, a, (apr_size_t)(b - a));
}

static apr_size_t scheme_len(const char *s)
{
    apr_size_t i = 0;

    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) {
        return 0;
    }
    for (i = 1; s[i]; i++) {
        char c = s[i];
        if (c == ':') {
            return i;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.')) {
            return 0;
        }
    }
    return 0;
}

int gk_schema_uri_is_absolute(const char *uri)
{
    return scheme_len(uri) > 0;
}

static void parse(apr_pool_t *p, const char *s, uri_t *u)
{
    apr_size_t n = scheme_len(s);
    const char *e;

    memset(u, 0, sizeof(*u));
    if (n) {
        u->scheme = apr_pstrmemdup(p, s, n);
        s += n + 1;
    }
    if (s[0] == '/' && s[1] == '/') {
        s += 2;
        e = s + strcspn(s, "/?#");
        u->auth = sub(p, s, e);
        s = e;
    }
    e = s + strcspn(s, "?#");
    u->path = sub(p, s, e);
    s = e;
    if (*s == '?') {
        e = s + 1 + strcspn(s + 1, "#");
        u->query = sub(p, s + 1, e);
        s = e;
    }
    if (*s == '#') {
        u->frag = s + 1;
    }
}

/* RFC 3986 5.2.4 */
static const char *remove_dots(apr_pool_t *p, const char *in)
{
    char *out = apr_palloc(p, strlen(in) + 1);
    apr_size_t o = 0;

    while (*in) {
        if (!strncmp(in, "../", 3)) {
            in += 3;
        }
        else if (!strncmp(in, "./", 2)) {
            in += 2;
        }
        else if (!strncmp(in, "/./", 3)) {
            in += 2;
        }
        else if (!strcmp(in, "/.")) {
            in = "/";
        }
        else if (!strncmp(in, "/../", 4) || !strcmp(in, "/..")) {
            in = in[3] ? in + 3 : "/";
            while (o > 0 && out[o - 1] != '/') {
                o--;
            }
            if (o > 0) {
                o--;
            }
        }
        else if (!strcmp(in, ".") || !strcmp(in, "..")) {
            in += strlen(in);
        }
        else {
            apr_size_t n = 1 + strcspn(in + 1, "/");
            memcpy(out + o, in, n);
            o += n;
            in += n;
        }
    }
    out[o] = '\0';
    return out;
}

static const char *merge(apr_pool_t *p, const uri_t *b, const char *rpath)
{
    const char *slash;

    if (b->auth && !*b->path) {
        return apr_pstrcat(p, "/", rpath, NULL);
    }
    slash = strrchr(b->path, '/');
    if (!slash) {
        return rpath;
    }
    return apr_pstrcat(p, sub(p, b->path, slash + 1), rpath, NULL);
}

const char *gk_schema_uri_resolve(apr_pool_t *p, const char *base,
                                  const char *ref)
{
    uri_t b, r, t;

    parse(p, base, &b);
    parse(p, ref, &r);
    if (r.scheme) {
        t = r;
        t.path = remove_dots(p, r.path);
    }
    else {
        if (r.auth) {
            t.auth = r.auth;
            t.path = remove_dots(p, r.path);
            t.query = r.query;
        }
        else {
            if (!*r.path) {
                t.path = b.path;
                t.query = r.query ? r.query : b.query;
            }
            else {
                t.path = remove_dots(p, r.path[0] == '/'
                                            ? r.path
                                            : merge(p, &b, r.path));
                t.query = r.query;
            }
            t.auth = b.auth;
        }
        t.scheme = b.scheme;
    }
    t.frag = r.frag;
    return apr_pstrcat(p, t.scheme ? t.scheme : "", t.scheme ? ":" : "",
                       t.auth ? "//" : "", t.auth ? t.auth : "", t.path,
                       t.query ? "?" : "", t.query ? t.query : "",
                       t.frag ? "#" : "", t.frag ? t.frag : "", NULL);
}

const char *gk_schema_uri_split(apr_pool_t *p, const char *uri,
                                const char **frag, int *bad)
{
    const char *h = strchr(uri, '#');
    char *d;
    apr_size_t i, o = 0;

    *bad = 0;
    *frag = NULL;
    if (!h) {
        return uri;
    }
    d = apr_palloc(p, strlen(h));
    for (i = 1; h[i]; i++) {
        if (h[i] == '%') {
            int hi = gk_http_hexval((unsigned char)h[i + 1]);
            int lo = hi < 0 ? -1 : gk_http_hexval((unsigned char)h[i + 2]);
            if (hi < 0 || lo < 0) {
                *bad = 1;
                return sub(p, uri, h);
            }
            d[o++] = (char)(hi * 16 + lo);
            i += 2;
        }
        else {
            d[o++] = h[i];
        }
    }
    d[o] = '\0';
    if (strlen(d) != o) {
        *bad = 1; /* %00 */
        return sub(p, uri, h);
    }
    *frag = d;
    return sub(p, uri, h);
}

const char *gk_schema_ptr_seg(apr_pool_t *p, const char *tok, apr_size_t len)
{
    char *s = apr_palloc(p, 2 * len + 2);
    apr_size_t i, o = 0;

    s[o++] = '/';
    for (i = 0; i < len; i++) {
        if (tok[i] == '~') {
            s[o++] = '~';
            s[o++] = '0';
        }
        else if (tok[i] == '/') {
            s[o++] = '~';
            s[o++] = '1';
        }
        else {
            s[o++] = tok[i];
        }
    }
    s[o] = '\0';
    return s;
}
