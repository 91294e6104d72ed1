/*
 * GKCSPNonce: one fresh nonce per request, from the suite's
 * CSPRNG (gk_rand), for the CSP's script-src and style-src and for the
 * backend (request header, env GK_CSP_NONCE).
 *
 * The nonce belongs to the original request: its internal redirects
 * (ErrorDocument) and subrequests (SSI) get the same one, since they
 * render parts of the same page.
 */
#include "apr_strings.h"

#include "gk_b64url.h"
#include "gk_headers_private.h"
#include "gk_rand.h"
#include "mod_gk_headers.h"

request_rec *gk_headers_origin_of(request_rec *r)
{
    for (;;) {
        if (r->main) {
            r = r->main;
        }
        else if (r->prev) {
            r = r->prev;
        }
        else {
            return r;
        }
    }
}

gk_headers_req_t *gk_headers_req(request_rec *r)
{
    request_rec *o = gk_headers_origin_of(r);
    gk_headers_req_t *st = ap_get_module_config(o->request_config,
                                                &gk_headers_module);

    if (!st) {
        st = apr_pcalloc(o->pool, sizeof(*st));
        ap_set_module_config(o->request_config, &gk_headers_module, st);
    }
    return st;
}

void gk_headers_child_init(apr_pool_t *p, server_rec *s)
{
    gk_rand_child_init();
    gk_headers_cors_child_init(p, s);
}

const char *gk_headers_nonce(request_rec *r)
{
    const gk_headers_req_t *st = ap_get_module_config(
        gk_headers_origin_of(r)->request_config, &gk_headers_module);

    return st ? st->nonce : NULL;
}

int gk_headers_nonce_request(request_rec *r)
{
    const gk_headers_srv_conf_t *sc = gk_headers_srv_conf(r->server);
    const apr_array_header_t *names;
    gk_headers_req_t *st;

    if (!gk_headers_conf_nonce(sc)) {
        return OK;
    }
    st = gk_headers_req(r);
    if (!st->nonce) {
        unsigned char raw[GK_HEADERS_NONCE_BYTES];
        if (gk_rand_bytes(raw, sizeof(raw)) != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, GKLOGNO(20003)
                          "no random bytes for a CSP nonce");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        st->nonce = gk_b64url_encode(gk_headers_origin_of(r)->pool, raw,
                                     sizeof(raw));
    }
    /* whatever the client sent under the name (any case, '_' for '-') is
     * gone before the backend reads it */
    names = gk_headers_conf_nonce_header(sc);
    gk_ap_scrub_headers(r, names, NULL);
    apr_table_setn(r->headers_in, APR_ARRAY_IDX(names, 0, const char *),
                   st->nonce);
    apr_table_setn(r->subprocess_env, GK_HEADERS_ENV_NONCE, st->nonce);
    return OK;
}

int gk_headers_header_parser(request_rec *r)
{
    int rv = gk_headers_require_https(r);

    if (rv != DECLINED) {
        return rv;
    }
    rv = gk_headers_cors_request(r);
    if (rv != DECLINED) {
        return rv;
    }
    rv = gk_headers_nonce_request(r);
    return rv == OK ? DECLINED : rv;
}
