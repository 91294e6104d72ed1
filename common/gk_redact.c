/*
 * Secrets kept out of log lines (gk_redact.h).
 */
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "gk_redact.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = (char)apr_tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Compare a percent-encoded name with a plain lower-case one. */
static int name_is(const char *enc, apr_size_t len, const char *want)
{
    apr_size_t i = 0;
    const unsigned char *w = (const unsigned char *)want;

    while (i < len) {
        int c = (unsigned char)enc[i];
        if (c == '%' && i + 2 < len && hexval(enc[i + 1]) >= 0
            && hexval(enc[i + 2]) >= 0) {
            c = hexval(enc[i + 1]) * 16 + hexval(enc[i + 2]);
            i += 3;
        }
        else {
            if (c == '+') {
                c = ' ';
            }
            i++;
        }
        if (!*w || apr_tolower(c) != *w) {
            return 0;
        }
        w++;
    }
    return *w == 0;
}

int gk_redact_name_in(const char *name, apr_size_t len,
                      const apr_array_header_t *names)
{
    int i;

    for (i = 0; names && i < names->nelts; i++) {
        if (name_is(name, len, APR_ARRAY_IDX(names, i, const char *))) {
            return 1;
        }
    }
    return 0;
}

const char *gk_redact_query(apr_pool_t *p, const char *q, apr_size_t len,
                            const apr_array_header_t *names)
{
    apr_size_t i = 0, start, eq;
    char *out = NULL;
    apr_size_t olen = 0, done = 0;

    if (!q) {
        return NULL;
    }
    while (i <= len) {
        start = i;
        eq = (apr_size_t)-1;
        while (i < len && q[i] != '&' && q[i] != ';') {
            if (q[i] == '=' && eq == (apr_size_t)-1) {
                eq = i;
            }
            i++;
        }
        /* [start, i) is one parameter */
        if (eq != (apr_size_t)-1 && eq + 1 < i
            && gk_redact_name_in(q + start, eq - start, names)) {
            if (!out) {
                out = apr_palloc(p, len + 1 + (len / 2 + 1) * sizeof(GK_REDACTED));
            }
            memcpy(out + olen, q + done, eq + 1 - done);
            olen += eq + 1 - done;
            memcpy(out + olen, GK_REDACTED, sizeof(GK_REDACTED) - 1);
            olen += sizeof(GK_REDACTED) - 1;
            done = i;
        }
        i++;
    }
    if (!out) {
        return q;
    }
    memcpy(out + olen, q + done, len - done);
    olen += len - done;
    out[olen] = 0;
    return out;
}

const char *gk_redact_url(apr_pool_t *p, const char *url,
                          const apr_array_header_t *names)
{
    const char *auth = NULL, *s, *at = NULL, *end, *qm, *hash;
    const char *head, *query = NULL, *frag = NULL;
    apr_size_t qlen = 0, flen = 0;
    int changed = 0;

    if (!url) {
        return NULL;
    }
    /* the authority: after "scheme://" or a leading "//" */
    if (url[0] == '/' && url[1] == '/') {
        auth = url + 2;
    }
    else {
        for (s = url; apr_isalnum(*s) || *s == '+' || *s == '-' || *s == '.';
             s++) {
        }
        if (s > url && s[0] == ':' && s[1] == '/' && s[2] == '/') {
            auth = s + 3;
        }
    }
    end = auth ? auth + strcspn(auth, "/?#") : url;
    for (s = auth; s && s < end; s++) {
        if (*s == '@') {
            at = s;
        }
    }
    head = at ? apr_pstrcat(p, apr_pstrmemdup(p, url, (apr_size_t)(auth - url)),
                            apr_pstrmemdup(p, at + 1, (apr_size_t)(end - at - 1)),
                            NULL)
              : apr_pstrmemdup(p, url, (apr_size_t)(end - url));
    changed = at != NULL;
    hash = strchr(end, '#');
    qm = memchr(end, '?', hash ? (apr_size_t)(hash - end) : strlen(end));
    {
        const char *path_end = qm ? qm : hash ? hash : end + strlen(end);
        head = apr_pstrcat(p, head, apr_pstrmemdup(p, end,
                                                   (apr_size_t)(path_end - end)),
                           NULL);
    }
    if (qm) {
        qlen = hash ? (apr_size_t)(hash - qm - 1) : strlen(qm + 1);
        query = gk_redact_query(p, qm + 1, qlen, names);
        changed = changed || query != qm + 1;
    }
    if (hash) {
        flen = strlen(hash + 1);
        frag = gk_redact_query(p, hash + 1, flen, names);
        changed = changed || frag != hash + 1;
    }
    if (!changed) {
        return url;
    }
    return apr_pstrcat(p, head,
                       qm ? "?" : "", qm ? apr_pstrmemdup(p, query, query == qm + 1 ? qlen : strlen(query)) : "",
                       hash ? "#" : "", hash ? frag : "", NULL);
}
