/*
 * GKProblemJSON: error answers that leak nothing.
 *
 * httpd's own 4xx/5xx (its HTML pages) and a handler's or backend's 5xx
 * (a stack trace, a database error) get the suite's RFC 9457
 * application/problem+json body (common/gk_problem.c) instead: status,
 * reason phrase, and the correlation ID when mod_gk_log is loaded; nothing
 * of the original body. Left alone: a handler's 4xx (an API's own error
 * documents), an ErrorDocument the administrator set, and an error another
 * Gatekeeper module answered with its own problem body (its filter, of
 * type AP_FTYPE_CONTENT_SET, has set the content type by the time this one
 * runs). HEAD gets the headers and no body; 304 is never touched.
 * Headers other than the body's own (WWW-Authenticate, Retry-After, Allow,
 * the security headers) are kept.
 *
 * The filter, GK_HEADERS_PROBLEM (AP_FTYPE_PROTOCOL - 1), sits after every
 * content filter (mod_deflate, mod_include) and before CONTENT_LENGTH and
 * HTTP_HEADER. It decides on the first brigade, when the status is known,
 * then drops every data bucket of the response, streamed ones included
 * (a CGI's pipe is read to its end), and sets Content-Length to the new
 * body's.
 */
#include "apr_strings.h"
#include "http_core.h"
#include "http_protocol.h"
#include "mod_core.h"
#include "util_filter.h"

#include "gk_ap_problem.h"
#include "gk_headers_private.h"
#include "gk_problem.h"

static ap_filter_rec_t *problem_handle;
static APR_OPTIONAL_FN_TYPE(gk_log_correlation_id) *correlation_id_fn;

enum { UNDECIDED = 0, REPLACE = 1, PASS = 2 };

typedef struct {
    int from_error;     /* inserted by insert_error_filter */
    int state;
} problem_ctx_t;

void gk_headers_retrieve_fns(void)
{
    correlation_id_fn = APR_RETRIEVE_OPTIONAL_FN(gk_log_correlation_id);
}

static int decide(request_rec *r, const problem_ctx_t *ctx)
{
    if (r->status < 400) {
        return PASS;
    }
    if (ctx->from_error) {
        /* httpd's page, unless another Gatekeeper module answered */
        return r->content_type
                       && !strncasecmp(r->content_type,
                                       GK_PROBLEM_CONTENT_TYPE,
                                       sizeof(GK_PROBLEM_CONTENT_TYPE) - 1)
                   ? PASS
                   : REPLACE;
    }
    return r->status >= 500 ? REPLACE : PASS;
}

/* The headers that described the old body. */
static void forget_body(request_rec *r)
{
    static const char *const names[] = {
        "Content-Encoding", "Content-Language", "Content-Location",
        "Content-MD5", "Content-Range", "Content-Disposition", "ETag",
        "Last-Modified", "Expires", "Content-Length", NULL
    };
    int i;

    for (i = 0; names[i]; i++) {
        apr_table_unset(r->headers_out, names[i]);
        apr_table_unset(r->err_headers_out, names[i]);
    }
    r->content_encoding = NULL;
    r->content_languages = NULL;
}

static apr_bucket *problem_body(request_rec *r, apr_bucket_alloc_t *ba,
                                apr_size_t *len)
{
    gk_problem_t pb = {0};
    const char *line = ap_get_status_line(r->status);
    const char *body;

    pb.status = r->status;
    pb.title = line && strlen(line) > 4 ? line + 4 : NULL;
    pb.detail = NULL;
    pb.correlation_id = correlation_id_fn ? correlation_id_fn(r) : NULL;
    body = gk_problem_render(r->pool, &pb, len);
    return apr_bucket_pool_create(body, *len, r->pool, ba);
}

static apr_status_t problem_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    problem_ctx_t *ctx = f->ctx;
    apr_bucket *b, *next;

    if (ctx->state == UNDECIDED) {
        ctx->state = decide(r, ctx);
        if (ctx->state == PASS) {
            ap_remove_output_filter(f);
            return ap_pass_brigade(f->next, bb);
        }
        else {
            apr_size_t len;
            apr_bucket *body = problem_body(r, f->c->bucket_alloc, &len);
            forget_body(r);
            ap_set_content_type(r, GK_PROBLEM_CONTENT_TYPE);
            ap_set_content_length(r, len);
            if (r->header_only) {
                apr_bucket_destroy(body);
            }
            else {
                APR_BRIGADE_INSERT_HEAD(bb, body);
                b = APR_BUCKET_NEXT(body);
                goto drop;
            }
        }
    }
    b = APR_BRIGADE_FIRST(bb);
drop:
    /* nothing of the original body; metadata (EOS, flush) passes. A
     * bucket of unknown length (a CGI's pipe or socket) is read before it
     * goes: it then leaves the rest of the stream in a new bucket after
     * it, so the whole output is drained (a CGI blocked on a full pipe
     * would never exit) */
    for (; b != APR_BRIGADE_SENTINEL(bb); b = next) {
        if (!APR_BUCKET_IS_METADATA(b)) {
            if (b->length == (apr_size_t)-1) {
                const char *data;
                apr_size_t len;
                (void)apr_bucket_read(b, &data, &len, APR_BLOCK_READ);
            }
            next = APR_BUCKET_NEXT(b);
            apr_bucket_delete(b);
        }
        else {
            next = APR_BUCKET_NEXT(b);
        }
    }
    return ap_pass_brigade(f->next, bb);
}

void gk_headers_register_problem_filter(void)
{
    problem_handle = ap_register_output_filter(
        "GK_HEADERS_PROBLEM", problem_filter, NULL,
        (ap_filter_type)(AP_FTYPE_PROTOCOL - 1));
}

void gk_headers_insert_problem(request_rec *r, int from_error)
{
    const gk_headers_srv_conf_t *sc = gk_headers_srv_conf(r->server);
    problem_ctx_t *ctx;

    if (r->main || !gk_headers_conf_problem(sc)) {
        return;
    }
    if (from_error
        && ap_response_code_string(r, ap_index_of_response(r->status))) {
        return;         /* the administrator's ErrorDocument text */
    }
    if (!from_error && r->prev && r->prev->status >= 400) {
        return;         /* the administrator's ErrorDocument page */
    }
    ctx = apr_pcalloc(r->pool, sizeof(*ctx));
    ctx->from_error = from_error;
    ap_add_output_filter_handle(problem_handle, ctx, r, r->connection);
}
