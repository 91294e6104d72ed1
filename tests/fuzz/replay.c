/*
 * Corpus replay driver for the fuzz targets (tests/fuzz/fuzz_<name>.c).
 *
 *   build/tests/fuzz_<name> DIR|FILE...
 *
 * Every regular file under each directory (recursively) or named on the
 * command line is read into a buffer of exactly its size and handed to
 * LLVMFuzzerTestOneInput. A crash kills the process (non-zero exit); a
 * clean run ends with one summary line:
 *   fuzz_<name>: replayed N inputs from DIR: OK
 * and an empty or missing corpus is a failure too. `make check-fuzz` runs
 * each target on tests/fuzz/corpus/<name>/.
 *
 * libFuzzer (clang 14 on Debian 12: clang, libclang-rt-14-dev), without
 * this file, from the top of the checkout; common/ is compiled in with the
 * sanitizers so that it is instrumented:
 *
 *   mkdir -p build/fuzz
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -fno-sanitize-recover=undefined \
 *       -I/usr/include/apr-1.0 -D_GNU_SOURCE -Icommon \
 *       tests/fuzz/fuzz_jwt.c common/gk_*.c -o build/fuzz/fuzz_jwt \
 *       -lapr-1 -laprutil-1 -ljansson -lcrypto -lpsl -lmemcachedutil -lmemcached -lpthread
 *   build/fuzz/fuzz_jwt -max_total_time=60 -max_len=9000 \
 *       -dict=tests/fuzz/jwt.dict build/fuzz/corpus_jwt tests/fuzz/corpus/jwt
 *
 * (the first corpus directory receives what libFuzzer finds; the second is
 * read only). tests/fuzz/run_libfuzzer.sh does this for every target. The
 * same sanitizers over the replay driver, without libFuzzer:
 *
 *   clang -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined \
 *       -I/usr/include/apr-1.0 -D_GNU_SOURCE -Icommon \
 *       tests/fuzz/fuzz_jwt.c tests/fuzz/replay.c common/gk_*.c \
 *       -o build/fuzz/replay_jwt -lapr-1 -laprutil-1 -ljansson -lcrypto -lpsl -lmemcachedutil -lmemcached -lpthread
 *   build/fuzz/replay_jwt tests/fuzz/corpus/jwt
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *prog = "fuzz";
static unsigned long replayed;
static const char *volatile current; /* the input being replayed */

/* Name the input that crashed, then die of the same signal. */
static void on_crash(int sig)
{
    static const char msg[] = ": CRASHED on input ";
    const char *c = current;
    if (write(2, prog, strlen(prog)) < 0 || write(2, msg, sizeof(msg) - 1) < 0
        || (c && write(2, c, strlen(c)) < 0) || write(2, "\n", 1) < 0) {
        /* nothing more to do */
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static int replay_file(const char *path, off_t size)
{
    FILE *f = fopen(path, "rb");
    /* exactly size bytes, so that ASan sees any read past the input */
    uint8_t *buf = malloc(size ? (size_t)size : 1);
    size_t n;

    if (!f || !buf) {
        fprintf(stderr, "%s: cannot read %s: %s\n", prog, path,
                strerror(errno));
        if (f) {
            fclose(f);
        }
        free(buf);
        return -1;
    }
    n = fread(buf, 1, (size_t)size, f);
    fclose(f);
    if (n != (size_t)size) {
        fprintf(stderr, "%s: short read on %s\n", prog, path);
        free(buf);
        return -1;
    }
    if (getenv("FUZZ_REPLAY_VERBOSE")) {
        fprintf(stderr, "%s: %s (%zu bytes)\n", prog, path, n);
    }
    current = path;
    LLVMFuzzerTestOneInput(buf, n);
    current = NULL;
    free(buf);
    replayed++;
    return 0;
}

static int walk(const char *path)
{
    struct stat st;
    DIR *d;
    struct dirent *e;
    int rc = 0;

    if (stat(path, &st) != 0) {
        fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
        return -1;
    }
    if (S_ISREG(st.st_mode)) {
        return replay_file(path, st.st_size);
    }
    if (!S_ISDIR(st.st_mode)) {
        return 0;
    }
    if (!(d = opendir(path))) {
        fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
        return -1;
    }
    while ((e = readdir(d)) && rc == 0) {
        char *sub;
        if (e->d_name[0] == '.') {
            continue; /* ".", "..", hidden files */
        }
        sub = malloc(strlen(path) + strlen(e->d_name) + 2);
        if (!sub) {
            rc = -1;
            break;
        }
        sprintf(sub, "%s/%s", path, e->d_name);
        rc = walk(sub);
        free(sub);
    }
    closedir(d);
    return rc;
}

int main(int argc, char **argv)
{
    const char *slash;
    int i;

    if (argc > 0 && argv[0]) {
        slash = strrchr(argv[0], '/');
        prog = slash ? slash + 1 : argv[0];
    }
    signal(SIGABRT, on_crash);
    signal(SIGSEGV, on_crash);
    signal(SIGBUS, on_crash);
    signal(SIGFPE, on_crash);
    signal(SIGILL, on_crash);
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR|FILE...\n", prog);
        return 2;
    }
    for (i = 1; i < argc; i++) {
        unsigned long before = replayed;
        if (walk(argv[i]) != 0) {
            printf("%s: FAILED reading %s\n", prog, argv[i]);
            return 1;
        }
        printf("%s: replayed %lu inputs from %s: OK\n", prog,
               replayed - before, argv[i]);
        if (replayed == before) {
            printf("%s: FAILED: no inputs in %s\n", prog, argv[i]);
            return 1;
        }
    }
    fflush(stdout);
    return 0;
}
