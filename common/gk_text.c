#include <stdlib.h>
#include <string.h>

#include "gk_text.h"

int gk_text_is_atom(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;

    if (!*u) {
        return 0;
    }
    for (; *u; u++) {
        if (*u < 0x21 || *u > 0x7e) {
            return 0;
        }
    }
    return 1;
}

/* Length of the UTF-8 sequence at s (at most n bytes) and its code point,
 * or 0 when it is not well-formed (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF). */
static apr_size_t utf8_decode(const unsigned char *s, apr_size_t n,
                              apr_uint32_t *cp)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xbf;
    apr_size_t len, i;
    apr_uint32_t v;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        v = c & 0x1f;
    }
    else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        v = c & 0x0f;
        lo = c == 0xe0 ? 0xa0 : 0x80;
        hi = c == 0xed ? 0x9f : 0xbf;
    }
    else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        v = c & 0x07;
        lo = c == 0xf0 ? 0x90 : 0x80;
        hi = c == 0xf4 ? 0x8f : 0xbf;
    }
    else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi) {
        return 0;
    }
    v = (v << 6) | (s[1] & 0x3f);
    for (i = 2; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        v = (v << 6) | (s[i] & 0x3f);
    }
    *cp = v;
    return len;
}

int gk_text_is_name(const char *s, apr_size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t i = 0, n;
    apr_uint32_t cp;

    while (i < len) {
        if (u[i] >= 0x20 && u[i] < 0x7f) {
            i++;
            continue;
        }
        n = utf8_decode(u + i, len - i, &cp);
        if (!n || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028
            || cp == 0x2029) {
            return 0;
        }
        i += n;
    }
    return 1;
}

static int is_printable_line(const char *s, apr_size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    apr_size_t i;

    for (i = 0; i < len; i++) {
        if (u[i] < 0x20 || u[i] > 0x7e) {
            return 0;
        }
    }
    return 1;
}

const char *gk_text_json_line(apr_pool_t *p, const char *text,
                              apr_size_t len, json_t *payload)
{
    char *s, *out, *o;
    const char *i;
    apr_size_t dels = 0;

    if (text && is_printable_line(text, len)) {
        return text;
    }
    s = json_dumps(payload, JSON_COMPACT | JSON_ENSURE_ASCII
                                | JSON_ENCODE_ANY);
    if (!s) {
        return NULL;
    }
    /* jansson leaves DEL as it is; it can only stand inside a string */
    for (i = s; *i; i++) {
        dels += (*i == 0x7f);
    }
    out = apr_palloc(p, strlen(s) + 5 * dels + 1);
    for (i = s, o = out; *i; i++) {
        if (*i == 0x7f) {
            memcpy(o, "\\u007F", 6);
            o += 6;
        }
        else {
            *o++ = *i;
        }
    }
    *o = '\0';
    free(s);
    return out;
}
