/*
 * mod_gk_validate internals shared by its files.
 */
#ifndef GK_VALIDATE_PRIVATE_H
#define GK_VALIDATE_PRIVATE_H

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_request.h"

#include "gk.h"
#include "gk_ap.h"
#include "gk_ap_problem.h"
#include "gk_schema.h"

extern module AP_MODULE_DECLARE_DATA gk_validate_module;
#ifndef GK_VALIDATE_MODULE_FILE
APLOG_USE_MODULE(gk_validate);
#endif

/* Defaults and bounds of the directives. */
#define GK_VALIDATE_MAX_BODY_DEFAULT (1024 * 1024)
#define GK_VALIDATE_MAX_BODY_MAX (1024 * 1024 * 1024)
#define GK_VALIDATE_MAX_DEPTH_DEFAULT 64
#define GK_VALIDATE_MAX_DEPTH_MAX 2048 /* jansson's own limit */
#define GK_VALIDATE_MAX_ERRORS_DEFAULT 10
#define GK_VALIDATE_MAX_ERRORS_MAX 1000

/* One schema file, loaded once however many scopes name it. */
typedef struct {
    const char *path;           /* absolute */
    const char *uri;            /* "file://" + path: its URI in the set */
    const char *where;          /* "FILE:LINE" of the first line naming it */
    const gk_schema_t *compiled; /* set by check_config */
} gk_val_schema_t;

/* Per-directory settings. */
typedef struct {
    const gk_val_schema_t *schema; /* NULL with "none" or unset */
    int schema_set;             /* GK_UNSET or 1 */
    apr_int64_t methods;        /* AP_METHOD_BIT mask; 0: unset */
    int max_body;               /* GK_UNSET or bytes */
    int max_depth;
    int max_errors;
    int formats;                /* 1 assert, 0 annotate, GK_UNSET */
} gk_val_dir_conf_t;

extern const command_rec gk_val_cmds[];
void *gk_val_create_dir_conf(apr_pool_t *p, char *dir);
void *gk_val_merge_dir_conf(apr_pool_t *p, void *basev, void *addv);
apr_int64_t gk_val_conf_methods(const gk_val_dir_conf_t *c);
int gk_val_conf_max_body(const gk_val_dir_conf_t *c);
int gk_val_conf_max_depth(const gk_val_dir_conf_t *c);
int gk_val_conf_max_errors(const gk_val_dir_conf_t *c);
int gk_val_conf_formats_assert(const gk_val_dir_conf_t *c);

/* pre_config: a new configuration is read (forget the last one's
 * schemas). check_config: compile every schema loaded (also under
 * apache2 -t); a refusal names the directive, the file, the JSON pointer
 * and the reason. */
void gk_val_config_reset(void);
int gk_val_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                        apr_pool_t *ptemp, server_rec *s);

/* gk_validate_body.c: the request path. */
int gk_val_fixups(request_rec *r);
gk_ap_problem_t *gk_val_problem_slot(request_rec *r, int create);
void gk_val_retrieve_fns(void);

/* gk_validate_filter.c: the replay input filter. */
void gk_val_replay_register(void);
/* Hand the len bytes at buf (in the pool of the client's request) to
 * whoever reads r's body from now on, with Content-Length: len and no
 * Transfer-Encoding, as mod_proxy_http frames a body it read whole. */
void gk_val_replay_install(request_rec *r, const char *buf, apr_size_t len);

#endif
