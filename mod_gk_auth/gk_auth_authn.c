/*
 * mod_gk_auth authentication: find the bearer token, verify it (or find it
 * in the per-process cache), check the location's claim policy and set the
 * user. Failures answer per RFC 6750 with a Bearer challenge
 * (gk_auth_request.c).
 */
#include "apr_atomic.h"
#include "apr_strings.h"
#include "http_core.h"
#include "http_protocol.h"
#include "mod_auth.h"

#include "gk_auth_private.h"
#include "gk_http.h"
#include "gk_reason.h"
#include "gk_text.h"

static gk_tokcache_t *token_cache;  /* per process, from child_init */

void gk_auth_child_init(apr_pool_t *p, server_rec *s)
{
    gk_auth_srv_conf_t *sc = ap_get_module_config(s->module_config,
                                                  &gk_auth_module);

    token_cache = gk_tokcache_create(
        p, (unsigned)gk_auth_conf_cache_size(sc),
        (unsigned)gk_auth_conf_cache_lifetime(sc));
}

/* ---- finding the token --------------------------------------------------- */

typedef struct {
    const char *name;
    apr_size_t name_len;
    const char *value;
    apr_size_t value_len;
    int count;
} cookie_search_t;

static int scan_cookie_header(void *baton, const char *key, const char *val)
{
    cookie_search_t *cs = baton;
    const char *s = val;

    while (*s) {
        const char *eq, *end;
        while (*s == ' ' || *s == '\t' || *s == ';') {
            s++;
        }
        end = strchr(s, ';');
        if (!end) {
            end = s + strlen(s);
        }
        eq = memchr(s, '=', (apr_size_t)(end - s));
        if (eq && (apr_size_t)(eq - s) == cs->name_len
            && !memcmp(s, cs->name, cs->name_len)) {
            const char *ve = end;
            while (ve > eq + 1 && (ve[-1] == ' ' || ve[-1] == '\t')) {
                ve--;
            }
            cs->value = eq + 1;
            cs->value_len = (apr_size_t)(ve - (eq + 1));
            cs->count++;
        }
        s = end;
    }
    return 1;
}

/* The credentials of the Authorization (or Proxy-Authorization) header
 * when its scheme is Bearer: OK with *token, NULL for no header or another
 * scheme (not ours: as if there were no token); or the denial of empty
 * credentials. */
static int header_token(request_rec *r, const char **token, apr_size_t *len)
{
    const char *h = apr_table_get(r->headers_in,
                                  r->proxyreq == PROXYREQ_PROXY
                                      ? "Proxy-Authorization"
                                      : "Authorization");
    const char *e;

    *token = NULL;
    *len = 0;
    if (!h) {
        return OK;
    }
    while (*h == ' ' || *h == '\t') {
        h++;
    }
    if (strncasecmp(h, "Bearer", 6) || (h[6] && h[6] != ' ')) {
        return OK;
    }
    for (h += 6; *h == ' '; h++) {
    }
    e = h + strlen(h);
    while (e > h && (e[-1] == ' ' || e[-1] == '\t')) {
        e--;
    }
    if (e == h) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, GKLOGNO(10001)
                      "Bearer credentials are empty");
        return gk_auth_deny(r, HTTP_BAD_REQUEST, "invalid_request",
                            GK_REASON_BAD_CREDENTIALS);
    }
    /* the syntax is checked when the token is not in the cache */
    *token = h;
    *len = (apr_size_t)(e - h);
    return OK;
}

/* Returns OK with *token (maybe NULL: no token), or an error status. */
static int find_token(request_rec *r, const gk_auth_dir_conf_t *conf,
                      const char **token, apr_size_t *len)
{
    cookie_search_t cs = {conf->cookie, 0, NULL, 0, 0};
    int rv = header_token(r, token, len);

    if (rv != OK || !conf->cookie) {
        return rv;
    }
    cs.name_len = strlen(conf->cookie);
    apr_table_do(scan_cookie_header, &cs, r->headers_in, "Cookie", NULL);
    if (cs.count > 1 || (cs.count && *token)) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, GKLOGNO(10002)
                      "more than one token in the request");
        return gk_auth_deny(r, HTTP_BAD_REQUEST, "invalid_request",
                            GK_REASON_MULTIPLE_TOKENS);
    }
    if (cs.count) {
        *token = cs.value;
        *len = cs.value_len;
    }
    return OK;
}

