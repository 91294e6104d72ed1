/*
 * mod_gk_headers internals shared by its files.
 */
#ifndef GK_HEADERS_PRIVATE_H
#define GK_HEADERS_PRIVATE_H

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_request.h"

#include "gk.h"
#include "gk_ap.h"
#include "gk_cors.h"

extern module AP_MODULE_DECLARE_DATA gk_headers_module;
#ifndef GK_HEADERS_MODULE_FILE
APLOG_USE_MODULE(gk_headers);
#endif

/* GKSecurityHeaders */
typedef enum {
    GK_HEADERS_PROFILE_OFF = 0,
    GK_HEADERS_PROFILE_API = 1,
    GK_HEADERS_PROFILE_HTML = 2,
    GK_HEADERS_PROFILE_STRICT = 3
} gk_headers_profile_e;

/* GKSecurityHeaderPolicy */
typedef enum {
    GK_HEADERS_OVERRIDE = 0,        /* ours replaces the handler's */
    GK_HEADERS_KEEP_BACKEND = 1     /* the handler's (first) copy wins */
} gk_headers_policy_e;

/* One header of the effective set: value NULL means "none from us" (a
 * GKSecurityHeader NAME off); what happens to the handler's copy is the
 * policy's decision. */
typedef struct {
    const char *name;
    apr_size_t nlen;                /* strlen(name) */
    const char *value;
    int policy;                     /* gk_headers_policy_e */
} gk_headers_hdr_t;

/* A set of headers: a profile's (static, built at startup) or the one a
 * request computes when its scope has overrides. */
typedef struct {
    const gk_headers_hdr_t *h;
    int n;
    apr_uint64_t lens;              /* bit k: a name of length k (k < 64;
                                     * bit 63 also for any longer name) */
} gk_headers_set_t;

/* The bit of a name length in gk_headers_set_t.lens. */
#define GK_HEADERS_LEN_BIT(n) ((apr_uint64_t)1 << ((n) < 63 ? (n) : 63))

/* GKSecurityHeader NAME VALUE|off */
typedef struct {
    const char *name;
    const char *value;              /* NULL: off */
} gk_headers_override_t;

/* GKSecurityHeaderPolicy NAME override|keep-backend */
typedef struct {
    const char *name;
    int policy;
} gk_headers_policy_t;

typedef struct gk_headers_cors_req_t gk_headers_cors_req_t;

/* ---- CORS settings: one immutable object per directive line, made when
 * the line is read; a nested scope's line replaces the parent's object.
 * where is the line's "FILE:LINE", for the messages about combinations
 * of scopes. */

/* GKCORSAllowOrigin */
typedef struct {
    const gk_cors_allowed_t *list;
    int n;
    int any;                    /* "*" */
    int none;                   /* "none": CORS off in this scope */
    int plain_http;             /* an http:// origin other than loopback */
    const char *where;
} gk_headers_cors_origins_t;

/* GKCORSAllowMethods, GKCORSAllowHeaders, GKCORSExposeHeaders */
typedef struct {
    const char *const *list;
    int n;
    int any;                    /* "*" */
    const char *answer;         /* the header value: "GET, PUT" or "*";
                                 * NULL for an empty list */
    const char *where;
} gk_headers_cors_list_t;

/* GKCORSAllowCredentials */
typedef struct {
    int on;
    const char *where;
} gk_headers_cors_flag_t;

/* Per-directory settings. Unset (GK_UNSET or NULL) until a directive
 * gives them; the getters apply the defaults. */
typedef struct {
    int profile;                        /* GKSecurityHeaders */
    apr_array_header_t *overrides;      /* gk_headers_override_t, adds */
    apr_array_header_t *policies;       /* gk_headers_policy_t, adds */
    const gk_headers_cors_origins_t *cors_origins;
    const gk_headers_cors_list_t *cors_methods;
    const gk_headers_cors_list_t *cors_headers;
    const gk_headers_cors_list_t *cors_expose;
    const gk_headers_cors_flag_t *cors_credentials;
    const char *cors_max_age;           /* GKCORSMaxAge's value, "" for
                                         * "none"; NULL: unset */
    int cors_private_network;           /* GKCORSAllowPrivateNetwork */
} gk_headers_dir_conf_t;

