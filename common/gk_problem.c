#include <string.h>

#include "gk_json_out.h"
#include "gk_problem.h"
#include "gk_uuid.h"

/* The most bytes a string of len bytes takes once escaped (a control
 * character becomes \u00XX, 6 bytes; an invalid byte U+FFFD, 3), with
 * its quotes, key and separators. */
static apr_size_t room(const char *s)
{
    return s ? 6 * strlen(s) + 32 : 0;
}

const char *gk_problem_render(apr_pool_t *p, const gk_problem_t *pb,
                              apr_size_t *len)
{
    const char *id = pb->correlation_id && *pb->correlation_id
                         ? pb->correlation_id : NULL;
    int extra = pb->extra_name && pb->extra_fn;
    apr_size_t cap = 96 + room(pb->title) + room(pb->detail) + 2 * room(id)
                     + (extra ? pb->extra_size + room(pb->extra_name) : 0);
    char *buf = apr_palloc(p, cap + 1);
    gk_json_out_t o;

    gk_json_begin(&o, buf, cap);
    gk_json_cstr(&o, "type", "about:blank", 0);
    if (pb->title) {
        gk_json_cstr(&o, "title", pb->title, 0);
    }
    gk_json_int(&o, "status", pb->status);
    if (pb->detail) {
        gk_json_cstr(&o, "detail", pb->detail, 0);
    }
    if (extra) {
        pb->extra_fn(&o, pb->extra_name, pb->extra_baton);
    }
    if (id) {
        if (gk_uuid_is_valid(id, strlen(id))) {
            char urn[9 + GK_UUID_LEN + 1];
            memcpy(urn, "urn:uuid:", 9);
            memcpy(urn + 9, id, GK_UUID_LEN + 1);
            gk_json_str(&o, "instance", urn, 9 + GK_UUID_LEN, 0);
        }
        gk_json_cstr(&o, "correlation_id", id, 0);
    }
    *len = gk_json_end(&o);
    buf[*len] = '\0';
    return buf;
}

const char *gk_problem_json(apr_pool_t *p, int status, const char *title,
                            const char *detail, apr_size_t *len)
{
    gk_problem_t pb = {0};

    pb.status = status;
    pb.title = title;
    pb.detail = detail;
    return gk_problem_render(p, &pb, len);
}
