/*
 * mod_gk_log configuration: the per-server structure, its merge, the
 * getters that apply defaults, and the directive table. Every argument is
 * validated here, when the configuration is read, so `apache2 -t` sees
 * it too.
 *
 * All directives are server config and virtual host only: the correlation
 * ID is decided in post_read_request, before any <Location> or
 * <Directory> applies, and a request that fails while it is read has no
 * per-directory configuration at all.
 */
#include "apr_lib.h"
#include "apr_strings.h"

#include "gk_log_private.h"

/* ---- create, merge, getters ------------------------------------------- */

void *gk_log_create_srv_conf(apr_pool_t *p, server_rec *s)
{
    gk_log_srv_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->enabled = GK_UNSET;
    c->format = GK_UNSET;
    c->traceparent = GK_UNSET;
    return c;
}

void *gk_log_merge_srv_conf(apr_pool_t *p, void *basev, void *addv)
{
    const gk_log_srv_conf_t *base = basev, *add = addv;
    gk_log_srv_conf_t *c = apr_palloc(p, sizeof(*c));

    c->enabled = GK_MERGE_INT(base, add, enabled);
    /* the name and its aliases are one setting: a virtual host that names
     * a header replaces the main server's name and aliases */
    if (add->header) {
        c->header = add->header;
        c->aliases = add->aliases;
    }
    else {
        c->header = base->header;
        c->aliases = base->aliases;
    }
    c->trust = GK_MERGE_PTR(base, add, trust);
    c->format = GK_MERGE_INT(base, add, format);
    c->traceparent = GK_MERGE_INT(base, add, traceparent);
    return c;
}

const gk_log_srv_conf_t *gk_log_srv_conf(const server_rec *s)
{
    return ap_get_module_config(s->module_config, &gk_log_module);
}

int gk_log_conf_enabled(const gk_log_srv_conf_t *c)
{
    return c->enabled == GK_UNSET ? 1 : c->enabled;
}

const char *gk_log_conf_header(const gk_log_srv_conf_t *c)
{
    return c->header ? c->header : GK_LOG_DEFAULT_HEADER;
}

const apr_array_header_t *gk_log_conf_aliases(const gk_log_srv_conf_t *c)
{
    return c->header ? c->aliases : NULL;
}

const gk_ap_trust_t *gk_log_conf_trust(const gk_log_srv_conf_t *c)
{
    return c->trust ? c->trust : gk_ap_trust_all();
}

gk_log_format_e gk_log_conf_format(const gk_log_srv_conf_t *c)
{
    return c->format == GK_UNSET ? GK_LOG_FMT_UUID7
                                 : (gk_log_format_e)c->format;
}

gk_log_tp_mode_e gk_log_conf_traceparent(const gk_log_srv_conf_t *c)
{
    return c->traceparent == GK_UNSET ? GK_LOG_TP_PROPAGATE
                                      : (gk_log_tp_mode_e)c->traceparent;
}

/* ---- helpers ------------------------------------------------------------ */

static gk_log_srv_conf_t *srv_conf(cmd_parms *cmd)
{
    return ap_get_module_config(cmd->server->module_config, &gk_log_module);
}

/* An RFC 9110 field name (token). */
static int is_token(const char *s)
{
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

int gk_log_same_name(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a == '_' ? '-' : (char)apr_tolower(*a);
        char y = *b == '_' ? '-' : (char)apr_tolower(*b);
        if (x != y) {
            return 0;
        }
    }
    return *a == *b;
}

/* Names whose value httpd, the proxy or the trace handling own: the ID
 * written over one of them would break the request or the response. */
static const char *const reserved_names[] = {
    "Host", "Content-Length", "Content-Type", "Content-Encoding",
    "Transfer-Encoding", "Connection", "Keep-Alive", "Proxy-Connection",
    "Upgrade", "TE", "Trailer", "Expect", "Authorization",
    "Proxy-Authorization", "Cookie", "Set-Cookie", "Location",
    "WWW-Authenticate", "Forwarded", "X-Forwarded-For", "X-Forwarded-Host",
    "X-Forwarded-Proto", "traceparent", "tracestate", NULL
};

/* ---- directive handlers ------------------------------------------------- */

