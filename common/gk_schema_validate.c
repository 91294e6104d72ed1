/*
 * gk_schema: an instance validated against compiled nodes.
 *
 * Per request nothing but the walk: no keyword look-up, no regex
 * compilation, no URI work, and no allocation while the instance is valid
 * (the paths to the current instance value and schema node are frames on
 * the C stack; strings are made only for an error that is kept). The one
 * exception: "uniqueItems" over more than UNIQUE_PAIRWISE items hashes
 * them into a pool array.
 *
 * Errors are kept in the instance's document order (members in the order
 * the body has them, array items by index, a value before its members),
 * then in the order the keywords are evaluated at one value: type, enum,
 * const, the keywords of the value's type, then allOf, anyOf, oneOf, not,
 * if. Only the first max_errors in that order are kept (truncated says
 * there were more); strings are built only for kept errors.
 *
 * Inside anyOf, oneOf, not, if and contains only a yes/no is needed: a
 * "quiet" evaluation stops at the first failure and builds nothing.
 *
 * Recursion: one level per schema applied (GK_SCHEMA_MAX_RECURSION in
 * all); beyond it, and when a pattern hits its match limit, validation
 * fails closed: the result is invalid whatever applicator (not, anyOf)
 * is around it.
 */
#include <float.h>
#include <math.h> /* isfinite, a macro */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "gk_schema_int.h"

#define UNIQUE_PAIRWISE 32

/* Where the walk is in the instance: a member (key) or an item (idx);
 * ord is its position in its parent, in document order. */
typedef struct ipath_s {
    const struct ipath_s *up;
    const char *key; /* NULL: an array item */
    apr_size_t klen;
    apr_size_t ord;
} ipath_t;

/* Where the walk is in the schema: the segments from the root. */
typedef struct kpath_s {
    const struct kpath_s *up;
    const char *seg;
    const char *kw;
} kpath_t;

typedef struct {
    const gk_schema_opts_t *o;
    apr_pool_t *p;
    gk_schema_result_t *res;
    apr_size_t **ords; /* per kept error: its document position */
    apr_size_t *nords;
    apr_size_t *scratch; /* the position of the error being reported */
    apr_size_t nscratch;
    int max;
    int quiet;
    int depth;
    int fatal;
} vctx_t;

/* ---- JSON equality and hashing ------------------------------------------ */

/* No libm (modules link without it): every double of magnitude 2^52 or
 * more is integral. */
static int is_integral(double d)
{
    if (!isfinite(d)) {
        return 0;
    }
    if (d >= 4503599627370496.0 || d <= -4503599627370496.0) {
        return 1;
    }
    return (double)(long long)d == d;
}

static double round_near(double d)
{
    if (d >= 4503599627370496.0 || d <= -4503599627370496.0) {
        return d;
    }
    return (double)(long long)(d < 0 ? d - 0.5 : d + 0.5);
}

static double absd(double d)
{
    return d < 0 ? -d : d;
}

static long double num_ld(const json_t *j)
{
    return json_is_integer(j) ? (long double)json_integer_value(j)
                              : (long double)json_real_value(j);
}

int gk_schema_json_equal(const json_t *a, const json_t *b)
{
    size_t i, n;

    if (json_is_number(a) && json_is_number(b)) {
        if (json_is_integer(a) && json_is_integer(b)) {
            return json_integer_value(a) == json_integer_value(b);
        }
        return num_ld(a) == num_ld(b);
    }
    if (json_typeof(a) != json_typeof(b)) {
        return 0;
    }
    switch (json_typeof(a)) {
    case JSON_STRING:
        return json_string_length(a) == json_string_length(b)
               && !memcmp(json_string_value(a), json_string_value(b),
                          json_string_length(a));
    case JSON_ARRAY:
        n = json_array_size(a);
        if (n != json_array_size(b)) {
            return 0;
        }
        for (i = 0; i < n; i++) {
            if (!gk_schema_json_equal(json_array_get(a, i),
                                      json_array_get(b, i))) {
                return 0;
            }
        }
        return 1;
    case JSON_OBJECT: {
        void *it;
        if (json_object_size(a) != json_object_size(b)) {
            return 0;
        }
        for (it = json_object_iter((json_t *)a); it;
             it = json_object_iter_next((json_t *)a, it)) {
            const json_t *o = json_object_getn(b, json_object_iter_key(it),
                                               json_object_iter_key_len(it));
            if (!o || !gk_schema_json_equal(json_object_iter_value(it), o)) {
                return 0;
            }
        }
        return 1;
    }
    default:
        return 1; /* true, false, null: the same type */
    }
}

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdULL;
}

