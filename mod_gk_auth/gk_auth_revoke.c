/*
 * SetHandler gk-revoke (issue 14): token revocation in the style of RFC
 * 7009, behind AuthType gk-bearer.
 *
 * POST, application/x-www-form-urlencoded (bounded by GKTokenMaxBody):
 *   token=T [&token_type_hint=H]  revoke T. T is verified with this
 *                                 location's keys, its time claims
 *                                 ignored: a string that does not verify
 *                                 never reaches the store (or anyone could
 *                                 fill it), an expired token is a no-op.
 *   sub=USER&all=1                "log out everywhere": every token of USER
 *                                 issued at or before now is refused.
 *   (neither)                     revoke the token that authenticated this
 *                                 request, and expire the token cookie
 *                                 (GKTokenCookie, else GKAuthTokenCookie):
 *                                 a browser's logout.
 * The caller may revoke what carries its own "sub", or anything when its
 * token holds GKRevokeAdminRole (its roles as Require gk-role reads them).
 *
 * Answers (RFC 7009 §2.2): 200 with an empty body, also for a token that
 * did not verify, has expired or is not the caller's (nothing is stored;
 * a debug line says why, "gk-revoke: nothing stored: REASON"); 503 with
 * Retry-After when the store fails or its table is full; 405 for other
 * methods; 400 for a request that is no form of these.
 */
#include "apr_strings.h"
#include "http_protocol.h"

#include "gk_auth_private.h"
#include "gk_form.h"
#include "gk_revoke.h"
#include "gk_text.h"

/* 200, an empty body, never cached. */
static int revoked_ok(request_rec *r)
{
    r->status = HTTP_OK;
    gk_auth_no_store(r);
    ap_set_content_length(r, 0);
    return OK;
}

/* Nothing stored, and why (debug; RFC 7009 answers 200 all the same). */
static int nothing_stored(request_rec *r, const char *why)
{
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, GKLOGNO(10082)
                  "gk-revoke: nothing stored: %s", why);
    return revoked_ok(r);
}

static const char *sub_of(const gk_verified_t *v)
{
    return json_string_value(json_object_get(v->payload, "sub"));
}

/* May the caller revoke what belongs to owner? */
static int permitted(request_rec *r, const gk_auth_dir_conf_t *c,
                     gk_auth_req_t *caller, const char *owner)
{
    const char *mine = sub_of(caller->v);

    if (owner && mine && !strcmp(owner, mine)) {
        return 1;
    }
    return c->revoke_admin_role
           && gk_strlist_has(gk_auth_roles(r, caller), c->revoke_admin_role);
}

/* Store one revocation, and answer. */
static int store(request_rec *r, char kind, const char *key,
                 const char *group, apr_uint64_t value, apr_int64_t expires,
                 apr_int64_t now, const char *owner)
{
    const char *what = kind == GK_REVOKE_KIND_SUBJECT ? "subject" : "token";

    gk_store_result_e res = gk_auth_revoke_put(r, kind, key, group, value,
                                               expires, now);

    if (res != GK_STORE_OK) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, GKLOGNO(10083)
                      "gk-revoke: the %s could not be stored (%s)%s", what,
                      gk_store_result_name(res),
                      res == GK_STORE_FULL
                          ? ": the revocation table is full (nothing was "
                            "evicted); raise GKAuthRevocationStore shm size="
                          : "");
        apr_table_setn(r->headers_out, "Retry-After", "1");
        return gk_auth_oauth_error(r, HTTP_SERVICE_UNAVAILABLE,
                                   "temporarily_unavailable",
                                   "the revocation could not be stored");
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, GKLOGNO(10084)
                  "gk-revoke: revoked (%s)", what);
    /* a name that could not be a user (controls, not UTF-8) is left out,
     * as the token endpoint does */
    gk_auth_audit(r, kind == GK_REVOKE_KIND_SUBJECT ? "subject-revoked"
                                                    : "token-revoked",
                  GK_REASON_OK, "user",
                  owner && gk_text_is_name(owner, strlen(owner)) ? owner
                                                                 : NULL);
    return revoked_ok(r);
}

/* The seconds an entry is kept for: a token until its exp, one without
 * exp and a subject's cutoff for GKAuthMaxTokenLifetime; leeway more. */
static int max_lifetime(request_rec *r)
{
    return gk_auth_conf_max_token_lifetime(
        ap_get_module_config(r->server->module_config, &gk_auth_module));
}

/* Revoke the token (len bytes), verified v; own: the caller's own. */
static int revoke_token(request_rec *r, const gk_auth_dir_conf_t *c,
                        gk_auth_req_t *caller, gk_verified_t *v,
                        const char *token, apr_size_t len, int own,
                        apr_int64_t now)
{
    const unsigned char *k16 = gk_auth_revoke_key16();
    const char *jti = json_string_value(json_object_get(v->payload, "jti"));
    const char *sub = sub_of(v);
    int leeway = gk_auth_conf_leeway(c);
    char key[GK_REVOKE_KEY_SIZE], group[GK_REVOKE_KEY_SIZE];
    apr_int64_t expires;

    if (c->issuer && (!v->iss || strcmp(v->iss, c->issuer))) {
        return nothing_stored(r, "issuer not accepted here");
    }
    /* kept until exp (memcached's exptime is 32 bits: a later exp is
     * kept until 2038) */
    expires = !v->has_exp ? now + max_lifetime(r) + leeway
              : v->exp < APR_INT32_MAX - leeway ? v->exp + leeway
                                                : APR_INT32_MAX;
    if (expires <= now) {
        return nothing_stored(r, "expired");
    }
    if (!own && !permitted(r, c, caller, sub)) {
        gk_auth_audit(r, "revoke-refused", GK_REASON_INSUFFICIENT_SCOPE,
                      "user", caller->user);
        return nothing_stored(r, "not the caller's");
    }
    if (!(jti ? gk_revoke_token_key(key, k16, v->iss, jti)
              : gk_revoke_token_key_raw(key, k16, token, len))
        || (sub && !gk_revoke_subject_key(group, k16, v->iss, sub))) {
        return gk_auth_oauth_error(r, HTTP_INTERNAL_SERVER_ERROR,
                                   "server_error", "no key could be made");
    }
    return store(r, jti ? GK_REVOKE_KIND_TOKEN : GK_REVOKE_KIND_RAW, key,
                 sub ? group : NULL, 1, expires, now, sub);
}

