/*
 * mod_gk_auth: what backends see of an authenticated request: r->user,
 * the GK_* environment and the GKAuthClaimHeader request headers; and the
 * roles and permissions that Require lines test.
 */
#include <stdlib.h>

#include "apr_strings.h"

#include "gk_auth_private.h"
#include "mod_gk_auth.h"

const apr_array_header_t *gk_auth_roles(request_rec *r, gk_auth_req_t *req)
{
    if (!req->roles) {
        req->roles = apr_array_make(r->pool, 4, sizeof(const char *));
        gk_claim_strings(r->pool,
                         gk_claim_get(req->v->payload,
                                      gk_auth_conf_roles_claim(req->conf)),
                         req->roles);
    }
    return req->roles;
}

/* Permissions: the permissions claim, the RFC 9068 "scope" claim and what
 * GKAuthRolePermissions grants the user's roles, without repeats. */
const apr_array_header_t *gk_auth_perms(request_rec *r, gk_auth_req_t *req)
{
    const apr_array_header_t *roles, *rp = req->conf->role_perms;
    apr_array_header_t *perms;
    int i, j;

    if (req->perms) {
        return req->perms;
    }
    perms = apr_array_make(r->pool, 8, sizeof(const char *));
    gk_claim_strings(r->pool,
                     gk_claim_get(req->v->payload,
                                  gk_auth_conf_perms_claim(req->conf)),
                     perms);
    gk_claim_strings(r->pool, json_object_get(req->v->payload, "scope"),
                     perms);
    if (rp) {
        roles = gk_auth_roles(r, req);
        for (i = 0; i < rp->nelts; i++) {
            const gk_role_perms_t *e = &APR_ARRAY_IDX(rp, i, gk_role_perms_t);
            if (!gk_strlist_has(roles, e->role)) {
                continue;
            }
            for (j = 0; j < e->perms->nelts; j++) {
                const char *p = APR_ARRAY_IDX(e->perms, j, const char *);
                if (!gk_strlist_has(perms, p)) {
                    APR_ARRAY_PUSH(perms, const char *) = p;
                }
            }
        }
    }
    req->perms = perms;
    return perms;
}

/* A claim as one string: strings as they are, other scalars as JSON,
 * arrays of scalars joined with ",", objects as compact JSON. */
const char *gk_auth_claim_string(apr_pool_t *p, json_t *v)
{
    char *s;
    const char *out;

    if (!v || json_is_null(v)) {
        return NULL;
    }
    if (json_is_string(v)) {
        return json_string_value(v);
    }
    if (json_is_array(v)) {
        apr_array_header_t *parts = apr_array_make(p, 4, sizeof(char *));
        json_t *e;
        size_t i;
        json_array_foreach(v, i, e) {
            const char *one = json_is_array(e) ? NULL
                                               : gk_auth_claim_string(p, e);
            if (one) {
                APR_ARRAY_PUSH(parts, const char *) = one;
            }
        }
        return gk_strlist_join(p, parts, ",");
    }
    s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    out = s ? apr_pstrdup(p, s) : NULL;
    free(s);
    return out;
}

const char *gk_auth_claim(request_rec *r, const char *name)
{
    gk_auth_req_t *req = gk_auth_req_find(r);
    gk_claim_path_t *path;

    if (!req) {
        return NULL;
    }
    path = gk_claim_path_make(r->pool, name);
    return gk_auth_claim_string(r->pool, gk_claim_get(req->v->payload, path));
}

static int has_ctl(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 && *s != '\t') {
            return 1;
        }
        if (*s == 0x7f) {
            return 1;
        }
    }
    return 0;
}

/* Every request: remove client-sent copies of the claim headers, so a
 * backend can trust them whether or not the request was authenticated. */
int gk_auth_header_parser(request_rec *r)
{
    const gk_auth_dir_conf_t *conf =
        ap_get_module_config(r->per_dir_config, &gk_auth_module);
    const apr_array_header_t *ch = conf->claim_headers;
    int i;

    for (i = 0; ch && i < ch->nelts; i++) {
        apr_table_unset(r->headers_in,
                        APR_ARRAY_IDX(ch, i, gk_claim_header_t).header);
    }
    return DECLINED;
}

int gk_auth_fixups(request_rec *r)
{
    const gk_auth_dir_conf_t *conf;
    const apr_array_header_t *ch;
    gk_auth_req_t *req = gk_auth_req(r, 0);
    int i;

    if (req && req->insufficient) {
        /* A gk-* line denied, yet the request was granted (RequireAny):
         * no insufficient_scope challenge. */
        apr_table_unset(r->err_headers_out, "WWW-Authenticate");
        req->insufficient = NULL;
        req->problem_status = 0;
    }
    if (!(req = gk_auth_req_find(r))) {
        return DECLINED;
    }
    apr_table_setn(r->subprocess_env, GK_AUTH_ENV_USER, req->user);
    apr_table_setn(r->subprocess_env, GK_AUTH_ENV_ROLES,
                   gk_strlist_join(r->pool, gk_auth_roles(r, req), " "));
    apr_table_setn(r->subprocess_env, GK_AUTH_ENV_PERMISSIONS,
                   gk_strlist_join(r->pool, gk_auth_perms(r, req), " "));
    apr_table_setn(r->subprocess_env, GK_AUTH_ENV_CLAIMS,
                   req->v->payload_text);
    conf = ap_get_module_config(r->per_dir_config, &gk_auth_module);
    ch = conf->claim_headers;
    for (i = 0; ch && i < ch->nelts; i++) {
        const gk_claim_header_t *h = &APR_ARRAY_IDX(ch, i, gk_claim_header_t);
        const char *val = gk_auth_claim_string(
            r->pool, gk_claim_get(req->v->payload, h->claim));
        if (!val) {
            continue;
        }
        if (has_ctl(val)) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, GKLOGNO(10020)
                          "claim %s has control characters: header %s not "
                          "set", h->claim->name, h->header);
            continue;
        }
        apr_table_setn(r->headers_in, h->header, val);
    }
    return DECLINED;
}
