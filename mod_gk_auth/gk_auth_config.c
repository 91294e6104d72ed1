/*
 * mod_gk_auth configuration: per-directory and per-server structures, their
 * merge, and the directive table. Every argument is validated here, when
 * the configuration is read (so `apachectl configtest` sees it too).
 */
#include "http_core.h"

#include "apr_md5.h"
#include "ap_provider.h"
#include "mod_auth.h"
#include "gk_rand.h"
#include "gk_rate.h"
#include "apr_lib.h"
#include "gk_auth_private.h"
#include "gk_sign.h"
#include "gk_http.h"
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
    return GK_GET_INT(c, leeway, GK_AUTH_DEFAULT_LEEWAY);
}

int gk_auth_conf_require_exp(const gk_auth_dir_conf_t *c)
{
    return GK_GET_INT(c, require_exp, GK_AUTH_DEFAULT_REQUIRE_EXP);
}

int gk_auth_conf_require_at_jwt(const gk_auth_dir_conf_t *c)
{
    return GK_GET_INT(c, require_at_jwt, GK_AUTH_DEFAULT_REQUIRE_AT_JWT);
}

int gk_auth_conf_allow_preflight(const gk_auth_dir_conf_t *c)
{
    return GK_GET_INT(c, allow_preflight, GK_AUTH_DEFAULT_ALLOW_PREFLIGHT);
}

int gk_auth_conf_terse(const gk_auth_dir_conf_t *c)
{
    return GK_GET_INT(c, terse, GK_AUTH_DEFAULT_TERSE);
}

int gk_auth_conf_cache_size(const gk_auth_srv_conf_t *c)
{
    return GK_GET_INT(c, cache_size, GK_AUTH_DEFAULT_CACHE_SIZE);
}

int gk_auth_conf_cache_lifetime(const gk_auth_srv_conf_t *c)
{
    return GK_GET_INT(c, cache_lifetime, GK_AUTH_DEFAULT_CACHE_LIFETIME);
}

gk_claim_path_t *gk_auth_conf_user_claim(const gk_auth_dir_conf_t *c)
{
    return c->user_claim ? c->user_claim : default_user_claim;
}

gk_claim_path_t *gk_auth_conf_roles_claim(const gk_auth_dir_conf_t *c)
{
    return c->roles_claim ? c->roles_claim : default_roles_claim;
}

const apr_array_header_t *gk_auth_conf_token_providers(
    const gk_auth_dir_conf_t *c)
{
    static const char *const dflt[] = {"file"};
    static const apr_array_header_t dflt_list = {
        NULL, sizeof(const char *), 1, 1, (char *)dflt
    };

    return c->token_providers ? c->token_providers : &dflt_list;
}

int gk_auth_conf_token_lifetime(const gk_auth_dir_conf_t *c)
{
    return GK_GET_INT(c, token_lifetime, 900);
}

const char *gk_auth_conf_token_issuer(const gk_auth_dir_conf_t *c)
{
    return c->token_issuer;
}

const char *gk_auth_conf_token_audience(const gk_auth_dir_conf_t *c)
{
    return c->token_audience;
}

int gk_auth_conf_token_max_body(const gk_auth_dir_conf_t *c)
{
    return GK_GET_INT(c, token_max_body, 8192);
}

static const char *default_dummy_hash;

const char *gk_auth_dummy_hash(apr_pool_t *p, int cost)
{
    unsigned char salt[16];
    char hash[64];

    if (gk_rand_bytes(salt, sizeof(salt)) != APR_SUCCESS
        || apr_bcrypt_encode("gatekeeper-dummy-password", (unsigned int)cost,
                             salt, sizeof(salt), hash, sizeof(hash))
               != APR_SUCCESS) {
        return NULL;
    }
    return apr_pstrdup(p, hash);
}

void gk_auth_token_init(apr_pool_t *pconf)
{
    default_dummy_hash = gk_auth_dummy_hash(pconf, 5);
}

