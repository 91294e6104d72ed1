#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gk_problem.h"

const char *gk_problem_json(apr_pool_t *p, int status, const char *title,
                            const char *detail, apr_size_t *len)
{
    json_t *o = json_object();
    char *s;
    const char *out;

    json_object_set_new(o, "type", json_string("about:blank"));
    if (title) {
        json_object_set_new(o, "title", json_string(title));
    }
    json_object_set_new(o, "status", json_integer(status));
    if (detail) {
        json_object_set_new(o, "detail", json_string(detail));
    }
    s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!s) {
        out = apr_psprintf(p, "{\"status\":%d}", status);
    }
    else {
        out = apr_pstrcat(p, s, "\n", NULL);
        free(s);
    }
    *len = strlen(out);
    return out;
}

const char *gk_http_quote(apr_pool_t *p, const char *s)
{
    apr_size_t n = strlen(s);
    char *out = apr_palloc(p, 2 * n + 3), *o = out;

    *o++ = '"';
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f) {
            continue;
        }
        if (c == '"' || c == '\\') {
            *o++ = '\\';
        }
        *o++ = (char)c;
    }
    *o++ = '"';
    *o = '\0';
    return out;
}
