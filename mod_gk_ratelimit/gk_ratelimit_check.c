/*
 * The limits of a request: counted in access_checker (keys ip, header,
 * env, global: before authentication, so they protect the token
 * verifier) or in fixups (a key list with user: once the user is known).
 *
 * Each applying limit (its methods=, if any, include the request's)
 * derives its key: the first of its key list that is not empty. A request
 * with no key for a limit is not counted by it (logged at debug): never
 * one shared counter by accident. The counter is the store's atomic
 * create-or-increment of a hashed key (common/gk_rate.c: the site, the
 * name, the key kind, the .htaccess directory, the key value and the
 * window's start, under SipHash-2-4): no address, user or API key is ever
 * stored. Every applying limit counts the request; it is refused when it
 * is over any of them (mode=enforce). A request is counted once per limit:
 * an internal redirect (mod_rewrite's [PT] in a <Directory>) is counted
 * by the limits of its new URL that have not counted it yet; the request
 * of an ErrorDocument and subrequests are never counted.
 *
 * A refusal is the limit's status (429) through httpd's error path, with
 * Retry-After, the RateLimit fields and a problem+json body; the notes of
 * mod_gk_ratelimit.h and an audit event record it.
 */
#include "apr_strings.h"
#include "http_protocol.h"

#include "gk_ap_logfns.h"
#include "gk_ratelimit_private.h"
#include "gk_reason.h"
#include "mod_gk_ratelimit.h"

/* One limit's outcome on this request, for the RateLimit fields. */
typedef struct {
    const gk_rl_limit_t *limit;
    apr_uint64_t remaining;
    apr_int64_t reset;
} rl_seen_t;

#define SEEN_MAX 16

/* The module's state of a request. */
typedef struct {
    gk_ap_problem_t problem;    /* of the request answered */
    /* of the client's request (the first of an internal redirect chain) */
    rl_seen_t seen[SEEN_MAX];   /* enforced limits that counted it */
    int nseen;
    const gk_rl_limit_t *counted[SEEN_MAX]; /* every limit that counted it */
    int ncounted;
    int noted;                  /* the notes are set: replace them */
    int fielded;                /* the RateLimit fields are set */
} rl_req_t;

static rl_req_t *req_state(request_rec *r, int create)
{
    rl_req_t *st = ap_get_module_config(r->request_config,
                                        &gk_ratelimit_module);

    if (!st && create) {
        /* the arrays are read up to their counts only */
        st = apr_palloc(r->pool, sizeof(*st));
        memset(&st->problem, 0, sizeof(st->problem));
        st->nseen = st->ncounted = st->noted = st->fielded = 0;
        ap_set_module_config(r->request_config, &gk_ratelimit_module, st);
    }
    return st;
}

gk_ap_problem_t *gk_rl_problem_slot(request_rec *r, int create)
{
    rl_req_t *st = req_state(r, create);

    return st ? &st->problem : NULL;
}

/* ---- mod_gk_log's audit events -------------------------------------- */

static APR_OPTIONAL_FN_TYPE(gk_log_audit) *audit_fn;

void gk_rl_retrieve_fns(void)
{
    gk_ap_problem_retrieve_fns();
    audit_fn = APR_RETRIEVE_OPTIONAL_FN(gk_log_audit);
}

static void audit(request_rec *r, const char *action, const char *outcome,
                  gk_reason_e reason, const gk_rl_limit_t *l)
{
    apr_table_t *fields;

    if (!audit_fn) {
        return;
    }
    fields = apr_table_make(r->pool, 2);
    apr_table_setn(fields, "limit", l->name);
    apr_table_setn(fields, "rate", gk_rate_text(r->pool, &l->rate));
    audit_fn(r, "web", action, outcome, gk_reason_name(reason), fields);
}

/* ---- store errors, said once a minute per process ------------------- */

static volatile apr_uint32_t last_said;

static void store_failed(request_rec *r, gk_store_result_e res,
                         const gk_rl_limit_t *l)
{
    if (gk_ap_once_per(&last_said, 60)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, GKLOGNO(30006)
                      "rate limit %s (%s): the store answered %s; "
                      "GKRateLimitOnStoreError %s applies (said once a "
                      "minute)", l->name, l->where,
                      res == GK_STORE_FULL
                          ? "full (raise GKRateLimitStore shm size=)"
                          : gk_store_result_name(res),
                      gk_rl_conf_deny_on_error(ap_get_module_config(
                          r->server->module_config, &gk_ratelimit_module))
                          ? "deny"
                          : "allow");
    }
}

/* ---- keys ----------------------------------------------------------------- */

