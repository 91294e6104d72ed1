/*
 * mod_gk_log's optional functions, declared once for the modules that use
 * them: the same declarations as in mod_gk_log/mod_gk_log.h (which
 * documents them), repeated here so that no module needs another module's
 * header. A module retrieves them in its optional_fn_retrieve hook (or
 * post_config) and works without them when mod_gk_log is not loaded.
 * tests/integration/test_module_exports.py keeps the two in step.
 */
#ifndef GK_AP_LOGFNS_H
#define GK_AP_LOGFNS_H

#include "apr_optional.h"
#include "httpd.h"

APR_DECLARE_OPTIONAL_FN(const char *, gk_log_correlation_id,
                        (request_rec * r));

APR_DECLARE_OPTIONAL_FN(const char *, gk_log_correlation_header,
                        (server_rec * s));

APR_DECLARE_OPTIONAL_FN(void, gk_log_audit,
                        (request_rec * r, const char *category,
                         const char *action, const char *outcome,
                         const char *reason, const apr_table_t *fields));

#endif
