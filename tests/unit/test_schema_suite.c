/*
 * gk_schema against the JSON-Schema-Test-Suite (Debian's
 * json-schema-test-suite, draft7): a suite no one here wrote.
 *
 * Every case of the files tests/draft7/NAME.json is compiled in a set of its own with
 * the suite's remotes/ preloaded under http://localhost:1234/ (as the
 * suite expects; the module itself never loads anything but its
 * GKValidateSchema files), and every test's data is validated and its
 * validity compared with the expected one. Prints the counts:
 *
 *   required: the 423 tests of the draft7/NAME.json files (all must
 *             pass)
 *   formats:  optional/format/{email,hostname,ipv4,ipv6,date-time,date,
 *             uri}.json with formats asserted (all must pass)
 *   optional: the other optional files, reported, not required
 *
 * Set GK_SUITE_VERBOSE=1 to list every failing test.
 */
#include <dirent.h>
#include <sys/stat.h>

#include <jansson.h>

#include "gk_test_core.h"

#include "gk_schema.h"

#define SUITE_DIR "/usr/share/json-schema-test-suite"
#define DRAFT_DIR SUITE_DIR "/tests/draft7"

typedef struct {
    int total, passed;
} counts_t;

typedef struct {
    const char *uri;
    json_t *doc;
} remote_t;

static remote_t remotes[64];
static int nremotes;

static void load_remotes(const char *dir, const char *rel)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    ck_assert_msg(d != NULL, "%s: not readable", dir);
    while ((de = readdir(d))) {
        char path[1024], r[1024];
        struct stat st;
        if (de->d_name[0] == '.') {
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        snprintf(r, sizeof(r), "%s%s", rel, de->d_name);
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            strcat(r, "/");
            load_remotes(path, r);
        }
        else if (strstr(de->d_name, ".json") && nremotes < 64) {
            json_error_t jerr;
            remotes[nremotes].doc = json_load_file(path, 0, &jerr);
            ck_assert_msg(remotes[nremotes].doc != NULL, "%s: %s", path,
                          jerr.text);
            remotes[nremotes].uri = apr_pstrcat(tk_root,
                                                "http://localhost:1234/", r,
                                                NULL);
            nremotes++;
        }
    }
    closedir(d);
}

static void load_all_remotes(void)
{
    if (!nremotes) {
        load_remotes(SUITE_DIR "/remotes", "");
    }
}

static int verbose(void)
{
    const char *v = getenv("GK_SUITE_VERBOSE");
    return v && *v == '1';
}

/* Run one file of the suite; adds to *c. */
static void run_file(const char *path, int formats, int must, counts_t *c)
{
    json_error_t jerr;
    json_t *cases = json_load_file(path, 0, &jerr), *cs;
    size_t i, k;
    const char *name = strrchr(path, '/') + 1;

    if (!cases) {
        /* e.g. bignum.json: integers beyond 64 bits, which jansson (and
         * so the module) refuses before any schema is involved */
        printf(
            "  %s: not parsed by jansson (%s): its tests count as "
            "failed\n",
            name, jerr.text);
        cases = json_load_file(path, JSON_DECODE_INT_AS_REAL, &jerr);
        ck_assert_msg(cases != NULL, "%s", path);
        json_array_foreach (cases, i, cs) {
            c->total += (int)json_array_size(json_object_get(cs, "tests"));
        }
        json_decref(cases);
        return;
    }
    json_array_foreach (cases, i, cs) {
        apr_pool_t *p;
        gk_schema_set_t *set;
        gk_schema_compile_error_t err;
        const gk_schema_t *sc = NULL;
        const char *uri;
        json_t *tests = json_object_get(cs, "tests"), *t;
        int r;

        apr_pool_create(&p, tk_root);
        uri = apr_psprintf(p, "file:///suite/draft7/%s", name);
        set = gk_schema_set_make(p);
        for (r = 0; r < nremotes; r++) {
            ck_assert_int_eq(gk_schema_set_add(set, remotes[r].uri,
                                               remotes[r].doc, &err),
                             APR_SUCCESS);
        }
        if (gk_schema_set_add(set, uri, json_object_get(cs, "schema"), &err)
                == APR_SUCCESS
            && gk_schema_set_compile(set, &err) == APR_SUCCESS) {
            sc = gk_schema_set_get(set, uri);
        }
        else {
            printf("  %s: \"%s\": refused at %s#%s: %s\n", name,
                   json_string_value(json_object_get(cs, "description")),
                   err.uri, err.pointer, err.reason);
        }
        json_array_foreach (tests, k, t) {
            gk_schema_opts_t o = {formats, 5};
            gk_schema_result_t res;
            int want = json_is_true(json_object_get(t, "valid"));
            int got = sc ? gk_schema_validate(sc, json_object_get(t, "data"),
                                              &o, p, &res)
                         : -1;
            c->total++;
            if (got == want) {
                c->passed++;
                /* an invalid result always says why */
                ck_assert(got || res.nerrors >= 1);
            }
            else if (verbose() || (must && sc)) {
                printf("  FAIL %s: \"%s\" / \"%s\": expected %s\n", name,
                       json_string_value(json_object_get(cs, "description")),
                       json_string_value(json_object_get(t, "description")),
                       want ? "valid" : "invalid");
            }
        }
        apr_pool_destroy(p);
    }
    json_decref(cases);
}

