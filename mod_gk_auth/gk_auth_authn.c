/*
 * mod_gk_auth authentication: find the bearer token, verify it (or find it
 * in the per-process cache), check the location's claim policy and set the
 * user. Failures answer per RFC 6750 with a Bearer challenge.
 */
#include "apr_atomic.h"
#include "apr_strings.h"
#include "http_core.h"
#include "http_protocol.h"
#include "mod_auth.h"

#include "gk_auth_private.h"
#include "mod_gk_auth.h"
#include "gk_problem.h"
#include "gk_reason.h"
#include "gk_text.h"

static gk_tokcache_t *token_cache;  /* per process, from child_init */

void gk_auth_child_init(apr_pool_t *p, server_rec *s)
{
    gk_auth_srv_conf_t *sc = ap_get_module_config(s->module_config,
                                                  &gk_auth_module);
    int size = sc->cache_size == GK_UNSET ? GK_AUTH_DEFAULT_CACHE_SIZE
                                          : sc->cache_size;
    int life = sc->cache_lifetime == GK_UNSET ? GK_AUTH_DEFAULT_CACHE_LIFETIME
                                              : sc->cache_lifetime;

    token_cache = gk_tokcache_create(p, (unsigned)size, (unsigned)life);
}

gk_auth_req_t *gk_auth_req(request_rec *r, int create)
{
    gk_auth_req_t *req = ap_get_module_config(r->request_config,
                                              &gk_auth_module);

    if (!req && create) {
        req = apr_pcalloc(r->pool, sizeof(*req));
        req->pool = r->pool;
        ap_set_module_config(r->request_config, &gk_auth_module, req);
    }
    return req;
}

/* This request's state, or that of the request it was redirected from or
 * is a subrequest of: identity follows internal redirects. */
gk_auth_req_t *gk_auth_req_find(request_rec *r)
{
    gk_auth_req_t *req;

    for (; r; r = r->prev ? r->prev : r->main) {
        if ((req = gk_auth_req(r, 0)) && req->v) {
            return req;
        }
    }
    return NULL;
}

int gk_auth_is_preflight(request_rec *r)
{
    return r->method_number == M_OPTIONS
           && apr_table_get(r->headers_in, "Origin")
           && apr_table_get(r->headers_in, "Access-Control-Request-Method");
}

void gk_auth_set_challenge(request_rec *r, const char *error,
                           const char *description)
{
    const char *realm = ap_auth_name(r);
    /* ap_auth_name() escapes quotes already, as a quoted-string needs */
    const char *v = apr_pstrcat(r->pool, "Bearer realm=\"",
                                realm ? realm : GK_AUTH_DEFAULT_REALM, "\"",
                                NULL);

    if (error) {
        v = apr_pstrcat(r->pool, v, ", error=\"", error, "\"", NULL);
        if (description) {
            v = apr_pstrcat(r->pool, v, ", error_description=",
                            gk_http_quote(r->pool, description), NULL);
        }
    }
    apr_table_setn(r->err_headers_out,
                   r->proxyreq == PROXYREQ_PROXY ? "Proxy-Authenticate"
                                                 : "WWW-Authenticate",
                   v);
}

void gk_auth_note_outcome(request_rec *r, gk_reason_e reason)
{
    apr_table_setn(r->notes, GK_AUTH_NOTE_OUTCOME,
                   reason == GK_REASON_OK || reason == GK_REASON_PREFLIGHT
                       ? "success"
                       : "failure");
    apr_table_setn(r->notes, GK_AUTH_NOTE_REASON, gk_reason_name(reason));
}

/* Answer status with a challenge (error, and the reason's text unless
 * there was no token at all) and, for the error body, the reason's text. */
