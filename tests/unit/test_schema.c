/*
 * gk_schema: what the errors look like (locations, keywords, messages,
 * order, max_errors), what compilation refuses and says, references
 * across documents, recursion bounds, fail-closed match limits, and the
 * seed's UserCreate schema (docs/examples/user_create.schema.json, read
 * from the top of the checkout, where make check-unit runs).
 * The conformance suite is test_schema_suite.c.
 */
#include <jansson.h>

#include "gk_test_core.h"

#include "gk_schema.h"
#include "gk_schema_int.h"

#define USER_CREATE "docs/examples/user_create.schema.json"
#define URI "file:///etc/gk/test.json"

static json_t *parse(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
                           &jerr);
    ck_assert_msg(j != NULL, "%s: %s", text, jerr.text);
    return j;
}

/* Compile text under URI: the schema, or NULL and *err. */
static const gk_schema_t *compile(const char *text,
                                  gk_schema_compile_error_t *err)
{
    gk_schema_set_t *set = gk_schema_set_make(tp);
    json_t *doc = parse(text);
    apr_status_t rv = gk_schema_set_add(set, URI, doc, err);

    json_decref(doc);
    if (rv != APR_SUCCESS || gk_schema_set_compile(set, err) != APR_SUCCESS) {
        return NULL;
    }
    return gk_schema_set_get(set, URI);
}

static const gk_schema_t *must_compile(const char *text)
{
    gk_schema_compile_error_t err;
    const gk_schema_t *sc = compile(text, &err);

    ck_assert_msg(sc != NULL, "%s: refused at %s#%s: %s", text, err.uri,
                  err.pointer, err.reason);
    return sc;
}

/* The refusal of text: at pointer, with a reason containing what. */
static void refused(const char *text, const char *pointer, const char *what)
{
    gk_schema_compile_error_t err;

    ck_assert_msg(compile(text, &err) == NULL, "%s: compiled", text);
    ck_assert_str_eq(err.uri, URI);
    ck_assert_str_eq(err.pointer, pointer);
    ck_assert_msg(strstr(err.reason, what), "%s: \"%s\" lacks \"%s\"", text,
                  err.reason, what);
}

static gk_schema_result_t check(const gk_schema_t *sc, const char *body,
                                int max_errors, int formats)
{
    gk_schema_opts_t o;
    gk_schema_result_t r;
    json_t *j = parse(body);

    o.formats_assert = formats;
    o.max_errors = max_errors;
    ck_assert_int_eq(gk_schema_validate(sc, j, &o, tp, &r), r.valid);
    json_decref(j);
    if (!r.valid) {
        ck_assert_int_ge(r.nerrors, 1);
    }
    return r;
}

static int valid(const gk_schema_t *sc, const char *body)
{
    return check(sc, body, 10, 1).valid;
}

static void error_is(const gk_schema_result_t *r, int i, const char *iloc,
                     const char *kloc, const char *kw, const char *msg)
{
    ck_assert_msg(i < r->nerrors, "error %d of %d", i, r->nerrors);
    ck_assert_str_eq(r->errors[i].instance_location, iloc);
    ck_assert_str_eq(r->errors[i].keyword_location, kloc);
    ck_assert_str_eq(r->errors[i].keyword, kw);
    if (msg) {
        ck_assert_str_eq(r->errors[i].message, msg);
    }
}

static const gk_schema_t *user_create(void)
{
    gk_schema_set_t *set = gk_schema_set_make(tp);
    gk_schema_compile_error_t err;
    json_error_t jerr;
    json_t *doc = json_load_file(USER_CREATE, JSON_REJECT_DUPLICATES, &jerr);
    const char *uri = "file:///srv/docs/examples/user_create.schema.json";

    ck_assert_msg(doc != NULL, "%s: %s", USER_CREATE, jerr.text);
    ck_assert_int_eq(gk_schema_set_add(set, uri, doc, &err), APR_SUCCESS);
    json_decref(doc);
    ck_assert_msg(gk_schema_set_compile(set, &err) == APR_SUCCESS, "%s",
                  err.reason);
    return gk_schema_set_get(set, uri);
}

