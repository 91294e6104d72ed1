/* JWK Sets (gk_jwks): parsing a document, and the reloadable JWKS file. */
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "gk_jwks.h"
#include "gk_log.h"
#include "gk_test.h"

/* ---- log capture ---------------------------------------------------------- */

static int log_count, log_level;
static char log_last[1024];

static void log_sink(void *baton, const char *file, int line, int level,
                     const char *msg)
{
    log_count++;
    log_level = level;
    snprintf(log_last, sizeof(log_last), "%s", msg);
}

static void log_reset(void)
{
    log_count = 0;
    log_level = 0;
    log_last[0] = '\0';
    gk_log_set(log_sink, NULL, NULL);
}

/* ---- JWKS ------------------------------------------------------------------ */

static const char *parse(const char *json, gk_alg_e def,
                         apr_array_header_t **keys)
{
    apr_array_header_t *a = apr_array_make(tp, 2, sizeof(gk_key_t *));
    const char *err = gk_jwks_parse(tp, json, strlen(json), def, a);
    if (keys) {
        *keys = a;
    }
    return err;
}

START_TEST(jwks_parse_ok)
{
    apr_array_header_t *keys;
    const char *doc = tk_jwks_text(
        tp, tk_jwk_with(tk_jwk(tp, TK.rsa), "RS256", "r"),
        tk_jwk_with(tk_jwk(tp, TK.ec384), "ES384", "e"),
        tk_jwk_with(tk_jwk(tp, TK.ed), "EdDSA", "o"),
        tk_jwk_with(tk_jwk_oct(tp, TK_SECRET, 48), "HS384", "s"), NULL);

    tk_assert_ok(parse(doc, GK_ALG_UNKNOWN, &keys));
    ck_assert_int_eq(keys->nelts, 4);
    ck_assert_str_eq(APR_ARRAY_IDX(keys, 2, gk_key_t *)->kid, "o");
    ck_assert_int_eq(tk_verify(tk_tok_kid(tp, tk_pk(GK_ES384, TK.ec384), "e",
                                          TK_PAYLOAD),
                               keys, NULL),
                     GK_OK);
    ck_assert_int_eq(tk_verify(tk_tok_kid(tp, tk_hmac(GK_HS384, TK_SECRET, 48),
                                          "s", TK_PAYLOAD),
                               keys, NULL),
                     GK_OK);
    /* members other than "keys" are ignored; the default alg applies */
    {
        json_t *j = tk_jwk(tp, TK.ec256);
        doc = apr_psprintf(tp, "{\"x\":1,\"keys\":[%s]}",
                           tk_json_text(tp, j));
        json_decref(j);
    }
    tk_assert_ok(parse(doc, GK_ES256, &keys));
    ck_assert_int_eq(keys->nelts, 1);
}
END_TEST

START_TEST(jwks_parse_errors)
{
    static const struct {
        const char *doc, *err;
    } cases[] = {
        {"", "not valid JSON"},
        {"{", "not valid JSON"},
        {"{\"keys\":[]", "not valid JSON"},
        {"[]", "no \"keys\""},
        {"{}", "no \"keys\""},
        {"{\"keys\":{}}", "no \"keys\""},
        {"{\"keys\":null}", "no \"keys\""},
        {"{\"Keys\":[{}]}", "no \"keys\""},
        {"{\"keys\":[]}", "empty"},
        {"{\"keys\":[1]}", "key 0"},
        {"{\"keys\":[{}]}", "key 0"},
        {"{\"keys\":[],\"keys\":[]}", "not valid JSON"},
        {"{\"keys\":[{\"kty\":\"oct\",\"k\":\"AA\",\"k\":\"AA\"}]}",
         "not valid JSON"},
        {"{\"keys\":[{\"kty\":\"oct\",\"alg\":\"HS256\",\"k\":\"AA\"}]}",
         "at least"},
        {"{\"keys\":[{\"kty\":\"oct\",\"alg\":\"HS256\",\"k\":\"a\\u0000\"}]}",
         "not valid JSON"},
    };
    size_t i;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *err = parse(cases[i].doc, GK_ALG_UNKNOWN, NULL);
        ck_assert_msg(err && strstr(err, cases[i].err), "%s: %s (want %s)",
                      cases[i].doc, err ? err : "accepted", cases[i].err);
    }
}
END_TEST

