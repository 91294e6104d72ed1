/*
 * The random source (common/gk_rand.c): bytes differ from call to call,
 * requests of every size are served across refills without handing out a
 * wiped byte, a forked child that calls gk_rand_child_init does not repeat
 * its parent, threads never share output, and a failure of OpenSSL is
 * returned.
 */
/* RAND_set_rand_method (deprecated) makes RAND_bytes fail on demand */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "gk_test_core.h"
#include "gk_rand.h"

static int cmp16(const void *a, const void *b)
{
    return memcmp(a, b, 16);
}

/* Are the n 16-byte records at v pairwise distinct? (sorts v) */
static int all_distinct16(unsigned char *v, size_t n)
{
    size_t i;

    qsort(v, n, 16, cmp16);
    for (i = 1; i < n; i++) {
        if (!memcmp(v + 16 * (i - 1), v + 16 * i, 16)) {
            return 0;
        }
    }
    return 1;
}

/* The longest run of zero bytes in b. */
static size_t zero_run(const unsigned char *b, size_t n)
{
    size_t i, run = 0, longest = 0;

    for (i = 0; i < n; i++) {
        run = b[i] ? 0 : run + 1;
        longest = run > longest ? run : longest;
    }
    return longest;
}

START_TEST(differ)
{
    enum { N = 5000 };
    unsigned char *v = malloc(16 * N), a[16], b[16];
    static const unsigned char zero[16];
    size_t i;

    ck_assert_int_eq(gk_rand_bytes(a, 16), APR_SUCCESS);
    ck_assert_int_eq(gk_rand_bytes(b, 16), APR_SUCCESS);
    ck_assert(memcmp(a, b, 16) != 0);
    for (i = 0; i < N; i++) {
        ck_assert_int_eq(gk_rand_bytes(v + 16 * i, 16), APR_SUCCESS);
        ck_assert(memcmp(v + 16 * i, zero, 16) != 0);
    }
    ck_assert(all_distinct16(v, N));
    free(v);
}
END_TEST

/* Draw about 1 MiB in requests of the sizes given, in turn, and check the
 * stream: a wiped byte handed out shows as an excess of zeros, or as a run
 * of them (a run of 8 comes by chance once in 2^64). */
static void draw_stream(const size_t *lens, size_t nlens)
{
    enum { TOTAL = 1 << 20 };
    unsigned char *stream = malloc(TOTAL + 10007);
    size_t counts[256] = {0}, got = 0, i = 0;

    while (got < TOTAL) {
        size_t n = lens[i++ % nlens];
        if (gk_rand_bytes(stream + got, n) != APR_SUCCESS) {
            ck_abort_msg("gk_rand_bytes(%zu) failed", n);
        }
        got += n;
    }
    ck_assert_uint_lt(zero_run(stream, got), 8);
    for (i = 0; i < got; i++) {
        counts[stream[i]]++;
    }
    /* every byte value near its share of 1/256 (mean 4096+, sd 64) */
    for (i = 0; i < 256; i++) {
        ck_assert_msg(counts[i] > 3600 && counts[i] < 4700,
                      "byte 0x%02zx: %zu times in %zu", i, counts[i], got);
    }
    free(stream);
}

START_TEST(sizes)
{
    /* small requests, which the buffer serves, across its refills */
    static const size_t small[] = {1,  2,  3,  7,  8,  15, 16,
                                   17, 31, 32, 33, 64, 100, 255};
    /* and mixed with large ones, in sizes that divide no block size */
    static const size_t mixed[] = {0,    1,    2,    3,    7,    8,
                                   15,   16,   17,   31,   32,   33,
                                   100,  255,  256,  257,  1000, 2047,
                                   2048, 2049, 4095, 4096, 4097, 10007};
    unsigned char *big;

    ck_assert_int_eq(gk_rand_bytes(NULL, 0), APR_SUCCESS);
    draw_stream(small, sizeof(small) / sizeof(small[0]));
    draw_stream(mixed, sizeof(mixed) / sizeof(mixed[0]));
    /* one large request, straight from OpenSSL */
    big = malloc(3 << 20);
    ck_assert_int_eq(gk_rand_bytes(big, 3 << 20), APR_SUCCESS);
    ck_assert_uint_lt(zero_run(big, 3 << 20), 8);
    free(big);
}
END_TEST

/* The next 16 bytes of a child forked now, which calls gk_rand_child_init
 * first when reinit is set. */
