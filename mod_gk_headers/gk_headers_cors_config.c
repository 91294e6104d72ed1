/*
 * The CORS directives of mod_gk_headers: GKCORSAllowOrigin,
 * GKCORSAllowMethods, GKCORSAllowHeaders, GKCORSExposeHeaders,
 * GKCORSAllowCredentials, GKCORSMaxAge, GKCORSAllowPrivateNetwork.
 *
 * Each line becomes one immutable object, checked when it is read, so
 * that `apache2 -t` refuses what a start refuses: origins not written as
 * browsers send them, wildcards over a public suffix, "null", and the
 * combinations that open a scope to every site with the user's cookies
 * (credentials with "*", or with a plain-HTTP origin other than the
 * loopback). Two lines of one section are checked together whatever their
 * order; a combination formed only across sections (a <Location> that
 * turns credentials on below a server-wide "*") is found per request
 * (gk_headers_cors.c), which then sends no CORS header and says so in the
 * error log.
 *
 * Every directive is allowed in the server, virtual hosts, <Directory>,
 * <Location>, <Files> and in .htaccess under AllowOverride FileInfo (the
 * class of mod_headers' Header); a nested scope replaces the parent's
 * line.
 */
#include "apr_strings.h"

#include "gk_ap_logfns.h"
#include "gk_hdr.h"
#include "gk_headers_private.h"

/* GKCORSMaxAge's longest value: a day (browsers cap it lower anyway). */
#define GK_HEADERS_CORS_MAX_AGE 86400
/* The most entries a list takes. */
#define GK_HEADERS_CORS_LIST_MAX 64

enum { L_METHODS = 1, L_HEADERS, L_EXPOSE };
const int gk_headers_cors_methods_info = L_METHODS;
const int gk_headers_cors_headers_info = L_HEADERS;
const int gk_headers_cors_expose_info = L_EXPOSE;

/* ---- the checks of one section ---------------------------------------- */

/* The unsafe combination the lines of c form with credentials on, or
 * NULL. Called by every handler, so that the second line of a pair is
 * refused whichever comes first. */
static const char *unsafe_with_credentials(const gk_headers_dir_conf_t *c)
{
    if (!c->cors_credentials || !c->cors_credentials->on) {
        return NULL;
    }
    if (c->cors_origins && c->cors_origins->any) {
        return "GKCORSAllowOrigin * with GKCORSAllowCredentials On would let "
               "every site read answers made with the user's cookies: list "
               "the origins";
    }
    if (c->cors_origins && c->cors_origins->plain_http) {
        return "a plain-HTTP origin with GKCORSAllowCredentials On: its "
               "pages can be changed on the way by anyone on the network "
               "(only http://localhost, http://127.0.0.1 and http://[::1] "
               "are accepted, for development)";
    }
    if (c->cors_methods && c->cors_methods->any) {
        return "GKCORSAllowMethods * with GKCORSAllowCredentials On: "
               "browsers do not honour * with credentials; list the methods";
    }
    if (c->cors_headers && c->cors_headers->any) {
        return "GKCORSAllowHeaders * with GKCORSAllowCredentials On: "
               "browsers do not honour * with credentials; list the headers";
    }
    if (c->cors_expose && c->cors_expose->any) {
        return "GKCORSExposeHeaders * with GKCORSAllowCredentials On: "
               "browsers do not honour * with credentials; list the headers";
    }
    return NULL;
}

static const char *check_section(cmd_parms *cmd, const gk_headers_dir_conf_t *c)
{
    const char *e = unsafe_with_credentials(c);

    return e ? gk_ap_cmd_error(cmd, "%s", e) : NULL;
}

/* ---- GKCORSAllowOrigin ------------------------------------------------- */