/* ---- the seed's example ------------------------------------------------- */

START_TEST(user_create_valid)
{
    const gk_schema_t *sc = user_create();

    ck_assert(valid(sc,
                    "{\"username\":\"alice42\",\"email\":\"alice@example."
                    "com\",\"password\":\"Correct1Horse\"}"));
    /* extra members are let through, as Pydantic ignores them */
    ck_assert(valid(sc,
                    "{\"username\":\"bob\",\"email\":\"b@example.org\","
                    "\"password\":\"x9Yyyyyyyyyy\",\"extra\":[1,2]}"));
    /* 12 code points, 4 of them two bytes long */
    ck_assert(valid(sc,
                    "{\"username\":\"bob\",\"email\":\"b@example.org\","
                    "\"password\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                    "A1bbbbbb\"}"));
}
END_TEST

START_TEST(user_create_errors)
{
    const gk_schema_t *sc = user_create();
    gk_schema_result_t r;
    int i;

    r = check(sc,
              "{\"username\":\"a!\",\"email\":\"nobody\",\"password\":"
              "\"hunter\"}",
              10, 1);
    ck_assert_int_eq(r.nerrors, 6);
    ck_assert_int_eq(r.truncated, 0);
    error_is(&r, 0, "/username", "/properties/username/minLength", "minLength",
             "must be at least 3 characters");
    error_is(&r, 1, "/username", "/properties/username/pattern", "pattern",
             "must match the pattern \"^[a-zA-Z0-9]+$\"");
    error_is(&r, 2, "/email", "/properties/email/format", "format", NULL);
    error_is(&r, 3, "/password", "/properties/password/$ref/minLength",
             "minLength", "must be at least 12 characters");
    error_is(&r, 4, "/password", "/properties/password/$ref/allOf/0/pattern",
             "pattern", "must match the pattern \"[A-Z]\"");
    error_is(&r, 5, "/password", "/properties/password/$ref/allOf/1/pattern",
             "pattern", "must match the pattern \"[0-9]\"");
    for (i = 0; i < r.nerrors; i++) {
        /* never the offending value */
        ck_assert(!strstr(r.errors[i].message, "hunter"));
        ck_assert(!strstr(r.errors[i].message, "nobody"));
    }
    ck_assert_ptr_null(r.match_limit_location);

    /* a password of 11 characters with an upper-case letter and a digit */
    r = check(sc,
              "{\"username\":\"alice\",\"email\":\"a@example.com\","
              "\"password\":\"Abcdefghij1\"}",
              10, 1);
    ck_assert_int_eq(r.nerrors, 1);
    error_is(&r, 0, "/password", "/properties/password/$ref/minLength",
             "minLength", "must be at least 12 characters");

    /* "$" is the end of the subject only (PCRE2_DOLLAR_ENDONLY) */
    r = check(sc,
              "{\"username\":\"alice\\n\",\"email\":\"a@example.com\","
              "\"password\":\"Abcdefghij12\"}",
              10, 1);
    ck_assert_int_eq(r.nerrors, 1);
    error_is(&r, 0, "/username", "/properties/username/pattern", "pattern",
             NULL);
}
END_TEST

START_TEST(required_message)
{
    const gk_schema_t *sc = user_create();
    gk_schema_result_t r = check(sc, "{\"username\":\"alice\"}", 10, 1);

    ck_assert_int_eq(r.nerrors, 2);
    error_is(&r, 0, "", "/required", "required",
             "missing required property \"email\"");
    error_is(&r, 1, "", "/required", "required",
             "missing required property \"password\"");
    r = check(sc, "[]", 10, 1);
    ck_assert_int_eq(r.nerrors, 1);
    error_is(&r, 0, "", "/type", "type", "must be an object");
}
END_TEST

