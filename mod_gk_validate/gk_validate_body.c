/*
 * The request path: a body checked before the handler sees it.
 *
 * In fixups, on the main request, once per client request (an internal
 * redirect of a request whose body was read is not read again; an
 * ErrorDocument's request never is), in a scope with a schema and for a
 * method of GKValidateMethods:
 *
 *   1. before the first byte is read: Content-Encoding (identity only),
 *      the media type (application/json or application/<name>+json,
 *      UTF-8) and a declared Content-Length over GKValidateMaxBody are
 *      answered 415 and 413 from the headers alone. httpd's HTTP_IN filter
 *      sends "100 Continue" on the first blocking read of a body, and only
 *      then: a refusal here goes out without it;
 *   2. the body is read whole (Content-Length or chunked) into one buffer
 *      of the request's pool, up to GKValidateMaxBody (413 beyond);
 *   3. it is parsed once with jansson (any top-level value, duplicate
 *      member names refused, \u0000 allowed in strings), its nesting
 *      checked against GKValidateMaxDepth, and the same tree validated
 *      against the compiled schema; the tree is freed as soon as that is
 *      done (a cleanup of the request's pool covers every other way out);
 *   4. a body that passes is handed to the handler by the replay filter
 *      (gk_validate_filter.c); a refusal is returned and answered through
 *      httpd's error path with a problem+json body (400, 413, 415, 422),
 *      never quoting the body.
 *
 * Every decision is recorded in the notes of mod_gk_validate.h on the
 * client's request; a refusal is also an audit event (mod_gk_log) and an
 * info line.
 */
#include <jansson.h>

#include "apr_strings.h"
#include "http_protocol.h"
#include "util_filter.h"

#include "gk_ap_logfns.h"
#include "gk_http.h"
#include "gk_json_out.h"
#include "gk_reason.h"
#include "gk_validate_private.h"
#include "mod_gk_validate.h"

/* Bytes asked of the input filters per read. */
#define READ_CHUNK 65536
/* The first buffer of a body of unknown length (chunked). */
#define FIRST_BUFFER 16384

/* The module's state of a request: its error answer. */
typedef struct {
    gk_ap_problem_t problem;
} val_req_t;

gk_ap_problem_t *gk_val_problem_slot(request_rec *r, int create)
{
    val_req_t *st = ap_get_module_config(r->request_config,
                                         &gk_validate_module);

    if (!st && create) {
        st = apr_pcalloc(r->pool, sizeof(*st));
        ap_set_module_config(r->request_config, &gk_validate_module, st);
    }
    return st ? &st->problem : NULL;
}

static APR_OPTIONAL_FN_TYPE(gk_log_audit) *audit_fn;

void gk_val_retrieve_fns(void)
{
    gk_ap_problem_retrieve_fns();
    audit_fn = APR_RETRIEVE_OPTIONAL_FN(gk_log_audit);
}

/* What one request is checked with. */
typedef struct {
    request_rec *r;
    request_rec *client;        /* the client's request: the notes */
    const gk_val_dir_conf_t *conf;
} val_ctx_t;

static void note(const val_ctx_t *vc, const char *outcome,
                 gk_reason_e reason, const char *keyword)
{
    apr_table_t *n = vc->client->notes;

    apr_table_setn(n, GK_VALIDATE_NOTE_OUTCOME, outcome);
    if (reason != GK_REASON_COUNT) {
        apr_table_setn(n, GK_VALIDATE_NOTE_REASON, gk_reason_name(reason));
    }
    if (keyword) {
        apr_table_setn(n, GK_VALIDATE_NOTE_KEYWORD, keyword);
    }
}

/* A refusal: the notes, the info line, the audit event (without the
 * body's content) and the answer; returns the status for the hook. */
static int refuse(const val_ctx_t *vc, int status, gk_reason_e reason,
                  const char *detail, const char *keyword)
{
    request_rec *r = vc->r;

    note(vc, "invalid", reason, keyword);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, GKLOGNO(50010)
                  "request body refused with %d (%s%s%s, schema %s): %s",
                  status, gk_reason_name(reason), keyword ? ", keyword " : "",
                  keyword ? keyword : "", vc->conf->schema->path, detail);
    if (audit_fn) {
        apr_table_t *fields = apr_table_make(r->pool, 3);
        apr_table_setn(fields, "status", apr_itoa(r->pool, status));
        apr_table_setn(fields, "schema", vc->conf->schema->path);
        if (keyword) {
            apr_table_setn(fields, "keyword", keyword);
        }
        audit_fn(r, "web", "body-refused", "failure",
                 gk_reason_name(reason), fields);
    }
    gk_ap_problem_set(r, status, reason, detail);
    return status;
}

/* The body could not be read (the client went away or timed out, a
 * broken chunk, LimitRequestBody): httpd's own answer. */
