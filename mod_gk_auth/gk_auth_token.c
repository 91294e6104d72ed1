/*
 * The token endpoint: SetHandler gk-token (RFC 6749 §4.3, the resource
 * owner password credentials grant, for first-party clients only: RFC
 * 9700 says never with third-party clients).
 *
 * A POST with an application/x-www-form-urlencoded body (the media type
 * checked exactly, the body bounded by GKTokenMaxBody before it is
 * parsed, common/gk_form.c) carrying username and password is checked
 * through httpd's authn providers (GKTokenAuthProvider, with
 * mod_auth_basic's semantics), and answered with a JWT signed by the
 * scope's first GKTokenKey that is not publish-only (common/gk_sign.c):
 * sub, the user's roles (GKTokenRolesFile, in AuthGroupFile format) and
 * the permissions GKAuthRolePermissions grants them, or a down-scoped
 * scope; iat, nbf, exp, iss, aud, jti; typ at+jwt.
 *
 * An unknown user and a wrong password get the same answer, byte for
 * byte, after the same work: when no provider knows the user, the
 * password is checked against a dummy bcrypt hash of the same cost. The
 * answers are RFC 6749 §5.1 and §5.2 JSON, with no per-request value.
 * Passwords are never logged.
 */
#include "apr_file_info.h"
#include "apr_md5.h"
#include "apr_strings.h"
#include "apr_thread_rwlock.h"
#include "http_protocol.h"
#include "ap_provider.h"
#include "mod_auth.h"

#include "gk_auth_private.h"
#include "gk_claims.h"
#include "gk_file.h"
#include "gk_form.h"
#include "gk_rand.h"
#include "gk_sign.h"
#include "gk_text.h"

/* ---- the roles file ------------------------------------------------------ */

struct gk_auth_roles_t {
    const char *path;
    const char *where;
    apr_thread_rwlock_t *lock;      /* guards map and pool */
    apr_pool_t *pool;               /* the map's */
    apr_hash_t *map;                /* user -> apr_array_header_t of roles */
    apr_time_t mtime;
    volatile apr_uint32_t checked;      /* second of the last stat */
};

/* Parse an AuthGroupFile: "role: user user..." lines, '#' comments. */
static const char *parse_roles(apr_pool_t *p, const char *text,
                               apr_hash_t **out)
{
    apr_hash_t *map = apr_hash_make(p);
    char *copy = apr_pstrdup(p, text), *line, *last;
    int n = 0;

    for (line = apr_strtok(copy, "\n", &last); line;
         line = apr_strtok(NULL, "\n", &last)) {
        char *colon, *user, *ulast, *role;
        n++;
        while (*line == ' ' || *line == '\t') {
            line++;
        }
        if (!*line || *line == '#' || *line == '\r') {
            continue;
        }
        if (!(colon = strchr(line, ':'))) {
            return apr_psprintf(p, "line %d: not ROLE: USER...", n);
        }
        *colon = '\0';
        role = apr_pstrdup(p, line);
        apr_collapse_spaces(role, role);
        if (!gk_text_is_atom(role)) {
            return apr_psprintf(p, "line %d: '%s' is not a role name "
                                "(visible ASCII)", n, role);
        }
        for (user = apr_strtok(colon + 1, " \t\r", &ulast); user;
             user = apr_strtok(NULL, " \t\r", &ulast)) {
            apr_array_header_t *roles = apr_hash_get(map, user,
                                                     APR_HASH_KEY_STRING);
            if (!roles) {
                roles = apr_array_make(p, 2, sizeof(const char *));
                apr_hash_set(map, user, APR_HASH_KEY_STRING, roles);
            }
            APR_ARRAY_PUSH(roles, const char *) = role;
        }
    }
    *out = map;
    return NULL;
}

/* Read and parse path into a new pool (a child of parent). */
static const char *load_roles(apr_pool_t *parent, const char *path,
                              apr_pool_t **pool, apr_hash_t **map,
                              apr_time_t *mtime)
{
    apr_finfo_t fi;
    const char *e;
    char *text;
    apr_size_t len;

    apr_pool_create(pool, parent);
    if (apr_stat(&fi, path, APR_FINFO_MTIME, *pool) != APR_SUCCESS
        || (e = gk_file_read(*pool, path, &text, &len)) != NULL) {
        const char *err = apr_psprintf(parent, "cannot read %s", path);
        apr_pool_destroy(*pool);
        return err;
    }
    if ((e = parse_roles(*pool, text, map))) {
        e = apr_psprintf(parent, "%s: %s", path, e);
        apr_pool_destroy(*pool);
        return e;
    }
    *mtime = fi.mtime;
    return NULL;
}

