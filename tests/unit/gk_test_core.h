/*
 * The core of the common/ unit tests (libcheck), for tests that need no
 * keys or tokens (gk_test.h adds those):
 *
 *  - one APR pool per test (tp), made by the checked fixture tk_setup and
 *    destroyed by tk_teardown;
 *  - a fixed clock, TS, handed to every time-dependent function as `now`;
 *  - lists of strings, temporary directories and files, assertions on
 *    the error messages functions return;
 *  - TK_MAIN, which initialises APR and runs the suite.
 *
 * A test file defines `static Suite *suite(void)` and ends with
 * TK_MAIN(suite). Environment: CK_FORK=no to run without fork (valgrind),
 * CK_TAP_LOG_FILE_NAME=- for TAP lines on stdout (make check-unit).
 */
#ifndef GK_TEST_CORE_H
#define GK_TEST_CORE_H

#include <stdarg.h>
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

/* ---- lists ------------------------------------------------------------- */

/* A NULL-terminated list of strings as an APR array. */
static inline apr_array_header_t *tk_strs(apr_pool_t *p, ...)
{
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(const char *));
    const char *s;
    va_list ap;

    va_start(ap, p);
    while ((s = va_arg(ap, const char *))) {
        APR_ARRAY_PUSH(a, const char *) = s;
    }
    va_end(ap);
    return a;
}

/* ---- files -------------------------------------------------------------- */

static inline void tk_write_file(const char *path, const void *data,
                                 size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

/* A fresh temporary directory, removed (with its files) at pool cleanup. */
static inline apr_status_t tk_rmdir_cleanup(void *data)
{
    const char *cmd = data;
    if (system(cmd) != 0) {
        fprintf(stderr, "cleanup failed: %s\n", cmd);
    }
    return APR_SUCCESS;
}

static inline const char *tk_tmpdir(apr_pool_t *p)
{
    char *dir = apr_pstrdup(p, "/tmp/gk_unit_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    apr_pool_cleanup_register(p, apr_psprintf(p, "rm -rf '%s'", dir),
                              tk_rmdir_cleanup, apr_pool_cleanup_null);
    return dir;
}

static inline const char *tk_path_in(apr_pool_t *p, const char *dir,
                                     const char *name)
{
    return apr_pstrcat(p, dir, "/", name, NULL);
}

/* ---- error messages ---------------------------------------------------- */

/* Assert err is set and mentions want (case-sensitive substring). */
#define tk_assert_err(err, want)                                             \
    do {                                                                     \
        const char *e_ = (err);                                              \
        ck_assert_msg(e_ != NULL, "accepted, expected \"%s\"", (want));      \
        ck_assert_msg(strstr(e_, (want)) != NULL, "error \"%s\", expected "  \
                      "\"%s\"", e_, (want));                                 \
    } while (0)

#define tk_assert_ok(err)                                                    \
    do {                                                                     \
        const char *e_ = (err);                                              \
        ck_assert_msg(e_ == NULL, "refused: %s", e_);                        \
    } while (0)

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
