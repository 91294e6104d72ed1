/* JWS/JWT verification (gk_jwt_verify) and claim checks
 * (gk_jwt_check_claims), with tokens signed here by OpenSSL. */
#include <apr_thread_proc.h>

#include "gk_test.h"

#define ALG_NAME(a) (gk_alg_info(a)->name)

/* A token made of input and the signature bytes given. */
static char *with_sig(const char *input, const unsigned char *sig, size_t n)
{
    return apr_pstrcat(tp, input, ".", tk_b64(tp, sig, n), NULL);
}

/* HS256 token signed with TK_SECRET[0..32), and the key set for it. */
static tk_signer_t hs(void)
{
    return tk_hmac(GK_HS256, TK_SECRET, 32);
}

static apr_array_header_t *hs_set(void)
{
    return tk_set(tp, tk_gksecret(tp, GK_HS256, TK_SECRET, 32, NULL), NULL);
}

/* Status of a HS256 token with this header and payload. */
static gk_status_e hs_status(const char *header, const char *payload)
{
    return tk_verify(tk_jws(tp, hs(), header, payload), hs_set(), NULL);
}

/* Status of verify + check_claims of a HS256 token with payload. */
static gk_status_e hs_claims(const char *payload, gk_claims_policy_t pol,
                             apr_int64_t now)
{
    return tk_check(tk_tok(tp, hs(), payload), hs_set(), &pol, now);
}

/* ---- every algorithm ---------------------------------------------------- */

START_TEST(every_alg_verifies)
{
    gk_alg_e alg = (gk_alg_e)_i;
    apr_array_header_t *set = tk_set(tp, tk_std_key(tp, alg, NULL), NULL);
    char *tok = tk_tok(tp, tk_std_signer(alg), TK_PAYLOAD);
    gk_claims_policy_t pol = tk_policy(60, 1);
    gk_verified_t *v;

    tk_assert_st(tk_verify(tok, set, &v), GK_OK);
    ck_assert_int_eq(v->alg, alg);
    ck_assert_int_eq(v->typ, GK_TYP_ABSENT);
    ck_assert_str_eq(v->payload_text, TK_PAYLOAD);
    ck_assert_uint_eq(v->payload_len, strlen(TK_PAYLOAD));
    ck_assert(v->has_exp && !v->has_nbf && !v->has_iat);
    ck_assert_int_eq(v->exp, TS + 3600);
    ck_assert_str_eq(json_string_value(json_object_get(v->payload, "sub")),
                     "alice");
    tk_assert_st(gk_jwt_check_claims(v, &pol, TS), GK_OK);
    gk_verified_unref(v);
}
END_TEST

/* Another payload under the same signature; a flipped signature bit. */
START_TEST(every_alg_tampered)
{
    gk_alg_e alg = (gk_alg_e)_i;
    apr_array_header_t *set = tk_set(tp, tk_std_key(tp, alg, NULL), NULL);
    const char *h = apr_psprintf(tp, "{\"alg\":\"%s\"}", ALG_NAME(alg));
    const char *in = tk_input(tp, h, TK_PAYLOAD);
    const char *in2 = tk_input(tp, h, "{\"sub\":\"admin\",\"exp\":1700003600}");
    size_t n, bit;
    unsigned char *sig = tk_sign(tp, tk_std_signer(alg), in, strlen(in), &n);

    tk_assert_st(tk_verify(with_sig(in, sig, n), set, NULL), GK_OK);
    tk_assert_st(tk_verify(with_sig(in2, sig, n), set, NULL),
                 GK_ERR_SIGNATURE);
    for (bit = 0; bit < n * 8; bit += 8 * n / 5 + 3) {
        unsigned char *bad = apr_pmemdup(tp, sig, n);
        bad[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        tk_assert_st(tk_verify(with_sig(in, bad, n), set, NULL),
                     GK_ERR_SIGNATURE);
    }
}
END_TEST

/* Signed by another key of the right type. */
START_TEST(every_alg_wrong_key)
{
    gk_alg_e alg = (gk_alg_e)_i;
    const gk_alg_info_t *ai = gk_alg_info(alg);
    apr_array_header_t *set = tk_set(tp, tk_std_key(tp, alg, NULL), NULL);
    tk_signer_t s;
    EVP_PKEY *other = NULL;

    switch (ai->kind) {
    case GK_KIND_HMAC:
        s = tk_hmac(alg, TK_SECRET2, ai->hash_len);
        break;
    case GK_KIND_RSA:
    case GK_KIND_PSS:
        s = tk_pk(alg, TK.rsa2);
        break;
    case GK_KIND_EC:
        other = tk_gen_ec(alg == GK_ES256 ? "P-256"
                          : alg == GK_ES384 ? "P-384" : "P-521");
        s = tk_pk(alg, other);
        break;
    default:
        s = tk_pk(alg, TK.ed2);
    }
    tk_assert_st(tk_verify(tk_tok(tp, s, TK_PAYLOAD), set, NULL),
                 GK_ERR_SIGNATURE);
    /* an HMAC secret one byte longer or shorter than the real one (not
     * a NUL byte longer: HMAC pads short keys with zeros, so K || 0x00 is
     * the same key as K) */
    if (ai->kind == GK_KIND_HMAC) {
        s = tk_hmac(alg, apr_pstrcat(tp, apr_pstrmemdup(tp, TK_SECRET,
                                                       ai->hash_len),
                                     "x", NULL),
                    ai->hash_len + 1);
        tk_assert_st(tk_verify(tk_tok(tp, s, TK_PAYLOAD), set, NULL),
                     GK_ERR_SIGNATURE);
        s = tk_hmac(alg, TK_SECRET, ai->hash_len - 1);
        tk_assert_st(tk_verify(tk_tok(tp, s, TK_PAYLOAD), set, NULL),
                     GK_ERR_SIGNATURE);
    }
    EVP_PKEY_free(other);
}
END_TEST

/* A token of alg with keys for every other algorithm: no key. */
START_TEST(every_alg_needs_its_own_key)
{
    gk_alg_e alg = (gk_alg_e)_i, a;
    apr_array_header_t *set = tk_set(tp, NULL);
    for (a = GK_HS256; a < GK_ALG_COUNT; a++) {
        if (a != alg) {
            APR_ARRAY_PUSH(set, gk_key_t *) = tk_std_key(tp, a, NULL);
        }
    }
    tk_assert_st(tk_verify(tk_tok(tp, tk_std_signer(alg), TK_PAYLOAD), set,
                           NULL),
                 GK_ERR_NO_KEY);
    APR_ARRAY_PUSH(set, gk_key_t *) = tk_std_key(tp, alg, NULL);
    tk_assert_st(tk_verify(tk_tok(tp, tk_std_signer(alg), TK_PAYLOAD), set,
                           NULL),
                 GK_OK);
}
END_TEST

/* The header names one algorithm, the signature was made with another
 * algorithm of the same key: refused (the header's alg is the one used). */
START_TEST(alg_substitution)
{
    static const gk_alg_e pairs[][2] = {
        {GK_RS256, GK_PS256}, {GK_PS256, GK_RS256}, {GK_RS256, GK_RS384},
        {GK_RS512, GK_RS256}, {GK_PS384, GK_PS256}, {GK_HS256, GK_HS384},
    };
    size_t i;
    for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        gk_alg_e claimed = pairs[i][0], used = pairs[i][1];
        apr_array_header_t *set =
            tk_set(tp, tk_std_key(tp, claimed, NULL), NULL);
        const char *h = apr_psprintf(tp, "{\"alg\":\"%s\"}", ALG_NAME(claimed));
        tk_signer_t s = tk_std_signer(used);
        if (gk_alg_info(used)->kind == GK_KIND_HMAC) {
            s = tk_hmac(used, TK_SECRET, gk_alg_info(claimed)->hash_len);
        }
        tk_assert_st(tk_verify(tk_jws(tp, s, h, TK_PAYLOAD), set, NULL),
                     GK_ERR_SIGNATURE);
    }
}
END_TEST

/* ---- algorithm confusion and refused algorithms ------------------------- */

