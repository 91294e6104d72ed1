/*
 * The memcached store (gk_store_mc.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apr_strings.h>
#include <apr_tables.h>

#include <libmemcached/memcached.h>
#include <libmemcachedutil-1.0/util.h>

#include "gk_store_mc.h"

/* Times an incr/decr is sent again after losing a race to create its
 * key (memcached answers NOT_STORED to the loser). */
#define CREATE_RETRIES 3

/* Keys of get_multi kept on the stack; more are allocated. */
#define MULTI_STACK 16

/* set_all's groups: "gk:all:N", N tried from 0 until ketama maps one to
 * each server; the longest such string, and the most N tried per server
 * before the store is refused (a server of tiny weight). */
#define ALL_GROUP_MAX 32
#define ALL_GROUP_TRIES 100000

/* One store: its gk_store_t first, the master handle the pooled ones are
 * cloned from, the pool, a breaker per server and the counters. */
typedef struct {
    gk_store_t store;
    memcached_st *master;
    memcached_pool_st *pool;
    gk_breaker_t *breakers;     /* one per server, in the handle's order */
    apr_uint32_t nservers;
    char (*all)[ALL_GROUP_MAX]; /* per server: a group ketama maps to it
                                 * (set_all's), with the prefix */
    apr_size_t *all_len;
    gk_store_mc_event_fn on_event;
    void *event_baton;
    gk_store_mc_clock_fn clock;
    void *clock_baton;
    volatile apr_uint32_t calls;
    volatile apr_uint32_t network;
    volatile apr_uint32_t shed;
    volatile apr_uint32_t pool_empty;
    volatile apr_uint32_t timeouts;
    volatile apr_uint32_t down;
    volatile apr_uint32_t errors;
    volatile apr_uint32_t retries;
    volatile apr_uint32_t reconnects;
} mc_store_t;

static const gk_store_ops_t mc_ops;

/* ---- configuration ------------------------------------------------------ */

/* An option's verdict: accepted, or refused with a reason. */
typedef struct {
    const char *name;   /* upper case, without "--" */
    int value;          /* 1: needs "=VALUE"; 0: takes none */
    const char *refuse; /* NULL: accepted; else why it is refused */
} mc_rule_t;

#define R_EXACT "would break exact counting"
#define R_SPREAD                                                             \
    "would spread or move keys differently (Gatekeeper sets consistent "     \
    "ketama hashing and never moves a key)"
#define R_TIMEOUT                                                            \
    "is set by Gatekeeper (GKRateLimitStoreTimeout), not in the string"
#define R_POOL "is set by Gatekeeper (the pool is sized to the threads)"
#define R_NS "is not used: Gatekeeper prefixes its keys itself"

/* Every option Gatekeeper knows; any other one is refused. */
static const mc_rule_t rules[] = {
    {"SERVER", 1, NULL},
    {"SOCKET", 1, NULL},
    {"BINARY-PROTOCOL", 0, NULL},
    {"TCP-NODELAY", 0, NULL},
    {"TCP-KEEPALIVE", 0, NULL},
    {"TCP-KEEPIDLE", 0, NULL},
    {"SOCKET-SEND-SIZE", 1, NULL},
    {"SOCKET-RECV-SIZE", 1, NULL},
    {"SUPPORT-CAS", 0, NULL},
    {"NOREPLY", 0, R_EXACT " (replies are never read)"},
    {"BUFFER-REQUESTS", 0, R_EXACT " (requests are sent late)"},
    {"USE-UDP", 0, R_EXACT " (UDP loses requests)"},
    {"NUMBER-OF-REPLICAS", 1, R_SPREAD},
    {"RANDOMIZE-REPLICA-READ", 0, R_SPREAD},
    {"DISTRIBUTION", 1, R_SPREAD},
    {"HASH", 1, R_SPREAD},
    {"REMOVE-FAILED-SERVERS", 1, R_SPREAD},
    {"SORT-HOSTS", 0, R_SPREAD},
    {"CONNECT-TIMEOUT", 1, R_TIMEOUT},
    {"POLL-TIMEOUT", 1, R_TIMEOUT},
    {"RCV-TIMEOUT", 1, R_TIMEOUT},
    {"SND-TIMEOUT", 1, R_TIMEOUT},
    {"RETRY-TIMEOUT", 1, R_TIMEOUT},
    {"IO-MSG-WATERMARK", 1, "bounds nothing Gatekeeper needs"},
    {"IO-BYTES-WATERMARK", 1, "bounds nothing Gatekeeper needs"},
    {"IO-KEY-PREFETCH", 1, "bounds nothing Gatekeeper needs"},
    {"POOL-MIN", 1, R_POOL},
    {"POOL-MAX", 1, R_POOL},
    {"NAMESPACE", 1, R_NS},
    {"HASH-WITH-NAMESPACE", 0, R_NS},
    {"ENCODING-KEY", 1, R_EXACT " (values would be encrypted, so never "
                        "incremented)"},
    {"CONFIGURE-FILE", 1, "is not allowed: write the options in the string"},
    {"FETCH-VERSION", 0, "is not allowed: it costs a round trip"},
    {"VERIFY-KEY", 0, "is not allowed with the binary protocol"},
    {"USER-DATA", 0, "is not allowed"},
};

/* The rule of an option name, or NULL. */
static const mc_rule_t *find_rule(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        if (strcmp(rules[i].name, name) == 0) {
            return &rules[i];
        }
    }
    return NULL;
}

/* Is c allowed in an option name? */
static int name_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '-';
}

/* A short printable excerpt of s (at most 40 bytes, "..." when cut) for
 * messages; s is printable ASCII already. */
static const char *excerpt(apr_pool_t *p, const char *s, apr_size_t len)
{
    if (len > 40) {
        return apr_pstrcat(p, apr_pstrmemdup(p, s, 40), "...", NULL);
    }
    return apr_pstrmemdup(p, s, len);
}

