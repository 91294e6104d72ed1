/*
 * mod_gk_auth: what backends see of an authenticated request: r->user,
 * the GK_* environment and the GKAuthClaimHeader request headers; and the
 * roles and permissions that Require lines test.
 */
#include <stdlib.h>
#include <string.h>

#include "apr_strings.h"

#include "gk_auth_private.h"
#include "mod_gk_auth.h"

/*
 * Roles and permissions of the token, with the GK_ROLES/GK_PERMISSIONS
 * strings. They depend on the token and on three settings of the scope;
 * the first request that derives them keeps them with the verified token
 * (a memo), so that repeated tokens skip the work.
 */
typedef struct {
    const void *roles_claim, *perms_claim, *role_perms; /* the settings */
    apr_array_header_t roles, perms;    /* read-only views */
    const char *roles_env, *perms_env;
} identity_memo_t;

static void derive_now(request_rec *r, gk_auth_req_t *req)
{
    const apr_array_header_t *rp = req->conf->role_perms;
    apr_array_header_t *roles, *perms;
    int i, j;

    roles = apr_array_make(r->pool, 4, sizeof(const char *));
    gk_claim_strings(r->pool,
                     gk_claim_get(req->v->payload,
                                  gk_auth_conf_roles_claim(req->conf)),
                     roles);
    /* the permissions claim, RFC 9068 "scope", and the roles' grants */
    perms = apr_array_make(r->pool, 8, sizeof(const char *));
    gk_claim_strings(r->pool,
                     gk_claim_get(req->v->payload,
                                  gk_auth_conf_perms_claim(req->conf)),
                     perms);
    gk_claim_strings(r->pool, json_object_get(req->v->payload, "scope"),
                     perms);
    for (i = 0; rp && i < rp->nelts; i++) {
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
    req->roles = roles;
    req->perms = perms;
    req->roles_env = gk_strlist_join(r->pool, roles, " ");
    req->perms_env = gk_strlist_join(r->pool, perms, " ");
}

/* Copy a list into packed storage at *at; returns a read-only view. */
static void pack_list(apr_array_header_t *view, const apr_array_header_t *src,
                      char **at)
{
    const char **elts = (const char **)*at;
    char *s = *at + sizeof(char *) * (apr_size_t)src->nelts;
    int i;

    for (i = 0; i < src->nelts; i++) {
        const char *v = APR_ARRAY_IDX(src, i, const char *);
        apr_size_t n = strlen(v) + 1;
        memcpy(s, v, n);
        elts[i] = s;
        s += n;
    }
    memset(view, 0, sizeof(*view));
    view->elt_size = sizeof(char *);
    view->nelts = view->nalloc = src->nelts;
    view->elts = (char *)elts;
    *at = s;
}

static apr_size_t list_size(const apr_array_header_t *l)
{
    apr_size_t n = sizeof(char *) * (apr_size_t)l->nelts;
    int i;

    for (i = 0; i < l->nelts; i++) {
        n += strlen(APR_ARRAY_IDX(l, i, const char *)) + 1;
    }
    return n;
}

static void derive(request_rec *r, gk_auth_req_t *req)
{
    const void *rc = gk_auth_conf_roles_claim(req->conf);
    const void *pc = gk_auth_conf_perms_claim(req->conf);
    const void *rp = req->conf->role_perms;
    identity_memo_t *m = req->v->memo;
    apr_size_t size, re, pe;
    char *at;

    if (req->roles) {
        return;
    }
    if (req->conf->role_perms_merged || !req->v->token) {
        /* a role map merged for this request has no lasting identity, and
         * a token the cache did not store dies with the request */
        derive_now(r, req);
        return;
    }
    if (m && m->roles_claim == rc && m->perms_claim == pc
        && m->role_perms == rp) {
        req->roles = &m->roles;
        req->perms = &m->perms;
        req->roles_env = m->roles_env;
        req->perms_env = m->perms_env;
        return;
    }
    derive_now(r, req);
    if (m) {
        return; /* another scope's memo is there: keep it */
    }
    re = strlen(req->roles_env) + 1;
    pe = strlen(req->perms_env) + 1;
    size = APR_ALIGN_DEFAULT(sizeof(*m)) + list_size(req->roles)
           + list_size(req->perms) + re + pe + 2 * sizeof(char *);
    if (!(m = malloc(size))) {
        return;
    }
    m->roles_claim = rc;
    m->perms_claim = pc;
    m->role_perms = rp;
    at = (char *)m + APR_ALIGN_DEFAULT(sizeof(*m));
    pack_list(&m->roles, req->roles, &at);
    at = (char *)APR_ALIGN_DEFAULT((apr_uintptr_t)at);
    pack_list(&m->perms, req->perms, &at);
    memcpy(at, req->roles_env, re);
    m->roles_env = at;
    memcpy(at + re, req->perms_env, pe);
    m->perms_env = at + re;
    gk_verified_memo_set(req->v, m, free);
}

const apr_array_header_t *gk_auth_roles(request_rec *r, gk_auth_req_t *req)
{
    derive(r, req);
    return req->roles;
}

const apr_array_header_t *gk_auth_perms(request_rec *r, gk_auth_req_t *req)
{
    derive(r, req);
    return req->perms;
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
    derive(r, req);
    apr_table_setn(r->subprocess_env, GK_AUTH_ENV_ROLES, req->roles_env);
    apr_table_setn(r->subprocess_env, GK_AUTH_ENV_PERMISSIONS,
                   req->perms_env);
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
