/*
 * gk_schema: documents compiled into a graph of nodes (gk_schema_int.h).
 *
 * gk_schema_set_add registers a document under its retrieval URI and
 * every "$id" found at a schema position (a plain-name "$id": "#foo" as an
 * anchor); gk_schema_set_compile then, for every document: checks its
 * "$schema", validates it against the compiled meta-schema, compiles every
 * schema object of it into a node (memoized by the JSON value, so that
 * recursive references make a graph), resolves each "$ref" against the
 * base URI in scope (RFC 3986) into an edge, and refuses cycles of
 * references that never descend into the instance (they would never
 * end). Nothing is fetched: a reference must land in the set.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_hash.h>

#include "gk_schema_int.h"

/* What an "$id" (or a document URI) names. */
typedef struct {
    json_t *s;
    const char *doc;  /* the document's retrieval URI */
    const char *ptr;  /* JSON pointer of s in it */
    const char *base; /* base URI in effect inside s */
} id_t_;

typedef struct {
    const char *uri;
    json_t *doc;
} doc_t;

/* A $ref waiting for its target. */
typedef struct {
    gk_schema_edge_t *edge;
    const char *ref;  /* as written */
    const char *base; /* base URI in scope */
    const char *doc, *ptr;
} pending_t;

/* A node's compile-time facts, for errors and the cycle check. */
typedef struct {
    gk_schema_t *n;
    const char *doc, *ptr;
    int mark; /* 0 new, 1 on the DFS stack, 2 done */
} cnode_t;

struct gk_schema_set_t {
    apr_pool_t *p;
    apr_hash_t *ids;   /* absolute URI (no fragment or "#anchor") -> id_t_ */
    apr_hash_t *nodes; /* json_t * (the pointer's bytes) -> cnode_t */
    apr_array_header_t *docs;    /* doc_t: users' documents */
    apr_array_header_t *pending; /* pending_t */
    apr_array_header_t *all;     /* cnode_t *: every node */
    json_t *meta;
    const gk_schema_t *meta_node;
    int compiled;
    gk_schema_compile_error_t *err; /* during compilation */
};

static apr_status_t fail(gk_schema_set_t *set, const char *uri,
                         const char *ptr, const char *reason)
{
    if (set->err && !set->err->reason) {
        set->err->uri = uri;
        set->err->pointer = ptr;
        set->err->reason = reason;
    }
    return APR_EINVAL;
}

static int failed(const gk_schema_set_t *set)
{
    return set->err && set->err->reason;
}

static apr_status_t decref_doc(void *d)
{
    json_decref((json_t *)d);
    return APR_SUCCESS;
}

/* ---- registration: $id and anchors ------------------------------------ */

/* The keywords whose value is one schema, an array of schemas, or an
 * object whose values are schemas. */
static const char *const kw_one[] = {"additionalItems",
                                     "additionalProperties",
                                     "contains",
                                     "propertyNames",
                                     "not",
                                     "if",
                                     "then",
                                     "else",
                                     "items",
                                     NULL};
static const char *const kw_arr[] = {"items", "allOf", "anyOf", "oneOf", NULL};
static const char *const kw_map[] = {"properties", "patternProperties",
                                     "definitions", "dependencies", NULL};

static int is_schema(const json_t *v)
{
    return json_is_object(v) || json_is_boolean(v);
}

/* The base URI inside s, given the base around it (a "$id" beside a
 * "$ref" is ignored, as draft-07 ignores every sibling of "$ref"). */
static const char *inner_base(apr_pool_t *p, const json_t *s, const char *base,
                              const char **anchor)
{
    const json_t *id = json_object_get(s, "$id");
    const char *abs, *u, *frag;
    int bad;

    *anchor = NULL;
    if (!json_is_string(id) || json_object_get(s, "$ref")) {
        return base;
    }
    abs = gk_schema_uri_resolve(p, base, json_string_value(id));
    u = gk_schema_uri_split(p, abs, &frag, &bad);
    if (frag && *frag) {
        *anchor = apr_pstrcat(p, u, "#", frag, NULL);
        return base; /* a plain name: the base does not change */
    }
    return u;
}

static apr_status_t put_id(gk_schema_set_t *set, const char *key, json_t *s,
                           const char *doc, const char *ptr, const char *base)
{
    id_t_ *prev = apr_hash_get(set->ids, key, APR_HASH_KEY_STRING);
    id_t_ *e;

    if (prev) {
        if (prev->s == s) {
            return APR_SUCCESS;
        }
        fail(set, doc, ptr,
             apr_psprintf(set->p, "\"%s\" is already in the set", key));
        return APR_EEXIST;
    }
    e = apr_palloc(set->p, sizeof(*e));
    e->s = s;
    e->doc = doc;
    e->ptr = ptr;
    e->base = base;
    apr_hash_set(set->ids, key, APR_HASH_KEY_STRING, e);
    return APR_SUCCESS;
}

