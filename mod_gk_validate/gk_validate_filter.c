/*
 * The replay input filter GK_VALIDATE_REPLAY: the body read in fixups,
 * handed to whoever reads the request's body afterwards (mod_cgi,
 * mod_proxy_http, mod_proxy_fcgi, ap_discard_request_body...), as the
 * same bytes, framed as mod_proxy_http frames a body it read whole:
 * Content-Length set to the bytes read, Transfer-Encoding removed.
 *
 * Why a filter of its own, and why at AP_FTYPE_PROTOCOL:
 *  - the body was read through HTTP_IN, which has sent its EOS; a reader
 *    must now get the bytes from somewhere else. A filter is the only way
 *    that needs nothing of the handler: mod_cgi starts the script and
 *    then reads r->input_filters, mod_proxy_http reads them too.
 *  - mod_request's KEPT_BODY would do it only with mod_request loaded and
 *    KeptBodySize set, and only for the request that kept it.
 *  - httpd gives an internal redirect (mod_rewrite's [PT], DirectoryIndex,
 *    a CGI's local Location) the protocol filters of its parent and drops
 *    the others (http_request.c, internal_internal_redirect: input_filters
 *    = proto_input_filters). At AP_FTYPE_PROTOCOL the filter is in that
 *    chain, so the handler of a redirected request reads the same body,
 *    while no body is read twice (the body hook runs once per client
 *    request). The request's own filters (AP_FTYPE_RESOURCE, CONTENT_SET:
 *    mod_request, mod_sed, mod_deflate's inflate) stay above it and see
 *    the body exactly as they would without validation.
 *  - a filter added at the type of HTTP_IN goes below it (util_filter.c
 *    inserts after the filters of its own type), where no read reaches
 *    it: the replay filter is moved to the top of the protocol chain,
 *    above HTTP_IN (HTTP/1.x) or mod_http2's h2_c2_request_in (h2), which
 *    have read the body to its end and are never asked for data again.
 *  - mod_proxy_http streams a body whose Content-Length it can trust only
 *    when r->input_filters == r->proto_input_filters (else it spools it to
 *    a file first to count it); a protocol filter keeps that so.
 *
 * The handler's view of the request then matches a body that had arrived
 * with a Content-Length: ap_setup_client_block reads the headers set here
 * (r->remaining = the length, r->read_chunked = 0), r->read_length is
 * still 0 (only ap_get_client_block counts it), so ap_should_client_block
 * says there is a body to read.
 */
#include "apr_strings.h"
#include "util_filter.h"

#include "gk_validate_private.h"
#include "mod_gk_validate.h"

static ap_filter_rec_t *replay_handle;

typedef struct {
    apr_bucket_brigade *rest;   /* the bytes not handed out yet */
} replay_ctx_t;

static apr_status_t replay_filter(ap_filter_t *f, apr_bucket_brigade *bb,
                                  ap_input_mode_t mode,
                                  apr_read_type_e block, apr_off_t readbytes)
{
    replay_ctx_t *ctx = f->ctx;
    apr_bucket *e;
    apr_status_t rv;

    switch (mode) {
    case AP_MODE_READBYTES:
        if (APR_BRIGADE_EMPTY(ctx->rest)) {
            break;
        }
        rv = apr_brigade_partition(ctx->rest, readbytes, &e);
        if (rv != APR_SUCCESS && rv != APR_INCOMPLETE) {
            return rv;
        }
        /* the buckets before e: at most readbytes */
        while (APR_BRIGADE_FIRST(ctx->rest) != e) {
            apr_bucket *b = APR_BRIGADE_FIRST(ctx->rest);
            APR_BUCKET_REMOVE(b);
            APR_BRIGADE_INSERT_TAIL(bb, b);
        }
        break;
    case AP_MODE_GETLINE:
        rv = apr_brigade_split_line(bb, ctx->rest, block, HUGE_STRING_LEN);
        if (rv != APR_SUCCESS) {
            return rv;
        }
        break;
    case AP_MODE_SPECULATIVE:
        /* copies, within readbytes; nothing is consumed */
        for (e = APR_BRIGADE_FIRST(ctx->rest);
             e != APR_BRIGADE_SENTINEL(ctx->rest) && readbytes > 0;
             e = APR_BUCKET_NEXT(e)) {
            apr_bucket *c;
            if ((rv = apr_bucket_copy(e, &c)) != APR_SUCCESS) {
                return rv;
            }
            APR_BRIGADE_INSERT_TAIL(bb, c);
            if (c->length > (apr_size_t)readbytes) {
                apr_bucket_split(c, (apr_size_t)readbytes);
                apr_bucket_delete(APR_BUCKET_NEXT(c));
                break;
            }
            readbytes -= (apr_off_t)c->length;
        }
        if (!APR_BRIGADE_EMPTY(bb)) {
            return APR_SUCCESS;
        }
        break;
    case AP_MODE_EXHAUSTIVE:
        APR_BRIGADE_CONCAT(bb, ctx->rest);
        break;
    default:
        /* AP_MODE_INIT, AP_MODE_EATCRLF: the connection's business */
        return ap_get_brigade(f->next, bb, mode, block, readbytes);
    }
    /* as HTTP_IN does: the end of the body in the brigade of its last
     * bytes, and again on every later read */
    if (APR_BRIGADE_EMPTY(ctx->rest)) {
        APR_BRIGADE_INSERT_TAIL(bb,
                                apr_bucket_eos_create(f->c->bucket_alloc));
    }
    return APR_SUCCESS;
}

void gk_val_replay_register(void)
{
    replay_handle = ap_register_input_filter(GK_VALIDATE_FILTER_REPLAY,
                                             replay_filter, NULL,
                                             AP_FTYPE_PROTOCOL);
}

/* Put f, just added to r's protocol filters, at their top: above the
 * filter that read the body (HTTP_IN, or mod_http2's h2_c2_request_in),
 * which util_filter.c keeps above a filter added later at its own type.
 * That filter stays below, unread: the replay filter never passes a read
 * of data down. */
static void move_to_top(request_rec *r, ap_filter_t *f)
{
    ap_filter_t **pp;

    if (!f || r->proto_input_filters == f) {
        return;
    }
    for (pp = &r->input_filters; *pp && *pp != f; pp = &(*pp)->next) {
    }
    if (!*pp) {
        return; /* not in r's chain: leave it where util_filter.c put it */
    }
    *pp = f->next;
    /* before the first protocol filter: after the request's own filters,
     * if any */
    for (pp = &r->input_filters; *pp && *pp != r->proto_input_filters;
         pp = &(*pp)->next) {
    }
    f->next = r->proto_input_filters;
    *pp = f;
    r->proto_input_filters = f;
}

void gk_val_replay_install(request_rec *r, const char *buf, apr_size_t len)
{
    replay_ctx_t *ctx = apr_palloc(r->pool, sizeof(*ctx));
    apr_bucket_alloc_t *ba = r->connection->bucket_alloc;

    ctx->rest = apr_brigade_create(r->pool, ba);
    APR_BRIGADE_INSERT_TAIL(ctx->rest,
                            apr_bucket_pool_create(buf, len, r->pool, ba));
    move_to_top(r, ap_add_input_filter_handle(replay_handle, ctx, r,
                                              r->connection));
    /* the framing of a body read whole (mod_proxy_http's RB_STREAM_CL
     * after its prefetch saw the end) */
    apr_table_unset(r->headers_in, "Transfer-Encoding");
    apr_table_setn(r->headers_in, "Content-Length",
                   apr_off_t_toa(r->pool, (apr_off_t)len));
}