static int deny(request_rec *r, gk_auth_req_t *req, int status,
                const char *error, gk_reason_e reason)
{
    gk_auth_set_challenge(r, error, reason == GK_REASON_NO_TOKEN
                                        ? NULL
                                        : gk_reason_text(reason));
    req->problem_status = status;
    req->problem_detail = gk_reason_text(reason);
    gk_auth_note_outcome(r, reason);
    return status;
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

/* RFC 6750 b64token characters: ALPHA DIGIT - . _ ~ + / */
static const unsigned char b64token_chars[256] = {
    ['-'] = 1, ['.'] = 1, ['_'] = 1, ['~'] = 1, ['+'] = 1, ['/'] = 1,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
    ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
    ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
    ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
    ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
    ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
    ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
    ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
    ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1,
};

/* Is s (len bytes) a b64token: 1*b64token-char *"=" ? */
static int is_b64token(const char *s, apr_size_t len)
{
    apr_size_t i = 0;

    while (i < len && b64token_chars[(unsigned char)s[i]]) {
        i++;
    }
    if (i == 0) {
        return 0;
    }
    while (i < len && s[i] == '=') {
        i++;
    }
    return i == len;
}

/* Returns OK with *token (maybe NULL: no token), or an error status. */
static int find_token(request_rec *r, const gk_auth_dir_conf_t *conf,
                      gk_auth_req_t *req, const char **token,
                      apr_size_t *len)
{
    const char *h = apr_table_get(r->headers_in,
                                  r->proxyreq == PROXYREQ_PROXY
                                      ? "Proxy-Authorization"
                                      : "Authorization");
    const char *ht = NULL;
    apr_size_t hlen = 0;

    *token = NULL;
    if (h) {
        while (*h == ' ' || *h == '\t') {
            h++;
        }
        if (!strncasecmp(h, "Bearer", 6) && (!h[6] || h[6] == ' ')) {
            const char *e;
            ht = h + 6;
            while (*ht == ' ') {
                ht++;
            }
            e = ht + strlen(ht);
            while (e > ht && (e[-1] == ' ' || e[-1] == '\t')) {
                e--;
            }
            hlen = (apr_size_t)(e - ht);
            if (!hlen) {
                ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, GKLOGNO(10001)
                              "Bearer credentials are empty");
                return deny(r, req, HTTP_BAD_REQUEST, "invalid_request",
                            GK_REASON_BAD_CREDENTIALS);
            }
            /* the syntax is checked when the token is not in the cache */
        }
        /* any other scheme is not ours: as if there were no token */
    }
    if (conf->cookie) {
        cookie_search_t cs = {conf->cookie, strlen(conf->cookie), NULL, 0, 0};
        apr_table_do(scan_cookie_header, &cs, r->headers_in, "Cookie", NULL);
        if (cs.count > 1 || (cs.count && ht)) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, GKLOGNO(10002)
                          "more than one token in the request");
            return deny(r, req, HTTP_BAD_REQUEST, "invalid_request",
                        GK_REASON_MULTIPLE_TOKENS);
        }
        if (cs.count) {
            *token = cs.value;
            *len = cs.value_len;
            return OK;
        }
    }
    *token = ht;
    *len = hlen;
    return OK;
}

/* ---- verification --------------------------------------------------------- */

static apr_status_t release_verified(void *data)
{
    gk_verified_unref(data);
    return APR_SUCCESS;
}

/* The verified record for token under conf's keys, from the cache or
 * verified now; the request holds one reference. */
#define GK_ERR_SYNTAX GK_ERR_COUNT /* not a b64token: a bad request */