static uint64_t bytes_hash(const char *s, apr_size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    apr_size_t i;

    for (i = 0; i < n; i++) {
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
    }
    return h;
}

/* Equal values (in the sense above) hash equal. */
static uint64_t json_hash(const json_t *j)
{
    uint64_t h = (uint64_t)json_typeof(j);
    size_t i;
    void *it;

    switch (json_typeof(j)) {
    case JSON_INTEGER:
        return mix(1, (uint64_t)json_integer_value(j));
    case JSON_REAL: {
        double d = json_real_value(j);
        uint64_t bits;
        if (is_integral(d) && d >= -9.2e18 && d <= 9.2e18) {
            return mix(1, (uint64_t)(json_int_t)d);
        }
        memcpy(&bits, &d, sizeof(bits));
        return mix(2, bits);
    }
    case JSON_STRING:
        return mix(3, bytes_hash(json_string_value(j), json_string_length(j)));
    case JSON_ARRAY:
        for (i = 0; i < json_array_size(j); i++) {
            h = mix(h, json_hash(json_array_get(j, i)));
        }
        return h;
    case JSON_OBJECT: {
        uint64_t sum = 0;
        for (it = json_object_iter((json_t *)j); it;
             it = json_object_iter_next((json_t *)j, it)) {
            sum += mix(bytes_hash(json_object_iter_key(it),
                                  json_object_iter_key_len(it)),
                       json_hash(json_object_iter_value(it)));
        }
        return mix(h, sum);
    }
    default:
        return h;
    }
}

typedef struct {
    uint64_t h;
    apr_size_t i;
} hidx_t;

static int hidx_cmp(const void *a, const void *b)
{
    const hidx_t *x = a, *y = b;

    if (x->h != y->h) {
        return x->h < y->h ? -1 : 1;
    }
    return x->i < y->i ? -1 : x->i > y->i;
}

/* Two equal items of the array? Their indexes in *a < *b. */
static int find_duplicate(apr_pool_t *p, const json_t *arr, apr_size_t *a,
                          apr_size_t *b)
{
    apr_size_t n = json_array_size(arr), i, k;
    hidx_t *hs;
    int found = 0;

    if (n <= UNIQUE_PAIRWISE) {
        for (i = 0; i < n; i++) {
            for (k = i + 1; k < n; k++) {
                if (gk_schema_json_equal(json_array_get(arr, i),
                                         json_array_get(arr, k))) {
                    *a = i;
                    *b = k;
                    return 1;
                }
            }
        }
        return 0;
    }
    hs = apr_palloc(p, n * sizeof(*hs));
    for (i = 0; i < n; i++) {
        hs[i].h = json_hash(json_array_get(arr, i));
        hs[i].i = i;
    }
    qsort(hs, n, sizeof(*hs), hidx_cmp);
    /* the pair with the smallest second index */
    for (i = 0; i < n; i++) {
        for (k = i + 1; k < n && hs[k].h == hs[i].h; k++) {
            if ((!found || hs[k].i < *b)
                && gk_schema_json_equal(json_array_get(arr, hs[i].i),
                                        json_array_get(arr, hs[k].i))) {
                *a = hs[i].i;
                *b = hs[k].i;
                found = 1;
            }
        }
    }
    return found;
}

/* ---- errors ------------------------------------------------------------- */

static apr_size_t idepth(const ipath_t *ip)
{
    apr_size_t n = 0;

    for (; ip; ip = ip->up) {
        n++;
    }
    return n;
}

static int ords_cmp(const apr_size_t *a, apr_size_t na, const apr_size_t *b,
                    apr_size_t nb)
{
    apr_size_t i;

    for (i = 0; i < na && i < nb; i++) {
        if (a[i] != b[i]) {
            return a[i] < b[i] ? -1 : 1;
        }
    }
    return na < nb ? -1 : na > nb;
}