const char *gk_store_mc_conf_scan(apr_pool_t *p, const char *conf,
                                  apr_array_header_t **opts)
{
    apr_array_header_t *a;
    apr_size_t len, i;

    *opts = NULL;
    if (conf == NULL) {
        return "no configuration string";
    }
    len = strlen(conf);
    if (len > GK_STORE_MC_CONF_MAX) {
        return apr_psprintf(p, "configuration string longer than %d bytes",
                            GK_STORE_MC_CONF_MAX);
    }
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)conf[i];
        if (c < 0x20 || c > 0x7e) {
            return apr_psprintf(p,
                                "configuration string: a control or non-ASCII "
                                "character (0x%02X) at offset %" APR_SIZE_T_FMT
                                "; separate options with spaces",
                                c, i);
        }
    }
    a = apr_array_make(p, 4, sizeof(gk_store_mc_opt_t));
    i = 0;
    for (;;) {
        apr_size_t start, name_start, name_end, j;
        gk_store_mc_opt_t *o;
        char *name;

        if (i == len) {
            break;
        }
        if (conf[i] == ' ') {
            return "configuration string: options are separated by exactly "
                   "one space, with none before the first or after the last";
        }
        start = i;
        if (len - i < 2 || conf[i] != '-' || conf[i + 1] != '-') {
            apr_size_t e = i;
            while (e < len && conf[e] != ' ') {
                e++;
            }
            return apr_psprintf(p, "\"%s\" is not an option (--NAME or "
                                   "--NAME=VALUE)",
                                excerpt(p, conf + i, e - i));
        }
        name_start = i + 2;
        for (j = name_start; j < len && name_char(conf[j]); j++) {
        }
        name_end = j;
        if (name_end == name_start
            || (j < len && conf[j] != '=' && conf[j] != ' ')) {
            apr_size_t e = i;
            while (e < len && conf[e] != ' ') {
                e++;
            }
            return apr_psprintf(p, "\"%s\": a bad option name",
                                excerpt(p, conf + i, e - i));
        }
        o = &APR_ARRAY_PUSH(a, gk_store_mc_opt_t);
        name = apr_pstrmemdup(p, conf + name_start, name_end - name_start);
        for (j = 0; name[j]; j++) {
            if (name[j] >= 'a' && name[j] <= 'z') {
                name[j] = (char)(name[j] - 'a' + 'A');
            }
        }
        o->name = name;
        o->value = NULL;
        i = name_end;
        if (i < len && conf[i] == '=') {
            apr_size_t vstart = ++i;
            while (i < len && conf[i] != ' ') {
                if (conf[i] == '"') {
                    i++;
                    while (i < len && conf[i] != '"') {
                        if (conf[i] == '\\') {
                            i++;
                            if (i == len) {
                                break;
                            }
                        }
                        i++;
                    }
                    if (i >= len) {
                        return apr_psprintf(p, "--%s: an unterminated "
                                               "quoted value",
                                            name);
                    }
                }
                i++;
            }
            if (i == vstart) {
                return apr_psprintf(p, "--%s=: an empty value", name);
            }
            o->value = apr_pstrmemdup(p, conf + vstart, i - vstart);
        }
        if (i < len) {
            i++; /* the space; what follows must be an option */
            if (i == len) {
                return "configuration string: options are separated by "
                       "exactly one space, with none before the first or "
                       "after the last";
            }
        }
        (void)start;
    }
    *opts = a;
    return NULL;
}

const char *gk_store_mc_check_config(apr_pool_t *p, const char *conf)
{
    apr_array_header_t *opts;
    const char *err;
    char buf[1024];
    int i, servers = 0;

    if ((err = gk_store_mc_conf_scan(p, conf, &opts)) != NULL) {
        return err;
    }
    for (i = 0; i < opts->nelts; i++) {
        const gk_store_mc_opt_t *o = &APR_ARRAY_IDX(opts, i,
                                                    gk_store_mc_opt_t);
        const mc_rule_t *r = find_rule(o->name);

        if (r == NULL) {
            return apr_psprintf(p, "--%s: an unknown or unsupported option",
                                excerpt(p, o->name, strlen(o->name)));
        }
        if (r->refuse) {
            return apr_psprintf(p, "--%s %s", r->name, r->refuse);
        }
        if (r->value && o->value == NULL) {
            return apr_psprintf(p, "--%s needs a value (--%s=...)", r->name,
                                r->name);
        }
        if (!r->value && o->value != NULL) {
            return apr_psprintf(p, "--%s takes no value", r->name);
        }
        if (strcmp(r->name, "SERVER") == 0 || strcmp(r->name, "SOCKET") == 0) {
            servers++;
        }
    }
    if (servers == 0) {
        return "no server: give at least one --SERVER=HOST:PORT "
               "(or --SOCKET=PATH)";
    }
    buf[0] = '\0';
    if (libmemcached_check_configuration(conf, strlen(conf), buf,
                                         sizeof(buf))
        != MEMCACHED_SUCCESS) {
        apr_size_t k;
        char *msg = apr_pstrdup(p, buf[0] ? buf : "invalid");
        char *cut;
        /* drop libmemcached's "(0x<address>) " and " -> <source>:<line>" */
        if (msg[0] == '(' && msg[1] == '0' && msg[2] == 'x'
            && (cut = strstr(msg, ") ")) != NULL) {
            msg = cut + 2;
        }
        if ((cut = strstr(msg, " -> ")) != NULL) {
            *cut = '\0';
        }
        for (k = 0; msg[k]; k++) {
            if ((unsigned char)msg[k] < 0x20 || (unsigned char)msg[k] > 0x7e) {
                msg[k] = '?';
            }
        }
        return apr_psprintf(p, "libmemcached refuses the string: %s", msg);
    }
    return NULL;
}

apr_int64_t gk_store_mc_exptime(apr_int64_t expires, apr_int64_t now)
{
    if (expires == GK_STORE_NO_EXPIRY) {
        return 0;
    }
    if (expires < 0 || expires <= now) {
        return -1;
    }
    if (now >= 0 && expires - now <= GK_STORE_MC_RELATIVE_MAX) {
        return expires - now;
    }
    /* absolute; 0xffffffff is the binary protocol's "do not create" */
    if (expires >= (apr_int64_t)0xffffffffLL) {
        return -1;
    }
    return expires;
}

