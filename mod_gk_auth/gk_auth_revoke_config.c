/*
 * mod_gk_auth revocation configuration (issue 14): GKAuthRevocation,
 * GKAuthRevocationStore, GKAuthRevocationStoreTimeout,
 * GKAuthRevocationOnStoreError, GKAuthRevocationJournal,
 * GKAuthRevocationKeySecret, GKAuthMaxTokenLifetime, GKRevokeAdminRole;
 * and the startup checks that need the whole configuration:
 *
 *   GK10060  a GKTokenLifetime longer than its server's
 *            GKAuthMaxTokenLifetime ("log out everywhere" keeps a cutoff
 *            for GKAuthMaxTokenLifetime: a token living longer would
 *            outlive it);
 *   whether any scope needs the revocation store at all: it does unless
 *   every server says GKAuthRevocation Off at its top level, no section
 *   says GKAuthRevocation On and no SetHandler names gk-revoke. Then no
 *   segment, mutex, journal or memcached connection is made.
 */
#include "apr_strings.h"
#include "http_core.h"
#include "mod_proxy.h"
#include "util_cfgtree.h"

#include <openssl/evp.h>

#include "gk_ap_store_conf.h"
#include "gk_auth_private.h"
#include "gk_file.h"
#include "gk_revoke.h"
#include "gk_store_mc.h"
#include "gk_text.h"

int gk_auth_conf_revocation(const gk_auth_dir_conf_t *c)
{
    return GK_GET_INT(c, revocation, GK_AUTH_DEFAULT_REVOCATION);
}

int gk_auth_conf_max_token_lifetime(const gk_auth_srv_conf_t *c)
{
    return GK_GET_INT(c, max_token_lifetime,
                      GK_AUTH_DEFAULT_MAX_TOKEN_LIFETIME);
}

int gk_auth_conf_rv_deny_on_error(const gk_auth_srv_conf_t *c)
{
    return GK_GET_INT(c, rv_deny_on_error, GK_AUTH_DEFAULT_RV_DENY_ON_ERROR);
}

static gk_auth_srv_conf_t *srv_conf(cmd_parms *cmd)
{
    return ap_get_module_config(cmd->server->module_config, &gk_auth_module);
}

/* ---- the directives ----------------------------------------------------- */

const char *gk_auth_set_revocation_store(cmd_parms *cmd, void *dc, int argc,
                                         char *const argv[])
{
    gk_auth_srv_conf_t *c = srv_conf(cmd);
    const char *e = gk_ap_main_server_only(cmd);

    if (e || (e = gk_ap_store_parse(cmd, argc, argv, GK_AUTH_RV_SHM_MIN,
                                    GK_AUTH_RV_SHM_MAX, "ENTRIES",
                                    &c->rv_mc_conf, &c->rv_shm_size))) {
        return e;
    }
    c->rv_store_where = gk_ap_where(cmd);
    return NULL;
}

const char *gk_auth_set_revocation_timeout(cmd_parms *cmd, void *dc,
                                           const char *arg)
{
    const char *e = gk_ap_main_server_only(cmd);

    if (e) {
        return e;
    }
    return gk_ap_parse_int(cmd, arg, 1, GK_STORE_MC_TIMEOUT_MAX,
                           &srv_conf(cmd)->rv_mc_timeout);
}

const char *gk_auth_set_revocation_on_error(cmd_parms *cmd, void *dc,
                                            const char *arg)
{
    static const gk_ap_keyword_t words[] = {
        {"allow", 0}, {"deny", 1}, {NULL, 0}
    };

    if (!gk_ap_keyword(arg, words, &srv_conf(cmd)->rv_deny_on_error)) {
        return gk_ap_cmd_error(cmd, "'%s': allow or deny", arg);
    }
    return NULL;
}

const char *gk_auth_set_revocation_journal(cmd_parms *cmd, void *dc,
                                           const char *arg)
{
    const char *e = gk_ap_main_server_only(cmd), *path;

    if (e) {
        return e;
    }
    if (!*arg || !(path = ap_server_root_relative(cmd->pool, arg))) {
        return gk_ap_cmd_error(cmd, "'%s' is not a valid path", arg);
    }
    srv_conf(cmd)->rv_journal = path;
    return NULL;
}

/* The first 16 bytes of the SHA-256 of the secret (env:VAR or file:PATH,
 * as GKRateLimitKeySecret reads it), derived once here, so that every
 * pass over the configuration and `apache2 -t` agree. */
const char *gk_auth_set_revocation_secret(cmd_parms *cmd, void *dc,
                                          const char *arg)
{
    const char *e = gk_ap_main_server_only(cmd), *secret = NULL;
    unsigned char md[EVP_MAX_MD_SIZE], *key;
    unsigned int mdlen = 0;
    apr_size_t len = 0;

    if (e) {
        return e;
    }
    if ((e = gk_secret_read(cmd->temp_pool, arg, GK_REVOKE_SECRET_LEN,
                            &secret, &len))) {
        return gk_ap_cmd_error(cmd, "%s", e);
    }
    if (!EVP_Digest(secret, len, md, &mdlen, EVP_sha256(), NULL)
        || mdlen < GK_REVOKE_SECRET_LEN) {
        return gk_ap_cmd_error(cmd, "cannot hash the secret of %s", arg);
    }
    key = apr_pmemdup(cmd->pool, md, GK_REVOKE_SECRET_LEN);
    OPENSSL_cleanse(md, sizeof(md));
    srv_conf(cmd)->rv_key = key;
    return NULL;
}

