/*
 * Fuzz target: hostile request bodies validated by gk_schema.
 *
 * The input is a body. It is parsed as mod_gk_validate parses one
 * (jansson, any top-level value, duplicate keys refused, \u0000 allowed,
 * as deep as jansson allows) and validated against a fixed set of compiled
 * schemas: the seed's UserCreate (docs/examples/user_create.schema.json),
 * a recursive tree through $ref, and one that uses every keyword family.
 * Invariants (abort() on violation):
 *  - valid exactly when there is no error; never more than max_errors;
 *    truncated only when max_errors were kept;
 *  - the yes/no is the same with max_errors 1 and 50;
 *  - every error's instanceLocation is a JSON pointer to a value of the
 *    body (or to a member, for propertyNames), its keywordLocation is a
 *    JSON pointer, its keyword and message are set (that no value is
 *    echoed is tested in tests/unit/test_schema.c);
 *  - errors are in document order (by the body's positions).
 * See replay.c for how to build it with libFuzzer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include <jansson.h>

#include "gk_schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the same as docs/examples/user_create.schema.json */
static const char user_create[] =
    "{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"type\":"
    "\"object\",\"required\":[\"username\",\"email\",\"password\"],"
    "\"properties\":{\"username\":{\"type\":\"string\",\"minLength\":3,"
    "\"maxLength\":50,\"pattern\":\"^[a-zA-Z0-9]+$\"},\"email\":{\"type\":"
    "\"string\",\"format\":\"email\"},\"password\":{\"$ref\":\"#/"
    "definitions/password\"}},\"definitions\":{\"password\":{\"type\":"
    "\"string\",\"minLength\":12,\"allOf\":[{\"pattern\":\"[A-Z]\"},"
    "{\"pattern\":\"[0-9]\"}]}}}";

static const char tree[] =
    "{\"$id\":\"http://example.com/tree\",\"definitions\":{\"node\":{"
    "\"type\":\"object\",\"properties\":{\"value\":{\"type\":\"number\"},"
    "\"children\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/definitions/"
    "node\"}}},\"additionalProperties\":{\"$ref\":\"#\"}}},\"anyOf\":[{"
    "\"$ref\":\"#/definitions/node\"},{\"type\":\"array\",\"items\":{"
    "\"$ref\":\"#\"}},{\"type\":[\"string\",\"null\",\"boolean\"]}]}";

static const char everything[] =
    "{\"type\":[\"object\",\"array\",\"string\",\"number\"],"
    "\"properties\":{\"id\":{\"type\":\"integer\",\"minimum\":1,"
    "\"exclusiveMaximum\":1e12,\"multipleOf\":1},\"tags\":{\"type\":"
    "\"array\",\"items\":{\"type\":\"string\",\"maxLength\":20},"
    "\"uniqueItems\":true,\"maxItems\":50,\"contains\":{\"const\":\"x\"}},"
    "\"t\":{\"items\":[{\"enum\":[1,\"a\",null,[1],{\"a\":1}]},"
    "{\"type\":\"boolean\"}],\"additionalItems\":false},"
    "\"n\":{\"not\":{\"type\":\"null\"}},\"o\":{\"oneOf\":[{\"type\":"
    "\"integer\"},{\"minimum\":2.5}]},\"m\":{\"multipleOf\":0.01},"
    "\"e\":{\"format\":\"email\"},\"h\":{\"format\":\"hostname\"},"
    "\"ip\":{\"format\":\"ipv6\"},\"d\":{\"format\":\"date-time\"},"
    "\"u\":{\"format\":\"uri\"}},"
    "\"patternProperties\":{\"^x-\":{\"type\":\"string\"},\"[0-9]$\":"
    "{\"maxProperties\":2}},\"additionalProperties\":{\"minLength\":1},"
    "\"propertyNames\":{\"maxLength\":16,\"pattern\":\"^[^~/]*$\"},"
    "\"dependencies\":{\"a\":[\"b\"],\"c\":{\"required\":[\"d\"]}},"
    "\"minProperties\":1,\"maxProperties\":40,"
    "\"if\":{\"required\":[\"kind\"]},\"then\":{\"properties\":{\"kind\":"
    "{\"const\":\"user\"}}},\"else\":{\"minProperties\":2},"
    "\"items\":{\"$ref\":\"#\"},\"minItems\":1,\"uniqueItems\":true,"
    "\"minLength\":2,\"maxLength\":100,\"pattern\":\"^(\\\\w|\\\\s)+$\","
    "\"maximum\":1e300,\"exclusiveMinimum\":-1e300}";

static const char *const texts[] = {user_create, tree, everything};
#define NSCHEMAS (sizeof(texts) / sizeof(texts[0]))

static apr_pool_t *root;
static const gk_schema_t *schemas[NSCHEMAS];

/* The compiled set lives as long as the process: freed at exit, so that
 * the leak checker sees only what one input leaves behind. */
