/*
 * mod_gkprobe: a test-only module that consumes the Gatekeeper modules'
 * optional functions the way another module would (retrieved in an
 * optional_fn_retrieve hook, never linked), so that the integration tests
 * can check the cooperation contract of docs/INTEROP.md from outside.
 *
 *   <Location /probe>
 *       SetHandler gk-probe
 *   </Location>
 *
 * answers JSON:
 *   {"claim_fn": true|false, "claim": "<gk_auth_claim(r, ?claim=NAME)>"|null,
 *    "correlation_fn": true|false, "correlation_id": "<id>"|null}
 * Built by the Makefile into $(BUILD)/tests/mod_gkprobe.so; never installed.
 */
#include "httpd.h"
#include "http_config.h"
#include "http_protocol.h"

#include "apr_optional.h"
#include "apr_strings.h"

/* The functions' types, as the modules' public headers declare them. */
APR_DECLARE_OPTIONAL_FN(const char *, gk_auth_claim,
                        (request_rec * r, const char *name));
APR_DECLARE_OPTIONAL_FN(const char *, gk_log_correlation_id,
                        (request_rec * r));

static APR_OPTIONAL_FN_TYPE(gk_auth_claim) *claim_fn;
static APR_OPTIONAL_FN_TYPE(gk_log_correlation_id) *correlation_fn;

static void retrieve(void)
{
    claim_fn = APR_RETRIEVE_OPTIONAL_FN(gk_auth_claim);
    correlation_fn = APR_RETRIEVE_OPTIONAL_FN(gk_log_correlation_id);
}

/* A JSON string (or null); the values are already free of controls. */
static const char *json_str(apr_pool_t *p, const char *s)
{
    char *out, *o;

    if (!s) {
        return "null";
    }
    o = out = apr_palloc(p, 2 * strlen(s) + 3);
    *o++ = '"';
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') {
            *o++ = '\\';
        }
        *o++ = *s;
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

static int handler(request_rec *r)
{
    const char *claim = NULL, *name = NULL;

    if (!r->handler || strcmp(r->handler, "gk-probe")) {
        return DECLINED;
    }
    if (r->args && !strncmp(r->args, "claim=", 6)) {
        name = r->args + 6;
    }
    if (claim_fn && name) {
        claim = claim_fn(r, name);
    }
    ap_set_content_type(r, "application/json");
    ap_rprintf(r, "{\"claim_fn\":%s,\"claim\":%s,\"correlation_fn\":%s,"
               "\"correlation_id\":%s}\n", claim_fn ? "true" : "false",
               json_str(r->pool, claim), correlation_fn ? "true" : "false",
               json_str(r->pool,
                        correlation_fn ? correlation_fn(r) : NULL));
    return OK;
}

static void register_hooks(apr_pool_t *p)
{
    ap_hook_optional_fn_retrieve(retrieve, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(handler, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(gkprobe) = {
    STANDARD20_MODULE_STUFF, NULL, NULL, NULL, NULL, NULL, register_hooks, 0
};