static gk_status_e verify(request_rec *r, const gk_keyring_t *ring,
                          const char *token, apr_size_t len, apr_int64_t now,
                          gk_verified_t **out)
{
    const apr_array_header_t *sets[2];
    apr_uint32_t gen = 0;
    gk_keygen_t *g = NULL;
    gk_verified_t *v;
    gk_status_e st;
    int n = 0;

    if (ring->jwks) {
        gk_jwks_refresh(ring->jwks, (apr_uint32_t)now);
        gen = apr_atomic_read32(&ring->jwks->gen);
    }
    v = gk_tokcache_get(token_cache, token, len, ring, gen, now);
    if (!v) {
        sets[n++] = ring->keys;
        if (ring->jwks) {
            g = gk_jwks_acquire(ring->jwks);
            sets[n++] = g->keys;
            gen = g->gen;
        }
        st = gk_jwt_verify(token, len, sets, n, &v);
        if (g) {
            gk_jwks_release(ring->jwks, g);
        }
        if (st != GK_OK) {
            /* A token that verifies is base64url, a b64token; only a
             * failure needs the check that tells 400 from 401. */
            return is_b64token(token, len) ? st : GK_ERR_SYNTAX;
        }
        gk_tokcache_put(token_cache, v, token, len, ring, gen, now);
    }
    apr_pool_cleanup_register(r->pool, v, release_verified,
                              apr_pool_cleanup_null);
    *out = v;
    return GK_OK;
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
    json_t *u;
    int rv;

    if (!type || strcasecmp(type, GK_AUTH_TYPE)) {
        return DECLINED;
    }
    conf = ap_get_module_config(r->per_dir_config, &gk_auth_module);
    req = gk_auth_req(r, 1);
    req->conf = conf;
    if ((rv = find_token(r, conf, req, &token, &len)) != OK) {
        return rv;
    }
    if (!token) {
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, GKLOGNO(10004)
                      "no bearer token");
        return deny(r, req, HTTP_UNAUTHORIZED, NULL, GK_REASON_NO_TOKEN);
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
        pol.leeway = gk_auth_conf_leeway(conf);
        pol.require_exp = conf->require_exp != 0;
        pol.require_at_jwt = conf->require_at_jwt == 1;
        pol.issuer = conf->issuer;
        pol.audiences = conf->audiences;
        st = gk_jwt_check_claims(v, &pol, now);
    }
    if (st == (gk_status_e)GK_ERR_SYNTAX) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, GKLOGNO(10003)
                      "malformed bearer token");
        return deny(r, req, HTTP_BAD_REQUEST, "invalid_request",
                    GK_REASON_BAD_CREDENTIALS);
    }
    if (st != GK_OK) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, GKLOGNO(10006)
                      "bearer token refused: %s", gk_status_text(st));
        return deny(r, req, HTTP_UNAUTHORIZED, "invalid_token",
                    gk_reason_of_status(st));
    }
    u = gk_claim_get(v->payload, gk_auth_conf_user_claim(conf));
    user = json_string_value(u);
    if (!user || !*user) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, GKLOGNO(10007)
                      "bearer token refused: no user claim '%s'",
                      gk_auth_conf_user_claim(conf)->name);
        return deny(r, req, HTTP_UNAUTHORIZED, "invalid_token",
                    GK_REASON_NO_USER);
    }
    if (!gk_text_is_name(user, json_string_length(u))) {
        /* it would become REMOTE_USER, GK_USER, headers and log lines */
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, GKLOGNO(10009)
                      "bearer token refused: user claim '%s' holds a control "
                      "character or is not UTF-8",
                      gk_auth_conf_user_claim(conf)->name);
        return deny(r, req, HTTP_UNAUTHORIZED, "invalid_token",
                    GK_REASON_INVALID_USER);
    }
    req->v = v;
    req->user = user;
    r->user = (char *)user;
    r->ap_auth_type = (char *)type;
    gk_auth_note_outcome(r, GK_REASON_OK);
    return OK;
}

/* mod_authz_core answers an authenticated user's failed authorization with
 * 401 unless AuthzSendForbiddenOnFailure is on, and asks us for the
 * challenge here. */
int gk_auth_note_auth_failure(request_rec *r, const char *auth_type)
{
    static apr_uint32_t noticed;
    gk_auth_req_t *req;

    if (strcasecmp(auth_type, GK_AUTH_TYPE)) {
        return DECLINED;
    }
    req = gk_auth_req(r, 1);
    if (req->insufficient) {
        if (!apr_atomic_cas32(&noticed, 1, 0)) {
            ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, GKLOGNO(10008)
                          "answering 401 insufficient_scope: set "
                          "AuthzSendForbiddenOnFailure On where gk-* "
                          "Require lines apply, for 403 as RFC 6750 asks");
        }
        gk_auth_set_challenge(r, "insufficient_scope", req->insufficient);
        req->problem_status = HTTP_UNAUTHORIZED;
    }
    else {
        gk_auth_set_challenge(r, NULL, NULL);
        req->problem_status = HTTP_UNAUTHORIZED;
        req->problem_detail = gk_reason_text(GK_REASON_NO_TOKEN);
    }
    return OK;
}