START_TEST(formats_annotate)
{
    const gk_schema_t *sc = user_create();
    const char *body =
        "{\"username\":\"alice\",\"email\":\"nobody\","
        "\"password\":\"Abcdefghij12\"}";

    ck_assert(!check(sc, body, 10, 1).valid);
    ck_assert(check(sc, body, 10, 0).valid);
}
END_TEST

/* ---- order and limits ---------------------------------------------------- */

START_TEST(document_order)
{
    const gk_schema_t *sc = user_create();
    /* the body's order, not the schema's: password first; the object's
     * own errors (required) before its members' */
    gk_schema_result_t r = check(sc, "{\"password\":\"x\",\"username\":\"a\"}",
                                 10, 1);

    ck_assert_int_eq(r.nerrors, 5);
    error_is(&r, 0, "", "/required", "required",
             "missing required property \"email\"");
    error_is(&r, 1, "/password", "/properties/password/$ref/minLength",
             "minLength", NULL);
    error_is(&r, 2, "/password", "/properties/password/$ref/allOf/0/pattern",
             "pattern", NULL);
    error_is(&r, 3, "/password", "/properties/password/$ref/allOf/1/pattern",
             "pattern", NULL);
    error_is(&r, 4, "/username", "/properties/username/minLength", "minLength",
             NULL);

    /* items by index, members of an item before the next item; applicator
     * errors at their instance's place */
    sc = must_compile(
        "{\"items\":{\"type\":\"object\",\"properties\":"
        "{\"a\":{\"type\":\"string\"}}},\"allOf\":[{\"items\":"
        "{\"required\":[\"b\"]}}]}");
    r = check(sc, "[{\"a\":1},{\"a\":\"x\"},3]", 10, 1);
    ck_assert_int_eq(r.nerrors, 4);
    error_is(&r, 0, "/0", "/allOf/0/items/required", "required", NULL);
    error_is(&r, 1, "/0/a", "/items/properties/a/type", "type",
             "must be a string");
    error_is(&r, 2, "/1", "/allOf/0/items/required", "required", NULL);
    error_is(&r, 3, "/2", "/items/type", "type", "must be an object");
}
END_TEST

START_TEST(max_errors_truncates)
{
    const gk_schema_t *sc = must_compile("{\"items\":{\"type\":\"string\"}}");
    gk_schema_result_t r = check(sc, "[1,2,\"a\",3,4,5]", 2, 0);

    ck_assert_int_eq(r.nerrors, 2);
    ck_assert_int_eq(r.truncated, 1);
    error_is(&r, 0, "/0", "/items/type", "type", "must be a string");
    error_is(&r, 1, "/1", "/items/type", "type", "must be a string");
    r = check(sc, "[1,2]", 2, 0);
    ck_assert_int_eq(r.nerrors, 2);
    ck_assert_int_eq(r.truncated, 0);

    /* the first in document order are kept, whatever the evaluation
     * order: /1 is found (by the allOf) after /2 (by items) */
    sc = must_compile(
        "{\"items\":[true,true,{\"type\":\"string\"}],"
        "\"allOf\":[{\"items\":[true,{\"minimum\":5}]}]}");
    r = check(sc, "[0,1,2]", 1, 0);
    ck_assert_int_eq(r.nerrors, 1);
    ck_assert_int_eq(r.truncated, 1);
    error_is(&r, 0, "/1", "/allOf/0/items/1/minimum", "minimum",
             "must be at least 5");
}
END_TEST