static int read_failed(const val_ctx_t *vc, apr_status_t rv)
{
    note(vc, "error", GK_REASON_BODY_READ_ERROR, NULL);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, rv, vc->r, GKLOGNO(50011)
                  "request body could not be read");
    return ap_map_http_request_error(rv, HTTP_BAD_REQUEST);
}

static int too_large(const val_ctx_t *vc)
{
    return refuse(vc, HTTP_REQUEST_ENTITY_TOO_LARGE, GK_REASON_BODY_TOO_LARGE,
                  apr_psprintf(vc->r->pool, "the body is larger than %d "
                               "bytes", gk_val_conf_max_body(vc->conf)),
                  NULL);
}

/* ---- 1. the headers --------------------------------------------------- */

/* 0 to read on (*declared: the Content-Length, -1 when chunked or
 * unknown), or the status of a refusal. */
static int check_headers(const val_ctx_t *vc, apr_off_t *declared)
{
    request_rec *r = vc->r;
    const char *enc = apr_table_get(r->headers_in, "Content-Encoding");
    const char *te = apr_table_get(r->headers_in, "Transfer-Encoding");
    const char *cl = apr_table_get(r->headers_in, "Content-Length");

    if (enc && strcasecmp(gk_http_skip_ows(enc), "identity")) {
        return refuse(vc, HTTP_UNSUPPORTED_MEDIA_TYPE,
                      GK_REASON_UNSUPPORTED_MEDIA_TYPE,
                      "a Content-Encoding is not accepted: send the body "
                      "uncompressed", NULL);
    }
    if (!gk_http_json_media_type_ok(apr_table_get(r->headers_in,
                                                  "Content-Type"))) {
        return refuse(vc, HTTP_UNSUPPORTED_MEDIA_TYPE,
                      GK_REASON_UNSUPPORTED_MEDIA_TYPE,
                      "the body must be application/json (or "
                      "application/<name>+json) in UTF-8", NULL);
    }
    *declared = -1;
    if (te) {
        return 0; /* chunked: HTTP_IN refuses any other coding */
    }
    if (cl && !ap_parse_strict_length(declared, cl)) {
        *declared = -1; /* HTTP_IN answers it when read */
        return 0;
    }
    if (*declared > gk_val_conf_max_body(vc->conf)) {
        return too_large(vc);
    }
    if (*declared <= 0) {
        return refuse(vc, HTTP_BAD_REQUEST, GK_REASON_EMPTY_BODY,
                      "the request has no body: a JSON body is required",
                      NULL);
    }
    return 0;
}

/* ---- 2. the body ------------------------------------------------------ */

/* Read the whole body into *buf (r's pool), *len bytes: 0, or the status
 * of a refusal or of a failed read. */
static int read_body(const val_ctx_t *vc, apr_off_t declared, char **buf,
                     apr_size_t *len)
{
    request_rec *r = vc->r;
    apr_size_t max = (apr_size_t)gk_val_conf_max_body(vc->conf);
    apr_size_t cap = declared > 0 ? (apr_size_t)declared
                                  : (FIRST_BUFFER < max ? FIRST_BUFFER : max);
    apr_bucket_brigade *bb = apr_brigade_create(r->pool,
                                                r->connection->bucket_alloc);
    char *b = apr_palloc(r->pool, cap);
    apr_size_t n = 0;
    int eos = 0;

    while (!eos) {
        apr_bucket *e;
        apr_status_t rv = ap_get_brigade(r->input_filters, bb,
                                         AP_MODE_READBYTES, APR_BLOCK_READ,
                                         READ_CHUNK);
        if (rv != APR_SUCCESS) {
            apr_brigade_destroy(bb);
            return read_failed(vc, rv);
        }
        for (e = APR_BRIGADE_FIRST(bb);
             e != APR_BRIGADE_SENTINEL(bb) && !eos; e = APR_BUCKET_NEXT(e)) {
            const char *data;
            apr_size_t dlen;

            if (APR_BUCKET_IS_EOS(e)) {
                eos = 1;
                break;
            }
            if (APR_BUCKET_IS_METADATA(e)) {
                continue;
            }
            rv = apr_bucket_read(e, &data, &dlen, APR_BLOCK_READ);
            if (rv != APR_SUCCESS) {
                apr_brigade_destroy(bb);
                return read_failed(vc, rv);
            }
            if (dlen > max - n) {
                apr_brigade_destroy(bb);
                return too_large(vc);
            }
            if (dlen > cap - n) {
                /* chunked, or a filter that changed the length: grow */
                apr_size_t ncap = cap * 2 > n + dlen ? cap * 2 : n + dlen;
                char *nb = apr_palloc(r->pool, ncap < max ? ncap : max);
                memcpy(nb, b, n);
                b = nb;
                cap = ncap < max ? ncap : max;
            }
            memcpy(b + n, data, dlen);
            n += dlen;
        }
        apr_brigade_cleanup(bb);
    }
    apr_brigade_destroy(bb);
    *buf = b;
    *len = n;
    return 0;
}