static apr_status_t reg(gk_schema_set_t *set, json_t *s, const char *base,
                        const char *doc, const char *ptr)
{
    const char *anchor, *in;
    apr_status_t rv = APR_SUCCESS;
    int i;

    if (!json_is_object(s)) {
        return APR_SUCCESS;
    }
    in = inner_base(set->p, s, base, &anchor);
    if (anchor) {
        rv = put_id(set, anchor, s, doc, ptr, in);
    }
    else if (strcmp(in, base)) {
        rv = put_id(set, in, s, doc, ptr, in);
    }
    for (i = 0; rv == APR_SUCCESS && kw_one[i]; i++) {
        json_t *c = json_object_get(s, kw_one[i]);
        if (json_is_object(c)) {
            rv = reg(set, c, in, doc,
                     apr_pstrcat(set->p, ptr, "/", kw_one[i], NULL));
        }
    }
    for (i = 0; rv == APR_SUCCESS && kw_arr[i]; i++) {
        json_t *a = json_object_get(s, kw_arr[i]), *c;
        size_t k;
        json_array_foreach (a, k, c) {
            rv = reg(set, c, in, doc,
                     apr_psprintf(set->p, "%s/%s/%" APR_SIZE_T_FMT, ptr,
                                  kw_arr[i], (apr_size_t)k));
            if (rv != APR_SUCCESS) {
                break;
            }
        }
    }
    for (i = 0; rv == APR_SUCCESS && kw_map[i]; i++) {
        json_t *m = json_object_get(s, kw_map[i]), *c;
        const char *k;
        json_object_foreach (m, k, c) {
            rv = reg(set, c, in, doc,
                     apr_pstrcat(set->p, ptr, "/", kw_map[i],
                                 gk_schema_ptr_seg(set->p, k, strlen(k)),
                                 NULL));
            if (rv != APR_SUCCESS) {
                break;
            }
        }
    }
    return rv;
}

gk_schema_set_t *gk_schema_set_make(apr_pool_t *p)
{
    gk_schema_set_t *set = apr_pcalloc(p, sizeof(*set));
    json_t *meta;

    set->p = p;
    set->ids = apr_hash_make(p);
    set->nodes = apr_hash_make(p);
    set->docs = apr_array_make(p, 4, sizeof(doc_t));
    set->pending = apr_array_make(p, 16, sizeof(pending_t));
    set->all = apr_array_make(p, 64, sizeof(cnode_t *));
    meta = json_loads(gk_schema_draft7_text, JSON_REJECT_DUPLICATES, NULL);
    if (meta) {
        apr_pool_cleanup_register(p, meta, decref_doc, apr_pool_cleanup_null);
        set->meta = meta;
        reg(set, meta, GK_SCHEMA_DRAFT7_URI, GK_SCHEMA_DRAFT7_URI, "");
        put_id(set, GK_SCHEMA_DRAFT7_URI, meta, GK_SCHEMA_DRAFT7_URI, "",
               GK_SCHEMA_DRAFT7_URI);
    }
    return set;
}

apr_status_t gk_schema_set_add(gk_schema_set_t *set, const char *uri,
                               json_t *doc, gk_schema_compile_error_t *err)
{
    const char *u, *frag;
    doc_t *d;
    int bad;
    apr_status_t rv;

    memset(err, 0, sizeof(*err));
    if (!doc) {
        err->uri = uri;
        err->pointer = "";
        err->reason = "no document";
        return APR_EINVAL;
    }
    set->err = err;
    u = gk_schema_uri_split(set->p, uri, &frag, &bad);
    json_incref(doc);
    apr_pool_cleanup_register(set->p, doc, decref_doc, apr_pool_cleanup_null);
    if (set->compiled) {
        fail(set, u, "", "the set is already compiled");
        set->err = NULL;
        return APR_EINVAL;
    }
    rv = put_id(set, u, doc, u, "", u);
    if (rv == APR_SUCCESS) {
        rv = reg(set, doc, u, u, "");
    }
    set->err = NULL;
    if (rv != APR_SUCCESS) {
        return rv;
    }
    d = apr_array_push(set->docs);
    d->uri = u;
    d->doc = doc;
    return APR_SUCCESS;
}

/* ---- references ------------------------------------------------------- */

