/* Lists of strings (gk_strlist). */
#include "gk_strlist.h"
#include "gk_test_core.h"

START_TEST(has_and_join)
{
    apr_array_header_t *l = tk_strs(tp, "a", "bb", "c", NULL);
    ck_assert(gk_strlist_has(l, "bb"));
    ck_assert(!gk_strlist_has(l, "b"));
    ck_assert(!gk_strlist_has(l, "BB"));
    ck_assert(!gk_strlist_has(NULL, "a"));
    ck_assert_str_eq(gk_strlist_join(tp, l, ", "), "a, bb, c");
    ck_assert_str_eq(gk_strlist_join(tp, l, ""), "abbc");
    ck_assert_str_eq(gk_strlist_join(tp, tk_strs(tp, "x", NULL), " "), "x");
    ck_assert_str_eq(gk_strlist_join(tp, tk_strs(tp, NULL), " "), "");
    ck_assert_str_eq(gk_strlist_join(tp, NULL, " "), "");
}
END_TEST

START_TEST(merge)
{
    apr_array_header_t *a = tk_strs(tp, "a", "b", NULL);
    apr_array_header_t *b = tk_strs(tp, "c", NULL);
    apr_array_header_t *m;
    apr_array_header_t *ia = apr_array_make(tp, 2, sizeof(int));
    apr_array_header_t *ib = apr_array_make(tp, 1, sizeof(int));

    /* one side missing: the other as it is, no copy */
    ck_assert_ptr_null(gk_strlist_merge(tp, NULL, NULL));
    ck_assert_ptr_eq(gk_strlist_merge(tp, a, NULL), a);
    ck_assert_ptr_eq(gk_strlist_merge(tp, NULL, b), b);
    /* both: a new list, the parent's first, neither changed */
    m = gk_strlist_merge(tp, a, b);
    ck_assert_ptr_ne(m, a);
    ck_assert_ptr_ne(m, b);
    ck_assert_str_eq(gk_strlist_join(tp, m, ","), "a,b,c");
    ck_assert_int_eq(a->nelts, 2);
    ck_assert_int_eq(b->nelts, 1);
    /* any element type */
    APR_ARRAY_PUSH(ia, int) = 1;
    APR_ARRAY_PUSH(ia, int) = 2;
    APR_ARRAY_PUSH(ib, int) = 4;
    m = gk_strlist_merge(tp, ia, ib);
    ck_assert_int_eq(m->nelts, 3);
    ck_assert_int_eq(APR_ARRAY_IDX(m, 0, int), 1);
    ck_assert_int_eq(APR_ARRAY_IDX(m, 2, int), 4);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("strlist");
    TCase *tc = tk_tcase("strlist");

    tcase_add_test(tc, has_and_join);
    tcase_add_test(tc, merge);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(suite)
