/*
 * CORS on requests: the decision (common/gk_cors.c) on the request's
 * Origin, preflights answered in header_parser, and the response headers
 * written by the GK_HEADERS_SECURITY filter.
 *
 * A preflight (OPTIONS with Origin and Access-Control-Request-Method) in
 * a scope with GKCORSAllowOrigin is always this module's to answer, in
 * header_parser: before access control, authentication and rate limits,
 * since it carries no credentials and reveals only the policy. The hook
 * returns 204 or 403 and httpd's error path sends it (docs/INTEROP.md,
 * "Early answers"), so the security headers and the correlation ID are on
 * it too.
 *
 * Every other request of such a scope is decided once, on its original
 * request, and the decision holds for its internal redirects (an
 * ErrorDocument of a 401 or 404 carries the CORS headers of the URL the
 * browser asked for). Every response of the scope carries Vary: Origin;
 * the handler's or backend's own Access-Control-* fields are removed, so
 * that the answer is this module's alone.
 */
#include "apr_hash.h"
#include "apr_strings.h"
#include "apr_thread_mutex.h"
#include "http_protocol.h"

#include "gk_ap_logfns.h"
#include "gk_headers_private.h"
#include "gk_reason.h"
#include "mod_gk_headers.h"

struct gk_headers_cors_req_t {
    const gk_headers_dir_conf_t *c;     /* the scope's settings */
    const char *allow_origin;           /* the answer, NULL: refused */
    int preflight;
    const char *allow_headers;          /* preflight: the names answered */
    int private_network;                /* preflight: PNA answered */
};

/* The CORS-safelisted methods, answered when none are configured. */
#define METHODS_DEFAULT "GET, HEAD, POST"
#define VARY_SIMPLE "Origin"
#define VARY_PREFLIGHT                                                    \
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"

int gk_headers_cors_on(const gk_headers_dir_conf_t *c)
{
    return c && c->cors_origins && !c->cors_origins->none;
}

/* ---- once-per-process messages about combined scopes ------------------ */

static apr_thread_mutex_t *said_lock;
static apr_hash_t *said;
static apr_pool_t *said_pool;

void gk_headers_cors_child_init(apr_pool_t *p, server_rec *s)
{
    if (apr_thread_mutex_create(&said_lock, APR_THREAD_MUTEX_DEFAULT, p)
        != APR_SUCCESS) {
        said_lock = NULL;
    }
    said_pool = p;
    said = apr_hash_make(p);
}

/* Has msg been logged by this process? Marks it. */
static int said_before(const char *msg)
{
    int before;

    if (!said_lock || apr_thread_mutex_lock(said_lock) != APR_SUCCESS) {
        return 0;
    }
    before = apr_hash_get(said, msg, APR_HASH_KEY_STRING) != NULL;
    if (!before) {
        const char *k = apr_pstrdup(said_pool, msg);
        apr_hash_set(said, k, APR_HASH_KEY_STRING, k);
    }
    apr_thread_mutex_unlock(said_lock);
    return before;
}

/* The two lines, from different sections, whose combination is unsafe
 * (GKCORSAllowCredentials On with "*" or a plain-HTTP origin), or 0. A
 * section with both was refused when it was read. */
static int unsafe(const gk_headers_dir_conf_t *c, const char **what,
                  const char **where)
{
    const gk_headers_cors_list_t *const lists[] = {
        c->cors_methods, c->cors_headers, c->cors_expose
    };
    static const char *const names[] = {
        "GKCORSAllowMethods *", "GKCORSAllowHeaders *",
        "GKCORSExposeHeaders *"
    };
    int i;

    if (!c->cors_credentials || !c->cors_credentials->on) {
        return 0;
    }
    if (c->cors_origins->any || c->cors_origins->plain_http) {
        *what = c->cors_origins->any
                    ? "GKCORSAllowOrigin *"
                    : "GKCORSAllowOrigin with a plain-HTTP origin";
        *where = c->cors_origins->where;
        return 1;
    }
    for (i = 0; i < 3; i++) {
        if (lists[i] && lists[i]->any) {
            *what = names[i];
            *where = lists[i]->where;
            return 1;
        }
    }
    return 0;
}

/* ---- notes and audit events ------------------------------------------- */

static APR_OPTIONAL_FN_TYPE(gk_log_audit) *audit_fn;

void gk_headers_cors_retrieve_fns(void)
{
    audit_fn = APR_RETRIEVE_OPTIONAL_FN(gk_log_audit);
}