const char *gk_auth_conf_dummy_hash(const gk_auth_dir_conf_t *c)
{
    return c->dummy_hash ? c->dummy_hash
           : default_dummy_hash ? default_dummy_hash
                                : "$2y$05$invalidinvalidinvalidinuH8n5Z0aFUzCRYQ0dp0ITy3T8C1xZK";
}

const char *gk_auth_conf_token_cookie(const gk_auth_dir_conf_t *c)
{
    return c->token_cookie;
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
    c->jwks_max_age = GK_UNSET;
    c->token_lifetime = GK_UNSET;
    c->token_max_body = GK_UNSET;
    c->revocation = GK_UNSET;
    return c;
}

#define MERGE_PTR(f) GK_MERGE_PTR(base, add, f)
#define MERGE_INT(f) GK_MERGE_INT(base, add, f)
#define MERGE_LIST(f) gk_strlist_merge(p, base->f, add->f)

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
    c->role_perms = MERGE_LIST(role_perms);
    c->role_perms_merged = (base->role_perms && add->role_perms)
                           || (add->role_perms ? add->role_perms_merged
                                               : base->role_perms_merged);
    c->claim_headers = MERGE_LIST(claim_headers);
    c->claim_header_names = MERGE_LIST(claim_header_names);
    c->allow_preflight = MERGE_INT(allow_preflight);
    c->terse = MERGE_INT(terse);
    c->token_keys = MERGE_PTR(token_keys);
    c->jwks_max_age = MERGE_INT(jwks_max_age);
    c->token_providers = MERGE_PTR(token_providers);
    c->roles_file = MERGE_PTR(roles_file);
    c->token_lifetime = MERGE_INT(token_lifetime);
    c->token_issuer = MERGE_PTR(token_issuer);
    c->token_audience = MERGE_PTR(token_audience);
    c->token_max_body = MERGE_INT(token_max_body);
    c->dummy_hash = MERGE_PTR(dummy_hash);
    c->token_cookie = MERGE_PTR(token_cookie);
    c->token_lifetime_where = MERGE_PTR(token_lifetime_where);
    c->revocation = MERGE_INT(revocation);
    c->revoke_admin_role = MERGE_PTR(revoke_admin_role);
    return c;
}

void *gk_auth_create_srv_conf(apr_pool_t *p, server_rec *s)
{
    gk_auth_srv_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->cache_size = GK_UNSET;
    c->cache_lifetime = GK_UNSET;
    c->max_token_lifetime = GK_UNSET;
    c->rv_deny_on_error = GK_UNSET;
    return c;
}

void *gk_auth_merge_srv_conf(apr_pool_t *p, void *basev, void *addv)
{
    const gk_auth_srv_conf_t *base = basev, *add = addv;
    gk_auth_srv_conf_t *c = apr_palloc(p, sizeof(*c));

    c->cache_size = MERGE_INT(cache_size);
    c->cache_lifetime = MERGE_INT(cache_lifetime);
    c->max_token_lifetime = MERGE_INT(max_token_lifetime);
    c->max_token_lifetime_where = MERGE_PTR(max_token_lifetime_where);
    c->rv_deny_on_error = MERGE_INT(rv_deny_on_error);
    /* the revocation store is the main server's */
    c->rv_store_where = base->rv_store_where;
    c->rv_shm_size = base->rv_shm_size;
    c->rv_mc_conf = base->rv_mc_conf;
    c->rv_mc_timeout = base->rv_mc_timeout;
    c->rv_journal = base->rv_journal;
    c->rv_key = base->rv_key;
    return c;
}

/* ---- helpers ------------------------------------------------------------ */

static const char *claim_path(cmd_parms *cmd, const char *arg,
                              gk_claim_path_t **out)
{
    if (!gk_claim_path_is_valid(arg)) {
        return gk_ap_cmd_error(cmd, "'%s' is not a claim name or dotted "
                               "path", arg);
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
            return gk_ap_cmd_error(cmd, "algorithm '%s' is never accepted",
                                   arg);
        }
        return gk_ap_cmd_error(cmd, "unknown algorithm '%s' (HS256, HS384, "
                               "HS512, RS256, RS384, RS512, PS256, PS384, "
                               "PS512, ES256, ES384, ES512 or EdDSA)", arg);
    }
    return NULL;
}

