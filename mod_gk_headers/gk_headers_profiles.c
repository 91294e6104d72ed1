/*
 * The header sets of the GKSecurityHeaders profiles, and the set of a
 * scope with GKSecurityHeader / GKSecurityHeaderPolicy applied.
 *
 * The profiles are constant tables: a request of a scope without
 * overrides uses them as they are, with no allocation and no parsing.
 * docs/mod_gk_headers.md explains every value.
 */
#include "apr_strings.h"

#include "gk_headers_private.h"

#define OV GK_HEADERS_OVERRIDE
#define KB GK_HEADERS_KEEP_BACKEND

/* One header of a table, its name's length computed by the compiler. */
#define H(name, value, policy) {name, sizeof(name) - 1, value, policy}

/* Powerful features no ordinary page needs, denied to the page and to
 * every frame in it. */
#define PP_BASE                                                           \
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), "      \
    "geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "      \
    "midi=(), payment=(), usb=()"

/* strict: the same and the remaining device, sensor and tracking APIs. */
#define PP_STRICT                                                         \
    PP_BASE ", bluetooth=(), browsing-topics=(), hid=(), "                \
    "idle-detection=(), interest-cohort=(), serial=(), "                  \
    "xr-spatial-tracking=()"

#define COMMON_HEADERS                                                    \
    H("X-Content-Type-Options", "nosniff", OV),                           \
    H("X-Frame-Options", "DENY", OV),                                     \
    H("X-Permitted-Cross-Domain-Policies", "none", OV),                   \
    H("X-XSS-Protection", "0", OV),                                       \
    H("Cross-Origin-Opener-Policy", "same-origin", OV),                   \
    H("Cross-Origin-Resource-Policy", "same-origin", OV)

static const gk_headers_hdr_t api_headers[] = {
    COMMON_HEADERS,
    H("Referrer-Policy", "no-referrer", OV),
    H("Permissions-Policy", PP_BASE, OV),
    H("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'",
      OV),
    H("Cache-Control", "no-store", KB),
};

static const gk_headers_hdr_t html_headers[] = {
    COMMON_HEADERS,
    H("Referrer-Policy", "strict-origin-when-cross-origin", OV),
    H("Permissions-Policy", PP_BASE, OV),
    H("Content-Security-Policy",
      "default-src 'self'; object-src 'none'; base-uri 'self'; "
      "form-action 'self'; frame-ancestors 'none'",
      OV),
};

static const gk_headers_hdr_t strict_headers[] = {
    COMMON_HEADERS,
    H("Referrer-Policy", "no-referrer", OV),
    H("Permissions-Policy", PP_STRICT, OV),
    H("Content-Security-Policy",
      "default-src 'self'; object-src 'none'; base-uri 'none'; "
      "form-action 'self'; frame-ancestors 'none'; "
      "upgrade-insecure-requests",
      OV),
    H("Origin-Agent-Cluster", "?1", OV),
};

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

static gk_headers_set_t sets[] = {
    {NULL, 0, 0},
    {api_headers, N(api_headers), 0},
    {html_headers, N(html_headers), 0},
    {strict_headers, N(strict_headers), 0},
};

static apr_uint64_t lens_of(const gk_headers_hdr_t *h, int n)
{
    apr_uint64_t m = 0;
    int i;

    for (i = 0; i < n; i++) {
        m |= GK_HEADERS_LEN_BIT(h[i].nlen);
    }
    return m;
}

void gk_headers_profiles_init(void)
{
    int i;

    for (i = 0; i < N(sets); i++) {
        sets[i].lens = lens_of(sets[i].h, sets[i].n);
    }
}

/* What a backend says about its software: removed wherever a profile is
 * on. (Server is httpd's own; see ServerTokens.) */
const gk_headers_name_t gk_headers_removed[] = {
    {"X-Powered-By", 12}, {"X-AspNet-Version", 16},
    {"X-AspNetMvc-Version", 19}, {"X-Runtime", 9}, {NULL, 0}
};

const gk_headers_set_t *gk_headers_profile_set(gk_headers_profile_e p)
{
    return &sets[p >= GK_HEADERS_PROFILE_OFF && p <= GK_HEADERS_PROFILE_STRICT
                     ? p
                     : GK_HEADERS_PROFILE_OFF];
}

gk_headers_policy_e gk_headers_default_policy(const char *name)
{
    return strcasecmp(name, "Cache-Control") ? GK_HEADERS_OVERRIDE
                                             : GK_HEADERS_KEEP_BACKEND;
}

static gk_headers_hdr_t *find(apr_array_header_t *a, const char *name)
{
    int i;

    for (i = 0; i < a->nelts; i++) {
        gk_headers_hdr_t *h = &APR_ARRAY_IDX(a, i, gk_headers_hdr_t);
        if (!strcasecmp(h->name, name)) {
            return h;
        }
    }
    return NULL;
}

const gk_headers_set_t *gk_headers_effective_set(apr_pool_t *p,
                                                 const gk_headers_dir_conf_t *c)
{
    const gk_headers_set_t *base =
        gk_headers_profile_set(gk_headers_conf_profile(c));
    apr_array_header_t *a;
    gk_headers_set_t *out;
    int i;

    if (!c->overrides && !c->policies) {
        return base;
    }
    a = apr_array_make(p, base->n + 8, sizeof(gk_headers_hdr_t));
    for (i = 0; i < base->n; i++) {
        APR_ARRAY_PUSH(a, gk_headers_hdr_t) = base->h[i];
    }
    /* in order: a nested scope's line comes after its parent's, and the
     * last line for a name wins */
    for (i = 0; c->overrides && i < c->overrides->nelts; i++) {
        const gk_headers_override_t *o =
            &APR_ARRAY_IDX(c->overrides, i, gk_headers_override_t);
        gk_headers_hdr_t *h = find(a, o->name);
        if (!h) {
            h = apr_array_push(a);
            h->name = o->name;
            h->nlen = strlen(o->name);
            h->policy = gk_headers_default_policy(o->name);
        }
        h->value = o->value;
    }
    /* a policy applies to the headers of the set; for any other name the
     * module does nothing, so a policy alone never removes a header */
    for (i = 0; c->policies && i < c->policies->nelts; i++) {
        const gk_headers_policy_t *pl =
            &APR_ARRAY_IDX(c->policies, i, gk_headers_policy_t);
        gk_headers_hdr_t *h = find(a, pl->name);
        if (h) {
            h->policy = pl->policy;
        }
    }
    out = apr_palloc(p, sizeof(*out));
    out->h = (const gk_headers_hdr_t *)a->elts;
    out->n = a->nelts;
    out->lens = lens_of(out->h, out->n);
    return out;
}
