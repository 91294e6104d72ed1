/*
 * The core of the common/ unit tests (libcheck), for tests that need no
 * keys or tokens (gk_test.h adds those):
 *
 *  - one APR pool per test (tp), made by the checked fixture tk_setup and
 *    destroyed by tk_teardown;
 *  - a fixed clock, TS, handed to every time-dependent function as `now`;
 *  - TK_MAIN, which initialises APR and runs the suite.
 *
 * A test file defines `static Suite *suite(void)` and ends with
 * TK_MAIN(suite). Environment: CK_FORK=no to run without fork (valgrind),
 * CK_TAP_LOG_FILE_NAME=- for TAP lines on stdout (make check-unit).
 */
#ifndef GK_TEST_CORE_H
#define GK_TEST_CORE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "gk.h"

#define TK_UNUSED __attribute__((unused))

/* The fixed "now" of every test. */
#define TS 1700000000

/* ---- pools ------------------------------------------------------------- */

static apr_pool_t *tk_root TK_UNUSED; /* lives as long as the process */
static apr_pool_t *tp TK_UNUSED;      /* one per test */

static TK_UNUSED void tk_setup(void)
{
    ck_assert_int_eq(apr_pool_create(&tp, tk_root), APR_SUCCESS);
}

static TK_UNUSED void tk_teardown(void)
{
    apr_pool_destroy(tp);
    tp = NULL;
}

/* A test case with the per-test pool fixture. */
static inline TCase *tk_tcase(const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_add_checked_fixture(tc, tk_setup, tk_teardown);
    tcase_set_timeout(tc, 60);
    return tc;
}

/* ---- main --------------------------------------------------------------- */

/* Run a suite: before() once (inherited by the forked tests), then every
 * test, then after(); either may be NULL. The exit status is non-zero when
 * any test failed. */
static inline int tk_run_with(Suite *s, void (*before)(void),
                              void (*after)(void))
{
    SRunner *sr;
    int failed;

    /* no ck_assert here: check only takes them inside tests */
    if (apr_initialize() != APR_SUCCESS
        || apr_pool_create(&tk_root, NULL) != APR_SUCCESS) {
        fprintf(stderr, "APR initialisation failed\n");
        return EXIT_FAILURE;
    }
    if (before) {
        before();
    }
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (after) {
        after();
    }
    apr_pool_destroy(tk_root);
    apr_terminate();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#define TK_MAIN(suite_fn)                                                    \
    int main(void);                                                          \
    int main(void)                                                           \
    {                                                                        \
        return tk_run_with(suite_fn(), NULL, NULL);                          \
    }

#endif