const char *gk_auth_parse_alg(cmd_parms *cmd, const char *arg, gk_alg_e *alg)
{
    return parse_alg(cmd, arg, alg);
}

const char *gk_auth_key_source(cmd_parms *cmd, const char *source,
                               const char **out)
{
    if (!strncmp(source, "file:", 5)) {
        const char *path = ap_server_root_relative(cmd->temp_pool, source + 5);
        if (!source[5] || !path) {
            return gk_ap_cmd_error(cmd, "'%s' is not a valid path", source);
        }
        *out = apr_pstrcat(cmd->temp_pool, "file:", path, NULL);
    }
    else if (strncmp(source, "env:", 4)) {
        const char *path = ap_server_root_relative(cmd->temp_pool, source);
        if (!path) {
            return gk_ap_cmd_error(cmd, "'%s' is not a valid path", source);
        }
        *out = path;
    }
    else {
        *out = source;
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
            return gk_ap_cmd_error(cmd, "'%s': the third argument is kid=ID",
                                   opt);
        }
        kid = opt + 4;
    }
    if ((e = gk_auth_key_source(cmd, source, &source))) {
        return e;
    }
    if ((e = gk_key_load(cmd->pool, alg, source, kid, &key))) {
        return apr_psprintf(cmd->pool, "%s %s: %s", cmd->cmd->name, alg_s, e);
    }
    if (!kid && key->pkey) {
        /* without kid=, an asymmetric key is also found by its RFC 7638
         * thumbprint (the kid GKTokenKey gives the same key by default);
         * tokens without a kid are checked with it as before */
        if ((e = gk_jwk_thumbprint(cmd->pool, key->pkey, &key->kid))) {
            return gk_ap_cmd_error(cmd, "%s: %s", alg_s, e);
        }
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
            return gk_ap_cmd_error(cmd, "'%s': the second argument is "
                                   "alg=ALG", opt);
        }
        if ((e = parse_alg(cmd, opt + 4, &alg))) {
            return e;
        }
    }
    ring = scope_ring(cmd, c);
    if (ring->jwks) {
        return gk_ap_cmd_error(cmd, "%s", "one key set per scope");
    }
    path = ap_server_root_relative(cmd->temp_pool, path);
    if (!path) {
        return gk_ap_cmd_error(cmd, "%s", "not a valid path");
    }
    if ((e = gk_jwks_open(cmd->pool, path, alg, &ring->jwks))) {
        return apr_psprintf(cmd->pool, "%s %s: %s", cmd->cmd->name, path, e);
    }
    return NULL;
}

static const char *set_issuer(cmd_parms *cmd, void *dc, const char *arg)
{
    if (!*arg) {
        return gk_ap_cmd_error(cmd, "%s", "the issuer cannot be empty");
    }
    ((gk_auth_dir_conf_t *)dc)->issuer = arg;
    return NULL;
}

static const char *add_audience(cmd_parms *cmd, void *dc, const char *arg)
{
    gk_auth_dir_conf_t *c = dc;

    if (!*arg) {
        return gk_ap_cmd_error(cmd, "%s", "an audience cannot be empty");
    }
    if (!c->audiences) {
        c->audiences = apr_array_make(cmd->pool, 2, sizeof(const char *));
    }
    APR_ARRAY_PUSH(c->audiences, const char *) = arg;
    return NULL;
}

static const char *set_token_type(cmd_parms *cmd, void *dc, const char *arg)
{
    static const gk_ap_keyword_t types[] = {
        {"any", 0}, {"at+jwt", 1}, {NULL, 0}
    };
    gk_auth_dir_conf_t *c = dc;

    if (!gk_ap_keyword(arg, types, &c->require_at_jwt)) {
        return gk_ap_cmd_error(cmd, "'%s': use 'any' or 'at+jwt'", arg);
    }
    return NULL;
}

static const char *set_cookie(cmd_parms *cmd, void *dc, const char *arg)
{
    if (!gk_http_is_token(arg)) {
        return gk_ap_cmd_error(cmd, "'%s' is not a valid cookie name", arg);
    }
    ((gk_auth_dir_conf_t *)dc)->cookie = arg;
    return NULL;
}

