#include "http_main.h" /* ap_server_conf */

#include "gk_ap.h"
#include "gk_log.h"

static int log_module_index = APLOG_NO_MODULE;

static void print(void *baton, const char *file, int line, int level,
                  const char *msg)
{
    ap_log_error_(file, line, log_module_index, level, 0, ap_server_conf,
                  "%s", msg);
}

static int enabled(void *baton, int level)
{
    /* before the configuration is read, ap_server_conf is NULL: every
     * level passes here and httpd decides */
    return APLOG_MODULE_IS_LEVEL(ap_server_conf, log_module_index, level);
}

void gk_ap_log_init(int module_index)
{
    log_module_index = module_index;
    gk_log_set(print, enabled, NULL);
}
