/*
 * Micro-benchmark: instructions per call of the random source and the
 * identifiers built on it (common/gk_rand, gk_uuid, gk_trace), against
 * OpenSSL's RAND_bytes, counted by callgrind.
 *
 *   make bench-rand          (builds build/bench/rand_bench and runs it)
 *   rand_bench [MODE N]      one measured loop: MODE called N times
 *
 * Without arguments it runs itself under `valgrind --tool=callgrind` twice
 * per operation, with N1 and N2 = N1 + D calls, and reports (I(N2) -
 * I(N1)) / D: the steady cost of one call, free of start-up and of the
 * first fill of the buffers. The D calls draw a multiple of the buffer
 * size, so refills are counted in proportion. Instruction counts do not
 * move with the load of the machine; they do not show what callgrind
 * cannot see (the cost of a system call such as getrandom inside the
 * kernel), which is why they are a guide to the block size, not a timing.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <apr_general.h>
#include <openssl/rand.h>

#include "gk_rand.h"
#include "gk_trace.h"
#include "gk_uuid.h"

/* Calls in the shorter run, and how many more in the longer one (for
 * RAND_bytes of more than 256 bytes: 4 MiB worth). */
#define N1 1024
#define DELTA 65536

static long delta_of(const char *mode)
{
    int len;

    if (strncmp(mode, "RAND_bytes:", 11)) {
        return DELTA;
    }
    len = atoi(mode + 11);
    return len <= 256 ? DELTA / 4 : (1L << 22) / len;
}

static const char example[] =
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

static volatile unsigned sink;

static void fail(const char *what)
{
    fprintf(stderr, "rand_bench: %s failed\n", what);
    exit(1);
}

/* One measured loop. */
static int run(const char *mode, long n)
{
    static unsigned char buf[65536];
    char text[64];
    apr_uint64_t now = APR_UINT64_C(1700000000000);
    gk_traceparent_t tp;
    long i;

    if (!strncmp(mode, "RAND_bytes:", 11)) {
        int len = atoi(mode + 11);
        if (len <= 0 || len > (int)sizeof(buf)) {
            fail("size");
        }
        for (i = 0; i < n; i++) {
            if (RAND_bytes(buf, len) != 1) {
                fail("RAND_bytes");
            }
        }
    }
    else if (!strncmp(mode, "gk_rand_bytes:", 14)) {
        apr_size_t len = (apr_size_t)atoi(mode + 14);
        if (!len || len > sizeof(buf)) {
            fail("size");
        }
        for (i = 0; i < n; i++) {
            if (gk_rand_bytes(buf, len) != APR_SUCCESS) {
                fail("gk_rand_bytes");
            }
        }
    }
    else if (!strcmp(mode, "gk_uuid7")) {
        /* a new millisecond every 4 calls: both paths of the counter */
        for (i = 0; i < n; i++) {
            if (gk_uuid7(text, now + (apr_uint64_t)(i / 4)) != APR_SUCCESS) {
                fail("gk_uuid7");
            }
        }
    }
    else if (!strcmp(mode, "gk_uuid4")) {
        for (i = 0; i < n; i++) {
            if (gk_uuid4(text) != APR_SUCCESS) {
                fail("gk_uuid4");
            }
        }
    }
    else if (!strcmp(mode, "gk_trace_new_span_id")) {
        for (i = 0; i < n; i++) {
            if (gk_trace_new_span_id(buf) != APR_SUCCESS) {
                fail("gk_trace_new_span_id");
            }
        }
    }
    else if (!strcmp(mode, "gk_traceparent_parse")) {
        for (i = 0; i < n; i++) {
            sink += (unsigned)gk_traceparent_parse(example, sizeof(example) - 1,
                                                   &tp);
        }
        if (sink != (unsigned)n) {
            fail("gk_traceparent_parse");
        }
    }
    else if (!strcmp(mode, "gk_traceparent_format")) {
        gk_traceparent_parse(example, sizeof(example) - 1, &tp);
        for (i = 0; i < n; i++) {
            gk_traceparent_format(text, tp.trace_id, tp.parent_id, tp.flags);
            sink += (unsigned char)text[54];
        }
    }
    else if (!strcmp(mode, "gk_corrid_is_valid")) {
        static const char id[] = "0190a6f2-3c4d-7e5f-8a9b-0c1d2e3f4a5b";
        for (i = 0; i < n; i++) {
            sink += (unsigned)gk_corrid_is_valid(id, sizeof(id) - 1);
        }
    }
    else {
        fprintf(stderr, "rand_bench: unknown mode %s\n", mode);
        return 2;
    }
    return 0;
}

