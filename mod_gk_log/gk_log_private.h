/*
 * mod_gk_log internals shared by its files.
 */
#ifndef GK_LOG_PRIVATE_H
#define GK_LOG_PRIVATE_H

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_request.h"

#include "gk.h"
#include "gk_ap.h"

extern module AP_MODULE_DECLARE_DATA gk_log_module;
#ifndef GK_LOG_MODULE_FILE
APLOG_USE_MODULE(gk_log);
#endif

/* GKCorrelationFormat */
typedef enum {
    GK_LOG_FMT_UUID7 = 1,
    GK_LOG_FMT_UUID4 = 2
} gk_log_format_e;

/* GKTraceparent */
typedef enum {
    GK_LOG_TP_PROPAGATE = 1,
    GK_LOG_TP_GENERATE = 2,
    GK_LOG_TP_OFF = 3
} gk_log_tp_mode_e;

/* The most names GKCorrelationHeader takes (the name and its aliases). */
#define GK_LOG_MAX_NAMES 8

/* Server and virtual host settings. Every field is unset (GK_UNSET or
 * NULL) until a directive gives it; the getters apply the defaults. */
typedef struct {
    int enabled;                    /* GKCorrelation */
    const char *header;             /* GKCorrelationHeader: the name */
    apr_array_header_t *aliases;    /* and its aliases (const char *),
                                     * NULL for none; set together */
    const gk_ap_trust_t *trust;     /* GKCorrelationTrust */
    int format;                     /* GKCorrelationFormat */
    int traceparent;                /* GKTraceparent */
} gk_log_srv_conf_t;

#define GK_LOG_DEFAULT_HEADER "X-Correlation-ID"

extern const command_rec gk_log_cmds[];
void *gk_log_create_srv_conf(apr_pool_t *p, server_rec *s);
void *gk_log_merge_srv_conf(apr_pool_t *p, void *basev, void *addv);

/* Getters: the setting, or its default. */
const gk_log_srv_conf_t *gk_log_srv_conf(const server_rec *s);
int gk_log_conf_enabled(const gk_log_srv_conf_t *c);
const char *gk_log_conf_header(const gk_log_srv_conf_t *c);
/* The aliases accepted on input, or NULL for none. */
const apr_array_header_t *gk_log_conf_aliases(const gk_log_srv_conf_t *c);
const gk_ap_trust_t *gk_log_conf_trust(const gk_log_srv_conf_t *c);
gk_log_format_e gk_log_conf_format(const gk_log_srv_conf_t *c);
gk_log_tp_mode_e gk_log_conf_traceparent(const gk_log_srv_conf_t *c);

/* Do two field names reach a backend as the same one? (case-insensitive,
 * '-' and '_' alike, as CGI and WSGI read them) */
int gk_log_same_name(const char *a, const char *b);

/* gk_log_correlation.c: the hooks */
void gk_log_register_filters(void);
void gk_log_child_init(apr_pool_t *p, server_rec *s);
int gk_log_create_request(request_rec *r);
int gk_log_post_read_request(request_rec *r);
int gk_log_pre_translate_name(request_rec *r);
int gk_log_generate_log_id(const conn_rec *c, const request_rec *r,
                           const char **id);
void gk_log_insert_filter(request_rec *r);
void gk_log_insert_error_filter(request_rec *r);
int gk_log_log_transaction(request_rec *r);

/* The optional function of mod_gk_log.h. */
const char *gk_log_correlation_id(request_rec *r);

#endif
