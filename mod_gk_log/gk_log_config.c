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

#include "gk_http.h"
#include "gk_log_private.h"

/* ---- create, merge, getters ------------------------------------------- */

void *gk_log_create_srv_conf(apr_pool_t *p, server_rec *s)
{
    gk_log_srv_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->enabled = GK_UNSET;
    c->format = GK_UNSET;
    c->traceparent = GK_UNSET;
    c->max_line = GK_UNSET;
    c->buffer = GK_UNSET;
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
        c->names = add->names;
    }
    else {
        c->header = base->header;
        c->names = base->names;
    }
    c->trust = GK_MERGE_PTR(base, add, trust);
    c->format = GK_MERGE_INT(base, add, format);
    c->traceparent = GK_MERGE_INT(base, add, traceparent);
    /* a virtual host with GKLog lines has those only */
    c->logs = GK_MERGE_PTR(base, add, logs);
    c->max_line = GK_MERGE_INT(base, add, max_line);
    c->redact_query = GK_MERGE_PTR(base, add, redact_query);
    c->redact_headers = gk_ap_merge_list(p, base->redact_headers,
                                         add->redact_headers);
    c->audit = GK_MERGE_PTR(base, add, audit);
    c->errlog = base->errlog;       /* the main server's alone */
    c->buffer = base->buffer;
    c->fields = base->fields && add->fields
                    ? apr_array_append(p, base->fields, add->fields)
                    : GK_MERGE_PTR(base, add, fields);
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

const char *gk_log_correlation_header(server_rec *s)
{
    const gk_log_srv_conf_t *c = gk_log_srv_conf(s);

    return gk_log_conf_enabled(c) ? gk_log_conf_header(c) : NULL;
}

static apr_array_header_t *default_names;

void gk_log_conf_init_defaults(apr_pool_t *p)
{
    default_names = apr_array_make(p, 1, sizeof(const char *));
    APR_ARRAY_PUSH(default_names, const char *) = GK_LOG_DEFAULT_HEADER;
}

const apr_array_header_t *gk_log_conf_names(const gk_log_srv_conf_t *c)
{
    return c->header ? c->names : default_names;
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

int gk_log_conf_max_line(const gk_log_srv_conf_t *c)
{
    return GK_GET_INT(c, max_line, GK_LOG_MAX_LINE_DEFAULT);
}

const apr_array_header_t *gk_log_conf_redact_query(const gk_log_srv_conf_t *c)
{
    /* GK_REDACT_DEFAULT_QUERY, as a list */
    static const char *const names[] = {
        "access_token", "token", "id_token", "refresh_token", "code",
        "password", "secret", "client_secret", "api_key"
    };
    static const apr_array_header_t dflt = {
        NULL, sizeof(const char *), sizeof(names) / sizeof(names[0]),
        sizeof(names) / sizeof(names[0]), (char *)names
    };

    return c->redact_query ? c->redact_query : &dflt;
}

/* Headers whose values never reach a log line, whatever the settings. */
static const char *const secret_headers[] = {
    "Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", NULL
};

int gk_log_conf_header_redacted(const gk_log_srv_conf_t *c,
                                const char *name)
{
    int i;

    for (i = 0; secret_headers[i]; i++) {
        if (gk_http_header_same(name, secret_headers[i])) {
            return 1;
        }
    }
    for (i = 0; c->redact_headers && i < c->redact_headers->nelts; i++) {
        if (gk_http_header_same(name, APR_ARRAY_IDX(c->redact_headers, i,
                                                 const char *))) {
            return 1;
        }
    }
    return 0;
}

/* ---- helpers ------------------------------------------------------------ */

static gk_log_srv_conf_t *srv_conf(cmd_parms *cmd)
{
    return ap_get_module_config(cmd->server->module_config, &gk_log_module);
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
    apr_array_header_t *names;
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
        if (!gk_http_is_token(argv[i])) {
            return gk_ap_cmd_error(cmd, "'%s' is not a valid header name "
                                   "(an RFC 9110 token)", argv[i]);
        }
        for (j = 0; reserved_names[j]; j++) {
            if (gk_http_header_same(argv[i], reserved_names[j])) {
                return gk_ap_cmd_error(cmd, "header '%s' cannot carry the "
                                       "correlation ID", argv[i]);
            }
        }
        for (j = 0; j < i; j++) {
            if (gk_http_header_same(argv[i], argv[j])) {
                return gk_ap_cmd_error(cmd, "'%s' and '%s' are the same "
                                       "header to a backend", argv[j],
                                       argv[i]);
            }
        }
    }
    names = apr_array_make(cmd->pool, argc, sizeof(const char *));
    for (i = 0; i < argc; i++) {
        APR_ARRAY_PUSH(names, const char *) = argv[i];
    }
    c->header = argv[0];
    c->names = names;
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
    static const gk_ap_keyword_t formats[] = {
        {"uuid7", GK_LOG_FMT_UUID7}, {"uuid4", GK_LOG_FMT_UUID4}, {NULL, 0}
    };

    if (!gk_ap_keyword(arg, formats, &srv_conf(cmd)->format)) {
        return gk_ap_cmd_error(cmd, "'%s': use 'uuid7' or 'uuid4'", arg);
    }
    return NULL;
}