/* Instructions of `self mode n` under callgrind, or -1. */
static long long callgrind(const char *self, const char *mode, long n)
{
    char out[64], nbuf[32], line[256];
    long long ir = -1;
    pid_t pid;
    int status;
    FILE *f;

    snprintf(out, sizeof(out), "/tmp/gk_rand_bench.%ld.cg", (long)getpid());
    snprintf(nbuf, sizeof(nbuf), "%ld", n);
    pid = fork();
    if (pid < 0) {
        return -1;
    }
    if (pid == 0) {
        char arg[128];
        int devnull = open("/dev/null", O_WRONLY);
        snprintf(arg, sizeof(arg), "--callgrind-out-file=%s", out);
        if (devnull >= 0) {
            dup2(devnull, 1);
            dup2(devnull, 2);
        }
        execlp("valgrind", "valgrind", "--tool=callgrind", arg, self, mode,
               nbuf, (char *)NULL);
        _exit(127);
    }
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)
        || WEXITSTATUS(status) != 0) {
        unlink(out);
        return -1;
    }
    if (!(f = fopen(out, "r"))) {
        return -1;
    }
    while (fgets(line, sizeof(line), f)) {
        if (!strncmp(line, "summary:", 8) || !strncmp(line, "totals:", 7)) {
            ir = atoll(strchr(line, ':') + 1);
        }
    }
    fclose(f);
    unlink(out);
    return ir;
}

int main(int argc, char **argv)
{
    static const char *const modes[] = {
        "RAND_bytes:16",   "RAND_bytes:256",  "RAND_bytes:512",
        "RAND_bytes:1024", "RAND_bytes:2048", "RAND_bytes:4096",
        "RAND_bytes:8192", "gk_rand_bytes:16", "gk_rand_bytes:32",
        "gk_uuid7",        "gk_uuid4",        "gk_trace_new_span_id",
        "gk_traceparent_parse", "gk_traceparent_format",
        "gk_corrid_is_valid"};
    char self[4096];
    ssize_t len;
    size_t m;
    int rc;

    apr_initialize();
    if (argc == 3) {
        rc = run(argv[1], atol(argv[2]));
        apr_terminate();
        return rc;
    }
    if (argc != 1) {
        fprintf(stderr, "usage: %s [MODE N]\n", argv[0]);
        return 2;
    }
    len = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (len <= 0) {
        fail("readlink /proc/self/exe");
    }
    self[len] = '\0';
    printf("callgrind, instructions per call: (I(%d + D calls) - I(%d "
           "calls)) / D\n",
           N1, N1);
    printf("%-24s %12s %16s\n", "operation", "Ir/call", "Ir per 16 bytes");
    for (m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
        long d = delta_of(modes[m]);
        long long a = callgrind(self, modes[m], N1);
        long long b = callgrind(self, modes[m], N1 + d);
        double per;
        const char *colon = strchr(modes[m], ':');

        if (a < 0 || b < 0) {
            fprintf(stderr, "rand_bench: callgrind run failed for %s (is "
                            "valgrind installed?)\n",
                    modes[m]);
            return 1;
        }
        per = (double)(b - a) / d;
        if (colon) {
            printf("%-24s %12.1f %16.1f\n", modes[m], per,
                   per * 16 / atoi(colon + 1));
        }
        else {
            printf("%-24s %12.1f %16s\n", modes[m], per, "");
        }
        fflush(stdout);
    }
    apr_terminate();
    return 0;
}