static void child_bytes(int reinit, unsigned char out[16])
{
    int fd[2], status;
    pid_t pid;

    ck_assert_int_eq(pipe(fd), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        unsigned char b[16];
        close(fd[0]);
        if (reinit) {
            gk_rand_child_init();
        }
        if (gk_rand_bytes(b, sizeof(b)) != APR_SUCCESS
            || write(fd[1], b, sizeof(b)) != (ssize_t)sizeof(b)) {
            _exit(1);
        }
        _exit(0);
    }
    close(fd[1]);
    ck_assert_int_eq(read(fd[0], out, 16), 16);
    close(fd[0]);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

START_TEST(child_init)
{
    unsigned char mine[16], child[16];
    int i;

    /* the buffer is full: the parent will hand out its next bytes from it */
    ck_assert_int_eq(gk_rand_bytes(mine, 16), APR_SUCCESS);
    for (i = 0; i < 20; i++) {
        child_bytes(1, child);
        ck_assert_int_eq(gk_rand_bytes(mine, 16), APR_SUCCESS);
        ck_assert(memcmp(mine, child, 16) != 0);
    }
    /* the control: a child that skips gk_rand_child_init repeats exactly
     * what its parent hands out next, which is why the call is needed (the
     * parent refills first, so that the next bytes are in its buffer) */
    gk_rand_child_init();
    ck_assert_int_eq(gk_rand_bytes(mine, 16), APR_SUCCESS);
    child_bytes(0, child);
    ck_assert_int_eq(gk_rand_bytes(mine, 16), APR_SUCCESS);
    ck_assert(memcmp(mine, child, 16) == 0);
}
END_TEST

enum { THREADS = 4, PER_THREAD = 50000 };

static void *thread_draw(void *arg)
{
    unsigned char *v = arg;
    int i;

    for (i = 0; i < PER_THREAD; i++) {
        if (gk_rand_bytes(v + 16 * i, 16) != APR_SUCCESS) {
            return v;
        }
        if (i == PER_THREAD / 2) {
            /* safe at any time, from any thread: every buffer refills */
            gk_rand_child_init();
        }
    }
    return NULL;
}

START_TEST(threads)
{
    unsigned char *v = malloc((size_t)16 * THREADS * PER_THREAD);
    pthread_t t[THREADS];
    void *rv;
    int i;

    for (i = 0; i < THREADS; i++) {
        ck_assert_int_eq(pthread_create(&t[i], NULL, thread_draw,
                                        v + (size_t)16 * PER_THREAD * i),
                         0);
    }
    for (i = 0; i < THREADS; i++) {
        ck_assert_int_eq(pthread_join(t[i], &rv), 0);
        ck_assert_ptr_null(rv);
    }
    ck_assert(all_distinct16(v, (size_t)THREADS * PER_THREAD));
    free(v);
}
END_TEST

static int fail_bytes(unsigned char *buf, int num)
{
    return 0;
}

static int fail_status(void)
{
    return 0;
}

START_TEST(failure)
{
    static const RAND_METHOD failing = {.bytes = fail_bytes,
                                        .pseudorand = fail_bytes,
                                        .status = fail_status};
    unsigned char b[16], *big = malloc(4096);
    size_t i;

    memset(b, 0xaa, sizeof(b));
    ck_assert_int_eq(RAND_set_rand_method(&failing), 1);
    /* an empty buffer fails (this one is emptied by a new generation) */
    gk_rand_child_init();
    ck_assert_int_eq(gk_rand_bytes(b, sizeof(b)), APR_EGENERAL);
    for (i = 0; i < sizeof(b); i++) {
        ck_assert_uint_eq(b[i], 0);
    }
    memset(big, 0xaa, 4096);
    ck_assert_int_eq(gk_rand_bytes(big, 4096), APR_EGENERAL);
    ck_assert_uint_eq(zero_run(big, 4096), 4096);
    ck_assert_int_eq(gk_rand_bytes(b, 0), APR_SUCCESS);
    /* and again: no state is left half-filled */
    ck_assert_int_eq(gk_rand_bytes(b, 1), APR_EGENERAL);
    ck_assert_int_eq(RAND_set_rand_method(RAND_OpenSSL()), 1);
    ck_assert_int_eq(gk_rand_bytes(b, sizeof(b)), APR_SUCCESS);
    ck_assert_int_eq(gk_rand_bytes(big, 4096), APR_SUCCESS);
    ck_assert_uint_lt(zero_run(big, 4096), 8);
    free(big);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("rand");
    TCase *tc = tk_tcase("rand");

    tcase_add_test(tc, differ);
    tcase_add_test(tc, sizes);
    tcase_add_test(tc, child_init);
    tcase_add_test(tc, threads);
    tcase_add_test(tc, failure);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(suite)
