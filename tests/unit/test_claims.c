/* Claim paths, claim strings and permissions (gk_claims). */
#include "gk_claims.h"
#include "gk_strlist.h"
#include "gk_test.h"

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &e);
    ck_assert_msg(j != NULL, "bad test JSON %s: %s", text, e.text);
    return j;
}

/* The claim at path as compact JSON text, or "(absent)". */
static const char *get(json_t *claims, const char *path)
{
    json_t *v = gk_claim_get(claims, gk_claim_path_make(tp, path));
    return v ? tk_json_text(tp, v) : "(absent)";
}

START_TEST(path_make)
{
    gk_claim_path_t *p = gk_claim_path_make(tp, "sub");
    ck_assert_str_eq(p->name, "sub");
    ck_assert_int_eq(p->nsegs, 1);
    ck_assert_str_eq(p->segs[0], "sub");
    p = gk_claim_path_make(tp, "realm_access.roles");
    ck_assert_str_eq(p->name, "realm_access.roles");
    ck_assert_int_eq(p->nsegs, 2);
    ck_assert_str_eq(p->segs[0], "realm_access");
    ck_assert_str_eq(p->segs[1], "roles");
    p = gk_claim_path_make(tp, "a.b.c.d");
    ck_assert_int_eq(p->nsegs, 4);
    ck_assert_str_eq(p->segs[3], "d");
    /* empty segments are dropped, never out of bounds */
    p = gk_claim_path_make(tp, "a..b.");
    ck_assert_int_eq(p->nsegs, 2);
    ck_assert_str_eq(p->segs[1], "b");
    p = gk_claim_path_make(tp, ".");
    ck_assert_int_le(p->nsegs, 1);
    p = gk_claim_path_make(tp, "");
    ck_assert_int_eq(p->nsegs, 1);
}
END_TEST

START_TEST(path_get)
{
    json_t *c = J("{\"sub\":\"alice\","
                  "\"realm_access\":{\"roles\":[\"admin\",\"user\"],"
                  "\"deep\":{\"er\":{\"est\":true}}},"
                  "\"https://example.com/roles\":[\"literal\"],"
                  "\"https://example\":{\"com/roles\":[\"nested\"]},"
                  "\"a.b\":\"literal-ab\",\"a\":{\"b\":\"nested-ab\"},"
                  "\"x\":{\"y\":\"only-nested\"},"
                  "\"arr\":[{\"k\":1}],\"s\":\"str\",\"n\":null}");

    ck_assert_str_eq(get(c, "sub"), "\"alice\"");
    ck_assert_str_eq(get(c, "realm_access.roles"), "[\"admin\",\"user\"]");
    ck_assert_str_eq(get(c, "realm_access.deep.er.est"), "true");
    /* a member named exactly like the path wins over the nested lookup */
    ck_assert_str_eq(get(c, "https://example.com/roles"), "[\"literal\"]");
    ck_assert_str_eq(get(c, "a.b"), "\"literal-ab\"");
    ck_assert_str_eq(get(c, "x.y"), "\"only-nested\"");
    /* absent */
    ck_assert_str_eq(get(c, "nope"), "(absent)");
    ck_assert_str_eq(get(c, "realm_access.nope"), "(absent)");
    ck_assert_str_eq(get(c, "nope.roles"), "(absent)");
    ck_assert_str_eq(get(c, "realm_access.roles.0"), "(absent)");
    ck_assert_str_eq(get(c, "arr.k"), "(absent)");
    ck_assert_str_eq(get(c, "s.x"), "(absent)");
    ck_assert_str_eq(get(c, "n.x"), "(absent)");
    ck_assert_str_eq(get(c, "sub.x.y"), "(absent)");
    ck_assert_str_eq(get(c, "SUB"), "(absent)");
    /* null is present */
    ck_assert_str_eq(get(c, "n"), "null");
    json_decref(c);

    /* the literal member is looked up even without the nested one */
    c = J("{\"https://example.com/roles\":\"x y\"}");
    ck_assert_str_eq(get(c, "https://example.com/roles"), "\"x y\"");
    json_decref(c);
    c = J("{\"https://example\":{\"com/roles\":[\"nested\"]}}");
    ck_assert_str_eq(get(c, "https://example.com/roles"), "[\"nested\"]");
    json_decref(c);
    /* claims that are not an object */
    c = J("[1,2]");
    ck_assert_str_eq(get(c, "a.b"), "(absent)");
    ck_assert_str_eq(get(c, "a"), "(absent)");
    json_decref(c);
}
END_TEST

static const char *strings(const char *text)
{
    json_t *j = J(text);
    apr_array_header_t *l = apr_array_make(tp, 2, sizeof(const char *));
    int n = gk_claim_strings(tp, j, l);
    const char *out;
    ck_assert_int_eq(n, l->nelts);
    /* strings outlive the call only while j does: copy them */
    out = apr_pstrdup(tp, gk_strlist_join(tp, l, "|"));
    json_decref(j);
    return out;
}