/* ---- verification --------------------------------------------------------- */

apr_status_t gk_auth_release_verified(void *data)
{
    gk_verified_unref(data);
    return APR_SUCCESS;
}

gk_status_e gk_auth_verify_signature(const gk_keyring_t *ring,
                                     const char *token, apr_size_t len,
                                     apr_uint32_t *gen, gk_verified_t **out)
{
    const apr_array_header_t *sets[2];
    gk_keygen_t *g = NULL;
    gk_status_e st;
    int n = 0;

    sets[n++] = ring->keys;
    if (ring->jwks) {
        g = gk_jwks_acquire(ring->jwks);
        sets[n++] = g->keys;
        *gen = g->gen;
    }
    st = gk_jwt_verify(token, len, sets, n, out);
    if (g) {
        gk_jwks_release(ring->jwks, g);
    }
    return st;
}

/* The verified record for token under conf's keys, from the cache or
 * verified now; the request holds one reference. */
static gk_status_e verify(request_rec *r, const gk_keyring_t *ring,
                          const char *token, apr_size_t len, apr_int64_t now,
                          gk_verified_t **out)
{
    apr_uint32_t gen = 0;
    gk_verified_t *v;
    gk_status_e st;

    if (ring->jwks) {
        gk_jwks_refresh(ring->jwks, (apr_uint32_t)now);
        gen = apr_atomic_read32(&ring->jwks->gen);
    }
    v = gk_tokcache_get(token_cache, token, len, ring, gen, now);
    if (!v) {
        st = gk_auth_verify_signature(ring, token, len, &gen, &v);
        if (st != GK_OK) {
            /* A token that verifies is base64url, a b64token; only a
             * failure needs the check that tells 400 from 401. */
            return gk_http_is_b64token(token, len) ? st : GK_ERR_SYNTAX;
        }
        gk_tokcache_put(token_cache, v, token, len, ring, gen, now);
    }
    apr_pool_cleanup_register(r->pool, v, gk_auth_release_verified,
                              apr_pool_cleanup_null);
    *out = v;
    return GK_OK;
}

/* The claims a token must have here (gk_jwt_check_claims). */
static void claims_policy(const gk_auth_dir_conf_t *conf,
                          gk_claims_policy_t *pol)
{
    pol->leeway = gk_auth_conf_leeway(conf);
    pol->require_exp = gk_auth_conf_require_exp(conf);
    pol->require_at_jwt = gk_auth_conf_require_at_jwt(conf);
    pol->issuer = conf->issuer;
    pol->audiences = conf->audiences;
}

/* A token that failed: 400 for credentials that are no b64token, else
 * 401 invalid_token with the status's reason. */
static int refuse_token(request_rec *r, gk_status_e st)
{
    if (st == GK_ERR_SYNTAX) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, GKLOGNO(10003)
                      "malformed bearer token");
        return gk_auth_deny(r, HTTP_BAD_REQUEST, "invalid_request",
                            gk_reason_of_status(st));
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, GKLOGNO(10006)
                  "bearer token refused: %s", gk_status_text(st));
    return gk_auth_deny(r, HTTP_UNAUTHORIZED, "invalid_token",
                        gk_reason_of_status(st));
}

/* The user the verified token names, or a denial. */
static int find_user(request_rec *r, const gk_auth_dir_conf_t *conf,
                     const gk_verified_t *v, const char **user)
{
    const gk_claim_path_t *claim = gk_auth_conf_user_claim(conf);
    json_t *u = gk_claim_get(v->payload, claim);

    *user = json_string_value(u);
    if (!*user || !**user) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, GKLOGNO(10007)
                      "bearer token refused: no user claim '%s'",
                      claim->name);
        return gk_auth_deny(r, HTTP_UNAUTHORIZED, "invalid_token",
                            GK_REASON_NO_USER);
    }
    if (!gk_text_is_name(*user, json_string_length(u))) {
        /* it would become REMOTE_USER, GK_USER, headers and log lines */
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, GKLOGNO(10009)
                      "bearer token refused: user claim '%s' holds a control "
                      "character or is not UTF-8", claim->name);
        return gk_auth_deny(r, HTTP_UNAUTHORIZED, "invalid_token",
                            GK_REASON_INVALID_USER);
    }
    return OK;
}