static void record(request_rec *r, gk_reason_e reason, int preflight,
                   const char *origin)
{
    int ok = reason == GK_REASON_CORS_ALLOWED
             || reason == GK_REASON_CORS_PREFLIGHT;

    apr_table_setn(r->notes, GK_HEADERS_NOTE_CORS_OUTCOME,
                   ok ? "success" : "failure");
    apr_table_setn(r->notes, GK_HEADERS_NOTE_CORS_REASON,
                   gk_reason_name(reason));
    if (ok) {
        return;
    }
    if (audit_fn) {
        apr_table_t *fields = apr_table_make(r->pool, 1);
        apr_table_setn(fields, "origin", origin);
        audit_fn(r, "web", preflight ? "cors-preflight-refused"
                                     : "cors-origin-refused",
                 "failure", gk_reason_name(reason), fields);
    }
    else {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, GKLOGNO(20004)
                      "cross-origin %s refused: %s",
                      preflight ? "preflight" : "request",
                      gk_reason_name(reason));
    }
}

/* ---- the decision -------------------------------------------------------- */

static gk_reason_e reason_of(gk_cors_result_e res, int preflight)
{
    switch (res) {
    case GK_CORS_ALLOWED:
        return preflight ? GK_REASON_CORS_PREFLIGHT : GK_REASON_CORS_ALLOWED;
    case GK_CORS_BAD_ORIGIN:
        return GK_REASON_CORS_BAD_ORIGIN;
    case GK_CORS_METHOD_REFUSED:
        return GK_REASON_CORS_METHOD_REFUSED;
    case GK_CORS_HEADER_REFUSED:
        return GK_REASON_CORS_HEADER_REFUSED;
    default:
        return GK_REASON_CORS_REFUSED;
    }
}

static void policy_of(const gk_headers_dir_conf_t *c, gk_cors_policy_t *pol)
{
    memset(pol, 0, sizeof(*pol));
    pol->origins = c->cors_origins->list;
    pol->norigins = c->cors_origins->n;
    pol->any_origin = c->cors_origins->any;
    if (c->cors_methods) {
        pol->methods = c->cors_methods->list;
        pol->nmethods = c->cors_methods->n;
        pol->any_method = c->cors_methods->any;
    }
    if (c->cors_headers) {
        pol->headers = c->cors_headers->list;
        pol->nheaders = c->cors_headers->n;
        pol->any_header = c->cors_headers->any;
    }
    pol->credentials = c->cors_credentials && c->cors_credentials->on;
}

/* Decide on r (an original request) in scope c. */
static gk_headers_cors_req_t *decide(request_rec *r,
                                     const gk_headers_dir_conf_t *c,
                                     int preflight)
{
    gk_headers_cors_req_t *d = apr_pcalloc(r->pool, sizeof(*d));
    const char *origin = apr_table_get(r->headers_in, "Origin");
    const char *what, *where, *pn;
    gk_cors_policy_t pol;
    gk_cors_result_e res;

    d->c = c;
    d->preflight = preflight;
    if (!origin && !preflight) {
        return d;           /* not a CORS request: Vary only */
    }
    if (unsafe(c, &what, &where)) {
        const char *msg = apr_psprintf(
            r->pool, "%s (%s) and GKCORSAllowCredentials On (%s) combine "
            "into an unsafe policy: no CORS header is sent in this scope",
            what, where, c->cors_credentials->where);
        if (!said_before(msg)) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, GKLOGNO(20005) "%s",
                          msg);
        }
        record(r, GK_REASON_CORS_MISCONFIGURED, preflight, origin);
        return d;
    }
    policy_of(c, &pol);
    if (preflight) {
        res = gk_cors_check_preflight(
            r->pool, &pol, origin,
            apr_table_get(r->headers_in, "Access-Control-Request-Method"),
            apr_table_get(r->headers_in, "Access-Control-Request-Headers"),
            &d->allow_headers);
        d->private_network =
            c->cors_private_network == 1
            && (pn = apr_table_get(r->headers_in,
                                   "Access-Control-Request-Private-Network"))
            && !strcmp(pn, "true");
    }
    else {
        res = gk_cors_check_origin(&pol, origin);
    }
    if (res == GK_CORS_ALLOWED) {
        d->allow_origin = pol.any_origin ? "*" : origin;
    }
    record(r, reason_of(res, preflight), preflight, origin);
    return d;
}