/* ---- the store ---------------------------------------------------------- */

/* The default clock: CLOCK_MONOTONIC in milliseconds. */
static apr_int64_t mono_ms(void *baton)
{
    struct timespec ts;

    (void)baton;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        return 0;
    }
    return (apr_int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The store's clock now. */
static apr_int64_t now_ms(mc_store_t *m)
{
    return m->clock(m->clock_baton);
}

/* Map a libmemcached failure onto a store result. */
static gk_store_result_e map_rc(memcached_return_t rc, int err_no)
{
    switch (rc) {
    case MEMCACHED_TIMEOUT:
        return GK_STORE_TIMEOUT;
    case MEMCACHED_ERRNO:
        if (err_no == ETIMEDOUT || err_no == EAGAIN
            || err_no == EWOULDBLOCK) {
            return GK_STORE_TIMEOUT;
        }
        return GK_STORE_DOWN;
    case MEMCACHED_HOST_LOOKUP_FAILURE:
    case MEMCACHED_CONNECTION_FAILURE:
    case MEMCACHED_CONNECTION_BIND_FAILURE:
    case MEMCACHED_WRITE_FAILURE:
    case MEMCACHED_READ_FAILURE:
    case MEMCACHED_UNKNOWN_READ_FAILURE:
    case MEMCACHED_PARTIAL_READ:
    case MEMCACHED_NO_SERVERS:
    case MEMCACHED_SERVER_MARKED_DEAD:
    case MEMCACHED_SERVER_TEMPORARILY_DISABLED:
    case MEMCACHED_CONNECTION_SOCKET_CREATE_FAILURE: /* = MEMCACHED_ERROR */
        return GK_STORE_DOWN;
    default:
        return GK_STORE_ERROR;
    }
}

/* Tell the event callback, if any. */
static void emit(mc_store_t *m, gk_breaker_t *b, const char *op,
                 gk_store_result_e res, gk_breaker_event_e bev,
                 int pool_empty, const char *detail)
{
    gk_store_mc_event_t ev;

    if (m->on_event == NULL) {
        return;
    }
    ev.op = op;
    ev.result = res;
    ev.breaker = bev;
    ev.backoff_ms = b ? gk_breaker_backoff_ms(b) : 0;
    ev.pool_empty = pool_empty;
    ev.detail = detail;
    m->on_event(m->event_baton, &ev);
}

/* Take a connection for one operation on key k (prefixed, kl bytes):
 * counts the call, takes a free pooled handle without waiting, and asks
 * the breaker of the server that holds k (ketama, as libmemcached will
 * choose it). Returns the handle and *bp, or NULL with *res set (ERROR:
 * no free connection; DOWN: that server's breaker is open). A server
 * that fails opens only its own breaker: keys of the other servers go on
 * being counted. */
static memcached_st *begin(mc_store_t *m, const char *op, const char *k,
                           apr_size_t kl, gk_breaker_t **bp,
                           gk_store_result_e *res)
{
    memcached_return_t rc = MEMCACHED_SUCCESS;
    struct timespec zero = {0, 0};
    memcached_st *mc;
    apr_uint32_t idx;

    apr_atomic_inc32(&m->calls);
    mc = memcached_pool_fetch(m->pool, &zero, &rc);
    if (mc == NULL) {
        apr_atomic_inc32(&m->pool_empty);
        *res = GK_STORE_ERROR;
        emit(m, NULL, op, GK_STORE_ERROR, GK_BREAKER_EV_NONE, 1,
             "no free memcached connection in this process's pool");
        return NULL;
    }
    idx = m->nservers > 1 ? memcached_generate_hash(mc, k, kl) : 0;
    *bp = &m->breakers[idx < m->nservers ? idx : 0];
    if (!gk_breaker_allow(*bp, now_ms(m))) {
        memcached_pool_release(m->pool, mc);
        apr_atomic_inc32(&m->shed);
        *res = GK_STORE_DOWN;
        return NULL;
    }
    apr_atomic_inc32(&m->network);
    return mc;
}

/* End an operation on mc whose libmemcached result was rc: a reply of
 * the server (ok: success, or an answer such as NOT_FOUND) is a breaker
 * success; otherwise the connection is closed (no late reply can be read
 * by the next user), the failure counted and reported. Gives mc back to
 * the pool. Returns the failure's store result (meaningful when !ok). */
static gk_store_result_e end(mc_store_t *m, memcached_st *mc,
                             gk_breaker_t *b, const char *op, int ok,
                             memcached_return_t rc)
{
    gk_store_result_e res = GK_STORE_OK;
    gk_breaker_event_e bev;

    if (ok) {
        bev = gk_breaker_success(b, now_ms(m));
        memcached_pool_release(m->pool, mc);
        if (bev != GK_BREAKER_EV_NONE) {
            emit(m, b, op, GK_STORE_OK, bev, 0, NULL);
        }
        return GK_STORE_OK;
    }
    res = map_rc(rc, memcached_last_error_errno(mc));
    {
        /* the message lives in mc: copy it before the handle is reused */
        char detail[256];
        const char *msg = memcached_last_error_message(mc);

        apr_snprintf(detail, sizeof(detail), "%s%s%s",
                     memcached_strerror(mc, rc),
                     msg && rc == memcached_last_error(mc) ? ": " : "",
                     msg && rc == memcached_last_error(mc) ? msg : "");
        memcached_quit(mc);
        memcached_pool_release(m->pool, mc);
        if (res == GK_STORE_TIMEOUT || res == GK_STORE_DOWN) {
            apr_atomic_inc32(res == GK_STORE_TIMEOUT ? &m->timeouts
                                                     : &m->down);
            bev = gk_breaker_failure(b, now_ms(m));
        }
        else {
            /* the server answered with an error: it is up */
            apr_atomic_inc32(&m->errors);
            bev = gk_breaker_success(b, now_ms(m));
        }
        emit(m, b, op, res, bev, 0, detail);
    }
    return res;
}

/* Write "gk:" + key into buf (GK_STORE_KEY_MAX bytes); its length, or 0
 * when the key is empty or too long. */
static apr_size_t make_key(char *buf, const void *key, apr_size_t klen)
{
    if (klen == 0 || klen > GK_STORE_MC_KEY_MAX || key == NULL) {
        return 0;
    }
    memcpy(buf, GK_STORE_MC_PREFIX, GK_STORE_MC_PREFIX_LEN);
    memcpy(buf + GK_STORE_MC_PREFIX_LEN, key, klen);
    return klen + GK_STORE_MC_PREFIX_LEN;
}

/* Parse a value memcached keeps for a counter: decimal digits, maybe
 * followed by spaces (memcached pads a counter whose decimal form got
 * shorter) and CR LF. 1 and *out, or 0. */
static int parse_value(const char *v, size_t len, apr_uint64_t *out)
{
    apr_uint64_t x = 0;
    size_t i = 0;

    if (v == NULL || len == 0 || v[0] < '0' || v[0] > '9') {
        return 0;
    }
    for (; i < len && v[i] >= '0' && v[i] <= '9'; i++) {
        apr_uint64_t d = (apr_uint64_t)(v[i] - '0');
        if (x > (APR_UINT64_MAX - d) / 10) {
            return 0;
        }
        x = x * 10 + d;
    }
    for (; i < len; i++) {
        if (v[i] != ' ' && v[i] != '\r' && v[i] != '\n') {
            return 0;
        }
    }
    *out = x;
    return 1;
}

/* Did the operation find its connection closed by the server (a server
 * that restarted, or closed an idle connection), rather than fail to
 * reach it or time out? Only then is one more try on a new connection
 * worth it. */
static int stale_connection(memcached_st *mc, memcached_return_t rc)
{
    int e;

    if (rc == MEMCACHED_ERRNO) {
        /* a write into a connection the server closed */
        e = memcached_last_error_errno(mc);
        return e == EPIPE || e == ECONNRESET;
    }
    return rc == MEMCACHED_CONNECTION_FAILURE
           || rc == MEMCACHED_UNKNOWN_READ_FAILURE
           || rc == MEMCACHED_READ_FAILURE || rc == MEMCACHED_WRITE_FAILURE;
}

/* incr and decr: one binary increment/decrement with initial. */
static gk_store_result_e mc_delta(gk_store_t *s, int up, const void *key,
                                  apr_size_t klen, apr_uint64_t delta,
                                  apr_uint64_t initial, apr_int64_t expires,
                                  apr_int64_t now, apr_uint64_t *value)
{
    mc_store_t *m = s->impl;
    const char *op = up ? "incr" : "decr";
    char k[GK_STORE_KEY_MAX];
    apr_size_t kl = make_key(k, key, klen);
    apr_int64_t exp = gk_store_mc_exptime(expires, now);
    gk_store_result_e res;
    memcached_return_t rc;
    uint64_t v = 0;
    memcached_st *mc;
    gk_breaker_t *b = NULL;
    int tries, reconnected = 0;

    if (kl == 0 || exp < 0) {
        return GK_STORE_ERROR;
    }
    if ((mc = begin(m, op, k, kl, &b, &res)) == NULL) {
        return res;
    }
    for (tries = 0;; tries++) {
        rc = up ? memcached_increment_with_initial(mc, k, kl, delta, initial,
                                                   (time_t)exp, &v)
                : memcached_decrement_with_initial(mc, k, kl, delta, initial,
                                                   (time_t)exp, &v);
        if (stale_connection(mc, rc) && !reconnected) {
            /* a pooled connection to a server that restarted since its
             * last use fails once, though the server is up: close it and
             * send the command once more on a new one (a reset in the
             * middle of an operation may then count it twice: more, never
             * fewer) */
            reconnected = 1;
            memcached_quit(mc);
            apr_atomic_inc32(&m->reconnects);
            tries--;
            continue;
        }
        /* memcached creates a missing key by an internal add: of two
         * concurrent first increments, the loser's add fails and it
         * answers NOT_STORED without counting. The key exists now: send
         * the command again (a plain increment). */
        if ((rc != MEMCACHED_NOTSTORED && rc != MEMCACHED_DATA_EXISTS)
            || tries == CREATE_RETRIES) {
            break;
        }
        apr_atomic_inc32(&m->retries);
    }
    if (rc == MEMCACHED_SUCCESS) {
        end(m, mc, b, op, 1, rc);
        *value = v;
        return GK_STORE_OK;
    }
    return end(m, mc, b, op, 0, rc);
}

/* incr (gk_store.h). */
static gk_store_result_e mc_incr(gk_store_t *s, const void *key,
                                 apr_size_t klen, apr_uint64_t delta,
                                 apr_uint64_t initial, apr_int64_t expires,
                                 apr_int64_t now, apr_uint64_t *value)
{
    return mc_delta(s, 1, key, klen, delta, initial, expires, now, value);
}

/* decr (gk_store.h). */
static gk_store_result_e mc_decr(gk_store_t *s, const void *key,
                                 apr_size_t klen, apr_uint64_t delta,
                                 apr_uint64_t initial, apr_int64_t expires,
                                 apr_int64_t now, apr_uint64_t *value)
{
    return mc_delta(s, 0, key, klen, delta, initial, expires, now, value);
}

/* add (gk_store.h): the value as decimal ASCII, so incr works on it. */
static gk_store_result_e mc_add(gk_store_t *s, const void *key,
                                apr_size_t klen, apr_uint64_t value,
                                apr_int64_t expires, apr_int64_t now)
{
    mc_store_t *m = s->impl;
    char k[GK_STORE_KEY_MAX];
    apr_size_t kl = make_key(k, key, klen);
    apr_int64_t exp = gk_store_mc_exptime(expires, now);
    char num[24];
    gk_store_result_e res;
    memcached_return_t rc;
    memcached_st *mc;
    gk_breaker_t *b = NULL;
    int n;

    if (kl == 0 || exp < 0) {
        return GK_STORE_ERROR;
    }
    n = apr_snprintf(num, sizeof(num), "%" APR_UINT64_T_FMT, value);
    if ((mc = begin(m, "add", k, kl, &b, &res)) == NULL) {
        return res;
    }
    rc = memcached_add(mc, k, kl, num, (size_t)n, (time_t)exp, 0);
    if (rc == MEMCACHED_SUCCESS || rc == MEMCACHED_STORED) {
        end(m, mc, b, "add", 1, rc);
        return GK_STORE_OK;
    }
    if (rc == MEMCACHED_NOTSTORED || rc == MEMCACHED_DATA_EXISTS) {
        end(m, mc, b, "add", 1, rc);
        return GK_STORE_EXISTS;
    }
    return end(m, mc, b, "add", 0, rc);
}

/* get (gk_store.h). */
static gk_store_result_e mc_get(gk_store_t *s, const void *key,
                                apr_size_t klen, apr_int64_t now,
                                apr_uint64_t *value)
{
    mc_store_t *m = s->impl;
    char k[GK_STORE_KEY_MAX];
    apr_size_t kl = make_key(k, key, klen);
    gk_store_result_e res;
    memcached_return_t rc = MEMCACHED_SUCCESS;
    memcached_st *mc;
    gk_breaker_t *b = NULL;
    size_t vlen = 0;
    uint32_t flags = 0;
    char *v;
    apr_uint64_t x;

    (void)now;
    if (kl == 0) {
        return GK_STORE_ERROR;
    }
    if ((mc = begin(m, "get", k, kl, &b, &res)) == NULL) {
        return res;
    }
    v = memcached_get(mc, k, kl, &vlen, &flags, &rc);
    if (v != NULL && rc == MEMCACHED_SUCCESS) {
        int good = parse_value(v, vlen, &x);
        free(v);
        end(m, mc, b, "get", 1, rc);
        if (!good) {
            return GK_STORE_ERROR; /* not a counter */
        }
        *value = x;
        return GK_STORE_OK;
    }
    free(v);
    if (rc == MEMCACHED_NOTFOUND) {
        end(m, mc, b, "get", 1, rc);
        return GK_STORE_NOT_FOUND;
    }
    return end(m, mc, b, "get", 0, rc);
}

/* Send the mget of a get_multi on mc: by the group when there is one. */
static memcached_return_t send_mget(memcached_st *mc, const char *g,
                                    apr_size_t gl, const char *const *kp,
                                    const size_t *kl, apr_size_t n)
{
    return g ? memcached_mget_by_key(mc, g, gl, kp, kl, n)
             : memcached_mget(mc, kp, kl, n);
}

/* Read the replies of an mget on mc into results and values (idx[i]: the
 * caller's index of the i-th key sent; a key asked twice gets the reply
 * twice). Returns the final libmemcached result and *got, the number of
 * replies read. */
static memcached_return_t fetch_replies(memcached_st *mc,
                                        const char *const *kp,
                                        const size_t *kl,
                                        const apr_size_t *idx,
                                        apr_size_t nsend,
                                        apr_uint64_t *values,
                                        gk_store_result_e *results,
                                        apr_size_t *got)
{
    memcached_result_st result_buf, *r;
    memcached_return_t rc = MEMCACHED_SUCCESS;
    apr_size_t i;

    *got = 0;
    if (memcached_result_create(mc, &result_buf) == NULL) {
        return MEMCACHED_MEMORY_ALLOCATION_FAILURE;
    }
    for (;;) {
        const char *rk;
        size_t rkl;
        apr_uint64_t x;
        int good;

        rc = MEMCACHED_SUCCESS;
        r = memcached_fetch_result(mc, &result_buf, &rc);
        if (r == NULL) {
            break;
        }
        (*got)++;
        rk = memcached_result_key_value(r);
        rkl = memcached_result_key_length(r);
        good = parse_value(memcached_result_value(r),
                           memcached_result_length(r), &x);
        for (i = 0; i < nsend; i++) {
            if (kl[i] == rkl && memcmp(kp[i], rk, rkl) == 0) {
                if (good) {
                    results[idx[i]] = GK_STORE_OK;
                    values[idx[i]] = x;
                }
                else {
                    results[idx[i]] = GK_STORE_ERROR;
                }
            }
        }
    }
    memcached_result_free(&result_buf);
    return rc;
}

/* get_multi and get_multi_in (gk_store.h): one mget (by the group g, gl
 * bytes with the prefix, when g is not NULL: every key on the group's
 * server, one round trip), then the replies matched to the keys. The
 * breaker consulted and fed is the group's server's, else the first
 * key's. A pooled connection found closed by the server before any reply
 * was read is closed and the mget sent once more on a new one (as incr:
 * a lookup is safe to repeat). */
static gk_store_result_e multi(mc_store_t *m, const char *g, apr_size_t gl,
                               const void *const *keys,
                               const apr_size_t *klens, apr_size_t n,
                               apr_uint64_t *values,
                               gk_store_result_e *results)
{
    char kst[MULTI_STACK][GK_STORE_KEY_MAX];
    const char *pst[MULTI_STACK];
    size_t lst[MULTI_STACK];
    apr_size_t ist[MULTI_STACK];
    char (*kb)[GK_STORE_KEY_MAX] = kst;
    const char **kp = pst;
    size_t *kl = lst;
    apr_size_t *idx = ist;
    apr_size_t i, nsend = 0, got;
    gk_store_result_e res = GK_STORE_OK;
    memcached_return_t rc;
    memcached_st *mc = NULL;
    gk_breaker_t *b = NULL;
    void *heap = NULL;
    int reconnected = 0;

    if (n == 0) {
        return GK_STORE_OK;
    }
    if (n > MULTI_STACK) {
        apr_size_t each = GK_STORE_KEY_MAX + sizeof(char *) + sizeof(size_t)
                          + sizeof(apr_size_t);
        if (n > APR_SIZE_MAX / each || (heap = malloc(n * each)) == NULL) {
            res = GK_STORE_ERROR;
            goto fail_all;
        }
        kp = heap;
        kl = (size_t *)(kp + n);
        idx = (apr_size_t *)(kl + n);
        kb = (char (*)[GK_STORE_KEY_MAX])(idx + n);
    }
    for (i = 0; i < n; i++) {
        apr_size_t l = make_key(kb[i], keys[i], klens[i]);
        if (l == 0) {
            results[i] = GK_STORE_ERROR; /* refused, not asked */
            continue;
        }
        results[i] = GK_STORE_NOT_FOUND;
        kp[nsend] = kb[i];
        kl[nsend] = l;
        idx[nsend] = i;
        nsend++;
    }
    if (nsend == 0) {
        free(heap);
        return GK_STORE_OK;
    }
    if ((mc = begin(m, "get_multi", g ? g : kp[0], g ? gl : kl[0], &b,
                    &res)) == NULL) {
        goto fail_all;
    }
    for (;;) {
        rc = send_mget(mc, g, gl, kp, kl, nsend);
        if (rc == MEMCACHED_SOME_ERRORS
            && memcached_last_error(mc) != MEMCACHED_SUCCESS) {
            /* the server's own failure (a write that failed: ERRNO), so
             * that it counts as what it is (DOWN, not an answer) */
            rc = memcached_last_error(mc);
        }
        got = 0;
        if (rc == MEMCACHED_SUCCESS) {
            rc = fetch_replies(mc, kp, kl, idx, nsend, values, results,
                               &got);
            if (rc == MEMCACHED_END || rc == MEMCACHED_SUCCESS
                || rc == MEMCACHED_NOTFOUND) {
                break;
            }
        }
        if (!stale_connection(mc, rc) || reconnected || got > 0) {
            res = end(m, mc, b, "get_multi", 0, rc);
            goto fail_all;
        }
        reconnected = 1;
        memcached_quit(mc);
        apr_atomic_inc32(&m->reconnects);
    }
    end(m, mc, b, "get_multi", 1, rc);
    free(heap);
    return GK_STORE_OK;

fail_all:
    for (i = 0; i < n; i++) {
        results[i] = res;
    }
    free(heap);
    return res;
}

/* get_multi (gk_store.h). */
static gk_store_result_e mc_get_multi(gk_store_t *s, const void *const *keys,
                                      const apr_size_t *klens, apr_size_t n,
                                      apr_int64_t now, apr_uint64_t *values,
                                      gk_store_result_e *results)
{
    (void)now;
    return multi(s->impl, NULL, 0, keys, klens, n, values, results);
}

/* Write "gk:" + group into buf (GK_STORE_KEY_MAX bytes), as a key: its
 * length, 0 when the group is refused. A NULL group: *g NULL, length 1. */
static apr_size_t make_group(char *buf, const void *group, apr_size_t glen,
                             const char **g)
{
    *g = NULL;
    if (group == NULL) {
        return 1;
    }
    *g = buf;
    return make_key(buf, group, glen);
}

/* get_multi_in (gk_store.h). */
static gk_store_result_e mc_get_multi_in(gk_store_t *s, const void *group,
                                         apr_size_t glen,
                                         const void *const *keys,
                                         const apr_size_t *klens,
                                         apr_size_t n, apr_int64_t now,
                                         apr_uint64_t *values,
                                         gk_store_result_e *results)
{
    char gb[GK_STORE_KEY_MAX];
    const char *g;
    apr_size_t gl = make_group(gb, group, glen, &g), i;

    (void)now;
    if (gl == 0) {
        for (i = 0; i < n; i++) {
            results[i] = GK_STORE_ERROR;
        }
        return GK_STORE_ERROR;
    }
    return multi(s->impl, g, gl, keys, klens, n, values, results);
}

/* One set of the prefixed key k (kl bytes) to num (nl bytes), by the
 * prefixed group g (gl bytes) when g is not NULL: one command, sent once
 * more on a new connection when the pooled one was found closed by the
 * server (set is safe to repeat). */
static gk_store_result_e set_one(mc_store_t *m, const char *op,
                                 const char *g, apr_size_t gl, const char *k,
                                 apr_size_t kl, const char *num,
                                 apr_size_t nl, apr_int64_t exp)
{
    gk_store_result_e res;
    memcached_return_t rc;
    memcached_st *mc;
    gk_breaker_t *b = NULL;
    int reconnected = 0;

    if ((mc = begin(m, op, g ? g : k, g ? gl : kl, &b, &res)) == NULL) {
        return res;
    }
    for (;;) {
        rc = g ? memcached_set_by_key(mc, g, gl, k, kl, num, nl,
                                      (time_t)exp, 0)
               : memcached_set(mc, k, kl, num, nl, (time_t)exp, 0);
        if (!stale_connection(mc, rc) || reconnected) {
            break;
        }
        reconnected = 1;
        memcached_quit(mc);
        apr_atomic_inc32(&m->reconnects);
    }
    if (rc == MEMCACHED_SUCCESS || rc == MEMCACHED_STORED) {
        end(m, mc, b, op, 1, rc);
        return GK_STORE_OK;
    }
    return end(m, mc, b, op, 0, rc);
}

/* The prefixed key and the decimal value of a set; 0 when the key or the
 * expiry is refused (then nothing is sent). */
static apr_size_t set_args(char *k, const void *key, apr_size_t klen,
                           char *num, apr_size_t *nl, apr_uint64_t value,
                           apr_int64_t expires, apr_int64_t now,
                           apr_int64_t *exp)
{
    *exp = gk_store_mc_exptime(expires, now);
    if (*exp < 0) {
        return 0;
    }
    /* decimal ASCII, as memcached keeps counters: get and incr read it */
    *nl = (apr_size_t)apr_snprintf(num, 24, "%" APR_UINT64_T_FMT, value);
    return make_key(k, key, klen);
}

/* set_in (gk_store.h): memcached_set_by_key (set without a group). */
static gk_store_result_e mc_set_in(gk_store_t *s, const void *group,
                                   apr_size_t glen, const void *key,
                                   apr_size_t klen, apr_uint64_t value,
                                   apr_int64_t expires, apr_int64_t now)
{
    char k[GK_STORE_KEY_MAX], gb[GK_STORE_KEY_MAX], num[24];
    apr_size_t kl, nl = 0, gl;
    apr_int64_t exp;
    const char *g;

    kl = set_args(k, key, klen, num, &nl, value, expires, now, &exp);
    gl = make_group(gb, group, glen, &g);
    if (kl == 0 || gl == 0) {
        return GK_STORE_ERROR;
    }
    return set_one(s->impl, "set", g, gl, k, kl, num, nl, exp);
}

/* set_all (gk_store.h): one set per server, each by the group that
 * ketama maps to that server (found at create), each through that
 * server's breaker. */
static gk_store_result_e mc_set_all(gk_store_t *s, const void *key,
                                    apr_size_t klen, apr_uint64_t value,
                                    apr_int64_t expires, apr_int64_t now)
{
    mc_store_t *m = s->impl;
    char k[GK_STORE_KEY_MAX], num[24];
    apr_size_t kl, nl = 0;
    apr_int64_t exp;
    gk_store_result_e first = GK_STORE_OK, res;
    apr_uint32_t i;

    kl = set_args(k, key, klen, num, &nl, value, expires, now, &exp);
    if (kl == 0) {
        return GK_STORE_ERROR;
    }
    for (i = 0; i < m->nservers; i++) {
        res = set_one(m, "set_all", m->all[i], m->all_len[i], k, kl, num, nl,
                      exp);
        if (res != GK_STORE_OK && first == GK_STORE_OK) {
            first = res;
        }
    }
    return first;
}

/* For each server of the ring, a group string that ketama maps to it
 * (set_all's): "gk:all:0", "gk:all:1", ... the first found for each
 * server. The ring is read on a clone of the master, as the pooled
 * handles are (the master's own continuum is not rebuilt by every
 * behavior set, so it may place keys differently). NULL, or an error
 * message. */
static const char *find_all_groups(apr_pool_t *p, mc_store_t *m)
{
    apr_uint32_t found = 0, i, idx;
    char buf[ALL_GROUP_MAX];
    apr_size_t len;
    unsigned long j, limit = (unsigned long)ALL_GROUP_TRIES * m->nservers;
    memcached_st *ring;

    m->all = apr_pcalloc(p, m->nservers * sizeof(*m->all));
    m->all_len = apr_pcalloc(p, m->nservers * sizeof(*m->all_len));
    if ((ring = memcached_clone(NULL, m->master)) == NULL) {
        return "libmemcached: cannot clone the handle";
    }
    for (j = 0; j < limit && found < m->nservers; j++) {
        len = (apr_size_t)apr_snprintf(buf, sizeof(buf),
                                       GK_STORE_MC_PREFIX "all:%lu", j);
        idx = m->nservers > 1 ? memcached_generate_hash(ring, buf, len) : 0;
        if (idx < m->nservers && m->all_len[idx] == 0) {
            memcpy(m->all[idx], buf, len);
            m->all_len[idx] = len;
            found++;
        }
    }
    memcached_free(ring);
    for (i = 0; i < m->nservers; i++) {
        if (m->all_len[i] == 0) {
            return apr_psprintf(p, "libmemcached: no key maps to server %u "
                                   "of %u (a weight too small?)",
                                i + 1, m->nservers);
        }
    }
    return NULL;
}

static const gk_store_ops_t mc_ops = {
    "memcached", mc_incr,   mc_decr,         mc_add,     mc_get,
    mc_get_multi, mc_set_in, mc_get_multi_in, mc_set_all,
};

/* Pool cleanup: the pool (and its handles), then the master. */
static apr_status_t mc_cleanup(void *data)
{
    mc_store_t *m = data;

    if (m->pool) {
        memcached_pool_destroy(m->pool);
        m->pool = NULL;
    }
    if (m->master) {
        memcached_free(m->master);
        m->master = NULL;
    }
    return APR_SUCCESS;
}

/* Set one behavior on the master, or say which failed. */
static const char *set_behavior(apr_pool_t *p, memcached_st *mc,
                                memcached_behavior_t b, uint64_t v,
                                const char *what)
{
    memcached_return_t rc = memcached_behavior_set(mc, b, v);

    if (rc != MEMCACHED_SUCCESS) {
        return apr_psprintf(p, "libmemcached: cannot set %s: %s", what,
                            memcached_strerror(mc, rc));
    }
    return NULL;
}

apr_status_t gk_store_mc_create(apr_pool_t *p, const char *conf,
                                int timeout_ms, int pool_size,
                                gk_store_t **out, const char **err)
{
    mc_store_t *m;
    const char *e;
    uint64_t to_us;

    *err = NULL;
    if (timeout_ms < 1 || timeout_ms > GK_STORE_MC_TIMEOUT_MAX) {
        *err = apr_psprintf(p, "timeout %d ms: not in 1..%d", timeout_ms,
                            GK_STORE_MC_TIMEOUT_MAX);
        return APR_EINVAL;
    }
    if (pool_size < 1 || pool_size > GK_STORE_MC_POOL_MAX) {
        *err = apr_psprintf(p, "pool size %d: not in 1..%d", pool_size,
                            GK_STORE_MC_POOL_MAX);
        return APR_EINVAL;
    }
    if ((e = gk_store_mc_check_config(p, conf)) != NULL) {
        *err = e;
        return APR_EINVAL;
    }
    m = apr_pcalloc(p, sizeof(*m));
    m->store.ops = &mc_ops;
    m->store.impl = m;
    m->clock = mono_ms;
    m->master = memcached(conf, strlen(conf));
    if (m->master == NULL) {
        *err = "libmemcached: cannot make a handle from the string";
        return APR_EGENERAL;
    }
    m->nservers = memcached_server_count(m->master);
    if (m->nservers < 1) {
        m->nservers = 1;
    }
    m->breakers = apr_pcalloc(p, m->nservers * sizeof(*m->breakers));
    {
        apr_uint32_t i;
        for (i = 0; i < m->nservers; i++) {
            (void)gk_breaker_init(&m->breakers[i], GK_BREAKER_MIN_MS_DEFAULT,
                                  GK_BREAKER_MAX_MS_DEFAULT,
                                  GK_BREAKER_THRESHOLD_DEFAULT);
        }
    }
    apr_pool_cleanup_register(p, m, mc_cleanup, apr_pool_cleanup_null);
    to_us = (uint64_t)timeout_ms * 1000;
    if ((e = set_behavior(p, m->master, MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, 1,
                          "the binary protocol"))
        || (e = set_behavior(p, m->master, MEMCACHED_BEHAVIOR_DISTRIBUTION,
                             MEMCACHED_DISTRIBUTION_CONSISTENT_KETAMA,
                             "ketama distribution"))
        || (e = set_behavior(p, m->master,
                             MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 1,
                             "weighted ketama"))
        || (e = set_behavior(p, m->master, MEMCACHED_BEHAVIOR_NO_BLOCK, 1,
                             "non-blocking I/O"))
        || (e = set_behavior(p, m->master, MEMCACHED_BEHAVIOR_TCP_NODELAY, 1,
                             "TCP_NODELAY"))
        || (e = set_behavior(p, m->master,
                             MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT,
                             (uint64_t)timeout_ms, "the connect timeout"))
        || (e = set_behavior(p, m->master, MEMCACHED_BEHAVIOR_POLL_TIMEOUT,
                             (uint64_t)timeout_ms, "the poll timeout"))
        || (e = set_behavior(p, m->master, MEMCACHED_BEHAVIOR_SND_TIMEOUT,
                             to_us, "the send timeout"))
        || (e = set_behavior(p, m->master, MEMCACHED_BEHAVIOR_RCV_TIMEOUT,
                             to_us, "the receive timeout"))
        || (e = set_behavior(p, m->master, MEMCACHED_BEHAVIOR_RETRY_TIMEOUT,
                             0, "the retry timeout"))
        || (e = set_behavior(p, m->master,
                             MEMCACHED_BEHAVIOR_SERVER_FAILURE_LIMIT, 1,
                             "the server failure limit"))
        || (e = set_behavior(p, m->master, MEMCACHED_BEHAVIOR_DEAD_TIMEOUT,
                             0, "the dead timeout"))
        || (e = set_behavior(p, m->master,
                             MEMCACHED_BEHAVIOR_REMOVE_FAILED_SERVERS, 0,
                             "no removal of failed servers"))) {
        *err = e;
        return APR_EGENERAL;
    }
    if ((e = find_all_groups(p, m)) != NULL) {
        *err = e;
        return APR_EGENERAL;
    }
    m->pool = memcached_pool_create(m->master, (uint32_t)pool_size,
                                    (uint32_t)pool_size);
    if (m->pool == NULL) {
        *err = "libmemcached: cannot make the connection pool";
        return APR_ENOMEM;
    }
    *out = &m->store;
    return APR_SUCCESS;
}

int gk_store_mc_is(const gk_store_t *s)
{
    return s != NULL && s->ops == &mc_ops;
}

apr_status_t gk_store_mc_set_breaker(gk_store_t *s, apr_uint32_t min_ms,
                                     apr_uint32_t max_ms,
                                     apr_uint32_t threshold)
{
    mc_store_t *m;
    apr_status_t rv = APR_SUCCESS;
    apr_uint32_t i;

    if (!gk_store_mc_is(s)) {
        return APR_EINVAL;
    }
    m = s->impl;
    for (i = 0; i < m->nservers && rv == APR_SUCCESS; i++) {
        rv = gk_breaker_init(&m->breakers[i], min_ms, max_ms, threshold);
    }
    return rv;
}

void gk_store_mc_set_events(gk_store_t *s, gk_store_mc_event_fn fn,
                            void *baton)
{
    if (gk_store_mc_is(s)) {
        mc_store_t *m = s->impl;
        m->on_event = fn;
        m->event_baton = baton;
    }
}

void gk_store_mc_set_clock(gk_store_t *s, gk_store_mc_clock_fn fn,
                           void *baton)
{
    if (gk_store_mc_is(s)) {
        mc_store_t *m = s->impl;
        m->clock = fn ? fn : mono_ms;
        m->clock_baton = fn ? baton : NULL;
    }
}

apr_status_t gk_store_mc_stats(gk_store_t *s, gk_store_mc_stats_t *st)
{
    mc_store_t *m;
    apr_uint32_t i;

    if (!gk_store_mc_is(s)) {
        return APR_EINVAL;
    }
    m = s->impl;
    st->calls = apr_atomic_read32(&m->calls);
    st->network = apr_atomic_read32(&m->network);
    st->shed = apr_atomic_read32(&m->shed);
    st->pool_empty = apr_atomic_read32(&m->pool_empty);
    st->timeouts = apr_atomic_read32(&m->timeouts);
    st->down = apr_atomic_read32(&m->down);
    st->errors = apr_atomic_read32(&m->errors);
    st->retries = apr_atomic_read32(&m->retries);
    st->reconnects = apr_atomic_read32(&m->reconnects);
    /* the worst of the servers' breakers */
    st->breaker = GK_BREAKER_CLOSED;
    st->backoff_ms = 0;
    for (i = 0; i < m->nservers; i++) {
        gk_breaker_state_e b = gk_breaker_state(&m->breakers[i]);
        apr_uint32_t ms = gk_breaker_backoff_ms(&m->breakers[i]);
        if (b == GK_BREAKER_OPEN || (b == GK_BREAKER_PROBING
                                     && st->breaker == GK_BREAKER_CLOSED)) {
            st->breaker = b;
        }
        if (ms > st->backoff_ms) {
            st->backoff_ms = ms;
        }
    }
    return APR_SUCCESS;
}