START_TEST(pointer_escapes)
{
    const gk_schema_t *sc = must_compile(
        "{\"properties\":{\"a/b~c\":{\"type\":\"integer\"},\"x\":false},"
        "\"additionalProperties\":false}");
    gk_schema_result_t r = check(sc, "{\"a/b~c\":1.5,\"x\":1,\"m~/\":2}", 10,
                                 0);

    ck_assert_int_eq(r.nerrors, 3);
    error_is(&r, 0, "/a~1b~0c", "/properties/a~1b~0c/type", "type",
             "must be an integer");
    error_is(&r, 1, "/x", "/properties/x", "properties", "is not allowed");
    error_is(&r, 2, "/m~0~1", "/additionalProperties", "additionalProperties",
             "is not allowed");
    /* 1.0 is an integer */
    ck_assert(valid(sc, "{\"a/b~c\":1.0}"));
}
END_TEST

/* ---- applicators ---------------------------------------------------------- */

START_TEST(applicators_report_themselves)
{
    const gk_schema_t *sc = must_compile(
        "{\"properties\":{"
        "\"any\":{\"anyOf\":[{\"type\":\"string\"},{\"minimum\":10}]},"
        "\"one\":{\"oneOf\":[{\"minimum\":1},{\"maximum\":5}]},"
        "\"not\":{\"not\":{\"type\":\"null\"}},"
        "\"if\":{\"if\":{\"minimum\":0},\"then\":{\"multipleOf\":2},"
        "\"else\":{\"maximum\":-10}},"
        "\"all\":{\"allOf\":[{\"minimum\":0},{\"maximum\":3}]}}}");
    gk_schema_result_t r = check(sc,
                                 "{\"any\":1,\"one\":3,\"not\":null,"
                                 "\"if\":3,\"all\":4}",
                                 10, 0);

    ck_assert_int_eq(r.nerrors, 5);
    error_is(&r, 0, "/any", "/properties/any/anyOf", "anyOf",
             "must match at least one schema of \"anyOf\"");
    error_is(&r, 1, "/one", "/properties/one/oneOf", "oneOf",
             "must match exactly one schema of \"oneOf\", not several");
    error_is(&r, 2, "/not", "/properties/not/not", "not",
             "must not match the \"not\" schema");
    error_is(&r, 3, "/if", "/properties/if/if", "if",
             "must match the \"then\" schema");
    error_is(&r, 4, "/all", "/properties/all/allOf/1/maximum", "maximum",
             "must be at most 3");
    r = check(sc, "{\"if\":-3}", 10, 0);
    error_is(&r, 0, "/if", "/properties/if/if", "if",
             "must match the \"else\" schema");
    ck_assert(
        valid(sc, "{\"any\":11,\"one\":0,\"not\":1,\"if\":4,\"all\":2}"));
}
END_TEST

START_TEST(numbers_and_equality)
{
    const gk_schema_t *sc = must_compile(
        "{\"properties\":{\"e\":{\"enum\":[1,[2.0],{\"a\":3}]},"
        "\"m\":{\"multipleOf\":0.01},\"x\":{\"exclusiveMaximum\":2.5},"
        "\"u\":{\"uniqueItems\":true}}}");
    char big[2048];
    int i, o = 0;

    ck_assert(valid(sc, "{\"e\":1.0}"));
    ck_assert(valid(sc, "{\"e\":[2]}"));
    ck_assert(valid(sc, "{\"e\":{\"a\":3.0}}"));
    ck_assert(!valid(sc, "{\"e\":\"1\"}"));
    ck_assert(valid(sc, "{\"m\":19.99}"));
    ck_assert(valid(sc, "{\"m\":7}"));
    ck_assert(!valid(sc, "{\"m\":19.995}"));
    ck_assert(!valid(sc, "{\"x\":2.5}"));
    ck_assert(valid(sc, "{\"x\":2}"));
    ck_assert(!valid(sc, "{\"u\":[1,\"1\",1.0]}"));
    ck_assert(valid(sc, "{\"u\":[1,\"1\",[1],{\"1\":1}]}"));
    /* beyond the pairwise bound: hashed, 1 and 1.0 still equal */
    o += snprintf(big + o, sizeof(big) - (size_t)o, "{\"u\":[");
    for (i = 0; i < 100; i++) {
        o += snprintf(big + o, sizeof(big) - (size_t)o, "%d,", i + 2);
    }
    snprintf(big + o, sizeof(big) - (size_t)o, "{\"k\":[1]},{\"k\":[1.0]}]}");
    {
        gk_schema_result_t r = check(sc, big, 10, 0);
        ck_assert_int_eq(r.nerrors, 1);
        error_is(&r, 0, "/u", "/properties/u/uniqueItems", "uniqueItems",
                 "must not have duplicate items (items 100 and 101 are "
                 "equal)");
    }
}
END_TEST

