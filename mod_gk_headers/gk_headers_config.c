/*
 * mod_gk_headers configuration: the per-directory structure, its merge,
 * the getters that apply defaults, and the directive table. Every argument
 * is validated here, when the configuration is read, so `apache2 -t` sees
 * it too.
 *
 * GKSecurityHeaders, GKSecurityHeader and the GKCORS* directives
 * (gk_headers_cors_config.c) are allowed wherever a <Directory>,
 * <Location> or .htaccess (AllowOverride FileInfo) may choose; every
 * other directive is server config and virtual host only.
 */
#include "apr_lib.h"
#include "apr_strings.h"

#include "gk_hdr.h"
#include "gk_headers_private.h"

/* Longest value GKSecurityHeader accepts (bytes). */
#define GK_HEADERS_VALUE_MAX 8192

/* ---- create, merge, getters ------------------------------------------- */

void *gk_headers_create_dir_conf(apr_pool_t *p, char *dir)
{
    gk_headers_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->profile = GK_UNSET;
    c->cors_private_network = GK_UNSET;
    return c;
}

void *gk_headers_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    const gk_headers_dir_conf_t *base = basev, *add = addv;
    gk_headers_dir_conf_t *c = apr_palloc(p, sizeof(*c));

    /* a nested scope's profile replaces the parent's; its overrides and
     * policies come after the parent's (the later line for a name wins),
     * whichever profile applies: no copy when one side has none */
    c->profile = GK_MERGE_INT(base, add, profile);
    c->overrides = gk_ap_merge_list(p, base->overrides, add->overrides);
    c->policies = gk_ap_merge_list(p, base->policies, add->policies);
    gk_headers_cors_merge(c, base, add);
    return c;
}

void *gk_headers_create_srv_conf(apr_pool_t *p, server_rec *s)
{
    gk_headers_srv_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->hsts_set = GK_UNSET;
    c->require = GK_UNSET;
    c->nonce = GK_UNSET;
    c->problem = GK_UNSET;
    return c;
}

void *gk_headers_merge_srv_conf(apr_pool_t *p, void *basev, void *addv)
{
    const gk_headers_srv_conf_t *base = basev, *add = addv;
    gk_headers_srv_conf_t *c = apr_palloc(p, sizeof(*c));

    /* each replaces the main server's value */
    if (add->hsts_set != GK_UNSET) {
        c->hsts_set = add->hsts_set;
        c->hsts = add->hsts;
    }
    else {
        c->hsts_set = base->hsts_set;
        c->hsts = base->hsts;
    }
    c->trust = GK_MERGE_PTR(base, add, trust);
    /* GKRequireHTTPS is one setting: a virtual host's line replaces the
     * main server's with all its options */
    if (add->require != GK_UNSET) {
        c->require = add->require;
        c->require_origin = add->require_origin;
        c->require_status = add->require_status;
        c->require_except = add->require_except;
    }
    else {
        c->require = base->require;
        c->require_origin = base->require_origin;
        c->require_status = base->require_status;
        c->require_except = base->require_except;
    }
    c->problem = GK_MERGE_INT(base, add, problem);
    if (add->nonce != GK_UNSET) {
        c->nonce = add->nonce;
        c->nonce_header = add->nonce_header;
    }
    else {
        c->nonce = base->nonce;
        c->nonce_header = base->nonce_header;
    }
    return c;
}

const gk_headers_srv_conf_t *gk_headers_srv_conf(const server_rec *s)
{
    return ap_get_module_config(s->module_config, &gk_headers_module);
}

const char *gk_headers_conf_hsts(const gk_headers_srv_conf_t *c)
{
    return c->hsts_set == 1 ? c->hsts : NULL;
}

const gk_ap_trust_t *gk_headers_conf_trust(const gk_headers_srv_conf_t *c)
{
    return c->trust ? c->trust : gk_ap_trust_none();
}

int gk_headers_conf_problem(const gk_headers_srv_conf_t *c)
{
    return c->problem == 1;
}

int gk_headers_conf_nonce(const gk_headers_srv_conf_t *c)
{
    return c->nonce == 1;
}

