#include <string.h>
#include <strings.h>

#include <apr_lib.h>

#include "gk_http.h"

int gk_http_has_ctl(const char *s)
{
    for (; *s; s++) {
        if (gk_http_is_ctl(*s)) {
            return 1;
        }
    }
    return 0;
}

/* RFC 9110 tchar: ALPHA DIGIT and !#$%&'*+-.^_`|~ */
static const unsigned char tchars[256] = {
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1,
    ['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1,
    ['`'] = 1, ['|'] = 1, ['~'] = 1,
    ['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1,
};

int gk_http_is_tchar(char c)
{
    return tchars[(unsigned char)c];
}

int gk_http_is_token(const char *s)
{
    if (!*s) {
        return 0;
    }
    for (; *s; s++) {
        if (!tchars[(unsigned char)*s]) {
            return 0;
        }
    }
    return 1;
}

int gk_http_is_token_n(const char *s, apr_size_t n)
{
    apr_size_t i;

    if (!s || !n) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (!tchars[(unsigned char)s[i]]) {
            return 0;
        }
    }
    return 1;
}

/* RFC 6750 b64token characters: ALPHA DIGIT - . _ ~ + / */
static const unsigned char b64token_chars[256] = {
    ['-'] = 1, ['.'] = 1, ['_'] = 1, ['~'] = 1, ['+'] = 1, ['/'] = 1,
    ['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1,
};

int gk_http_is_b64token(const char *s, apr_size_t len)
{
    apr_size_t i = 0;

    while (i < len && b64token_chars[(unsigned char)s[i]]) {
        i++;
    }
    if (i == 0) {
        return 0;
    }
    while (i < len && s[i] == '=') {
        i++;
    }
    return i == len;
}

const char *gk_http_quote(apr_pool_t *p, const char *s)
{
    apr_size_t n = strlen(s);
    char *out = apr_palloc(p, 2 * n + 3), *o = out;

    *o++ = '"';
    for (; *s; s++) {
        if (gk_http_is_ctl(*s)) {
            continue;
        }
        if (*s == '"' || *s == '\\') {
            *o++ = '\\';
        }
        *o++ = *s;
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

int gk_http_header_is_reserved(const char *name)
{
    static const char *const reserved[] = {
        "Authorization", "Cookie", "Host", "Content-Length",
        "Transfer-Encoding", "Connection", "Upgrade", "TE", "Trailer",
        "Proxy-Authorization", "Expect", NULL
    };
    int i;

    for (i = 0; reserved[i]; i++) {
        if (!strcasecmp(name, reserved[i])) {
            return 1;
        }
    }
    return 0;
}

static unsigned char header_fold(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return (unsigned char)(c - 'A' + 'a');
    }
    return c == '_' ? '-' : c;
}

int gk_http_header_same(const char *a, const char *b)
{
    const unsigned char *x = (const unsigned char *)a;
    const unsigned char *y = (const unsigned char *)b;

    for (; *x && *y; x++, y++) {
        if (header_fold(*x) != header_fold(*y)) {
            return 0;
        }
    }
    return !*x && !*y;
}

/* ---- media types ------------------------------------------------------- */

const char *gk_http_skip_ows(const char *s)
{
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    return s;
}

/* A parameter value at *sp, token or quoted-string (RFC 9110 §5.6.4);
 * moves *sp past it. Its unescaped text goes to v (size vsize, always
 * NUL-terminated, truncated: only short values are compared) with its
 * full length in *vlen. Returns 0 when malformed. */
static int param_value(const char **sp, char *v, apr_size_t vsize,
                       apr_size_t *vlen)
{
    const unsigned char *s = (const unsigned char *)*sp;
    apr_size_t n = 0;

    if (*s != '"') {
        while (*s && gk_http_is_tchar((char)*s)) {
            if (n + 1 < vsize) {
                v[n] = (char)*s;
            }
            n++;
            s++;
        }
        if (!n) {
            return 0;
        }
    }
    else {
        for (s++; *s != '"'; s++) {
            unsigned char c = *s;
            if (c == '\\') {
                c = *++s;
                /* quoted-pair: HTAB / SP / VCHAR / obs-text */
                if (!c || (c < 0x20 && c != '\t') || c == 0x7f) {
                    return 0;
                }
            }
            else if (!c || (c < 0x20 && c != '\t') || c == 0x7f) {
                return 0; /* unterminated, or a control character */
            }
            if (n + 1 < vsize) {
                v[n] = (char)c;
            }
            n++;
        }
        s++;
    }
    v[n < vsize ? n : vsize - 1] = '\0';
    *vlen = n;
    *sp = (const char *)s;
    return 1;
}

int gk_http_media_params_ok(const char *s, const char *const *charsets)
{
    int charset = 0;

    for (;;) {
        const char *name;
        apr_size_t nlen, vlen;
        char v[16];
        int i;

        s = gk_http_skip_ows(s);
        if (!*s) {
            return 1;
        }
        if (*s != ';') {
            return 0; /* "...urlencoded-evil", "...json x" */
        }
        s = gk_http_skip_ows(s + 1);
        if (!*s || *s == ';') {
            continue; /* an empty parameter */
        }
        for (name = s; gk_http_is_tchar(*s); s++) {
        }
        nlen = (apr_size_t)(s - name);
        if (!nlen || *s != '=') {
            return 0;
        }
        s++;
        if (!param_value(&s, v, sizeof(v), &vlen)) {
            return 0;
        }
        if (nlen == 7 && !strncasecmp(name, "charset", 7)) {
            if (charset++ || vlen >= sizeof(v)) {
                return 0;
            }
            for (i = 0; charsets[i] && strcasecmp(v, charsets[i]); i++) {
            }
            if (!charsets[i]) {
                return 0;
            }
        }
    }
}

int gk_http_json_media_type_ok(const char *content_type)
{
    static const char *const charsets[] = {"utf-8", NULL};
    static const char app[] = "application/";
    const char *s, *sub;

    if (!content_type) {
        return 0;
    }
    s = gk_http_skip_ows(content_type);
    if (strncasecmp(s, app, sizeof(app) - 1)) {
        return 0;
    }
    for (sub = s += sizeof(app) - 1; gk_http_is_tchar(*s); s++) {
    }
    /* "json", or a structured syntax suffix "+json" after a name */
    if (!((s - sub == 4 && !strncasecmp(sub, "json", 4))
          || (s - sub > 5 && !strncasecmp(s - 5, "+json", 5)))) {
        return 0;
    }
    return gk_http_media_params_ok(s, charsets);
}

int gk_http_is_ipv4(const char *s, apr_size_t n)
{
    apr_size_t i = 0;
    int part;

    for (part = 0; part < 4; part++) {
        apr_size_t start = i;
        unsigned v = 0;
        if (part > 0) {
            if (i >= n || s[i] != '.') {
                return 0;
            }
            start = ++i;
        }
        while (i < n && s[i] >= '0' && s[i] <= '9' && i - start < 3) {
            v = v * 10 + (unsigned)(s[i] - '0');
            i++;
        }
        if (i == start || v > 255 || (s[start] == '0' && i - start > 1)) {
            return 0;
        }
    }
    return i == n;
}
