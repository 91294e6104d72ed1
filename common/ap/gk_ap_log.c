#include "apr_atomic.h"
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

int gk_ap_once_per(volatile apr_uint32_t *last, apr_uint32_t interval)
{
    apr_uint32_t now = (apr_uint32_t)apr_time_sec(apr_time_now());
    apr_uint32_t before = apr_atomic_read32(last);

    return now - before >= interval
           && apr_atomic_cas32(last, now, before) == before;
}