/* ---- references ----------------------------------------------------------- */

START_TEST(refs_across_documents)
{
    gk_schema_set_t *set = gk_schema_set_make(tp);
    gk_schema_compile_error_t err;
    json_t *a = parse(
        "{\"properties\":{\"n\":{\"$ref\":\"defs/b.json#/"
        "definitions/pos\"},\"t\":{\"$ref\":\"#node\"}},"
        "\"definitions\":{\"t\":{\"$id\":\"#node\",\"type\":"
        "\"array\",\"items\":{\"$ref\":\"#node\"}}}}");
    json_t *b = parse(
        "{\"$id\":\"http://example.com/b\",\"definitions\":"
        "{\"pos\":{\"$ref\":\"#/definitions/int\"},\"int\":"
        "{\"type\":\"integer\",\"minimum\":1}}}");
    const gk_schema_t *sc, *pos;
    gk_schema_result_t r;
    gk_schema_opts_t o = {0, 10};
    json_t *inst, *c;

    ck_assert_int_eq(gk_schema_set_add(set, "file:///etc/gk/a.json", a, &err),
                     APR_SUCCESS);
    ck_assert_int_eq(gk_schema_set_add(set, "file:///etc/gk/defs/b.json", b,
                                       &err),
                     APR_SUCCESS);
    /* the same $id twice */
    c = parse("{\"$id\":\"http://example.com/b#\"}");
    ck_assert_int_eq(gk_schema_set_add(set, "file:///etc/gk/defs/c.json", c,
                                       &err),
                     APR_EEXIST);
    json_decref(c);
    ck_assert(strstr(err.reason, "http://example.com/b"));
    json_decref(a);
    json_decref(b);
    ck_assert_msg(gk_schema_set_compile(set, &err) == APR_SUCCESS, "%s",
                  err.reason);
    sc = gk_schema_set_get(set, "file:///etc/gk/a.json");
    ck_assert_ptr_nonnull(sc);
    inst = parse("{\"n\":0,\"t\":[[],[[1]]]}");
    ck_assert(!gk_schema_validate(sc, inst, &o, tp, &r));
    json_decref(inst);
    ck_assert_int_eq(r.nerrors, 2);
    error_is(&r, 0, "/n", "/properties/n/$ref/$ref/minimum", "minimum",
             "must be at least 1");
    error_is(&r, 1, "/t/1/0/0",
             "/properties/t/$ref/items/$ref/items/$ref/"
             "items/$ref/type",
             "type", "must be an array");
    /* by $id, by pointer; not loaded: NULL */
    pos = gk_schema_set_get(set, "http://example.com/b#/definitions/pos");
    ck_assert_ptr_nonnull(pos);
    ck_assert_ptr_eq(pos, gk_schema_set_get(set,
                                            "file:///etc/gk/defs/"
                                            "b.json#/definitions/pos"));
    ck_assert_ptr_null(gk_schema_set_get(set, "file:///etc/gk/x.json"));
    ck_assert_ptr_null(gk_schema_set_get(set, "file:///etc/gk/a.json#/nope"));
    /* the meta-schema is in every set */
    ck_assert_ptr_nonnull(gk_schema_set_get(set,
                                            "http://json-schema.org/"
                                            "draft-07/schema#"));
}
END_TEST

