/*
 * The response filter GK_HEADERS_SECURITY: one copy of each security
 * header on every response of a scope with a profile.
 *
 * It is inserted from insert_filter (responses a handler makes) and from
 * insert_error_filter (httpd's own errors and redirects, and the early
 * answers of other modules through ap_die), so every handler is covered.
 * It runs at AP_FTYPE_PROTOCOL - 1: after every content filter (mod_headers'
 * included) and before httpd's HTTP_HEADER filter, which merges
 * err_headers_out into headers_out. At that point it sees every copy the
 * handler, a backend or another module set in either table, and leaves
 * exactly one, in headers_out.
 */
#include "apr_strings.h"
#include "http_protocol.h"
#include "util_filter.h"

#include "gk_csp.h"
#include "gk_hdr.h"
#include "gk_headers_private.h"
#include "mod_gk_headers.h"

static ap_filter_rec_t *sec_filter_handle;

#define HSTS "Strict-Transport-Security"

/* What the filter writes on one response. */
typedef struct {
    const gk_headers_set_t *set;    /* NULL: no profile */
    const char *hsts;               /* our HSTS value, NULL: none */
    int secure;                     /* the client's connection is secure */
    const char *nonce;              /* GKCSPNonce's, NULL: none */
    const gk_headers_cors_req_t *cors;  /* NULL: no CORS in the scope */
} sec_ctx_t;

static int is_csp(const char *name)
{
    return !strcasecmp(name, "Content-Security-Policy")
           || !strcasecmp(name, "Content-Security-Policy-Report-Only");
}

/* Remove every copy of name, from both tables. */
static void unset_both(request_rec *r, const char *name)
{
    apr_table_unset(r->headers_out, name);
    apr_table_unset(r->err_headers_out, name);
}

/* Vary: the handler's members, then ours; never replaced. */
void gk_headers_extend_vary(request_rec *r, const char *ours)
{
    const char *a = apr_table_getm(r->pool, r->headers_out, "Vary");
    const char *b = apr_table_getm(r->pool, r->err_headers_out, "Vary");
    const char *have = a && b ? apr_pstrcat(r->pool, a, ", ", b, NULL)
                              : a ? a : b;
    const char *v = gk_hdr_vary_merge(r->pool, have, ours);

    unset_both(r, "Vary");
    if (v) {
        apr_table_setn(r->headers_out, "Vary", v);
    }
}

/* What the handler's tables hold that concerns us: found in one pass over
 * the (few) fields there, so that a header nobody else set costs one
 * append and no table search. */
typedef struct {
    apr_uint64_t present;       /* set entries present (bit j: entry j) */
    int removed;                /* one of gk_headers_removed */
    int hsts;                   /* Strict-Transport-Security */
    int cache_control;          /* Cache-Control */
    int vary;                   /* Vary */
    int acx;                    /* an Access-Control-* field */
} scan_t;

#define MAX_BITS 64
/* The lengths of gk_headers_removed's names. */
#define REMOVED_LENS                                                      \
    (GK_HEADERS_LEN_BIT(9) | GK_HEADERS_LEN_BIT(12) | GK_HEADERS_LEN_BIT(16) \
     | GK_HEADERS_LEN_BIT(19))
#define PRESENT(sc, j) ((j) >= MAX_BITS || ((sc)->present >> (j)) & 1)

static void scan_table(const apr_table_t *t, const gk_headers_set_t *set,
                       scan_t *sc)
{
    const apr_array_header_t *a = apr_table_elts(t);
    const apr_table_entry_t *e = (const apr_table_entry_t *)a->elts;
    int i, j;

    for (i = 0; i < a->nelts; i++) {
        const char *k = e[i].key;
        apr_size_t n;
        if (!k) {
            continue;
        }
        n = strlen(k);
        /* a name of the set or the removal list has this length? */
        if (set && (set->lens & GK_HEADERS_LEN_BIT(n))) {
            for (j = 0; j < set->n && j < MAX_BITS; j++) {
                if (set->h[j].nlen == n && !strcasecmp(set->h[j].name, k)) {
                    sc->present |= (apr_uint64_t)1 << j;
                    break;
                }
            }
        }
        if (set && (REMOVED_LENS & GK_HEADERS_LEN_BIT(n))) {
            for (j = 0; gk_headers_removed[j].name; j++) {
                if (gk_headers_removed[j].nlen == n
                    && !strcasecmp(gk_headers_removed[j].name, k)) {
                    sc->removed = 1;
                }
            }
        }
        if (n == sizeof(HSTS) - 1 && !strcasecmp(k, HSTS)) {
            sc->hsts = 1;
        }
        if (n == 13 && !strcasecmp(k, "Cache-Control")) {
            sc->cache_control = 1;
        }
        else if (n == 4 && !strcasecmp(k, "Vary")) {
            sc->vary = 1;
        }
        else if (n > 15 && !strncasecmp(k, "Access-Control-", 15)) {
            sc->acx = 1;
        }
    }
}