static const char *instance_location(apr_pool_t *p, const ipath_t *ip,
                                     apr_size_t n)
{
    const char **segs;
    apr_size_t i;
    struct iovec *v;
    const ipath_t *q;

    if (!n) {
        return "";
    }
    segs = apr_palloc(p, n * sizeof(*segs));
    for (q = ip, i = n; q; q = q->up) {
        segs[--i] = q->key ? gk_schema_ptr_seg(p, q->key, q->klen)
                           : apr_psprintf(p, "/%" APR_SIZE_T_FMT, q->ord);
    }
    v = apr_palloc(p, n * sizeof(*v));
    for (i = 0; i < n; i++) {
        v[i].iov_base = (void *)segs[i];
        v[i].iov_len = strlen(segs[i]);
    }
    return apr_pstrcatv(p, v, n, NULL);
}

static const char *keyword_location(apr_pool_t *p, const kpath_t *kp,
                                    const char *seg)
{
    apr_size_t n = seg ? 1 : 0, i;
    const kpath_t *q;
    struct iovec *v;

    for (q = kp; q; q = q->up) {
        n++;
    }
    if (!n) {
        return "";
    }
    v = apr_palloc(p, n * sizeof(*v));
    i = n;
    if (seg) {
        i--;
        v[i].iov_base = (void *)seg;
        v[i].iov_len = strlen(seg);
    }
    for (q = kp; q; q = q->up) {
        i--;
        v[i].iov_base = (void *)q->seg;
        v[i].iov_len = strlen(q->seg);
    }
    return apr_pstrcatv(p, v, n, NULL);
}

/* Keep an error (seg: the keyword's segment after kp, or NULL). */
static void report(vctx_t *c, const ipath_t *ip, const kpath_t *kp,
                   const char *seg, const char *keyword, const char *fmt, ...)
{
    gk_schema_result_t *r = c->res;
    apr_size_t n = idepth(ip), i, *ords;
    const ipath_t *q;
    int pos;
    gk_schema_error_t *e;
    va_list ap;

    if (!r->errors) {
        r->errors = apr_pcalloc(c->p, (apr_size_t)c->max * sizeof(*r->errors));
        c->ords = apr_pcalloc(c->p, (apr_size_t)c->max * sizeof(*c->ords));
        c->nords = apr_pcalloc(c->p, (apr_size_t)c->max * sizeof(*c->nords));
    }
    /* the position in a scratch buffer: an error that is not kept costs
     * no memory (a hostile body may fail a million times) */
    if (n >= c->nscratch) {
        c->nscratch = n * 2 + 8;
        c->scratch = apr_palloc(c->p, c->nscratch * sizeof(*c->scratch));
    }
    ords = c->scratch;
    for (q = ip, i = n; q; q = q->up) {
        ords[--i] = q->ord;
    }
    /* after every kept error at or before this position */
    for (pos = r->nerrors;
         pos > 0 && ords_cmp(c->ords[pos - 1], c->nords[pos - 1], ords, n) > 0;
         pos--) {
    }
    if (r->nerrors == c->max) {
        r->truncated = 1;
        if (pos == c->max) {
            return;
        }
        r->nerrors--;
    }
    memmove(&r->errors[pos + 1], &r->errors[pos],
            (apr_size_t)(r->nerrors - pos) * sizeof(*r->errors));
    memmove(&c->ords[pos + 1], &c->ords[pos],
            (apr_size_t)(r->nerrors - pos) * sizeof(*c->ords));
    memmove(&c->nords[pos + 1], &c->nords[pos],
            (apr_size_t)(r->nerrors - pos) * sizeof(*c->nords));
    r->nerrors++;
    c->ords[pos] = apr_pmemdup(c->p, ords, (n ? n : 1) * sizeof(*ords));
    c->nords[pos] = n;
    e = &r->errors[pos];
    e->instance_location = instance_location(c->p, ip, n);
    e->keyword_location = keyword_location(c->p, kp, seg);
    e->keyword = keyword;
    va_start(ap, fmt);
    e->message = apr_pvsprintf(c->p, fmt, ap);
    va_end(ap);
}

/* Fail closed: the whole instance is invalid, whatever is around. */
static void fatal(vctx_t *c, const ipath_t *ip, const kpath_t *kp,
                  const char *seg, const char *keyword, const char *msg,
                  int match_limit)
{
    if (c->fatal) {
        return;
    }
    c->fatal = 1;
    if (match_limit) {
        c->res->match_limit_location = keyword_location(c->p, kp, seg);
    }
    report(c, ip, kp, seg, keyword, "%s", msg);
}

/* ---- the walk ------------------------------------------------------------ */