START_TEST(claim_strings)
{
    ck_assert_str_eq(strings("[\"a\",\"b\"]"), "a|b");
    ck_assert_str_eq(strings("[\"a\",1,null,{},[\"x\"],\"\",\"b c\"]"),
                     "a|b c");
    ck_assert_str_eq(strings("[]"), "");
    ck_assert_str_eq(strings("\"a b  c \""), "a|b|c");
    ck_assert_str_eq(strings("\"  lead\""), "lead");
    ck_assert_str_eq(strings("\"one\""), "one");
    ck_assert_str_eq(strings("\"\""), "");
    ck_assert_str_eq(strings("\"   \""), "");
    /* only spaces delimit (RFC 6749 scope) */
    ck_assert_str_eq(strings("\"a\\tb\""), "a\tb");
    ck_assert_str_eq(strings("1"), "");
    ck_assert_str_eq(strings("null"), "");
    ck_assert_str_eq(strings("{\"a\":\"b\"}"), "");
    ck_assert_str_eq(strings("true"), "");
    {
        apr_array_header_t *l = apr_array_make(tp, 1, sizeof(const char *));
        ck_assert_int_eq(gk_claim_strings(tp, NULL, l), 0);
        /* appends to what is there */
        APR_ARRAY_PUSH(l, const char *) = "x";
        {
            json_t *j = J("\"y z\"");
            ck_assert_int_eq(gk_claim_strings(tp, j, l), 2);
            ck_assert_int_eq(l->nelts, 3);
            ck_assert_str_eq(gk_strlist_join(tp, l, " "), "x y z");
            json_decref(j);
        }
    }
}
END_TEST

START_TEST(perm_check)
{
    static const char *const ok[] = {"read", "admin:users:delete", "a:b",
                                     "x-y_z.w", "a/b:c", "~!#$%&()+,;<=>?@"};
    static const char *const ok_wild[] = {"*", "admin:*", "a:*:c", "*:read",
                                          "*:*"};
    static const char *const bad[] = {"", ":", "a:", ":a", "a::b", "a b",
                                      "a\tb", "a\nb", "a\x7f", "a:*b", "a*",
                                      "**", "a:**", "*a:b", " a",
                                      /* visible ASCII only */
                                      "\xc3\xa9t\xc3\xa9", "a\xc2\xa0",
                                      "a\xc2\x85", "a\x80", "a\xff", "a\r",
                                      "a\x1b[31m"};
    size_t i;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        ck_assert_msg(gk_perm_check(tp, ok[i], 0) == NULL, "%s", ok[i]);
        ck_assert_msg(gk_perm_check(tp, ok[i], 1) == NULL, "%s", ok[i]);
    }
    for (i = 0; i < sizeof(ok_wild) / sizeof(ok_wild[0]); i++) {
        ck_assert_msg(gk_perm_check(tp, ok_wild[i], 1) == NULL, "%s",
                      ok_wild[i]);
        ck_assert_msg(gk_perm_check(tp, ok_wild[i], 0) != NULL, "%s",
                      ok_wild[i]);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(gk_perm_check(tp, bad[i], 1) != NULL, "'%s'", bad[i]);
        ck_assert_msg(gk_perm_check(tp, bad[i], 0) != NULL, "'%s'", bad[i]);
    }
    ck_assert_ptr_nonnull(strstr(gk_perm_check(tp, "a::b", 0), "empty"));
}
END_TEST

START_TEST(perm_covers)
{
    static const struct {
        const char *held, *want;
        int covers;
    } t[] = {
        {"read", "read", 1},
        {"read", "Read", 0},
        {"read", "reads", 0},
        {"reads", "read", 0},
        {"read", "read:x", 0},
        {"read:x", "read", 0},
        {"admin:*", "admin:users", 1},
        {"admin:*", "admin:users:delete", 1},
        {"admin:*", "admin:a:b:c:d", 1},
        {"admin:*", "admin", 0},
        {"admin:*", "administrator:x", 0},
        {"admin:*", "adm:x", 0},
        {"admin:*", "other:admin:x", 0},
        {"*", "anything", 1},
        {"*", "a:b:c", 1},
        {"*", "*", 1},
        {"a:*:c", "a:b:c", 1},
        {"a:*:c", "a:xyz:c", 1},
        {"a:*:c", "a:b", 0},
        {"a:*:c", "a:b:d", 0},
        {"a:*:c", "a:b:c:d", 0},
        {"a:*:c", "a:b:x:c", 0},
        {"a:*:c", "a:c", 0},
        {"a:*:c", "b:b:c", 0},
        {"*:read", "docs:read", 1},
        {"*:read", "docs:write", 0},
        {"*:read", "read", 0},
        {"*:read", "a:b:read", 0},
        {"*:*", "a:b", 1},
        {"*:*", "a:b:c", 1},
        {"*:*", "a", 0},
        {"a:*:*", "a:b:c:d", 1},
        {"a:*:*", "a:b", 0},
        /* a '*' wanted is just a character */
        {"admin:users", "admin:*", 0},
        {"admin:*", "admin:*", 1},
    };
    size_t i;
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        ck_assert_msg(gk_perm_covers(t[i].held, t[i].want) == t[i].covers,
                      "held '%s' want '%s': expected %d", t[i].held,
                      t[i].want, t[i].covers);
    }
}
END_TEST

START_TEST(path_valid)
{
    static const char *const good[] = {
        "sub", "realm_access.roles", "a.b.c", "https://example.com/roles",
        "x-y", "a b",
    };
    static const char *const bad[] = {"", ".", "..", ".a", "a.", "a..b",
                                      "a.b.", "..a"};
    size_t i;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        ck_assert_msg(gk_claim_path_is_valid(good[i]), "'%s'", good[i]);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(!gk_claim_path_is_valid(bad[i]), "'%s'", bad[i]);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("claims");
    TCase *tc = tk_tcase("claims");

    tcase_add_test(tc, path_valid);
    tcase_add_test(tc, path_make);
    tcase_add_test(tc, path_get);
    tcase_add_test(tc, claim_strings);
    tcase_add_test(tc, perm_check);
    tcase_add_test(tc, perm_covers);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(suite)