const char *gk_auth_set_roles_file(cmd_parms *cmd, void *dc, const char *arg)
{
    gk_auth_dir_conf_t *c = dc;
    gk_auth_roles_t *rf = apr_pcalloc(cmd->pool, sizeof(*rf));
    const char *e;

    rf->path = ap_server_root_relative(cmd->pool, arg);
    if (!rf->path) {
        return gk_ap_cmd_error(cmd, "'%s' is not a valid path", arg);
    }
    rf->where = gk_ap_where(cmd);
    if ((e = load_roles(cmd->pool, rf->path, &rf->pool, &rf->map,
                        &rf->mtime))) {
        return gk_ap_cmd_error(cmd, "%s", e);
    }
    if (apr_thread_rwlock_create(&rf->lock, cmd->pool) != APR_SUCCESS) {
        return gk_ap_cmd_error(cmd, "cannot make a lock");
    }
    c->roles_file = rf;
    return NULL;
}

/* Re-read the file when it changed (a stat at most once a second per
 * process; a file that became unreadable or wrong keeps the old roles). */
static void roles_refresh(request_rec *r, gk_auth_roles_t *rf)
{
    apr_finfo_t fi;
    apr_pool_t *pool, *old;
    apr_hash_t *map;
    apr_time_t mtime;
    const char *e;

    if (!gk_ap_once_per(&rf->checked, 1)) {
        return;
    }
    if (apr_stat(&fi, rf->path, APR_FINFO_MTIME, r->pool) != APR_SUCCESS
        || fi.mtime == rf->mtime) {
        return;
    }
    if ((e = load_roles(r->server->process->pool, rf->path, &pool, &map,
                        &mtime))) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, GKLOGNO(10050)
                      "GKTokenRolesFile (%s): %s: the roles read before "
                      "stay", rf->where, e);
        return;
    }
    apr_thread_rwlock_wrlock(rf->lock);
    old = rf->pool;
    rf->pool = pool;
    rf->map = map;
    rf->mtime = mtime;
    apr_thread_rwlock_unlock(rf->lock);
    /* the first map lives in the configuration's pool; later ones in
     * their own, freed here */
    if (old && apr_pool_parent_get(old) == r->server->process->pool) {
        apr_pool_destroy(old);
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, GKLOGNO(10051)
                  "GKTokenRolesFile %s re-read", rf->path);
}

/* The user's roles (in r->pool), an empty list when none. */
static apr_array_header_t *user_roles(request_rec *r, gk_auth_roles_t *rf,
                                      const char *user)
{
    apr_array_header_t *out = apr_array_make(r->pool, 4,
                                             sizeof(const char *));
    const apr_array_header_t *roles;
    int i;

    if (!rf) {
        return out;
    }
    roles_refresh(r, rf);
    apr_thread_rwlock_rdlock(rf->lock);
    roles = apr_hash_get(rf->map, user, APR_HASH_KEY_STRING);
    for (i = 0; roles && i < roles->nelts; i++) {
        APR_ARRAY_PUSH(out, const char *) =
            apr_pstrdup(r->pool, APR_ARRAY_IDX(roles, i, const char *));
    }
    apr_thread_rwlock_unlock(rf->lock);
    return out;
}

/* ---- answers --------------------------------------------------------------- */

void gk_auth_no_store(request_rec *r)
{
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "Pragma", "no-cache");
}

static int send_json(request_rec *r, int status, const char *body)
{
    r->status = status;
    gk_auth_no_store(r);
    ap_set_content_type(r, "application/json");
    ap_set_content_length(r, (apr_off_t)strlen(body));
    if (!r->header_only) {
        ap_rwrite(body, (int)strlen(body), r);
    }
    return OK;
}

/* An RFC 6749 §5.2 error: the same bytes for the same error, always. */
static int oauth_error(request_rec *r, int status, const char *error,
                       const char *description)
{
    return send_json(r, status,
                     apr_psprintf(r->pool,
                                  "{\"error\":\"%s\",\"error_description\":"
                                  "\"%s\"}", error, description));
}

