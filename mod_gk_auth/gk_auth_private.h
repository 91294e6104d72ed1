/*
 * mod_gk_auth internals shared by its files.
 */
#ifndef GK_AUTH_PRIVATE_H
#define GK_AUTH_PRIVATE_H

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_request.h"

#include "gk.h"
#include "gk_ap.h"
#include "gk_ap_problem.h"
#include "gk_ap_logfns.h"
#include "gk_claims.h"
#include "gk_jwt.h"
#include "gk_keys.h"
#include "gk_reason.h"
#include "gk_store.h"
#include "gk_strlist.h"
#include "gk_tokcache.h"

extern module AP_MODULE_DECLARE_DATA gk_auth_module;
#ifndef GK_AUTH_MODULE_FILE
APLOG_USE_MODULE(gk_auth);
#endif

#define GK_AUTH_TYPE "gk-bearer"

/* The memo slots of a verified token (gk_verified_memo_set). */
#define GK_AUTH_MEMO_IDENTITY 0 /* roles, permissions: gk_auth_identity.c */
#define GK_AUTH_MEMO_REVOKE 1       /* store keys: gk_auth_revoke_store.c */
#define GK_AUTH_DEFAULT_REALM "gatekeeper"

typedef struct {
    const char *role;
    apr_array_header_t *perms;  /* const char * */
} gk_role_perms_t;

/* What a GKAuthClaimHeader header carries: a claim or a pseudo-claim. */
typedef enum {
    GK_CH_CLAIM = 0,
    GK_CH_USER,                     /* @user */
    GK_CH_ROLES,                    /* @roles */
    GK_CH_PERMISSIONS               /* @permissions */
} gk_claim_header_kind_e;

typedef struct {
    gk_claim_header_kind_e kind;
    gk_claim_path_t *claim;         /* GK_CH_CLAIM */
    const char *header;
} gk_claim_header_t;

typedef struct {
    gk_keyring_t *ring;             /* GKAuthKey, GKAuthKeySet */
    int leeway;                     /* GKAuthLeeway */
    const char *issuer;             /* GKAuthIssuer */
    apr_array_header_t *audiences;  /* GKAuthAudience */
    int require_at_jwt;             /* GKAuthTokenType */
    int require_exp;                /* GKAuthRequireExp */
    const char *cookie;             /* GKAuthTokenCookie */
    gk_claim_path_t *user_claim;    /* GKAuthUserClaim */
    gk_claim_path_t *roles_claim;   /* GKAuthRolesClaim */
    gk_claim_path_t *perms_claim;   /* GKAuthPermissionsClaim */
    apr_array_header_t *role_perms; /* GKAuthRolePermissions, additive */
    int role_perms_merged;          /* role_perms was built per request */
    apr_array_header_t *claim_headers; /* GKAuthClaimHeader, additive */
    apr_array_header_t *claim_header_names; /* const char *: the same
                                             * headers' names, to scrub */
    int allow_preflight;            /* GKAuthAllowPreflight */
    int terse;                      /* GKAuthErrorDetail */
    apr_array_header_t *token_keys; /* GKTokenKey: gk_auth_token_key_t *,
                                     * a nested scope's list replaces */
    int jwks_max_age;               /* GKTokenJWKSMaxAge */
    apr_array_header_t *token_providers; /* GKTokenAuthProvider names */
    struct gk_auth_roles_t *roles_file;  /* GKTokenRolesFile */
    int token_lifetime;             /* GKTokenLifetime (seconds) */
    const char *token_issuer;       /* GKTokenIssuer */
    const char *token_audience;     /* GKTokenAudience */
    int token_max_body;             /* GKTokenMaxBody (bytes) */
    const char *dummy_hash;         /* GKTokenDummyHashCost's bcrypt hash */
    const char *token_cookie;       /* GKTokenCookie */
    const char *token_lifetime_where; /* GKTokenLifetime's FILE:LINE */
    int revocation;                 /* GKAuthRevocation */
    const char *revoke_admin_role;  /* GKRevokeAdminRole */
} gk_auth_dir_conf_t;

typedef struct gk_auth_roles_t gk_auth_roles_t;

/* One GKTokenKey line: the key, and its public JWK as JSON text, made
 * when the line is read (NULL for an HMAC key: never published). */
typedef struct {
    struct gk_sign_key_t *key;
    const char *jwk;
    apr_size_t jwk_len;
    const char *where;              /* "FILE:LINE" */
} gk_auth_token_key_t;