static int v_node(vctx_t *c, const gk_schema_t *s, const json_t *j,
                  const ipath_t *ip, const kpath_t *kp);

static int sub(vctx_t *c, const gk_schema_edge_t *e, const json_t *j,
               const ipath_t *ip, const kpath_t *kp)
{
    kpath_t k;
    int r;

    k.up = kp;
    k.seg = e->seg;
    k.kw = e->kw;
    if (c->depth >= GK_SCHEMA_MAX_RECURSION) {
        fatal(c, ip, &k, NULL, e->kw, "nested too deeply for this schema", 0);
        return 0;
    }
    c->depth++;
    r = v_node(c, e->to, j, ip, &k);
    c->depth--;
    return r;
}

/* A yes/no evaluation: no error kept, stops at the first failure. */
static int test(vctx_t *c, const gk_schema_edge_t *e, const json_t *j,
                const ipath_t *ip, const kpath_t *kp)
{
    int r;

    c->quiet++;
    r = sub(c, e, j, ip, kp);
    c->quiet--;
    return r && !c->fatal;
}

/* Failing: quietly, return at once; otherwise keep the error and go on. */
#define FAIL(...)                                                             \
    do {                                                                      \
        if (c->quiet) {                                                       \
            return 0;                                                         \
        }                                                                     \
        ok = 0;                                                               \
        report(c, ip, kp, __VA_ARGS__);                                       \
    } while (0)

/* After a subschema: stop when quiet and failed, or failed closed. */
#define CHECK(r)                                                              \
    do {                                                                      \
        if (!(r)) {                                                           \
            if (c->quiet || c->fatal) {                                       \
                return 0;                                                     \
            }                                                                 \
            ok = 0;                                                           \
        }                                                                     \
    } while (0)

static const char *plural(apr_size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

static unsigned type_bits(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return GK_T_OBJECT;
    case JSON_ARRAY:
        return GK_T_ARRAY;
    case JSON_STRING:
        return GK_T_STRING;
    case JSON_INTEGER:
        return GK_T_NUMBER | GK_T_INTEGER;
    case JSON_REAL: {
        double d = json_real_value(j);
        return is_integral(d) ? GK_T_NUMBER | GK_T_INTEGER : GK_T_NUMBER;
    }
    case JSON_TRUE:
    case JSON_FALSE:
        return GK_T_BOOLEAN;
    default:
        return GK_T_NULL;
    }
}

/* j against a bound: <0, 0, >0. */
static int num_cmp(const json_t *j, const gk_schema_num_t *b)
{
    long double x, y;

    if (json_is_integer(j) && b->is_int) {
        json_int_t i = json_integer_value(j);
        return i < b->i ? -1 : i > b->i;
    }
    x = num_ld(j);
    y = b->is_int ? (long double)b->i : (long double)b->d;
    return x < y ? -1 : x > y;
}

static int multiple_of(const json_t *j, const gk_schema_num_t *m)
{
    double q, r;

    if (json_is_integer(j) && m->is_int) {
        return json_integer_value(j) % m->i == 0;
    }
    q = (double)(num_ld(j)
                 / (m->is_int ? (long double)m->i : (long double)m->d));
    if (!isfinite(q)) {
        return 0;
    }
    r = round_near(q);
    /* the quotient of two binary fractions (0.0075 / 0.0001) is off by a
     * few units in its last place */
    return absd(q - r) <= absd(q) * 8 * DBL_EPSILON;
}

static int v_number(vctx_t *c, const gk_schema_t *s, const json_t *j,
                    const ipath_t *ip, const kpath_t *kp)
{
    int ok = 1;

    if ((s->kw & GK_KW_MULTIPLE_OF) && !multiple_of(j, &s->multiple_of)) {
        FAIL("/multipleOf", "multipleOf", "must be a multiple of %s",
             s->multiple_of.text);
    }
    if ((s->kw & GK_KW_MAXIMUM) && num_cmp(j, &s->maximum) > 0) {
        FAIL("/maximum", "maximum", "must be at most %s", s->maximum.text);
    }
    if ((s->kw & GK_KW_EXMAXIMUM) && num_cmp(j, &s->exmaximum) >= 0) {
        FAIL("/exclusiveMaximum", "exclusiveMaximum", "must be less than %s",
             s->exmaximum.text);
    }
    if ((s->kw & GK_KW_MINIMUM) && num_cmp(j, &s->minimum) < 0) {
        FAIL("/minimum", "minimum", "must be at least %s", s->minimum.text);
    }
    if ((s->kw & GK_KW_EXMINIMUM) && num_cmp(j, &s->exminimum) <= 0) {
        FAIL("/exclusiveMinimum", "exclusiveMinimum",
             "must be greater than %s", s->exminimum.text);
    }
    return ok;
}