/* ---- the request -------------------------------------------------------- */

/* Read the body, at most max bytes: NULL and *len, or a status. */
static int read_body(request_rec *r, apr_size_t max, char **body,
                     apr_size_t *len)
{
    char *buf;
    apr_size_t got = 0;
    long n;
    int rc;

    if ((rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK)) != OK) {
        return rc;
    }
    buf = apr_palloc(r->pool, max + 1);
    if (ap_should_client_block(r)) {
        while ((n = ap_get_client_block(r, buf + got, max + 1 - got)) > 0) {
            got += (apr_size_t)n;
            if (got > max) {
                return HTTP_REQUEST_ENTITY_TOO_LARGE;
            }
        }
        if (n < 0) {
            return HTTP_BAD_REQUEST;
        }
    }
    buf[got] = '\0';
    *body = buf;
    *len = got;
    return OK;
}

int gk_auth_oauth_error(request_rec *r, int status, const char *error,
                        const char *description)
{
    return oauth_error(r, status, error, description);
}

int gk_auth_read_form(request_rec *r, const gk_auth_dir_conf_t *c,
                      const char *post_only, apr_table_t **form)
{
    const char *dup = NULL;
    apr_size_t len;
    char *body;
    int rc;

    *form = NULL;
    if (r->method_number != M_POST) {
        ap_allow_methods(r, REPLACE_ALLOW, "POST", NULL);
        apr_table_setn(r->headers_out, "Allow", "POST");
        return oauth_error(r, HTTP_METHOD_NOT_ALLOWED, "invalid_request",
                           post_only);
    }
    if (!gk_form_media_type_ok(apr_table_get(r->headers_in,
                                             "Content-Type"))) {
        return oauth_error(r, HTTP_BAD_REQUEST, "invalid_request",
                           "the body must be "
                           "application/x-www-form-urlencoded");
    }
    rc = read_body(r, (apr_size_t)gk_auth_conf_token_max_body(c), &body,
                   &len);
    if (rc == HTTP_REQUEST_ENTITY_TOO_LARGE) {
        return oauth_error(r, rc, "invalid_request",
                           "the request body is too large");
    }
    if (rc != OK) {
        return oauth_error(r, HTTP_BAD_REQUEST, "invalid_request",
                           "the request body could not be read");
    }
    if (gk_form_parse(r->pool, body, len, 16, form, &dup)) {
        *form = NULL;
        return oauth_error(r, HTTP_BAD_REQUEST, "invalid_request",
                           dup ? "a parameter is repeated"
                               : "the body is not a valid form");
    }
    return OK;
}

/* Check the password with the scope's providers, as mod_auth_basic does:
 * AUTH_USER_NOT_FOUND moves on to the next. */
static authn_status check_password(request_rec *r,
                                   const gk_auth_dir_conf_t *c,
                                   const char *user, const char *password)
{
    const apr_array_header_t *names = gk_auth_conf_token_providers(c);
    authn_status st = AUTH_USER_NOT_FOUND;
    /* a name that could never be a user (controls, invalid UTF-8) asks
     * no provider, but costs the same work */
    int i = gk_text_is_name(user, strlen(user)) ? 0 : names->nelts;

    for (; i < names->nelts && st == AUTH_USER_NOT_FOUND; i++) {
        const char *name = APR_ARRAY_IDX(names, i, const char *);
        const authn_provider *prov = ap_lookup_provider(
            AUTHN_PROVIDER_GROUP, name, AUTHN_PROVIDER_VERSION);
        if (!prov || !prov->check_password) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, GKLOGNO(10052)
                          "GKTokenAuthProvider %s is gone", name);
            return AUTH_GENERAL_ERROR;
        }
        apr_table_setn(r->notes, AUTHN_PROVIDER_NAME_NOTE, name);
        st = prov->check_password(r, user, password);
        apr_table_unset(r->notes, AUTHN_PROVIDER_NAME_NOTE);
    }
    if (st == AUTH_USER_NOT_FOUND) {
        /* the work of a real check, so that timing tells nothing */
        (void)apr_password_validate(password, gk_auth_conf_dummy_hash(c));
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, GKLOGNO(10053)
                      "gk-token: no provider knows the user: dummy bcrypt "
                      "verification");
    }
    return st;
}

