/*
 * mod_gk_log: correlation IDs that follow a request everywhere (error log,
 * access log, response, backend, CGI environment), and W3C traceparent
 * propagation, for Apache httpd 2.4.
 *
 * This file holds the module declaration and its hooks; the configuration
 * is in gk_log_config.c, the logic in gk_log_correlation.c. The hook
 * positions are explained in docs/mod_gk_log.md ("Hooks and their
 * order").
 */
#define GK_LOG_MODULE_FILE /* AP_DECLARE_MODULE below names the module */
#include "httpd.h"
#include "http_connection.h"
#include "http_protocol.h"
#include "http_request.h"

#include "gk_ap.h"
#include "gk_log_private.h"
#include "mod_gk_log.h"

static int pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    gk_ap_log_init(gk_log_module.module_index);
    gk_log_conf_init_defaults(pconf);
    return OK;
}

static void register_hooks(apr_pool_t *p)
{
    /* decided before every other module's post_read_request, so that
     * mod_remoteip, mod_headers' "early" RequestHeader, mod_setenvif and
     * mod_unique_id see the final header and variables */
    static const char *const prr_succ[] = {
        "mod_remoteip.c", "mod_headers.c", "mod_setenvif.c",
        "mod_unique_id.c", NULL
    };
    /* our ID wins over mod_unique_id's and core's */
    static const char *const logid_succ[] = {
        "mod_unique_id.c", "core.c", NULL
    };
    /* r->log_id in place before any access log line is written */
    static const char *const logtx_succ[] = {"mod_log_config.c", NULL};
    /* %^GJ: after mod_log_config's pre_config (REALLY_FIRST), which makes
     * the handler table; the JSON line after mod_log_config's
     * log_transaction, since %^GJ reads the byte counts before this module
     * starts them again */
    static const char *const after_log_config[] = {"mod_log_config.c",
                                                   NULL};

    gk_log_register_filters();
    gk_log_json_register_filters();
    ap_hook_pre_config(pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_pre_config(gk_log_json_pre_config, after_log_config, NULL,
                       APR_HOOK_MIDDLE);
    ap_hook_open_logs(gk_log_open_logs, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_pre_connection(gk_log_pre_connection, NULL, NULL,
                           APR_HOOK_MIDDLE);
    ap_hook_log_transaction(gk_log_json_log_transaction, after_log_config,
                            NULL, APR_HOOK_MIDDLE);
    ap_hook_error_log(gk_log_error_log, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(gk_log_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(gk_log_json_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_create_request(gk_log_create_request, NULL, NULL,
                           APR_HOOK_REALLY_FIRST);
    ap_hook_post_read_request(gk_log_post_read_request, NULL, prr_succ,
                              APR_HOOK_REALLY_FIRST);
    ap_hook_pre_translate_name(gk_log_pre_translate_name, NULL, NULL,
                               APR_HOOK_REALLY_FIRST);
    ap_hook_generate_log_id(gk_log_generate_log_id, NULL, logid_succ,
                            APR_HOOK_FIRST);
    ap_hook_insert_filter(gk_log_insert_filter, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_insert_error_filter(gk_log_insert_error_filter, NULL, NULL,
                                APR_HOOK_REALLY_FIRST);
    ap_hook_log_transaction(gk_log_log_transaction, NULL, logtx_succ,
                            APR_HOOK_REALLY_FIRST);
    APR_REGISTER_OPTIONAL_FN(gk_log_correlation_id);
    APR_REGISTER_OPTIONAL_FN(gk_log_correlation_header);
    APR_REGISTER_OPTIONAL_FN(gk_log_audit);
}

AP_DECLARE_MODULE(gk_log) = {
    STANDARD20_MODULE_STUFF,
    NULL,                       /* no per-directory configuration */
    NULL,
    gk_log_create_srv_conf,
    gk_log_merge_srv_conf,
    gk_log_cmds,
    register_hooks,
    0
};