static int json_file(const struct dirent *de)
{
    apr_size_t n = strlen(de->d_name);
    return n > 5 && !strcmp(de->d_name + n - 5, ".json");
}

static void run_dir(const char *dir, counts_t *c)
{
    struct dirent **list;
    int n = scandir(dir, &list, json_file, alphasort), i;

    ck_assert_msg(n > 0, "%s: no test files", dir);
    for (i = 0; i < n; i++) {
        run_file(apr_pstrcat(tp, dir, "/", list[i]->d_name, NULL), 0, 1, c);
        free(list[i]);
    }
    free(list);
}

START_TEST(required_draft7)
{
    counts_t c = {0, 0};

    load_all_remotes();
    run_dir(DRAFT_DIR, &c);
    printf("json-schema-test-suite draft7 required: %d/%d passed\n", c.passed,
           c.total);
    ck_assert_int_eq(c.total, 423);
    ck_assert_int_eq(c.passed, c.total);
}
END_TEST

static const char *const formats[] = {"email",     "hostname", "ipv4", "ipv6",
                                      "date-time", "date",     "uri"};

START_TEST(optional_formats)
{
    counts_t all = {0, 0};
    size_t i;

    load_all_remotes();
    for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
        counts_t c = {0, 0};
        run_file(apr_psprintf(tp, DRAFT_DIR "/optional/format/%s.json",
                              formats[i]),
                 1, 1, &c);
        printf(
            "json-schema-test-suite draft7 optional/format/%s: %d/%d "
            "passed\n",
            formats[i], c.passed, c.total);
        all.total += c.total;
        all.passed += c.passed;
    }
    printf("json-schema-test-suite draft7 optional formats: %d/%d passed\n",
           all.passed, all.total);
    ck_assert_int_gt(all.total, 0);
    ck_assert_int_eq(all.passed, all.total);
}
END_TEST

/* Reported, not required. */
START_TEST(optional_other)
{
    static const char *const files[] = {"bignum",
                                        "content",
                                        "ecmascript-regex",
                                        "zeroTerminatedFloats",
                                        "format/idn-email",
                                        "format/idn-hostname",
                                        "format/iri",
                                        "format/iri-reference",
                                        "format/json-pointer",
                                        "format/regex",
                                        "format/relative-json-pointer",
                                        "format/time",
                                        "format/uri-reference",
                                        "format/uri-template"};
    size_t i;

    load_all_remotes();
    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        counts_t c = {0, 0};
        run_file(apr_psprintf(tp, DRAFT_DIR "/optional/%s.json", files[i]), 1,
                 0, &c);
        printf(
            "json-schema-test-suite draft7 optional/%s (not required): "
            "%d/%d passed\n",
            files[i], c.passed, c.total);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("schema_suite");
    TCase *tc = tk_tcase("schema_suite");

    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, required_draft7);
    tcase_add_test(tc, optional_formats);
    tcase_add_test(tc, optional_other);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(suite)
