#include <string.h>

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