/* GKAuth*Claim: the field at the offset cmd->info. */
static const char *set_claim(cmd_parms *cmd, void *dc, const char *arg)
{
    return claim_path(
        cmd, arg, (gk_claim_path_t **)((char *)dc + (apr_size_t)cmd->info));
}

static const char *add_role_perms(cmd_parms *cmd, void *dc, int argc,
                                  char *const argv[])
{
    gk_auth_dir_conf_t *c = dc;
    gk_role_perms_t *rp;
    const char *e;
    int i;

    if (argc < 2) {
        return gk_ap_cmd_error(cmd, "%s", "needs a role and at least one "
                               "permission");
    }
    rp = apr_array_push(c->role_perms ? c->role_perms
                                      : (c->role_perms = apr_array_make(
                                             cmd->pool, 4, sizeof(*rp))));
    if (!gk_text_is_atom(argv[0])) {
        return gk_ap_cmd_error(cmd, "role '%s' may hold only visible ASCII "
                               "characters: no white space, control or "
                               "non-ASCII byte", argv[0]);
    }
    rp->role = argv[0];
    rp->perms = apr_array_make(cmd->pool, argc - 1, sizeof(const char *));
    for (i = 1; i < argc; i++) {
        if ((e = gk_perm_check(cmd->temp_pool, argv[i], 1))) {
            return gk_ap_cmd_error(cmd, "%s", e);
        }
        APR_ARRAY_PUSH(rp->perms, const char *) = argv[i];
    }
    return NULL;
}

static const char *add_claim_header(cmd_parms *cmd, void *dc,
                                    const char *claim, const char *header)
{
    gk_auth_dir_conf_t *c = dc;
    gk_claim_header_t *ch;
    const char *e;

    if (!gk_http_is_token(header)) {
        return gk_ap_cmd_error(cmd, "'%s' is not a valid header name", header);
    }
    if (gk_http_header_is_reserved(header)) {
        return gk_ap_cmd_error(cmd, "header '%s' cannot carry a claim",
                               header);
    }
    if (!c->claim_headers) {
        c->claim_headers = apr_array_make(cmd->pool, 2, sizeof(*ch));
        c->claim_header_names = apr_array_make(cmd->pool, 2,
                                               sizeof(const char *));
    }
    ch = apr_array_push(c->claim_headers);
    ch->header = header;
    APR_ARRAY_PUSH(c->claim_header_names, const char *) = header;
    if (*claim == '@') {
        /* pseudo-claims: what the module derived, not a claim's value */
        ch->kind = !strcmp(claim, "@user")          ? GK_CH_USER
                   : !strcmp(claim, "@roles")       ? GK_CH_ROLES
                   : !strcmp(claim, "@permissions") ? GK_CH_PERMISSIONS
                                                    : GK_CH_CLAIM;
        if (ch->kind == GK_CH_CLAIM) {
            return gk_ap_cmd_error(cmd, "unknown pseudo-claim '%s' (@user, "
                                   "@roles or @permissions)", claim);
        }
        return NULL;
    }
    ch->kind = GK_CH_CLAIM;
    if ((e = claim_path(cmd, claim, &ch->claim))) {
        return e;
    }
    return NULL;
}

static const char *set_error_detail(cmd_parms *cmd, void *dc, const char *arg)
{
    static const gk_ap_keyword_t details[] = {
        {"full", 0}, {"terse", 1}, {NULL, 0}
    };
    gk_auth_dir_conf_t *c = dc;

    if (!gk_ap_keyword(arg, details, &c->terse)) {
        return gk_ap_cmd_error(cmd, "'%s': use 'full' or 'terse'", arg);
    }
    return NULL;
}

/* GKAuthCache*: a bounded number of the server configuration. */
static const char *set_cache(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *e = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    if (e) {
        return e;
    }
    return gk_ap_set_int_slot(
        cmd, ap_get_module_config(cmd->server->module_config, &gk_auth_module),
        arg);
}