static apr_size_t code_points(const char *s, apr_size_t len)
{
    apr_size_t i, n = 0;

    for (i = 0; i < len; i++) {
        n += ((unsigned char)s[i] & 0xc0) != 0x80;
    }
    return n;
}

static int v_string(vctx_t *c, const gk_schema_t *s, const json_t *j,
                    const ipath_t *ip, const kpath_t *kp)
{
    const char *str = json_string_value(j);
    apr_size_t len = json_string_length(j);
    int ok = 1;

    /* a code point is 1 to 4 bytes: count only when the bytes say
     * nothing */
    if ((s->kw & GK_KW_MAX_LENGTH) && len > s->max_length
        && code_points(str, len) > s->max_length) {
        FAIL("/maxLength", "maxLength",
             "must be at most %" APR_SIZE_T_FMT " %s", s->max_length,
             plural(s->max_length, "character", "characters"));
    }
    if ((s->kw & GK_KW_MIN_LENGTH) && len / 4 < s->min_length
        && (len < s->min_length || code_points(str, len) < s->min_length)) {
        FAIL("/minLength", "minLength",
             "must be at least %" APR_SIZE_T_FMT " %s", s->min_length,
             plural(s->min_length, "character", "characters"));
    }
    if (s->kw & GK_KW_PATTERN) {
        int m = gk_ecma_re_match_utf8(s->pattern, str, len);
        if (m < 0) {
            fatal(c, ip, kp, "/pattern", "pattern",
                  "could not be checked against the pattern within its "
                  "match limit",
                  1);
            return 0;
        }
        if (!m) {
            FAIL("/pattern", "pattern", "must match the pattern \"%s\"",
                 s->pattern_src);
        }
    }
    if ((s->kw & GK_KW_FORMAT) && c->o->formats_assert
        && !gk_format_check(s->format, str, len)) {
        FAIL("/format", "format", "%s", gk_format_message(s->format));
    }
    return ok;
}

static int v_array(vctx_t *c, const gk_schema_t *s, const json_t *j,
                   const ipath_t *ip, const kpath_t *kp)
{
    apr_size_t n = json_array_size(j), i, a, b;
    int ok = 1;
    ipath_t e;

    if ((s->kw & GK_KW_MAX_ITEMS) && n > s->max_items) {
        FAIL("/maxItems", "maxItems",
             "must have at most %" APR_SIZE_T_FMT " %s", s->max_items,
             plural(s->max_items, "item", "items"));
    }
    if ((s->kw & GK_KW_MIN_ITEMS) && n < s->min_items) {
        FAIL("/minItems", "minItems",
             "must have at least %" APR_SIZE_T_FMT " %s", s->min_items,
             plural(s->min_items, "item", "items"));
    }
    if ((s->kw & GK_KW_UNIQUE) && n > 1 && find_duplicate(c->p, j, &a, &b)) {
        FAIL("/uniqueItems", "uniqueItems",
             "must not have duplicate items (items %" APR_SIZE_T_FMT
             " and %" APR_SIZE_T_FMT " are equal)",
             a, b);
    }
    e.up = ip;
    e.key = NULL;
    e.klen = 0;
    if (s->items_one) {
        for (i = 0; i < n; i++) {
            e.ord = i;
            CHECK(sub(c, s->items_one, json_array_get(j, i), &e, kp));
        }
    }
    else if (s->items_arr) {
        for (i = 0; i < n; i++) {
            const gk_schema_edge_t *to = i < s->n_items ? &s->items_arr[i]
                                                        : s->additional_items;
            if (!to) {
                break;
            }
            e.ord = i;
            CHECK(sub(c, to, json_array_get(j, i), &e, kp));
        }
    }
    if (s->contains) {
        int found = 0;
        for (i = 0; i < n && !found; i++) {
            e.ord = i;
            found = test(c, s->contains, json_array_get(j, i), &e, kp);
            if (c->fatal) {
                return 0;
            }
        }
        if (!found) {
            FAIL("/contains", "contains",
                 "must contain at least one item that matches \"contains\"");
        }
    }
    return ok;
}

