#include <string.h>

#include "gk_ap.h"
#include "gk_http.h"

/* Is key one of names, as a backend that folds names reads it? Only a
 * name of the same length can be. */
static int names_hold(const apr_array_header_t *names, const char *key)
{
    apr_size_t len = strlen(key);
    int j;

    for (j = 0; j < names->nelts; j++) {
        const char *name = APR_ARRAY_IDX(names, j, const char *);
        if (strlen(name) == len && gk_http_header_same(key, name)) {
            return 1;
        }
    }
    return 0;
}

void gk_ap_scrub_headers(request_rec *r, const apr_array_header_t *names,
                         const char *keep)
{
    const apr_array_header_t *in;
    const apr_table_entry_t *e;
    const char **drop = NULL;
    int i, n = 0;

    if (!names || !names->nelts) {
        return;
    }
    in = apr_table_elts(r->headers_in);
    e = (const apr_table_entry_t *)in->elts;
    /* collect, then remove: a removal reorders the table */
    for (i = 0; i < in->nelts; i++) {
        if (!e[i].key || (keep && e[i].val == keep)
            || !names_hold(names, e[i].key)) {
            continue;
        }
        if (!drop) {
            drop = apr_palloc(r->pool, sizeof(*drop) * (apr_size_t)in->nelts);
        }
        drop[n++] = e[i].key;
    }
    for (i = 0; i < n; i++) {
        apr_table_unset(r->headers_in, drop[i]);
    }
}