/* Server and virtual host settings. Unset (GK_UNSET or NULL) until a
 * directive gives them; the getters apply the defaults. */
typedef struct {
    const char *hsts;               /* GKHSTS: the header value */
    int hsts_set;                   /* GKHSTS given (GK_UNSET) */
    const gk_ap_trust_t *trust;     /* GKTrustedProxies */
    int require;                    /* GKRequireHTTPS On|Off (GK_UNSET) */
    const char *require_origin;     /* "https://HOST[:PORT]", NULL: the
                                     * virtual host's ServerName */
    int require_status;             /* for GET and HEAD, 0: 301 */
    apr_array_header_t *require_except; /* extra path prefixes */
    int nonce;                      /* GKCSPNonce On|Off (GK_UNSET) */
    apr_array_header_t *nonce_header;   /* its HEADER, one name (const
                                         * char *), NULL: the default */
    int problem;                    /* GKProblemJSON (GK_UNSET) */
    const char *cors_expose;        /* the default Expose-Headers, made in
                                     * post_config (the correlation header
                                     * of this server) */
} gk_headers_srv_conf_t;

#define GK_HEADERS_NONCE_HEADER "X-CSP-Nonce"
/* Random bytes of a nonce (CSP3: at least 128 bits). */
#define GK_HEADERS_NONCE_BYTES 16

/* Always exempt from GKRequireHTTPS (RFC 8555 §8.3: http-01 is fetched
 * over plain HTTP). */
#define GK_HEADERS_ACME_PREFIX "/.well-known/acme-challenge/"

/* Longest max-age GKHSTS accepts: ten years. */
#define GK_HEADERS_HSTS_MAX 315360000L

extern const command_rec gk_headers_cmds[];
void *gk_headers_create_srv_conf(apr_pool_t *p, server_rec *s);
void *gk_headers_merge_srv_conf(apr_pool_t *p, void *basev, void *addv);
const gk_headers_srv_conf_t *gk_headers_srv_conf(const server_rec *s);
/* The HSTS value, or NULL when none is configured. */
const char *gk_headers_conf_hsts(const gk_headers_srv_conf_t *c);
const gk_ap_trust_t *gk_headers_conf_trust(const gk_headers_srv_conf_t *c);
int gk_headers_conf_nonce(const gk_headers_srv_conf_t *c);
int gk_headers_conf_problem(const gk_headers_srv_conf_t *c);
/* The request header that carries the nonce to backends, as a list of
 * one name for gk_ap_scrub_headers. */
const apr_array_header_t *gk_headers_conf_nonce_header(
    const gk_headers_srv_conf_t *c);

/* gk_headers_https.c: is the request on a secure connection, as the
 * client sees it (TLS to us, or to a trusted proxy that says so)? */
int gk_headers_is_secure(request_rec *r, const gk_headers_srv_conf_t *sc);
/* GKRequireHTTPS's redirect: a status, or DECLINED. */
int gk_headers_require_https(request_rec *r);

/* The module's state of one request, kept on the original request (the
 * one the client sent: internal redirects and subrequests share it). */
typedef struct {
    const char *nonce;                  /* GKCSPNonce's, NULL: none */
    const gk_headers_cors_req_t *cors;  /* the CORS decision */
    int cors_decided;
} gk_headers_req_t;

/* The original request of r (through r->main and r->prev). */
request_rec *gk_headers_origin_of(request_rec *r);
/* The state of r's original request, made on first use. */
gk_headers_req_t *gk_headers_req(request_rec *r);

/* gk_headers_nonce.c: GKCSPNonce. */
void gk_headers_child_init(apr_pool_t *p, server_rec *s);
/* Make the request's nonce (once for a request, its internal redirects
 * and subrequests) and hand it to the backend: OK, or a status. */
int gk_headers_nonce_request(request_rec *r);
/* The request's nonce, NULL when none was made. */
const char *gk_headers_nonce(request_rec *r);