START_TEST(jwks_one_bad_key_fails_all)
{
    const char *doc = tk_jwks_text(
        tp, tk_jwk_with(tk_jwk(tp, TK.rsa), "RS256", "good"),
        tk_jwk_with(tk_jwk(tp, TK.rsa1024), "RS256", "weak"), NULL);
    tk_assert_err(parse(doc, GK_ALG_UNKNOWN, NULL), "key 1");
    doc = tk_jwks_text(tp, tk_jwk_with(tk_jwk(tp, TK.rsa), "RS256", "good"),
                       tk_jwk_with(tk_jwk(tp, TK.ec256), "RS256", "bad"),
                       NULL);
    tk_assert_err(parse(doc, GK_ALG_UNKNOWN, NULL), "key 1");
    /* a JWK without alg, no default */
    doc = tk_jwks_text(tp, tk_jwk_with(tk_jwk(tp, TK.rsa), "RS256", "a"),
                       tk_jwk(tp, TK.rsa2), NULL);
    tk_assert_err(parse(doc, GK_ALG_UNKNOWN, NULL), "key 1");
    ck_assert_ptr_null(parse(doc, GK_RS256, NULL));
}
END_TEST

START_TEST(jwks_not_nul_terminated)
{
    /* the length is honoured: the text after it is not read */
    const char *doc = tk_jwks_text(
        tp, tk_jwk_with(tk_jwk_oct(tp, TK_SECRET, 32), "HS256", "a"), NULL);
    char *buf = apr_pstrcat(tp, doc, "garbage", NULL);
    apr_array_header_t *keys = apr_array_make(tp, 1, sizeof(gk_key_t *));
    tk_assert_ok(gk_jwks_parse(tp, buf, strlen(doc), GK_ALG_UNKNOWN, keys));
    ck_assert_int_eq(keys->nelts, 1);
}
END_TEST

/* ---- the reloadable JWKS set ------------------------------------------------ */

static void write_jwks(const char *path, const char *doc, time_t mtime)
{
    struct timeval tv[2];
    tk_write_file(path, doc, strlen(doc));
    tv[0].tv_sec = tv[1].tv_sec = mtime;
    tv[0].tv_usec = tv[1].tv_usec = 0;
    ck_assert_int_eq(utimes(path, tv), 0);
}

static const char *oct_jwks(const char *secret, const char *kid)
{
    return tk_jwks_text(tp, tk_jwk_with(tk_jwk_oct(tp, secret, 32), "HS256",
                                        kid),
                        NULL);
}

/* Status of a kid token signed by secret against the set's current keys. */
static gk_status_e jwks_verify(gk_jwks_t *set, const char *secret,
                               const char *kid)
{
    gk_keygen_t *g = gk_jwks_acquire(set);
    gk_status_e st = tk_verify(tk_tok_kid(tp, tk_hmac(GK_HS256, secret, 32),
                                          kid, TK_PAYLOAD),
                               g->keys, NULL);
    gk_jwks_release(set, g);
    return st;
}

START_TEST(jwks_open_errors)
{
    const char *dir = tk_tmpdir(tp);
    gk_jwks_t *set = NULL;
    tk_assert_err(gk_jwks_open(tp, tk_path_in(tp, dir, "none.json"), GK_ALG_UNKNOWN,
                            &set),
               "none.json");
    write_jwks(tk_path_in(tp, dir, "bad.json"), "{\"keys\":", 1000);
    tk_assert_err(gk_jwks_open(tp, tk_path_in(tp, dir, "bad.json"), GK_ALG_UNKNOWN,
                            &set),
               "not valid JSON");
    write_jwks(tk_path_in(tp, dir, "noalg.json"),
               tk_jwks_text(tp, tk_jwk_oct(tp, TK_SECRET, 32), NULL), 1000);
    tk_assert_err(gk_jwks_open(tp, tk_path_in(tp, dir, "noalg.json"), GK_ALG_UNKNOWN,
                            &set),
               "alg");
    tk_assert_ok(gk_jwks_open(tp, tk_path_in(tp, dir, "noalg.json"), GK_HS256, &set));
    ck_assert_ptr_nonnull(set);
}
END_TEST

