#include <string.h>

#include "gk_strlist.h"

int gk_strlist_has(const apr_array_header_t *list, const char *value)
{
    int i;

    for (i = 0; list && i < list->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(list, i, const char *), value)) {
            return 1;
        }
    }
    return 0;
}

const char *gk_strlist_join(apr_pool_t *p, const apr_array_header_t *list,
                            const char *sep)
{
    apr_size_t len = 0, seplen = strlen(sep), l;
    char *out, *o;
    int i;

    if (!list || !list->nelts) {
        return "";
    }
    for (i = 0; i < list->nelts; i++) {
        len += strlen(APR_ARRAY_IDX(list, i, const char *)) + seplen;
    }
    o = out = apr_palloc(p, len + 1);
    for (i = 0; i < list->nelts; i++) {
        const char *s = APR_ARRAY_IDX(list, i, const char *);
        if (i) {
            memcpy(o, sep, seplen);
            o += seplen;
        }
        l = strlen(s);
        memcpy(o, s, l);
        o += l;
    }
    *o = '\0';
    return out;
}

apr_array_header_t *gk_strlist_merge(apr_pool_t *p, apr_array_header_t *base,
                                     apr_array_header_t *add)
{
    if (!base) {
        return add;
    }
    if (!add) {
        return base;
    }
    return apr_array_append(p, base, add);
}
