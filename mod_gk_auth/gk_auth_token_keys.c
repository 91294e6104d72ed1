/*
 * Publishing the keys tokens are signed with: GKTokenKey, GKTokenJWKSMaxAge
 * and the gk-jwks handler (RFC 7517 JWK Set).
 *
 * Every GKTokenKey line is loaded and checked when it is read (so
 * `apache2 -t` refuses what a start refuses): a private key (an encrypted
 * one is refused, since no passphrase is asked for), or with publish-only
 * any key, certificate or private key whose public half is published but
 * never signs (a retired key whose last tokens are still valid). Its
 * public JWK is written then, once; a request to gk-jwks only joins the
 * JWKs of its scope. HMAC secrets are never published.
 */
#include "apr_strings.h"
#include "http_protocol.h"

#include "gk_auth_private.h"
#include "gk_sign.h"

int gk_auth_conf_jwks_max_age(const gk_auth_dir_conf_t *c)
{
    return GK_GET_INT(c, jwks_max_age, 300);
}

const char *gk_auth_set_token_key(cmd_parms *cmd, void *dc, int argc,
                                  char *const argv[])
{
    gk_auth_dir_conf_t *c = dc;
    gk_auth_token_key_t *tk;
    const char *kid = NULL, *source, *e;
    int i, publish_only = 0;
    json_t *jwk = NULL;
    gk_alg_e alg;

    if (argc < 2) {
        return gk_ap_cmd_error(cmd, "needs ALG SOURCE [kid=ID] "
                               "[publish-only]");
    }
    if ((e = gk_auth_parse_alg(cmd, argv[0], &alg))) {
        return e;
    }
    for (i = 2; i < argc; i++) {
        if (!strncmp(argv[i], "kid=", 4) && argv[i][4] && !kid) {
            kid = argv[i] + 4;
        }
        else if (!strcasecmp(argv[i], "publish-only") && !publish_only) {
            publish_only = 1;
        }
        else {
            return gk_ap_cmd_error(cmd, "'%s' is not kid=ID or publish-only "
                                   "(each at most once)", argv[i]);
        }
    }
    if ((e = gk_auth_key_source(cmd, argv[1], &source))) {
        return e;
    }
    tk = apr_pcalloc(cmd->pool, sizeof(*tk));
    tk->where = gk_ap_where(cmd);
    e = publish_only
            ? gk_sign_key_publish_only(cmd->pool, alg, source, kid, &tk->key)
            : gk_sign_key_load(cmd->pool, alg, source, kid, &tk->key);
    if (e) {
        return gk_ap_cmd_error(cmd, "%s %s: %s", argv[0], argv[1], e);
    }
    if ((e = gk_jwk_public(cmd->pool, tk->key, &jwk))) {
        return gk_ap_cmd_error(cmd, "%s %s: %s", argv[0], argv[1], e);
    }
    if (jwk) {
        char *text = json_dumps(jwk, JSON_COMPACT);
        json_decref(jwk);
        if (!text) {
            return gk_ap_cmd_error(cmd, "cannot write the JWK");
        }
        tk->jwk = apr_pstrdup(cmd->pool, text);
        tk->jwk_len = strlen(tk->jwk);
        free(text);
    }
    for (i = 0; c->token_keys && i < c->token_keys->nelts; i++) {
        const gk_auth_token_key_t *o =
            APR_ARRAY_IDX(c->token_keys, i, const gk_auth_token_key_t *);
        if (o->key->kid && tk->key->kid && !strcmp(o->key->kid, tk->key->kid)) {
            return gk_ap_cmd_error(cmd, "kid '%s' is already the kid of the "
                                   "key at %s: each key needs its own",
                                   tk->key->kid, o->where);
        }
    }
    if (!c->token_keys) {
        c->token_keys = apr_array_make(cmd->pool, 2,
                                       sizeof(gk_auth_token_key_t *));
    }
    APR_ARRAY_PUSH(c->token_keys, gk_auth_token_key_t *) = tk;
    return NULL;
}

int gk_auth_jwks_handler(request_rec *r)
{
    const gk_auth_dir_conf_t *c;
    apr_size_t len = sizeof("{\"keys\":[]}") - 1;
    char *doc, *o;
    int i, first = 1;

    if (!r->handler || strcmp(r->handler, GK_AUTH_JWKS_HANDLER)) {
        return DECLINED;
    }
    if (r->method_number != M_GET) {        /* HEAD is M_GET */
        ap_allow_methods(r, REPLACE_ALLOW, "GET", "HEAD", NULL);
        return HTTP_METHOD_NOT_ALLOWED;
    }
    c = ap_get_module_config(r->per_dir_config, &gk_auth_module);
    for (i = 0; c->token_keys && i < c->token_keys->nelts; i++) {
        const gk_auth_token_key_t *tk =
            APR_ARRAY_IDX(c->token_keys, i, const gk_auth_token_key_t *);
        if (tk->jwk) {
            len += tk->jwk_len + 1;
        }
    }
    o = doc = apr_palloc(r->pool, len + 1);
    memcpy(o, "{\"keys\":[", 9);
    o += 9;
    for (i = 0; c->token_keys && i < c->token_keys->nelts; i++) {
        const gk_auth_token_key_t *tk =
            APR_ARRAY_IDX(c->token_keys, i, const gk_auth_token_key_t *);
        if (!tk->jwk) {
            continue;           /* HMAC: never published */
        }
        if (!first) {
            *o++ = ',';
        }
        first = 0;
        memcpy(o, tk->jwk, tk->jwk_len);
        o += tk->jwk_len;
    }
    memcpy(o, "]}", 3);
    len = (apr_size_t)(o + 2 - doc);
    ap_set_content_type(r, "application/jwk-set+json");
    apr_table_setn(r->headers_out, "Cache-Control",
                   apr_psprintf(r->pool, "max-age=%d",
                                gk_auth_conf_jwks_max_age(c)));
    ap_set_content_length(r, (apr_off_t)len);
    if (!r->header_only) {
        ap_rwrite(doc, (int)len, r);
    }
    return OK;
}