/* ---- 3. the JSON ------------------------------------------------------ */

static apr_status_t decref_json(void *v)
{
    json_decref(v);
    return APR_SUCCESS;
}

/* jansson's failure as an answer; its own text is never used, since it
 * quotes the body ("near '...'"). */
static int parse_failed(const val_ctx_t *vc, const json_error_t *je)
{
    apr_pool_t *p = vc->r->pool;
    const char *what;

    switch (json_error_code(je)) {
    case json_error_duplicate_key:
        return refuse(vc, HTTP_BAD_REQUEST, GK_REASON_DUPLICATE_KEY,
                      apr_psprintf(p, "an object repeats a member name "
                                   "(near byte %d)", je->position),
                      NULL);
    case json_error_numeric_overflow:
        /* valid JSON (RFC 8259 sets no range) that this gateway cannot
         * hold: an unprocessable value, not a malformed body */
        return refuse(vc, HTTP_UNPROCESSABLE_ENTITY, GK_REASON_INVALID_BODY,
                      apr_psprintf(p, "a number (near byte %d) is out of "
                                   "range: integers must fit in 64 bits "
                                   "(-9223372036854775808 to "
                                   "9223372036854775807) and other numbers "
                                   "in a double; send larger values as "
                                   "strings", je->position),
                      NULL);
    case json_error_stack_overflow:
        return refuse(vc, HTTP_BAD_REQUEST, GK_REASON_BODY_TOO_DEEP,
                      apr_psprintf(p, "arrays and objects are nested more "
                                   "than %d deep",
                                   gk_val_conf_max_depth(vc->conf)),
                      NULL);
    case json_error_out_of_memory:
        note(vc, "error", GK_REASON_INTERNAL_ERROR, NULL);
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, vc->r, GKLOGNO(50012)
                      "out of memory parsing a request body");
        return HTTP_INTERNAL_SERVER_ERROR;
    case json_error_invalid_utf8:
        what = "the body is not UTF-8";
        break;
    case json_error_premature_end_of_input:
        what = "the body ends inside its JSON value";
        break;
    case json_error_end_of_input_expected:
        what = "text follows the JSON value";
        break;
    case json_error_null_byte_in_key:
        what = "a member name holds \\u0000";
        break;
    default:
        what = "the body is not valid JSON";
        break;
    }
    return refuse(vc, HTTP_BAD_REQUEST, GK_REASON_MALFORMED_BODY,
                  apr_psprintf(p, "%s (near byte %d)", what, je->position),
                  NULL);
}

/* Is v nested deeper than left more arrays and objects? (One walk over
 * the containers of the tree; scalars cost a type test.) */
static int too_deep(json_t *v, int left)
{
    void *it = json_is_object(v) ? json_object_iter(v) : NULL;
    size_t i, n = json_is_array(v) ? json_array_size(v) : 0;

    if (!json_is_object(v) && !json_is_array(v)) {
        return 0;
    }
    if (!left--) {
        return 1; /* an empty container counts too */
    }
    for (i = 0; it || i < n; i++) {
        json_t *m = it ? json_object_iter_value(it) : json_array_get(v, i);
        if ((json_is_object(m) || json_is_array(m)) && too_deep(m, left)) {
            return 1;
        }
        if (it) {
            it = json_object_iter_next(v, it);
        }
    }
    return 0;
}

/* The "errors" member of the 422 body: the errors in document order,
 * never the values (o: a gk_json_out_t, gk_problem.h). */
static void write_errors(void *out, const char *name, const void *baton)
{
    gk_json_out_t *o = out;
    const gk_schema_result_t *res = baton;
    int i;

    gk_json_arr_open(o, name);
    for (i = 0; i < res->nerrors; i++) {
        const gk_schema_error_t *e = &res->errors[i];
        gk_json_obj_open(o, NULL);
        gk_json_cstr(o, "instanceLocation", e->instance_location, 0);
        gk_json_cstr(o, "keywordLocation", e->keyword_location, 0);
        gk_json_cstr(o, "keyword", e->keyword, 0);
        gk_json_cstr(o, "message", e->message, 0);
        gk_json_close(o);
    }
    gk_json_close(o);
}

/* The most bytes write_errors takes: each string escaped at worst to six
 * times its length, with its key, quotes and separators. */
static apr_size_t errors_size(const gk_schema_result_t *res)
{
    apr_size_t n = 16;
    int i;

    for (i = 0; i < res->nerrors; i++) {
        const gk_schema_error_t *e = &res->errors[i];
        const char *f[4] = {e->instance_location, e->keyword_location,
                            e->keyword, e->message};
        int k;
        n += 8;
        for (k = 0; k < 4; k++) {
            n += 24 + (f[k] ? 6 * strlen(f[k]) : 4);
        }
    }
    return n;
}