START_TEST(alg_confusion_hs256_with_rsa_pem)
{
    const char *pem = tk_pub_pem(tp, TK.rsa);
    gk_key_t *rsa = tk_gkkey(tp, GK_RS256, TK.rsa, NULL), *k = NULL;
    tk_signer_t evil = tk_hmac(GK_HS256, pem, strlen(pem));
    char *tok = tk_tok(tp, evil, TK_PAYLOAD);
    char *tok_kid = tk_tok_kid(tp, evil, "rsa", TK_PAYLOAD);

    /* only an RSA key is configured: no HS256 key at all */
    tk_assert_st(tk_verify(tok, tk_set(tp, rsa, NULL), NULL), GK_ERR_NO_KEY);
    tk_assert_st(tk_verify(tok_kid,
                           tk_set(tp, tk_gkkey(tp, GK_RS256, TK.rsa, "rsa"),
                                  NULL),
                           NULL),
                 GK_ERR_NO_KEY);
    /* with the PEM bytes without the final newline, too */
    evil.secret_len--;
    tk_assert_st(tk_verify(tk_tok(tp, evil, TK_PAYLOAD), tk_set(tp, rsa, NULL),
                           NULL),
                 GK_ERR_NO_KEY);
    /* an RSA key and a genuine HS256 secret: the signature fails */
    tk_assert_st(tk_verify(tok,
                           tk_set(tp, rsa,
                                  tk_gksecret(tp, GK_HS256, TK_SECRET, 32,
                                              NULL),
                                  NULL),
                           NULL),
                 GK_ERR_SIGNATURE);
    /* a PEM can never become an HMAC key, nor a secret an RSA key */
    ck_assert_ptr_nonnull(
        gk_key_from_pem(tp, GK_HS256, pem, strlen(pem), NULL, &k));
    ck_assert_ptr_nonnull(gk_key_from_secret(
        tp, GK_RS256, (const unsigned char *)pem, strlen(pem), NULL, &k));
}
END_TEST

START_TEST(embedded_jwk_ignored)
{
    /* the header carries the attacker's key (jwk, jku, x5c): ignored */
    json_t *jwk = tk_jwk(tp, TK.rsa2);
    const char *h = apr_psprintf(
        tp, "{\"alg\":\"RS256\",\"jwk\":%s,\"jku\":\"https://evil/jwks\"}",
        tk_json_text(tp, jwk));
    apr_array_header_t *set =
        tk_set(tp, tk_gkkey(tp, GK_RS256, TK.rsa, NULL), NULL);
    json_decref(jwk);
    tk_assert_st(tk_verify(tk_jws(tp, tk_pk(GK_RS256, TK.rsa2), h, TK_PAYLOAD),
                           set, NULL),
                 GK_ERR_SIGNATURE);
    /* unknown header parameters are otherwise harmless */
    tk_assert_st(tk_verify(tk_jws(tp, tk_pk(GK_RS256, TK.rsa), h, TK_PAYLOAD),
                           set, NULL),
                 GK_OK);
}
END_TEST

START_TEST(alg_none_and_friends)
{
    apr_array_header_t *set = hs_set();
    static const char *const headers[] = {
        "{\"alg\":\"none\"}",     "{\"alg\":\"None\"}",
        "{\"alg\":\"NONE\"}",     "{\"alg\":\"nOnE\"}",
        "{\"alg\":\"\"}",         "{}",
        "{\"typ\":\"JWT\"}",      "{\"alg\":null}",
        "{\"alg\":256}",          "{\"alg\":[\"HS256\"]}",
        "{\"alg\":{\"HS256\":1}}", "{\"alg\":true}",
        "{\"alg\":\"hs256\"}",    "{\"alg\":\"Hs256\"}",
        "{\"alg\":\"HS256 \"}",   "{\"alg\":\" HS256\"}",
        "{\"alg\":\"HS 256\"}",   "{\"alg\":\"HS2560\"}",
        "{\"alg\":\"HS25\"}",     "{\"alg\":\"ES256K\"}",
        "{\"alg\":\"EDDSA\"}",    "{\"alg\":\"Ed25519\"}",
        "{\"alg\":\"RSA-OAEP\"}", "{\"alg\":\"dir\"}",
        "{\"ALG\":\"HS256\"}",
    };
    size_t i;
    for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        /* even with a signature made by the right HS256 secret */
        char *tok = tk_jws(tp, hs(), headers[i], TK_PAYLOAD);
        gk_status_e st = tk_verify(tok, set, NULL);
        ck_assert_msg(st == GK_ERR_ALG, "%s: %s", headers[i],
                      gk_status_text(st));
    }
    /* the classic unsecured JWS: an empty signature segment */
    tk_assert_st(
        tk_verify(apr_pstrcat(tp, tk_input(tp, "{\"alg\":\"none\"}",
                                           TK_PAYLOAD),
                              ".", NULL),
                  set, NULL),
        GK_ERR_MALFORMED);
    /* "HS256\u0000": jansson refuses NUL in strings, so no header */
    tk_assert_st(hs_status("{\"alg\":\"HS256\\u0000\"}", TK_PAYLOAD),
                 GK_ERR_HEADER);
    /* an escaped but equal name is the same name */
    tk_assert_st(hs_status("{\"alg\":\"HS\\u0032\\u00356\"}", TK_PAYLOAD),
                 GK_OK);
}
END_TEST

START_TEST(crit_refused)
{
    tk_assert_st(hs_status("{\"alg\":\"HS256\",\"crit\":[\"exp\"],\"exp\":1}",
                           TK_PAYLOAD),
                 GK_ERR_CRIT);
    tk_assert_st(hs_status("{\"alg\":\"HS256\",\"crit\":[]}", TK_PAYLOAD),
                 GK_ERR_CRIT);
    tk_assert_st(hs_status("{\"alg\":\"HS256\",\"b64\":false,"
                           "\"crit\":[\"b64\"]}",
                           TK_PAYLOAD),
                 GK_ERR_CRIT);
    tk_assert_st(hs_status("{\"alg\":\"HS256\",\"crit\":null}", TK_PAYLOAD),
                 GK_ERR_CRIT);
    tk_assert_st(hs_status("{\"crit\":[\"x\"],\"alg\":\"HS256\"}", TK_PAYLOAD),
                 GK_ERR_CRIT);
}
END_TEST

/* ---- header and payload JSON ------------------------------------------- */

START_TEST(header_not_an_object)
{
    static const char *const headers[] = {
        "[]", "[\"HS256\"]", "\"HS256\"", "null", "1", "true", "{",
        "{\"alg\":\"HS256\"", "{\"alg\":\"HS256\"}x", "{\"alg\":\"HS256\"}{}",
        "\xef\xbb\xbf{\"alg\":\"HS256\"}", "{\"alg\":\"HS256\",}",
        "{'alg':'HS256'}", "{\"alg\":\"HS\xff\"}", "",
    };
    size_t i;
    for (i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        char *tok = tk_jws(tp, hs(), headers[i], TK_PAYLOAD);
        gk_status_e st = tk_verify(tok, hs_set(), NULL);
        gk_status_e want = headers[i][0] ? GK_ERR_HEADER : GK_ERR_MALFORMED;
        ck_assert_msg(st == want, "header %zu: %s", i, gk_status_text(st));
    }
    /* white space around the object is JSON */
    tk_assert_st(hs_status(" {\"alg\" : \"HS256\"}\n", TK_PAYLOAD), GK_OK);
}
END_TEST

START_TEST(header_member_types)
{
    tk_assert_st(hs_status("{\"alg\":\"HS256\",\"kid\":1}", TK_PAYLOAD),
                 GK_ERR_HEADER);
    tk_assert_st(hs_status("{\"alg\":\"HS256\",\"kid\":null}", TK_PAYLOAD),
                 GK_ERR_HEADER);
    tk_assert_st(hs_status("{\"alg\":\"HS256\",\"kid\":[\"a\"]}", TK_PAYLOAD),
                 GK_ERR_HEADER);
    tk_assert_st(hs_status("{\"alg\":\"HS256\",\"typ\":1}", TK_PAYLOAD),
                 GK_ERR_HEADER);
    tk_assert_st(hs_status("{\"alg\":\"HS256\",\"typ\":{}}", TK_PAYLOAD),
                 GK_ERR_HEADER);
}
END_TEST

START_TEST(duplicate_members)
{
    tk_assert_st(hs_status("{\"alg\":\"HS256\",\"alg\":\"HS256\"}", TK_PAYLOAD),
                 GK_ERR_HEADER);
    tk_assert_st(hs_status("{\"alg\":\"HS256\",\"alg\":\"none\"}", TK_PAYLOAD),
                 GK_ERR_HEADER);
    tk_assert_st(hs_status("{\"alg\":\"none\",\"alg\":\"HS256\"}", TK_PAYLOAD),
                 GK_ERR_HEADER);
    tk_assert_st(hs_status("{\"alg\":\"HS256\",\"kid\":\"a\",\"kid\":\"b\"}",
                           TK_PAYLOAD),
                 GK_ERR_HEADER);
    /* the same name spelled with an escape is a duplicate too */
    tk_assert_st(hs_status("{\"alg\":\"HS256\",\"\\u0061lg\":\"HS256\"}",
                           TK_PAYLOAD),
                 GK_ERR_HEADER);
    tk_assert_st(hs_status("{\"alg\":\"HS256\"}",
                           "{\"sub\":\"alice\",\"sub\":\"admin\"}"),
                 GK_ERR_PAYLOAD);
    tk_assert_st(hs_status("{\"alg\":\"HS256\"}",
                           "{\"exp\":1,\"exp\":1800000000}"),
                 GK_ERR_PAYLOAD);
    tk_assert_st(hs_status("{\"alg\":\"HS256\"}",
                           "{\"sub\":\"alice\",\"s\\u0075b\":\"admin\"}"),
                 GK_ERR_PAYLOAD);
    tk_assert_st(hs_status("{\"alg\":\"HS256\"}",
                           "{\"r\":{\"roles\":[\"a\"],\"roles\":[\"b\"]}}"),
                 GK_ERR_PAYLOAD);
    /* equal values in different objects are fine */
    tk_assert_st(hs_status("{\"alg\":\"HS256\"}",
                           "{\"a\":{\"x\":1},\"b\":{\"x\":1}}"),
                 GK_OK);
}
END_TEST

