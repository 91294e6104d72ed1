/*
 * mod_gk_ratelimit internals shared by its files.
 */
#ifndef GK_RATELIMIT_PRIVATE_H
#define GK_RATELIMIT_PRIVATE_H

#include "apr_hash.h"
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_request.h"

#include "gk.h"
#include "gk_ap.h"
#include "gk_ap_problem.h"
#include "gk_rate.h"
#include "gk_store.h"

extern module AP_MODULE_DECLARE_DATA gk_ratelimit_module;
#ifndef GK_RATELIMIT_MODULE_FILE
APLOG_USE_MODULE(gk_ratelimit);
#endif

/* The mutex type of the shm store (the Mutex directive names it). */
#define GK_RATELIMIT_MUTEX "gk-ratelimit-shm"
/* GKRateLimitStore shm's default and bounds (counters). */
#define GK_RATELIMIT_SHM_DEFAULT 100000
#define GK_RATELIMIT_SHM_MIN 64
#define GK_RATELIMIT_SHM_MAX 10000000
/* GKRateLimitStoreTimeout's default (ms). */
#define GK_RATELIMIT_MC_TIMEOUT 50

/* The longest limit name (it goes into the RateLimit fields). */
#define GK_RATELIMIT_NAME_MAX 64

typedef enum {
    GK_RL_ENFORCE = 0,
    GK_RL_REPORT = 1
} gk_rl_mode_e;

/* One GKRateLimit line, immutable once read. */
typedef struct {
    const char *name;
    gk_rate_t rate;
    gk_rate_key_t keys[GK_RATE_KEYS_MAX];
    int nkeys;
    int when;                   /* GK_RL_IN_ACCESS or GK_RL_IN_FIXUPS */
    apr_int64_t methods;        /* AP_METHOD_BIT mask, 0: every method */
    int status;                 /* the refusal's status (429) */
    int mode;                   /* gk_rl_mode_e */
    const char *dir;            /* .htaccess: its directory (part of the
                                 * counters' identity); else NULL */
    int off;                    /* GKRateLimit NAME off */
    const char *where;          /* "FILE:LINE" */
    const char *policy;         /* the RateLimit-Policy item:
                                 * "NAME";q=N;w=S */
    apr_uint64_t id;            /* gk_rate_limit_id(name, dir) */
    apr_size_t name_len, policy_len;
} gk_rl_limit_t;

/* Where a limit is checked: by key kinds (a user key waits for
 * authentication). */
#define GK_RL_IN_ACCESS 1
#define GK_RL_IN_FIXUPS 2

/* Per-directory settings. */
typedef struct {
    apr_array_header_t *limits;     /* const gk_rl_limit_t *, in order;
                                     * "off" lines included */
    int headers;                    /* GKRateLimitHeaders (GK_UNSET) */
} gk_rl_dir_conf_t;

/* Server and virtual host settings. */
typedef struct {
    int on_error;                   /* GKRateLimitOnStoreError: 1 deny,
                                     * 0 allow, GK_UNSET */
    apr_hash_t *names;              /* NAME -> the first line's limit, to
                                     * keep one policy per name */
    apr_uint64_t site_id;           /* gk_rate_site_id(ServerName), made
                                     * in post_config */
    /* main server only */
    int store_set;                  /* GKRateLimitStore given */
    const char *store_where;
    int shm_size;                   /* counters, 0: the default */
    const char *mc_conf;            /* GKRateLimitStore memcached: its
                                     * libmemcached string; NULL: shm */
    int mc_timeout;                 /* GKRateLimitStoreTimeout (ms), 0:
                                     * the default */
    const unsigned char *secret_key; /* GKRateLimitKeySecret's 16-byte
                                      * key, derived when the line is
                                      * read; NULL: none */
} gk_rl_srv_conf_t;

extern const command_rec gk_rl_cmds[];
void *gk_rl_create_dir_conf(apr_pool_t *p, char *dir);
void *gk_rl_merge_dir_conf(apr_pool_t *p, void *basev, void *addv);
void *gk_rl_create_srv_conf(apr_pool_t *p, server_rec *s);
void *gk_rl_merge_srv_conf(apr_pool_t *p, void *basev, void *addv);
int gk_rl_conf_headers(const gk_rl_dir_conf_t *c);
int gk_rl_conf_deny_on_error(const gk_rl_srv_conf_t *c);


/* check_config: what needs two directives (memcached needs the secret). */
int gk_rl_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                       apr_pool_t *ptemp, server_rec *s);

/* gk_ratelimit_shm.c: the store of the whole host, or memcached's. */
void gk_rl_register_mutex(apr_pool_t *pconf);
/* post_config: the segment, its mutex and the counter-key secret, made
 * once per life of the parent process (kept across restarts). */
int gk_rl_shm_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                          apr_pool_t *ptemp, server_rec *s);
void gk_rl_shm_child_init(apr_pool_t *p, server_rec *s);
/* The child's store, NULL before child_init or when it failed. */
gk_store_t *gk_rl_store(void);
/* Around a store operation of r (the breaker's audit events name it). */
void gk_rl_store_begin(request_rec *r);
void gk_rl_store_end(void);
/* The 128-bit key of the counter keys' hash. */
const unsigned char *gk_rl_key(void);

/* gk_ratelimit_check.c: the hooks of a request. */
int gk_rl_access_checker(request_rec *r);
int gk_rl_fixups(request_rec *r);
gk_ap_problem_t *gk_rl_problem_slot(request_rec *r, int create);
void gk_rl_retrieve_fns(void);

#endif