const char *gk_auth_set_max_token_lifetime(cmd_parms *cmd, void *dc,
                                           const char *arg)
{
    gk_auth_srv_conf_t *c = srv_conf(cmd);
    const char *e = gk_auth_parse_duration(cmd, arg, 31 * 86400,
                                           &c->max_token_lifetime);

    if (!e) {
        c->max_token_lifetime_where = gk_ap_where(cmd);
    }
    return e;
}

const char *gk_auth_set_revoke_admin_role(cmd_parms *cmd, void *dc,
                                          const char *arg)
{
    if (!gk_text_is_atom(arg)) {
        return gk_ap_cmd_error(cmd, "role '%s' may hold only visible ASCII "
                               "characters: no white space, control or "
                               "non-ASCII byte", arg);
    }
    ((gk_auth_dir_conf_t *)dc)->revoke_admin_role = arg;
    return NULL;
}

/* ---- startup checks ----------------------------------------------------- */

typedef struct {
    apr_pool_t *p;
    server_rec *s;
    int max;            /* the server's GKAuthMaxTokenLifetime */
    const char *max_where;
    int refused;
    int on;             /* a section says GKAuthRevocation On */
    apr_hash_t *said;   /* GKTokenLifetime lines refused already */
} walk_t;

static void visit(walk_t *w, ap_conf_vector_t *v);

static void visit_all(walk_t *w, const apr_array_header_t *sections)
{
    int i;

    for (i = 0; sections && i < sections->nelts; i++) {
        visit(w, APR_ARRAY_IDX(sections, i, ap_conf_vector_t *));
    }
}

/* One configuration vector and the <Files> and <If> sections in it. */
static void visit(walk_t *w, ap_conf_vector_t *v)
{
    const gk_auth_dir_conf_t *c = ap_get_module_config(v, &gk_auth_module);
    core_dir_config *core = ap_get_core_module_config(v);

    if (c) {
        if (c->revocation == 1) {
            w->on = 1;
        }
        /* a section of the main server is seen again in each virtual
         * host (and its defaults merged into theirs): said once */
        if (c->token_lifetime != GK_UNSET && c->token_lifetime > w->max
            && c->token_lifetime_where
            && !apr_hash_get(w->said, c->token_lifetime_where,
                             APR_HASH_KEY_STRING)) {
            apr_hash_set(w->said, c->token_lifetime_where,
                         APR_HASH_KEY_STRING, "");
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, w->s,
                         GKLOGNO(10060) "GKTokenLifetime %d (%s) is longer "
                         "than GKAuthMaxTokenLifetime %d (%s): tokens "
                         "issued there would outlive what \"log out "
                         "everywhere\" keeps; shorten the one or lengthen "
                         "the other",
                         c->token_lifetime, c->token_lifetime_where,
                         w->max, w->max_where);
            w->refused++;
        }
    }
    if (core) {
        visit_all(w, core->sec_file);
        visit_all(w, core->sec_if);
    }
}

/* A SetHandler or AddHandler naming gk-revoke anywhere in the tree. */
static int names_revoke_handler(const ap_directive_t *n)
{
    for (; n; n = n->next) {
        if (n->directive && n->args
            && (!strcasecmp(n->directive, "SetHandler")
                || !strcasecmp(n->directive, "AddHandler"))
            && ap_strcasestr(n->args, GK_AUTH_REVOKE_HANDLER)) {
            return 1;
        }
        if (n->first_child && names_revoke_handler(n->first_child)) {
            return 1;
        }
    }
    return 0;
}

/* What the last check_config found, for the post_config that follows. */
static int needed;

int gk_auth_revoke_needed(void)
{
    return needed;
}

int gk_auth_revoke_check_config(apr_pool_t *ptemp, server_rec *s)
{
    module *proxy = ap_find_linked_module("mod_proxy.c");
    walk_t w;

    memset(&w, 0, sizeof(w));
    w.p = ptemp;
    w.said = apr_hash_make(ptemp);
    needed = ap_conftree && names_revoke_handler(ap_conftree);
    for (; s; s = s->next) {
        const gk_auth_srv_conf_t *sc =
            ap_get_module_config(s->module_config, &gk_auth_module);
        core_server_config *core = ap_get_core_module_config(s->module_config);
        const gk_auth_dir_conf_t *dflt =
            ap_get_module_config(s->lookup_defaults, &gk_auth_module);

        w.s = s;
        w.max = gk_auth_conf_max_token_lifetime(sc);
        w.max_where = sc->max_token_lifetime_where
                          ? sc->max_token_lifetime_where
                          : "the default";
        /* a server's defaults hold the main server's merged in */
        if (gk_auth_conf_revocation(dflt)) {
            needed = 1;
        }
        visit(&w, s->lookup_defaults);
        visit_all(&w, core->sec_dir);
        visit_all(&w, core->sec_url);
        if (proxy) {
            proxy_server_conf *pc = ap_get_module_config(s->module_config,
                                                         proxy);
            visit_all(&w, pc ? pc->sec_proxy : NULL);
        }
    }
    if (w.on) {
        needed = 1;
    }
    return w.refused ? HTTP_INTERNAL_SERVER_ERROR : OK;
}
