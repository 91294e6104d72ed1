/*
 * Request bodies of HTML forms (gk_form.h).
 */
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "gk_form.h"
#include "gk_http.h"

/* ---- media type ---------------------------------------------------------- */

static const char *skip_ows(const char *s)
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

int gk_form_media_type_ok(const char *content_type)
{
    static const char want[] = "application/x-www-form-urlencoded";
    const char *s;
    int charset = 0;

    if (!content_type) {
        return 0;
    }
    s = skip_ows(content_type);
    if (strncasecmp(s, want, sizeof(want) - 1)) {
        return 0;
    }
    s += sizeof(want) - 1;
    for (;;) {
        const char *name;
        apr_size_t nlen, vlen;
        char v[16];

        s = skip_ows(s);
        if (!*s) {
            return 1;
        }
        if (*s != ';') {
            return 0; /* "...urlencoded-evil", "...urlencoded x" */
        }
        s = skip_ows(s + 1);
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
            if (charset++ || vlen >= sizeof(v)
                || (strcasecmp(v, "utf-8") && strcasecmp(v, "us-ascii"))) {
                return 0;
            }
        }
    }
}

/* ---- body ---------------------------------------------------------------- */


/* Decode body[*pos, end) up to stop (or end) into *w, NUL-terminated;
 * *pos ends on the stop character or end, *w past the NUL. Returns the
 * offset of a malformed '%' plus one, or 0. */
static apr_size_t decode(const char *body, apr_size_t *pos, apr_size_t end,
                         int stop, char **w)
{
    const unsigned char *u = (const unsigned char *)body;
    apr_size_t i = *pos;
    char *o = *w;

    for (; i < end && u[i] != stop; i++) {
        if (u[i] == '+') {
            *o++ = ' ';
        }
        else if (u[i] == '%') {
            int hi = -1, lo = -1;
            if (end - i >= 3) {
                hi = gk_http_hexval(u[i + 1]);
                lo = gk_http_hexval(u[i + 2]);
            }
            if (hi < 0 || lo < 0) {
                return i + 1;
            }
            *o++ = (char)(hi << 4 | lo);
            i += 2;
        }
        else {
            *o++ = (char)u[i];
        }
    }
    *o++ = '\0';
    *pos = i;
    *w = o;
    return 0;
}

/* Is s (n bytes) valid UTF-8 (RFC 3629)? */
static int utf8_valid(const unsigned char *s, apr_size_t n)
{
    apr_size_t i = 0;

    while (i < n) {
        unsigned char c = s[i];
        apr_size_t k, j;
        unsigned long cp;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            k = 1;
            cp = c & 0x1f;
        }
        else if (c >= 0xe0 && c <= 0xef) {
            k = 2;
            cp = c & 0x0f;
        }
        else if (c >= 0xf0 && c <= 0xf4) {
            k = 3;
            cp = c & 0x07;
        }
        else {
            return 0; /* continuation byte, C0/C1, F5-FF */
        }
        if (n - i <= k) {
            return 0;
        }
        for (j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80) {
                return 0;
            }
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000)
            || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
            return 0; /* overlong, surrogate, out of range */
        }
        i += k + 1;
    }
    return 1;
}

/* Check one decoded string [s, e) (e at its NUL) of the pair at off. */
static const char *check_text(apr_pool_t *p, const char *s, const char *e,
                              apr_size_t off, const char *what)
{
    apr_size_t n = (apr_size_t)(e - s);

    if (memchr(s, '\0', n)) {
        return apr_psprintf(p, "NUL in the %s of the field at byte %"
                            APR_SIZE_T_FMT, what, off);
    }
    if (!utf8_valid((const unsigned char *)s, n)) {
        return apr_psprintf(p, "invalid UTF-8 in the %s of the field at "
                            "byte %" APR_SIZE_T_FMT, what, off);
    }
    return NULL;
}

const char *gk_form_parse(apr_pool_t *p, const char *body, apr_size_t len,
                          apr_size_t max_fields, apr_table_t **out,
                          const char **dup)
{
    apr_table_t *t;
    apr_size_t i, fields = 0;
    char *w;

    *out = NULL;
    if (dup) {
        *dup = NULL;
    }
    if (!body && len) {
        return "no body";
    }
    /* count the non-empty pairs first: refuse before decoding anything */
    for (i = 0; i < len; i++) {
        if (body[i] != '&' && (i + 1 == len || body[i + 1] == '&')) {
            if (++fields > max_fields) {
                return apr_psprintf(p, "more than %" APR_SIZE_T_FMT
                                    " fields", max_fields);
            }
        }
    }
    /* Every pair of k bytes decodes into at most k + 1 (name, NUL, value,
     * NUL with the '=' gone; or name, NUL), and every pair but the last
     * has its '&': len + 1 bytes hold them all. */
    w = apr_palloc(p, len + 1);
    t = apr_table_make(p, fields < 64 ? (int)fields + 1 : 64);
    i = 0;
    while (i < len) {
        apr_size_t start = i, end = i, bad;
        const char *name, *value, *err;

        while (end < len && body[end] != '&') {
            end++;
        }
        if (end == start) {
            i++;
            continue;
        }
        name = w;
        if ((bad = decode(body, &i, end, '=', &w))) {
            return apr_psprintf(p, "malformed percent-encoding at byte %"
                                APR_SIZE_T_FMT, bad - 1);
        }
        if (!*name && w - name == 1) {
            return apr_psprintf(p, "field without a name at byte %"
                                APR_SIZE_T_FMT, start);
        }
        if ((err = check_text(p, name, w - 1, start, "name"))) {
            return err;
        }
        if (i < end) {
            i++; /* the '=' */
            value = w;
            if ((bad = decode(body, &i, end, -1, &w))) {
                return apr_psprintf(p, "malformed percent-encoding at "
                                    "byte %" APR_SIZE_T_FMT, bad - 1);
            }
            if ((err = check_text(p, value, w - 1, start, "value"))) {
                return err;
            }
        }
        else {
            value = "";
        }
        if (apr_table_get(t, name)) {
            if (dup) {
                *dup = name;
            }
            return apr_psprintf(p, "field repeated at byte %"
                                APR_SIZE_T_FMT, start);
        }
        apr_table_addn(t, name, value);
        i = end + 1;
    }
    *out = t;
    return NULL;
}

const char *gk_form_get(const apr_table_t *form, const char *name)
{
    const apr_array_header_t *a;
    const apr_table_entry_t *e;
    int i;

    if (!form || !name) {
        return NULL;
    }
    a = apr_table_elts(form);
    e = (const apr_table_entry_t *)a->elts;
    for (i = 0; i < a->nelts; i++) {
        if (e[i].key && !strcmp(e[i].key, name)) {
            return e[i].val;
        }
    }
    return NULL;
}