START_TEST(payload_not_an_object)
{
    static const char *const payloads[] = {
        "[]", "[{\"sub\":\"alice\"}]", "\"alice\"", "null", "123", "true",
        "{", "{\"sub\":\"alice\"", "{\"sub\":\"alice\"}x", "{\"sub\":}",
        "{\"sub\":\"al\xff\"}", "\xef\xbb\xbf{}", "{\"sub\":\"a\\u0000b\"}",
        "{\"exp\":1e400}", "{\"exp\":9223372036854775808}", "{\"n\":NaN}",
        "{\"n\":Infinity}", "{\"n\":-}", "{\"n\":01}",
    };
    size_t i;
    for (i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
        gk_status_e st = hs_status("{\"alg\":\"HS256\"}", payloads[i]);
        ck_assert_msg(st == GK_ERR_PAYLOAD, "payload %s: %s", payloads[i],
                      gk_status_text(st));
    }
    tk_assert_st(hs_status("{\"alg\":\"HS256\"}", "{}"), GK_OK);
}
END_TEST

/* JSON text has no raw NUL byte (RFC 8259). jansson 2.14 silently drops
 * one that follows a number or a literal, so without a check of its own
 * gk accepts {"exp":1<NUL>,"admin":true} as {"exp":1,"admin":true} while
 * payload_text, read as a C string (GK_CLAIMS), says {"exp":1. */
START_TEST(raw_nul_in_json)
{
    static const char p1[] = "{\"exp\":1800000000\0,\"admin\":true}";
    static const char p2[] = "{\"sub\":\"a\",\"x\":true\0}";
    static const char h1[] = "{\"alg\":\"HS256\",\"x\":1\0}";
    const char *in;

    in = apr_pstrcat(tp, tk_b64s(tp, "{\"alg\":\"HS256\"}"), ".",
                     tk_b64(tp, p1, sizeof(p1) - 1), NULL);
    tk_assert_st(tk_verify(tk_sign_input(tp, hs(), in), hs_set(), NULL),
                 GK_ERR_PAYLOAD);
    in = apr_pstrcat(tp, tk_b64s(tp, "{\"alg\":\"HS256\"}"), ".",
                     tk_b64(tp, p2, sizeof(p2) - 1), NULL);
    tk_assert_st(tk_verify(tk_sign_input(tp, hs(), in), hs_set(), NULL),
                 GK_ERR_PAYLOAD);
    in = apr_pstrcat(tp, tk_b64(tp, h1, sizeof(h1) - 1), ".",
                     tk_b64s(tp, TK_PAYLOAD), NULL);
    tk_assert_st(tk_verify(tk_sign_input(tp, hs(), in), hs_set(), NULL),
                 GK_ERR_HEADER);
}
END_TEST

/* The payload segment is checked after the signature: a strictly invalid
 * base64url payload that was signed as such is still malformed. */
START_TEST(payload_segment_strict)
{
    const char *h = tk_b64s(tp, "{\"alg\":\"HS256\"}");
    const char *p = tk_b64s(tp, "{\"sub\":\"alice\"}"); /* 15 bytes: 20 */
    static const char *const suffixes[] = {"=", "==", "A", "\n", " "};
    size_t i;
    tk_assert_st(tk_verify(tk_sign_input(tp, hs(),
                                         apr_pstrcat(tp, h, ".", p, NULL)),
                           hs_set(), NULL),
                 GK_OK);
    for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        char *in = apr_pstrcat(tp, h, ".", p, suffixes[i], NULL);
        tk_assert_st(tk_verify(tk_sign_input(tp, hs(), in), hs_set(), NULL),
                     GK_ERR_MALFORMED);
    }
    /* standard-alphabet characters in a signed payload */
    tk_assert_st(tk_verify(tk_sign_input(tp, hs(),
                                         apr_pstrcat(tp, h, ".e30+", NULL)),
                           hs_set(), NULL),
                 GK_ERR_MALFORMED);
}
END_TEST

/* ---- time claims --------------------------------------------------------- */

START_TEST(exp_boundaries)
{
    const char *p = "{\"exp\":1700000000}";
    gk_claims_policy_t pol = tk_policy(60, 1);
    tk_assert_st(hs_claims(p, pol, TS + 59), GK_OK);
    tk_assert_st(hs_claims(p, pol, TS + 60), GK_ERR_EXPIRED);
    tk_assert_st(hs_claims(p, pol, TS - 100000), GK_OK);
    pol.leeway = 0;
    tk_assert_st(hs_claims(p, pol, TS - 1), GK_OK);
    tk_assert_st(hs_claims(p, pol, TS), GK_ERR_EXPIRED);
    pol.leeway = 86400;
    tk_assert_st(hs_claims(p, pol, TS + 86399), GK_OK);
    tk_assert_st(hs_claims(p, pol, TS + 86400), GK_ERR_EXPIRED);
    /* require_exp does not matter when exp is there */
    pol = tk_policy(0, 0);
    tk_assert_st(hs_claims(p, pol, TS), GK_ERR_EXPIRED);
}
END_TEST

START_TEST(nbf_boundaries)
{
    const char *p = "{\"exp\":1800000000,\"nbf\":1700000000}";
    gk_claims_policy_t pol = tk_policy(60, 1);
    tk_assert_st(hs_claims(p, pol, TS - 60), GK_OK);
    tk_assert_st(hs_claims(p, pol, TS - 61), GK_ERR_NOT_YET_VALID);
    tk_assert_st(hs_claims(p, pol, TS + 1000), GK_OK);
    pol.leeway = 0;
    tk_assert_st(hs_claims(p, pol, TS), GK_OK);
    tk_assert_st(hs_claims(p, pol, TS - 1), GK_ERR_NOT_YET_VALID);
}
END_TEST

START_TEST(iat_boundaries)
{
    const char *p = "{\"exp\":1800000000,\"iat\":1700000000}";
    gk_claims_policy_t pol = tk_policy(60, 1);
    tk_assert_st(hs_claims(p, pol, TS - 60), GK_OK);
    tk_assert_st(hs_claims(p, pol, TS - 61), GK_ERR_IAT_FUTURE);
    tk_assert_st(hs_claims(p, pol, TS + 5000000), GK_OK); /* old is fine */
    pol.leeway = 0;
    tk_assert_st(hs_claims(p, pol, TS), GK_OK);
    tk_assert_st(hs_claims(p, pol, TS - 1), GK_ERR_IAT_FUTURE);
}
END_TEST

START_TEST(exp_required)
{
    gk_claims_policy_t pol = tk_policy(60, 1);
    tk_assert_st(hs_claims("{\"sub\":\"alice\"}", pol, TS),
                 GK_ERR_EXP_MISSING);
    tk_assert_st(hs_claims("{\"sub\":\"alice\",\"nbf\":1600000000}", pol, TS),
                 GK_ERR_EXP_MISSING);
    pol.require_exp = 0;
    tk_assert_st(hs_claims("{\"sub\":\"alice\"}", pol, TS), GK_OK);
    tk_assert_st(hs_claims("{\"sub\":\"alice\",\"nbf\":1800000000}", pol, TS),
                 GK_ERR_NOT_YET_VALID);
}
END_TEST

START_TEST(claim_types)
{
    static const char *const payloads[] = {
        "{\"exp\":\"1800000000\"}", "{\"exp\":null}", "{\"exp\":true}",
        "{\"exp\":{}}", "{\"exp\":[1800000000]}", "{\"nbf\":\"0\"}",
        "{\"nbf\":false}", "{\"iat\":\"1600000000\"}", "{\"iat\":[]}",
        "{\"iss\":1}", "{\"iss\":null}", "{\"iss\":[\"a\"]}", "{\"aud\":1}",
        "{\"aud\":null}", "{\"aud\":{\"a\":1}}", "{\"aud\":[\"a\",1]}",
        "{\"aud\":[\"a\",null]}", "{\"aud\":[[\"a\"]]}",
    };
    size_t i;
    for (i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
        gk_status_e st = hs_status("{\"alg\":\"HS256\"}", payloads[i]);
        ck_assert_msg(st == GK_ERR_CLAIM_TYPE, "%s: %s", payloads[i],
                      gk_status_text(st));
    }
    tk_assert_st(hs_status("{\"alg\":\"HS256\"}", "{\"aud\":[]}"), GK_OK);
}
END_TEST

