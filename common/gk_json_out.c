/*
 * A JSON writer for log lines built from untrusted bytes: escaping, UTF-8
 * repair and capping into a fixed buffer (gk_json_out.h).
 */
#include <string.h>

#include "gk_json_out.h"

static const char hexdig[] = "0123456789abcdef";

/* The length of the valid UTF-8 sequence at s (n bytes available), or 0
 * when s does not start one (Unicode's table 3-7: no overlong forms, no
 * surrogates, nothing above U+10FFFF). */
static apr_size_t utf8_len(const unsigned char *s, apr_size_t n)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xbf;
    apr_size_t k, i;

    if (c < 0x80) {
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        k = 2;
    }
    else if (c >= 0xe0 && c <= 0xef) {
        k = 3;
        if (c == 0xe0) {
            lo = 0xa0;
        }
        else if (c == 0xed) {
            hi = 0x9f;
        }
    }
    else if (c >= 0xf0 && c <= 0xf4) {
        k = 4;
        if (c == 0xf0) {
            lo = 0x90;
        }
        else if (c == 0xf4) {
            hi = 0x8f;
        }
    }
    else {
        return 0;
    }
    if (n < k || s[1] < lo || s[1] > hi) {
        return 0;
    }
    for (i = 2; i < k; i++) {
        if (s[i] < 0x80 || s[i] > 0xbf) {
            return 0;
        }
    }
    return k;
}

/* Escape at most lim input bytes (of len) into dst. */
/* 1 for the bytes that go out as they are: printable ASCII but '"' (0x22)
 * and '\\' (0x5c). */
static const unsigned char plain[256] = {
    [0x20 ... 0x21] = 1, [0x23 ... 0x5b] = 1, [0x5d ... 0x7e] = 1,
};

static apr_size_t escape(char *dst, apr_size_t cap, const char *src,
                         apr_size_t len, apr_size_t lim, apr_size_t *used)
{
    const unsigned char *s = (const unsigned char *)src;
    apr_size_t i = 0, o = 0;

    if (lim > len) {
        lim = len;
    }
    while (i < lim) {
        unsigned char c = s[i];
        char tmp[6];
        const char *out = tmp;
        apr_size_t in = 1, k, j = i;

        /* most of a line is plain: copy each run at once */
        while (j < lim && plain[s[j]]) {
            j++;
        }
        if (j > i) {
            k = j - i < cap - o ? j - i : cap - o;
            memcpy(dst + o, src + i, k);
            o += k;
            i += k;
            if (i < j) {
                break;              /* out of room */
            }
            continue;
        }

        if (c == '"' || c == '\\') {
            tmp[0] = '\\';
            tmp[1] = (char)c;
            k = 2;
        }
        else if (c < 0x20 || c == 0x7f) {
            tmp[0] = '\\';
            k = 2;
            switch (c) {
            case '\n': tmp[1] = 'n'; break;
            case '\r': tmp[1] = 'r'; break;
            case '\t': tmp[1] = 't'; break;
            case '\b': tmp[1] = 'b'; break;
            case '\f': tmp[1] = 'f'; break;
            default:
                memcpy(tmp + 1, "u00", 3);
                tmp[4] = hexdig[c >> 4];
                tmp[5] = hexdig[c & 0xf];
                k = 6;
            }
        }
        else if (c < 0x80) {
            tmp[0] = (char)c;
            k = 1;
        }
        else if ((k = utf8_len(s + i, len - i))) {
            if (i + k > lim) {
                break;              /* the cap falls inside it */
            }
            out = src + i;
            in = k;
        }
        else {
            out = "\xef\xbf\xbd";   /* U+FFFD for the byte */
            k = 3;
        }
        if (o + k > cap) {
            break;
        }
        memcpy(dst + o, out, k);
        o += k;
        i += in;
    }
    *used = i;
    return o;
}

apr_size_t gk_json_escape(char *dst, apr_size_t dstcap, const char *s,
                          apr_size_t len, apr_size_t *used)
{
    return escape(dst, dstcap, s, len, len, used);
}

void gk_json_begin(gk_json_out_t *o, char *buf, apr_size_t cap)
{
    memset(o, 0, sizeof(*o));
    o->buf = buf;
    o->cap = cap;
    buf[0] = '{';
    o->len = 1;
    o->depth = 1;
    o->first[0] = 1;
}

/* Bytes that may still be written: the closers of every open level and
 * the newline stay free, and so does the reserve. */