/* The schema a URI (with an optional fragment) names: *out, with its
 * base, document and pointer; or a reason. */
static const char *lookup(const gk_schema_set_t *set, apr_pool_t *p,
                          const char *abs, id_t_ *out)
{
    const char *u, *frag, *tok;
    const id_t_ *e;
    json_t *cur;
    const char *base, *ptr;
    int bad;

    u = gk_schema_uri_split(p, abs, &frag, &bad);
    if (bad) {
        return "its fragment has a bad percent-encoding";
    }
    if (frag && *frag && *frag != '/') {
        e = apr_hash_get(set->ids, apr_pstrcat(p, u, "#", frag, NULL),
                         APR_HASH_KEY_STRING);
        if (!e) {
            return apr_psprintf(p,
                                "no schema of the set has the $id "
                                "\"#%s\" in \"%s\"",
                                frag, u);
        }
        *out = *e;
        return NULL;
    }
    e = apr_hash_get(set->ids, u, APR_HASH_KEY_STRING);
    if (!e) {
        return apr_psprintf(p,
                            "\"%s\" is not a document of the set (nothing "
                            "is fetched: load it with GKValidateSchema)",
                            u);
    }
    cur = e->s;
    base = e->base;
    ptr = e->ptr;
    tok = frag && *frag ? frag + 1 : NULL;
    while (tok) {
        const char *end = strchr(tok, '/');
        apr_size_t n = end ? (apr_size_t)(end - tok) : strlen(tok);
        char *t = apr_palloc(p, n + 1);
        apr_size_t i, o = 0;
        json_t *next = NULL;

        for (i = 0; i < n; i++) {
            if (tok[i] == '~' && i + 1 < n
                && (tok[i + 1] == '0' || tok[i + 1] == '1')) {
                t[o++] = tok[i + 1] == '0' ? '~' : '/';
                i++;
            }
            else if (tok[i] == '~') {
                return "its JSON pointer has a bad ~ escape";
            }
            else {
                t[o++] = tok[i];
            }
        }
        t[o] = '\0';
        if (json_is_object(cur)) {
            next = json_object_get(cur, t);
        }
        else if (json_is_array(cur) && o > 0 && o < 10
                 && strspn(t, "0123456789") == o && (t[0] != '0' || o == 1)) {
            next = json_array_get(cur, (size_t)atol(t));
        }
        if (!next) {
            return apr_psprintf(p,
                                "\"%s\" has nothing at the JSON pointer "
                                "\"%s\"",
                                u, frag);
        }
        ptr = apr_pstrcat(p, ptr, gk_schema_ptr_seg(p, t, o), NULL);
        cur = next;
        if (json_is_object(cur)) {
            const char *anchor;
            base = inner_base(p, cur, base, &anchor);
        }
        tok = end ? end + 1 : NULL;
    }
    out->s = cur;
    out->doc = e->doc;
    out->ptr = ptr;
    out->base = base;
    return NULL;
}

/* ---- nodes ------------------------------------------------------------ */

static gk_schema_t *compile_node(gk_schema_set_t *set, json_t *s,
                                 const char *base, const char *doc,
                                 const char *ptr);

static gk_schema_edge_t *edge(gk_schema_set_t *set, json_t *s,
                              const char *base, const char *doc,
                              const char *ptr, const char *seg, const char *kw)
{
    gk_schema_edge_t *e = apr_palloc(set->p, sizeof(*e));

    e->seg = seg;
    e->kw = kw;
    e->to = compile_node(set, s, base, doc,
                         apr_pstrcat(set->p, ptr, seg, NULL));
    return e;
}

static gk_schema_edge_t *edges(gk_schema_set_t *set, json_t *a,
                               const char *base, const char *doc,
                               const char *ptr, const char *kw, apr_size_t *n)
{
    gk_schema_edge_t *es;
    size_t i;

    *n = json_array_size(a);
    es = apr_pcalloc(set->p, (*n ? *n : 1) * sizeof(*es));
    for (i = 0; i < *n && !failed(set); i++) {
        gk_schema_edge_t *e = edge(set, json_array_get(a, i), base, doc, ptr,
                                   apr_psprintf(set->p, "/%s/%" APR_SIZE_T_FMT,
                                                kw, (apr_size_t)i),
                                   kw);
        es[i] = *e;
    }
    return es;
}

/* A count (maxLength...): a non-negative integer, maybe written 2.0. */
static apr_size_t count(const json_t *v)
{
    double d;

    if (json_is_integer(v)) {
        return json_integer_value(v) < 0 ? 0
                                         : (apr_size_t)json_integer_value(v);
    }
    d = json_number_value(v);
    if (!(d > 0)) {
        return 0;
    }
    return d >= 1e18 ? (apr_size_t)1e18 : (apr_size_t)d;
}