START_TEST(real_valued_times)
{
    gk_claims_policy_t pol = tk_policy(0, 1);
    gk_verified_t *v;

    /* a fraction never extends validity: exp rounds down, nbf/iat up */
    tk_assert_st(tk_verify(tk_tok(tp, hs(),
                                  "{\"exp\":1700000000.9,\"nbf\":1699999990.1,"
                                  "\"iat\":1699999990.5}"),
                           hs_set(), &v),
                 GK_OK);
    ck_assert_int_eq(v->exp, TS);
    ck_assert_int_eq(v->nbf, TS - 9);
    ck_assert_int_eq(v->iat, TS - 9);
    tk_assert_st(gk_jwt_check_claims(v, &pol, TS - 1), GK_OK);
    tk_assert_st(gk_jwt_check_claims(v, &pol, TS), GK_ERR_EXPIRED);
    tk_assert_st(gk_jwt_check_claims(v, &pol, TS - 10),
                 GK_ERR_NOT_YET_VALID);
    gk_verified_unref(v);

    tk_assert_st(hs_claims("{\"exp\":1.7e9}", pol, TS - 1), GK_OK);
    tk_assert_st(hs_claims("{\"exp\":1.7e9}", pol, TS), GK_ERR_EXPIRED);
    tk_assert_st(hs_claims("{\"exp\":1700000000.0}", pol, TS),
                 GK_ERR_EXPIRED);
    tk_assert_st(hs_claims("{\"exp\":1e300}", pol, TS), GK_OK);
    tk_assert_st(hs_claims("{\"exp\":-1e300}", pol, TS), GK_ERR_EXPIRED);
    tk_assert_st(hs_claims("{\"exp\":-0.0}", pol, TS), GK_ERR_EXPIRED);
    tk_assert_st(hs_claims("{\"exp\":1800000000,\"nbf\":1e300}", pol, TS),
                 GK_ERR_NOT_YET_VALID);
    tk_assert_st(hs_claims("{\"exp\":1800000000,\"iat\":1e300}", pol, TS),
                 GK_ERR_IAT_FUTURE);
    tk_assert_st(hs_claims("{\"exp\":1800000000,\"nbf\":-1e300}", pol, TS),
                 GK_OK);
    tk_assert_st(hs_claims("{\"exp\":1800000000,\"nbf\":1700000000.000001}",
                           pol, TS),
                 GK_ERR_NOT_YET_VALID);
}
END_TEST

/* Integer NumericDates at the ends of the int64 range. exp + leeway must
 * not overflow: a token that expires at the end of time is not expired. */
START_TEST(extreme_integer_times)
{
    gk_claims_policy_t pol = tk_policy(60, 1);
    tk_assert_st(hs_claims("{\"exp\":-9223372036854775808}", pol, TS),
                 GK_ERR_EXPIRED);
    tk_assert_st(hs_claims("{\"exp\":1800000000,"
                           "\"nbf\":-9223372036854775808,"
                           "\"iat\":-9223372036854775808}",
                           pol, TS),
                 GK_OK);
    tk_assert_st(hs_claims("{\"exp\":1800000000,"
                           "\"nbf\":9223372036854775807}",
                           pol, TS),
                 GK_ERR_NOT_YET_VALID);
    tk_assert_st(hs_claims("{\"exp\":1800000000,"
                           "\"iat\":9223372036854775807}",
                           pol, TS),
                 GK_ERR_IAT_FUTURE);
    /* exp far in the future but well inside int64 */
    tk_assert_st(hs_claims("{\"exp\":9000000000000000000}", pol, TS), GK_OK);
    /* INT64_MAX - 60: exp + leeway is exactly INT64_MAX */
    tk_assert_st(hs_claims("{\"exp\":9223372036854775747}", pol, TS), GK_OK);
    /* INT64_MAX - 59 .. INT64_MAX: exp + leeway overflows (signed: UB) */
    tk_assert_st(hs_claims("{\"exp\":9223372036854775748}", pol, TS), GK_OK);
    tk_assert_st(hs_claims("{\"exp\":9223372036854775807}", pol, TS), GK_OK);
}
END_TEST

/* ---- iss, aud, typ ------------------------------------------------------- */

START_TEST(issuer_exact)
{
    gk_claims_policy_t pol = tk_policy(60, 0);
    pol.issuer = "https://issuer.example";
    tk_assert_st(hs_claims("{\"iss\":\"https://issuer.example\"}", pol, TS),
                 GK_OK);
    tk_assert_st(hs_claims("{\"iss\":\"https://issuer.example/\"}", pol, TS),
                 GK_ERR_ISSUER);
    tk_assert_st(hs_claims("{\"iss\":\"HTTPS://issuer.example\"}", pol, TS),
                 GK_ERR_ISSUER);
    tk_assert_st(hs_claims("{\"iss\":\"https://issuer.exampl\"}", pol, TS),
                 GK_ERR_ISSUER);
    tk_assert_st(hs_claims("{\"iss\":\" https://issuer.example\"}", pol, TS),
                 GK_ERR_ISSUER);
    tk_assert_st(hs_claims("{\"iss\":\"\"}", pol, TS), GK_ERR_ISSUER);
    tk_assert_st(hs_claims("{\"sub\":\"x\"}", pol, TS), GK_ERR_ISSUER);
    /* escapes are decoded before comparing */
    tk_assert_st(hs_claims("{\"iss\":\"https:\\/\\/issuer.example\"}", pol,
                           TS),
                 GK_OK);
    pol.issuer = NULL;
    tk_assert_st(hs_claims("{\"iss\":\"anything\"}", pol, TS), GK_OK);
    tk_assert_st(hs_claims("{\"sub\":\"x\"}", pol, TS), GK_OK);
}
END_TEST

START_TEST(audience_any_of)
{
    gk_claims_policy_t pol = tk_policy(60, 0);
    pol.audiences = tk_strs(tp, "api", "web", NULL);
    tk_assert_st(hs_claims("{\"aud\":\"api\"}", pol, TS), GK_OK);
    tk_assert_st(hs_claims("{\"aud\":\"web\"}", pol, TS), GK_OK);
    tk_assert_st(hs_claims("{\"aud\":[\"x\",\"web\"]}", pol, TS), GK_OK);
    tk_assert_st(hs_claims("{\"aud\":[\"api\"]}", pol, TS), GK_OK);
    tk_assert_st(hs_claims("{\"aud\":[\"x\",\"y\"]}", pol, TS),
                 GK_ERR_AUDIENCE);
    tk_assert_st(hs_claims("{\"aud\":\"API\"}", pol, TS), GK_ERR_AUDIENCE);
    tk_assert_st(hs_claims("{\"aud\":\"api \"}", pol, TS), GK_ERR_AUDIENCE);
    tk_assert_st(hs_claims("{\"aud\":\"api web\"}", pol, TS),
                 GK_ERR_AUDIENCE);
    tk_assert_st(hs_claims("{\"aud\":[]}", pol, TS), GK_ERR_AUDIENCE);
    tk_assert_st(hs_claims("{\"sub\":\"x\"}", pol, TS), GK_ERR_AUDIENCE);
    /* a configured but empty list accepts nothing */
    pol.audiences = tk_strs(tp, NULL);
    tk_assert_st(hs_claims("{\"aud\":\"api\"}", pol, TS), GK_ERR_AUDIENCE);
    pol.audiences = NULL;
    tk_assert_st(hs_claims("{\"aud\":\"whatever\"}", pol, TS), GK_OK);
    tk_assert_st(hs_claims("{\"sub\":\"x\"}", pol, TS), GK_OK);
}
END_TEST