const char *gk_headers_set_cors_origin(cmd_parms *cmd, void *dc, int argc,
                                       char *const argv[])
{
    gk_headers_dir_conf_t *c = dc;
    gk_headers_cors_origins_t *o;
    gk_cors_allowed_t *list;
    int i, j;

    if (argc < 1) {
        return gk_ap_cmd_error(cmd, "needs one or more origins, * or none");
    }
    if (argc > GK_HEADERS_CORS_LIST_MAX) {
        return gk_ap_cmd_error(cmd, "takes at most %d origins (use a "
                               "wildcard such as https://*.example.com)",
                               GK_HEADERS_CORS_LIST_MAX);
    }
    o = apr_pcalloc(cmd->pool, sizeof(*o));
    o->where = gk_ap_where(cmd);
    if (argc == 1 && !strcasecmp(argv[0], "none")) {
        o->none = 1;
        c->cors_origins = o;
        return NULL;
    }
    if (argc == 1 && !strcmp(argv[0], "*")) {
        o->any = 1;
        c->cors_origins = o;
        return check_section(cmd, c);
    }
    list = apr_pcalloc(cmd->pool, argc * sizeof(*list));
    for (i = 0; i < argc; i++) {
        const char *e;
        if (!strcmp(argv[i], "*") || !strcasecmp(argv[i], "none")) {
            return gk_ap_cmd_error(cmd, "'%s' stands alone, not in a list "
                                   "of origins", argv[i]);
        }
        if (!strcasecmp(argv[i], "null")) {
            return gk_ap_cmd_error(cmd, "'null' is refused: it is the "
                                   "origin of sandboxed frames, local files "
                                   "and redirects, which any site can "
                                   "produce");
        }
        e = gk_cors_allowed_parse(cmd->pool, argv[i], &list[i]);
        if (e) {
            return gk_ap_cmd_error(cmd, "%s", e);
        }
        if (list[i].wildcard && gk_cors_public_suffix(list[i].o.host)) {
            return gk_ap_cmd_error(cmd, "'%s' covers every site under the "
                                   "public suffix '%s' (Public Suffix "
                                   "List): name the domain you own, such "
                                   "as https://*.example.%s",
                                   argv[i], list[i].o.host, list[i].o.host);
        }
        if (!gk_cors_allowed_https(&list[i])
            && !gk_cors_allowed_loopback(&list[i])) {
            o->plain_http = 1;
        }
        for (j = 0; j < i; j++) {
            if (!strcmp(list[j].text, list[i].text)) {
                return gk_ap_cmd_error(cmd, "'%s' is listed twice",
                                       argv[i]);
            }
        }
    }
    o->list = list;
    o->n = argc;
    c->cors_origins = o;
    return check_section(cmd, c);
}

/* ---- GKCORSAllowMethods, GKCORSAllowHeaders, GKCORSExposeHeaders ------- */

static const char *list_name(int which)
{
    return which == L_METHODS   ? "methods"
           : which == L_HEADERS ? "request headers"
                                : "response headers";
}

const char *gk_headers_set_cors_list(cmd_parms *cmd, void *dc, int argc,
                                     char *const argv[])
{
    gk_headers_dir_conf_t *c = dc;
    int which = *(const int *)cmd->info;
    gk_headers_cors_list_t *l;
    const char **names;
    int i, j, n = 0;

    if (argc < 1) {
        return gk_ap_cmd_error(cmd, "needs one or more %s, or *",
                               list_name(which));
    }
    if (argc > GK_HEADERS_CORS_LIST_MAX) {
        return gk_ap_cmd_error(cmd, "takes at most %d %s",
                               GK_HEADERS_CORS_LIST_MAX, list_name(which));
    }
    l = apr_pcalloc(cmd->pool, sizeof(*l));
    l->where = gk_ap_where(cmd);
    names = apr_pcalloc(cmd->pool, argc * sizeof(*names));
    if (which == L_EXPOSE && argc == 1 && !strcasecmp(argv[0], "none")) {
        /* no Access-Control-Expose-Headers at all */
    }
    else {
        for (i = 0; i < argc; i++) {
            const char *a = argv[i];
            if (!strcmp(a, "*")) {
                l->any = 1;
                continue;
            }
            if (!gk_hdr_is_token(a)) {
                return gk_ap_cmd_error(cmd, "'%s' is not a %s (an RFC 9110 "
                                       "token)", a,
                                       which == L_METHODS ? "method"
                                                          : "header name");
            }
            for (j = 0; j < n; j++) {
                if (which == L_METHODS ? !strcmp(names[j], a)
                                       : !strcasecmp(names[j], a)) {
                    return gk_ap_cmd_error(cmd, "'%s' is listed twice", a);
                }
            }
            names[n++] = a;
        }
        if (l->any && n && which != L_HEADERS) {
            return gk_ap_cmd_error(cmd, "* stands alone: it already covers "
                                   "every %s", list_name(which));
        }
        if (l->any && n
            && !(n == 1 && !strcasecmp(names[0], "Authorization"))) {
            return gk_ap_cmd_error(cmd, "* covers every request header but "
                                   "Authorization: only Authorization may "
                                   "be listed beside it");
        }
    }
    l->list = names;
    l->n = n;
    if (l->any) {
        l->answer = n ? "*, Authorization" : "*";
    }
    else if (n) {
        char *s = apr_pstrdup(cmd->pool, names[0]);
        for (i = 1; i < n; i++) {
            s = apr_pstrcat(cmd->pool, s, ", ", names[i], NULL);
        }
        l->answer = s;
    }
    if (which == L_METHODS) {
        for (i = 0; i < n; i++) {
            const char *m = names[i];
            if (!strcasecmp(m, "CONNECT") || !strcasecmp(m, "TRACE")
                || !strcasecmp(m, "TRACK")) {
                return gk_ap_cmd_error(cmd, "'%s' is a forbidden method in "
                                       "the Fetch standard: browsers never "
                                       "send it", m);
            }
        }
        c->cors_methods = l;
    }
    else if (which == L_HEADERS) {
        c->cors_headers = l;
    }
    else {
        c->cors_expose = l;
    }
    return check_section(cmd, c);
}