const gk_headers_cors_req_t *gk_headers_cors_decision(request_rec *r)
{
    request_rec *o = gk_headers_origin_of(r);
    const gk_headers_req_t *st =
        ap_get_module_config(o->request_config, &gk_headers_module);
    const gk_headers_dir_conf_t *c;
    gk_headers_req_t *w;

    if (st && st->cors_decided) {
        return st->cors;
    }
    c = ap_get_module_config(o->per_dir_config, &gk_headers_module);
    if (!gk_headers_cors_on(c)) {
        return NULL;
    }
    /* a request that never reached header_parser (httpd refused it while
     * reading it, or a module answered in post_read_request) */
    w = gk_headers_req(o);
    w->cors = decide(o, c, 0);
    w->cors_decided = 1;
    return w->cors;
}

int gk_headers_cors_request(request_rec *r)
{
    const gk_headers_dir_conf_t *c;
    gk_headers_req_t *st;
    int preflight;

    if (r->main || r->prev) {
        return DECLINED;        /* decided on the original request */
    }
    c = ap_get_module_config(r->per_dir_config, &gk_headers_module);
    if (!gk_headers_cors_on(c)) {
        return DECLINED;
    }
    preflight = r->method_number == M_OPTIONS
                && apr_table_get(r->headers_in, "Origin")
                && apr_table_get(r->headers_in,
                                 "Access-Control-Request-Method");
    st = gk_headers_req(r);
    st->cors = decide(r, c, preflight);
    st->cors_decided = 1;
    if (!preflight) {
        return DECLINED;
    }
    ap_log_rerror(APLOG_MARK, APLOG_TRACE1, 0, r,
                  "CORS preflight answered: %s",
                  st->cors->allow_origin ? "204" : "403");
    return st->cors->allow_origin ? HTTP_NO_CONTENT : HTTP_FORBIDDEN;
}

/* ---- the response headers -------------------------------------------- */

#define ACX "Access-Control-"

/* Remove every Access-Control-* field from t. */
static void remove_acx(apr_pool_t *p, apr_table_t *t)
{
    const apr_array_header_t *a = apr_table_elts(t);
    const apr_table_entry_t *e = (const apr_table_entry_t *)a->elts;
    const char **names = apr_palloc(p, (a->nelts + 1) * sizeof(*names));
    int i, n = 0;

    for (i = 0; i < a->nelts; i++) {
        if (e[i].key && !strncasecmp(e[i].key, ACX, sizeof(ACX) - 1)) {
            names[n++] = e[i].key;
        }
    }
    for (i = 0; i < n; i++) {
        apr_table_unset(t, names[i]);
    }
}

void gk_headers_cors_apply(request_rec *r, const gk_headers_cors_req_t *d,
                           int have_acx, int have_vary)
{
    const gk_headers_dir_conf_t *c = d->c;
    const char *vary = d->preflight ? VARY_PREFLIGHT : VARY_SIMPLE;
    apr_table_t *t = r->headers_out;

    if (have_acx) {
        remove_acx(r->pool, r->headers_out);
        remove_acx(r->pool, r->err_headers_out);
    }
    if (have_vary) {
        gk_headers_extend_vary(r, vary);
    }
    else {
        apr_table_addn(t, "Vary", vary);
    }
    if (!d->allow_origin) {
        return;
    }
    apr_table_addn(t, "Access-Control-Allow-Origin", d->allow_origin);
    if (c->cors_credentials && c->cors_credentials->on) {
        apr_table_addn(t, "Access-Control-Allow-Credentials", "true");
    }
    if (!d->preflight) {
        const char *expose =
            c->cors_expose ? c->cors_expose->answer
                           : gk_headers_srv_conf(r->server)->cors_expose;
        if (expose) {
            apr_table_addn(t, "Access-Control-Expose-Headers", expose);
        }
        return;
    }
    apr_table_addn(t, "Access-Control-Allow-Methods",
                   c->cors_methods && c->cors_methods->answer
                       ? c->cors_methods->answer
                       : METHODS_DEFAULT);
    if (d->allow_headers) {
        apr_table_addn(t, "Access-Control-Allow-Headers", d->allow_headers);
    }
    if (c->cors_max_age && *c->cors_max_age) {
        apr_table_addn(t, "Access-Control-Max-Age", c->cors_max_age);
    }
    if (d->private_network) {
        apr_table_addn(t, "Access-Control-Allow-Private-Network", "true");
    }
}