static apr_size_t room(const gk_json_out_t *o)
{
    apr_size_t keep = (apr_size_t)o->depth + 1 + o->reserve;

    return o->len + keep < o->cap ? o->cap - o->len - keep : 0;
}

/* The separator and key of a new member; 0 when they do not fit with
 * `need` more bytes after them. */
static int prefix(gk_json_out_t *o, const char *key, apr_size_t need)
{
    int first = o->first[o->depth - 1];
    apr_size_t klen;
    char *p;

    /* a member of an object always has a key, an element of an array
     * never: a caller's slip must not break the line */
    if (o->depth > 1 && o->closer[o->depth - 1] == ']') {
        key = NULL;
    }
    else if (!key) {
        key = "";
    }
    klen = key ? strlen(key) + 3 : 0;

    if ((first ? 0 : 1) + klen + need > room(o)) {
        return 0;
    }
    p = o->buf + o->len;
    if (!first) {
        *p++ = ',';
    }
    if (key) {
        *p++ = '"';
        memcpy(p, key, klen - 3);
        p += klen - 3;
        *p++ = '"';
        *p++ = ':';
    }
    o->len = (apr_size_t)(p - o->buf);
    o->first[o->depth - 1] = 0;
    return 1;
}

static void raw(gk_json_out_t *o, const char *key, const char *v,
                apr_size_t n)
{
    if (o->skip) {
        return;
    }
    if (!prefix(o, key, n)) {
        o->truncated++;
        return;
    }
    memcpy(o->buf + o->len, v, n);
    o->len += n;
}

static void open_(gk_json_out_t *o, const char *key, char c)
{
    if (o->skip) {
        o->skip++;
        return;
    }
    /* the bracket, and its closer from now on */
    if (o->depth >= GK_JSON_MAX_DEPTH || !prefix(o, key, 2)) {
        o->truncated++;
        o->skip = 1;
        return;
    }
    o->buf[o->len++] = c;
    o->closer[o->depth] = c == '{' ? '}' : ']';
    o->first[o->depth++] = 1;
}

void gk_json_obj_open(gk_json_out_t *o, const char *key)
{
    open_(o, key, '{');
}

void gk_json_arr_open(gk_json_out_t *o, const char *key)
{
    open_(o, key, '[');
}

void gk_json_close(gk_json_out_t *o)
{
    if (o->skip) {
        o->skip--;
        return;
    }
    if (o->depth <= 1) {
        return;
    }
    o->depth--;
    o->buf[o->len++] = o->closer[o->depth];
}

void gk_json_str(gk_json_out_t *o, const char *key, const char *val,
                 apr_size_t len, apr_size_t max)
{
    apr_size_t used, n, r;

    if (!val) {
        gk_json_null(o, key);
        return;
    }
    if (o->skip) {
        return;
    }
    if (!prefix(o, key, 2)) {
        o->truncated++;
        return;
    }
    r = room(o);                    /* the two quotes fit in it */
    o->buf[o->len++] = '"';
    n = escape(o->buf + o->len, r - 2, val, len, max ? max : len, &used);
    o->len += n;
    o->buf[o->len++] = '"';
    if (used < len) {
        o->truncated++;
    }
}

void gk_json_cstr(gk_json_out_t *o, const char *key, const char *val,
                  apr_size_t max)
{
    gk_json_str(o, key, val, val ? strlen(val) : 0, max);
}

void gk_json_int(gk_json_out_t *o, const char *key, apr_int64_t val)
{
    char tmp[24], *p = tmp + sizeof(tmp);
    apr_uint64_t u = val < 0 ? (apr_uint64_t)0 - (apr_uint64_t)val
                             : (apr_uint64_t)val;

    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (val < 0) {
        *--p = '-';
    }
    raw(o, key, p, (apr_size_t)(tmp + sizeof(tmp) - p));
}

void gk_json_null(gk_json_out_t *o, const char *key)
{
    raw(o, key, "null", 4);
}

void gk_json_bool(gk_json_out_t *o, const char *key, int val)
{
    raw(o, key, val ? "true" : "false", val ? 4 : 5);
}

apr_size_t gk_json_end(gk_json_out_t *o)
{
    o->skip = 0;
    while (o->depth > 1) {
        gk_json_close(o);
    }
    o->buf[o->len++] = '}';
    o->depth = 0;
    o->buf[o->len++] = '\n';
    if (o->len < o->cap) {
        o->buf[o->len] = 0;
    }
    return o->len;
}