START_TEST(jwks_reload)
{
    const char *dir = tk_tmpdir(tp);
    const char *path = tk_path_in(tp, dir, "keys.json");
    gk_jwks_t *set = NULL;
    gk_keygen_t *g0, *g;

    log_reset();
    write_jwks(path, oct_jwks(TK_SECRET, "a"), 1000000);
    tk_assert_ok(gk_jwks_open(tp, path, GK_ALG_UNKNOWN, &set));
    ck_assert_uint_eq(set->gen, 0);
    tk_assert_st(jwks_verify(set, TK_SECRET, "a"), GK_OK);
    tk_assert_st(jwks_verify(set, TK_SECRET2, "b"), GK_ERR_NO_KEY);

    /* nothing changed: no reload */
    gk_jwks_refresh(set, 100);
    ck_assert_uint_eq(set->gen, 0);
    ck_assert_int_eq(log_count, 0);

    /* a request holds generation 0 across the reload */
    g0 = gk_jwks_acquire(set);
    ck_assert_uint_eq(g0->gen, 0);

    /* a new key, a new mtime, the interval passed: generation 1 */
    write_jwks(path, oct_jwks(TK_SECRET2, "b"), 1000010);
    gk_jwks_refresh(set, 100 + GK_JWKS_CHECK_INTERVAL);
    ck_assert_uint_eq(set->gen, 1);
    ck_assert_int_eq(log_level, GK_LOG_NOTICE);
    ck_assert_ptr_nonnull(strstr(log_last, "GK00003"));
    tk_assert_st(jwks_verify(set, TK_SECRET2, "b"), GK_OK);
    tk_assert_st(jwks_verify(set, TK_SECRET, "a"), GK_ERR_NO_KEY);
    g = gk_jwks_acquire(set);
    ck_assert_uint_eq(g->gen, 1);
    ck_assert_ptr_ne(g, g0);
    gk_jwks_release(set, g);

    /* the old generation still works for the request holding it */
    ck_assert_int_eq(tk_verify(tk_tok_kid(tp, tk_hmac(GK_HS256, TK_SECRET, 32),
                                          "a", TK_PAYLOAD),
                               g0->keys, NULL),
                     GK_OK);
    gk_jwks_release(set, g0);
}
END_TEST

START_TEST(jwks_reload_interval)
{
    const char *dir = tk_tmpdir(tp);
    const char *path = tk_path_in(tp, dir, "keys.json");
    gk_jwks_t *set = NULL;

    write_jwks(path, oct_jwks(TK_SECRET, "a"), 1000000);
    tk_assert_ok(gk_jwks_open(tp, path, GK_ALG_UNKNOWN, &set));
    gk_jwks_refresh(set, 1000); /* checks: next check at 1005 */
    ck_assert_uint_eq(set->gen, 0);
    write_jwks(path, oct_jwks(TK_SECRET2, "b"), 1000010);
    gk_jwks_refresh(set, 1001);
    gk_jwks_refresh(set, 1000 + GK_JWKS_CHECK_INTERVAL - 1);
    ck_assert_uint_eq(set->gen, 0);
    tk_assert_st(jwks_verify(set, TK_SECRET, "a"), GK_OK);
    gk_jwks_refresh(set, 1000 + GK_JWKS_CHECK_INTERVAL);
    ck_assert_uint_eq(set->gen, 1);
    tk_assert_st(jwks_verify(set, TK_SECRET2, "b"), GK_OK);
    /* a change in size or content with the same mtime is seen too */
    write_jwks(path, tk_jwks_text(tp,
                                  tk_jwk_with(tk_jwk_oct(tp, TK_SECRET, 32),
                                              "HS256", "a"),
                                  tk_jwk_with(tk_jwk_oct(tp, TK_SECRET2, 32),
                                              "HS256", "b"),
                                  NULL),
               1000010);
    gk_jwks_refresh(set, 2000);
    ck_assert_uint_eq(set->gen, 2);
    tk_assert_st(jwks_verify(set, TK_SECRET, "a"), GK_OK);
    tk_assert_st(jwks_verify(set, TK_SECRET2, "b"), GK_OK);
}
END_TEST