typedef struct {
    int cache_size;                 /* GKAuthCacheSize */
    int cache_lifetime;             /* GKAuthCacheLifetime */
    int max_token_lifetime;         /* GKAuthMaxTokenLifetime (seconds) */
    const char *max_token_lifetime_where;
    int rv_deny_on_error;           /* GKAuthRevocationOnStoreError */
    /* the main server's only (a virtual host holds a copy): */
    const char *rv_store_where;     /* GKAuthRevocationStore's FILE:LINE */
    int rv_shm_size;                /* shm size=N (entries), 0: default */
    const char *rv_mc_conf;         /* memcached "CONFIG", NULL: shm */
    int rv_mc_timeout;              /* GKAuthRevocationStoreTimeout (ms) */
    const char *rv_journal;         /* GKAuthRevocationJournal */
    const unsigned char *rv_key;    /* GKAuthRevocationKeySecret: 16
                                     * bytes, or NULL */
} gk_auth_srv_conf_t;

/* Defaults, applied when a value is read (never at merge). */
#define GK_AUTH_DEFAULT_LEEWAY 60
#define GK_AUTH_DEFAULT_REQUIRE_EXP 1
#define GK_AUTH_DEFAULT_REQUIRE_AT_JWT 0
#define GK_AUTH_DEFAULT_ALLOW_PREFLIGHT 0
#define GK_AUTH_DEFAULT_TERSE 0
#define GK_AUTH_DEFAULT_CACHE_SIZE 1024
#define GK_AUTH_DEFAULT_CACHE_LIFETIME 300
#define GK_AUTH_DEFAULT_REVOCATION 1
#define GK_AUTH_DEFAULT_MAX_TOKEN_LIFETIME 86400
#define GK_AUTH_DEFAULT_RV_DENY_ON_ERROR 1
#define GK_AUTH_DEFAULT_RV_MC_TIMEOUT 50
/* The shm revocation table: slots (about 96 bytes each; keep at most
 * about 70% of them live) */
#define GK_AUTH_RV_SHM_DEFAULT 65536
#define GK_AUTH_RV_SHM_MIN 64
#define GK_AUTH_RV_SHM_MAX 10000000
/* The journal's file name under httpd's runtime directory */
#define GK_AUTH_RV_JOURNAL_DEFAULT "gk_auth_revocations.journal"

/* What one request learnt; in r->request_config. Subrequests and internal
 * redirects read the state of the request that authenticated (see
 * gk_auth_req_find): whatever is added to it later comes from its pool. */
typedef struct {
    apr_pool_t *pool;               /* the owning request's pool */
    gk_verified_t *v;               /* the verified token, or NULL */
    const char *token;              /* its bytes as received (not NUL-
                                     * terminated), token_len of them */
    apr_size_t token_len;
    const char *user;
    const apr_array_header_t *roles; /* computed on first use */
    const apr_array_header_t *perms;
    const char *roles_env;          /* GK_ROLES, GK_PERMISSIONS */
    const char *perms_env;
    const char *claims_env;         /* GK_CLAIMS */
    const gk_auth_dir_conf_t *conf; /* of the authenticating scope */
    gk_ap_problem_t problem;        /* the error answer in preparation */
    const char *insufficient;       /* a gk-* Require line denied */
} gk_auth_req_t;

extern const command_rec gk_auth_cmds[];
void *gk_auth_create_dir_conf(apr_pool_t *p, char *dir);
void *gk_auth_merge_dir_conf(apr_pool_t *p, void *basev, void *addv);
void *gk_auth_create_srv_conf(apr_pool_t *p, server_rec *s);
void *gk_auth_merge_srv_conf(apr_pool_t *p, void *basev, void *addv);

/* gk_auth_config.c: getters that apply defaults */
int gk_auth_conf_leeway(const gk_auth_dir_conf_t *c);
int gk_auth_conf_require_exp(const gk_auth_dir_conf_t *c);
int gk_auth_conf_require_at_jwt(const gk_auth_dir_conf_t *c);
int gk_auth_conf_allow_preflight(const gk_auth_dir_conf_t *c);
int gk_auth_conf_terse(const gk_auth_dir_conf_t *c);
gk_claim_path_t *gk_auth_conf_user_claim(const gk_auth_dir_conf_t *c);
gk_claim_path_t *gk_auth_conf_roles_claim(const gk_auth_dir_conf_t *c);
gk_claim_path_t *gk_auth_conf_perms_claim(const gk_auth_dir_conf_t *c);
int gk_auth_conf_cache_size(const gk_auth_srv_conf_t *c);
int gk_auth_conf_cache_lifetime(const gk_auth_srv_conf_t *c);
void gk_auth_conf_init_defaults(apr_pool_t *p);

/* gk_auth_startup.c: AuthType gk-bearer where no key can reach, refused */
int gk_auth_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                         apr_pool_t *ptemp, server_rec *s);