const char *gk_schema_num_text(apr_pool_t *p, const json_t *n)
{
    double d;
    int prec;

    if (json_is_integer(n)) {
        return apr_psprintf(p, "%" APR_INT64_T_FMT,
                            (apr_int64_t)json_integer_value(n));
    }
    d = json_real_value(n);
    for (prec = 1; prec < 17; prec++) {
        char buf[40];
        snprintf(buf, sizeof(buf), "%.*g", prec, d);
        if (strtod(buf, NULL) == d) {
            return apr_pstrdup(p, buf);
        }
    }
    return apr_psprintf(p, "%.17g", d);
}

static void num(gk_schema_set_t *set, gk_schema_t *n, const json_t *s,
                const char *kw, unsigned bit, gk_schema_num_t *out)
{
    const json_t *v = json_object_get(s, kw);

    if (!json_is_number(v)) {
        return;
    }
    n->kw |= bit;
    out->is_int = json_is_integer(v);
    out->i = out->is_int ? json_integer_value(v) : 0;
    out->d = json_number_value(v);
    out->text = gk_schema_num_text(set->p, v);
}

static const struct {
    const char *name;
    unsigned bit;
    const char *noun;
} type_names[] = {
    {"null", GK_T_NULL, "null"},
    {"boolean", GK_T_BOOLEAN, "a boolean"},
    {"object", GK_T_OBJECT, "an object"},
    {"array", GK_T_ARRAY, "an array"},
    {"number", GK_T_NUMBER, "a number"},
    {"integer", GK_T_INTEGER, "an integer"},
    {"string", GK_T_STRING, "a string"},
};

static void compile_type(gk_schema_set_t *set, gk_schema_t *n, const json_t *t)
{
    size_t i, k;
    const char *msg = NULL;

    for (i = 0; i < (json_is_array(t) ? json_array_size(t) : 1); i++) {
        const char *name = json_string_value(
            json_is_array(t) ? json_array_get(t, i) : t);
        for (k = 0; name && k < sizeof(type_names) / sizeof(type_names[0]);
             k++) {
            if (!strcmp(name, type_names[k].name)) {
                n->types |= type_names[k].bit;
                msg = msg ? apr_pstrcat(set->p, msg, " or ",
                                        type_names[k].noun, NULL)
                          : apr_pstrcat(set->p, "must be ", type_names[k].noun,
                                        NULL);
            }
        }
    }
    n->kw |= GK_KW_TYPE;
    n->types_msg = msg ? msg : "must be of no type";
}

static int prop_cmp(const void *a, const void *b)
{
    const gk_schema_prop_t *x = a, *y = b;

    if (x->len != y->len) {
        return x->len < y->len ? -1 : 1;
    }
    return memcmp(x->name, y->name, x->len);
}

/* The segment "/kw/<key escaped>" of a member of a keyword's object, and
 * the key's length. */
static const char *member_seg(gk_schema_set_t *set, const char *kw,
                              const char *k, apr_size_t *klen)
{
    *klen = json_object_iter_key_len(json_object_key_to_iter(k));
    return apr_pstrcat(set->p, "/", kw, gk_schema_ptr_seg(set->p, k, *klen),
                       NULL);
}

/* A regex of the schema at ptr + seg, or a compile error. */
static gk_ecma_re_t *regex(gk_schema_set_t *set, const char *doc,
                           const char *ptr, const char *seg, const char *kw,
                           const char *src, apr_size_t len)
{
    gk_ecma_re_t *re = NULL;
    const char *why = gk_ecma_re_compile(set->p, src, len, &re);

    if (why) {
        fail(set, doc, apr_pstrcat(set->p, ptr, seg, NULL),
             apr_pstrcat(set->p, kw, ": the pattern is refused: ", why, NULL));
        return NULL;
    }
    return re;
}

