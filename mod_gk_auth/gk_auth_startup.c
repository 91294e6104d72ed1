/*
 * mod_gk_auth startup checks (the check_config hook, so `apache2 -t` runs
 * them too): AuthType gk-bearer where no GKAuthKey or GKAuthKeySet can ever
 * apply is refused before a request meets it.
 *
 * Where httpd keeps sections (server/core.c): core_server_config's sec_dir
 * holds <Directory> and <DirectoryMatch>, its sec_url <Location> and
 * <LocationMatch> (a virtual host's list is the main server's followed by
 * its own); a section's core_dir_config holds the <Files> (sec_file) and
 * <If> (sec_if) sections nested in it, and the server's defaults
 * (lookup_defaults) those at server level. mod_proxy keeps <Proxy> in its
 * own sec_proxy. A request merges the defaults, then the matching
 * directories and files (or proxy sections), then every matching location
 * in order, then the <If> sections (server/request.c); a merge never drops
 * keys.
 *
 * Two rules:
 *   GK10040  a server (the main one or a virtual host) uses AuthType
 *            gk-bearer and has no key at all;
 *   GK10041  in a server that receives requests (the main server only when
 *            some Listen address has no virtual host), a <Location> that is
 *            neither a regex nor a wildcard sets AuthType gk-bearer, it
 *            still applies at the request for its own path, and no key can
 *            reach a request it matches: none in the server's defaults, in
 *            a <Directory>, <Files>, <If> or <Proxy> section, in a regex or
 *            wildcard <Location>, nor in a <Location> whose path overlaps
 *            its path.
 * AuthType values are read through mod_authn_core for a request made up
 * here, which only works for constant strings: when any AuthType is an
 * expression, neither rule runs. Everything else is left to request time
 * (GK10005 in gk_auth_authn.c).
 */
#include "apr_fnmatch.h"
#include "apr_strings.h"

#include "ap_listen.h"
#include "http_core.h"
#include "mod_proxy.h"
#include "util_cfgtree.h"

#include "gk_auth_private.h"

typedef struct {
    apr_pool_t *p;
    APR_OPTIONAL_FN_TYPE(authn_ap_auth_type) *auth_type;
    module *authn_core;
    module *proxy;
} check_t;

/* ---- what a configuration vector holds --------------------------------- */

static int has_ring(ap_conf_vector_t *v)
{
    gk_auth_dir_conf_t *c = ap_get_module_config(v, &gk_auth_module);
    return c && c->ring;
}

static int any_nested_ring(const apr_array_header_t *sections);

/* A key in v or in a <Files> or <If> section nested in it. */
static int nested_ring(ap_conf_vector_t *v)
{
    core_dir_config *core = ap_get_core_module_config(v);

    return has_ring(v)
           || (core && (any_nested_ring(core->sec_file)
                        || any_nested_ring(core->sec_if)));
}

static int any_nested_ring(const apr_array_header_t *sections)
{
    int i;

    for (i = 0; sections && i < sections->nelts; i++) {
        if (nested_ring(APR_ARRAY_IDX(sections, i, ap_conf_vector_t *))) {
            return 1;
        }
    }
    return 0;
}

/* The AuthType that applies in v, as mod_authn_core answers it for a
 * request; v must hold mod_authn_core's configuration. Only called when no
 * AuthType of the configuration is an expression: evaluating one needs a
 * real request and connection. */
static const char *auth_type_in(const check_t *ck, server_rec *s,
                                ap_conf_vector_t *v)
{
    request_rec r;

    memset(&r, 0, sizeof(r));
    r.pool = ck->p;
    r.server = s;
    r.per_dir_config = v;
    return ck->auth_type(&r);
}

static int is_bearer(const char *type)
{
    return type && !strcasecmp(type, GK_AUTH_TYPE);
}

/* AuthType gk-bearer applies in section (NULL: the server's defaults),
 * merged only with the server's defaults. */
static int uses_bearer(const check_t *ck, server_rec *s,
                       ap_conf_vector_t *section)
{
    return is_bearer(auth_type_in(ck, s, section
                                      ? ap_merge_per_dir_configs(
                                            ck->p, s->lookup_defaults,
                                            section)
                                      : s->lookup_defaults));
}

/* The section itself says AuthType gk-bearer. */
static int sets_bearer(const check_t *ck, server_rec *s,
                       ap_conf_vector_t *section)
{
    return ck->authn_core
           && ap_get_module_config(section, ck->authn_core)
           && is_bearer(auth_type_in(ck, s, section));
}

