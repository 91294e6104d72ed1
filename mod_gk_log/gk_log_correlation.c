/*
 * mod_gk_log: one correlation ID per request, the same everywhere, and
 * W3C traceparent handling.
 *
 * Where the ID comes from, and when:
 *
 *  - create_request gives every request a state. The original request
 *    owns it (in its pool); an internal redirect and a subrequest share
 *    the state of the request they come from, so they all have one ID.
 *  - post_read_request decides, under the name-based virtual host's
 *    settings: an incoming ID from a trusted peer that gk_corrid_is_valid
 *    accepts is kept, anything else is replaced by a generated one.
 *  - Before that decision, the ID is made when something first needs it
 *    (an error-log line, the error response, the access log), under the
 *    settings of the server httpd had selected then. That happens for the
 *    requests httpd refuses while reading them (the early 400s), which
 *    never reach post_read_request: their ID is always a generated one.
 *    If an ID was made that way for a request that then reaches
 *    post_read_request, it is kept when no incoming ID is accepted and the
 *    virtual host's format is the same; otherwise the decided ID replaces
 *    it, r->log_id included, and a debug line names both.
 *
 * Where the ID goes: r->log_id through generate_log_id (error-log lines,
 * %L) and, when no error line made it, in log_transaction before
 * mod_log_config writes (%L in LogFormat); the request header to backends;
 * the response header, by an output filter that runs once, right before
 * the headers leave; the environment and the notes.
 */
#include "apr_strings.h"
#include "http_protocol.h"
#include "util_filter.h"

#include "gk_log_private.h"
#include "gk_rand.h"
#include "gk_trace.h"
#include "gk_uuid.h"
#include "mod_gk_log.h"

/* What one request decided; owned by the original request, shared by its
 * internal redirects and subrequests. Strings live in `pool`. */
typedef struct {
    apr_pool_t *pool;               /* the original request's pool */
    const gk_log_srv_conf_t *conf;  /* the settings id was made under */
    const char *id;                 /* NULL: none yet, or none at all */
    int fmt;                        /* the format id was generated in; 0
                                     * for an incoming ID */
    int decided;                    /* post_read_request ran */
    const char *trace_id;           /* 32 hex digits, or NULL */
    const char *span_id;            /* 16 hex digits, or NULL */
} gk_log_state_t;

/* One request_rec's view: the shared state, and whether this request's
 * environment and notes were set. */
typedef struct {
    gk_log_state_t *st;
    int bound;
} gk_log_req_t;

#define TRACEPARENT "traceparent"
#define TRACESTATE "tracestate"

/* A failure of the random source is logged at most once per interval in
 * each process (a broken RAND_bytes would otherwise log every request). */
#define OUTAGE_LOG_INTERVAL_SEC 60

static volatile apr_uint32_t last_outage_log;

static ap_filter_rec_t *id_filter_handle;

static int outage_log_due(void)
{
    return gk_ap_once_per(&last_outage_log, OUTAGE_LOG_INTERVAL_SEC);
}

static gk_log_req_t *get_req(const request_rec *r)
{
    return ap_get_module_config(r->request_config, &gk_log_module);
}

/* A new ID in the given format, from the state's pool; NULL when no
 * random bytes could be had. Logs without a request: a line logged for r
 * here would ask generate_log_id, which asks for this ID. */
static const char *make_id(gk_log_state_t *st, int fmt, const server_rec *s)
{
    char *buf = apr_palloc(st->pool, GK_UUID_LEN + 1);
    apr_status_t rv;

    if (fmt == GK_LOG_FMT_UUID4) {
        rv = gk_uuid4(buf);
    }
    else {
        rv = gk_uuid7(buf, (apr_uint64_t)apr_time_as_msec(apr_time_now()));
    }
    if (rv != APR_SUCCESS) {
        if (outage_log_due()) {
            ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, GKLOGNO(40001)
                         "cannot generate a correlation ID (no random "
                         "bytes from OpenSSL): requests go without one");
        }
        return NULL;
    }
    return buf;
}

/* The request's ID: decided, or made now under r->server's settings when
 * nothing has decided yet (a request refused while it was read). NULL
 * when correlation is off for it. */
