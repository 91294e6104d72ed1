/*
 * mod_gk_ratelimit: request rate limits for Apache httpd 2.4, exact
 * across every child and thread of a host (a shared-memory store), with
 * standard 429 answers: Retry-After, the IETF RateLimit fields and
 * problem+json bodies.
 *
 * This file holds the module declaration and its hooks; the directives
 * are in gk_ratelimit_config.c, the stores' lives in
 * gk_ratelimit_store.c,
 * the request path in gk_ratelimit_check.c; the grammars, the windows,
 * the counter keys and the table itself in common/ (gk_rate.c,
 * gk_siphash.c, gk_store_shm.c). docs/mod_gk_ratelimit.md explains the
 * hook positions.
 */
#define GK_RATELIMIT_MODULE_FILE /* AP_DECLARE_MODULE below names it */
#include "http_protocol.h"
#include "http_request.h"

#include "gk_ap.h"
#include "gk_ap_problem.h"
#include "gk_ratelimit_private.h"
#include "mod_gk_ratelimit.h"

static int pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    gk_ap_log_init(gk_ratelimit_module.module_index);
    gk_rl_register_mutex(pconf);
    return OK;
}

static void register_hooks(apr_pool_t *p)
{
    /* after mod_gk_auth, which sets the user in check_authn and exports
     * it in fixups (REALLY_FIRST) */
    static const char *const fix_pred[] = {"mod_gk_auth.c", NULL};

    gk_ap_problem_register(GK_RATELIMIT_FILTER_PROBLEM, gk_rl_problem_slot);
    ap_hook_pre_config(pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(gk_rl_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(gk_rl_shm_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(gk_rl_shm_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_optional_fn_retrieve(gk_rl_retrieve_fns, NULL, NULL,
                                 APR_HOOK_MIDDLE);
    /* before authentication: limits keyed by client protect the verifier */
    ap_hook_access_checker(gk_rl_access_checker, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_fixups(gk_rl_fixups, fix_pred, NULL, APR_HOOK_FIRST);
    ap_hook_insert_error_filter(gk_ap_problem_insert_error_filter, NULL,
                                NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(gk_ratelimit) = {
    STANDARD20_MODULE_STUFF,
    gk_rl_create_dir_conf,
    gk_rl_merge_dir_conf,
    gk_rl_create_srv_conf,
    gk_rl_merge_srv_conf,
    gk_rl_cmds,
    register_hooks,
    0
};