/* gk_auth_authn.c: the check_authn hook and the token cache */
int gk_auth_check_authn(request_rec *r);
/* Verify the signature of a compact JWS with the ring's keys, no claim or
 * time checked (*gen: the key set's generation when the ring has one).
 * On success *out holds one reference (gk_auth_release_verified). */
gk_status_e gk_auth_verify_signature(const gk_keyring_t *ring,
                                     const char *token, apr_size_t len,
                                     apr_uint32_t *gen, gk_verified_t **out);
apr_status_t gk_auth_release_verified(void *v);
void gk_auth_child_init(apr_pool_t *p, server_rec *s);

/* gk_auth_request.c: what one request learnt, and how it is answered */
gk_auth_req_t *gk_auth_req(request_rec *r, int create);
gk_auth_req_t *gk_auth_req_find(request_rec *r);
/* The slot of the problem+json record (gk_ap_problem_slot_fn). */
gk_ap_problem_t *gk_auth_problem_slot(request_rec *r, int create);
void gk_auth_set_challenge(request_rec *r, const char *error,
                           const char *description);
/* Answer status for reason: the challenge (with error, and the reason's
 * text unless there was no token at all), the error body, the notes. */
int gk_auth_deny(request_rec *r, int status, const char *error,
                 gk_reason_e reason);
/* A gk-* Require line denied: the insufficient_scope answer, 403 unless
 * httpd asks for a challenge (gk_auth_note_auth_failure). */
void gk_auth_deny_scope(request_rec *r, const char *detail);
/* The request was granted after a gk-* line denied (RequireAny): no
 * insufficient_scope answer after all. */
void gk_auth_forget_denial(request_rec *r);
int gk_auth_note_auth_failure(request_rec *r, const char *auth_type);
int gk_auth_is_preflight(request_rec *r);
/* Record the outcome for other modules (the gk-auth-* notes). */
void gk_auth_note_outcome(request_rec *r, gk_reason_e reason);

/* gk_auth_identity.c: what the backend sees */
int gk_auth_header_parser(request_rec *r);
int gk_auth_fixups(request_rec *r);
const apr_array_header_t *gk_auth_roles(request_rec *r, gk_auth_req_t *req);
const apr_array_header_t *gk_auth_perms(request_rec *r, gk_auth_req_t *req);
const char *gk_auth_claim(request_rec *r, const char *name);
const char *gk_auth_claim_string(apr_pool_t *p, json_t *v);

/* gk_auth_authz.c */
void gk_auth_register_providers(apr_pool_t *p);

/* Audit events: a decision recorded through mod_gk_log's gk_log_audit
 * (gk_ap_logfns.h) when that module is loaded; without it, the
 * info-level lines GK10006, GK10031... are the record. */
void gk_auth_retrieve_fns(void);

/* gk_auth_token_keys.c: GKTokenKey and GKTokenJWKSMaxAge (handlers in the
 * table of gk_auth_config.c), and the gk-jwks handler. */
const char *gk_auth_set_token_key(cmd_parms *cmd, void *dc, int argc,
                                  char *const argv[]);
/* gk_auth_config.c: an algorithm name, and a key source (env:VAR,
 * file:PATH or a PATH, relative to ServerRoot), for GKAuthKey and
 * GKTokenKey alike. */
const char *gk_auth_parse_alg(cmd_parms *cmd, const char *arg, gk_alg_e *alg);
const char *gk_auth_key_source(cmd_parms *cmd, const char *source,
                               const char **out);
int gk_auth_conf_jwks_max_age(const gk_auth_dir_conf_t *c);
int gk_auth_jwks_handler(request_rec *r);

/* gk_auth_token.c: SetHandler gk-token, and GKTokenRolesFile. */
/* The form a handler takes: a POST, application/x-www-form-urlencoded,
 * at most GKTokenMaxBody bytes, 16 fields, none repeated. *form set when
 * it is one (return OK); else *form NULL and the error was answered
 * (RFC 6749 §5.2 JSON; 405 with Allow: POST and post_only as its
 * description): return what this returns. */
int gk_auth_read_form(request_rec *r, const gk_auth_dir_conf_t *c,
                      const char *post_only, apr_table_t **form);
/* An RFC 6749 §5.2 JSON error answer (no-store); returns OK. */
int gk_auth_oauth_error(request_rec *r, int status, const char *error,
                        const char *description);
/* Cache-Control: no-store and Pragma: no-cache. */
void gk_auth_no_store(request_rec *r);
#define GK_AUTH_TOKEN_HANDLER "gk-token"
int gk_auth_token_handler(request_rec *r);
const char *gk_auth_set_roles_file(cmd_parms *cmd, void *dc,
                                   const char *arg);
/* Getters of the token endpoint's settings (gk_auth_config.c). */
const apr_array_header_t *gk_auth_conf_token_providers(
    const gk_auth_dir_conf_t *c);