/* The value of one key of the list for r, or NULL when it has none. */
static const void *key_value(request_rec *r, const gk_rate_key_t *k,
                             unsigned char *ipbuf, apr_size_t *len)
{
    const char *v = NULL;

    switch (k->kind) {
    case GK_RATE_KEY_IP:
        /* the address httpd (or mod_remoteip) already parsed */
        if (r->useragent_addr
            && (r->useragent_addr->family == APR_INET
#if APR_HAVE_IPV6
                || r->useragent_addr->family == APR_INET6
#endif
                )) {
            return gk_rate_ip_group_raw(
                       r->useragent_addr->family == APR_INET ? 4 : 6,
                       r->useragent_addr->ipaddr_ptr, k->prefix6, ipbuf,
                       len)
                       ? ipbuf
                       : NULL;
        }
        if (!r->useragent_ip
            || !gk_rate_ip_group(r->useragent_ip, k->prefix6, ipbuf, len)) {
            return NULL;
        }
        return ipbuf;
    case GK_RATE_KEY_USER:
        v = r->user;
        break;
    case GK_RATE_KEY_HEADER:
        v = apr_table_get(r->headers_in, k->name);
        break;
    case GK_RATE_KEY_ENV:
        v = apr_table_get(r->subprocess_env, k->name);
        break;
    case GK_RATE_KEY_GLOBAL:
        *len = 0;
        return "";
    default:
        return NULL;
    }
    if (!v || !*v) {
        return NULL;
    }
    *len = strlen(v);
    return v;
}

/* ---- the fields ---------------------------------------------------------- */

/* Write v in decimal at p; returns the end. */
static char *put_u64(char *p, apr_uint64_t v)
{
    char tmp[20];
    int n = 0;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) {
        *p++ = tmp[--n];
    }
    return p;
}

/* The RateLimit item of one limit: "NAME";r=R;t=T (no formatting
 * library on the request path: this runs on every request). */
static char *put_item(char *p, const rl_seen_t *s)
{
    apr_size_t n = s->limit->name_len;

    *p++ = '"';
    memcpy(p, s->limit->name, n);
    p += n;
    memcpy(p, "\";r=", 4);
    p = put_u64(p + 4, s->remaining);
    memcpy(p, ";t=", 3);
    return put_u64(p + 3, (apr_uint64_t)s->reset);
}

static void set_fields(request_rec *r, rl_req_t *st)
{
    apr_size_t plen = 0, rlen = 0;
    char *policy, *now, *pp, *rp;
    int i;

    if (!st->nseen) {
        return;
    }
    /* one limit (the usual case): its policy item is the field */
    for (i = 0; i < st->nseen; i++) {
        plen += st->seen[i].limit->policy_len + 2;
        rlen += st->seen[i].limit->name_len + 2 + 4 + 20 + 3 + 20 + 2;
    }
    rp = now = apr_palloc(r->pool, rlen + 1);
    pp = policy = st->nseen == 1 ? NULL : apr_palloc(r->pool, plen + 1);
    for (i = 0; i < st->nseen; i++) {
        if (i) {
            *rp++ = ',';
            *rp++ = ' ';
        }
        rp = put_item(rp, &st->seen[i]);
        if (pp) {
            apr_size_t n = st->seen[i].limit->policy_len;
            if (i) {
                *pp++ = ',';
                *pp++ = ' ';
            }
            memcpy(pp, st->seen[i].limit->policy, n);
            pp += n;
        }
    }
    *rp = '\0';
    if (pp) {
        *pp = '\0';
    }
    else {
        policy = (char *)st->seen[0].limit->policy;
    }
    if (st->fielded) {
        apr_table_setn(r->err_headers_out, "RateLimit-Policy", policy);
        apr_table_setn(r->err_headers_out, "RateLimit", now);
    }
    else {
        /* the first time: nobody else sets them (an append is a set) */
        apr_table_addn(r->err_headers_out, "RateLimit-Policy", policy);
        apr_table_addn(r->err_headers_out, "RateLimit", now);
        st->fielded = 1;
    }
}

static void set_notes(request_rec *r, rl_req_t *st, const char *outcome,
                      gk_reason_e reason, const gk_rl_limit_t *l,
                      apr_uint64_t remaining)
{
    char *num = apr_palloc(r->pool, 21);
    void (*put)(apr_table_t *, const char *, const char *) =
        st->noted ? apr_table_setn : apr_table_addn;

    *put_u64(num, remaining) = '\0';
    put(r->notes, GK_RATELIMIT_NOTE_OUTCOME, outcome);
    put(r->notes, GK_RATELIMIT_NOTE_REASON, gk_reason_name(reason));
    put(r->notes, GK_RATELIMIT_NOTE_NAME, l->name);
    put(r->notes, GK_RATELIMIT_NOTE_REMAINING, num);
    st->noted = 1;
}