/* The denylist (gk_auth_revoke_store.c): a revoked token is refused
 * before any Require; a failing store answers per
 * GKAuthRevocationOnStoreError. */
static int check_revoked(request_rec *r, gk_verified_t *v, const char *token,
                         apr_size_t len, apr_int64_t now)
{
    static volatile apr_uint32_t said;
    const gk_auth_srv_conf_t *sc;

    switch (gk_auth_revoked(r, v, token, len, now)) {
    case GK_AUTH_RV_OK:
        return OK;
    case GK_AUTH_RV_REVOKED:
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, GKLOGNO(10079)
                      "bearer token refused: revoked");
        return gk_auth_deny(r, HTTP_UNAUTHORIZED, "invalid_token",
                            GK_REASON_REVOKED);
    default:
        break;
    }
    sc = ap_get_module_config(r->server->module_config, &gk_auth_module);
    if (!gk_auth_conf_rv_deny_on_error(sc)) {
        if (gk_ap_once_per(&said, 60)) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, GKLOGNO(10080)
                          "the revocation store fails: tokens are admitted "
                          "unchecked (GKAuthRevocationOnStoreError allow; "
                          "said once a minute)");
        }
        return OK;
    }
    if (gk_ap_once_per(&said, 60)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, GKLOGNO(10081)
                      "the revocation store fails: tokens are answered 503 "
                      "(GKAuthRevocationOnStoreError deny; said once a "
                      "minute)");
    }
    apr_table_setn(r->err_headers_out, "Retry-After", "1");
    gk_ap_problem_set(r, HTTP_SERVICE_UNAVAILABLE, GK_REASON_STORE_ERROR,
                      "the revocation store is unavailable");
    gk_auth_note_outcome(r, GK_REASON_STORE_ERROR);
    return HTTP_SERVICE_UNAVAILABLE;
}

int gk_auth_check_authn(request_rec *r)
{
    const char *type = ap_auth_type(r), *token, *user;
    const gk_auth_dir_conf_t *conf;
    gk_claims_policy_t pol;
    gk_auth_req_t *req;
    gk_verified_t *v;
    gk_status_e st;
    apr_int64_t now;
    apr_size_t len = 0;
    int rv;

    if (!type || strcasecmp(type, GK_AUTH_TYPE)) {
        return DECLINED;
    }
    conf = ap_get_module_config(r->per_dir_config, &gk_auth_module);
    req = gk_auth_req(r, 1);
    req->conf = conf;
    if ((rv = find_token(r, conf, &token, &len)) != OK) {
        return rv;
    }
    if (!token) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, GKLOGNO(10004)
                      "no bearer token");
        return gk_auth_deny(r, HTTP_UNAUTHORIZED, NULL, GK_REASON_NO_TOKEN);
    }
    if (!conf->ring) {
        /* startup refuses what no key can reach (gk_auth_startup.c);
         * a scope left to request time that has none ends here */
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, GKLOGNO(10005)
                      "AuthType %s needs GKAuthKey or GKAuthKeySet in this "
                      "scope or above", GK_AUTH_TYPE);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    now = apr_time_sec(r->request_time);
    st = len > GK_TOKEN_MAX_LEN ? GK_ERR_TOO_LONG
                                : verify(r, conf->ring, token, len, now, &v);
    if (st == GK_OK) {
        claims_policy(conf, &pol);
        st = gk_jwt_check_claims(v, &pol, now);
    }
    if (st != GK_OK) {
        return refuse_token(r, st);
    }
    if (gk_auth_conf_revocation(conf)
        && (rv = check_revoked(r, v, token, len, now)) != OK) {
        return rv;
    }
    if ((rv = find_user(r, conf, v, &user)) != OK) {
        return rv;
    }
    req->v = v;
    req->token = token;
    req->token_len = len;
    req->user = user;
    r->user = (char *)user;
    r->ap_auth_type = (char *)type;
    gk_auth_note_outcome(r, GK_REASON_OK);
    return OK;
}
