/*
 * GKRequireHTTPS: plain-HTTP requests are redirected to HTTPS.
 *
 * Decided in header_parser, with the virtual host's settings, before
 * access control and authentication (a client is sent to HTTPS before it
 * is asked for credentials it would send in clear). The hook returns the
 * status and sets Location; httpd's error path (ap_die) sends the answer,
 * so every module's insert_error_filter still adds its headers (security
 * headers, correlation ID). The target is the configured host or the
 * virtual host's ServerName, never the request's Host; the path and query
 * are the request target's, byte for byte (also for absolute-form
 * targets).
 */
#include "apr_strings.h"
#include "http_protocol.h"

#include "gk_hdr.h"
#include "gk_headers_private.h"

/* A CORS preflight is answered where the client sent it. */
static int is_preflight(request_rec *r)
{
    return r->method_number == M_OPTIONS
           && apr_table_get(r->headers_in, "Origin")
           && apr_table_get(r->headers_in, "Access-Control-Request-Method");
}

static int exempt(request_rec *r, const gk_headers_srv_conf_t *sc)
{
    int i;

    if (!strncmp(r->uri, GK_HEADERS_ACME_PREFIX,
                 sizeof(GK_HEADERS_ACME_PREFIX) - 1)) {
        return 1;
    }
    for (i = 0; sc->require_except && i < sc->require_except->nelts; i++) {
        const char *p = APR_ARRAY_IDX(sc->require_except, i, const char *);
        if (!strncmp(r->uri, p, strlen(p))) {
            return 1;
        }
    }
    return 0;
}

static int status_for(request_rec *r, const gk_headers_srv_conf_t *sc)
{
    int s = sc->require_status ? sc->require_status : 301;

    if (r->method_number == M_GET) {        /* HEAD is M_GET too */
        return s;
    }
    /* a method with a body keeps it: the method-preserving twin */
    return s == 302 || s == 307 ? 307 : 308;
}

int gk_headers_require_https(request_rec *r)
{
    const gk_headers_srv_conf_t *sc;
    const char *target, *origin;

    if (r->main || r->prev) {
        return DECLINED;
    }
    sc = gk_headers_srv_conf(r->server);
    if (sc->require != 1 || gk_headers_is_secure(r, sc) || is_preflight(r)
        || !r->uri || r->uri[0] != '/' || exempt(r, sc)) {
        return DECLINED;
    }
    /* as the client sent them: httpd normalizes r->uri and
     * r->parsed_uri.path (merged slashes, decoded unreserved characters) */
    target = gk_hdr_target_path(r->pool, r->unparsed_uri);
    if (!target) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, GKLOGNO(20001)
                      "plain-HTTP request target cannot be redirected");
        return HTTP_BAD_REQUEST;
    }
    origin = sc->require_origin
                 ? sc->require_origin
                 : apr_pstrcat(r->pool, "https://",
                               r->server->server_hostname, NULL);
    apr_table_setn(r->headers_out, "Location",
                   apr_pstrcat(r->pool, origin, target, NULL));
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, GKLOGNO(20002)
                  "plain-HTTP request redirected to HTTPS");
    return status_for(r, sc);
}