static const char *ensure_id(const request_rec *r, gk_log_req_t *rq)
{
    gk_log_state_t *st = rq->st;
    const gk_log_srv_conf_t *conf;

    if (st->id || st->decided) {
        return st->id;
    }
    conf = gk_log_srv_conf(r->server);
    if (!gk_log_conf_enabled(conf)) {
        return NULL;
    }
    st->conf = conf;
    st->fmt = gk_log_conf_format(conf);
    st->id = make_id(st, st->fmt, r->server);
    return st->id;
}

/* Set the environment and the notes of this request_rec, once. */
static void bind_request(request_rec *r, gk_log_req_t *rq)
{
    const gk_log_state_t *st = rq->st;
    const char *id;

    if (rq->bound) {
        return;
    }
    rq->bound = 1;
    if ((id = ensure_id(r, rq))) {
        apr_table_setn(r->subprocess_env, GK_LOG_ENV_CORRELATION_ID, id);
        apr_table_setn(r->notes, GK_LOG_NOTE_CORRELATION_ID, id);
    }
    if (st->trace_id) {
        apr_table_setn(r->subprocess_env, GK_LOG_ENV_TRACE_ID, st->trace_id);
        apr_table_setn(r->subprocess_env, GK_LOG_ENV_SPAN_ID, st->span_id);
        apr_table_setn(r->notes, GK_LOG_NOTE_TRACE_ID, st->trace_id);
        apr_table_setn(r->notes, GK_LOG_NOTE_SPAN_ID, st->span_id);
    }
}

/* ---- the decision, in post_read_request -------------------------------- */

/* The request header the backend gets: the ID alone under its name, no
 * other spelling of the name or an alias. An incoming ID that was kept
 * stays where it is (kept: its value, the only copy under the name). The
 * response header is set by the output filter, on every answer. */
static void set_headers(request_rec *r, const gk_log_srv_conf_t *conf,
                        const char *id, const char *kept)
{
    gk_ap_scrub_headers(r, gk_log_conf_names(conf), kept);
    if (id && !kept) {
        apr_table_setn(r->headers_in, gk_log_conf_header(conf), id);
    }
}

typedef enum {
    IN_NONE = 0,
    IN_KEPT,
    IN_UNTRUSTED,
    IN_INVALID
} incoming_e;

static void decide_id(request_rec *r, gk_log_state_t *st,
                      const gk_log_srv_conf_t *conf)
{
    const apr_array_header_t *names = gk_log_conf_names(conf);
    const char *name = APR_ARRAY_IDX(names, 0, const char *);
    const char *prov = st->id, *in = NULL, *in_name = name, *id = NULL;
    int fmt = gk_log_conf_format(conf);
    incoming_e why = IN_NONE;
    int i;

    /* the first of the names the request carries decides; httpd has
     * joined repeated fields with ", ", which the grammar refuses */
    for (i = 0; !in && i < names->nelts; i++) {
        in_name = APR_ARRAY_IDX(names, i, const char *);
        in = apr_table_get(r->headers_in, in_name);
    }
    if (in) {
        if (!gk_ap_trust_peer(gk_log_conf_trust(conf), r->connection)) {
            why = IN_UNTRUSTED;
        }
        else if (!gk_corrid_is_valid(in, strlen(in))) {
            why = IN_INVALID;
        }
        else {
            why = IN_KEPT;
            id = in;                /* in r->pool, the state's pool */
        }
    }
    if (!id) {
        id = prov && st->fmt == fmt ? prov : make_id(st, fmt, r->server);
    }
    /* final from here on: lines logged below carry it */
    st->conf = conf;
    st->id = id;
    st->fmt = why == IN_KEPT ? 0 : fmt;
    st->decided = 1;
    /* an ID kept as it came under the main name needs no new header */
    set_headers(r, conf, id, why == IN_KEPT && in_name == name ? in : NULL);

    if (prov && id && id != prov && r->log_id == prov) {
        /* a line was logged before the request was read to the end: the
         * rest of the request's lines carry the decided ID */
        r->log_id = id;
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, GKLOGNO(40004)
                      "correlation ID %s replaces %s, which earlier lines "
                      "of this request carry", id, prov);
    }
    if (why == IN_UNTRUSTED) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, GKLOGNO(40003)
                      "%s ignored: peer %s is not in GKCorrelationTrust",
                      in_name, r->connection->client_ip);
    }
    else if (why == IN_INVALID) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, GKLOGNO(40002)
                      "%s replaced: not a valid correlation ID (%"
                      APR_SIZE_T_FMT " bytes; 1 to %d of A-Z a-z 0-9 . _ "
                      ": -)", in_name, strlen(in), GK_CORRID_MAX);
    }
}