START_TEST(token_type)
{
    static const struct {
        const char *header;
        gk_typ_e typ;
    } cases[] = {
        {"{\"alg\":\"HS256\"}", GK_TYP_ABSENT},
        {"{\"alg\":\"HS256\",\"typ\":\"JWT\"}", GK_TYP_JWT},
        {"{\"alg\":\"HS256\",\"typ\":\"jwt\"}", GK_TYP_JWT},
        {"{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", GK_TYP_AT_JWT},
        {"{\"alg\":\"HS256\",\"typ\":\"AT+JWT\"}", GK_TYP_AT_JWT},
        {"{\"alg\":\"HS256\",\"typ\":\"application/at+jwt\"}", GK_TYP_AT_JWT},
        {"{\"alg\":\"HS256\",\"typ\":\"Application/At+JWT\"}", GK_TYP_AT_JWT},
        {"{\"alg\":\"HS256\",\"typ\":\"JOSE\"}", GK_TYP_OTHER},
        {"{\"alg\":\"HS256\",\"typ\":\"application/jwt\"}", GK_TYP_OTHER},
        {"{\"alg\":\"HS256\",\"typ\":\"secevent+jwt\"}", GK_TYP_OTHER},
        {"{\"alg\":\"HS256\",\"typ\":\"at+jwt \"}", GK_TYP_OTHER},
        {"{\"alg\":\"HS256\",\"typ\":\"\"}", GK_TYP_OTHER},
        {"{\"alg\":\"HS256\",\"typ\":\"JWT\\u0000\"}", GK_TYP_ABSENT}, /*hdr*/
    };
    size_t i;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        gk_claims_policy_t any = tk_policy(60, 1), at = tk_policy(60, 1);
        gk_verified_t *v;
        gk_status_e st = tk_verify(tk_jws(tp, hs(), cases[i].header,
                                          TK_PAYLOAD),
                                   hs_set(), &v);
        at.require_at_jwt = 1;
        if (strstr(cases[i].header, "\\u0000")) {
            tk_assert_st(st, GK_ERR_HEADER);
            continue;
        }
        tk_assert_st(st, GK_OK);
        ck_assert_msg(v->typ == cases[i].typ, "%s: typ %d", cases[i].header,
                      (int)v->typ);
        tk_assert_st(gk_jwt_check_claims(v, &any, TS),
                     cases[i].typ == GK_TYP_OTHER ? GK_ERR_TYPE : GK_OK);
        tk_assert_st(gk_jwt_check_claims(v, &at, TS),
                     cases[i].typ == GK_TYP_AT_JWT ? GK_OK : GK_ERR_TYPE);
        gk_verified_unref(v);
    }
}
END_TEST

/* ---- kid ----------------------------------------------------------------- */

START_TEST(kid_selection)
{
    apr_array_header_t *set =
        tk_set(tp, tk_gkkey(tp, GK_RS256, TK.rsa, "a"),
               tk_gkkey(tp, GK_RS256, TK.rsa2, "b"), NULL);
    tk_signer_t s1 = tk_pk(GK_RS256, TK.rsa), s2 = tk_pk(GK_RS256, TK.rsa2);

    tk_assert_st(tk_verify(tk_tok_kid(tp, s1, "a", TK_PAYLOAD), set, NULL),
                 GK_OK);
    tk_assert_st(tk_verify(tk_tok_kid(tp, s2, "b", TK_PAYLOAD), set, NULL),
                 GK_OK);
    /* the kid names the key: the other key is not tried */
    tk_assert_st(tk_verify(tk_tok_kid(tp, s2, "a", TK_PAYLOAD), set, NULL),
                 GK_ERR_SIGNATURE);
    tk_assert_st(tk_verify(tk_tok_kid(tp, s1, "c", TK_PAYLOAD), set, NULL),
                 GK_ERR_NO_KEY);
    tk_assert_st(tk_verify(tk_tok_kid(tp, s1, "A", TK_PAYLOAD), set, NULL),
                 GK_ERR_NO_KEY);
    tk_assert_st(tk_verify(tk_tok_kid(tp, s1, "", TK_PAYLOAD), set, NULL),
                 GK_ERR_NO_KEY);
    /* kidless: both keys are candidates */
    tk_assert_st(tk_verify(tk_tok(tp, s2, TK_PAYLOAD), set, NULL), GK_OK);
    /* a token with a kid never matches a key without one */
    set = tk_set(tp, tk_gkkey(tp, GK_RS256, TK.rsa, NULL), NULL);
    tk_assert_st(tk_verify(tk_tok_kid(tp, s1, "a", TK_PAYLOAD), set, NULL),
                 GK_ERR_NO_KEY);
    /* a kid of a key of another algorithm */
    set = tk_set(tp, tk_gkkey(tp, GK_PS256, TK.rsa, "a"), NULL);
    tk_assert_st(tk_verify(tk_tok_kid(tp, s1, "a", TK_PAYLOAD), set, NULL),
                 GK_ERR_NO_KEY);
}
END_TEST

static gk_key_t *nth_secret_key(int i, const char *kid)
{
    const char *sec = apr_psprintf(tp, "secret number %d, long enough......", i);
    return tk_gksecret(tp, GK_HS256, sec, strlen(sec), kid);
}

static tk_signer_t nth_secret_signer(int i)
{
    const char *sec = apr_psprintf(tp, "secret number %d, long enough......", i);
    return tk_hmac(GK_HS256, sec, strlen(sec));
}

START_TEST(kidless_tries_bounded)
{
    apr_array_header_t *set = tk_set(tp, NULL), *s1, *s2;
    const apr_array_header_t *sets[3];
    gk_verified_t *v;
    int i;

    ck_assert_int_eq(GK_KIDLESS_TRIES, 4);
    /* keys of other algorithms do not count */
    APR_ARRAY_PUSH(set, gk_key_t *) = tk_std_key(tp, GK_HS384, NULL);
    APR_ARRAY_PUSH(set, gk_key_t *) = tk_std_key(tp, GK_RS256, NULL);
    for (i = 0; i < 6; i++) {
        APR_ARRAY_PUSH(set, gk_key_t *) =
            nth_secret_key(i, apr_psprintf(tp, "k%d", i));
    }
    for (i = 0; i < 6; i++) {
        tk_assert_st(tk_verify(tk_tok(tp, nth_secret_signer(i), TK_PAYLOAD),
                               set, NULL),
                     i < GK_KIDLESS_TRIES ? GK_OK : GK_ERR_SIGNATURE);
        /* with its kid, any key is reachable */
        tk_assert_st(tk_verify(tk_tok_kid(tp, nth_secret_signer(i),
                                          apr_psprintf(tp, "k%d", i),
                                          TK_PAYLOAD),
                               set, NULL),
                     GK_OK);
    }
    /* the bound spans key sets */
    s1 = tk_set(tp, nth_secret_key(0, NULL), nth_secret_key(1, NULL), NULL);
    s2 = tk_set(tp, nth_secret_key(2, NULL), nth_secret_key(3, NULL),
                nth_secret_key(4, NULL), NULL);
    sets[0] = s1;
    sets[1] = NULL; /* an absent key set is skipped */
    sets[2] = s2;
    for (i = 0; i < 5; i++) {
        char *tok = tk_tok(tp, nth_secret_signer(i), TK_PAYLOAD);
        gk_status_e st = gk_jwt_verify(tok, strlen(tok), sets, 3, &v);
        tk_assert_st(st, i < GK_KIDLESS_TRIES ? GK_OK : GK_ERR_SIGNATURE);
        gk_verified_unref(v);
    }
    /* no key sets at all */
    {
        char *tok = tk_tok(tp, nth_secret_signer(0), TK_PAYLOAD);
        tk_assert_st(gk_jwt_verify(tok, strlen(tok), sets, 0, &v),
                     GK_ERR_NO_KEY);
        ck_assert_ptr_null(v);
        tk_assert_st(tk_verify(tok, tk_set(tp, NULL), NULL), GK_ERR_NO_KEY);
    }
}
END_TEST

/* ---- signature encodings ------------------------------------------------ */

START_TEST(ec_signature_lengths)
{
    static const gk_alg_e ecs[] = {GK_ES256, GK_ES384, GK_ES512};
    size_t e;
    for (e = 0; e < 3; e++) {
        gk_alg_e alg = ecs[e];
        unsigned fl = gk_alg_info(alg)->field_len;
        apr_array_header_t *set = tk_set(tp, tk_std_key(tp, alg, NULL), NULL);
        const char *in = tk_input(
            tp, apr_psprintf(tp, "{\"alg\":\"%s\"}", ALG_NAME(alg)),
            TK_PAYLOAD);
        size_t n;
        unsigned char *sig = tk_sign(tp, tk_std_signer(alg), in, strlen(in),
                                     &n);
        unsigned char *big = apr_pcalloc(tp, 2 * fl + 2);
        tk_signer_t der = tk_std_signer(alg);

        ck_assert_uint_eq(n, 2 * fl);
        tk_assert_st(tk_verify(with_sig(in, sig, n), set, NULL), GK_OK);
        tk_assert_st(tk_verify(with_sig(in, sig, n - 1), set, NULL),
                     GK_ERR_SIGNATURE);
        tk_assert_st(tk_verify(with_sig(in, sig, n - 2), set, NULL),
                     GK_ERR_SIGNATURE);
        /* R and S each with one leading zero byte */
        memcpy(big + 1, sig, fl);
        memcpy(big + fl + 2, sig + fl, fl);
        tk_assert_st(tk_verify(with_sig(in, big, 2 * fl + 2), set, NULL),
                     GK_ERR_SIGNATURE);
        /* one extra byte at the end */
        memcpy(big, sig, n);
        big[n] = 0;
        tk_assert_st(tk_verify(with_sig(in, big, n + 1), set, NULL),
                     GK_ERR_SIGNATURE);
        /* R = S = 0 */
        memset(big, 0, n);
        tk_assert_st(tk_verify(with_sig(in, big, n), set, NULL),
                     GK_ERR_SIGNATURE);
        /* R = S = all ones */
        memset(big, 0xff, n);
        tk_assert_st(tk_verify(with_sig(in, big, n), set, NULL),
                     GK_ERR_SIGNATURE);
        /* the DER encoding OpenSSL produces is not JWS */
        der.ec_der = 1;
        tk_assert_st(tk_verify(tk_sign_input(tp, der, in), set, NULL),
                     GK_ERR_SIGNATURE);
    }
}
END_TEST

