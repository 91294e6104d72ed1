/*
 * Micro-benchmark (issue 15): instructions per call, counted by callgrind,
 * of a standalone json_loadb of a request body, and of json_loadb followed
 * by gk_schema_validate against a compiled schema, as mod_gk_validate does
 * per request. The first is the yardstick of issue 15's target: what a
 * validated request adds over the same request unvalidated (bench/run,
 * BENCH_SERVERS=validate) should be at most 1.3 times it.
 *
 *   make bench-json                 (builds build/bench/json_bench, runs it)
 *   json_bench                      every body of bench/validate/ against
 *                                   docs/examples/user_create.schema.json
 *                                   (run from the top of the checkout)
 *   json_bench loadb BODY N         one measured loop: N parses
 *   json_bench validate SCHEMA BODY N   N parses and validations
 *   json_bench check SCHEMA BODY    validate once, print the errors
 *
 * Without arguments it runs itself under `valgrind --tool=callgrind` with
 * N1 and N1 + D iterations of each loop and reports (I(N1 + D) - I(N1)) /
 * D: the cost of one call, without start-up, the file read or the schema
 * compilation. "json_loadb" counts the instructions inside json_loadb
 * alone (callgrind's --toggle-collect), the yardstick of the target; the
 * loops also free each document (json_decref). The parse uses the flags mod_gk_validate uses
 * (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL); every
 * document is freed (json_decref) inside the loop, and the validation's
 * pool cleared, as a request's pool would be.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <jansson.h>

#include "gk_schema.h"

#define PARSE_FLAGS (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL)
#define N1 200
#define DELTA 2000

extern char **environ;

static const char *const bodies[] = {"long_password.json",
                                     "extra_properties.json",
                                     "weak_password.json"};

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "json_bench: %s%s%s\n", what, detail ? ": " : "",
            detail ? detail : "");
    exit(1);
}

/* The whole file, from p; *len set. */
static char *slurp(apr_pool_t *p, const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0
        || fseek(f, 0, SEEK_SET)) {
        die("cannot read", path);
    }
    buf = apr_palloc(p, (apr_size_t)n + 1);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        die("short read", path);
    }
    fclose(f);
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

/* The schema at path, compiled, from p. */
static const gk_schema_t *compile(apr_pool_t *p, const char *path)
{
    char abs[PATH_MAX];
    gk_schema_compile_error_t err = {0};
    gk_schema_set_t *set = gk_schema_set_make(p);
    const char *uri;
    json_error_t jerr;
    json_t *doc;
    const gk_schema_t *sc;

    if (!realpath(path, abs)) {
        die("no such schema", path);
    }
    uri = apr_pstrcat(p, "file://", abs, NULL);
    doc = json_load_file(abs, PARSE_FLAGS, &jerr);
    if (!doc) {
        die("schema is not JSON", jerr.text);
    }
    if (gk_schema_set_add(set, uri, doc, &err) != APR_SUCCESS
        || gk_schema_set_compile(set, &err) != APR_SUCCESS) {
        fprintf(stderr, "json_bench: %s#%s: %s\n", err.uri ? err.uri : uri,
                err.pointer ? err.pointer : "", err.reason ? err.reason : "?");
        exit(1);
    }
    /* doc stays referenced by the set */
    if (!(sc = gk_schema_set_get(set, uri))) {
        die("compiled schema not found", uri);
    }
    return sc;
}

/* One measured loop: mode "loadb" or "validate"; sc NULL for loadb.
 * Returns how many documents were valid (0 for loadb). */
static long loop(apr_pool_t *p, const gk_schema_t *sc, const char *buf,
                 size_t len, long n)
{
    gk_schema_opts_t opts = {1, 10};
    gk_schema_result_t res;
    json_error_t jerr;
    apr_pool_t *rp;
    long i, valid = 0;

    apr_pool_create(&rp, p);
    for (i = 0; i < n; i++) {
        json_t *doc = json_loadb(buf, len, PARSE_FLAGS, &jerr);
        if (!doc) {
            die("body is not JSON", jerr.text);
        }
        if (sc) {
            valid += gk_schema_validate(sc, doc, &opts, rp, &res);
            apr_pool_clear(rp);
        }
        json_decref(doc);
    }
    apr_pool_destroy(rp);
    return valid;
}

static void check(apr_pool_t *p, const gk_schema_t *sc, const char *buf,
                  size_t len)
{
    gk_schema_opts_t opts = {1, 10};
    gk_schema_result_t res;
    json_error_t jerr;
    json_t *doc = json_loadb(buf, len, PARSE_FLAGS, &jerr);
    int i;

    if (!doc) {
        die("body is not JSON", jerr.text);
    }
    gk_schema_validate(sc, doc, &opts, p, &res);
    printf("%s\n", res.valid ? "valid" : "invalid");
    for (i = 0; i < res.nerrors; i++) {
        printf("  %s %s %s: %s\n", res.errors[i].instance_location,
               res.errors[i].keyword_location, res.errors[i].keyword,
               res.errors[i].message);
    }
    json_decref(doc);
}

/* Instructions of `self argv...` under callgrind (the summary line of its
 * output file), or -1; only those inside fn when fn is not NULL
 * (--toggle-collect). */