/* traceparent and tracestate leave together, or not at all. */
static void drop_trace_headers(request_rec *r)
{
    apr_table_unset(r->headers_in, TRACEPARENT);
    apr_table_unset(r->headers_in, TRACESTATE);
}

static void decide_trace(request_rec *r, gk_log_state_t *st,
                         const gk_log_srv_conf_t *conf)
{
    gk_log_tp_mode_e mode = gk_log_conf_traceparent(conf);
    const char *in;
    gk_traceparent_t tp;
    unsigned char span[8];
    unsigned char flags;
    char *out, *hex;
    int trusted, valid = 0;

    if (mode == GK_LOG_TP_OFF) {
        return;
    }
    in = apr_table_get(r->headers_in, TRACEPARENT);
    if (!in && mode != GK_LOG_TP_GENERATE) {
        /* nothing to continue: only a lone tracestate has to go */
        apr_table_unset(r->headers_in, TRACESTATE);
        return;
    }
    trusted = in && gk_ap_trust_peer(gk_log_conf_trust(conf), r->connection);
    if (trusted) {
        valid = gk_traceparent_parse(in, strlen(in), &tp);
    }
    if (valid) {
        /* version 00 goes out: keep the bits it defines */
        flags = tp.flags & GK_TRACE_FLAG_SAMPLED;
    }
    else {
        /* an invalid or untrusted traceparent restarts the trace; its
         * tracestate belongs to that trace and goes with it */
        drop_trace_headers(r);
        if (in && !trusted) {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, GKLOGNO(40006)
                          "traceparent dropped: peer %s is not in "
                          "GKCorrelationTrust", r->connection->client_ip);
        }
        else if (in) {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, GKLOGNO(40005)
                          "traceparent dropped: not a valid W3C "
                          "traceparent (%" APR_SIZE_T_FMT " bytes)",
                          strlen(in));
        }
        if (mode != GK_LOG_TP_GENERATE) {
            return;
        }
        if (gk_trace_new_trace_id(tp.trace_id) != APR_SUCCESS) {
            if (outage_log_due()) {
                ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, GKLOGNO(40007)
                              "cannot start a trace (no random bytes from "
                              "OpenSSL): requests go without traceparent");
            }
            return;
        }
        /* the gateway records the trace in its logs */
        flags = GK_TRACE_FLAG_SAMPLED;
    }
    if (gk_trace_new_span_id(span) != APR_SUCCESS) {
        if (outage_log_due()) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, GKLOGNO(40008)
                          "cannot make a span ID (no random bytes from "
                          "OpenSSL): requests go without traceparent");
        }
        drop_trace_headers(r);
        return;
    }
    out = apr_palloc(r->pool, GK_TRACEPARENT_LEN + 1);
    gk_traceparent_format(out, tp.trace_id, span, flags);
    apr_table_setn(r->headers_in, TRACEPARENT, out);
    hex = apr_palloc(r->pool, 2 * 16 + 1);
    gk_trace_hex(hex, tp.trace_id, 16);
    st->trace_id = hex;
    hex = apr_palloc(r->pool, 2 * 8 + 1);
    gk_trace_hex(hex, span, 8);
    st->span_id = hex;
}

/* ---- hooks ------------------------------------------------------------ */

void gk_log_child_init(apr_pool_t *p, server_rec *s)
{
    gk_rand_child_init();
}

int gk_log_create_request(request_rec *r)
{
    /* an internal redirect has prev (main is set after this hook), a
     * subrequest has main */
    request_rec *from = r->prev ? r->prev : r->main;
    gk_log_req_t *rq;

    if (from) {
        gk_log_req_t *frq = get_req(from);
        if (!frq) {
            return OK;              /* made without create_request */
        }
        rq = apr_pcalloc(r->pool, sizeof(*rq));
        rq->st = frq->st;
    }
    else {
        /* the original request: its state and the state it shares with
         * its redirects and subrequests, in one allocation */
        struct {
            gk_log_req_t rq;
            gk_log_state_t st;
        } *both = apr_pcalloc(r->pool, sizeof(*both));
        rq = &both->rq;
        rq->st = &both->st;
        rq->st->pool = r->pool;
    }
    ap_set_module_config(r->request_config, &gk_log_module, rq);
    if (r->main) {
        /* a subrequest's tables exist already (an internal redirect's are
         * made after this hook: see gk_log_pre_translate_name) */
        bind_request(r, rq);
    }
    return OK;
}

