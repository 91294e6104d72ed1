/*
 * mod_gk_auth: bearer-token (JWT) authentication and role- and
 * permission-based authorization for Apache httpd 2.4.
 *
 * This file holds the module declaration and its hooks; the configuration
 * is in gk_auth_config.c, the logic in gk_auth_*.c and in common/.
 */
#define GK_AUTH_MODULE_FILE /* AP_DECLARE_MODULE below names the module */
#include "ap_provider.h"
#include "http_protocol.h"
#include "mod_auth.h"

#include "gk_auth_private.h"
#include "gk_ap.h"
#include "gk_rand.h"
#include "gk_ap_problem.h"
#include "mod_gk_auth.h"

static int pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    /* before any thread exists, and before JSON objects are made */
    json_object_seed(0);
    gk_ap_log_init(gk_auth_module.module_index);
    gk_auth_conf_init_defaults(pconf);
    gk_auth_token_init(pconf);
    gk_auth_revoke_register_mutex(pconf);
    return OK;
}

static void child_init(apr_pool_t *pchild, server_rec *s)
{
    /* random bytes drawn in the parent (the dummy hash's salt) must never
     * be handed out again by every child: jti values */
    gk_rand_child_init();
    gk_auth_child_init(pchild, s);
    gk_auth_revoke_child_init(pchild, s);
}

static void register_hooks(apr_pool_t *p)
{
    gk_auth_register_providers(p);
    /* problem+json bodies for the 400, 401 and 403 answers this module
     * decides (common/ap/gk_ap_problem.c), with mod_gk_log's correlation
     * ID when it is loaded */
    gk_ap_problem_register("GK_AUTH_PROBLEM", gk_auth_problem_slot);
    ap_hook_pre_config(pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(gk_auth_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* the revocation store: made and replayed from its journal */
    ap_hook_post_config(gk_auth_revoke_post_config, NULL, NULL,
                        APR_HOOK_MIDDLE);
    ap_hook_child_init(child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_header_parser(gk_auth_header_parser, NULL, NULL,
                          APR_HOOK_REALLY_FIRST);
    ap_hook_check_authn(gk_auth_check_authn, NULL, NULL, APR_HOOK_MIDDLE,
                        AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_note_auth_failure(gk_auth_note_auth_failure, NULL, NULL,
                              APR_HOOK_MIDDLE);
    ap_hook_fixups(gk_auth_fixups, NULL, NULL, APR_HOOK_REALLY_FIRST);
    /* SetHandler gk-jwks: the public keys of GKTokenKey */
    ap_hook_handler(gk_auth_jwks_handler, NULL, NULL, APR_HOOK_MIDDLE);
    /* SetHandler gk-token: tokens for first-party clients */
    ap_hook_handler(gk_auth_token_handler, NULL, NULL, APR_HOOK_MIDDLE);
    /* SetHandler gk-revoke: logout and revocation */
    ap_hook_handler(gk_auth_revoke_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_insert_error_filter(gk_ap_problem_insert_error_filter, NULL,
                                NULL, APR_HOOK_MIDDLE);
    /* mod_gk_log's correlation IDs and audit events, when loaded */
    ap_hook_optional_fn_retrieve(gk_auth_retrieve_fns, NULL, NULL,
                                 APR_HOOK_MIDDLE);
    APR_REGISTER_OPTIONAL_FN(gk_auth_claim);
}

AP_DECLARE_MODULE(gk_auth) = {
    STANDARD20_MODULE_STUFF,
    gk_auth_create_dir_conf,
    gk_auth_merge_dir_conf,
    gk_auth_create_srv_conf,
    gk_auth_merge_srv_conf,
    gk_auth_cmds,
    register_hooks,
    0
};
