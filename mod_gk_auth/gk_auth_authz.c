/*
 * mod_gk_auth authorization: the Require providers gk-role, gk-permission
 * and gk-claim. Each require line is parsed once, when the configuration
 * (or an .htaccess file) is read.
 */
#include "apr_strings.h"
#include "http_protocol.h"
#include "mod_auth.h"

#include "gk_auth_private.h"
#include "gk_text.h"

typedef enum { REQ_ROLE, REQ_PERMISSION, REQ_CLAIM } require_kind_e;

typedef struct {
    require_kind_e kind;
    apr_array_header_t *values;     /* const char * */
    gk_claim_path_t *claim;         /* REQ_CLAIM */
    const char *detail;             /* what the denial says */
} gk_require_t;

static const char *terse_detail = "Insufficient permissions";

/* What a denial by the line says (GKAuthErrorDetail full). */
static const char *require_detail(apr_pool_t *p, const gk_require_t *req)
{
    const char *w = gk_strlist_join(p, req->values, ", ");

    switch (req->kind) {
    case REQ_ROLE:
        return apr_pstrcat(p, "Requires one of: ", w, NULL);
    case REQ_PERMISSION:
        return apr_pstrcat(p, "Requires one of the permissions: ", w, NULL);
    default:
        return apr_psprintf(p, "Requires claim %s to be one of: %s",
                            req->claim->name, w);
    }
}

/* One value of a line, or why it is refused. */
static const char *check_value(cmd_parms *cmd, const char *name,
                               require_kind_e kind, const char *w)
{
    const char *e;

    if (kind == REQ_PERMISSION && (e = gk_perm_check(cmd->temp_pool, w, 1))) {
        return apr_psprintf(cmd->pool, "Require %s: %s", name, e);
    }
    if (kind == REQ_ROLE && !gk_text_is_atom(w)) {
        return apr_psprintf(cmd->pool, "Require %s: role '%s' may hold "
                            "only visible ASCII characters: no white "
                            "space, control or non-ASCII byte", name, w);
    }
    return NULL;
}

static const char *parse_line(cmd_parms *cmd, const char *line,
                              const void **parsed, require_kind_e kind)
{
    const char *name = kind == REQ_ROLE         ? "gk-role"
                       : kind == REQ_PERMISSION ? "gk-permission"
                                                : "gk-claim";
    gk_require_t *req = apr_pcalloc(cmd->pool, sizeof(*req));
    const char *w, *e;

    req->kind = kind;
    req->values = apr_array_make(cmd->pool, 4, sizeof(const char *));
    if (kind == REQ_CLAIM) {
        w = ap_getword_conf(cmd->pool, &line);
        if (!gk_claim_path_is_valid(w)) {
            return apr_psprintf(cmd->pool, "Require %s: needs a claim name "
                                "and at least one value", name);
        }
        req->claim = gk_claim_path_make(cmd->pool, w);
    }
    while (*(w = ap_getword_conf(cmd->pool, &line))) {
        if ((e = check_value(cmd, name, kind, w))) {
            return e;
        }
        APR_ARRAY_PUSH(req->values, const char *) = w;
    }
    if (!req->values->nelts) {
        return apr_psprintf(cmd->pool, "Require %s: needs at least one %s",
                            name, kind == REQ_ROLE         ? "role"
                                  : kind == REQ_PERMISSION ? "permission"
                                                           : "value");
    }
    req->detail = require_detail(cmd->pool, req);
    *parsed = req;
    return NULL;
}

static const char *parse_role(cmd_parms *cmd, const char *line,
                              const void **parsed)
{
    return parse_line(cmd, line, parsed, REQ_ROLE);
}

static const char *parse_permission(cmd_parms *cmd, const char *line,
                                    const void **parsed)
{
    return parse_line(cmd, line, parsed, REQ_PERMISSION);
}

static const char *parse_claim(cmd_parms *cmd, const char *line,
                               const void **parsed)
{
    return parse_line(cmd, line, parsed, REQ_CLAIM);
}

/* Does the claim equal one of the values, or, as an array, hold one? */
static int claim_matches(request_rec *r, json_t *v,
                         const apr_array_header_t *values)
{
    const char *s;

    if (json_is_array(v)) {
        json_t *e;
        size_t i;
        json_array_foreach(v, i, e) {
            if (!json_is_array(e) && !json_is_object(e)
                && claim_matches(r, e, values)) {
                return 1;
            }
        }
        return 0;
    }
    if (json_is_object(v)) {
        return 0;
    }
    s = gk_auth_claim_string(r->pool, v);
    return s && gk_strlist_has(values, s);
}

static int granted(request_rec *r, gk_auth_req_t *req, const gk_require_t *rq)
{
    const apr_array_header_t *held;
    int i, j;

    switch (rq->kind) {
    case REQ_ROLE:
        held = gk_auth_roles(r, req);
        for (i = 0; i < rq->values->nelts; i++) {
            if (gk_strlist_has(held, APR_ARRAY_IDX(rq->values, i,
                                                   const char *))) {
                return 1;
            }
        }
        return 0;
    case REQ_PERMISSION:
        held = gk_auth_perms(r, req);
        for (i = 0; i < rq->values->nelts; i++) {
            const char *want = APR_ARRAY_IDX(rq->values, i, const char *);
            for (j = 0; j < held->nelts; j++) {
                if (gk_perm_covers(APR_ARRAY_IDX(held, j, const char *),
                                   want)) {
                    return 1;
                }
            }
        }
        return 0;
    default:
        return claim_matches(r, gk_claim_get(req->v->payload, rq->claim),
                             rq->values);
    }
}

static authz_status check(request_rec *r, const char *line,
                          const void *parsed)
{
    const gk_require_t *rq = parsed;
    const gk_auth_dir_conf_t *conf;
    gk_auth_req_t *req;

    if (!r->user) {
        conf = ap_get_module_config(r->per_dir_config, &gk_auth_module);
        if (gk_auth_conf_allow_preflight(conf) && gk_auth_is_preflight(r)) {
            gk_auth_note_outcome(r, GK_REASON_PREFLIGHT);
            gk_auth_audit(r, "preflight-pass", GK_REASON_PREFLIGHT,
                          "requirement", line);
            return AUTHZ_GRANTED;
        }
        return AUTHZ_DENIED_NO_USER;
    }
    if (!(req = gk_auth_req_find(r))) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, GKLOGNO(10030)
                      "Require %s: user %s was not authenticated by a "
                      "bearer token", line, r->user);
        return AUTHZ_DENIED;
    }
    if (granted(r, req, rq)) {
        gk_auth_note_outcome(r, GK_REASON_OK);
        return AUTHZ_GRANTED;
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, GKLOGNO(10031)
                  "user %s denied: %s", r->user, rq->detail);
    gk_auth_audit(r, "access-forbidden", GK_REASON_INSUFFICIENT_SCOPE,
                  "requirement", rq->detail);
    conf = ap_get_module_config(r->per_dir_config, &gk_auth_module);
    gk_auth_deny_scope(r, gk_auth_conf_terse(conf) ? terse_detail
                                                   : rq->detail);
    return AUTHZ_DENIED;
}

static const authz_provider role_provider = {check, parse_role};
static const authz_provider permission_provider = {check, parse_permission};
static const authz_provider claim_provider = {check, parse_claim};

void gk_auth_register_providers(apr_pool_t *p)
{
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "gk-role",
                              AUTHZ_PROVIDER_VERSION, &role_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "gk-permission",
                              AUTHZ_PROVIDER_VERSION, &permission_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "gk-claim",
                              AUTHZ_PROVIDER_VERSION, &claim_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
}