/* gk_headers_problem.c: GKProblemJSON. */
void gk_headers_register_problem_filter(void);
void gk_headers_retrieve_fns(void);
/* Add the problem filter to r (from_error: from insert_error_filter). */
void gk_headers_insert_problem(request_rec *r, int from_error);

/* The header_parser hook: the redirect, else the nonce. */
int gk_headers_header_parser(request_rec *r);
void *gk_headers_create_dir_conf(apr_pool_t *p, char *dir);
void *gk_headers_merge_dir_conf(apr_pool_t *p, void *basev, void *addv);

gk_headers_profile_e gk_headers_conf_profile(const gk_headers_dir_conf_t *c);

/* gk_headers_profiles.c: the profiles' header sets and the headers a
 * profile removes. */
const gk_headers_set_t *gk_headers_profile_set(gk_headers_profile_e p);
/* Fill in the profiles' length masks (register_hooks, one thread). */
void gk_headers_profiles_init(void);
typedef struct {
    const char *name;
    apr_size_t nlen;
} gk_headers_name_t;
extern const gk_headers_name_t gk_headers_removed[];  /* {NULL, 0} ends */
/* The default policy of a header name (keep-backend for Cache-Control). */
gk_headers_policy_e gk_headers_default_policy(const char *name);
/* The set of a scope: the profile's, with the scope's overrides and
 * policies applied (built in p only when there are any). */
const gk_headers_set_t *gk_headers_effective_set(apr_pool_t *p,
                                                 const gk_headers_dir_conf_t *c);

/* gk_headers_cors_config.c: the CORS directives' handlers (the table is
 * in gk_headers_config.c) and their merge. */
const char *gk_headers_set_cors_origin(cmd_parms *cmd, void *dc, int argc,
                                       char *const argv[]);
const char *gk_headers_set_cors_list(cmd_parms *cmd, void *dc, int argc,
                                     char *const argv[]);
const char *gk_headers_set_cors_credentials(cmd_parms *cmd, void *dc,
                                            int on);
const char *gk_headers_set_cors_max_age(cmd_parms *cmd, void *dc,
                                        const char *arg);
const char *gk_headers_set_cors_private_network(cmd_parms *cmd, void *dc,
                                                int on);
void gk_headers_cors_merge(gk_headers_dir_conf_t *c,
                           const gk_headers_dir_conf_t *base,
                           const gk_headers_dir_conf_t *add);
/* The default Access-Control-Expose-Headers of every server (post_config). */
int gk_headers_cors_post_config(apr_pool_t *p, apr_pool_t *plog,
                                apr_pool_t *ptemp, server_rec *s);
/* cmd->info of gk_headers_set_cors_list, one per directive. */
extern const int gk_headers_cors_methods_info, gk_headers_cors_headers_info,
    gk_headers_cors_expose_info;

/* gk_headers_cors.c: the decision on a request and its headers. */
/* Is CORS configured in this scope (GKCORSAllowOrigin, not none)? */
int gk_headers_cors_on(const gk_headers_dir_conf_t *c);
/* header_parser: decide, once per request; a preflight is answered here
 * (its status returned: 204 or 403), else DECLINED. */
int gk_headers_cors_request(request_rec *r);
/* The decision for the response of r (made on first use, kept on the
 * original request), or NULL when r's scope has no CORS. */
const gk_headers_cors_req_t *gk_headers_cors_decision(request_rec *r);
/* Write the response's CORS headers and Vary into r->headers_out (the
 * handler's Access-Control-* removed before). have_acx, have_vary: does
 * either table hold such a field? */
void gk_headers_cors_apply(request_rec *r, const gk_headers_cors_req_t *d,
                           int have_acx, int have_vary);
void gk_headers_cors_child_init(apr_pool_t *p, server_rec *s);
void gk_headers_cors_retrieve_fns(void);

/* gk_headers_filter.c: the response filter and its insertion. */
void gk_headers_register_filters(void);
void gk_headers_insert_filter(request_rec *r);
void gk_headers_insert_error_filter(request_rec *r);
/* Extend the response's Vary (both tables, into headers_out) with ours. */
void gk_headers_extend_vary(request_rec *r, const char *ours);

#endif
