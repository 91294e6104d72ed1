/* Reading configured files (gk_file). */
#include <sys/stat.h>
#include <unistd.h>

#include "gk_file.h"
#include "gk_test_core.h"

START_TEST(file_read_limits)
{
    const char *dir = tk_tmpdir(tp);
    const char *path = tk_path_in(tp, dir, "big");
    size_t mib = 1024 * 1024;
    char *big = apr_palloc(tp, mib + 1), *data;
    apr_size_t len;

    memset(big, 'a', mib + 1);
    tk_write_file(path, big, mib);
    tk_assert_ok(gk_file_read(tp, path, &data, &len));
    ck_assert_uint_eq(len, mib);
    ck_assert_int_eq(data[len], '\0');
    tk_write_file(path, big, mib + 1);
    tk_assert_err(gk_file_read(tp, path, &data, &len), "1 MiB");
    tk_write_file(path, "", 0);
    tk_assert_ok(gk_file_read(tp, path, &data, &len));
    ck_assert_uint_eq(len, 0);
    ck_assert_str_eq(data, "");
}
END_TEST


START_TEST(file_read_contents)
{
    static const char bytes[] = "line 1\r\n\0binary\xff\n";
    const char *dir = tk_tmpdir(tp);
    const char *path = tk_path_in(tp, dir, "f");
    apr_size_t len = 0;
    char *data = NULL;

    /* the bytes as they are, NULs included, and a NUL after them */
    tk_write_file(path, bytes, sizeof(bytes) - 1);
    tk_assert_ok(gk_file_read(tp, path, &data, &len));
    ck_assert_uint_eq(len, sizeof(bytes) - 1);
    ck_assert(!memcmp(data, bytes, len));
    ck_assert_int_eq(data[len], '\0');
    ck_assert_int_eq(GK_FILE_MAX_SIZE, 1024 * 1024);
}
END_TEST

START_TEST(file_read_errors)
{
    const char *dir = tk_tmpdir(tp);
    const char *missing = tk_path_in(tp, dir, "missing");
    const char *unreadable = tk_path_in(tp, dir, "unreadable");
    apr_size_t len = 7;
    char *data = NULL;

    /* the message names the file; the outputs are left alone */
    tk_assert_err(gk_file_read(tp, missing, &data, &len), "cannot open");
    tk_assert_err(gk_file_read(tp, missing, &data, &len), missing);
    ck_assert_ptr_null(data);
    ck_assert_uint_eq(len, 7);
    if (geteuid() != 0) { /* root reads anything */
        tk_write_file(unreadable, "x", 1);
        ck_assert_int_eq(chmod(unreadable, 0), 0);
        tk_assert_err(gk_file_read(tp, unreadable, &data, &len), unreadable);
    }
}
END_TEST

START_TEST(secret_read)
{
    const char *dir = tk_tmpdir(tp);
    const char *path = tk_path_in(tp, dir, "secret");
    const char *spec = apr_pstrcat(tp, "file:", path, NULL);
    char *big = apr_palloc(tp, 8000);
    const char *data = NULL;
    apr_size_t len = 0;

    /* a whole file, however long (no 4 KiB cut), without its newline */
    memset(big, 's', 8000);
    big[7998] = '\r';
    big[7999] = '\n';
    tk_write_file(path, big, 8000);
    tk_assert_ok(gk_secret_read(tp, spec, 16, &data, &len));
    ck_assert_uint_eq(len, 7998);
    ck_assert(!memcmp(data, big, len));
    /* too short, once the newline is dropped */
    tk_write_file(path, "0123456789abcde\n", 16);
    tk_assert_err(gk_secret_read(tp, spec, 16, &data, &len),
                  "has 15 bytes: at least 16");
    /* the environment */
    setenv("GK_TEST_SECRET", "0123456789abcdef\n", 1);
    tk_assert_ok(gk_secret_read(tp, "env:GK_TEST_SECRET", 16, &data, &len));
    ck_assert_uint_eq(len, 16);
    ck_assert(!memcmp(data, "0123456789abcdef", 16));
    unsetenv("GK_TEST_SECRET");
    tk_assert_err(gk_secret_read(tp, "env:GK_TEST_SECRET", 16, &data, &len),
                  "GK_TEST_SECRET is not set");
    /* other forms; a missing file names it */
    tk_assert_err(gk_secret_read(tp, "plain", 16, &data, &len),
                  "is not env:VAR or file:PATH");
    tk_assert_err(gk_secret_read(tp, "file:", 16, &data, &len),
                  "is not env:VAR or file:PATH");
    tk_assert_err(gk_secret_read(tp, apr_pstrcat(tp, spec, "-x", NULL), 16,
                                 &data, &len), "cannot open");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("file");
    TCase *tc = tk_tcase("file");

    tcase_add_test(tc, file_read_limits);
    tcase_add_test(tc, file_read_contents);
    tcase_add_test(tc, file_read_errors);
    tcase_add_test(tc, secret_read);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(suite)
