/*
 * Request bodies of HTML forms (gk_form.h).
 */
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "gk_form.h"
#include "gk_http.h"

/* ---- media type ---------------------------------------------------------- */

int gk_form_media_type_ok(const char *content_type)
{
    static const char want[] = "application/x-www-form-urlencoded";
    static const char *const charsets[] = {"utf-8", "us-ascii", NULL};
    const char *s;

    if (!content_type) {
        return 0;
    }
    s = gk_http_skip_ows(content_type);
    if (strncasecmp(s, want, sizeof(want) - 1)) {
        return 0;
    }
    return gk_http_media_params_ok(s + sizeof(want) - 1, charsets);
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
