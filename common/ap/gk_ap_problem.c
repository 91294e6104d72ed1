#include "apr_buckets.h"
#include "http_core.h"
#include "http_protocol.h"
#include "http_request.h"
#include "mod_core.h"
#include "util_filter.h"

#include "gk_ap.h"
#include "gk_ap_problem.h"
#include "gk_problem.h"

/* This module's copy: its filter, its slot, mod_gk_log's function. */
static ap_filter_rec_t *problem_filter_handle;
static gk_ap_problem_slot_fn *problem_slot;
static APR_OPTIONAL_FN_TYPE(gk_log_correlation_id) *correlation_id_fn;

typedef struct {
    const gk_ap_problem_t *record;
    int sent;
} problem_ctx_t;

static apr_bucket *problem_body(request_rec *r, const gk_ap_problem_t *rec,
                                apr_bucket_alloc_t *ba)
{
    gk_problem_t pb = {0};
    const char *body;
    apr_size_t len;

    pb.status = r->status;
    pb.title = ap_get_status_line(r->status) + 4;
    pb.detail = rec->detail;
    pb.correlation_id = correlation_id_fn ? correlation_id_fn(r) : NULL;
    pb.extra_name = rec->extra_name;
    pb.extra_fn = rec->extra_fn;
    pb.extra_baton = rec->extra_baton;
    pb.extra_size = rec->extra_size;
    body = gk_problem_render(r->pool, &pb, &len);
    return apr_bucket_pool_create(body, len, r->pool, ba);
}

/* Replace the body with the problem document; keep metadata buckets. */
static apr_status_t problem_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    problem_ctx_t *ctx = f->ctx;
    apr_bucket_brigade *out = apr_brigade_create(r->pool,
                                                 f->c->bucket_alloc);
    apr_bucket *b, *next;

    if (!ctx->sent) {
        ctx->sent = 1;
        ap_set_content_type(r, GK_PROBLEM_CONTENT_TYPE);
        apr_table_unset(r->headers_out, "Content-Length");
        if (!r->header_only) {
            APR_BRIGADE_INSERT_TAIL(out, problem_body(r, ctx->record,
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

void gk_ap_problem_insert_error_filter(request_rec *r)
{
    gk_ap_problem_t *rec = problem_slot ? problem_slot(r, 0) : NULL;
    problem_ctx_t *ctx;

    if (!rec || !rec->status || rec->status != r->status
        || ap_response_code_string(r, ap_index_of_response(r->status))) {
        return; /* not this module's error, or an ErrorDocument's */
    }
    ctx = apr_pcalloc(r->pool, sizeof(*ctx));
    ctx->record = rec;
    ap_add_output_filter_handle(problem_filter_handle, ctx, r, r->connection);
}

void gk_ap_problem_retrieve_fns(void)
{
    correlation_id_fn = APR_RETRIEVE_OPTIONAL_FN(gk_log_correlation_id);
}

void gk_ap_problem_register(const char *filter_name,
                            gk_ap_problem_slot_fn *slot)
{
    problem_slot = slot;
    problem_filter_handle = ap_register_output_filter(
        filter_name, problem_filter, NULL, AP_FTYPE_CONTENT_SET);
}

void gk_ap_problem_set(request_rec *r, int status, gk_reason_e reason,
                       const char *detail)
{
    gk_ap_problem_t *rec = problem_slot ? problem_slot(r, 1) : NULL;

    if (!rec) {
        return; /* gk_ap_problem_register was not called */
    }
    rec->status = status;
    rec->reason = reason;
    rec->detail = detail ? detail : gk_reason_text(reason);
    rec->extra_name = NULL;
    rec->extra_fn = NULL;
    rec->extra_baton = NULL;
    rec->extra_size = 0;
}

void gk_ap_problem_set_extra(request_rec *r, const char *name,
                             gk_problem_extra_fn *fn, const void *baton,
                             apr_size_t size)
{
    gk_ap_problem_t *rec = problem_slot ? problem_slot(r, 0) : NULL;

    if (rec && rec->status) {
        rec->extra_name = name;
        rec->extra_fn = fn;
        rec->extra_baton = baton;
        rec->extra_size = size;
    }
}

void gk_ap_problem_clear(request_rec *r)
{
    gk_ap_problem_t *rec = problem_slot ? problem_slot(r, 0) : NULL;

    if (rec) {
        rec->status = 0;
    }
}