static long long counted(const char *self, const char *fn,
                         const char *const *args)
{
    char out[] = "/tmp/gk_json_bench.XXXXXX";
    char opt[64], toggle[64];
    char *av[13];
    char line[512];
    long long ir = -1;
    int fd = mkstemp(out), status, k = 0;
    pid_t pid;
    FILE *f;
    posix_spawn_file_actions_t fa;

    if (fd < 0) {
        return -1;
    }
    close(fd);
    snprintf(opt, sizeof(opt), "--callgrind-out-file=%s", out);
    av[k++] = (char *)"valgrind";
    av[k++] = (char *)"--tool=callgrind";
    av[k++] = opt;
    if (fn) {
        snprintf(toggle, sizeof(toggle), "--toggle-collect=%s", fn);
        av[k++] = toggle;
    }
    av[k++] = (char *)self;
    while (*args && k < 12) {
        av[k++] = (char *)*args++;
    }
    av[k] = NULL;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", 1, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", 1, 0);
    if (posix_spawnp(&pid, "valgrind", &fa, NULL, av, environ) == 0
        && waitpid(pid, &status, 0) == pid && WIFEXITED(status)
        && WEXITSTATUS(status) == 0 && (f = fopen(out, "r"))) {
        while (fgets(line, sizeof(line), f)) {
            if (!strncmp(line, "summary:", 8) || !strncmp(line, "totals:", 7)) {
                ir = atoll(strchr(line, ':') + 1);
            }
        }
        fclose(f);
    }
    posix_spawn_file_actions_destroy(&fa);
    unlink(out);
    return ir;
}

/* (I(N1 + DELTA) - I(N1)) / DELTA for `self mode [schema] body N`, only
 * inside fn if not NULL. */
static double per_call(const char *self, const char *fn, const char *mode,
                       const char *schema, const char *body)
{
    char n1[32], n2[32];
    const char *a1[] = {mode, schema ? schema : body, schema ? body : n1,
                        schema ? n1 : NULL, NULL};
    const char *a2[] = {mode, schema ? schema : body, schema ? body : n2,
                        schema ? n2 : NULL, NULL};
    long long a, b;

    snprintf(n1, sizeof(n1), "%d", N1);
    snprintf(n2, sizeof(n2), "%d", N1 + DELTA);
    a = counted(self, fn, a1);
    b = counted(self, fn, a2);
    if (a < 0 || b < 0) {
        die("a callgrind run failed (is valgrind installed?)", body);
    }
    return (double)(b - a) / DELTA;
}

static int report(const char *dir, const char *schema)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    size_t i;

    if (n <= 0) {
        die("readlink /proc/self/exe", NULL);
    }
    self[n] = '\0';
    printf("callgrind, instructions per call: (I(%d + %d calls) - I(%d "
           "calls)) / %d; schema %s\n",
           N1, DELTA, N1, DELTA, schema);
    printf("%-22s %6s %11s %14s %17s %10s %6s\n", "body", "bytes",
           "json_loadb", "+ json_decref", "+ validate (all)", "validate",
           "ratio");
    for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        char path[PATH_MAX];
        FILE *f;
        long size;
        double j, l, v;

        snprintf(path, sizeof(path), "%s/%s", dir, bodies[i]);
        if (!(f = fopen(path, "rb"))) {
            die("cannot read", path);
        }
        fseek(f, 0, SEEK_END);
        size = ftell(f);
        fclose(f);
        j = per_call(self, "json_loadb", "loadb", NULL, path);
        l = per_call(self, NULL, "loadb", NULL, path);
        v = per_call(self, NULL, "validate", schema, path);
        printf("%-22s %6ld %11.0f %14.0f %17.0f %10.0f %6.2f\n", bodies[i],
               size, j, l, v, v - l, (v - l) / j);
        fflush(stdout);
    }
    printf("json_loadb: inside json_loadb only (--toggle-collect); + "
           "json_decref: the whole\nparse-and-free loop; + validate: "
           "json_loadb, gk_schema_validate, json_decref;\nvalidate: the "
           "difference; ratio: validate / json_loadb\n");
    return 0;
}

int main(int argc, char **argv)
{
    apr_pool_t *p;
    size_t len;
    const char *buf;
    int rc = 0;

    apr_initialize();
    apr_pool_create(&p, NULL);
    if (argc == 1 || (argc == 3 && !strcmp(argv[1], "report"))) {
        rc = report(argc == 3 ? argv[2] : "bench/validate",
                    "docs/examples/user_create.schema.json");
    }
    else if (argc == 4 && !strcmp(argv[1], "loadb")) {
        buf = slurp(p, argv[2], &len);
        loop(p, NULL, buf, len, atol(argv[3]));
    }
    else if (argc == 5 && !strcmp(argv[1], "validate")) {
        const gk_schema_t *sc = compile(p, argv[2]);
        buf = slurp(p, argv[3], &len);
        loop(p, sc, buf, len, atol(argv[4]));
    }
    else if (argc == 4 && !strcmp(argv[1], "check")) {
        const gk_schema_t *sc = compile(p, argv[2]);
        buf = slurp(p, argv[3], &len);
        check(p, sc, buf, len);
    }
    else {
        fprintf(stderr, "usage: %s [loadb BODY N | validate SCHEMA BODY N | "
                        "check SCHEMA BODY | report DIR]\n",
                argv[0]);
        rc = 2;
    }
    apr_pool_destroy(p);
    apr_terminate();
    return rc;
}
