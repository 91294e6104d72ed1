/*
 * Fuzz target: JSON Schema compilation (gk_schema).
 *
 * The input is a schema document. It is parsed (as mod_gk_validate reads
 * GKValidateSchema files), added to a fresh set and compiled: that must
 * never crash, leak or loop, whatever the document. Invariants (abort()
 * on violation):
 *  - compilation succeeds, or fails with a URI, a JSON pointer (empty or
 *    starting with "/") and a reason;
 *  - a compiled schema is found again under its URI, and validates a few
 *    fixed instances with a consistent result: valid exactly when there
 *    is no error, never more errors than max_errors.
 * See replay.c for how to build it with libFuzzer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>

#include <jansson.h>

#include "gk_schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static apr_pool_t *root;

static const char *const instances[] = {
    "null",
    "0",
    "-1.5",
    "\"\"",
    "\"abc\\u0000\"",
    "[]",
    "[1,[2,[3]],{}]",
    "{}",
    "{\"a\":{\"b\":[true,false]},\"c\":\"x@y.z\"}",
};

static void check_instance(const gk_schema_t *sc, const char *text,
                           apr_pool_t *p)
{
    json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    gk_schema_opts_t o = {1, 3};
    gk_schema_result_t r;
    int v;

    if (!j) {
        abort();
    }
    v = gk_schema_validate(sc, j, &o, p, &r);
    if (v != r.valid || (v && r.nerrors) || (!v && r.nerrors < 1)
        || r.nerrors > 3 || (r.truncated && r.nerrors != 3)) {
        abort();
    }
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    gk_schema_set_t *set;
    gk_schema_compile_error_t err;
    json_t *doc;
    size_t i;

    if (!root) {
        apr_initialize();
        apr_pool_create(&root, NULL);
    }
    doc = json_loadb((const char *)data, size,
                     JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
    if (!doc) {
        return 0;
    }
    apr_pool_create(&p, root);
    set = gk_schema_set_make(p);
    if (gk_schema_set_add(set, "file:///fuzz/schema.json", doc, &err)
            == APR_SUCCESS
        && gk_schema_set_compile(set, &err) == APR_SUCCESS) {
        const gk_schema_t *sc = gk_schema_set_get(set,
                                                  "file:///fuzz/"
                                                  "schema.json");
        if (!sc) {
            abort();
        }
        for (i = 0; i < sizeof(instances) / sizeof(instances[0]); i++) {
            check_instance(sc, instances[i], p);
        }
    }
    else if (!err.uri || !err.pointer || !err.reason
             || (*err.pointer && *err.pointer != '/')) {
        abort();
    }
    json_decref(doc);
    apr_pool_destroy(p);
    return 0;
}