int gk_auth_conf_token_lifetime(const gk_auth_dir_conf_t *c);
const char *gk_auth_conf_token_issuer(const gk_auth_dir_conf_t *c);
const char *gk_auth_conf_token_audience(const gk_auth_dir_conf_t *c);
int gk_auth_conf_token_max_body(const gk_auth_dir_conf_t *c);
const char *gk_auth_conf_dummy_hash(const gk_auth_dir_conf_t *c);
const char *gk_auth_conf_token_cookie(const gk_auth_dir_conf_t *c);
/* A bcrypt hash of a fixed password at cost (for unknown users), in p;
 * NULL on failure. */
const char *gk_auth_dummy_hash(apr_pool_t *p, int cost);
/* The default dummy hash (cost 5), made once in pre_config. */
void gk_auth_token_init(apr_pool_t *pconf);
#define GK_AUTH_JWKS_HANDLER "gk-jwks"
/* Longest GKTokenJWKSMaxAge: a year. */
#define GK_AUTH_JWKS_MAX_AGE_MAX 31536000
/* ---- revocation (issue 14) --------------------------------------------- */

#define GK_AUTH_REVOKE_HANDLER "gk-revoke"
#define GK_AUTH_RV_MUTEX "gk-auth-revocation-shm"

/* gk_auth_revoke_config.c: the directives' handlers (in the table of
 * gk_auth_config.c), getters, and the startup checks */
const char *gk_auth_set_revocation_store(cmd_parms *cmd, void *dc, int argc,
                                         char *const argv[]);
const char *gk_auth_set_revocation_timeout(cmd_parms *cmd, void *dc,
                                           const char *arg);
const char *gk_auth_set_revocation_on_error(cmd_parms *cmd, void *dc,
                                            const char *arg);
const char *gk_auth_set_revocation_journal(cmd_parms *cmd, void *dc,
                                           const char *arg);
const char *gk_auth_set_revocation_secret(cmd_parms *cmd, void *dc,
                                          const char *arg);
const char *gk_auth_set_max_token_lifetime(cmd_parms *cmd, void *dc,
                                           const char *arg);
const char *gk_auth_set_revoke_admin_role(cmd_parms *cmd, void *dc,
                                          const char *arg);
/* A duration: seconds, or with a unit (15m, 1h, 1d), within [1, max]. */
const char *gk_auth_parse_duration(cmd_parms *cmd, const char *arg, int max,
                                   int *out);
int gk_auth_conf_revocation(const gk_auth_dir_conf_t *c);
int gk_auth_conf_max_token_lifetime(const gk_auth_srv_conf_t *c);
int gk_auth_conf_rv_deny_on_error(const gk_auth_srv_conf_t *c);
/* check_config: GKTokenLifetime against GKAuthMaxTokenLifetime; and
 * whether any scope needs the revocation store (gk_auth_revoke_needed,
 * for the post_config that follows). */
int gk_auth_revoke_check_config(apr_pool_t *ptemp, server_rec *s);
int gk_auth_revoke_needed(void);

/* gk_auth_revoke_store.c: the store's life and its journal */
void gk_auth_revoke_register_mutex(apr_pool_t *pconf);
int gk_auth_revoke_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                               apr_pool_t *ptemp, server_rec *s);
void gk_auth_revoke_child_init(apr_pool_t *p, server_rec *s);

/* What a lookup found. */
typedef enum {
    GK_AUTH_RV_OK = 0,      /* not revoked (or no store: nothing ever is) */
    GK_AUTH_RV_REVOKED,
    GK_AUTH_RV_ERROR        /* the store failed: the policy decides */
} gk_auth_rv_e;

/* Is the verified token (len bytes at token) revoked at now? */
gk_auth_rv_e gk_auth_revoked(request_rec *r, gk_verified_t *v,
                             const char *token, apr_size_t len,
                             apr_int64_t now);

/* Store one revocation: the key (a token's or a subject's), its value and
 * expiry, in the group of the subject key (NULL: none). GK_STORE_OK, or
 * the store's failure (GK_STORE_DOWN when there is no store). */
gk_store_result_e gk_auth_revoke_put(request_rec *r, char kind,
                                     const char *key, const char *group,
                                     apr_uint64_t value, apr_int64_t expires,
                                     apr_int64_t now);

/* The hashing key of the revocation keys (NULL: plain SHA-256). */
const unsigned char *gk_auth_revoke_key16(void);

/* gk_auth_revoke.c: SetHandler gk-revoke */
int gk_auth_revoke_handler(request_rec *r);

/* One audit event: action, the reason code, and one optional field. */
void gk_auth_audit(request_rec *r, const char *action, gk_reason_e reason,
                   const char *key, const char *val);

#endif