/* ---- the flags and GKCORSMaxAge ------------------------------------------ */

const char *gk_headers_set_cors_credentials(cmd_parms *cmd, void *dc, int on)
{
    gk_headers_dir_conf_t *c = dc;
    gk_headers_cors_flag_t *f = apr_palloc(cmd->pool, sizeof(*f));

    f->on = on;
    f->where = gk_ap_where(cmd);
    c->cors_credentials = f;
    return check_section(cmd, c);
}

const char *gk_headers_set_cors_max_age(cmd_parms *cmd, void *dc,
                                        const char *arg)
{
    gk_headers_dir_conf_t *c = dc;
    const char *e;
    int v;

    if (!strcasecmp(arg, "none")) {
        c->cors_max_age = "";
        return NULL;
    }
    e = gk_ap_parse_int(cmd, arg, 0, GK_HEADERS_CORS_MAX_AGE, &v);
    if (e) {
        return e;
    }
    c->cors_max_age = apr_itoa(cmd->pool, v);
    return NULL;
}

const char *gk_headers_set_cors_private_network(cmd_parms *cmd, void *dc,
                                                int on)
{
    ((gk_headers_dir_conf_t *)dc)->cors_private_network = on;
    return NULL;
}

/* ---- merge and the default exposed headers --------------------------- */

void gk_headers_cors_merge(gk_headers_dir_conf_t *c,
                           const gk_headers_dir_conf_t *base,
                           const gk_headers_dir_conf_t *add)
{
    c->cors_origins = GK_MERGE_PTR(base, add, cors_origins);
    c->cors_methods = GK_MERGE_PTR(base, add, cors_methods);
    c->cors_headers = GK_MERGE_PTR(base, add, cors_headers);
    c->cors_expose = GK_MERGE_PTR(base, add, cors_expose);
    c->cors_credentials = GK_MERGE_PTR(base, add, cors_credentials);
    c->cors_max_age = GK_MERGE_PTR(base, add, cors_max_age);
    c->cors_private_network = GK_MERGE_INT(base, add, cors_private_network);
}

/* What the other modules add to responses, as docs/INTEROP.md names it:
 * scripts of an allowed origin may read them unless GKCORSExposeHeaders
 * says otherwise. */
#define EXPOSE_DEFAULT                                                     \
    "RateLimit, RateLimit-Policy, Retry-After, WWW-Authenticate"

int gk_headers_cors_post_config(apr_pool_t *p, apr_pool_t *plog,
                                apr_pool_t *ptemp, server_rec *s)
{
    APR_OPTIONAL_FN_TYPE(gk_log_correlation_header) *fn =
        APR_RETRIEVE_OPTIONAL_FN(gk_log_correlation_header);
    server_rec *v;

    for (v = s; v; v = v->next) {
        gk_headers_srv_conf_t *sc =
            ap_get_module_config(v->module_config, &gk_headers_module);
        const char *h = fn ? fn(v) : NULL;
        sc->cors_expose = h ? apr_pstrcat(p, h, ", ", EXPOSE_DEFAULT, NULL)
                            : EXPOSE_DEFAULT;
    }
    return OK;
}