/* ---- the check ------------------------------------------------------------ */

/* The request the client sent: r, or the first of its internal
 * redirects' chain. NULL when r is an error document's request (an
 * ErrorDocument of any status: its limits are never counted). */
static request_rec *client_request(request_rec *r)
{
    while (r->prev) {
        r = r->prev;
        if (r->status != HTTP_OK) {
            return NULL;
        }
    }
    return r;
}

/* Has the client's request already been counted by l (on its way through
 * an internal redirect)? Marks it. */
static int counted_before(rl_req_t *st, const gk_rl_limit_t *l)
{
    int i;

    for (i = 0; i < st->ncounted; i++) {
        if (st->counted[i] == l) {
            return 1;
        }
    }
    if (st->ncounted < SEEN_MAX) {
        st->counted[st->ncounted++] = l;
    }
    return 0;
}

/* The notes from every limit that applied so far (both phases): the one
 * with the fewest requests left. */
static void note_fewest(request_rec *o, rl_req_t *st)
{
    const rl_seen_t *f = NULL;
    int i;

    for (i = 0; i < st->nseen; i++) {
        if (!f || st->seen[i].remaining < f->remaining) {
            f = &st->seen[i];
        }
    }
    if (f) {
        set_notes(o, st, "success", GK_REASON_OK, f->limit, f->remaining);
    }
}

/* Will the core switch r's connection to another protocol (an HTTP/1.1
 * request with Upgrade: h2c that mod_http2 accepts)? The core does it in
 * the handler phase, answers 101, and the request is served again as the
 * first stream of the new protocol, which is counted then: not here too.
 * The same test as the core's upgrade handler. */
static int switches_protocol(request_rec *r)
{
    conn_rec *c = r->connection;
    apr_array_header_t *offers = NULL;
    const char *up, *conn, *proto;

    if (c->master || !(up = apr_table_get(r->headers_in, "Upgrade"))
        || !*up || !(conn = apr_table_get(r->headers_in, "Connection"))
        || !ap_find_token(r->pool, conn, "upgrade")
        || ap_parse_token_list_strict(r->pool, up, &offers, 0) || !offers
        || !offers->nelts) {
        return 0;
    }
    proto = ap_select_protocol(c, r, NULL, offers);
    return proto && strcmp(proto, ap_get_protocol(c));
}