/* ---- locations, as ap_location_walk() matches them ---------------------- */

static int literal_location(const core_dir_config *e)
{
    return !e->r && !e->d_is_fnmatch;
}

static int location_matches(const core_dir_config *e, const char *uri)
{
    apr_size_t len;

    if (e->r) {
        return !ap_regexec(e->r, uri, 0, NULL, 0);
    }
    if (e->d_is_fnmatch) {
        return apr_fnmatch(e->d, uri, APR_FNM_PATHNAME) == APR_SUCCESS;
    }
    len = strlen(e->d);
    return !strncmp(e->d, uri, len)
           && (len == 0 || e->d[len - 1] == '/' || uri[len] == '/'
               || uri[len] == '\0');
}

/* Whether one URI matches both literal paths: a URI matches path p when it
 * begins with p and, unless p ends in '/', p is followed by '/' or by
 * nothing. So /api and /api/v1 overlap, /api and /apix do not. */
static int paths_overlap(const char *a, const char *b)
{
    apr_size_t la = strlen(a), lb = strlen(b);

    if (la > lb) {
        const char *t = a;
        a = b;
        b = t;
        la = lb;
    }
    return !strncmp(a, b, la)
           && (la == 0 || a[la - 1] == '/' || b[la] == '/' || b[la] == '\0');
}

/* A path that is a request's r->uri as the location walk sees it (decoded,
 * with no empty, "." or ".." segment); other paths never match a request,
 * or we cannot tell which, and are left alone. */
static int plain_uri_path(const char *d)
{
    apr_size_t n = strlen(d);

    if (d[0] != '/' || strchr(d, '%') || strstr(d, "//")
        || strstr(d, "/./") || strstr(d, "/../")) {
        return 0;
    }
    return !(n >= 2 && !strcmp(d + n - 2, "/."))
           && !(n >= 3 && !strcmp(d + n - 3, "/.."));
}

/* ---- which servers serve requests --------------------------------------- */

static int vhost_covers(server_rec *s, const apr_sockaddr_t *la)
{
    for (; s; s = s->next) {
        server_addr_rec *sar;
        for (sar = s->addrs; sar; sar = sar->next) {
            if (!sar->host_addr
                || (sar->host_port && sar->host_port != la->port)) {
                continue;
            }
            if (apr_sockaddr_is_wildcard(sar->host_addr)
                || apr_sockaddr_equal(sar->host_addr, la)) {
                return 1;
            }
        }
    }
    return 0;
}

/* The main server answers connections to a Listen address that no virtual
 * host covers (server/vhost.c); when every address has one, the main
 * server's own configuration never serves a request. */
static int main_server_serves(server_rec *main_server)
{
    ap_listen_rec *lr;

    if (!ap_listeners) {
        return 1;
    }
    for (lr = ap_listeners; lr; lr = lr->next) {
        if (lr->bind_addr && !vhost_covers(main_server->next, lr->bind_addr)) {
            return 1;
        }
    }
    return 0;
}

/* ---- the configuration tree: expressions, and where a section is -------- */

/* An AuthType that is an expression (ap_expr string with %{...}, $N or an
 * escape) anywhere: such a value is only known for a real request. */
static int dynamic_auth_type(const ap_directive_t *n)
{
    for (; n; n = n->next) {
        if (n->directive && !strcasecmp(n->directive, "AuthType")
            && n->args && strpbrk(n->args, "%$\\")) {
            return 1;
        }
        if (n->first_child && dynamic_auth_type(n->first_child)) {
            return 1;
        }
    }
    return 0;
}

typedef struct {
    apr_pool_t *p;
    const char *path;           /* core_dir_config's d */
    const char *vhost_file;     /* the virtual host's definition, or NULL */
    int vhost_line;
    int skip;                   /* same-path sections before it in scope */
    const ap_directive_t *found;
} loc_search_t;

static int in_scope(const ap_directive_t *vhost, const loc_search_t *ls)
{
    if (!vhost || !ls->vhost_file) {
        return !vhost && !ls->vhost_file;
    }
    return vhost->line_num == ls->vhost_line && vhost->filename
           && !strcmp(vhost->filename, ls->vhost_file);
}

/* The path a <Location> node names, parsed as core.c's urlsection() does. */
static const char *section_path(apr_pool_t *p, const ap_directive_t *n)
{
    const char *end = n->args ? ap_strrchr_c(n->args, '>') : NULL;
    const char *args;

    if (!end) {
        return NULL;
    }
    args = apr_pstrmemdup(p, n->args, (apr_size_t)(end - n->args));
    return ap_getword_conf(p, &args);
}