static const gk_schema_prop_t *find_prop(const gk_schema_t *s, const char *k,
                                         apr_size_t klen)
{
    apr_size_t lo = 0, hi = s->n_props;

    while (lo < hi) {
        apr_size_t mid = (lo + hi) / 2;
        const gk_schema_prop_t *p = &s->props[mid];
        int d = p->len != klen ? (p->len < klen ? -1 : 1)
                               : memcmp(p->name, k, klen);
        if (!d) {
            return p;
        }
        if (d < 0) {
            lo = mid + 1;
        }
        else {
            hi = mid;
        }
    }
    return NULL;
}

/* One member against properties, patternProperties,
 * additionalProperties and propertyNames. */
static int v_member(vctx_t *c, const gk_schema_t *s, const json_t *v,
                    const ipath_t *ip, const ipath_t *e, const kpath_t *kp)
{
    const gk_schema_prop_t *pp;
    int ok = 1, matched = 0;
    apr_size_t i;

    if (s->property_names) {
        json_t *name = json_stringn_nocheck(e->key, e->klen);
        int r = name && test(c, s->property_names, name, e, kp);
        json_decref(name);
        if (c->fatal) {
            return 0;
        }
        if (!r) {
            if (c->quiet) {
                return 0;
            }
            ok = 0;
            report(c, e, kp, "/propertyNames", "propertyNames",
                   "property name does not match \"propertyNames\"");
        }
    }
    if (s->n_props && (pp = find_prop(s, e->key, e->klen))) {
        matched = 1;
        CHECK(sub(c, &pp->e, v, e, kp));
    }
    for (i = 0; i < s->n_pprops; i++) {
        int m = gk_ecma_re_match_utf8(s->pprops[i].re, e->key, e->klen);
        if (m < 0) {
            fatal(c, e, kp, s->pprops[i].e.seg, "patternProperties",
                  "the property name could not be checked against the "
                  "pattern within its match limit",
                  1);
            return 0;
        }
        if (m) {
            matched = 1;
            CHECK(sub(c, &s->pprops[i].e, v, e, kp));
        }
    }
    if (!matched && s->additional_props) {
        CHECK(sub(c, s->additional_props, v, e, kp));
    }
    return ok;
}

static int v_object(vctx_t *c, const gk_schema_t *s, const json_t *j,
                    const ipath_t *ip, const kpath_t *kp)
{
    apr_size_t n = json_object_size(j), i, k;
    int ok = 1;

    if ((s->kw & GK_KW_MAX_PROPS) && n > s->max_props) {
        FAIL("/maxProperties", "maxProperties",
             "must have at most %" APR_SIZE_T_FMT " %s", s->max_props,
             plural(s->max_props, "property", "properties"));
    }
    if ((s->kw & GK_KW_MIN_PROPS) && n < s->min_props) {
        FAIL("/minProperties", "minProperties",
             "must have at least %" APR_SIZE_T_FMT " %s", s->min_props,
             plural(s->min_props, "property", "properties"));
    }
    for (i = 0; i < s->n_required; i++) {
        if (!json_object_getn(j, s->required[i].name, s->required[i].len)) {
            FAIL("/required", "required", "missing required property \"%s\"",
                 s->required[i].name);
        }
    }
    for (i = 0; i < s->n_deps; i++) {
        const gk_schema_dep_t *d = &s->deps[i];
        if (!json_object_getn(j, d->name, d->len)) {
            continue;
        }
        if (d->e.to) {
            CHECK(sub(c, &d->e, j, ip, kp));
            continue;
        }
        for (k = 0; k < json_array_size(d->names); k++) {
            const json_t *r = json_array_get(d->names, k);
            if (!json_object_getn(j, json_string_value(r),
                                  json_string_length(r))) {
                FAIL(d->e.seg, "dependencies",
                     "property \"%s\" requires property \"%s\"", d->name,
                     json_string_value(r));
            }
        }
    }
    if (s->n_props || s->n_pprops || s->additional_props
        || s->property_names) {
        void *it;
        ipath_t e;
        e.up = ip;
        e.ord = 0;
        for (it = json_object_iter((json_t *)j); it;
             it = json_object_iter_next((json_t *)j, it), e.ord++) {
            e.key = json_object_iter_key(it);
            e.klen = json_object_iter_key_len(it);
            CHECK(v_member(c, s, json_object_iter_value(it), ip, &e, kp));
        }
    }
    return ok;
}