/* The 422 answer. */
static int invalid(const val_ctx_t *vc, const gk_schema_result_t *res)
{
    request_rec *r = vc->r;
    gk_schema_result_t *kept;
    int status;

    if (res->match_limit_location) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, GKLOGNO(50013)
                      "the pattern at %s (schema %s) hit its match limit on "
                      "a request body: refused (422)",
                      res->match_limit_location, vc->conf->schema->path);
    }
    status = refuse(vc, HTTP_UNPROCESSABLE_ENTITY, GK_REASON_INVALID_BODY,
                    apr_psprintf(r->pool, "the body does not match the "
                                 "schema (%s%d error%s)",
                                 res->truncated ? "the first " : "",
                                 res->nerrors, res->nerrors == 1 ? "" : "s"),
                    res->nerrors ? res->errors[0].keyword : NULL);
    /* the errors live in r->pool; the result itself is the caller's */
    kept = apr_pmemdup(r->pool, res, sizeof(*res));
    gk_ap_problem_set_extra(r, "errors", write_errors, kept,
                            errors_size(kept));
    return status;
}

/* Parse, check the depth, validate: 0 or a refusal's status. */
static int check_json(const val_ctx_t *vc, const char *buf, apr_size_t len)
{
    request_rec *r = vc->r;
    int max_depth = gk_val_conf_max_depth(vc->conf);
    gk_schema_opts_t opts;
    gk_schema_result_t res;
    json_error_t je;
    json_t *doc;
    int rc = 0;

    doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY
                                   | JSON_ALLOW_NUL, &je);
    if (!doc) {
        return parse_failed(vc, &je);
    }
    apr_pool_cleanup_register(r->pool, doc, decref_json,
                              apr_pool_cleanup_null);
    /* nesting deeper than max_depth takes at least 2 * (max_depth + 1)
     * bytes: a shorter body needs no walk */
    if (len >= 2 * ((apr_size_t)max_depth + 1) && too_deep(doc, max_depth)) {
        rc = refuse(vc, HTTP_BAD_REQUEST, GK_REASON_BODY_TOO_DEEP,
                    apr_psprintf(r->pool, "arrays and objects are nested "
                                 "more than %d deep", max_depth),
                    NULL);
    }
    else {
        opts.formats_assert = gk_val_conf_formats_assert(vc->conf);
        opts.max_errors = gk_val_conf_max_errors(vc->conf);
        if (!gk_schema_validate(vc->conf->schema->compiled, doc, &opts,
                                r->pool, &res)) {
            rc = invalid(vc, &res);
        }
    }
    /* the tree is not needed any more: free it now, not with the request */
    apr_pool_cleanup_run(r->pool, doc, decref_json);
    return rc;
}

/* ---- the hook --------------------------------------------------------- */

int gk_val_fixups(request_rec *r)
{
    val_ctx_t vc;
    apr_off_t declared;
    const char *outcome;
    char *buf = NULL;
    apr_size_t len = 0;
    int rc;

    if (r->main) {
        return DECLINED; /* a subrequest: its main request's body */
    }
    vc.conf = ap_get_module_config(r->per_dir_config, &gk_validate_module);
    if (!vc.conf->schema || !vc.conf->schema->compiled) {
        return DECLINED;
    }
    vc.r = r;
    for (vc.client = r; vc.client->prev; vc.client = vc.client->prev) {
    }
    if (r->prev) {
        /* an ErrorDocument's request, or a body already decided */
        outcome = apr_table_get(vc.client->notes, GK_VALIDATE_NOTE_OUTCOME);
        if (ap_is_HTTP_ERROR(r->prev->status)
            || (outcome && strcmp(outcome, "skipped"))) {
            return DECLINED;
        }
    }
    if (r->method_number < 0 || r->method_number >= 63
        || !(gk_val_conf_methods(vc.conf)
             & (AP_METHOD_BIT << r->method_number))) {
        note(&vc, "skipped", GK_REASON_COUNT, NULL);
        return DECLINED;
    }
    if ((rc = check_headers(&vc, &declared))
        || (rc = read_body(&vc, declared, &buf, &len))) {
        return rc;
    }
    if (!len) {
        return refuse(&vc, HTTP_BAD_REQUEST, GK_REASON_EMPTY_BODY,
                      "the body is empty: a JSON body is required", NULL);
    }
    if ((rc = check_json(&vc, buf, len))) {
        return rc;
    }
    note(&vc, "valid", GK_REASON_OK, NULL);
    gk_val_replay_install(r, buf, len);
    return DECLINED;
}
