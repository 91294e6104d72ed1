/*
 * mod_gk_auth configuration: per-directory and per-server structures, their
 * merge, and the directive table. Every argument is validated here, when
 * the configuration is read (so `apachectl configtest` sees it too).
 */
#include <stdarg.h>

#include "apr_lib.h"
#include "http_core.h"

#include "gk_auth_private.h"
#include "gk_text.h"

static gk_claim_path_t *default_user_claim;
static gk_claim_path_t *default_roles_claim;
static gk_claim_path_t *default_perms_claim;

void gk_auth_conf_init_defaults(apr_pool_t *p)
{
    default_user_claim = gk_claim_path_make(p, "sub");
    default_roles_claim = gk_claim_path_make(p, "roles");
    default_perms_claim = gk_claim_path_make(p, "permissions");
}

int gk_auth_conf_leeway(const gk_auth_dir_conf_t *c)
{
    return c->leeway == GK_UNSET ? GK_AUTH_DEFAULT_LEEWAY : c->leeway;
}

gk_claim_path_t *gk_auth_conf_user_claim(const gk_auth_dir_conf_t *c)
{
    return c->user_claim ? c->user_claim : default_user_claim;
}

gk_claim_path_t *gk_auth_conf_roles_claim(const gk_auth_dir_conf_t *c)
{
    return c->roles_claim ? c->roles_claim : default_roles_claim;
}

gk_claim_path_t *gk_auth_conf_perms_claim(const gk_auth_dir_conf_t *c)
{
    return c->perms_claim ? c->perms_claim : default_perms_claim;
}

void *gk_auth_create_dir_conf(apr_pool_t *p, char *dir)
{
    gk_auth_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->leeway = GK_UNSET;
    c->require_at_jwt = GK_UNSET;
    c->require_exp = GK_UNSET;
    c->allow_preflight = GK_UNSET;
    c->terse = GK_UNSET;
    return c;
}

#define MERGE_PTR(f) (add->f ? add->f : base->f)
#define MERGE_INT(f) (add->f != GK_UNSET ? add->f : base->f)

/* Lists that add to the parent's; a new array only when both have one. */
static apr_array_header_t *merge_list(apr_pool_t *p, apr_array_header_t *base,
                                      apr_array_header_t *add)
{
    if (!base) {
        return add;
    }
    if (!add) {
        return base;
    }
    return apr_array_append(p, base, add);
}

void *gk_auth_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    const gk_auth_dir_conf_t *base = basev, *add = addv;
    gk_auth_dir_conf_t *c = apr_palloc(p, sizeof(*c));

    c->ring = MERGE_PTR(ring);
    c->leeway = MERGE_INT(leeway);
    c->issuer = MERGE_PTR(issuer);
    c->audiences = MERGE_PTR(audiences);
    c->require_at_jwt = MERGE_INT(require_at_jwt);
    c->require_exp = MERGE_INT(require_exp);
    c->cookie = MERGE_PTR(cookie);
    c->user_claim = MERGE_PTR(user_claim);
    c->roles_claim = MERGE_PTR(roles_claim);
    c->perms_claim = MERGE_PTR(perms_claim);
    c->role_perms = merge_list(p, base->role_perms, add->role_perms);
    c->role_perms_merged = (base->role_perms && add->role_perms)
                           || (add->role_perms ? add->role_perms_merged
                                               : base->role_perms_merged);
    c->claim_headers = merge_list(p, base->claim_headers, add->claim_headers);
    c->allow_preflight = MERGE_INT(allow_preflight);
    c->terse = MERGE_INT(terse);
    return c;
}

void *gk_auth_create_srv_conf(apr_pool_t *p, server_rec *s)
{
    gk_auth_srv_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->cache_size = GK_UNSET;
    c->cache_lifetime = GK_UNSET;
    return c;
}

void *gk_auth_merge_srv_conf(apr_pool_t *p, void *basev, void *addv)
{
    const gk_auth_srv_conf_t *base = basev, *add = addv;
    gk_auth_srv_conf_t *c = apr_palloc(p, sizeof(*c));

    c->cache_size = MERGE_INT(cache_size);
    c->cache_lifetime = MERGE_INT(cache_lifetime);
    return c;
}

/* ---- helpers ------------------------------------------------------------ */

