/*
 * Fuzz target: the GKRateLimit grammars and counter keys (gk_rate), what
 * mod_gk_ratelimit reads from its configuration (a RATE and a key=
 * specification) and builds per request from client input (an address,
 * a header's value).
 *
 * The input is split at its first '\n' into a rate text and the rest; the
 * rest at its next '\n' (if any) into a key specification and a client
 * value (the bytes after it, NULs included). Invariants checked (abort()
 * on violation):
 *  - a parsed rate has 1 <= limit <= 2^31-1 and 1 <= window <= 31 days,
 *    and gk_rate_text of it parses back to the same struct; its window
 *    start, reset and time-to-live are consistent at a few instants;
 *  - a refused rate or key specification gives a message of printable
 *    ASCII;
 *  - a parsed key list has 1..4 items of known kinds, "global" only last,
 *    a prefix of 1..128 for ip and a name for header and env;
 *  - gk_rate_counter_key gives "gkrl:" + 16 hex + ":" + digits, printable
 *    ASCII without space, at most 250 bytes, the same twice for the same
 *    inputs;
 *  - gk_rate_ip_group on the client value (and on the key specification)
 *    never crashes, and when it accepts gives 5 bytes of family 4 or 17 of
 *    family 6 with the bits past the prefix zero.
 * See replay.c for how to build it with libFuzzer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "gk_rate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static apr_pool_t *root;

static const unsigned char KEY[16] = "fuzz-rate-key-16";

/* Abort unless s is printable ASCII (0x20-0x7E). */
static void check_message(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e) {
            abort();
        }
    }
}

/* Abort unless the rate is in range, round-trips through its text and
 * gives consistent windows. */
static void check_rate(apr_pool_t *p, const gk_rate_t *r)
{
    static const apr_int64_t instants[] = {0, 1, 59, 60, 1700000000,
                                           1700000007, 4102444800LL};
    gk_rate_t back = {0, 0};
    size_t i;

    if (r->limit < 1 || r->limit > GK_RATE_LIMIT_MAX || r->window < 1
        || r->window > GK_RATE_WINDOW_MAX) {
        abort();
    }
    if (gk_rate_parse(p, gk_rate_text(p, r), &back) || back.limit != r->limit
        || back.window != r->window) {
        abort();
    }
    for (i = 0; i < sizeof(instants) / sizeof(instants[0]); i++) {
        apr_int64_t t = instants[i];
        apr_int64_t s = gk_rate_window_start(r, t);
        apr_int64_t reset = gk_rate_reset(r, t);
        if (s > t || s % r->window || reset < 1 || reset > r->window
            || s + r->window != t + reset
            || gk_rate_ttl(r, t) != reset + GK_RATE_TTL_MARGIN
            || gk_rate_expires(r, t) != t + reset + GK_RATE_TTL_MARGIN) {
            abort();
        }
    }
}

/* Abort unless the key list is well formed. */
static void check_keys(const gk_rate_key_t *k, int n)
{
    int i;

    if (n < 1 || n > GK_RATE_KEYS_MAX) {
        abort();
    }
    for (i = 0; i < n; i++) {
        switch (k[i].kind) {
        case GK_RATE_KEY_IP:
            if (k[i].prefix6 < 1 || k[i].prefix6 > 128 || k[i].name) {
                abort();
            }
            break;
        case GK_RATE_KEY_HEADER:
        case GK_RATE_KEY_ENV:
            if (!k[i].name || !*k[i].name || strchr(k[i].name, '|')) {
                abort();
            }
            break;
        case GK_RATE_KEY_GLOBAL:
            if (i != n - 1) {
                abort();
            }
            /* fall through */
        case GK_RATE_KEY_USER:
            if (k[i].name || k[i].prefix6) {
                abort();
            }
            break;
        default:
            abort();
        }
    }
}

/* Abort unless buf (n bytes) is a well-formed counter key. */
static void check_counter_key(const char *buf, apr_size_t n)
{
    apr_size_t i;

    if (n < 23 || n > 42 || n > 250 || strlen(buf) != n
        || memcmp(buf, "gkrl:", 5) || buf[21] != ':') {
        abort();
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c <= 0x20 || c >= 0x7f) {
            abort();
        }
        if (i >= 5 && i < 21 && !strchr("0123456789abcdef", c)) {
            abort();
        }
        if (i > 21 && (c < '0' || c > '9')) {
            abort();
        }
    }
}