static void find_location(const ap_directive_t *n,
                          const ap_directive_t *vhost, loc_search_t *ls)
{
    for (; n && !ls->found; n = n->next) {
        const char *path;

        if (!n->directive) {
            continue;
        }
        if (!strcasecmp(n->directive, "<VirtualHost")) {
            find_location(n->first_child, n, ls);
            continue;
        }
        if (!strcasecmp(n->directive, "<Location") && in_scope(vhost, ls)
            && (path = section_path(ls->p, n)) && !strcmp(path, ls->path)) {
            if (ls->skip-- == 0) {
                ls->found = n;
            }
            continue;
        }
        find_location(n->first_child, vhost, ls);
    }
}

/* " (defined at FILE:LINE)" for the idx-th entry of s's sec_url, or "". */
static const char *location_defined_at(apr_pool_t *p, server_rec *s,
                                       const apr_array_header_t *sec_url,
                                       int main_count, int idx)
{
    core_dir_config *e = ap_get_core_module_config(
        APR_ARRAY_IDX(sec_url, idx, ap_conf_vector_t *));
    int from_main = !s->is_virtual || idx < main_count;
    loc_search_t ls = {p, e->d, NULL, 0, 0, NULL};
    int i;

    if (!from_main) {
        ls.vhost_file = s->defn_name;
        ls.vhost_line = s->defn_line_number;
    }
    for (i = from_main ? 0 : main_count; i < idx; i++) {
        core_dir_config *o = ap_get_core_module_config(
            APR_ARRAY_IDX(sec_url, i, ap_conf_vector_t *));
        if (!o->r && !strcmp(o->d, e->d)) {
            ls.skip++;
        }
    }
    find_location(ap_conftree, NULL, &ls);
    if (!ls.found || !ls.found->filename) {
        return "";
    }
    return apr_psprintf(p, " (defined at %s:%d)", ls.found->filename,
                        ls.found->line_num);
}

/* ---- the checks ----------------------------------------------------------- */

static const char *server_name(apr_pool_t *p, server_rec *s)
{
    return s->is_virtual ? apr_psprintf(p, "the virtual host defined at "
                                        "%s:%d", s->defn_name,
                                        s->defn_line_number)
                         : "the main server";
}

static apr_array_header_t *proxy_sections(const check_t *ck, server_rec *s)
{
    proxy_server_conf *pc;

    if (!ck->proxy) {
        return NULL;
    }
    pc = ap_get_module_config(s->module_config, ck->proxy);
    return pc ? pc->sec_proxy : NULL;
}

/* Keys that may reach any request of s, wherever its URI maps: in the
 * defaults' <Files> and <If>, in any <Directory> (and what it nests), in
 * any <Proxy>, in a regex or wildcard <Location>, in an <If> anywhere. */
static int keys_anywhere(const check_t *ck, server_rec *s,
                         const apr_array_header_t *sec_url)
{
    core_server_config *core = ap_get_core_module_config(s->module_config);
    core_dir_config *dflt = ap_get_core_module_config(s->lookup_defaults);
    int i;

    if (any_nested_ring(dflt->sec_file) || any_nested_ring(dflt->sec_if)
        || any_nested_ring(core->sec_dir)
        || any_nested_ring(proxy_sections(ck, s))) {
        return 1;
    }
    for (i = 0; sec_url && i < sec_url->nelts; i++) {
        ap_conf_vector_t *sec = APR_ARRAY_IDX(sec_url, i, ap_conf_vector_t *);
        core_dir_config *e = ap_get_core_module_config(sec);
        if ((!literal_location(e) && has_ring(sec))
            || any_nested_ring(e->sec_file) || any_nested_ring(e->sec_if)) {
            return 1;
        }
    }
    return 0;
}

/* GK10040: a server that uses AuthType gk-bearer without any key. */
static int check_any_key(const check_t *ck, server_rec *s)
{
    core_server_config *core = ap_get_core_module_config(s->module_config);
    apr_array_header_t *lists[2] = {core->sec_dir, core->sec_url};
    int i, j, keys = has_ring(s->lookup_defaults);
    int bearer = uses_bearer(ck, s, NULL);

    keys = keys || keys_anywhere(ck, s, core->sec_url);
    for (i = 0; i < 2; i++) {
        for (j = 0; lists[i] && j < lists[i]->nelts; j++) {
            ap_conf_vector_t *sec = APR_ARRAY_IDX(lists[i], j,
                                                  ap_conf_vector_t *);
            keys = keys || has_ring(sec);
            bearer = bearer || uses_bearer(ck, s, sec);
        }
    }
    if (bearer && !keys) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, s,
                     GKLOGNO(10040) "AuthType %s is used in %s but no "
                     "GKAuthKey or GKAuthKeySet is configured there",
                     GK_AUTH_TYPE, server_name(ck->p, s));
        return 0;
    }
    return 1;
}