static const char *set_traceparent(cmd_parms *cmd, void *dc, const char *arg)
{
    static const gk_ap_keyword_t modes[] = {
        {"propagate", GK_LOG_TP_PROPAGATE},
        {"generate", GK_LOG_TP_GENERATE},
        {"off", GK_LOG_TP_OFF},
        {NULL, 0}
    };

    if (!gk_ap_keyword(arg, modes, &srv_conf(cmd)->traceparent)) {
        return gk_ap_cmd_error(cmd, "'%s': use 'propagate', 'generate' or "
                               "'off'", arg);
    }
    return NULL;
}


/* ---- the JSON logs ------------------------------------------------------ */

/* A destination: a file (relative to ServerRoot) or "|program" (httpd's
 * piped-log syntax: "|prog" and "||prog" run the program directly, "|$cmd"
 * through the shell). */
static const char *parse_dest(cmd_parms *cmd, const char *spec,
                              gk_log_dest_t **out)
{
    gk_log_dest_t *d = apr_pcalloc(cmd->pool, sizeof(*d));

    d->spec = spec;
    d->where = gk_ap_where(cmd);
    if (*spec == '|') {
        const char *prog = spec + 1;
        d->is_pipe = 1;
        d->cmdtype = APR_PROGRAM_ENV;
        if (*prog == '|') {
            prog++;
        }
        else if (*prog == '$') {
            d->cmdtype = APR_SHELLCMD_ENV;
            prog++;
        }
        while (apr_isspace(*prog)) {
            prog++;
        }
        if (!*prog) {
            return gk_ap_cmd_error(cmd, "'%s': no program after '|'", spec);
        }
        d->path = prog;
    }
    else {
        if (!*spec) {
            return gk_ap_cmd_error(cmd, "needs a file or \"|program\"");
        }
        d->path = ap_server_root_relative(cmd->pool, spec);
        if (!d->path) {
            return gk_ap_cmd_error(cmd, "'%s': not a valid path", spec);
        }
    }
    *out = d;
    return NULL;
}

static const char *set_log(cmd_parms *cmd, void *dc, const char *spec,
                           const char *cond)
{
    gk_log_srv_conf_t *c = srv_conf(cmd);
    gk_log_dest_t *d;
    const char *e = parse_dest(cmd, spec, &d);

    if (e) {
        return e;
    }
    if (cond) {
        if (!strncasecmp(cond, "env=", 4)) {
            const char *v = cond + 4;
            if (*v == '!') {
                d->env_negate = 1;
                v++;
            }
            if (!*v) {
                return gk_ap_cmd_error(cmd, "'%s': no variable after "
                                       "env=", cond);
            }
            d->env = v;
        }
        else if (!strncasecmp(cond, "expr=", 5)) {
            const char *err = NULL;
            d->expr = ap_expr_parse_cmd(cmd, cond + 5, 0, &err, NULL);
            if (err) {
                return gk_ap_cmd_error(cmd, "cannot parse '%s': %s",
                                       cond + 5, err);
            }
        }
        else {
            return gk_ap_cmd_error(cmd, "'%s': the condition is "
                                   "env=[!]VAR or expr=EXPRESSION", cond);
        }
    }
    if (!c->logs) {
        c->logs = apr_array_make(cmd->pool, 2, sizeof(gk_log_dest_t *));
    }
    APR_ARRAY_PUSH(c->logs, gk_log_dest_t *) = d;
    return NULL;
}