START_TEST(ref_siblings_ignored)
{
    const gk_schema_t *sc = must_compile(
        "{\"definitions\":{\"s\":{\"type\":\"string\"}},\"properties\":{\"a\":"
        "{\"$ref\":\"#/definitions/s\",\"maxLength\":1}}}");

    ck_assert(valid(sc, "{\"a\":\"long enough\"}"));
    ck_assert(!valid(sc, "{\"a\":1}"));
}
END_TEST

/* ---- refusals ----------------------------------------------------------- */

START_TEST(refuses_other_drafts)
{
    refused("{\"$schema\":\"http://json-schema.org/draft-04/schema#\"}",
            "/$schema",
            "$schema \"http://json-schema.org/draft-04/schema#\" is not "
            "supported: the supported draft is draft-07 "
            "(\"http://json-schema.org/draft-07/schema#\")");
    refused("{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\"}",
            "/$schema", "draft-07");
    must_compile("{\"$schema\":\"http://json-schema.org/draft-07/schema\"}");
    must_compile("{\"$schema\":\"http://json-schema.org/draft-07/schema#\"}");
}
END_TEST

START_TEST(refuses_bad_keyword_values)
{
    refused("{\"properties\":{\"a\":{\"minLength\":-1}}}",
            "/properties/a/minLength",
            "not a valid draft-07 schema: must be at least 0");
    refused("{\"properties\":{\"a\":{\"type\":[\"strng\"]}}}",
            "/properties/a/type",
            "not a valid draft-07 schema: \"type\" must be one of \"array\", "
            "\"boolean\", \"integer\", \"null\", \"number\", \"object\", "
            "\"string\", or a list of them");
    refused("{\"required\":[\"a\",\"a\"]}", "/required",
            "must not have duplicate items");
    refused("{\"items\":[1]}", "/items", "not a valid draft-07 schema");
    refused("{\"multipleOf\":0}", "/multipleOf", "must be greater than 0");
    refused("3", "", "must be an object or a boolean");
    /* 2.0 is an integer: accepted */
    must_compile("{\"maxLength\":2.0}");
    must_compile("true");
}
END_TEST

START_TEST(refuses_unresolvable_refs)
{
    refused("{\"properties\":{\"a\":{\"$ref\":\"#/definitions/nope\"}}}",
            "/properties/a/$ref", "does not resolve");
    refused("{\"$ref\":\"http://example.com/schemas/user.json\"}", "/$ref",
            "\"http://example.com/schemas/user.json\" is not a document of "
            "the set (nothing is fetched");
    refused("{\"$ref\":\"other.json\"}", "/$ref",
            "(\"file:///etc/gk/other.json\") does not resolve");
    refused("{\"$ref\":\"#anchor\"}", "/$ref", "no schema of the set has");
    refused("{\"$ref\":\"#/%zz\"}", "/$ref", "percent-encoding");
    /* cycles that never reach an instance member */
    refused("{\"$ref\":\"#\"}", "/$ref", "a cycle of references");
    refused(
        "{\"definitions\":{\"a\":{\"allOf\":[{\"$ref\":\"#/definitions/"
        "b\"}]},\"b\":{\"not\":{\"$ref\":\"#/definitions/a\"}}}}",
        "/definitions/b/not/$ref", "a cycle of references");
    /* a recursive reference through a member is fine */
    must_compile("{\"properties\":{\"next\":{\"$ref\":\"#\"}}}");
    /* into the meta-schema: fine */
    must_compile(
        "{\"$ref\":\"http://json-schema.org/draft-07/schema#/"
        "definitions/nonNegativeInteger\"}");
}
END_TEST

START_TEST(refuses_regex_constructs)
{
    refused("{\"properties\":{\"x\":{\"pattern\":\"^abc\\\\Z\"}}}",
            "/properties/x/pattern", "pattern: the pattern is refused: ");
    refused("{\"pattern\":\"[[:alpha:]]\"}", "/pattern", "refused");
    refused("{\"pattern\":\"(?i)abc\"}", "/pattern", "refused");
    refused("{\"patternProperties\":{\"a++\":true}}", "/patternProperties/a++",
            "patternProperties: the pattern is refused: ");
    refused("{\"pattern\":\"(unclosed\"}", "/pattern", "refused");
}
END_TEST