/* The bounds of the numbers, with their fields. */
static const gk_ap_int_slot_t leeway_slot =
    GK_AP_INT_SLOT(gk_auth_dir_conf_t, leeway, 0, 86400);
static const gk_ap_int_slot_t cache_size_slot =
    GK_AP_INT_SLOT(gk_auth_srv_conf_t, cache_size, 0, 1 << 20);
static const gk_ap_int_slot_t cache_lifetime_slot =
    GK_AP_INT_SLOT(gk_auth_srv_conf_t, cache_lifetime, 1, 86400);

/* cmd->info of a handler that sets the field f of the directory config */
#define DIR_FIELD(f) ((void *)APR_OFFSETOF(gk_auth_dir_conf_t, f))

/* Key material and token policy belong to the administrator: server config,
 * virtual host and directory sections, never .htaccess. */
#define ADMIN (RSRC_CONF | ACCESS_CONF)

/* ap_set_string_slot for a value that may not be empty. */
static const char *set_nonempty_slot(cmd_parms *cmd, void *dc,
                                     const char *arg)
{
    if (!*arg) {
        return gk_ap_cmd_error(cmd, "needs a value that is not empty");
    }
    return ap_set_string_slot(cmd, dc, arg);
}

static const gk_ap_int_slot_t token_max_body_slot =
    GK_AP_INT_SLOT(gk_auth_dir_conf_t, token_max_body, 64, 1048576);

static const char *set_token_providers(cmd_parms *cmd, void *dc, int argc,
                                       char *const argv[])
{
    gk_auth_dir_conf_t *c = dc;
    int i;

    if (argc < 1) {
        return gk_ap_cmd_error(cmd, "needs one or more provider names");
    }
    c->token_providers = apr_array_make(cmd->pool, argc,
                                        sizeof(const char *));
    for (i = 0; i < argc; i++) {
        const authn_provider *prov = ap_lookup_provider(
            AUTHN_PROVIDER_GROUP, argv[i], AUTHN_PROVIDER_VERSION);
        if (!prov || !prov->check_password) {
            return gk_ap_cmd_error(cmd, "unknown authn provider '%s' (load "
                                   "its module, such as mod_authn_%s, or "
                                   "define its AuthnProviderAlias, before "
                                   "this line)", argv[i], argv[i]);
        }
        APR_ARRAY_PUSH(c->token_providers, const char *) = argv[i];
    }
    return NULL;
}

const char *gk_auth_parse_duration(cmd_parms *cmd, const char *arg, int max,
                                   int *out)
{
    gk_rate_t rate;
    char *spec = apr_pstrcat(cmd->temp_pool, "1/", arg, NULL);

    /* seconds, or a duration with a unit: the rate grammar's windows */
    if (apr_isdigit(*arg) && !gk_ap_parse_int(cmd, arg, 1, max, out)) {
        return NULL;
    }
    if (apr_isdigit(*arg) && !gk_rate_parse(cmd->temp_pool, spec, &rate)
        && rate.window <= (apr_uint32_t)max) {
        *out = (int)rate.window;
        return NULL;
    }
    return gk_ap_cmd_error(cmd, "'%s' is not seconds (1 to %d) or a "
                           "duration such as 15m, 1h, 1d", arg, max);
}

static const char *set_token_lifetime(cmd_parms *cmd, void *dc,
                                      const char *arg)
{
    gk_auth_dir_conf_t *c = dc;
    const char *e = gk_auth_parse_duration(cmd, arg, 31 * 86400,
                                           &c->token_lifetime);

    if (!e) {
        /* held against GKAuthMaxTokenLifetime at startup */
        c->token_lifetime_where = gk_ap_where(cmd);
    }
    return e;
}

static const char *set_dummy_cost(cmd_parms *cmd, void *dc, const char *arg)
{
    gk_auth_dir_conf_t *c = dc;
    const char *e, *hash;
    int cost;

    if ((e = gk_ap_parse_int(cmd, arg, 4, 17, &cost))) {
        return e;
    }
    if (!(hash = gk_auth_dummy_hash(cmd->pool, cost))) {
        return gk_ap_cmd_error(cmd, "cannot make a bcrypt hash");
    }
    c->dummy_hash = hash;
    return NULL;
}

