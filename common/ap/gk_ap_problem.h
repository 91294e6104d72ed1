/*
 * problem+json error bodies (RFC 9457) for errors a module answers, from
 * the httpd-side layer (common/ap/gk_ap_problem.c).
 *
 * A module records the error it answers (gk_ap_problem_set) and returns
 * the status from its hook as usual. httpd then builds the error response;
 * the module's own output filter, inserted only when the response's status
 * is the one the module recorded, replaces httpd's HTML body with the
 * problem document of common/gk_problem.c. An ErrorDocument the
 * administrator set for the status still wins: no filter is inserted.
 *
 * Each module links its own copy of this layer, and httpd's filter
 * registry keeps the last registration of a name: so each module
 * registers its filter under its own name ("GK_AUTH_PROBLEM",
 * "GK_RATELIMIT_PROBLEM"...) and keeps the record in a slot of its own
 * per-request state, which it hands over as a function. Errors another
 * module answers are never touched.
 *
 * When mod_gk_log is loaded, the body also carries the request's
 * correlation ID ("correlation_id") and, when the ID is a UUID,
 * "instance": "urn:uuid:<id>".
 */
#ifndef GK_AP_PROBLEM_H
#define GK_AP_PROBLEM_H

#include "apr_optional.h"
#include "httpd.h"

#include "gk.h"
#include "gk_ap_logfns.h"
#include "gk_problem.h"
#include "gk_reason.h"

/* What a module records of the error it answers. A module's slot starts
 * zeroed (apr_pcalloc or memset). */
typedef struct gk_ap_problem_t {
    int status;             /* 0: none recorded */
    gk_reason_e reason;     /* why: common/gk_reason.h */
    const char *detail;     /* the body's "detail" */
    /* an extension member of the body (gk_problem_t's extra_*), NULL:
     * none; set by gk_ap_problem_set_extra */
    const char *extra_name;
    gk_problem_extra_fn *extra_fn;
    const void *extra_baton;
    apr_size_t extra_size;
} gk_ap_problem_t;

/* The module's slot for the record of r: with create, made if absent;
 * else NULL when r has none. */
typedef gk_ap_problem_t *gk_ap_problem_slot_fn(request_rec *r, int create);

/* In register_hooks: register the module's output filter under
 * filter_name ("GK_<MODULE>_PROBLEM"), with the slot of its records. The
 * module also registers the two hooks below itself, so that its
 * register_hooks lists every hook it runs:
 *     gk_ap_problem_register("GK_AUTH_PROBLEM", gk_auth_problem_slot);
 *     ap_hook_insert_error_filter(gk_ap_problem_insert_error_filter, NULL,
 *                                 NULL, APR_HOOK_MIDDLE);
 *     ap_hook_optional_fn_retrieve(gk_ap_problem_retrieve_fns, NULL, NULL,
 *                                  APR_HOOK_MIDDLE); */
void gk_ap_problem_register(const char *filter_name,
                            gk_ap_problem_slot_fn *slot);

/* The insert_error_filter hook: adds the filter to r's error response when
 * the module recorded r's status and no ErrorDocument applies. */
void gk_ap_problem_insert_error_filter(request_rec *r);

/* The optional_fn_retrieve hook: looks for mod_gk_log's correlation IDs
 * (a module with a hook of its own calls this from it). */
void gk_ap_problem_retrieve_fns(void);

/* Record that r is answered with status for reason; detail NULL: the
 * reason's text (gk_reason_text). */
void gk_ap_problem_set(request_rec *r, int status, gk_reason_e reason,
                       const char *detail);

/* After gk_ap_problem_set: the body also carries the member name (an
 * RFC 9457 extension member, such as "errors"), written by fn with baton
 * in at most size bytes (gk_problem.h). The baton must live as long as
 * r. */
void gk_ap_problem_set_extra(request_rec *r, const char *name,
                             gk_problem_extra_fn *fn, const void *baton,
                             apr_size_t size);

/* Forget the record: r is not answered with that error after all. */
void gk_ap_problem_clear(request_rec *r);

#endif
