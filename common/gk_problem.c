#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gk_problem.h"
#include "gk_uuid.h"

/* Set a string member; jansson refuses what is not UTF-8 (left out). */
static void set_string(json_t *o, const char *name, const char *value)
{
    if (value) {
        json_object_set_new(o, name, json_string(value));
    }
}

static void set_correlation(apr_pool_t *p, json_t *o, const char *id)
{
    if (!id || !*id) {
        return;
    }
    if (gk_uuid_is_valid(id, strlen(id))) {
        set_string(o, "instance", apr_pstrcat(p, "urn:uuid:", id, NULL));
    }
    set_string(o, "correlation_id", id);
}

const char *gk_problem_render(apr_pool_t *p, const gk_problem_t *pb,
                              apr_size_t *len)
{
    json_t *o = json_object();
    char *s;
    const char *out;

    json_object_set_new(o, "type", json_string("about:blank"));
    set_string(o, "title", pb->title);
    json_object_set_new(o, "status", json_integer(pb->status));
    set_string(o, "detail", pb->detail);
    if (pb->extra_name && pb->extra) {
        /* a reference, dropped with o: the caller's value is not changed */
        json_object_set(o, pb->extra_name, (json_t *)pb->extra);
    }
    set_correlation(p, o, pb->correlation_id);
    s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!s) {
        out = apr_psprintf(p, "{\"status\":%d}", pb->status);
    }
    else {
        out = apr_pstrcat(p, s, "\n", NULL);
        free(s);
    }
    *len = strlen(out);
    return out;
}

const char *gk_problem_json(apr_pool_t *p, int status, const char *title,
                            const char *detail, apr_size_t *len)
{
    gk_problem_t pb = {status, title, detail, NULL, NULL, NULL};

    return gk_problem_render(p, &pb, len);
}