static int v_applicators(vctx_t *c, const gk_schema_t *s, const json_t *j,
                         const ipath_t *ip, const kpath_t *kp)
{
    apr_size_t i;
    int ok = 1, n;

    for (i = 0; i < s->n_all_of; i++) {
        CHECK(sub(c, &s->all_of[i], j, ip, kp));
    }
    if (s->n_any_of) {
        for (i = 0; i < s->n_any_of && !test(c, &s->any_of[i], j, ip, kp);
             i++) {
        }
        if (c->fatal) {
            return 0;
        }
        if (i == s->n_any_of) {
            FAIL("/anyOf", "anyOf",
                 "must match at least one schema of "
                 "\"anyOf\"");
        }
    }
    if (s->n_one_of) {
        for (i = 0, n = 0; i < s->n_one_of && n < 2; i++) {
            n += test(c, &s->one_of[i], j, ip, kp);
        }
        if (c->fatal) {
            return 0;
        }
        if (n != 1) {
            FAIL("/oneOf", "oneOf",
                 n ? "must match exactly one schema of \"oneOf\", not "
                     "several"
                   : "must match exactly one schema of \"oneOf\"");
        }
    }
    if (s->not_) {
        n = test(c, s->not_, j, ip, kp);
        if (c->fatal) {
            return 0;
        }
        if (n) {
            FAIL("/not", "not", "must not match the \"not\" schema");
        }
    }
    if (s->if_ && (s->then_ || s->else_)) {
        int cond = test(c, s->if_, j, ip, kp);
        const gk_schema_edge_t *e = cond ? s->then_ : s->else_;
        if (c->fatal) {
            return 0;
        }
        if (e && !test(c, e, j, ip, kp)) {
            if (c->fatal) {
                return 0;
            }
            FAIL("/if", "if",
                 cond ? "must match the \"then\" schema"
                      : "must match the \"else\" schema");
        }
    }
    return ok;
}

static int v_node(vctx_t *c, const gk_schema_t *s, const json_t *j,
                  const ipath_t *ip, const kpath_t *kp)
{
    int ok = 1;
    apr_size_t i;

    if (s->boolean) {
        if (s->boolean == 1) {
            return 1;
        }
        FAIL(NULL, kp ? kp->kw : "false", "is not allowed");
        return 0;
    }
    if (s->ref) {
        return sub(c, s->ref, j, ip, kp);
    }
    if ((s->kw & GK_KW_TYPE) && !(type_bits(j) & s->types)) {
        FAIL("/type", "type", "%s", s->types_msg);
    }
    if (s->kw & GK_KW_ENUM) {
        for (i = 0; i < json_array_size(s->enum_v)
                    && !gk_schema_json_equal(j, json_array_get(s->enum_v, i));
             i++) {
        }
        if (i == json_array_size(s->enum_v)) {
            FAIL("/enum", "enum", "must be one of the allowed values");
        }
    }
    if ((s->kw & GK_KW_CONST) && !gk_schema_json_equal(j, s->const_v)) {
        FAIL("/const", "const", "must be equal to the constant");
    }
    switch (json_typeof(j)) {
    case JSON_INTEGER:
    case JSON_REAL:
        if (s->kw & GK_KW_NUMBER) {
            CHECK(v_number(c, s, j, ip, kp));
        }
        break;
    case JSON_STRING:
        if (s->kw & GK_KW_STRING) {
            CHECK(v_string(c, s, j, ip, kp));
        }
        break;
    case JSON_ARRAY:
        CHECK(v_array(c, s, j, ip, kp));
        break;
    case JSON_OBJECT:
        CHECK(v_object(c, s, j, ip, kp));
        break;
    default:
        break;
    }
    CHECK(v_applicators(c, s, j, ip, kp));
    return ok;
}

int gk_schema_validate(const gk_schema_t *sc, const json_t *instance,
                       const gk_schema_opts_t *opts, apr_pool_t *p,
                       gk_schema_result_t *res)
{
    vctx_t c;

    memset(res, 0, sizeof(*res));
    memset(&c, 0, sizeof(c));
    c.o = opts;
    c.p = p;
    c.res = res;
    c.max = opts->max_errors >= 1 ? opts->max_errors : 1;
    res->valid = v_node(&c, sc, instance, NULL, NULL) && !c.fatal;
    return res->valid;
}