/* The permissions GKAuthRolePermissions grants to roles, each once. */
static apr_array_header_t *permissions_of(request_rec *r,
                                          const gk_auth_dir_conf_t *c,
                                          const apr_array_header_t *roles)
{
    apr_array_header_t *out = apr_array_make(r->pool, 8,
                                             sizeof(const char *));
    int i, j, k, l;

    for (i = 0; c->role_perms && i < c->role_perms->nelts; i++) {
        const gk_role_perms_t *rp = &APR_ARRAY_IDX(c->role_perms, i,
                                                   gk_role_perms_t);
        for (j = 0; j < roles->nelts; j++) {
            if (strcmp(rp->role, APR_ARRAY_IDX(roles, j, const char *))) {
                continue;
            }
            for (k = 0; k < rp->perms->nelts; k++) {
                const char *perm = APR_ARRAY_IDX(rp->perms, k, const char *);
                int dup = 0;
                for (l = 0; l < out->nelts && !dup; l++) {
                    dup = !strcmp(APR_ARRAY_IDX(out, l, const char *), perm);
                }
                if (!dup) {
                    APR_ARRAY_PUSH(out, const char *) = perm;
                }
            }
        }
    }
    return out;
}

/* The part of the requested scope the user's permissions cover, space-
 * separated, each once; NULL when none. Roles are not scope values: the
 * verifier reads scope values as permissions, so a role named like a
 * permission would grant it. */
static const char *granted_scope(request_rec *r, const char *requested,
                                 const apr_array_header_t *perms)
{
    char *copy = apr_pstrdup(r->pool, requested), *tok, *last;
    const char *out = NULL;

    for (tok = apr_strtok(copy, " ", &last); tok;
         tok = apr_strtok(NULL, " ", &last)) {
        int held = 0, i;
        for (i = 0; i < perms->nelts && !held; i++) {
            /* a held "reports:*" covers a requested "reports:read" */
            held = gk_perm_covers(APR_ARRAY_IDX(perms, i, const char *),
                                  tok);
        }
        if (held && !(out && ap_find_token(r->pool, out, tok))) {
            out = out ? apr_pstrcat(r->pool, out, " ", tok, NULL) : tok;
        }
    }
    return out;
}

static const gk_sign_key_t *signing_key(const gk_auth_dir_conf_t *c)
{
    int i;

    for (i = 0; c->token_keys && i < c->token_keys->nelts; i++) {
        const gk_auth_token_key_t *tk =
            APR_ARRAY_IDX(c->token_keys, i, const gk_auth_token_key_t *);
        if (!tk->key->publish_only) {
            return tk->key;
        }
    }
    return NULL;
}

/* The single claim name of a claim path, NULL for a dotted path. */
static const char *flat_claim(const gk_claim_path_t *path)
{
    return path && path->nsegs == 1 ? path->name : NULL;
}

/* The RFC 6749 §5.1 answer (JSON escaping by jansson: a role name may
 * hold any visible character), in r->pool; NULL when out of memory. */
static const char *token_answer(request_rec *r, const char *token,
                                int lifetime, const char *scope)
{
    json_t *o = json_object();
    const char *out = NULL;
    char *text;

    if (o && !json_object_set_new(o, "access_token", json_string(token))
        && !json_object_set_new(o, "token_type", json_string("Bearer"))
        && !json_object_set_new(o, "expires_in", json_integer(lifetime))
        && (!scope
            || !json_object_set_new(o, "scope", json_string(scope)))
        && (text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER))) {
        out = apr_pstrdup(r->pool, text);
        free(text);
    }
    json_decref(o);
    return out;
}