/* Verify a posted token with the location's keys, time claims ignored. */
static int revoke_posted(request_rec *r, const gk_auth_dir_conf_t *c,
                         gk_auth_req_t *caller, const char *token,
                         apr_int64_t now)
{
    apr_size_t len = strlen(token);
    apr_uint32_t gen = 0;
    gk_verified_t *v;

    if (!c->ring || len > GK_TOKEN_MAX_LEN
        || gk_auth_verify_signature(c->ring, token, len, &gen, &v)
               != GK_OK) {
        return nothing_stored(r, "signature not verified");
    }
    apr_pool_cleanup_register(r->pool, v, gk_auth_release_verified,
                              apr_pool_cleanup_null);
    return revoke_token(r, c, caller, v, token, len, 0, now);
}

/* "Log out everywhere": the subject's cutoff is now. */
static int revoke_subject(request_rec *r, const gk_auth_dir_conf_t *c,
                          gk_auth_req_t *caller, const char *sub,
                          apr_int64_t now)
{
    /* the issuer of the subject's tokens: the one this location demands,
     * else the caller's */
    const char *iss = c->issuer ? c->issuer : caller->v->iss;
    char key[GK_REVOKE_KEY_SIZE];

    if (!permitted(r, c, caller, sub)) {
        gk_auth_audit(r, "revoke-refused", GK_REASON_INSUFFICIENT_SCOPE,
                      "user", caller->user);
        return nothing_stored(r, "not the caller's");
    }
    if (!gk_revoke_subject_key(key, gk_auth_revoke_key16(), iss, sub)) {
        return gk_auth_oauth_error(r, HTTP_INTERNAL_SERVER_ERROR,
                                   "server_error", "no key could be made");
    }
    return store(r, GK_REVOKE_KIND_SUBJECT, key, key, (apr_uint64_t)now,
                 now + max_lifetime(r) + gk_auth_conf_leeway(c), now, sub);
}

/* Logout: the authenticating token, and its cookie expired. */
static int logout(request_rec *r, const gk_auth_dir_conf_t *c,
                  gk_auth_req_t *caller, apr_int64_t now)
{
    const char *cookie = gk_auth_conf_token_cookie(c);

    if (!cookie) {
        cookie = c->cookie;
    }
    if (cookie) {
        apr_table_addn(r->headers_out, "Set-Cookie",
                       apr_psprintf(r->pool, "%s=; HttpOnly; Secure; "
                                    "SameSite=Strict; Path=/; Max-Age=0",
                                    cookie));
    }
    return revoke_token(r, c, caller, caller->v, caller->token,
                        caller->token_len, 1, now);
}

int gk_auth_revoke_handler(request_rec *r)
{
    const gk_auth_dir_conf_t *c;
    const char *token, *sub, *all;
    gk_auth_req_t *caller;
    apr_table_t *form;
    apr_int64_t now;
    int rc;

    if (!r->handler || strcmp(r->handler, GK_AUTH_REVOKE_HANDLER)) {
        return DECLINED;
    }
    c = ap_get_module_config(r->per_dir_config, &gk_auth_module);
    caller = gk_auth_req_find(r);
    if (!caller || !caller->v || !caller->token) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, GKLOGNO(10085)
                      "gk-revoke: this location needs AuthType %s (and a "
                      "Require line)", GK_AUTH_TYPE);
        return gk_auth_oauth_error(r, HTTP_INTERNAL_SERVER_ERROR,
                                   "server_error",
                                   "the revocation endpoint is not "
                                   "configured");
    }
    rc = gk_auth_read_form(r, c, "the revocation endpoint takes POST",
                           &form);
    if (!form) {
        return rc;
    }
    now = apr_time_sec(apr_time_now());
    token = gk_form_get(form, "token");
    sub = gk_form_get(form, "sub");
    all = gk_form_get(form, "all");
    if (token) {
        if (sub || all) {
            return gk_auth_oauth_error(r, HTTP_BAD_REQUEST,
                                       "invalid_request",
                                       "token or sub and all=1, not both");
        }
        if (!*token) {
            return nothing_stored(r, "signature not verified");
        }
        return revoke_posted(r, c, caller, token, now);
    }
    if (sub || all) {
        if (!sub || !*sub || !all || strcmp(all, "1")) {
            return gk_auth_oauth_error(r, HTTP_BAD_REQUEST,
                                       "invalid_request",
                                       "log out everywhere takes sub=USER "
                                       "and all=1");
        }
        return revoke_subject(r, c, caller, sub, now);
    }
    return logout(r, c, caller, now);
}