/* A configuration error, prefixed with the directive's name. */
static const char *err(cmd_parms *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static const char *err(cmd_parms *cmd, const char *fmt, ...)
{
    va_list ap;
    const char *msg;

    va_start(ap, fmt);
    msg = apr_pvsprintf(cmd->temp_pool, fmt, ap);
    va_end(ap);
    return apr_pstrcat(cmd->pool, cmd->cmd->name, ": ", msg, NULL);
}

/* A whole number within [min, max]. */
static const char *parse_int(cmd_parms *cmd, const char *arg, int min, int max,
                             int *out)
{
    char *end;
    apr_int64_t v;

    errno = 0;
    v = apr_strtoi64(arg, &end, 10);
    if (!*arg || *end || errno || v < min || v > max) {
        return apr_psprintf(cmd->pool, "%s: '%s' is not a whole number from "
                            "%d to %d", cmd->cmd->name, arg, min, max);
    }
    *out = (int)v;
    return NULL;
}

static int is_token(const char *s)
{
    /* RFC 9110 token characters */
    if (!*s) {
        return 0;
    }
    for (; *s; s++) {
        if (!apr_isalnum(*s) && !strchr("!#$%&'*+-.^_`|~", *s)) {
            return 0;
        }
    }
    return 1;
}

static const char *claim_path(cmd_parms *cmd, const char *arg,
                              gk_claim_path_t **out)
{
    apr_size_t n = strlen(arg);

    if (!n || arg[0] == '.' || arg[n - 1] == '.' || strstr(arg, "..")) {
        return err(cmd, "'%s' is not a claim name or dotted path", arg);
    }
    *out = gk_claim_path_make(cmd->pool, arg);
    return NULL;
}

static gk_keyring_t *scope_ring(cmd_parms *cmd, gk_auth_dir_conf_t *c)
{
    if (!c->ring) {
        c->ring = apr_pcalloc(cmd->pool, sizeof(*c->ring));
        c->ring->keys = apr_array_make(cmd->pool, 2, sizeof(gk_key_t *));
    }
    return c->ring;
}

static const char *parse_alg(cmd_parms *cmd, const char *arg, gk_alg_e *alg)
{
    *alg = gk_alg_from_name(arg, strlen(arg));
    if (*alg == GK_ALG_UNKNOWN) {
        if (!strcasecmp(arg, "none")) {
            return err(cmd, "algorithm '%s' is never accepted", arg);
        }
        return err(cmd, "unknown algorithm '%s' (HS256, HS384, HS512, "
                   "RS256, RS384, RS512, PS256, PS384, PS512, ES256, "
                   "ES384, ES512 or EdDSA)", arg);
    }
    return NULL;
}

/* ---- directive handlers ------------------------------------------------- */

static const char *set_key(cmd_parms *cmd, void *dc, const char *alg_s,
                           const char *source, const char *opt)
{
    gk_auth_dir_conf_t *c = dc;
    const char *kid = NULL, *e;
    gk_alg_e alg;
    gk_key_t *key;

    if ((e = parse_alg(cmd, alg_s, &alg))) {
        return e;
    }
    if (opt) {
        if (strncmp(opt, "kid=", 4) || !opt[4]) {
            return err(cmd, "'%s': the third argument is kid=ID", opt);
        }
        kid = opt + 4;
    }
    if (!strncmp(source, "file:", 5)) {
        const char *path = ap_server_root_relative(cmd->temp_pool, source + 5);
        if (!source[5] || !path) {
            return err(cmd, "'%s' is not a valid path", source);
        }
        source = apr_pstrcat(cmd->temp_pool, "file:", path, NULL);
    }
    else if (strncmp(source, "env:", 4)) {
        const char *path = ap_server_root_relative(cmd->temp_pool, source);
        if (!path) {
            return err(cmd, "'%s' is not a valid path", source);
        }
        source = path;
    }
    if ((e = gk_key_load(cmd->pool, alg, source, kid, &key))) {
        return apr_psprintf(cmd->pool, "%s %s: %s", cmd->cmd->name, alg_s, e);
    }
    APR_ARRAY_PUSH(scope_ring(cmd, c)->keys, gk_key_t *) = key;
    return NULL;
}

static const char *set_keyset(cmd_parms *cmd, void *dc, const char *path,
                              const char *opt)
{
    gk_auth_dir_conf_t *c = dc;
    gk_alg_e alg = GK_ALG_UNKNOWN;
    gk_keyring_t *ring;
    const char *e;

    if (opt) {
        if (strncmp(opt, "alg=", 4)) {
            return err(cmd, "'%s': the second argument is alg=ALG", opt);
        }
        if ((e = parse_alg(cmd, opt + 4, &alg))) {
            return e;
        }
    }
    ring = scope_ring(cmd, c);
    if (ring->jwks) {
        return err(cmd, "%s", "one key set per scope");
    }
    path = ap_server_root_relative(cmd->temp_pool, path);
    if (!path) {
        return err(cmd, "%s", "not a valid path");
    }
    if ((e = gk_jwks_open(cmd->pool, path, alg, &ring->jwks))) {
        return apr_psprintf(cmd->pool, "%s %s: %s", cmd->cmd->name, path, e);
    }
    return NULL;
}

static const char *set_leeway(cmd_parms *cmd, void *dc, const char *arg)
{
    return parse_int(cmd, arg, 0, 86400, &((gk_auth_dir_conf_t *)dc)->leeway);
}

static const char *set_issuer(cmd_parms *cmd, void *dc, const char *arg)
{
    if (!*arg) {
        return err(cmd, "%s", "the issuer cannot be empty");
    }
    ((gk_auth_dir_conf_t *)dc)->issuer = arg;
    return NULL;
}

static const char *add_audience(cmd_parms *cmd, void *dc, const char *arg)
{
    gk_auth_dir_conf_t *c = dc;

    if (!*arg) {
        return err(cmd, "%s", "an audience cannot be empty");
    }
    if (!c->audiences) {
        c->audiences = apr_array_make(cmd->pool, 2, sizeof(const char *));
    }
    APR_ARRAY_PUSH(c->audiences, const char *) = arg;
    return NULL;
}

static const char *set_token_type(cmd_parms *cmd, void *dc, const char *arg)
{
    gk_auth_dir_conf_t *c = dc;

    if (!strcasecmp(arg, "any")) {
        c->require_at_jwt = 0;
    }
    else if (!strcasecmp(arg, "at+jwt")) {
        c->require_at_jwt = 1;
    }
    else {
        return err(cmd, "'%s': use 'any' or 'at+jwt'", arg);
    }
    return NULL;
}

static const char *set_require_exp(cmd_parms *cmd, void *dc, int on)
{
    ((gk_auth_dir_conf_t *)dc)->require_exp = on;
    return NULL;
}

static const char *set_cookie(cmd_parms *cmd, void *dc, const char *arg)
{
    if (!is_token(arg)) {
        return err(cmd, "'%s' is not a valid cookie name", arg);
    }
    ((gk_auth_dir_conf_t *)dc)->cookie = arg;
    return NULL;
}

static const char *set_claim(cmd_parms *cmd, void *dc, const char *arg)
{
    gk_auth_dir_conf_t *c = dc;
    gk_claim_path_t **slot = cmd->info == (void *)1   ? &c->user_claim
                             : cmd->info == (void *)2 ? &c->roles_claim
                                                      : &c->perms_claim;

    return claim_path(cmd, arg, slot);
}

static const char *add_role_perms(cmd_parms *cmd, void *dc, int argc,
                                  char *const argv[])
{
    gk_auth_dir_conf_t *c = dc;
    gk_role_perms_t *rp;
    const char *e;
    int i;

    if (argc < 2) {
        return err(cmd, "%s", "needs a role and at least one permission");
    }
    rp = apr_array_push(c->role_perms ? c->role_perms
                                      : (c->role_perms = apr_array_make(
                                             cmd->pool, 4, sizeof(*rp))));
    if (!gk_text_is_atom(argv[0])) {
        return err(cmd, "role '%s' may hold only visible ASCII characters: "
                   "no white space, control or non-ASCII byte", argv[0]);
    }
    rp->role = argv[0];
    rp->perms = apr_array_make(cmd->pool, argc - 1, sizeof(const char *));
    for (i = 1; i < argc; i++) {
        if ((e = gk_perm_check(cmd->temp_pool, argv[i], 1))) {
            return err(cmd, "%s", e);
        }
        APR_ARRAY_PUSH(rp->perms, const char *) = argv[i];
    }
    return NULL;
}

static const char *add_claim_header(cmd_parms *cmd, void *dc,
                                    const char *claim, const char *header)
{
    static const char *const reserved[] = {
        "Authorization", "Cookie", "Host", "Content-Length",
        "Transfer-Encoding", "Connection", "Upgrade", "TE", "Trailer",
        "Proxy-Authorization", "Expect", NULL
    };
    gk_auth_dir_conf_t *c = dc;
    gk_claim_header_t *ch;
    const char *e;
    int i;

    if (!is_token(header)) {
        return err(cmd, "'%s' is not a valid header name", header);
    }
    for (i = 0; reserved[i]; i++) {
        if (!strcasecmp(header, reserved[i])) {
            return err(cmd, "header '%s' cannot carry a claim", header);
        }
    }
    if (!c->claim_headers) {
        c->claim_headers = apr_array_make(cmd->pool, 2, sizeof(*ch));
    }
    ch = apr_array_push(c->claim_headers);
    ch->header = header;
    if (*claim == '@') {
        /* pseudo-claims: what the module derived, not a claim's value */
        ch->kind = !strcmp(claim, "@user")          ? GK_CH_USER
                   : !strcmp(claim, "@roles")       ? GK_CH_ROLES
                   : !strcmp(claim, "@permissions") ? GK_CH_PERMISSIONS
                                                    : GK_CH_CLAIM;
        if (ch->kind == GK_CH_CLAIM) {
            return err(cmd, "unknown pseudo-claim '%s' (@user, @roles or "
                       "@permissions)", claim);
        }
        return NULL;
    }
    ch->kind = GK_CH_CLAIM;
    if ((e = claim_path(cmd, claim, &ch->claim))) {
        return e;
    }
    return NULL;
}

static const char *set_preflight(cmd_parms *cmd, void *dc, int on)
{
    ((gk_auth_dir_conf_t *)dc)->allow_preflight = on;
    return NULL;
}

static const char *set_error_detail(cmd_parms *cmd, void *dc, const char *arg)
{
    gk_auth_dir_conf_t *c = dc;

    if (!strcasecmp(arg, "full")) {
        c->terse = 0;
    }
    else if (!strcasecmp(arg, "terse")) {
        c->terse = 1;
    }
    else {
        return err(cmd, "'%s': use 'full' or 'terse'", arg);
    }
    return NULL;
}

static const char *set_cache(cmd_parms *cmd, void *dc, const char *arg)
{
    gk_auth_srv_conf_t *c =
        ap_get_module_config(cmd->server->module_config, &gk_auth_module);
    const char *e = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    if (e) {
        return e;
    }
    if (cmd->info) {
        return parse_int(cmd, arg, 1, 86400, &c->cache_lifetime);
    }
    return parse_int(cmd, arg, 0, 1 << 20, &c->cache_size);
}

/* Key material and token policy belong to the administrator: server config,
 * virtual host and directory sections, never .htaccess. */
#define ADMIN (RSRC_CONF | ACCESS_CONF)

const command_rec gk_auth_cmds[] = {
    AP_INIT_TAKE23("GKAuthKey", set_key, NULL, ADMIN,
                   "A key that verifies tokens of one algorithm"),
    AP_INIT_TAKE12("GKAuthKeySet", set_keyset, NULL, ADMIN,
                   "A JWKS file of verification keys, re-read when it "
                   "changes"),
    AP_INIT_TAKE1("GKAuthLeeway", set_leeway, NULL, ADMIN,
                  "Clock skew allowed for exp, nbf and iat, in seconds"),
    AP_INIT_TAKE1("GKAuthIssuer", set_issuer, NULL, ADMIN,
                  "The issuer (iss) tokens must name exactly"),
    AP_INIT_ITERATE("GKAuthAudience", add_audience, NULL, ADMIN,
                    "Audiences (aud) of which tokens must name one"),
    AP_INIT_TAKE1("GKAuthTokenType", set_token_type, NULL, ADMIN,
                  "Which token types (typ) are accepted: any or at+jwt"),
    AP_INIT_FLAG("GKAuthRequireExp", set_require_exp, NULL, ADMIN,
                 "Whether tokens must carry an expiry (exp)"),
    AP_INIT_TAKE1("GKAuthTokenCookie", set_cookie, NULL, ADMIN,
                  "A cookie that may carry the token instead of the "
                  "Authorization header"),
    AP_INIT_TAKE1("GKAuthUserClaim", set_claim, (void *)1, ADMIN,
                  "The claim that names the user"),
    AP_INIT_TAKE1("GKAuthRolesClaim", set_claim, (void *)2, ADMIN,
                  "The claim that lists the user's roles"),
    AP_INIT_TAKE1("GKAuthPermissionsClaim", set_claim, (void *)3, ADMIN,
                  "The claim that lists the user's permissions"),
    AP_INIT_TAKE_ARGV("GKAuthRolePermissions", add_role_perms, NULL, ADMIN,
                      "Permissions granted to everyone holding a role"),
    AP_INIT_TAKE2("GKAuthClaimHeader", add_claim_header, NULL, ADMIN,
                  "A request header that passes a claim to the backend"),
    AP_INIT_FLAG("GKAuthAllowPreflight", set_preflight, NULL,
                 RSRC_CONF | OR_AUTHCFG,
                 "Whether CORS preflight requests pass gk-* Require lines "
                 "without a token"),
    AP_INIT_TAKE1("GKAuthErrorDetail", set_error_detail, NULL, ADMIN,
                  "Whether error responses name the roles or permissions "
                  "required: full or terse"),
    AP_INIT_TAKE1("GKAuthCacheSize", set_cache, NULL, RSRC_CONF,
                  "Verified tokens each server process keeps, 0 for none"),
    AP_INIT_TAKE1("GKAuthCacheLifetime", set_cache, (void *)1, RSRC_CONF,
                  "The longest a verified token stays cached, in seconds"),
    {NULL}
};
