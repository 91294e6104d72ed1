/*
 * mod_gk_validate: JSON request bodies validated against JSON Schema
 * (draft-07) at the gateway, before they reach the backend; refusals
 * answered with problem+json (400, 413, 415, and 422 with the list of
 * errors).
 *
 * This file holds the module declaration and its hooks; the directives
 * and the schemas' compilation are in gk_validate_config.c, the request
 * path in gk_validate_body.c, the replay input filter in
 * gk_validate_filter.c; the validator itself in common/ (gk_schema.c,
 * gk_format.c, gk_ecma_re.c). docs/mod_gk_validate.md explains the hook
 * position.
 */
#define GK_VALIDATE_MODULE_FILE /* AP_DECLARE_MODULE below names it */
#include "http_protocol.h"
#include "http_request.h"

#include "gk_ap.h"
#include "gk_ap_problem.h"
#include "gk_validate_private.h"
#include "mod_gk_validate.h"

static int pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    gk_ap_log_init(gk_validate_module.module_index);
    gk_val_config_reset();
    return OK;
}

static void register_hooks(apr_pool_t *p)
{
    /* after the rate limits keyed by user (mod_gk_ratelimit, fixups FIRST,
     * itself after mod_gk_auth): only a request that authentication and
     * the limits let through has its body read */
    static const char *const fix_pred[] = {"mod_gk_auth.c",
                                           "mod_gk_ratelimit.c", NULL};

    gk_ap_problem_register(GK_VALIDATE_FILTER_PROBLEM, gk_val_problem_slot);
    gk_val_replay_register();
    ap_hook_pre_config(pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(gk_val_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_optional_fn_retrieve(gk_val_retrieve_fns, NULL, NULL,
                                 APR_HOOK_MIDDLE);
    ap_hook_fixups(gk_val_fixups, fix_pred, NULL, APR_HOOK_MIDDLE);
    ap_hook_insert_error_filter(gk_ap_problem_insert_error_filter, NULL,
                                NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(gk_validate) = {
    STANDARD20_MODULE_STUFF,
    gk_val_create_dir_conf,
    gk_val_merge_dir_conf,
    NULL,
    NULL,
    gk_val_cmds,
    register_hooks,
    0
};