/* ---- failing closed ----------------------------------------------------- */

START_TEST(match_limit_fails_closed)
{
    const gk_schema_t *sc = must_compile(
        "{\"properties\":{\"a\":{\"pattern\":\"^(a|a?)+$\"},"
        "\"b\":{\"not\":{\"pattern\":\"^(a|a?)+$\"}}}}");
    char body[200];
    gk_schema_result_t r;

    snprintf(body, sizeof(body), "{\"a\":\"%s\"}",
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab");
    r = check(sc, body, 10, 0);
    ck_assert(!r.valid);
    ck_assert_str_eq(r.match_limit_location, "/properties/a/pattern");
    error_is(&r, 0, "/a", "/properties/a/pattern", "pattern", NULL);
    /* not a yes/no that "not" could turn into a pass */
    snprintf(body, sizeof(body), "{\"b\":\"%s\"}",
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab");
    r = check(sc, body, 10, 0);
    ck_assert(!r.valid);
    ck_assert_str_eq(r.match_limit_location, "/properties/b/not/pattern");
    ck_assert(valid(sc, "{\"a\":\"aaa\",\"b\":\"b\"}"));
}
END_TEST

START_TEST(deep_instances_bounded)
{
    const gk_schema_t *sc = must_compile(
        "{\"definitions\":{\"t\":{\"type\":[\"array\",\"integer\"],"
        "\"items\":{\"$ref\":\"#/definitions/t\"}}},\"$ref\":\"#/"
        "definitions/t\"}");
    gk_schema_opts_t o = {0, 10};
    gk_schema_result_t r;
    json_t *root = json_array(), *cur = root;
    int i;

    /* 64 levels (the module's default): fine */
    for (i = 0; i < 64; i++) {
        json_t *next = json_array();
        json_array_append_new(cur, next);
        cur = next;
    }
    json_array_append_new(cur, json_integer(1));
    ck_assert(gk_schema_validate(sc, root, &o, tp, &r));
    /* far deeper than jansson parses: refused, not a crash */
    for (i = 0; i < 5000; i++) {
        json_t *next = json_array();
        json_array_append_new(cur, next);
        cur = next;
    }
    ck_assert(!gk_schema_validate(sc, root, &o, tp, &r));
    ck_assert_int_eq(r.nerrors, 1);
    ck_assert_str_eq(r.errors[0].message, "nested too deeply for this schema");
    ck_assert_ptr_null(r.match_limit_location);
    json_decref(root);
}
END_TEST

START_TEST(boolean_schemas)
{
    const gk_schema_t *f = must_compile("false");
    gk_schema_result_t r = check(f, "1", 10, 0);

    error_is(&r, 0, "", "", "false", "is not allowed");
    ck_assert(valid(must_compile("true"), "{\"a\":[null]}"));
    ck_assert(valid(must_compile("{}"), "\"x\""));
}
END_TEST

/* ---- internals ------------------------------------------------------------ */

/* RFC 3986 section 5.4: every example of reference resolution. */
START_TEST(uri_resolution_rfc3986)
{
    static const char *const v[][2] = {
        /* 5.4.1 normal */
        {"g:h", "g:h"},
        {"g", "http://a/b/c/g"},
        {"./g", "http://a/b/c/g"},
        {"g/", "http://a/b/c/g/"},
        {"/g", "http://a/g"},
        {"//g", "http://g"},
        {"?y", "http://a/b/c/d;p?y"},
        {"g?y", "http://a/b/c/g?y"},
        {"#s", "http://a/b/c/d;p?q#s"},
        {"g#s", "http://a/b/c/g#s"},
        {"g?y#s", "http://a/b/c/g?y#s"},
        {";x", "http://a/b/c/;x"},
        {"g;x", "http://a/b/c/g;x"},
        {"g;x?y#s", "http://a/b/c/g;x?y#s"},
        {"", "http://a/b/c/d;p?q"},
        {".", "http://a/b/c/"},
        {"./", "http://a/b/c/"},
        {"..", "http://a/b/"},
        {"../", "http://a/b/"},
        {"../g", "http://a/b/g"},
        {"../..", "http://a/"},
        {"../../", "http://a/"},
        {"../../g", "http://a/g"},
        /* 5.4.2 abnormal */
        {"../../../g", "http://a/g"},
        {"../../../../g", "http://a/g"},
        {"/./g", "http://a/g"},
        {"/../g", "http://a/g"},
        {"g.", "http://a/b/c/g."},
        {".g", "http://a/b/c/.g"},
        {"g..", "http://a/b/c/g.."},
        {"..g", "http://a/b/c/..g"},
        {"./../g", "http://a/b/g"},
        {"./g/.", "http://a/b/c/g/"},
        {"g/./h", "http://a/b/c/g/h"},
        {"g/../h", "http://a/b/c/h"},
        {"g;x=1/./y", "http://a/b/c/g;x=1/y"},
        {"g;x=1/../y", "http://a/b/c/y"},
        {"g?y/./x", "http://a/b/c/g?y/./x"},
        {"g?y/../x", "http://a/b/c/g?y/../x"},
        {"g#s/./x", "http://a/b/c/g#s/./x"},
        {"g#s/../x", "http://a/b/c/g#s/../x"},
        {"http:g", "http:g"},
    };
    size_t i;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        ck_assert_str_eq(
            gk_schema_uri_resolve(tp, "http://a/b/c/d;p?q", v[i][0]), v[i][1]);
    }
    /* file URIs, as the module names its documents */
    ck_assert_str_eq(gk_schema_uri_resolve(tp, "file:///etc/gk/a.json",
                                           "defs/b.json#/x"),
                     "file:///etc/gk/defs/b.json#/x");
}
END_TEST

/* A valid instance costs no allocation: validated with no pool at all
 * (a test-only call: any allocation would crash). */
START_TEST(valid_path_allocates_nothing)
{
    const gk_schema_t *sc = user_create();
    gk_schema_opts_t o = {1, 10};
    gk_schema_result_t r;
    json_t *j = parse(
        "{\"username\":\"alice42\",\"email\":\"alice@example."
        "com\",\"password\":\"Correct1Horse\",\"x\":{\"y\":[1,"
        "2,{\"z\":null}]}}");

    ck_assert(gk_schema_validate(sc, j, &o, NULL, &r));
    ck_assert_int_eq(r.nerrors, 0);
    ck_assert_ptr_null(r.errors);
    json_decref(j);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("schema");
    TCase *tc = tk_tcase("schema");

    tcase_add_test(tc, user_create_valid);
    tcase_add_test(tc, user_create_errors);
    tcase_add_test(tc, required_message);
    tcase_add_test(tc, formats_annotate);
    tcase_add_test(tc, document_order);
    tcase_add_test(tc, max_errors_truncates);
    tcase_add_test(tc, pointer_escapes);
    tcase_add_test(tc, applicators_report_themselves);
    tcase_add_test(tc, numbers_and_equality);
    tcase_add_test(tc, refs_across_documents);
    tcase_add_test(tc, ref_siblings_ignored);
    tcase_add_test(tc, refuses_other_drafts);
    tcase_add_test(tc, refuses_bad_keyword_values);
    tcase_add_test(tc, refuses_unresolvable_refs);
    tcase_add_test(tc, refuses_regex_constructs);
    tcase_add_test(tc, match_limit_fails_closed);
    tcase_add_test(tc, deep_instances_bounded);
    tcase_add_test(tc, boolean_schemas);
    tcase_add_test(tc, uri_resolution_rfc3986);
    tcase_add_test(tc, valid_path_allocates_nothing);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(suite)
