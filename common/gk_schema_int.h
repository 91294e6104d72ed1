/*
 * gk_schema internals, shared by gk_schema_compile.c (documents to
 * nodes), gk_schema_validate.c (nodes over instances), gk_schema_uri.c
 * (RFC 3986 reference resolution, JSON pointers) and gk_schema_meta.c
 * (the draft-07 meta-schema). Not part of the API.
 *
 * A compiled schema is a graph of gk_schema_t nodes, one per schema
 * object (or boolean) of a document. Every keyword is held in a typed
 * field; an edge to a subschema carries the JSON pointer segment(s) that
 * lead to it ("/properties/password"), already escaped, so that an error's
 * keywordLocation is a concatenation done only on failure.
 */
#ifndef GK_SCHEMA_INT_H
#define GK_SCHEMA_INT_H

#include <jansson.h>

#include "gk_ecma_re.h"
#include "gk_format.h"
#include "gk_schema.h"

/* The draft-07 meta-schema's URI (no fragment) and text. */
#define GK_SCHEMA_DRAFT7_URI "http://json-schema.org/draft-07/schema"
extern const char gk_schema_draft7_text[];

/* Bound of the validator's recursion (nested schema applications, i.e.
 * instance depth times the in-place applicators of one level): beyond it
 * the instance is refused (fails closed). With GKValidateMaxDepth at its
 * default of 64 it is never reached by a schema of reasonable size. */
#define GK_SCHEMA_MAX_RECURSION 4096

/* An edge to a subschema. */
typedef struct {
    const gk_schema_t *to;
    const char *seg; /* "/properties/a~1b": appended to keywordLocation */
    const char *kw;  /* "properties": the keyword of a false subschema */
} gk_schema_edge_t;

/* properties: sorted by (len, bytes) for a binary search. */
typedef struct {
    const char *name;
    apr_size_t len;
    gk_schema_edge_t e;
} gk_schema_prop_t;

typedef struct {
    gk_ecma_re_t *re;
    const char *src; /* the pattern (for the error log) */
    gk_schema_edge_t e;
} gk_schema_pprop_t;

/* dependencies: a schema, or a list of required names. */
typedef struct {
    const char *name;
    apr_size_t len;
    gk_schema_edge_t e;  /* e.to NULL: the array form */
    const json_t *names; /* the array form */
} gk_schema_dep_t;

/* A number bound of the schema (maximum, minimum...). */
typedef struct {
    int is_int;
    json_int_t i;
    double d;
    const char *text; /* as written in messages */
} gk_schema_num_t;

enum {
    GK_KW_TYPE = 1u << 0,
    GK_KW_ENUM = 1u << 1,
    GK_KW_CONST = 1u << 2,
    GK_KW_MULTIPLE_OF = 1u << 3,
    GK_KW_MAXIMUM = 1u << 4,
    GK_KW_EXMAXIMUM = 1u << 5,
    GK_KW_MINIMUM = 1u << 6,
    GK_KW_EXMINIMUM = 1u << 7,
    GK_KW_MAX_LENGTH = 1u << 8,
    GK_KW_MIN_LENGTH = 1u << 9,
    GK_KW_PATTERN = 1u << 10,
    GK_KW_FORMAT = 1u << 11,
    GK_KW_MAX_ITEMS = 1u << 12,
    GK_KW_MIN_ITEMS = 1u << 13,
    GK_KW_UNIQUE = 1u << 14,
    GK_KW_MAX_PROPS = 1u << 15,
    GK_KW_MIN_PROPS = 1u << 16,
    GK_KW_REQUIRED = 1u << 17,
    GK_KW_CONTAINS = 1u << 18,
    GK_KW_PROPNAMES = 1u << 19,
    /* groups, for the switch on the instance's type */
    GK_KW_NUMBER = GK_KW_MULTIPLE_OF | GK_KW_MAXIMUM | GK_KW_EXMAXIMUM
                   | GK_KW_MINIMUM | GK_KW_EXMINIMUM,
    GK_KW_STRING = GK_KW_MAX_LENGTH | GK_KW_MIN_LENGTH | GK_KW_PATTERN
                   | GK_KW_FORMAT
};

/* Types as bits (json_type order does not matter: our own). */
enum {
    GK_T_NULL = 1,
    GK_T_BOOLEAN = 2,
    GK_T_OBJECT = 4,
    GK_T_ARRAY = 8,
    GK_T_NUMBER = 16,
    GK_T_INTEGER = 32,
    GK_T_STRING = 64
};

struct gk_schema_t {
    unsigned kw;    /* GK_KW_* present */
    int boolean;    /* 0: an object schema; 1: true; 2: false */
    unsigned types; /* GK_T_* of "type" */
    const char *types_msg;
    const gk_schema_edge_t *ref; /* $ref: nothing else applies */

    const json_t *enum_v, *const_v;

    gk_schema_num_t multiple_of, maximum, exmaximum, minimum, exminimum;

    apr_size_t max_length, min_length;
    gk_ecma_re_t *pattern;
    const char *pattern_src;
    gk_format_e format;

    const gk_schema_edge_t *items_one; /* items: one schema */
    const gk_schema_edge_t *items_arr; /* items: an array of schemas */
    apr_size_t n_items;
    const gk_schema_edge_t *additional_items;
    const gk_schema_edge_t *contains;
    apr_size_t max_items, min_items;

    apr_size_t max_props, min_props;
    const gk_schema_prop_t *required; /* schema order */
    apr_size_t n_required;
    const gk_schema_prop_t *props; /* sorted */
    apr_size_t n_props;
    const gk_schema_pprop_t *pprops;
    apr_size_t n_pprops;
    const gk_schema_edge_t *additional_props;
    const gk_schema_edge_t *property_names;
    const gk_schema_dep_t *deps;
    apr_size_t n_deps;

    const gk_schema_edge_t *all_of, *any_of, *one_of;
    apr_size_t n_all_of, n_any_of, n_one_of;
    const gk_schema_edge_t *not_, *if_, *then_, *else_;
};

/* ---- gk_schema_uri.c ---------------------------------------------------- */

/* RFC 3986 section 5.2: ref resolved against the absolute base. */
const char *gk_schema_uri_resolve(apr_pool_t *p, const char *base,
                                  const char *ref);

/* Does the reference carry a scheme (an absolute URI)? */
int gk_schema_uri_is_absolute(const char *uri);

/* uri without its fragment (and the fragment, percent-decoded, in *frag:
 * NULL when the URI has none, or when its percent-encoding is broken:
 * then *bad is set). */
const char *gk_schema_uri_split(apr_pool_t *p, const char *uri,
                                const char **frag, int *bad);

/* One JSON pointer reference token escaped (~0 ~1), "/" prefixed. */
const char *gk_schema_ptr_seg(apr_pool_t *p, const char *tok, apr_size_t len);

/* ---- gk_schema_compile.c / gk_schema_validate.c ------------------------ */

/* JSON equality (numbers by value: 1 == 1.0). */
int gk_schema_json_equal(const json_t *a, const json_t *b);

/* A number's text as written in a message ("12", "0.5"). */
const char *gk_schema_num_text(apr_pool_t *p, const json_t *n);

#endif