static int check(request_rec *r, int when)
{
    const gk_rl_dir_conf_t *c;
    const gk_rl_srv_conf_t *sc = NULL;
    const gk_rl_limit_t *refused = NULL, *reported = NULL;
    const gk_rl_limit_t *failed = NULL;     /* the store failed for it */
    int failed_deny = 0, counted = 0, binary;
    apr_int64_t retry = 0;
    apr_int64_t now;
    gk_store_t *store;
    request_rec *o;
    rl_req_t *st = NULL;
    int i, j, status = DECLINED;

    if (r->main) {
        return DECLINED;        /* a subrequest: counted as its parent */
    }
    c = ap_get_module_config(r->per_dir_config, &gk_ratelimit_module);
    if (!c || !c->limits || !(o = client_request(r))) {
        return DECLINED;
    }
    now = apr_time_sec(o->request_time);
    store = gk_rl_store();
    binary = store && !strcmp(store->ops->name, "shm");
    for (i = 0; i < c->limits->nelts; i++) {
        const gk_rl_limit_t *l = APR_ARRAY_IDX(c->limits, i,
                                               const gk_rl_limit_t *);
        unsigned char ipbuf[17];
        char key[GK_RATE_COUNTER_KEY_SIZE];
        const void *v = NULL;
        apr_size_t vlen = 0, klen;
        apr_uint64_t count = 0, left;
        gk_store_result_e res;
        int kind = 0;

        if (l->off || l->when != when
            || (l->methods
                && !(l->methods & (AP_METHOD_BIT << r->method_number)))) {
            continue;
        }
        if (!st) {
            /* the first limit that applies: worth the look at Upgrade */
            if (switches_protocol(r)) {
                return DECLINED;
            }
            st = req_state(o, 1);
        }
        for (j = 0; j < l->nkeys && !v; j++) {
            v = key_value(r, &l->keys[j], ipbuf, &vlen);
            kind = l->keys[j].kind;
        }
        if (!v) {
            ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, GKLOGNO(30007)
                          "rate limit %s: the request has no key, not "
                          "counted", l->name);
            continue;
        }
        if (counted_before(st, l)) {
            continue;
        }
        counted = 1;
        if (!sc) {
            sc = ap_get_module_config(r->server->module_config,
                                      &gk_ratelimit_module);
        }
        if (binary) {
            /* the shm store takes binary keys: the hash and the window */
            apr_uint64_t h = gk_rate_counter_hash(gk_rl_key(), sc->site_id,
                                                  l->id, kind, v, vlen);
            apr_uint64_t w = (apr_uint64_t)gk_rate_window_start(&l->rate,
                                                                now);
            memcpy(key, &h, 8);
            memcpy(key + 8, &w, 8);
            klen = 16;
        }
        else {
            klen = gk_rate_counter_key_ids(
                key, sizeof(key), gk_rl_key(), sc->site_id, l->id, kind, v,
                vlen, (apr_uint64_t)gk_rate_window_start(&l->rate, now));
        }
        if (store && klen) {
            gk_rl_store_begin(r);
            res = gk_store_incr(store, key, klen, 1, 1,
                                gk_rate_expires(&l->rate, now), now, &count);
            gk_rl_store_end();
        }
        else {
            res = GK_STORE_DOWN;
        }
        if (res != GK_STORE_OK) {
            store_failed(r, res, l);
            failed = l;
            failed_deny |= l->mode == GK_RL_ENFORCE
                           && gk_rl_conf_deny_on_error(sc);
            continue;
        }
        left = count >= l->rate.limit ? 0 : l->rate.limit - count;
        if (count > l->rate.limit) {
            if (l->mode == GK_RL_REPORT) {
                reported = l;
                if (count == (apr_uint64_t)l->rate.limit + 1) {
                    /* the first request over the limit in its window, on
                     * every front end: said once, not per request */
                    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r,
                                  GKLOGNO(30008) "rate limit %s (%s) would "
                                  "refuse this request and the next ones "
                                  "of its key in this window (mode=report)",
                                  l->name, gk_rate_text(r->pool, &l->rate));
                    audit(r, "rate-limit-report", "success",
                          GK_REASON_RATE_LIMIT_REPORT, l);
                }
                continue;
            }
            if (!refused || gk_rate_reset(&l->rate, now) > retry) {
                retry = gk_rate_reset(&l->rate, now);
                refused = l;
                status = l->status;
            }
        }
        if (l->mode == GK_RL_REPORT) {
            continue;           /* reported limits send no fields */
        }
        if (st->nseen < SEEN_MAX) {
            st->seen[st->nseen].limit = l;
            st->seen[st->nseen].remaining = left;
            st->seen[st->nseen].reset = gk_rate_reset(&l->rate, now);
            st->nseen++;
        }
    }
    if (!counted) {
        return DECLINED;        /* nothing new: fields and notes stand */
    }
    if (gk_rl_conf_headers(c)) {
        set_fields(r, st);
    }
    if (status != DECLINED) {
        set_notes(o, st, "failure", GK_REASON_RATE_LIMITED, refused, 0);
        apr_table_setn(r->err_headers_out, "Retry-After",
                       apr_psprintf(r->pool, "%" APR_INT64_T_FMT, retry));
        gk_ap_problem_set(r, status, GK_REASON_RATE_LIMITED, NULL);
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, GKLOGNO(30009)
                      "rate limit %s (%s) refused the request: retry in %"
                      APR_INT64_T_FMT " s", refused->name,
                      gk_rate_text(r->pool, &refused->rate), retry);
        audit(r, "rate-limit-exceeded", "failure", GK_REASON_RATE_LIMITED,
              refused);
        return status;
    }
    if (failed_deny) {
        set_notes(o, st, "failure", GK_REASON_STORE_ERROR, failed, 0);
        apr_table_setn(r->err_headers_out, "Retry-After", "1");
        gk_ap_problem_set(r, HTTP_SERVICE_UNAVAILABLE, GK_REASON_STORE_ERROR,
                          NULL);
        audit(r, "rate-limit-store-error", "failure", GK_REASON_STORE_ERROR,
              failed);
        return HTTP_SERVICE_UNAVAILABLE;
    }
    if (failed) {
        /* let through (GKRateLimitOnStoreError allow, or mode=report) */
        set_notes(o, st, "success", GK_REASON_STORE_ERROR, failed, 0);
    }
    else if (st->nseen) {
        note_fewest(o, st);
    }
    else if (reported) {
        set_notes(o, st, "success", GK_REASON_RATE_LIMIT_REPORT, reported,
                  0);
    }
    return DECLINED;
}

int gk_rl_access_checker(request_rec *r)
{
    return check(r, GK_RL_IN_ACCESS);
}

int gk_rl_fixups(request_rec *r)
{
    return check(r, GK_RL_IN_FIXUPS);
}
