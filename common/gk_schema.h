/*
 * JSON Schema draft-07 (issue 15, mod_gk_validate): schemas compiled once
 * at startup, instances validated per request with no schema work. No
 * httpd header; jansson values in, results allocated from the caller's
 * pool.
 *
 * A set holds every schema document the configuration loads (each under
 * its retrieval URI, normally "file://" + absolute path) plus the built-in
 * draft-07 meta-schema ("http://json-schema.org/draft-07/schema"). $ref
 * resolves against the base URI in scope ($id changes it), and must land
 * in a document of the set or in the meta-schema: nothing is ever
 * fetched. Compilation checks every document against the meta-schema and
 * refuses: a document that is not valid draft-07, a $schema other than
 * draft-07 (the message lists the supported drafts), a $ref that does not
 * resolve, a pattern/patternProperties regex gk_ecma_re refuses.
 *
 * A compiled set is read-only: gk_schema_validate may run from any number
 * of threads at once.
 *
 * Draft-07 as the JSON-Schema-Test-Suite checks it (tests/unit/
 * test_schema_suite.c: 423/423 required tests, and the optional format
 * tests of email, hostname, ipv4, ipv6, date-time, date and uri). Every
 * sibling of "$ref" is ignored ("$id" included). "$id": "#name" is a
 * plain-name anchor. A cycle of references that never descends into the
 * instance ({"$ref": "#"}, allOf/not loops) is refused at compilation.
 * Numbers: integers compare exactly, others as long double; "integer"
 * takes 1.0; "multipleOf" with a fraction accepts a quotient within 8
 * units in the last place of an integer (0.0075 / 0.0001). Lengths are in
 * code points.
 *
 * Validation does no keyword look-up, regex compilation or URI work, and
 * allocates nothing while the instance is valid (except "uniqueItems"
 * over more than 32 items: a hash per item, from the pool). Its recursion
 * is bounded: at most 4096 nested schema applications (GK_SCHEMA_MAX_
 * RECURSION in gk_schema_int.h; each is about 300 bytes of stack at -O2,
 * 1.2 MiB in all), beyond which the instance is refused (fails closed)
 * with "nested too deeply for this schema". Each level of the instance
 * costs one application per subschema on the way (properties: 1, a $ref
 * adds 1), so the bound is far above what GKValidateMaxDepth (64 by
 * default) lets through.
 *
 * A schema can be costly by itself (anyOf inside anyOf through $ref is
 * exponential in the nesting): schemas are trusted configuration, bodies
 * are not.
 */
#ifndef GK_SCHEMA_H
#define GK_SCHEMA_H

#include <jansson.h>

#include "gk.h"

typedef struct gk_schema_set_t gk_schema_set_t;
typedef struct gk_schema_t gk_schema_t;

/* Why compilation failed: which document, where in it, why. */
typedef struct {
    const char *uri;     /* the document's URI */
    const char *pointer; /* JSON pointer into it ("" for the root) */
    const char *reason;  /* one sentence, no trailing period */
} gk_schema_compile_error_t;

/* A new, empty set in p (which also holds everything compiled). */
gk_schema_set_t *gk_schema_set_make(apr_pool_t *p);

/* Add a parsed document under its retrieval URI (the set takes a
 * reference to doc). APR_SUCCESS, or APR_EEXIST when the URI (or an $id
 * inside the document) is already in the set, *err set. */
apr_status_t gk_schema_set_add(gk_schema_set_t *set, const char *uri,
                               json_t *doc, gk_schema_compile_error_t *err);

/* Compile every document added: meta-schema check, $ref resolution,
 * regexes. APR_SUCCESS or APR_EINVAL with *err (the first failure). */
apr_status_t gk_schema_set_compile(gk_schema_set_t *set,
                                   gk_schema_compile_error_t *err);

/* The compiled schema at uri (a document's URI or an "$id" of the set,
 * optionally with a "#/json/pointer" or "#anchor" fragment), or NULL.
 * After gk_schema_set_compile, at startup: it works in a subpool of the
 * set's pool, so it is not for concurrent threads (keep the pointer). */
const gk_schema_t *gk_schema_set_get(const gk_schema_set_t *set,
                                     const char *uri);

/* One validation failure, in the spirit of FastAPI's 422 detail list and
 * JSON Schema's "basic" output: never the offending value itself.
 *
 * Which failures: the leaves under allOf, properties, patternProperties,
 * additionalProperties, items, additionalItems, dependencies and $ref;
 * the applicator itself for anyOf, oneOf, not, contains, propertyNames
 * and if (keyword "if", keywordLocation ".../if", message 'must match the
 * "then" schema' or "else"). A false subschema reports the keyword that
 * holds it ({"properties": {"x": false}}: keyword "properties",
 * keywordLocation "/properties/x", "is not allowed"); a false root,
 * keyword "false". "required" is reported at the object
 * (instanceLocation of the object, message 'missing required property
 * "email"'); "propertyNames" at the member. Messages name schema values
 * (bounds, patterns, property names of the schema), never the
 * instance's. */
typedef struct {
    const char *instance_location; /* JSON pointer into the instance */
    const char *keyword_location;  /* JSON pointer into the schema, from
                                    * the schema's root through any $ref */
    const char *keyword;           /* "minLength", "required", ... */
    const char *message;           /* "must be at least 12 characters" */
} gk_schema_error_t;

typedef struct {
    int formats_assert; /* 1: format failures are errors (GKValidateFormats
                         * assert); 0: annotations only */
    int max_errors;     /* stop collecting after this many (>= 1) */
} gk_schema_opts_t;

/* Errors are in the instance's document order (a value before its
 * members and items, members in the body's order, items by index), and
 * at one value in the order of evaluation (type, enum, const, the
 * keywords of its type, allOf, anyOf, oneOf, not, if). The first
 * max_errors in that order are kept, whatever order they are found in.
 */
typedef struct {
    int valid;                 /* 1: valid */
    int nerrors;               /* errors[0..nerrors-1], document order */
    gk_schema_error_t *errors; /* from the pool given */
    int truncated;             /* more errors than max_errors */
    /* a pattern hit its match limit: failed closed (invalid, even under
     * "not" or "anyOf"; the error says so, keyword "pattern" or
     * "patternProperties"); where (schema pointer, as keywordLocation),
     * for the error log; NULL otherwise */
    const char *match_limit_location;
} gk_schema_result_t;

/* Validate instance against sc. Leaf failures are reported for allOf,
 * properties, items and $ref; the applicator itself for anyOf, oneOf,
 * not and if. Returns res->valid. Every string and member name of the
 * instance must be valid UTF-8, as jansson's parser and json_string make
 * them (never json_string_nocheck): patterns trust it. */
int gk_schema_validate(const gk_schema_t *sc, const json_t *instance,
                       const gk_schema_opts_t *opts, apr_pool_t *p,
                       gk_schema_result_t *res);

#endif