static const char *set_enabled(cmd_parms *cmd, void *dc, int on)
{
    srv_conf(cmd)->enabled = on;
    return NULL;
}

static const char *set_header(cmd_parms *cmd, void *dc, int argc,
                              char *const argv[])
{
    gk_log_srv_conf_t *c = srv_conf(cmd);
    apr_array_header_t *aliases = NULL;
    int i, j;

    if (argc < 1) {
        return gk_ap_cmd_error(cmd, "needs a header name, then optional "
                               "aliases");
    }
    if (argc > GK_LOG_MAX_NAMES) {
        return gk_ap_cmd_error(cmd, "takes at most %d names (the header "
                               "and %d aliases)", GK_LOG_MAX_NAMES,
                               GK_LOG_MAX_NAMES - 1);
    }
    for (i = 0; i < argc; i++) {
        if (!is_token(argv[i])) {
            return gk_ap_cmd_error(cmd, "'%s' is not a valid header name "
                                   "(an RFC 9110 token)", argv[i]);
        }
        for (j = 0; reserved_names[j]; j++) {
            if (gk_log_same_name(argv[i], reserved_names[j])) {
                return gk_ap_cmd_error(cmd, "header '%s' cannot carry the "
                                       "correlation ID", argv[i]);
            }
        }
        for (j = 0; j < i; j++) {
            if (gk_log_same_name(argv[i], argv[j])) {
                return gk_ap_cmd_error(cmd, "'%s' and '%s' are the same "
                                       "header to a backend", argv[j],
                                       argv[i]);
            }
        }
    }
    if (argc > 1) {
        aliases = apr_array_make(cmd->pool, argc - 1, sizeof(const char *));
        for (i = 1; i < argc; i++) {
            APR_ARRAY_PUSH(aliases, const char *) = argv[i];
        }
    }
    c->header = argv[0];
    c->aliases = aliases;
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

static const char *set_format(cmd_parms *cmd, void *dc, const char *arg)
{
    gk_log_srv_conf_t *c = srv_conf(cmd);

    if (!strcasecmp(arg, "uuid7")) {
        c->format = GK_LOG_FMT_UUID7;
    }
    else if (!strcasecmp(arg, "uuid4")) {
        c->format = GK_LOG_FMT_UUID4;
    }
    else {
        return gk_ap_cmd_error(cmd, "'%s': use 'uuid7' or 'uuid4'", arg);
    }
    return NULL;
}

static const char *set_traceparent(cmd_parms *cmd, void *dc, const char *arg)
{
    gk_log_srv_conf_t *c = srv_conf(cmd);

    if (!strcasecmp(arg, "propagate")) {
        c->traceparent = GK_LOG_TP_PROPAGATE;
    }
    else if (!strcasecmp(arg, "generate")) {
        c->traceparent = GK_LOG_TP_GENERATE;
    }
    else if (!strcasecmp(arg, "off")) {
        c->traceparent = GK_LOG_TP_OFF;
    }
    else {
        return gk_ap_cmd_error(cmd, "'%s': use 'propagate', 'generate' or "
                               "'off'", arg);
    }
    return NULL;
}

const command_rec gk_log_cmds[] = {
    AP_INIT_FLAG("GKCorrelation", set_enabled, NULL, RSRC_CONF,
                 "Whether requests get a correlation ID: On or Off"),
    AP_INIT_TAKE_ARGV("GKCorrelationHeader", set_header, NULL, RSRC_CONF,
                      "The header that carries the correlation ID, then "
                      "aliases also accepted on input"),
    AP_INIT_TAKE_ARGV("GKCorrelationTrust", set_trust, NULL, RSRC_CONF,
                      "Peers whose correlation IDs and traceparent are "
                      "kept: all, none, or addresses and networks"),
    AP_INIT_TAKE1("GKCorrelationFormat", set_format, NULL, RSRC_CONF,
                  "The format of generated correlation IDs: uuid7 or uuid4"),
    AP_INIT_TAKE1("GKTraceparent", set_traceparent, NULL, RSRC_CONF,
                  "What happens to W3C traceparent: propagate, generate "
                  "or off"),
    {NULL}
};