static void compile_object_kws(gk_schema_set_t *set, gk_schema_t *n, json_t *s,
                               const char *base, const char *doc,
                               const char *ptr)
{
    json_t *v, *c;
    const char *k;
    apr_size_t i;

    if ((v = json_object_get(s, "maxProperties"))) {
        n->kw |= GK_KW_MAX_PROPS;
        n->max_props = count(v);
    }
    if ((v = json_object_get(s, "minProperties"))) {
        n->kw |= GK_KW_MIN_PROPS;
        n->min_props = count(v);
    }
    if (json_is_array(v = json_object_get(s, "required"))
        && json_array_size(v)) {
        gk_schema_prop_t *r = apr_pcalloc(set->p,
                                          json_array_size(v) * sizeof(*r));
        json_array_foreach (v, i, c) {
            r[n->n_required].name = json_string_value(c);
            r[n->n_required].len = json_string_length(c);
            n->n_required += r[n->n_required].name != NULL;
        }
        n->required = r;
        n->kw |= GK_KW_REQUIRED;
    }
    if (json_is_object(v = json_object_get(s, "properties"))
        && json_object_size(v)) {
        gk_schema_prop_t *ps = apr_pcalloc(set->p,
                                           json_object_size(v) * sizeof(*ps));
        json_object_foreach (v, k, c) {
            gk_schema_prop_t *pp = &ps[n->n_props++];
            const char *seg = member_seg(set, "properties", k, &pp->len);
            pp->name = k;
            pp->e = *edge(set, c, base, doc, ptr, seg, "properties");
        }
        qsort(ps, n->n_props, sizeof(*ps), prop_cmp);
        n->props = ps;
    }
    if (json_is_object(v = json_object_get(s, "patternProperties"))
        && json_object_size(v)) {
        gk_schema_pprop_t *ps = apr_pcalloc(set->p,
                                            json_object_size(v) * sizeof(*ps));
        json_object_foreach (v, k, c) {
            gk_schema_pprop_t *pp = &ps[n->n_pprops++];
            apr_size_t klen;
            const char *seg = member_seg(set, "patternProperties", k, &klen);
            if (!(pp->re = regex(set, doc, ptr, seg, "patternProperties", k,
                                 klen))) {
                return;
            }
            pp->src = k;
            pp->e = *edge(set, c, base, doc, ptr, seg, "patternProperties");
        }
        n->pprops = ps;
    }
    if (is_schema(v = json_object_get(s, "additionalProperties"))) {
        n->additional_props = edge(set, v, base, doc, ptr,
                                   "/additionalProperties",
                                   "additionalProperties");
    }
    if (is_schema(v = json_object_get(s, "propertyNames"))) {
        n->property_names = edge(set, v, base, doc, ptr, "/propertyNames",
                                 "propertyNames");
        n->kw |= GK_KW_PROPNAMES;
    }
    if (json_is_object(v = json_object_get(s, "dependencies"))
        && json_object_size(v)) {
        gk_schema_dep_t *ds = apr_pcalloc(set->p,
                                          json_object_size(v) * sizeof(*ds));
        json_object_foreach (v, k, c) {
            gk_schema_dep_t *d = &ds[n->n_deps++];
            d->name = k;
            d->e.seg = member_seg(set, "dependencies", k, &d->len);
            d->e.kw = "dependencies";
            if (json_is_array(c)) {
                d->names = c;
            }
            else {
                d->e = *edge(set, c, base, doc, ptr, d->e.seg, "dependencies");
            }
        }
        n->deps = ds;
    }
}

static void compile_array_kws(gk_schema_set_t *set, gk_schema_t *n, json_t *s,
                              const char *base, const char *doc,
                              const char *ptr)
{
    json_t *v;

    if ((v = json_object_get(s, "maxItems"))) {
        n->kw |= GK_KW_MAX_ITEMS;
        n->max_items = count(v);
    }
    if ((v = json_object_get(s, "minItems"))) {
        n->kw |= GK_KW_MIN_ITEMS;
        n->min_items = count(v);
    }
    if (json_is_true(json_object_get(s, "uniqueItems"))) {
        n->kw |= GK_KW_UNIQUE;
    }
    v = json_object_get(s, "items");
    if (is_schema(v)) {
        n->items_one = edge(set, v, base, doc, ptr, "/items", "items");
    }
    else if (json_is_array(v)) {
        n->items_arr = edges(set, v, base, doc, ptr, "items", &n->n_items);
    }
    if (is_schema(v = json_object_get(s, "additionalItems"))) {
        gk_schema_edge_t *e = edge(set, v, base, doc, ptr, "/additionalItems",
                                   "additionalItems");
        /* draft-07: only with an array of "items" */
        n->additional_items = n->items_arr ? e : NULL;
    }
    if (is_schema(v = json_object_get(s, "contains"))) {
        n->contains = edge(set, v, base, doc, ptr, "/contains", "contains");
        n->kw |= GK_KW_CONTAINS;
    }
}