START_TEST(jwks_broken_file_keeps_keys)
{
    const char *dir = tk_tmpdir(tp);
    const char *path = tk_path_in(tp, dir, "keys.json");
    gk_jwks_t *set = NULL;

    log_reset();
    write_jwks(path, oct_jwks(TK_SECRET, "a"), 1000000);
    tk_assert_ok(gk_jwks_open(tp, path, GK_ALG_UNKNOWN, &set));

    /* not JSON */
    write_jwks(path, "{\"keys\":[", 1000010);
    gk_jwks_refresh(set, 100);
    ck_assert_uint_eq(set->gen, 0);
    ck_assert_int_eq(log_level, GK_LOG_ERR);
    ck_assert_ptr_nonnull(strstr(log_last, "GK00002"));
    ck_assert_ptr_nonnull(strstr(log_last, "keeping"));
    tk_assert_st(jwks_verify(set, TK_SECRET, "a"), GK_OK);
    /* not retried while the file stays the same */
    log_count = 0;
    gk_jwks_refresh(set, 200);
    ck_assert_int_eq(log_count, 0);

    /* valid JSON, one weak key: the whole file is refused */
    write_jwks(path,
               tk_jwks_text(tp,
                            tk_jwk_with(tk_jwk_oct(tp, TK_SECRET2, 32),
                                        "HS256", "b"),
                            tk_jwk_with(tk_jwk_oct(tp, TK_SECRET2, 16),
                                        "HS256", "c"),
                            NULL),
               1000020);
    gk_jwks_refresh(set, 300);
    ck_assert_uint_eq(set->gen, 0);
    ck_assert_ptr_nonnull(strstr(log_last, "key 1"));
    tk_assert_st(jwks_verify(set, TK_SECRET, "a"), GK_OK);
    tk_assert_st(jwks_verify(set, TK_SECRET2, "b"), GK_ERR_NO_KEY);

    /* the file disappears */
    ck_assert_int_eq(unlink(path), 0);
    gk_jwks_refresh(set, 400);
    ck_assert_uint_eq(set->gen, 0);
    ck_assert_ptr_nonnull(strstr(log_last, "GK00001"));
    tk_assert_st(jwks_verify(set, TK_SECRET, "a"), GK_OK);

    /* and comes back fixed */
    write_jwks(path, oct_jwks(TK_SECRET2, "b"), 1000030);
    gk_jwks_refresh(set, 500);
    ck_assert_uint_eq(set->gen, 1);
    tk_assert_st(jwks_verify(set, TK_SECRET2, "b"), GK_OK);
    tk_assert_st(jwks_verify(set, TK_SECRET, "a"), GK_ERR_NO_KEY);
    gk_log_set(NULL, NULL, NULL);
}
END_TEST

START_TEST(jwks_many_reloads)
{
    const char *dir = tk_tmpdir(tp);
    const char *path = tk_path_in(tp, dir, "keys.json");
    gk_jwks_t *set = NULL;
    gk_keygen_t *held[3];
    unsigned i;

    write_jwks(path, oct_jwks(TK_SECRET, "k0"), 1000000);
    tk_assert_ok(gk_jwks_open(tp, path, GK_ALG_UNKNOWN, &set));
    for (i = 1; i <= 20; i++) {
        const char *kid = apr_psprintf(tp, "k%u", i);
        if (i < 4) {
            held[i - 1] = gk_jwks_acquire(set);
        }
        write_jwks(path, oct_jwks(i % 2 ? TK_SECRET2 : TK_SECRET, kid),
                   (time_t)(1000000 + i));
        gk_jwks_refresh(set, 1000 * i);
        ck_assert_uint_eq(set->gen, i);
        tk_assert_st(jwks_verify(set, i % 2 ? TK_SECRET2 : TK_SECRET, kid),
                     GK_OK);
    }
    for (i = 0; i < 3; i++) {
        ck_assert_uint_eq(held[i]->gen, i);
        ck_assert_uint_eq(held[i]->refs, 1);
        gk_jwks_release(set, held[i]);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("jwks");
    TCase *tc = tk_tcase("jwks");

    tcase_add_test(tc, jwks_parse_ok);
    tcase_add_test(tc, jwks_parse_errors);
    tcase_add_test(tc, jwks_one_bad_key_fails_all);
    tcase_add_test(tc, jwks_not_nul_terminated);
    suite_add_tcase(s, tc);

    tc = tk_tcase("reload");
    tcase_add_test(tc, jwks_open_errors);
    tcase_add_test(tc, jwks_reload);
    tcase_add_test(tc, jwks_reload_interval);
    tcase_add_test(tc, jwks_broken_file_keeps_keys);
    tcase_add_test(tc, jwks_many_reloads);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(suite)
