/*
 * mod_gk_auth: what backends see of an authenticated request: r->user,
 * the GK_* environment and the GKAuthClaimHeader request headers; and the
 * roles and permissions that Require lines test.
 */
#include <stdlib.h>
#include <string.h>

#include "apr_strings.h"

#include "gk_auth_private.h"
#include "gk_text.h"
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
    const char *roles_env, *perms_env, *claims_env;
} identity_memo_t;

/*
 * Keep the entries of list from index `from` on that may be exported: a
 * role or a permission is visible ASCII (gk_text.h), a permission also has
 * the syntax GKAuthRolePermissions demands. An entry that breaks the rule
 * is neither granted nor exported; the log says which claim held it, not
 * its bytes.
 */
static void keep_valid(request_rec *r, apr_array_header_t *list, int from,
                       const char *claim, int perms)
{
    int i, n = from;

    for (i = from; i < list->nelts; i++) {
        const char *v = APR_ARRAY_IDX(list, i, const char *);
        if (perms ? !gk_perm_check(r->pool, v, 1) : gk_text_is_atom(v)) {
            APR_ARRAY_IDX(list, n++, const char *) = v;
        }
    }
    if (n < list->nelts) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, GKLOGNO(10021)
                      "claim %s: %d of its %s ignored: a %s may hold only "
                      "visible ASCII characters%s", claim, list->nelts - n,
                      perms ? "permissions" : "roles",
                      perms ? "permission" : "role",
                      perms ? " in non-empty ':'-separated segments" : "");
    }
    list->nelts = n;
}

static void derive_now(request_rec *r, gk_auth_req_t *req)
{
    const apr_array_header_t *rp = req->conf->role_perms;
    const gk_claim_path_t *rc = gk_auth_conf_roles_claim(req->conf);
    const gk_claim_path_t *pc = gk_auth_conf_perms_claim(req->conf);
    apr_pool_t *p = req->pool;  /* the owner's: r may be a subrequest */
    apr_array_header_t *roles, *perms;
    int i, j, n;

    roles = apr_array_make(p, 4, sizeof(const char *));
    gk_claim_strings(p, gk_claim_get(req->v->payload, rc), roles);
    keep_valid(r, roles, 0, rc->name, 0);
    /* the permissions claim, RFC 9068 "scope", and the roles' grants */
    perms = apr_array_make(p, 8, sizeof(const char *));
    gk_claim_strings(p, gk_claim_get(req->v->payload, pc), perms);
    keep_valid(r, perms, 0, pc->name, 1);
    n = perms->nelts;
    gk_claim_strings(p, json_object_get(req->v->payload, "scope"), perms);
    keep_valid(r, perms, n, "scope", 1);
    for (i = 0; rp && i < rp->nelts; i++) {
        const gk_role_perms_t *e = &APR_ARRAY_IDX(rp, i, gk_role_perms_t);
        if (!gk_strlist_has(roles, e->role)) {
            continue;
        }
        for (j = 0; j < e->perms->nelts; j++) {
            const char *g = APR_ARRAY_IDX(e->perms, j, const char *);
            if (!gk_strlist_has(perms, g)) {
                APR_ARRAY_PUSH(perms, const char *) = g;
            }
        }
    }
    req->roles = roles;
    req->perms = perms;
    req->roles_env = gk_strlist_join(p, roles, " ");
    req->perms_env = gk_strlist_join(p, perms, " ");
    req->claims_env = gk_text_json_line(p, req->v->payload_text,
                                        req->v->payload_len,
                                        req->v->payload);
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
    identity_memo_t *m = req->v->memo[GK_AUTH_MEMO_IDENTITY];
    apr_size_t size, re, pe, ce;
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
        req->claims_env = m->claims_env;
        return;
    }
    derive_now(r, req);
    if (m) {
        return; /* another scope's memo is there: keep it */
    }
    re = strlen(req->roles_env) + 1;
    pe = strlen(req->perms_env) + 1;
    ce = req->claims_env == req->v->payload_text ? 0
         : req->claims_env ? strlen(req->claims_env) + 1
                           : 0;
    size = APR_ALIGN_DEFAULT(sizeof(*m)) + list_size(req->roles)
           + list_size(req->perms) + re + pe + ce + 2 * sizeof(char *);
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
    m->claims_env = req->claims_env; /* the record's text, or NULL */
    if (ce) {
        memcpy(at + re + pe, req->claims_env, ce);
        m->claims_env = at + re + pe;
    }
    gk_verified_memo_set(req->v, GK_AUTH_MEMO_IDENTITY, m, free);
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
    s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
    out = s ? apr_pstrdup(p, s) : NULL;
    free(s);
    return out;
}