const apr_array_header_t *gk_headers_conf_nonce_header(
    const gk_headers_srv_conf_t *c)
{
    static const char *const dflt[] = {GK_HEADERS_NONCE_HEADER};
    static const apr_array_header_t dflt_list = {
        NULL, sizeof(const char *), 1, 1, (char *)dflt
    };

    return c->nonce_header ? c->nonce_header : &dflt_list;
}

gk_headers_profile_e gk_headers_conf_profile(const gk_headers_dir_conf_t *c)
{
    return c->profile == GK_UNSET ? GK_HEADERS_PROFILE_OFF
                                  : (gk_headers_profile_e)c->profile;
}

/* ---- helpers ------------------------------------------------------------ */

/* Fields httpd, the protocol or another directive own: setting them here
 * would break responses or bypass a rule (HSTS only over HTTPS). */
static const char *const reserved_names[] = {
    "Content-Length", "Content-Type", "Content-Encoding", "Content-Range",
    "Transfer-Encoding", "Connection", "Keep-Alive", "Upgrade", "Trailer",
    "Date", "Server", "Location", "Set-Cookie", "WWW-Authenticate",
    "Proxy-Authenticate", "Retry-After", "Allow", "ETag", "Last-Modified",
    "Strict-Transport-Security", NULL
};

static const char *check_name(cmd_parms *cmd, const char *name)
{
    int i;

    if (!gk_hdr_is_token(name)) {
        return gk_ap_cmd_error(cmd, "'%s' is not a valid header name (an "
                               "RFC 9110 token)", name);
    }
    for (i = 0; reserved_names[i]; i++) {
        if (!strcasecmp(name, reserved_names[i])) {
            return gk_ap_cmd_error(cmd, "header '%s' cannot be set here",
                                   name);
        }
    }
    return NULL;
}

/* ---- directive handlers ------------------------------------------------- */

static const char *set_profile(cmd_parms *cmd, void *dc, const char *arg)
{
    static const gk_ap_keyword_t profiles[] = {
        {"api", GK_HEADERS_PROFILE_API},
        {"html", GK_HEADERS_PROFILE_HTML},
        {"strict", GK_HEADERS_PROFILE_STRICT},
        {"off", GK_HEADERS_PROFILE_OFF},
        {NULL, 0}
    };
    gk_headers_dir_conf_t *c = dc;

    if (!gk_ap_keyword(arg, profiles, &c->profile)) {
        return gk_ap_cmd_error(cmd, "'%s' is not a profile: api, html, "
                               "strict or off", arg);
    }
    return NULL;
}

static const char *set_header(cmd_parms *cmd, void *dc, const char *name,
                              const char *value)
{
    gk_headers_dir_conf_t *c = dc;
    gk_headers_override_t *o;
    const char *e = check_name(cmd, name);
    int off = !strcasecmp(value, "off");

    if (e) {
        return e;
    }
    if (!off && strlen(value) > GK_HEADERS_VALUE_MAX) {
        return gk_ap_cmd_error(cmd, "the value of '%s' is longer than %d "
                               "bytes", name, GK_HEADERS_VALUE_MAX);
    }
    if (!off && !gk_hdr_is_value(value)) {
        return gk_ap_cmd_error(cmd, "the value of '%s' must be visible "
                               "ASCII, spaces and tabs inside only", name);
    }
    if (!strcasecmp(name, "Vary")
        && (off || !gk_hdr_vary_merge(cmd->temp_pool, value, NULL)
            || strcmp(gk_hdr_vary_merge(cmd->temp_pool, value, NULL),
                      value))) {
        return gk_ap_cmd_error(cmd, "Vary takes field names separated by "
                               "', ' (it extends the handler's Vary and "
                               "cannot be turned off)");
    }
    if (!c->overrides) {
        c->overrides = apr_array_make(cmd->pool, 4, sizeof(*o));
    }
    o = apr_array_push(c->overrides);
    o->name = name;
    o->value = off ? NULL : value;
    return NULL;
}