static const char *set_token_cookie(cmd_parms *cmd, void *dc,
                                    const char *arg)
{
    if (!gk_http_is_token(arg)) {
        return gk_ap_cmd_error(cmd, "'%s' is not a cookie name (an RFC 9110 "
                               "token)", arg);
    }
    ((gk_auth_dir_conf_t *)dc)->token_cookie = arg;
    return NULL;
}

static const gk_ap_int_slot_t jwks_max_age_slot =
    GK_AP_INT_SLOT(gk_auth_dir_conf_t, jwks_max_age, 0,
                   GK_AUTH_JWKS_MAX_AGE_MAX);

const command_rec gk_auth_cmds[] = {
    AP_INIT_TAKE23("GKAuthKey", set_key, NULL, ADMIN,
                   "A key that verifies tokens of one algorithm"),
    AP_INIT_TAKE12("GKAuthKeySet", set_keyset, NULL, ADMIN,
                   "A JWKS file of verification keys, re-read when it "
                   "changes"),
    AP_INIT_TAKE1("GKAuthLeeway", gk_ap_set_int_slot, (void *)&leeway_slot,
                  ADMIN,
                  "Clock skew allowed for exp, nbf and iat, in seconds"),
    AP_INIT_TAKE1("GKAuthIssuer", set_issuer, NULL, ADMIN,
                  "The issuer (iss) tokens must name exactly"),
    AP_INIT_ITERATE("GKAuthAudience", add_audience, NULL, ADMIN,
                    "Audiences (aud) of which tokens must name one"),
    AP_INIT_TAKE1("GKAuthTokenType", set_token_type, NULL, ADMIN,
                  "Which token types (typ) are accepted: any or at+jwt"),
    AP_INIT_FLAG("GKAuthRequireExp", ap_set_flag_slot, DIR_FIELD(require_exp),
                 ADMIN, "Whether tokens must carry an expiry (exp)"),
    AP_INIT_TAKE1("GKAuthTokenCookie", set_cookie, NULL, ADMIN,
                  "A cookie that may carry the token instead of the "
                  "Authorization header"),
    AP_INIT_TAKE1("GKAuthUserClaim", set_claim, DIR_FIELD(user_claim), ADMIN,
                  "The claim that names the user"),
    AP_INIT_TAKE1("GKAuthRolesClaim", set_claim, DIR_FIELD(roles_claim), ADMIN,
                  "The claim that lists the user's roles"),
    AP_INIT_TAKE1("GKAuthPermissionsClaim", set_claim, DIR_FIELD(perms_claim),
                  ADMIN, "The claim that lists the user's permissions"),
    AP_INIT_TAKE_ARGV("GKAuthRolePermissions", add_role_perms, NULL, ADMIN,
                      "Permissions granted to everyone holding a role"),
    AP_INIT_TAKE2("GKAuthClaimHeader", add_claim_header, NULL, ADMIN,
                  "A request header that passes a claim to the backend"),
    AP_INIT_FLAG("GKAuthAllowPreflight", ap_set_flag_slot,
                 DIR_FIELD(allow_preflight), RSRC_CONF | OR_AUTHCFG,
                 "Whether CORS preflight requests pass gk-* Require lines "
                 "without a token"),
    AP_INIT_TAKE1("GKAuthErrorDetail", set_error_detail, NULL, ADMIN,
                  "Whether error responses name the roles or permissions "
                  "required: full or terse"),
    AP_INIT_TAKE1("GKAuthCacheSize", set_cache, (void *)&cache_size_slot,
                  RSRC_CONF,
                  "Verified tokens each server process keeps, 0 for none"),
    AP_INIT_TAKE1("GKAuthCacheLifetime", set_cache,
                  (void *)&cache_lifetime_slot, RSRC_CONF,
                  "The longest a verified token stays cached, in seconds"),
    AP_INIT_TAKE_ARGV("GKTokenAuthProvider", set_token_providers, NULL,
                      ADMIN, "The authn providers that check the "
                      "passwords of gk-token, in order: NAME..."),
    AP_INIT_TAKE1("GKTokenRolesFile", gk_auth_set_roles_file, NULL, ADMIN,
                  "The users' roles for gk-token, in AuthGroupFile format "
                  "(ROLE: USER...)"),
    AP_INIT_TAKE1("GKTokenLifetime", set_token_lifetime, NULL, ADMIN,
                  "How long the tokens of gk-token are valid: seconds, or "
                  "with a unit (15m, 1h)"),
    AP_INIT_TAKE1("GKTokenIssuer", set_nonempty_slot,
                  DIR_FIELD(token_issuer), ADMIN,
                  "The iss claim of the tokens of gk-token"),
    AP_INIT_TAKE1("GKTokenAudience", set_nonempty_slot,
                  DIR_FIELD(token_audience), ADMIN,
                  "The aud claim of the tokens of gk-token"),
    AP_INIT_TAKE1("GKTokenMaxBody", gk_ap_set_int_slot,
                  (void *)&token_max_body_slot, ADMIN,
                  "The largest request body gk-token reads, in bytes"),
    AP_INIT_TAKE1("GKTokenDummyHashCost", set_dummy_cost, NULL, ADMIN,
                  "The bcrypt cost of the check made for unknown users: "
                  "the cost of your password hashes"),
    AP_INIT_TAKE1("GKTokenCookie", set_token_cookie, NULL, ADMIN,
                  "Also set the token as this HttpOnly cookie: NAME"),
    AP_INIT_TAKE_ARGV("GKTokenKey", gk_auth_set_token_key, NULL, ADMIN,
                      "A key tokens are signed with, published by gk-jwks: "
                      "ALG SOURCE [kid=ID] [publish-only]"),
    AP_INIT_TAKE1("GKTokenJWKSMaxAge", gk_ap_set_int_slot,
                  (void *)&jwks_max_age_slot, ADMIN,
                  "How long clients may cache the published keys, in "
                  "seconds"),
    AP_INIT_FLAG("GKAuthRevocation", ap_set_flag_slot, DIR_FIELD(revocation),
                 RSRC_CONF | ACCESS_CONF | OR_AUTHCFG,
                 "Whether tokens are looked up in the revocation list: On "
                 "or Off"),
    AP_INIT_TAKE_ARGV("GKAuthRevocationStore", gk_auth_set_revocation_store,
                      NULL, RSRC_CONF,
                      "Where revocations live: shm [size=ENTRIES], or "
                      "memcached \"LIBMEMCACHED-CONFIG\""),
    AP_INIT_TAKE1("GKAuthRevocationStoreTimeout",
                  gk_auth_set_revocation_timeout, NULL, RSRC_CONF,
                  "How long a request waits for memcached at most, in "
                  "milliseconds (connect and each reply)"),
    AP_INIT_TAKE1("GKAuthRevocationOnStoreError",
                  gk_auth_set_revocation_on_error, NULL, RSRC_CONF,
                  "When the revocation store fails: allow (admit the token) "
                  "or deny (503)"),
    AP_INIT_TAKE1("GKAuthRevocationJournal", gk_auth_set_revocation_journal,
                  NULL, RSRC_CONF,
                  "The file revocations are appended to and replayed from"),
    AP_INIT_TAKE1("GKAuthRevocationKeySecret", gk_auth_set_revocation_secret,
                  NULL, RSRC_CONF,
                  "The secret the revocation keys are hashed with, the same "
                  "on every front end sharing a store: env:VAR or "
                  "file:PATH"),
    AP_INIT_TAKE1("GKAuthMaxTokenLifetime", gk_auth_set_max_token_lifetime,
                  NULL, RSRC_CONF,
                  "The longest lifetime of the tokens accepted, for which "
                  "log-outs are kept: seconds, or with a unit (1h, 1d)"),
    AP_INIT_TAKE1("GKRevokeAdminRole", gk_auth_set_revoke_admin_role, NULL,
                  ADMIN,
                  "The role whose holders may revoke any token at "
                  "gk-revoke"),
    {NULL}
};