/* Group v under prefix, checking the output's shape. */
static void check_group(const char *v, int prefix)
{
    unsigned char out[17];
    apr_size_t len = 0;
    int i;

    if (!gk_rate_ip_group(v, prefix, out, &len)) {
        return;
    }
    if (!((out[0] == 4 && len == 5) || (out[0] == 6 && len == 17))) {
        abort();
    }
    if (out[0] == 6) {
        for (i = prefix; i < 128; i++) {
            if (out[1 + i / 8] & (0x80 >> (i % 8))) {
                abort();
            }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *in = (const char *)data, *nl, *nl2, *e;
    const char *rate_s, *spec_s, *value;
    apr_size_t value_len = 0;
    gk_rate_t rate;
    gk_rate_key_t keys[GK_RATE_KEYS_MAX];
    char k1[GK_RATE_COUNTER_KEY_SIZE], k2[GK_RATE_COUNTER_KEY_SIZE];
    apr_size_t n1, n2;
    int n = 0, i, prefix = GK_RATE_PREFIX6_DEFAULT;
    apr_uint64_t ws = 0;

    if (!root) {
        apr_initialize();
        apr_pool_create(&root, NULL);
    }
    apr_pool_create(&p, root);

    nl = memchr(in, '\n', size);
    rate_s = apr_pstrmemdup(p, in, nl ? (apr_size_t)(nl - in) : size);
    spec_s = "";
    value = NULL;
    if (nl) {
        const char *rest = nl + 1;
        apr_size_t rest_len = size - (apr_size_t)(rest - in);
        nl2 = memchr(rest, '\n', rest_len);
        spec_s = apr_pstrmemdup(p, rest, nl2 ? (apr_size_t)(nl2 - rest)
                                             : rest_len);
        if (nl2) {
            value_len = rest_len - (apr_size_t)(nl2 + 1 - rest);
            /* NUL-terminated for gk_rate_ip_group, which stops at the
             * first NUL; the counter key takes all value_len bytes */
            value = apr_pstrmemdup(p, nl2 + 1, value_len);
        }
    }

    /* the rate */
    e = gk_rate_parse(p, rate_s, &rate);
    if (e) {
        check_message(e);
    }
    else {
        check_rate(p, &rate);
        ws = (apr_uint64_t)gk_rate_window_start(&rate, 1700000000);
    }

    /* the key specification */
    e = gk_rate_keys_parse(p, spec_s, keys, GK_RATE_KEYS_MAX, &n);
    if (e) {
        check_message(e);
        if (n != 0) {
            abort();
        }
    }
    else {
        check_keys(keys, n);
        for (i = 0; i < n; i++) {
            if (keys[i].kind == GK_RATE_KEY_IP) {
                prefix = keys[i].prefix6;
            }
        }
    }

    /* the client value: grouped as an address, hashed into counter keys */
    if (value) {
        unsigned char g[17];
        apr_size_t glen;

        check_group(value, prefix);
        check_group(value, 1);
        check_group(value, 128);
        if (gk_rate_ip_group(value, prefix, g, &glen)) {
            n1 = gk_rate_counter_key(k1, sizeof(k1), KEY, rate_s, spec_s,
                                     GK_RATE_KEY_IP, NULL, g, glen, ws);
            check_counter_key(k1, n1);
        }
    }
    check_group(spec_s, prefix);
    check_group(rate_s, GK_RATE_PREFIX6_DEFAULT);
    for (i = 0; i <= n; i++) {
        int kind = i < n ? keys[i].kind : GK_RATE_KEY_GLOBAL;
        const char *dir = (i & 1) ? spec_s : NULL;

        n1 = gk_rate_counter_key(k1, sizeof(k1), KEY, rate_s, spec_s, kind,
                                 dir, value, value_len, ws);
        n2 = gk_rate_counter_key(k2, sizeof(k2), KEY, rate_s, spec_s, kind,
                                 dir, value, value_len, ws);
        check_counter_key(k1, n1);
        if (n1 != n2 || memcmp(k1, k2, n1 + 1)) {
            abort();
        }
        /* a buffer one byte short is refused, not overrun */
        if (gk_rate_counter_key(k2, n1, KEY, rate_s, spec_s, kind, dir,
                                value, value_len, ws) != 0 || k2[0]) {
            abort();
        }
    }
    apr_pool_destroy(p);
    return 0;
}