static const char *set_audit(cmd_parms *cmd, void *dc, const char *spec)
{
    return parse_dest(cmd, spec, &srv_conf(cmd)->audit);
}

static const char *set_errlog(cmd_parms *cmd, void *dc, const char *spec)
{
    if (cmd->server->is_virtual) {
        return gk_ap_cmd_error(cmd, "belongs to the main server, not in "
                               "<VirtualHost>");
    }
    return parse_dest(cmd, spec, &srv_conf(cmd)->errlog);
}

static const char *set_buffer(cmd_parms *cmd, void *dc, const char *arg)
{
    gk_log_srv_conf_t *c = srv_conf(cmd);
    int n;
    const char *e;

    if (cmd->server->is_virtual) {
        return gk_ap_cmd_error(cmd, "belongs to the main server, not in "
                               "<VirtualHost>");
    }
    if ((e = gk_ap_parse_int(cmd, arg, 0, GK_LOG_BUFFER_MAX, &n))) {
        return e;
    }
    c->buffer = n;
    return NULL;
}

static const gk_ap_int_slot_t max_line_slot =
    GK_AP_INT_SLOT(gk_log_srv_conf_t, max_line, GK_LOG_MAX_LINE_MIN,
                   GK_LOG_MAX_LINE_MAX);

static const char *set_max_line(cmd_parms *cmd, void *dc, const char *arg)
{
    return gk_ap_set_int_slot(cmd, srv_conf(cmd), arg);
}

/* A query parameter name: printable ASCII without the characters that
 * separate parameters; kept lower case (names match without case). */
static const char *set_redact_query(cmd_parms *cmd, void *dc, int argc,
                                    char *const argv[])
{
    gk_log_srv_conf_t *c = srv_conf(cmd);
    apr_array_header_t *a;
    int i;

    if (argc < 1) {
        return gk_ap_cmd_error(cmd, "needs one or more parameter names, "
                               "or 'none'");
    }
    a = apr_array_make(cmd->pool, argc, sizeof(const char *));
    if (argc == 1 && !strcasecmp(argv[0], "none")) {
        c->redact_query = a;
        return NULL;
    }
    for (i = 0; i < argc; i++) {
        char *n = apr_pstrdup(cmd->pool, argv[i]);
        const char *q;
        for (q = n; *q; q++) {
            if (*q <= 0x20 || *q >= 0x7f || strchr("&;=#%", *q)) {
                return gk_ap_cmd_error(cmd, "'%s' is not a query parameter "
                                       "name", argv[i]);
            }
        }
        ap_str_tolower(n);
        APR_ARRAY_PUSH(a, const char *) = n;
    }
    c->redact_query = a;
    return NULL;
}

static const char *set_redact_header(cmd_parms *cmd, void *dc, int argc,
                                     char *const argv[])
{
    gk_log_srv_conf_t *c = srv_conf(cmd);
    int i;

    if (argc < 1) {
        return gk_ap_cmd_error(cmd, "needs one or more header names");
    }
    if (!c->redact_headers) {
        c->redact_headers = apr_array_make(cmd->pool, argc,
                                           sizeof(const char *));
    }
    for (i = 0; i < argc; i++) {
        if (!gk_http_is_token(argv[i])) {
            return gk_ap_cmd_error(cmd, "'%s' is not a valid header name "
                                   "(an RFC 9110 token)", argv[i]);
        }
        APR_ARRAY_PUSH(c->redact_headers, const char *) = argv[i];
    }
    return NULL;
}

