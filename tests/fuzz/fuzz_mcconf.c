/*
 * Fuzz target: the memcached store's configuration-string check
 * (gk_store_mc_conf_scan, then gk_store_mc_check_config), what
 * mod_gk_ratelimit reads from `GKRateLimitStore memcached "..."`.
 *
 * The input, cut at its first NUL, is the string. Invariants checked
 * (abort() on violation):
 *  - both functions return, and every message is printable ASCII;
 *  - an accepted scan gives options whose names are non-empty, upper
 *    case letters, digits and '-', and whose values are non-empty, and
 *    a string of printable ASCII with single spaces between options;
 *  - a string the check accepts was accepted by the scan, names at least
 *    one --SERVER or --SOCKET and none of the refused options.
 * libmemcached_check_configuration is reached only by strings the scan
 * accepted (never INCLUDE, RESET or a configuration file).
 * See replay.c for how to build it with libFuzzer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "gk_store_mc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static apr_pool_t *root;

/* Abort unless s is printable ASCII (0x20-0x7E). */
static void check_message(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e) {
            abort();
        }
    }
}

/* Abort unless the scanned options are well formed. */
static void check_opts(const apr_array_header_t *opts, int *servers,
                       int *refused)
{
    static const char *const allowed[] = {
        "SERVER", "SOCKET", "BINARY-PROTOCOL", "TCP-NODELAY",
        "TCP-KEEPALIVE", "TCP-KEEPIDLE", "SOCKET-SEND-SIZE",
        "SOCKET-RECV-SIZE", "SUPPORT-CAS"};
    int i;

    *servers = 0;
    *refused = 0;
    for (i = 0; i < opts->nelts; i++) {
        const gk_store_mc_opt_t *o = &APR_ARRAY_IDX(opts, i,
                                                    gk_store_mc_opt_t);
        const char *c;
        size_t k;
        int ok = 0;

        if (o->name == NULL || o->name[0] == '\0') {
            abort();
        }
        for (c = o->name; *c; c++) {
            if (!((*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')
                  || *c == '-')) {
                abort();
            }
        }
        if (o->value != NULL) {
            if (o->value[0] == '\0') {
                abort();
            }
            check_message(o->value);
        }
        for (k = 0; k < sizeof(allowed) / sizeof(allowed[0]); k++) {
            ok |= strcmp(o->name, allowed[k]) == 0;
        }
        *refused |= !ok;
        *servers += strcmp(o->name, "SERVER") == 0
                    || strcmp(o->name, "SOCKET") == 0;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    apr_array_header_t *opts = NULL;
    const char *conf, *scan_err, *err;
    int servers = 0, refused = 0;

    if (root == NULL) {
        if (apr_initialize() != APR_SUCCESS
            || apr_pool_create(&root, NULL) != APR_SUCCESS) {
            abort();
        }
    }
    if (apr_pool_create(&p, root) != APR_SUCCESS) {
        abort();
    }
    conf = apr_pstrmemdup(p, (const char *)data, size); /* cut at a NUL */
    scan_err = gk_store_mc_conf_scan(p, conf, &opts);
    if (scan_err) {
        check_message(scan_err);
        if (opts != NULL) {
            abort();
        }
    }
    else {
        size_t n = strlen(conf);
        if (opts == NULL || strstr(conf, "  ") != NULL
            || (n > 0 && (conf[0] == ' ' || conf[n - 1] == ' '))) {
            abort();
        }
        check_message(conf);
        check_opts(opts, &servers, &refused);
    }
    err = gk_store_mc_check_config(p, conf);
    if (err) {
        check_message(err);
    }
    else if (scan_err || servers == 0 || refused) {
        abort();
    }
    apr_pool_destroy(p);
    return 0;
}