static const char *set_policy(cmd_parms *cmd, void *dc, const char *name,
                              const char *arg)
{
    static const gk_ap_keyword_t policies[] = {
        {"override", GK_HEADERS_OVERRIDE},
        {"keep-backend", GK_HEADERS_KEEP_BACKEND},
        {NULL, 0}
    };
    gk_headers_dir_conf_t *c = dc;
    gk_headers_policy_t *pl;
    const char *e = check_name(cmd, name);
    int policy;

    if (e) {
        return e;
    }
    if (!gk_ap_keyword(arg, policies, &policy)) {
        return gk_ap_cmd_error(cmd, "'%s' is not a policy: override or "
                               "keep-backend", arg);
    }
    if (!strcasecmp(name, "Vary")) {
        return gk_ap_cmd_error(cmd, "Vary is always extended, never "
                               "replaced: it takes no policy");
    }
    if (!c->policies) {
        c->policies = apr_array_make(cmd->pool, 4, sizeof(*pl));
    }
    pl = apr_array_push(c->policies);
    pl->name = name;
    pl->policy = policy;
    return NULL;
}

static gk_headers_srv_conf_t *srv_conf(cmd_parms *cmd)
{
    return ap_get_module_config(cmd->server->module_config,
                                &gk_headers_module);
}

static const char *set_hsts(cmd_parms *cmd, void *dc, int argc,
                            char *const argv[])
{
    gk_headers_srv_conf_t *c = srv_conf(cmd);
    const char *v, *e;

    if (argc == 1 && !strcasecmp(argv[0], "off")) {
        c->hsts_set = 0;
        c->hsts = NULL;
        return NULL;
    }
    e = gk_hdr_hsts_parse(cmd->pool, argc, (const char *const *)argv,
                          GK_HEADERS_HSTS_MAX, &v);
    if (e) {
        return gk_ap_cmd_error(cmd, "%s", e);
    }
    c->hsts_set = 1;
    c->hsts = v;
    return NULL;
}

static const char *set_trust(cmd_parms *cmd, void *dc, int argc,
                             char *const argv[])
{
    gk_ap_trust_t *t;
    const char *e = gk_ap_trust_parse(cmd, argc, argv, &t);

    if (e) {
        return e;
    }
    srv_conf(cmd)->trust = t;
    return NULL;
}

/* host=HOST[:PORT]: a DNS name or IP literal ([v6]), an optional port. */
static const char *parse_host(cmd_parms *cmd, const char *arg,
                              const char **origin)
{
    char *host = NULL, *scope = NULL;
    apr_port_t port = 0;
    const char *s;

    if (!*arg || apr_parse_addr_port(&host, &scope, &port, arg,
                                     cmd->temp_pool) != APR_SUCCESS
        || !host || scope) {
        return gk_ap_cmd_error(cmd, "host=%s: not HOST or HOST:PORT", arg);
    }
    if (strchr(arg, ']') == NULL) {
        for (s = host; *s; s++) {
            if (!apr_isalnum(*s) && *s != '-' && *s != '.') {
                return gk_ap_cmd_error(cmd, "host=%s: not a host name", arg);
            }
        }
    }
    if (strchr(arg, ':') && !strchr(arg, ']') && !port) {
        return gk_ap_cmd_error(cmd, "host=%s: the port must be 1 to 65535",
                               arg);
    }
    if (strchr(arg, ']') && strrchr(arg, ':') > strchr(arg, ']') && !port) {
        return gk_ap_cmd_error(cmd, "host=%s: the port must be 1 to 65535",
                               arg);
    }
    *origin = apr_psprintf(cmd->pool, "https://%s%s%s%s",
                           strchr(host, ':') ? "[" : "", host,
                           strchr(host, ':') ? "]" : "",
                           port && port != 443
                               ? apr_psprintf(cmd->pool, ":%u", port) : "");
    return NULL;
}

static const char *check_prefix(cmd_parms *cmd, const char *p)
{
    const char *s;

    if (p[0] != '/') {
        return gk_ap_cmd_error(cmd, "except=%s: a path prefix starts with "
                               "'/'", p);
    }
    for (s = p; *s; s++) {
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f) {
            return gk_ap_cmd_error(cmd, "except=%s: a path prefix is "
                                   "visible ASCII", p);
        }
    }
    return NULL;
}