int gk_log_post_read_request(request_rec *r)
{
    gk_log_req_t *rq = get_req(r);
    const gk_log_srv_conf_t *conf;
    gk_log_state_t *st;

    if (!rq || r->main || r->prev) {
        return DECLINED;
    }
    st = rq->st;
    conf = gk_log_srv_conf(r->server);
    if (gk_log_conf_enabled(conf)) {
        decide_id(r, st, conf);
    }
    else {
        st->conf = conf;
        st->id = NULL;
        st->decided = 1;
    }
    decide_trace(r, st, conf);
    bind_request(r, rq);
    return DECLINED;
}

int gk_log_pre_translate_name(request_rec *r)
{
    gk_log_req_t *rq;

    /* the first hook that every internal redirect runs with its tables */
    if (r->prev && (rq = get_req(r))) {
        bind_request(r, rq);
    }
    return DECLINED;
}

int gk_log_generate_log_id(const conn_rec *c, const request_rec *r,
                           const char **id)
{
    gk_log_req_t *rq;
    const char *v;

    if (!r || !(rq = get_req(r)) || !(v = ensure_id(r, rq))) {
        return DECLINED;            /* connections: core's ID */
    }
    *id = v;
    return OK;
}

void gk_log_insert_filter(request_rec *r)
{
    gk_log_req_t *rq;

    if (r->main || !(rq = get_req(r)) || !ensure_id(r, rq)) {
        return;
    }
    ap_add_output_filter_handle(id_filter_handle, NULL, r, r->connection);
}

void gk_log_insert_error_filter(request_rec *r)
{
    gk_log_req_t *rq;

    if (r->main || !(rq = get_req(r))) {
        return;
    }
    /* a request refused while it was read gets its ID here */
    bind_request(r, rq);
    if (ensure_id(r, rq)) {
        ap_add_output_filter_handle(id_filter_handle, NULL, r,
                                    r->connection);
    }
}

int gk_log_log_transaction(request_rec *r)
{
    gk_log_req_t *rq = get_req(r);
    const char *id;

    if (!rq) {
        return DECLINED;
    }
    bind_request(r, rq);            /* %{GK_CORRELATION_ID}e, e.g. a 408 */
    /* now, and not earlier: httpd writes ErrorLogFormat's once-per-request
     * lines only while r->log_id is unset */
    if (!r->log_id && (id = ensure_id(r, rq))) {
        r->log_id = id;
    }
    return DECLINED;
}

/* Right before the headers leave: the ID under its name exactly once,
 * replacing a copy a backend or another module put in headers_out. Runs
 * after every content filter (mod_headers' included) and before httpd's
 * HTTP_HEADER filter, which merges err_headers_out into headers_out. */
static apr_status_t id_out_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    gk_log_req_t *rq = get_req(r);
    const char *id = rq ? ensure_id(r, rq) : NULL;

    if (id) {
        const char *name = gk_log_conf_header(rq->st->conf);
        /* headers_out, not err_headers_out: httpd merges the two tables
         * only when err_headers_out holds something */
        apr_table_setn(r->headers_out, name, id);
        if (!apr_is_empty_table(r->err_headers_out)) {
            apr_table_unset(r->err_headers_out, name);
        }
    }
    ap_remove_output_filter(f);
    return ap_pass_brigade(f->next, bb);
}

void gk_log_register_filters(void)
{
    id_filter_handle = ap_register_output_filter(
        "GK_LOG_CORRELATION_ID", id_out_filter, NULL,
        (ap_filter_type)(AP_FTYPE_PROTOCOL - 1));
}

const char *gk_log_correlation_id(request_rec *r)
{
    gk_log_req_t *rq = r ? get_req(r) : NULL;

    return rq ? ensure_id(r, rq) : NULL;
}