START_TEST(ec_signature_of_other_curve_length)
{
    /* an ES256 key and a 96-byte (P-384 sized) signature */
    apr_array_header_t *set = tk_set(tp, tk_std_key(tp, GK_ES256, NULL), NULL);
    const char *in = tk_input(tp, "{\"alg\":\"ES256\"}", TK_PAYLOAD);
    size_t n;
    unsigned char *sig = tk_sign(tp, tk_pk(GK_ES384, TK.ec384), in,
                                 strlen(in), &n);
    ck_assert_uint_eq(n, 96);
    tk_assert_st(tk_verify(with_sig(in, sig, n), set, NULL), GK_ERR_SIGNATURE);
}
END_TEST

START_TEST(rsa_signature_lengths)
{
    static const gk_alg_e rs[] = {GK_RS256, GK_PS256, GK_RS512, GK_PS512};
    size_t e;
    for (e = 0; e < 4; e++) {
        gk_alg_e alg = rs[e];
        apr_array_header_t *set = tk_set(tp, tk_std_key(tp, alg, NULL), NULL);
        const char *in = tk_input(
            tp, apr_psprintf(tp, "{\"alg\":\"%s\"}", ALG_NAME(alg)),
            TK_PAYLOAD);
        size_t n;
        unsigned char *sig = tk_sign(tp, tk_std_signer(alg), in, strlen(in),
                                     &n);
        unsigned char *big = apr_pcalloc(tp, n + 2);

        ck_assert_uint_eq(n, 256);
        tk_assert_st(tk_verify(with_sig(in, sig, n), set, NULL), GK_OK);
        /* extra bytes after the signature */
        memcpy(big, sig, n);
        tk_assert_st(tk_verify(with_sig(in, big, n + 1), set, NULL),
                     GK_ERR_SIGNATURE);
        big[n] = 0x41;
        big[n + 1] = 0x42;
        tk_assert_st(tk_verify(with_sig(in, big, n + 2), set, NULL),
                     GK_ERR_SIGNATURE);
        /* a leading zero byte */
        big[0] = 0;
        memcpy(big + 1, sig, n);
        tk_assert_st(tk_verify(with_sig(in, big, n + 1), set, NULL),
                     GK_ERR_SIGNATURE);
        /* truncated */
        tk_assert_st(tk_verify(with_sig(in, sig, n - 1), set, NULL),
                     GK_ERR_SIGNATURE);
        tk_assert_st(tk_verify(with_sig(in, sig, 1), set, NULL),
                     GK_ERR_SIGNATURE);
    }
}
END_TEST

/* RFC 8017 (8.2.2 and 8.1.2 step 1): a signature whose length is not the
 * modulus length is invalid, even when it is the right number with its
 * leading zero byte dropped (otherwise one token has two encodings). */
START_TEST(rsa_signature_short_by_leading_zero)
{
    static const gk_alg_e rs[] = {GK_RS256, GK_PS256, GK_RS512, GK_PS512};
    {
        gk_alg_e alg = rs[_i];
        apr_array_header_t *set = tk_set(tp, tk_std_key(tp, alg, NULL), NULL);
        const char *h = apr_psprintf(tp, "{\"alg\":\"%s\"}", ALG_NAME(alg));
        const char *in = NULL;
        unsigned char *sig = NULL;
        size_t n = 0;
        int i;
        /* find a signature that starts with a zero byte (1 in 256) */
        for (i = 0; i < 20000; i++) {
            in = tk_input(tp, h, apr_psprintf(tp, "{\"sub\":\"alice\",\"n\":%d}",
                                              i));
            sig = tk_sign(tp, tk_std_signer(alg), in, strlen(in), &n);
            if (sig[0] == 0) {
                break;
            }
        }
        ck_assert_uint_eq(sig[0], 0);
        tk_assert_st(tk_verify(with_sig(in, sig, n), set, NULL), GK_OK);
        ck_assert_msg(tk_verify(with_sig(in, sig + 1, n - 1), set, NULL)
                          == GK_ERR_SIGNATURE,
                      "%s: a %zu-byte signature (leading zero byte dropped) "
                      "of a 2048-bit key verified",
                      ALG_NAME(alg), n - 1);
    }
}
END_TEST

START_TEST(eddsa_and_hmac_signature_lengths)
{
    apr_array_header_t *set = tk_set(tp, tk_std_key(tp, GK_EDDSA, NULL),
                                     tk_std_key(tp, GK_HS512, NULL), NULL);
    static const gk_alg_e algs[] = {GK_EDDSA, GK_HS512};
    size_t e;
    for (e = 0; e < 2; e++) {
        const char *in = tk_input(
            tp, apr_psprintf(tp, "{\"alg\":\"%s\"}", ALG_NAME(algs[e])),
            TK_PAYLOAD);
        size_t n;
        unsigned char *sig = tk_sign(tp, tk_std_signer(algs[e]), in,
                                     strlen(in), &n);
        unsigned char *big = apr_pcalloc(tp, n + 1);
        ck_assert_uint_eq(n, 64);
        tk_assert_st(tk_verify(with_sig(in, sig, n), set, NULL), GK_OK);
        tk_assert_st(tk_verify(with_sig(in, sig, n - 1), set, NULL),
                     GK_ERR_SIGNATURE);
        tk_assert_st(tk_verify(with_sig(in, sig, 32), set, NULL),
                     GK_ERR_SIGNATURE);
        memcpy(big, sig, n);
        tk_assert_st(tk_verify(with_sig(in, big, n + 1), set, NULL),
                     GK_ERR_SIGNATURE);
    }
    /* an HS256 MAC truncated to 16 bytes */
    {
        const char *in = tk_input(tp, "{\"alg\":\"HS256\"}", TK_PAYLOAD);
        size_t n;
        unsigned char *sig = tk_sign(tp, hs(), in, strlen(in), &n);
        tk_assert_st(tk_verify(with_sig(in, sig, 16), hs_set(), NULL),
                     GK_ERR_SIGNATURE);
        tk_assert_st(tk_verify(with_sig(in, sig, n), hs_set(), NULL), GK_OK);
    }
}
END_TEST

/* ---- token shape ---------------------------------------------------------- */

START_TEST(segments)
{
    char *tok = tk_tok(tp, hs(), TK_PAYLOAD);
    char *d1 = strchr(tok, '.'), *d2 = strrchr(tok, '.');
    const char *h = apr_pstrmemdup(tp, tok, (apr_size_t)(d1 - tok));
    const char *p = apr_pstrmemdup(tp, d1 + 1, (apr_size_t)(d2 - d1 - 1));
    const char *s = d2 + 1;
    const char *bad[] = {
        "", ".", "..", "...", "....",
        apr_pstrcat(tp, h, ".", p, NULL),                  /* 2 segments */
        apr_pstrcat(tp, h, NULL),                          /* 1 segment */
        apr_pstrcat(tp, tok, ".", s, NULL),                /* 4 segments */
        apr_pstrcat(tp, tok, ".", NULL),                   /* 4, last empty */
        apr_pstrcat(tp, h, ".", p, ".", s, ".", s, ".", s, NULL), /* JWE */
        apr_pstrcat(tp, ".", p, ".", s, NULL),             /* empty header */
        apr_pstrcat(tp, h, "..", s, NULL),                 /* empty payload */
        apr_pstrcat(tp, h, ".", p, ".", NULL),             /* empty sig */
        apr_pstrcat(tp, ".", tok, NULL),
        apr_pstrcat(tp, " ", tok, NULL),
        apr_pstrcat(tp, tok, " ", NULL),
        apr_pstrcat(tp, tok, "\n", NULL),
        apr_pstrcat(tp, tok, "=", NULL),
        apr_pstrcat(tp, h, "=.", p, ".", s, NULL),         /* padded header */
        apr_pstrcat(tp, h, ".", p, ".", s, "==", NULL),
        apr_pstrcat(tp, "Bearer ", tok, NULL),
        apr_pstrcat(tp, h, ".", p, ".", "+/+/", NULL),
        apr_pstrcat(tp, "e", ".", p, ".", s, NULL),        /* len % 4 == 1 */
        apr_pstrcat(tp, "eyJhbGciOiJIUzI1NiJ9", ".", p, ".", "Zh", NULL),
    };
    size_t i;

    tk_assert_st(tk_verify(tok, hs_set(), NULL), GK_OK);
    /* the payload segment is decoded after the signature is checked: an
     * unsigned bad payload is a bad signature first */
    tk_assert_st(tk_verify(apr_pstrcat(tp, h, ". ", p, ".", s, NULL),
                           hs_set(), NULL),
                 GK_ERR_SIGNATURE);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        gk_status_e st = tk_verify(bad[i], hs_set(), NULL);
        ck_assert_msg(st == GK_ERR_MALFORMED, "token %zu \"%s\": %s", i,
                      bad[i], gk_status_text(st));
    }
}
END_TEST