static void compile_scalar_kws(gk_schema_set_t *set, gk_schema_t *n, json_t *s,
                               const char *doc, const char *ptr)
{
    json_t *v;

    if ((v = json_object_get(s, "type"))) {
        compile_type(set, n, v);
    }
    if (json_is_array(v = json_object_get(s, "enum"))) {
        n->enum_v = v;
        n->kw |= GK_KW_ENUM;
    }
    if ((v = json_object_get(s, "const"))) {
        n->const_v = v;
        n->kw |= GK_KW_CONST;
    }
    num(set, n, s, "multipleOf", GK_KW_MULTIPLE_OF, &n->multiple_of);
    num(set, n, s, "maximum", GK_KW_MAXIMUM, &n->maximum);
    num(set, n, s, "exclusiveMaximum", GK_KW_EXMAXIMUM, &n->exmaximum);
    num(set, n, s, "minimum", GK_KW_MINIMUM, &n->minimum);
    num(set, n, s, "exclusiveMinimum", GK_KW_EXMINIMUM, &n->exminimum);
    if ((n->kw & GK_KW_MULTIPLE_OF)
        && !(n->multiple_of.is_int ? n->multiple_of.i > 0
                                   : n->multiple_of.d > 0)) {
        n->kw &= ~(unsigned)GK_KW_MULTIPLE_OF; /* the meta-schema refuses */
    }
    if ((v = json_object_get(s, "maxLength"))) {
        n->kw |= GK_KW_MAX_LENGTH;
        n->max_length = count(v);
    }
    if ((v = json_object_get(s, "minLength"))) {
        n->kw |= GK_KW_MIN_LENGTH;
        n->min_length = count(v);
    }
    if (json_is_string(v = json_object_get(s, "pattern"))) {
        if (!(n->pattern = regex(set, doc, ptr, "/pattern", "pattern",
                                 json_string_value(v),
                                 json_string_length(v)))) {
            return;
        }
        n->pattern_src = json_string_value(v);
        n->kw |= GK_KW_PATTERN;
    }
    if (json_is_string(v = json_object_get(s, "format"))) {
        n->format = gk_format_lookup(json_string_value(v));
        if (n->format != GK_FORMAT_UNKNOWN) {
            n->kw |= GK_KW_FORMAT;
        }
    }
}

static void compile_applicators(gk_schema_set_t *set, gk_schema_t *n,
                                json_t *s, const char *base, const char *doc,
                                const char *ptr)
{
    json_t *v, *c;
    const char *k;

    if (json_is_array(v = json_object_get(s, "allOf"))) {
        n->all_of = edges(set, v, base, doc, ptr, "allOf", &n->n_all_of);
    }
    if (json_is_array(v = json_object_get(s, "anyOf"))) {
        n->any_of = edges(set, v, base, doc, ptr, "anyOf", &n->n_any_of);
    }
    if (json_is_array(v = json_object_get(s, "oneOf"))) {
        n->one_of = edges(set, v, base, doc, ptr, "oneOf", &n->n_one_of);
    }
    if (is_schema(v = json_object_get(s, "not"))) {
        n->not_ = edge(set, v, base, doc, ptr, "/not", "not");
    }
    if (is_schema(v = json_object_get(s, "if"))) {
        n->if_ = edge(set, v, base, doc, ptr, "/if", "if");
    }
    if (is_schema(v = json_object_get(s, "then"))) {
        n->then_ = edge(set, v, base, doc, ptr, "/then", "then");
    }
    if (is_schema(v = json_object_get(s, "else"))) {
        n->else_ = edge(set, v, base, doc, ptr, "/else", "else");
    }
    if (!n->if_) {
        n->then_ = n->else_ = NULL; /* draft-07: ignored without "if" */
    }
    /* compiled for their checks (patterns, references) and for
     * gk_schema_set_get, applied only through a $ref */
    json_object_foreach (json_object_get(s, "definitions"), k, c) {
        apr_size_t klen;
        if (is_schema(c)) {
            edge(set, c, base, doc, ptr,
                 member_seg(set, "definitions", k, &klen), "definitions");
        }
    }
}

