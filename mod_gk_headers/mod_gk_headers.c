/*
 * mod_gk_headers: security headers on every response (httpd's own errors
 * and redirects included, exactly one copy of each), for Apache httpd 2.4.
 *
 * This file holds the module declaration and its hooks; the configuration
 * is in gk_headers_config.c, the header sets in gk_headers_profiles.c,
 * the response filter in gk_headers_filter.c, CORS in gk_headers_cors.c
 * and gk_headers_cors_config.c. docs/mod_gk_headers.md
 * explains the hook positions.
 */
#define GK_HEADERS_MODULE_FILE /* AP_DECLARE_MODULE below names the module */
#include "http_protocol.h"
#include "http_request.h"

#include "gk_ap.h"
#include "gk_headers_private.h"
#include "mod_gk_headers.h"

static int pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    gk_ap_log_init(gk_headers_module.module_index);
    return OK;
}

static void register_hooks(apr_pool_t *p)
{
    /* after mod_gk_auth's scrub of client-sent headers (REALLY_FIRST),
     * before anything that could answer or challenge the request */
    static const char *const hp_pred[] = {"mod_gk_auth.c", NULL};

    gk_headers_profiles_init();
    gk_headers_register_filters();
    ap_hook_pre_config(pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(gk_headers_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(gk_headers_cors_post_config, NULL, NULL,
                        APR_HOOK_MIDDLE);
    ap_hook_optional_fn_retrieve(gk_headers_retrieve_fns, NULL, NULL,
                                 APR_HOOK_MIDDLE);
    ap_hook_optional_fn_retrieve(gk_headers_cors_retrieve_fns, NULL, NULL,
                                 APR_HOOK_MIDDLE);
    ap_hook_header_parser(gk_headers_header_parser, hp_pred, NULL,
                          APR_HOOK_FIRST);
    ap_hook_insert_filter(gk_headers_insert_filter, NULL, NULL,
                          APR_HOOK_MIDDLE);
    ap_hook_insert_error_filter(gk_headers_insert_error_filter, NULL, NULL,
                                APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(gk_headers) = {
    STANDARD20_MODULE_STUFF,
    gk_headers_create_dir_conf,
    gk_headers_merge_dir_conf,
    gk_headers_create_srv_conf,
    gk_headers_merge_srv_conf,
    gk_headers_cmds,
    register_hooks,
    0
};