START_TEST(length_argument_and_nul)
{
    char *tok = tk_tok(tp, hs(), TK_PAYLOAD);
    size_t len = strlen(tok);
    char *longer = apr_pstrcat(tp, tok, ".garbage.after", NULL);
    char *nul = apr_pstrdup(tp, tok);

    /* only len bytes are the token */
    tk_assert_st(tk_verify_len(longer, len, hs_set(), NULL), GK_OK);
    ck_assert(tk_verify_len(tok, len - 1, hs_set(), NULL) != GK_OK);
    tk_assert_st(tk_verify_len(tok, 0, hs_set(), NULL), GK_ERR_MALFORMED);
    /* a NUL byte inside the token (within len) */
    nul[len - 3] = '\0';
    tk_assert_st(tk_verify_len(nul, len, hs_set(), NULL), GK_ERR_MALFORMED);
    nul = apr_pstrdup(tp, tok);
    nul[3] = '\0';
    tk_assert_st(tk_verify_len(nul, len, hs_set(), NULL), GK_ERR_MALFORMED);
}
END_TEST

START_TEST(max_length)
{
    int pad, found = 0;
    /* a valid token of exactly GK_TOKEN_MAX_LEN bytes, then one more */
    for (pad = 6000; pad < 6200 && found < 2; pad++) {
        char *filler = apr_palloc(tp, (apr_size_t)pad + 1);
        char *tok;
        size_t len;
        memset(filler, 'x', (size_t)pad);
        filler[pad] = '\0';
        tok = tk_tok(tp, hs(), apr_psprintf(tp, "{\"sub\":\"alice\",\"p\":\"%s\"}",
                                            filler));
        len = strlen(tok);
        if (len == GK_TOKEN_MAX_LEN) {
            tk_assert_st(tk_verify(tok, hs_set(), NULL), GK_OK);
            found |= 1;
        }
        else if (len == GK_TOKEN_MAX_LEN + 1) {
            tk_assert_st(tk_verify(tok, hs_set(), NULL), GK_ERR_TOO_LONG);
            found |= 2;
        }
    }
    /* 8192 and 8193 are not both reachable with one header; try JWT typ */
    for (pad = 6000; pad < 6200 && found != 3; pad++) {
        char *filler = apr_palloc(tp, (apr_size_t)pad + 1);
        char *tok;
        size_t len;
        memset(filler, 'x', (size_t)pad);
        filler[pad] = '\0';
        tok = tk_jws(tp, hs(), "{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
                     apr_psprintf(tp, "{\"sub\":\"alice\",\"p\":\"%s\"}",
                                  filler));
        len = strlen(tok);
        if (len == GK_TOKEN_MAX_LEN) {
            tk_assert_st(tk_verify(tok, hs_set(), NULL), GK_OK);
            found |= 1;
        }
        else if (len == GK_TOKEN_MAX_LEN + 1) {
            tk_assert_st(tk_verify(tok, hs_set(), NULL), GK_ERR_TOO_LONG);
            found |= 2;
        }
    }
    ck_assert_int_eq(found, 3);
}
END_TEST

START_TEST(too_long_before_parsing)
{
    char *junk = apr_palloc(tp, 100001);
    memset(junk, '.', 100000);
    junk[100000] = '\0';
    tk_assert_st(tk_verify(junk, hs_set(), NULL), GK_ERR_TOO_LONG);
    tk_assert_st(tk_verify_len(junk, GK_TOKEN_MAX_LEN + 1, hs_set(), NULL),
                 GK_ERR_TOO_LONG);
    tk_assert_st(tk_verify_len(junk, GK_TOKEN_MAX_LEN, hs_set(), NULL),
                 GK_ERR_MALFORMED);
}
END_TEST

START_TEST(huge_signature_segment)
{
    const char *in = tk_input(tp, "{\"alg\":\"HS256\"}", TK_PAYLOAD);
    size_t n;
    for (n = 1360; n <= 1372; n += 4) {
        char *sig = apr_palloc(tp, n + 1);
        gk_status_e st;
        memset(sig, 'A', n);
        sig[n] = '\0';
        st = tk_verify(apr_pstrcat(tp, in, ".", sig, NULL), hs_set(), NULL);
        ck_assert_msg(st == GK_ERR_MALFORMED || st == GK_ERR_SIGNATURE,
                      "%zu: %s", n, gk_status_text(st));
    }
    {
        /* 6000 characters of signature, inside the token length limit */
        char *sig = apr_palloc(tp, 6001);
        memset(sig, 'A', 6000);
        sig[6000] = '\0';
        tk_assert_st(tk_verify(apr_pstrcat(tp, in, ".", sig, NULL), hs_set(),
                               NULL),
                     GK_ERR_MALFORMED);
    }
}
END_TEST

START_TEST(huge_header_and_payload)
{
    /* deep nesting and long strings, within the length limit */
    char *deep = apr_palloc(tp, 4000);
    int i, n = 0;
    n += sprintf(deep + n, "{\"alg\":\"HS256\",\"x\":");
    for (i = 0; i < 1500; i++) {
        deep[n++] = '[';
    }
    for (i = 0; i < 1500; i++) {
        deep[n++] = ']';
    }
    deep[n++] = '}';
    deep[n] = '\0';
    /* too deep for jansson's parser (2048) is fine either way, no crash */
    (void)hs_status(deep, TK_PAYLOAD);
    (void)hs_status("{\"alg\":\"HS256\"}", deep + 15);
}
END_TEST

/* ---- the verified record ------------------------------------------------- */

START_TEST(verified_record)
{
    const char *payload =
        " { \"sub\" : \"al\\u00efce\", \"iss\":\"i\", \"aud\":[\"a\",\"b\"],"
        " \"exp\":1700003600, \"nbf\":1699990000, \"iat\":1699990001 }\n";
    gk_verified_t *v;

    tk_assert_st(tk_verify(tk_tok(tp, hs(), payload), hs_set(), &v), GK_OK);
    /* the text exactly as signed */
    ck_assert_str_eq(v->payload_text, payload);
    ck_assert_uint_eq(v->payload_len, strlen(payload));
    ck_assert_str_eq(json_string_value(json_object_get(v->payload, "sub")),
                     "al\xc3\xaf" "ce");
    ck_assert_str_eq(v->iss, "i");
    ck_assert(json_is_array(v->aud) && json_array_size(v->aud) == 2);
    ck_assert(v->has_exp && v->has_nbf && v->has_iat);
    ck_assert_int_eq(v->nbf, 1699990000);
    ck_assert_int_eq(v->iat, 1699990001);
    ck_assert_ptr_null(v->token);
    ck_assert_int_eq(v->alg, GK_HS256);
    gk_verified_ref(v);
    ck_assert_uint_eq(v->refs, 2);
    gk_verified_unref(v);
    ck_assert_uint_eq(v->refs, 1);
    gk_verified_unref(v);
    gk_verified_unref(NULL);
}
END_TEST

START_TEST(status_texts)
{
    int i, j;
    for (i = 0; i < GK_ERR_COUNT; i++) {
        const char *t = gk_status_text((gk_status_e)i);
        ck_assert_ptr_nonnull(t);
        ck_assert_uint_gt(strlen(t), 5);
        /* safe for an HTTP header quoted-string and for logs */
        ck_assert_ptr_null(strpbrk(t, "\"\\\r\n%"));
        for (j = 0; j < i; j++) {
            ck_assert_str_ne(t, gk_status_text((gk_status_e)j));
        }
    }
    ck_assert_str_eq(gk_status_text(GK_ERR_COUNT),
                     gk_status_text(GK_ERR_INTERNAL));
    ck_assert_str_eq(gk_status_text((gk_status_e)-1),
                     gk_status_text(GK_ERR_INTERNAL));
}
END_TEST