static gk_schema_t *compile_node(gk_schema_set_t *set, json_t *s,
                                 const char *base, const char *doc,
                                 const char *ptr)
{
    cnode_t *cn = apr_hash_get(set->nodes, &s, sizeof(s));
    gk_schema_t *n;
    json_t *ref;
    const char *anchor;

    if (cn) {
        return cn->n;
    }
    n = apr_pcalloc(set->p, sizeof(*n));
    cn = apr_pcalloc(set->p, sizeof(*cn));
    cn->n = n;
    cn->doc = doc;
    cn->ptr = ptr;
    apr_hash_set(set->nodes, apr_pmemdup(set->p, &s, sizeof(s)), sizeof(s),
                 cn);
    *(cnode_t **)apr_array_push(set->all) = cn;
    if (json_is_boolean(s)) {
        n->boolean = json_is_true(s) ? 1 : 2;
        return n;
    }
    if (!json_is_object(s)) {
        fail(set, doc, ptr, "a schema must be an object or a boolean");
        n->boolean = 2;
        return n;
    }
    if (json_is_string(ref = json_object_get(s, "$ref"))) {
        pending_t *pd = apr_array_push(set->pending);
        gk_schema_edge_t *e = apr_pcalloc(set->p, sizeof(*e));
        e->seg = "/$ref";
        e->kw = "$ref";
        n->ref = e;
        pd->edge = e;
        pd->ref = json_string_value(ref);
        pd->base = base;
        pd->doc = doc;
        pd->ptr = apr_pstrcat(set->p, ptr, "/$ref", NULL);
        /* draft-07: every sibling of "$ref" is ignored */
        return n;
    }
    base = inner_base(set->p, s, base, &anchor);
    compile_scalar_kws(set, n, s, doc, ptr);
    compile_array_kws(set, n, s, base, doc, ptr);
    compile_object_kws(set, n, s, base, doc, ptr);
    compile_applicators(set, n, s, base, doc, ptr);
    return n;
}

static void resolve_pending(gk_schema_set_t *set, apr_pool_t *tmp)
{
    int i;

    for (i = 0; i < set->pending->nelts && !failed(set); i++) {
        pending_t *pd = &APR_ARRAY_IDX(set->pending, i, pending_t);
        const char *abs = gk_schema_uri_resolve(set->p, pd->base, pd->ref);
        id_t_ t;
        const char *why = lookup(set, tmp, abs, &t);

        if (why) {
            fail(set, pd->doc, pd->ptr,
                 apr_psprintf(set->p,
                              "$ref \"%s\" (\"%s\") does not "
                              "resolve: %s",
                              pd->ref, abs, why));
            return;
        }
        pd->edge->to = compile_node(set, t.s, apr_pstrdup(set->p, t.base),
                                    t.doc, apr_pstrdup(set->p, t.ptr));
    }
    apr_array_clear(set->pending);
}

/* ---- cycles of references that stay on the same instance --------------- */

/* The next in-place edge of n (one that applies to the same instance)
 * at or after *i, which is moved past it; NULL after the last. */
static const gk_schema_edge_t *inplace(const gk_schema_t *n, apr_size_t *i)
{
    for (;; (*i)++) {
        apr_size_t k = *i;
        const gk_schema_edge_t *e = NULL;

        if (n->ref) {
            return k == 0 ? (*i)++, n->ref : NULL;
        }
        if (k < n->n_all_of) {
            e = &n->all_of[k];
        }
        else if ((k -= n->n_all_of) < n->n_any_of) {
            e = &n->any_of[k];
        }
        else if ((k -= n->n_any_of) < n->n_one_of) {
            e = &n->one_of[k];
        }
        else if ((k -= n->n_one_of) < n->n_deps) {
            e = &n->deps[k].e;
        }
        else {
            const gk_schema_edge_t *last[] = {n->not_, n->if_, n->then_,
                                              n->else_};
            k -= n->n_deps;
            if (k >= 4) {
                return NULL;
            }
            e = last[k];
        }
        if (e && e->to) {
            (*i)++;
            return e;
        }
    }
}

static cnode_t *cnode_of(gk_schema_set_t *set, const gk_schema_t *n,
                         apr_hash_t *rev)
{
    return apr_hash_get(rev, &n, sizeof(n));
}

static void check_cycles(gk_schema_set_t *set, apr_pool_t *tmp)
{
    apr_hash_t *rev = apr_hash_make(tmp);
    typedef struct {
        cnode_t *cn;
        apr_size_t next;
    } frame_t;
    frame_t *stack;
    int i, sp;

    for (i = 0; i < set->all->nelts; i++) {
        cnode_t *cn = APR_ARRAY_IDX(set->all, i, cnode_t *);
        apr_hash_set(rev, &cn->n, sizeof(cn->n), cn);
    }
    stack = apr_palloc(tmp,
                       (apr_size_t)(set->all->nelts + 1) * sizeof(*stack));
    for (i = 0; i < set->all->nelts && !failed(set); i++) {
        cnode_t *root = APR_ARRAY_IDX(set->all, i, cnode_t *);
        if (root->mark) {
            continue;
        }
        sp = 0;
        stack[sp].cn = root;
        stack[sp].next = 0;
        root->mark = 1;
        while (sp >= 0) {
            frame_t *f = &stack[sp];
            const gk_schema_edge_t *e = inplace(f->cn->n, &f->next);
            cnode_t *to;
            if (!e) {
                f->cn->mark = 2;
                sp--;
                continue;
            }
            to = e->to ? cnode_of(set, e->to, rev) : NULL;
            if (!to || to->mark == 2) {
                continue;
            }
            if (to->mark == 1) {
                fail(set, f->cn->doc,
                     apr_pstrcat(set->p, f->cn->ptr, e->seg, NULL),
                     "a cycle of references that never descends into the "
                     "instance (validation would never end)");
                return;
            }
            to->mark = 1;
            sp++;
            stack[sp].cn = to;
            stack[sp].next = 0;
        }
    }
}