static void apply(request_rec *r, const gk_headers_set_t *set,
                  const char *nonce, scan_t *sc)
{
    int i, sc_vary = 0;

    if (sc->removed) {
        for (i = 0; gk_headers_removed[i].name; i++) {
            unset_both(r, gk_headers_removed[i].name);
        }
    }
    for (i = 0; i < set->n; i++) {
        const gk_headers_hdr_t *h = &set->h[i];
        const char *v = h->value;

        if (h->nlen == 4 && !strcasecmp(h->name, "Vary")) {
            gk_headers_extend_vary(r, v);
            sc_vary = 1;
            continue;
        }
        if (PRESENT(sc, i)) {
            if (h->policy == GK_HEADERS_KEEP_BACKEND) {
                /* the handler's first copy */
                const char *mine = apr_table_get(r->headers_out, h->name);
                if (!mine) {
                    mine = apr_table_get(r->err_headers_out, h->name);
                }
                if (mine) {
                    v = mine;
                }
            }
            unset_both(r, h->name);
        }
        if (nonce && v == h->value && v && is_csp(h->name)) {
            v = gk_csp_add_nonce(r->pool, v, nonce);
        }
        if (v) {
            /* no copy is left in either table: an append is a set */
            apr_table_addn(r->headers_out, h->name, v);
        }
    }
    sc->vary |= sc_vary;
}

/* RFC 6797 §7.2: never over plain HTTP, not even a backend's copy; over
 * HTTPS ours when configured (one copy), else the backend's passes. */
static void apply_hsts(request_rec *r, const sec_ctx_t *ctx,
                       const scan_t *sc)
{
    if (ctx->hsts) {
        if (sc->hsts) {
            unset_both(r, HSTS);
        }
        apr_table_addn(r->headers_out, HSTS, ctx->hsts);
    }
    else if (!ctx->secure && sc->hsts) {
        unset_both(r, HSTS);
    }
}

static apr_status_t sec_out_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    const sec_ctx_t *ctx = f->ctx;
    request_rec *r = f->r;
    scan_t sc = {0, 0, 0, 0, 0, 0};

    scan_table(r->headers_out, ctx->set, &sc);
    scan_table(r->err_headers_out, ctx->set, &sc);
    if (ctx->set) {
        apply(r, ctx->set, ctx->nonce, &sc);
    }
    apply_hsts(r, ctx, &sc);
    if (ctx->cors) {
        gk_headers_cors_apply(r, ctx->cors, sc.acx, sc.vary);
    }
    /* a page with a nonce is not for shared caches, unless the handler
     * decided its caching itself (a profile's no-store stays) */
    if (ctx->nonce && !sc.cache_control
        && !apr_table_get(r->headers_out, "Cache-Control")) {
        apr_table_addn(r->headers_out, "Cache-Control", "private");
    }
    ap_remove_output_filter(f);
    return ap_pass_brigade(f->next, bb);
}

void gk_headers_register_filters(void)
{
    gk_headers_register_problem_filter();
    sec_filter_handle = ap_register_output_filter(
        "GK_HEADERS_SECURITY", sec_out_filter, NULL,
        (ap_filter_type)(AP_FTYPE_PROTOCOL - 1));
}

static void insert(request_rec *r)
{
    const gk_headers_dir_conf_t *c;
    const gk_headers_srv_conf_t *sc;
    const char *hsts;
    const gk_headers_cors_req_t *cors;
    sec_ctx_t *ctx;
    int on;

    if (r->main) {
        return;                 /* a subrequest's output is its parent's */
    }
    c = ap_get_module_config(r->per_dir_config, &gk_headers_module);
    sc = gk_headers_srv_conf(r->server);
    on = c && gk_headers_conf_profile(c) != GK_HEADERS_PROFILE_OFF;
    hsts = gk_headers_conf_hsts(sc);
    cors = gk_headers_cors_decision(r);
    if (!on && !hsts && !cors && !gk_headers_conf_nonce(sc)) {
        return;
    }
    ctx = apr_palloc(r->pool, sizeof(*ctx));
    ctx->set = on ? gk_headers_effective_set(r->pool, c) : NULL;
    ctx->secure = gk_headers_is_secure(r, sc);
    ctx->hsts = ctx->secure ? hsts : NULL;
    ctx->nonce = gk_headers_nonce(r);
    ctx->cors = cors;
    ap_add_output_filter_handle(sec_filter_handle, ctx, r, r->connection);
}

void gk_headers_insert_filter(request_rec *r)
{
    insert(r);
    gk_headers_insert_problem(r, 0);
}

void gk_headers_insert_error_filter(request_rec *r)
{
    insert(r);
    gk_headers_insert_problem(r, 1);
}