/* ---- the per-thread verifying context ------------------------------------ */

/* A thread moving between keys uses each key's own context: a token signed
 * by one key never verifies with another of the same algorithm, whatever
 * the order. */
START_TEST(thread_verifier_follows_key)
{
    EVP_PKEY *other = tk_gen_rsa(2048);
    gk_key_t *a = tk_gkkey(tp, GK_RS256, tk_key_for(GK_RS256), NULL);
    gk_key_t *b = tk_gkkey(tp, GK_RS256, other, NULL);
    gk_key_t *e = tk_std_key(tp, GK_ES256, NULL);
    char *ta = tk_tok(tp, tk_std_signer(GK_RS256), TK_PAYLOAD);
    char *tb = tk_tok(tp, tk_pk(GK_RS256, other), TK_PAYLOAD);
    char *te = tk_tok(tp, tk_std_signer(GK_ES256), TK_PAYLOAD);
    int i;

    for (i = 0; i < 3; i++) {
        tk_assert_st(tk_verify(ta, tk_set(tp, a, NULL), NULL), GK_OK);
        tk_assert_st(tk_verify(tb, tk_set(tp, a, NULL), NULL),
                     GK_ERR_SIGNATURE);
        tk_assert_st(tk_verify(tb, tk_set(tp, b, NULL), NULL), GK_OK);
        tk_assert_st(tk_verify(ta, tk_set(tp, b, NULL), NULL),
                     GK_ERR_SIGNATURE);
        tk_assert_st(tk_verify(te, tk_set(tp, e, NULL), NULL), GK_OK);
        /* a failed check leaves the context usable */
        tk_assert_st(tk_verify(ta, tk_set(tp, a, NULL), NULL), GK_OK);
    }
    ck_assert_uint_ne(a->serial, b->serial);
    EVP_PKEY_free(other);
}
END_TEST

/* Keys are freed on JWKS reloads and a new key may get a freed key's
 * address: the thread's context of the old key must not serve the new. */
START_TEST(thread_verifier_key_freed)
{
    EVP_PKEY *other = tk_gen_rsa(2048);
    char *ta = tk_tok(tp, tk_std_signer(GK_RS256), TK_PAYLOAD);
    char *tb = tk_tok(tp, tk_pk(GK_RS256, other), TK_PAYLOAD);
    int i;

    for (i = 0; i < 4; i++) {
        apr_pool_t *kp;
        gk_key_t *k;

        apr_pool_create(&kp, tp);
        k = tk_gkkey(kp, GK_RS256, i % 2 ? other : tk_key_for(GK_RS256),
                     NULL);
        tk_assert_st(tk_verify(i % 2 ? tb : ta, tk_set(kp, k, NULL), NULL),
                     GK_OK);
        tk_assert_st(tk_verify(i % 2 ? ta : tb, tk_set(kp, k, NULL), NULL),
                     GK_ERR_SIGNATURE);
        apr_pool_destroy(kp); /* frees k; the next may reuse its address */
    }
    EVP_PKEY_free(other);
}
END_TEST

#define VT_THREADS 4
#define VT_ROUNDS 40

typedef struct {
    gk_key_t *rs, *es, *ps;
    const char *trs, *tes, *tps;
    int bad;
} vt_state_t;

static void *APR_THREAD_FUNC vt_fn(apr_thread_t *th, void *data)
{
    vt_state_t *s = data;
    int i;

    for (i = 0; i < VT_ROUNDS; i++) {
        struct { gk_key_t *k; const char *t; } c[3] = {
            {s->rs, s->trs}, {s->es, s->tes}, {s->ps, s->tps}};
        int j, n;
        for (j = 0; j < 3; j++) {
            for (n = 0; n < 3; n++) {
                apr_array_header_t set;
                gk_key_t *one = c[n].k;
                const apr_array_header_t *const sets[1] = {&set};
                gk_verified_t *v = NULL;
                gk_status_e st;

                memset(&set, 0, sizeof(set));
                set.elt_size = sizeof(gk_key_t *);
                set.nelts = set.nalloc = 1;
                set.elts = (char *)&one;
                st = gk_jwt_verify(c[j].t, strlen(c[j].t), sets, 1, &v);
                if ((st == GK_OK) != (j == n)) {
                    __atomic_add_fetch(&s->bad, 1, __ATOMIC_RELAXED);
                }
                gk_verified_unref(v);
            }
        }
    }
    /* Return rather than apr_thread_exit(): its pthread_exit() leaves the
     * stack poisoned, which ASan reports as stack-use-after-scope when the
     * thread is torn down. */
    return NULL;
}

/* Threads verify with three keys in turn; each gets its own contexts, and
 * a thread's contexts are freed when it exits (valgrind: no leak). */
START_TEST(thread_verifier_threads)
{
    apr_thread_t *th[VT_THREADS];
    vt_state_t s;
    apr_status_t rv;
    int i;

    memset(&s, 0, sizeof(s));
    s.rs = tk_std_key(tp, GK_RS256, NULL);
    s.es = tk_std_key(tp, GK_ES256, NULL);
    s.ps = tk_std_key(tp, GK_PS256, NULL);
    s.trs = tk_tok(tp, tk_std_signer(GK_RS256), TK_PAYLOAD);
    s.tes = tk_tok(tp, tk_std_signer(GK_ES256), TK_PAYLOAD);
    s.tps = tk_tok(tp, tk_std_signer(GK_PS256), TK_PAYLOAD);
    for (i = 0; i < VT_THREADS; i++) {
        ck_assert_int_eq(apr_thread_create(&th[i], NULL, vt_fn, &s, tp),
                         APR_SUCCESS);
    }
    for (i = 0; i < VT_THREADS; i++) {
        apr_thread_join(&rv, th[i]);
    }
    ck_assert_int_eq(s.bad, 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("jwt");
    TCase *tc = tk_tcase("algorithms");

    tcase_add_loop_test(tc, every_alg_verifies, GK_HS256, GK_ALG_COUNT);
    tcase_add_loop_test(tc, every_alg_tampered, GK_HS256, GK_ALG_COUNT);
    tcase_add_loop_test(tc, every_alg_wrong_key, GK_HS256, GK_ALG_COUNT);
    tcase_add_loop_test(tc, every_alg_needs_its_own_key, GK_HS256,
                        GK_ALG_COUNT);
    tcase_add_test(tc, alg_substitution);
    tcase_add_test(tc, alg_confusion_hs256_with_rsa_pem);
    tcase_add_test(tc, embedded_jwk_ignored);
    tcase_add_test(tc, alg_none_and_friends);
    tcase_add_test(tc, crit_refused);
    suite_add_tcase(s, tc);

    tc = tk_tcase("json");
    tcase_add_test(tc, header_not_an_object);
    tcase_add_test(tc, header_member_types);
    tcase_add_test(tc, duplicate_members);
    tcase_add_test(tc, payload_not_an_object);
    tcase_add_test(tc, payload_segment_strict);
    tcase_add_test(tc, raw_nul_in_json);
    suite_add_tcase(s, tc);

    tc = tk_tcase("claims");
    tcase_add_test(tc, exp_boundaries);
    tcase_add_test(tc, nbf_boundaries);
    tcase_add_test(tc, iat_boundaries);
    tcase_add_test(tc, exp_required);
    tcase_add_test(tc, claim_types);
    tcase_add_test(tc, real_valued_times);
    tcase_add_test(tc, extreme_integer_times);
    tcase_add_test(tc, issuer_exact);
    tcase_add_test(tc, audience_any_of);
    tcase_add_test(tc, token_type);
    suite_add_tcase(s, tc);

    tc = tk_tcase("keys");
    tcase_add_test(tc, kid_selection);
    tcase_add_test(tc, kidless_tries_bounded);
    suite_add_tcase(s, tc);

    tc = tk_tcase("encoding");
    tcase_add_test(tc, ec_signature_lengths);
    tcase_add_test(tc, ec_signature_of_other_curve_length);
    tcase_add_test(tc, rsa_signature_lengths);
    tcase_add_loop_test(tc, rsa_signature_short_by_leading_zero, 0, 4);
    tcase_add_test(tc, eddsa_and_hmac_signature_lengths);
    tcase_add_test(tc, segments);
    tcase_add_test(tc, length_argument_and_nul);
    tcase_add_test(tc, max_length);
    tcase_add_test(tc, too_long_before_parsing);
    tcase_add_test(tc, huge_signature_segment);
    tcase_add_test(tc, huge_header_and_payload);
    tcase_add_test(tc, verified_record);
    tcase_add_test(tc, status_texts);
    tcase_add_test(tc, thread_verifier_follows_key);
    tcase_add_test(tc, thread_verifier_key_freed);
    tcase_add_test(tc, thread_verifier_threads);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(suite)