/* ---- the set ------------------------------------------------------------ */

static int draft7_uri(const char *s)
{
    return !strcmp(s, "http://json-schema.org/draft-07/schema#")
           || !strcmp(s, "http://json-schema.org/draft-07/schema");
}

static void check_doc(gk_schema_set_t *set, const doc_t *d, apr_pool_t *tmp)
{
    const json_t *sch = json_object_get(d->doc, "$schema");
    gk_schema_opts_t o = {0, 1};
    gk_schema_result_t res;

    if (json_is_string(sch) && !draft7_uri(json_string_value(sch))) {
        fail(set, d->uri, "/$schema",
             apr_psprintf(set->p,
                          "$schema \"%s\" is not supported: the "
                          "supported draft is draft-07 "
                          "(\"http://json-schema.org/draft-07/"
                          "schema#\")",
                          json_string_value(sch)));
        return;
    }
    if (!gk_schema_validate(set->meta_node, d->doc, &o, tmp, &res)) {
        const gk_schema_error_t *e = &res.errors[0];
        apr_size_t n = strlen(e->instance_location);
        /* the meta-schema's "type" is an anyOf: say what it wants */
        if (!strcmp(e->keyword, "anyOf") && n >= 5
            && !strcmp(e->instance_location + n - 5, "/type")) {
            fail(set, d->uri, apr_pstrdup(set->p, e->instance_location),
                 "not a valid draft-07 schema: \"type\" must be one of "
                 "\"array\", \"boolean\", \"integer\", \"null\", "
                 "\"number\", \"object\", \"string\", or a list of them");
            return;
        }
        fail(set, d->uri, apr_pstrdup(set->p, e->instance_location),
             apr_psprintf(set->p,
                          "not a valid draft-07 schema: %s (%s at "
                          "the meta-schema's %s)",
                          e->message, e->keyword,
                          *e->keyword_location ? e->keyword_location
                                               : "root"));
    }
}

apr_status_t gk_schema_set_compile(gk_schema_set_t *set,
                                   gk_schema_compile_error_t *err)
{
    apr_pool_t *tmp;
    int i;

    memset(err, 0, sizeof(*err));
    if (!set->meta) {
        err->uri = GK_SCHEMA_DRAFT7_URI;
        err->pointer = "";
        err->reason = "the built-in meta-schema could not be read";
        return APR_EINVAL;
    }
    if (set->compiled) {
        return APR_SUCCESS;
    }
    set->err = err;
    apr_pool_create(&tmp, set->p);
    set->meta_node = compile_node(set, set->meta, GK_SCHEMA_DRAFT7_URI,
                                  GK_SCHEMA_DRAFT7_URI, "");
    resolve_pending(set, tmp);
    for (i = 0; i < set->docs->nelts && !failed(set); i++) {
        check_doc(set, &APR_ARRAY_IDX(set->docs, i, doc_t), tmp);
        apr_pool_clear(tmp);
    }
    for (i = 0; i < set->docs->nelts && !failed(set); i++) {
        doc_t *d = &APR_ARRAY_IDX(set->docs, i, doc_t);
        compile_node(set, d->doc, d->uri, d->uri, "");
        resolve_pending(set, tmp);
    }
    if (!failed(set)) {
        check_cycles(set, tmp);
    }
    apr_pool_destroy(tmp);
    set->err = NULL;
    if (err->reason) {
        return APR_EINVAL;
    }
    set->compiled = 1;
    return APR_SUCCESS;
}

const gk_schema_t *gk_schema_set_get(const gk_schema_set_t *set,
                                     const char *uri)
{
    apr_pool_t *tmp;
    id_t_ t;
    const cnode_t *cn = NULL;

    if (!set->compiled) {
        return NULL;
    }
    apr_pool_create(&tmp, set->p);
    if (!lookup(set, tmp, uri, &t)) {
        cn = apr_hash_get(set->nodes, &t.s, sizeof(t.s));
    }
    apr_pool_destroy(tmp);
    return cn ? cn->n : NULL;
}