int gk_auth_token_handler(request_rec *r)
{
    const gk_auth_dir_conf_t *c;
    const gk_sign_key_t *key;
    apr_table_t *form;
    const char *user, *password, *grant, *scope, *e, *json;
    const char *token, *granted = NULL, *answer;
    apr_array_header_t *roles, *perms;
    gk_sign_claims_t cl;
    apr_size_t len;
    apr_int64_t now;
    int rc, lifetime, max_lifetime;

    if (!r->handler || strcmp(r->handler, GK_AUTH_TOKEN_HANDLER)) {
        return DECLINED;
    }
    c = ap_get_module_config(r->per_dir_config, &gk_auth_module);
    rc = gk_auth_read_form(r, c, "the token endpoint takes POST", &form);
    if (!form) {
        return rc;
    }
    grant = gk_form_get(form, "grant_type");
    if (grant && strcmp(grant, "password")) {
        return oauth_error(r, HTTP_BAD_REQUEST, "unsupported_grant_type",
                           "only the password grant is supported");
    }
    user = gk_form_get(form, "username");
    password = gk_form_get(form, "password");
    scope = gk_form_get(form, "scope");
    if (!user || !*user || !password) {
        return oauth_error(r, HTTP_BAD_REQUEST, "invalid_request",
                           "username and password are required");
    }
    if (!(key = signing_key(c))) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, GKLOGNO(10054)
                      "gk-token: no GKTokenKey that signs in this scope");
        return oauth_error(r, HTTP_INTERNAL_SERVER_ERROR, "server_error",
                           "the token endpoint is not configured");
    }
    switch (check_password(r, c, user, password)) {
    case AUTH_GRANTED:
        break;
    case AUTH_GENERAL_ERROR:
        return oauth_error(r, HTTP_INTERNAL_SERVER_ERROR, "server_error",
                           "the credentials could not be checked");
    default:
        gk_auth_audit(r, "login-refused", GK_REASON_LOGIN_FAILED, "user",
                      gk_text_is_name(user, strlen(user)) ? user : NULL);
        return oauth_error(r, HTTP_BAD_REQUEST, "invalid_grant",
                           "the user name or password is wrong");
    }
    roles = user_roles(r, c->roles_file, user);
    perms = permissions_of(r, c, roles);
    memset(&cl, 0, sizeof(cl));
    if (scope) {
        if (!(granted = granted_scope(r, scope, perms))) {
            gk_auth_audit(r, "token-refused-scope",
                          GK_REASON_INSUFFICIENT_SCOPE, "user", user);
            return oauth_error(r, HTTP_BAD_REQUEST, "invalid_scope",
                               "none of the requested scope is held");
        }
        cl.scope = granted;
    }
    else {
        cl.roles_claim = flat_claim(gk_auth_conf_roles_claim(c));
        cl.permissions_claim = flat_claim(gk_auth_conf_perms_claim(c));
        if (!cl.roles_claim || !cl.permissions_claim) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, GKLOGNO(10055)
                          "gk-token: GKAuthRolesClaim and "
                          "GKAuthPermissionsClaim must be plain claim "
                          "names (not dotted paths) where tokens are "
                          "issued");
            return oauth_error(r, HTTP_INTERNAL_SERVER_ERROR,
                               "server_error",
                               "the token endpoint is not configured");
        }
        cl.roles = roles;
        cl.permissions = perms;
    }
    now = apr_time_sec(apr_time_now());
    lifetime = gk_auth_conf_token_lifetime(c);
    /* a GKTokenLifetime longer than GKAuthMaxTokenLifetime is refused at
     * startup; the default (15 minutes) is held to it here */
    max_lifetime = gk_auth_conf_max_token_lifetime(
        ap_get_module_config(r->server->module_config, &gk_auth_module));
    if (lifetime > max_lifetime) {
        lifetime = max_lifetime;
    }
    cl.iss = gk_auth_conf_token_issuer(c);
    cl.aud = gk_auth_conf_token_audience(c);
    cl.sub = user;
    cl.iat = cl.nbf = now;
    cl.exp = now + lifetime;
    if ((e = gk_sign_claims(r->pool, &cl, &json, &len))
        || (e = gk_sign_jwt(r->pool, key, json, len, &token))) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, GKLOGNO(10056)
                      "gk-token: the token could not be made: %s", e);
        return oauth_error(r, HTTP_INTERNAL_SERVER_ERROR, "server_error",
                           "the token could not be made");
    }
    if (!(answer = token_answer(r, token, lifetime,
                                granted && strcmp(granted, scope) ? granted
                                                                  : NULL))) {
        return oauth_error(r, HTTP_INTERNAL_SERVER_ERROR, "server_error",
                           "the token could not be made");
    }
    if (gk_auth_conf_token_cookie(c)) {
        apr_table_addn(r->headers_out, "Set-Cookie",
                       apr_psprintf(r->pool, "%s=%s; HttpOnly; Secure; "
                                    "SameSite=Strict; Path=/; Max-Age=%d",
                                    gk_auth_conf_token_cookie(c), token,
                                    lifetime));
    }
    gk_auth_audit(r, "token-issued", GK_REASON_OK, "user", user);
    return send_json(r, HTTP_OK, answer);
}