/* GKLogField NAME SOURCE[:int]: SOURCE is header:X, note:X or env:X. */
static const char *set_field(cmd_parms *cmd, void *dc, const char *name,
                             const char *source)
{
    gk_log_srv_conf_t *c = srv_conf(cmd);
    gk_log_field_t *f;
    const char *q, *colon;
    char *key;
    apr_size_t n;

    for (q = name; *q; q++) {
        if (!apr_isalnum(*q) && *q != '_' && *q != '-') {
            break;
        }
    }
    if (!*name || *q || strlen(name) > 64) {
        return gk_ap_cmd_error(cmd, "'%s': a field name is 1 to 64 of "
                               "A-Z a-z 0-9 _ -", name);
    }
    if (!c->fields) {
        c->fields = apr_array_make(cmd->pool, 4, sizeof(gk_log_field_t));
    }
    f = apr_array_push(c->fields);
    memset(f, 0, sizeof(*f));
    f->name = name;
    if (!strncasecmp(source, "header:", 7)) {
        f->src = GK_LOG_SRC_HEADER;
    }
    else if (!strncasecmp(source, "note:", 5)) {
        f->src = GK_LOG_SRC_NOTE;
    }
    else if (!strncasecmp(source, "env:", 4)) {
        f->src = GK_LOG_SRC_ENV;
    }
    else {
        return gk_ap_cmd_error(cmd, "'%s': the source is header:NAME, "
                               "note:NAME or env:NAME, then optionally "
                               ":int", source);
    }
    key = apr_pstrdup(cmd->pool, strchr(source, ':') + 1);
    n = strlen(key);
    if (n > 4 && !strcasecmp(key + n - 4, ":int")) {
        f->as_int = 1;
        key[n - 4] = 0;
    }
    else if ((colon = strrchr(key, ':')) && strcasecmp(colon, ":string")
             == 0) {
        key[colon - key] = 0;
    }
    if (!*key || (f->src == GK_LOG_SRC_HEADER && !gk_http_is_token(key))) {
        return gk_ap_cmd_error(cmd, "'%s': no valid name after the "
                               "source", source);
    }
    f->key = key;
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
    AP_INIT_TAKE12("GKLog", set_log, NULL, RSRC_CONF,
                   "A JSON access log: a file or \"|program\", then "
                   "optionally env=[!]VAR or expr=EXPRESSION"),
    AP_INIT_TAKE1("GKLogMaxLine", set_max_line, (void *)&max_line_slot,
                  RSRC_CONF,
                  "The longest JSON log line in bytes, newline included "
                  "(1024 to 65536; at most 4096 for a piped log)"),
    AP_INIT_TAKE_ARGV("GKLogRedactQuery", set_redact_query, NULL, RSRC_CONF,
                      "Query parameters whose values the JSON logs "
                      "replace by REDACTED, or none"),
    AP_INIT_TAKE_ARGV("GKLogRedactHeader", set_redact_header, NULL,
                      RSRC_CONF,
                      "Headers whose values the JSON logs never show, "
                      "besides Authorization, Proxy-Authorization, Cookie "
                      "and Set-Cookie"),
    AP_INIT_TAKE1("GKAuditLog", set_audit, NULL, RSRC_CONF,
                  "Where audit events go: a file or \"|program\" (by "
                  "default, the GKLog access logs)"),
    AP_INIT_TAKE1("GKErrorLog", set_errlog, NULL, RSRC_CONF,
                  "A second error log, in JSON: a file or \"|program\""),
    AP_INIT_TAKE2("GKLogField", set_field, NULL, RSRC_CONF,
                  "An extra field of the JSON access log: a name, then "
                  "header:NAME, note:NAME or env:NAME, optionally "
                  "followed by :int"),
    AP_INIT_TAKE1("GKLogBuffer", set_buffer, NULL, RSRC_CONF,
                  "Bytes of GKLog lines each child keeps before writing "
                  "them, written at least once a second (0: every line "
                  "at once)"),
    {NULL}
};