/* At the request whose URI is uri, merged as ap_location_walk() merges the
 * locations onto the defaults: AuthType gk-bearer applies and no key. */
static int bearer_without_key_at(const check_t *ck, server_rec *s,
                                 const apr_array_header_t *sec_url,
                                 const char *uri)
{
    ap_conf_vector_t *merged = s->lookup_defaults;
    int i;

    for (i = 0; i < sec_url->nelts; i++) {
        ap_conf_vector_t *sec = APR_ARRAY_IDX(sec_url, i, ap_conf_vector_t *);
        if (location_matches(ap_get_core_module_config(sec), uri)) {
            merged = ap_merge_per_dir_configs(ck->p, merged, sec);
        }
    }
    return is_bearer(auth_type_in(ck, s, merged)) && !has_ring(merged);
}

/* GK10041: each literal <Location> with AuthType gk-bearer that no key can
 * reach. Returns the number refused. */
static int check_locations(const check_t *ck, server_rec *s, int main_count)
{
    core_server_config *core = ap_get_core_module_config(s->module_config);
    apr_array_header_t *sec_url = core->sec_url;
    int i, j, refused = 0;

    if (!sec_url || has_ring(s->lookup_defaults)
        || keys_anywhere(ck, s, sec_url)) {
        return 0;
    }
    for (i = 0; i < sec_url->nelts; i++) {
        ap_conf_vector_t *sec = APR_ARRAY_IDX(sec_url, i, ap_conf_vector_t *);
        core_dir_config *e = ap_get_core_module_config(sec);
        int reached = has_ring(sec);

        if (reached || !literal_location(e) || !plain_uri_path(e->d)
            || !sets_bearer(ck, s, sec)) {
            continue;
        }
        for (j = 0; j < sec_url->nelts && !reached; j++) {
            ap_conf_vector_t *o = APR_ARRAY_IDX(sec_url, j,
                                                ap_conf_vector_t *);
            core_dir_config *oe = ap_get_core_module_config(o);
            reached = has_ring(o) && literal_location(oe)
                      && paths_overlap(oe->d, e->d);
        }
        if (reached || !bearer_without_key_at(ck, s, sec_url, e->d)) {
            continue;
        }
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, s,
                     GKLOGNO(10041) "<Location %s>%s uses AuthType %s, but "
                     "no GKAuthKey or GKAuthKeySet reaches it in %s (none in "
                     "the server's defaults, in a <Directory>, <Files>, <If> "
                     "or <Proxy> section, in a regex or wildcard <Location>, "
                     "nor in a <Location> whose path overlaps %s): add a key "
                     "to this <Location>, to one whose path is a prefix of "
                     "it, or to the server",
                     e->d, location_defined_at(ck->p, s, sec_url, main_count,
                                               i),
                     GK_AUTH_TYPE, server_name(ck->p, s), e->d);
        refused++;
    }
    return refused;
}

int gk_auth_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                         apr_pool_t *ptemp, server_rec *s)
{
    check_t ck;
    server_rec *main_server = s;
    core_server_config *main_core =
        ap_get_core_module_config(s->module_config);
    int main_count = main_core->sec_url ? main_core->sec_url->nelts : 0;
    int serves = main_server_serves(main_server), refused = 0;

    if (gk_auth_revoke_check_config(ptemp, s) != OK) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    ck.p = ptemp;
    ck.auth_type = APR_RETRIEVE_OPTIONAL_FN(authn_ap_auth_type);
    ck.authn_core = ap_find_linked_module("mod_authn_core.c");
    ck.proxy = ap_find_linked_module("mod_proxy.c");
    if (!ck.auth_type || !ap_conftree || dynamic_auth_type(ap_conftree)) {
        /* mod_authn_core is not loaded (AuthType is unknown), or an
         * AuthType is an expression: left to request time */
        return OK;
    }
    for (; s; s = s->next) {
        if (!check_any_key(&ck, s)) {
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        if (s != main_server || serves) {
            refused += check_locations(&ck, s, main_count);
        }
    }
    return refused ? HTTP_INTERNAL_SERVER_ERROR : OK;
}