/*
 * A claim as it may leave the gateway (a header, another module): NULL
 * when absent, or when it is not a name by gk_text.h's rule, which the log
 * says without the value's bytes.
 */
static const char *claim_out(request_rec *r, const gk_auth_req_t *req,
                             const gk_claim_path_t *path, const char *header)
{
    const char *val = gk_auth_claim_string(
        r->pool, gk_claim_get(req->v->payload, path));

    if (val && !gk_text_is_name(val, strlen(val))) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, GKLOGNO(10020)
                      "claim %s holds a control character or is not UTF-8: "
                      "%s%s%s", path->name, header ? "header " : "",
                      header ? header : "not given to another module",
                      header ? " not set" : "");
        return NULL;
    }
    return val;
}

const char *gk_auth_claim(request_rec *r, const char *name)
{
    gk_auth_req_t *req = gk_auth_req_find(r);

    if (!req) {
        return NULL;
    }
    return claim_out(r, req, gk_claim_path_make(r->pool, name), NULL);
}

/* Every request: remove client-sent copies of the headers this module
 * sets for backends, in every spelling a backend may fold into the same
 * name, so a backend can trust them whether or not the request was
 * authenticated and whether or not the claim is present. */
int gk_auth_header_parser(request_rec *r)
{
    const gk_auth_dir_conf_t *conf =
        ap_get_module_config(r->per_dir_config, &gk_auth_module);

    gk_ap_scrub_headers(r, conf->claim_header_names, NULL);
    return DECLINED;
}

/* The value of a GKAuthClaimHeader header, or NULL for none. */
static const char *claim_header_value(request_rec *r, const gk_auth_req_t *req,
                                      const gk_claim_header_t *h)
{
    switch (h->kind) {
    case GK_CH_USER:
        return req->user;
    case GK_CH_ROLES: /* none: no header, as for an absent claim */
        return *req->roles_env ? req->roles_env : NULL;
    case GK_CH_PERMISSIONS:
        return *req->perms_env ? req->perms_env : NULL;
    default:
        return claim_out(r, req, h->claim, h->header);
    }
}

static void set_claim_headers(request_rec *r, const gk_auth_req_t *req)
{
    const gk_auth_dir_conf_t *conf =
        ap_get_module_config(r->per_dir_config, &gk_auth_module);
    const apr_array_header_t *ch = conf->claim_headers;
    int i;

    for (i = 0; ch && i < ch->nelts; i++) {
        const gk_claim_header_t *h = &APR_ARRAY_IDX(ch, i, gk_claim_header_t);
        const char *val = claim_header_value(r, req, h);

        if (val) {
            apr_table_setn(r->headers_in, h->header, val);
        }
    }
}

int gk_auth_fixups(request_rec *r)
{
    gk_auth_req_t *req;

    /* a gk-* line may have denied, yet the request was granted
     * (RequireAny) */
    gk_auth_forget_denial(r);
    if (!(req = gk_auth_req_find(r))) {
        return DECLINED;
    }
    apr_table_setn(r->subprocess_env, GK_AUTH_ENV_USER, req->user);
    derive(r, req);
    apr_table_setn(r->subprocess_env, GK_AUTH_ENV_ROLES, req->roles_env);
    apr_table_setn(r->subprocess_env, GK_AUTH_ENV_PERMISSIONS,
                   req->perms_env);
    if (req->claims_env) {
        apr_table_setn(r->subprocess_env, GK_AUTH_ENV_CLAIMS,
                       req->claims_env);
    }
    set_claim_headers(r, req);
    return DECLINED;
}
