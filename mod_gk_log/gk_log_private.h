/*
 * mod_gk_log internals shared by its files.
 */
#ifndef GK_LOG_PRIVATE_H
#define GK_LOG_PRIVATE_H

#include "httpd.h"
#include "http_config.h"
#include "http_core.h" /* ap_errorlog_info */
#include "http_log.h"
#include "http_request.h"
#include "ap_expr.h"

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

/* One JSON log destination (GKLog, GKAuditLog, GKErrorLog): a file or a
 * piped program, opened in open_logs; a virtual host without its own
 * shares the main server's struct, so each is opened once. */
typedef struct {
    const char *spec;               /* as written */
    const char *where;              /* FILE:LINE of the directive */
    const char *path;               /* file: absolute; pipe: the command */
    int is_pipe;
    apr_cmdtype_e cmdtype;          /* a pipe's: "|prog", "||prog", "|$cmd" */
    const char *env;                /* env=VAR / env=!VAR, or NULL */
    int env_negate;
    ap_expr_info_t *expr;           /* expr=..., or NULL */
    apr_file_t *fd;                 /* NULL until open_logs */
    struct gk_log_buf_t *buf;       /* GKLogBuffer's, per child, or NULL */
} gk_log_dest_t;

/* GKLogField */
typedef enum {
    GK_LOG_SRC_HEADER = 1,
    GK_LOG_SRC_NOTE = 2,
    GK_LOG_SRC_ENV = 3
} gk_log_src_e;

typedef struct {
    const char *name;               /* the member under gk.fields */
    const char *key;                /* the header, note or variable */
    gk_log_src_e src;
    int as_int;
    int redacted;                   /* a header whose value never shows */
} gk_log_field_t;

/* Server and virtual host settings. Every field is unset (GK_UNSET or
 * NULL) until a directive gives it; the getters apply the defaults. */
typedef struct {
    int enabled;                    /* GKCorrelation */
    const char *header;             /* GKCorrelationHeader: the name */
    apr_array_header_t *names;      /* the name, then its aliases
                                     * (const char *); set together */
    const gk_ap_trust_t *trust;     /* GKCorrelationTrust */
    int format;                     /* GKCorrelationFormat */
    int traceparent;                /* GKTraceparent */
    apr_array_header_t *logs;       /* GKLog (gk_log_dest_t *): replace */
    int max_line;                   /* GKLogMaxLine */
    apr_array_header_t *redact_query;   /* GKLogRedactQuery: replaces */
    apr_array_header_t *redact_headers; /* GKLogRedactHeader: adds */
    gk_log_dest_t *audit;           /* GKAuditLog */
    gk_log_dest_t *errlog;          /* GKErrorLog (main server only) */
    apr_array_header_t *fields;     /* GKLogField (gk_log_field_t): adds */
    int buffer;                     /* GKLogBuffer (main server only) */
} gk_log_srv_conf_t;

#define GK_LOG_DEFAULT_HEADER "X-Correlation-ID"

/* Bounds and defaults of the JSON logs. */
#define GK_LOG_MAX_LINE_DEFAULT 4096
#define GK_LOG_MAX_LINE_MIN 1024
#define GK_LOG_MAX_LINE_MAX 65536
#define GK_LOG_PIPE_MAX 4096        /* PIPE_BUF on Linux: atomic writes */
#define GK_LOG_ECS_VERSION "8.11.0"
#define GK_LOG_BUFFER_MAX (1024 * 1024)

extern const command_rec gk_log_cmds[];
void *gk_log_create_srv_conf(apr_pool_t *p, server_rec *s);
void *gk_log_merge_srv_conf(apr_pool_t *p, void *basev, void *addv);

/* Getters: the setting, or its default. */
const gk_log_srv_conf_t *gk_log_srv_conf(const server_rec *s);
int gk_log_conf_enabled(const gk_log_srv_conf_t *c);
const char *gk_log_conf_header(const gk_log_srv_conf_t *c);
/* The name, then the aliases accepted on input. */
const apr_array_header_t *gk_log_conf_names(const gk_log_srv_conf_t *c);
/* Make the defaults the getters hand out (pre_config). */
void gk_log_conf_init_defaults(apr_pool_t *p);
const gk_ap_trust_t *gk_log_conf_trust(const gk_log_srv_conf_t *c);
gk_log_format_e gk_log_conf_format(const gk_log_srv_conf_t *c);
gk_log_tp_mode_e gk_log_conf_traceparent(const gk_log_srv_conf_t *c);

int gk_log_conf_max_line(const gk_log_srv_conf_t *c);
const apr_array_header_t *gk_log_conf_redact_query(const gk_log_srv_conf_t *c);
/* Is a header's value hidden in logs (the four credentials headers, and
 * GKLogRedactHeader's)? */
int gk_log_conf_header_redacted(const gk_log_srv_conf_t *c,
                                const char *name);

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

/* gk_log_json.c: the JSON logs */
void gk_log_json_register_filters(void);
int gk_log_json_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                           apr_pool_t *ptemp);
int gk_log_open_logs(apr_pool_t *pconf, apr_pool_t *plog,
                     apr_pool_t *ptemp, server_rec *main_s);
void gk_log_json_child_init(apr_pool_t *p, server_rec *s);
int gk_log_pre_connection(conn_rec *c, void *csd);
int gk_log_json_log_transaction(request_rec *r);
void gk_log_error_log(const ap_errorlog_info *info, const char *errstr);

/* The optional functions of mod_gk_log.h. */
const char *gk_log_correlation_id(request_rec *r);
const char *gk_log_correlation_header(server_rec *s);
void gk_log_audit(request_rec *r, const char *category, const char *action,
                  const char *outcome, const char *reason,
                  const apr_table_t *fields);

#endif