static void teardown(void)
{
    apr_pool_destroy(root);
    apr_terminate();
}

static void setup(void)
{
    gk_schema_set_t *set;
    gk_schema_compile_error_t err;
    size_t i;

    apr_initialize();
    apr_pool_create(&root, NULL);
    atexit(teardown);
    set = gk_schema_set_make(root);
    for (i = 0; i < NSCHEMAS; i++) {
        json_t *d = json_loads(texts[i], JSON_REJECT_DUPLICATES, NULL);
        if (!d
            || gk_schema_set_add(
                   set, apr_psprintf(root, "file:///s%d", (int)i), d, &err)
                   != APR_SUCCESS) {
            abort();
        }
        json_decref(d);
    }
    if (gk_schema_set_compile(set, &err) != APR_SUCCESS) {
        abort();
    }
    for (i = 0; i < NSCHEMAS; i++) {
        schemas[i] = gk_schema_set_get(set, apr_psprintf(root, "file:///s%d",
                                                         (int)i));
        if (!schemas[i]) {
            abort();
        }
    }
}

/* The value at a JSON pointer, and its position in document order (one
 * ordinal per level) written to ords; NULL when it is not there. */
static const json_t *resolve(const json_t *j, const char *ptr, size_t *ords,
                             size_t *n)
{
    char *tok = malloc(strlen(ptr) + 1);

    *n = 0;
    while (j && *ptr) {
        const char *end;
        size_t o = 0;
        if (*ptr != '/') {
            j = NULL;
            break;
        }
        ptr++;
        end = ptr + strcspn(ptr, "/");
        while (ptr < end) {
            if (*ptr == '~' && (ptr[1] == '0' || ptr[1] == '1')) {
                tok[o++] = ptr[1] == '0' ? '~' : '/';
                ptr += 2;
            }
            else if (*ptr == '~') {
                ptr = end;
                j = NULL;
            }
            else {
                tok[o++] = *ptr++;
            }
        }
        ptr = end;
        if (json_is_object(j)) {
            void *it;
            size_t k = 0;
            for (it = json_object_iter((json_t *)j); it;
                 it = json_object_iter_next((json_t *)j, it), k++) {
                if (json_object_iter_key_len(it) == o
                    && !memcmp(json_object_iter_key(it), tok, o)) {
                    break;
                }
            }
            ords[(*n)++] = k;
            j = it ? json_object_iter_value(it) : NULL;
        }
        else if (json_is_array(j)) {
            size_t k;
            tok[o] = '\0';
            k = (size_t)strtoul(tok, NULL, 10);
            ords[(*n)++] = k;
            j = k < json_array_size(j) ? json_array_get(j, k) : NULL;
        }
        else {
            j = NULL;
        }
    }
    free(tok);
    return j;
}

static int ords_le(const size_t *a, size_t na, const size_t *b, size_t nb)
{
    size_t i;

    for (i = 0; i < na && i < nb; i++) {
        if (a[i] != b[i]) {
            return a[i] < b[i];
        }
    }
    return na <= nb;
}

static void check(const gk_schema_t *sc, const json_t *j, apr_pool_t *p)
{
    gk_schema_opts_t o1 = {1, 1}, o50 = {1, 50};
    gk_schema_result_t r1, r;
    static size_t prev[2100], cur[2100];
    size_t nprev = 0, ncur;
    int i;

    gk_schema_validate(sc, j, &o1, p, &r1);
    gk_schema_validate(sc, j, &o50, p, &r);
    if (r.valid != r1.valid || (r.valid && r.nerrors)
        || (!r.valid && !r.nerrors) || r.nerrors > 50
        || (r.truncated && r.nerrors != 50) || r1.nerrors > 1) {
        abort();
    }
    for (i = 0; i < r.nerrors; i++) {
        const gk_schema_error_t *e = &r.errors[i];
        if (!e->keyword || !e->message || !e->keyword_location
            || (*e->keyword_location && *e->keyword_location != '/')) {
            abort();
        }
        if (!resolve(j, e->instance_location, cur, &ncur)) {
            abort();
        }
        if (i && !ords_le(prev, nprev, cur, ncur)) {
            abort(); /* not in document order */
        }
        memcpy(prev, cur, ncur * sizeof(*cur));
        nprev = ncur;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    json_t *j;
    size_t i;

    if (!root) {
        setup();
    }
    /* the module's parse, with jansson's own depth limit (2048) rather
     * than GKValidateMaxDepth's default of 64: the deeper the better */
    j = json_loadb((const char *)data, size,
                   JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
                   NULL);
    if (!j) {
        return 0;
    }
    apr_pool_create(&p, root);
    for (i = 0; i < NSCHEMAS; i++) {
        check(schemas[i], j, p);
    }
    apr_pool_destroy(p);
    json_decref(j);
    return 0;
}
