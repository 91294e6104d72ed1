/*
 * mod_gk_auth error bodies: 400, 401 and 403 answers that this module
 * decided are sent as application/problem+json (RFC 9457) instead of
 * httpd's HTML page, unless the administrator set an ErrorDocument.
 */
#include "apr_buckets.h"
#include "http_core.h"
#include "http_protocol.h"
#include "mod_core.h"
#include "util_filter.h"

#include "gk_auth_private.h"
#include "gk_problem.h"

#define FILTER_NAME "GK_AUTH_PROBLEM"

static ap_filter_rec_t *problem_filter_handle;

typedef struct {
    int sent;
} problem_ctx_t;

/* Replace the body with the problem document; keep metadata buckets. */
static apr_status_t problem_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    problem_ctx_t *ctx = f->ctx;
    gk_auth_req_t *req = gk_auth_req(r, 0);
    apr_bucket_brigade *out = apr_brigade_create(r->pool,
                                                 f->c->bucket_alloc);
    apr_bucket *b, *next;

    if (!ctx) {
        ctx = f->ctx = apr_pcalloc(r->pool, sizeof(*ctx));
    }
    if (!ctx->sent && req) {
        apr_size_t len;
        const char *body = gk_problem_json(
            r->pool, r->status, ap_get_status_line(r->status) + 4,
            req->problem_detail, &len);
        ctx->sent = 1;
        ap_set_content_type(r, GK_PROBLEM_CONTENT_TYPE);
        apr_table_unset(r->headers_out, "Content-Length");
        if (!r->header_only) {
            APR_BRIGADE_INSERT_TAIL(out, apr_bucket_pool_create(
                                             body, len, r->pool,
                                             f->c->bucket_alloc));
        }
    }
    for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb); b = next) {
        next = APR_BUCKET_NEXT(b);
        APR_BUCKET_REMOVE(b);
        if (APR_BUCKET_IS_METADATA(b)) {
            APR_BRIGADE_INSERT_TAIL(out, b);
        }
        else {
            apr_bucket_destroy(b);
        }
    }
    return ap_pass_brigade(f->next, out);
}

void gk_auth_insert_error_filter(request_rec *r)
{
    gk_auth_req_t *req = gk_auth_req(r, 0);

    if (!req || !req->problem_status || req->problem_status != r->status
        || ap_response_code_string(r, ap_index_of_response(r->status))) {
        return;
    }
    ap_add_output_filter_handle(problem_filter_handle, NULL, r, r->connection);
}

void gk_auth_register_filters(void)
{
    problem_filter_handle = ap_register_output_filter(
        FILTER_NAME, problem_filter, NULL, AP_FTYPE_CONTENT_SET);
}
