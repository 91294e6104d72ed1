/*
 * mod_gk_auth: the state of one request (what authentication learnt, kept
 * for the subrequests and internal redirects that follow) and how a denial
 * is answered: the RFC 6750 challenge, the problem+json record and the
 * gk-auth-* notes. The check_authn hook (gk_auth_authn.c) and the Require
 * providers (gk_auth_authz.c) both answer through here.
 */
#include "apr_atomic.h"
#include "apr_strings.h"
#include "http_core.h"
#include "http_protocol.h"

#include "gk_auth_private.h"
#include "gk_http.h"
#include "mod_gk_auth.h"

/* ---- the request's state ------------------------------------------------ */

gk_auth_req_t *gk_auth_req(request_rec *r, int create)
{
    gk_auth_req_t *req = ap_get_module_config(r->request_config,
                                              &gk_auth_module);

    if (!req && create) {
        req = apr_pcalloc(r->pool, sizeof(*req));
        req->pool = r->pool;
        ap_set_module_config(r->request_config, &gk_auth_module, req);
    }
    return req;
}

/* This request's state, or that of the request it was redirected from or
 * is a subrequest of: identity follows internal redirects. */
gk_auth_req_t *gk_auth_req_find(request_rec *r)
{
    gk_auth_req_t *req;

    for (; r; r = r->prev ? r->prev : r->main) {
        if ((req = gk_auth_req(r, 0)) && req->v) {
            return req;
        }
    }
    return NULL;
}

gk_ap_problem_t *gk_auth_problem_slot(request_rec *r, int create)
{
    gk_auth_req_t *req = gk_auth_req(r, create);

    return req ? &req->problem : NULL;
}

int gk_auth_is_preflight(request_rec *r)
{
    return r->method_number == M_OPTIONS
           && apr_table_get(r->headers_in, "Origin")
           && apr_table_get(r->headers_in, "Access-Control-Request-Method");
}

/* ---- answers ------------------------------------------------------------ */

void gk_auth_set_challenge(request_rec *r, const char *error,
                           const char *description)
{
    const char *realm = ap_auth_name(r);
    /* ap_auth_name() escapes quotes already, as a quoted-string needs */
    const char *v = apr_pstrcat(r->pool, "Bearer realm=\"",
                                realm ? realm : GK_AUTH_DEFAULT_REALM, "\"",
                                NULL);

    if (error) {
        v = apr_pstrcat(r->pool, v, ", error=\"", error, "\"", NULL);
        if (description) {
            v = apr_pstrcat(r->pool, v, ", error_description=",
                            gk_http_quote(r->pool, description), NULL);
        }
    }
    apr_table_setn(r->err_headers_out,
                   r->proxyreq == PROXYREQ_PROXY ? "Proxy-Authenticate"
                                                 : "WWW-Authenticate",
                   v);
}

void gk_auth_note_outcome(request_rec *r, gk_reason_e reason)
{
    apr_table_setn(r->notes, GK_AUTH_NOTE_OUTCOME,
                   reason == GK_REASON_OK || reason == GK_REASON_PREFLIGHT
                       ? "success"
                       : "failure");
    apr_table_setn(r->notes, GK_AUTH_NOTE_REASON, gk_reason_name(reason));
}

/* ---- audit events ----------------------------------------------------- */

static APR_OPTIONAL_FN_TYPE(gk_log_audit) *audit_fn;

void gk_auth_retrieve_fns(void)
{
    gk_ap_problem_retrieve_fns();
    audit_fn = APR_RETRIEVE_OPTIONAL_FN(gk_log_audit);
}

void gk_auth_audit(request_rec *r, const char *action, gk_reason_e reason,
                   const char *key, const char *val)
{
    apr_table_t *fields = NULL;

    if (!audit_fn) {
        return;
    }
    if (key && val) {
        fields = apr_table_make(r->pool, 1);
        apr_table_setn(fields, key, val);
    }
    audit_fn(r, "authentication", action,
             reason == GK_REASON_OK || reason == GK_REASON_PREFLIGHT
                 ? "success"
                 : "failure",
             gk_reason_name(reason), fields);
}

int gk_auth_deny(request_rec *r, int status, const char *error,
                 gk_reason_e reason)
{
    gk_auth_set_challenge(r, error, reason == GK_REASON_NO_TOKEN
                                        ? NULL
                                        : gk_reason_text(reason));
    gk_ap_problem_set(r, status, reason, NULL);
    gk_auth_note_outcome(r, reason);
    gk_auth_audit(r, "token-refused", reason, NULL, NULL);
    return status;
}

void gk_auth_deny_scope(request_rec *r, const char *detail)
{
    gk_auth_req_t *req = gk_auth_req(r, 1);

    req->insufficient = detail;
    gk_ap_problem_set(r, HTTP_FORBIDDEN, GK_REASON_INSUFFICIENT_SCOPE, detail);
    gk_auth_set_challenge(r, "insufficient_scope", detail);
    gk_auth_note_outcome(r, GK_REASON_INSUFFICIENT_SCOPE);
}

void gk_auth_forget_denial(request_rec *r)
{
    gk_auth_req_t *req = gk_auth_req(r, 0);

    if (req && req->insufficient) {
        apr_table_unset(r->err_headers_out, "WWW-Authenticate");
        req->insufficient = NULL;
        gk_ap_problem_clear(r);
    }
}

/* mod_authz_core answers an authenticated user's failed authorization with
 * 401 unless AuthzSendForbiddenOnFailure is on, and asks us for the
 * challenge here. */
int gk_auth_note_auth_failure(request_rec *r, const char *auth_type)
{
    static apr_uint32_t noticed;
    gk_auth_req_t *req;

    if (strcasecmp(auth_type, GK_AUTH_TYPE)) {
        return DECLINED;
    }
    req = gk_auth_req(r, 1);
    if (req->insufficient) {
        if (!apr_atomic_cas32(&noticed, 1, 0)) {
            ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, GKLOGNO(10008)
                          "answering 401 insufficient_scope: set "
                          "AuthzSendForbiddenOnFailure On where gk-* "
                          "Require lines apply, for 403 as RFC 6750 asks");
        }
        gk_auth_set_challenge(r, "insufficient_scope", req->insufficient);
        gk_ap_problem_set(r, HTTP_UNAUTHORIZED, GK_REASON_INSUFFICIENT_SCOPE,
                          req->insufficient);
    }
    else {
        gk_auth_set_challenge(r, NULL, NULL);
        gk_ap_problem_set(r, HTTP_UNAUTHORIZED, GK_REASON_NO_TOKEN, NULL);
    }
    return OK;
}