static const char *set_require(cmd_parms *cmd, void *dc, int argc,
                               char *const argv[])
{
    gk_headers_srv_conf_t *c = srv_conf(cmd);
    const char *origin = NULL, *e;
    apr_array_header_t *except = NULL;
    int i, on, status = 0, in_except = 0;

    if (argc < 1) {
        return gk_ap_cmd_error(cmd, "needs On or Off, then options");
    }
    if (!strcasecmp(argv[0], "on")) {
        on = 1;
    }
    else if (!strcasecmp(argv[0], "off")) {
        on = 0;
    }
    else {
        return gk_ap_cmd_error(cmd, "'%s': the first argument is On or Off",
                               argv[0]);
    }
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!on) {
            return gk_ap_cmd_error(cmd, "Off takes no options");
        }
        if (!strncasecmp(a, "host=", 5)) {
            if (origin) {
                return gk_ap_cmd_error(cmd, "host= given twice");
            }
            if ((e = parse_host(cmd, a + 5, &origin))) {
                return e;
            }
            in_except = 0;
        }
        else if (!strncasecmp(a, "status=", 7)) {
            if (status) {
                return gk_ap_cmd_error(cmd, "status= given twice");
            }
            if (!strcmp(a + 7, "301") || !strcmp(a + 7, "302")
                || !strcmp(a + 7, "307") || !strcmp(a + 7, "308")) {
                status = atoi(a + 7);
            }
            else {
                return gk_ap_cmd_error(cmd, "%s: the status is 301, 302, 307 "
                                       "or 308", a);
            }
            in_except = 0;
        }
        else if (!strncasecmp(a, "except=", 7) || (in_except && a[0] == '/')) {
            const char *pfx = a[0] == '/' ? a : a + 7;
            if ((e = check_prefix(cmd, pfx))) {
                return e;
            }
            if (!except) {
                except = apr_array_make(cmd->pool, 4, sizeof(const char *));
            }
            APR_ARRAY_PUSH(except, const char *) = pfx;
            in_except = 1;
        }
        else {
            return gk_ap_cmd_error(cmd, "'%s' is not host=HOST[:PORT], "
                                   "status=301|302|307|308 or "
                                   "except=PATH-PREFIX", a);
        }
    }
    c->require = on;
    c->require_origin = origin;
    c->require_status = status;
    c->require_except = except;
    return NULL;
}

/* Request fields a nonce must not replace. */
static const char *const nonce_reserved[] = {
    "Host", "Content-Length", "Content-Type", "Content-Encoding",
    "Transfer-Encoding", "Connection", "Keep-Alive", "Upgrade", "TE",
    "Trailer", "Expect", "Authorization", "Proxy-Authorization", "Cookie",
    "Origin", "Referer", "Forwarded", "X-Forwarded-For", "X-Forwarded-Host",
    "X-Forwarded-Proto", "Range", "If-Match", "If-None-Match",
    "If-Modified-Since", "If-Unmodified-Since", NULL
};

static const char *set_nonce(cmd_parms *cmd, void *dc, const char *flag,
                             const char *header)
{
    gk_headers_srv_conf_t *c = srv_conf(cmd);
    int i, on;

    if (!strcasecmp(flag, "on")) {
        on = 1;
    }
    else if (!strcasecmp(flag, "off")) {
        on = 0;
    }
    else {
        return gk_ap_cmd_error(cmd, "'%s': the first argument is On or Off",
                               flag);
    }
    c->nonce_header = NULL;
    if (header) {
        if (!on) {
            return gk_ap_cmd_error(cmd, "Off takes no header name");
        }
        if (!gk_hdr_is_token(header)) {
            return gk_ap_cmd_error(cmd, "'%s' is not a valid header name (an "
                                   "RFC 9110 token)", header);
        }
        for (i = 0; nonce_reserved[i]; i++) {
            if (!strcasecmp(header, nonce_reserved[i])) {
                return gk_ap_cmd_error(cmd, "header '%s' cannot carry the "
                                       "nonce", header);
            }
        }
        c->nonce_header = apr_array_make(cmd->pool, 1, sizeof(const char *));
        APR_ARRAY_PUSH(c->nonce_header, const char *) = header;
    }
    c->nonce = on;
    return NULL;
}

static const char *set_problem(cmd_parms *cmd, void *dc, int on)
{
    srv_conf(cmd)->problem = on;
    return NULL;
}

/* ---- the table ------------------------------------------------------------ */

#define DIR_OR_HTACCESS (RSRC_CONF | ACCESS_CONF | OR_FILEINFO)

const command_rec gk_headers_cmds[] = {
    AP_INIT_TAKE1("GKSecurityHeaders", set_profile, NULL, DIR_OR_HTACCESS,
                  "The security header profile of this scope: api, html, "
                  "strict or off"),
    AP_INIT_TAKE2("GKSecurityHeader", set_header, NULL, DIR_OR_HTACCESS,
                  "Set, add or remove (off) one header of the profile: "
                  "NAME VALUE|off"),
    AP_INIT_TAKE2("GKSecurityHeaderPolicy", set_policy, NULL, RSRC_CONF,
                  "What happens when the handler set the header too: NAME "
                  "override|keep-backend"),
    AP_INIT_TAKE_ARGV("GKHSTS", set_hsts, NULL, RSRC_CONF,
                      "Strict-Transport-Security on secure connections: "
                      "max-age=SECONDS [includeSubDomains] [preload], or "
                      "off"),
    AP_INIT_TAKE_ARGV("GKTrustedProxies", set_trust, NULL, RSRC_CONF,
                      "Peers whose X-Forwarded-Proto and Forwarded proto= "
                      "are believed: all, none, or addresses and networks"),
    AP_INIT_TAKE_ARGV("GKRequireHTTPS", set_require, NULL, RSRC_CONF,
                      "Redirect plain-HTTP requests to HTTPS: On|Off "
                      "[host=HOST[:PORT]] [status=301|302|307|308] "
                      "[except=PATH-PREFIX...]"),
    AP_INIT_TAKE12("GKCSPNonce", set_nonce, NULL, RSRC_CONF,
                   "A fresh nonce per request in the CSP's script-src and "
                   "style-src, and to the backend: On|Off [HEADER]"),
    AP_INIT_FLAG("GKProblemJSON", set_problem, NULL, RSRC_CONF,
                 "Answer httpd's own errors and backends' 5xx with an RFC "
                 "9457 problem+json body: On or Off"),
    AP_INIT_TAKE_ARGV("GKCORSAllowOrigin", gk_headers_set_cors_origin, NULL,
                      DIR_OR_HTACCESS,
                      "Origins allowed to read responses: ORIGIN... (exact, "
                      "or https://*.DOMAIN), * or none"),
    AP_INIT_TAKE_ARGV("GKCORSAllowMethods", gk_headers_set_cors_list,
                      (void *)&gk_headers_cors_methods_info,
                      DIR_OR_HTACCESS,
                      "Methods a preflight may ask for: METHOD... or *"),
    AP_INIT_TAKE_ARGV("GKCORSAllowHeaders", gk_headers_set_cors_list,
                      (void *)&gk_headers_cors_headers_info,
                      DIR_OR_HTACCESS,
                      "Request headers a preflight may ask for: HEADER... "
                      "or * (never Authorization)"),
    AP_INIT_TAKE_ARGV("GKCORSExposeHeaders", gk_headers_set_cors_list,
                      (void *)&gk_headers_cors_expose_info,
                      DIR_OR_HTACCESS,
                      "Response headers scripts may read: HEADER..., * or "
                      "none"),
    AP_INIT_FLAG("GKCORSAllowCredentials", gk_headers_set_cors_credentials,
                 NULL, DIR_OR_HTACCESS,
                 "Let scripts send cookies and read the answer: On|Off"),
    AP_INIT_TAKE1("GKCORSMaxAge", gk_headers_set_cors_max_age, NULL,
                  DIR_OR_HTACCESS,
                  "How long browsers may cache a preflight: SECONDS (0 to "
                  "86400) or none"),
    AP_INIT_FLAG("GKCORSAllowPrivateNetwork",
                 gk_headers_set_cors_private_network, NULL,
                 DIR_OR_HTACCESS,
                 "Answer Private Network Access preflights: On|Off"),
    {NULL}
};
