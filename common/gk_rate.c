/*
 * Rate limits: grammar, windows, keys (gk_rate.h).
 */
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <apr_strings.h>

#include "gk_http.h"
#include "gk_rate.h"
#include "gk_siphash.h"

/* ---- helpers ----------------------------------------------------------- */

/* The longest part of an input quoted in an error message. */
#define QUOTE_MAX 64

/* s (len bytes) between double quotes for an error message: printable
 * ASCII as is, '"', '\\' and every other byte escaped (\xNN), cut after
 * QUOTE_MAX bytes with "...". */
static const char *quote(apr_pool_t *p, const char *s, apr_size_t len)
{
    static const char hex[] = "0123456789abcdef";
    apr_size_t i, n = len > QUOTE_MAX ? QUOTE_MAX : len;
    char *out = apr_palloc(p, n * 4 + 6), *w = out;

    *w++ = '"';
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            *w++ = (char)c;
        }
        else {
            *w++ = '\\';
            *w++ = 'x';
            *w++ = hex[c >> 4];
            *w++ = hex[c & 15];
        }
    }
    *w++ = '"';
    if (n < len) {
        memcpy(w, "...", 3);
        w += 3;
    }
    *w = '\0';
    return out;
}

/* Read a decimal number at *s: one or more digits, no leading zero, at
 * most max. Advances *s past the digits. Returns NULL, or the reason it is
 * not a number ("too large" when above max). */
static const char *read_number(const char **s, apr_uint64_t max,
                               apr_uint64_t *out)
{
    const char *c = *s;
    apr_uint64_t v = 0;
    int big = 0;

    if (*c == '+' || *c == '-') {
        return "has a sign";
    }
    if (*c == ' ' || *c == '\t') {
        return "has white space";
    }
    if (*c < '0' || *c > '9') {
        return "is not a number";
    }
    if (*c == '0' && c[1] >= '0' && c[1] <= '9') {
        return "has a leading zero";
    }
    for (; *c >= '0' && *c <= '9'; c++) {
        if (!big) {
            v = v * 10 + (apr_uint64_t)(*c - '0');
            big = v > max;
        }
    }
    *s = c;
    if (big) {
        return "is too large";
    }
    *out = v;
    return NULL;
}

/* ---- rates ------------------------------------------------------------- */

/* A unit word or suffix and its length in seconds. */
typedef struct {
    const char *word;
    apr_uint32_t seconds;
} unit_t;

/* The words of N/UNIT; the first four are also the suffixes of a
 * DURATION. */
static const unit_t units[] = {
    {"s", 1},           {"m", 60},       {"h", 3600},       {"d", 86400},
    {"second", 1},      {"sec", 1},      {"minute", 60},    {"min", 60},
    {"hour", 3600},     {"day", 86400},
};
#define N_SUFFIXES 4
#define N_UNITS (sizeof(units) / sizeof(units[0]))

/* The seconds of a unit word among the first n of units, or 0. */
static apr_uint32_t unit_seconds(const char *w, apr_size_t n)
{
    apr_size_t i;

    for (i = 0; i < n; i++) {
        if (!strcmp(w, units[i].word)) {
            return units[i].seconds;
        }
    }
    return 0;
}

const char *gk_rate_parse(apr_pool_t *p, const char *s, gk_rate_t *out)
{
    const char *c = s, *why, *q;
    apr_uint64_t limit = 0, count = 0, window;
    apr_uint32_t unit;

    if (!s || !*s) {
        return "empty rate: expected N/UNIT or N/DURATION, e.g. 5/minute "
               "or 100/10s";
    }
    q = quote(p, s, strlen(s));
    if (strpbrk(s, " \t\r\n\v\f")) {
        return apr_psprintf(p, "rate %s: white space is not allowed", q);
    }
    if ((why = read_number(&c, GK_RATE_LIMIT_MAX, &limit))) {
        if (!strcmp(why, "is too large")) {
            return apr_psprintf(p, "rate %s: the number of requests is "
                                "above %u", q, GK_RATE_LIMIT_MAX);
        }
        return apr_psprintf(p, "rate %s: the number of requests %s "
                            "(expected N/UNIT or N/DURATION, e.g. 5/minute "
                            "or 100/10s)", q, why);
    }
    if (*c != '/') {
        return apr_psprintf(p, "rate %s: expected '/' after the number of "
                            "requests (N/UNIT or N/DURATION, e.g. 5/minute "
                            "or 100/10s)", q);
    }
    if (limit == 0) {
        return apr_psprintf(p, "rate %s: the number of requests must be at "
                            "least 1", q);
    }
    c++;
    if ((*c >= '0' && *c <= '9') || *c == '+' || *c == '-') {
        /* DURATION: a count then one suffix letter; anything above the
         * largest window is too long whatever the suffix */
        if ((why = read_number(&c, GK_RATE_WINDOW_MAX, &count))) {
            if (!strcmp(why, "is too large")) {
                return apr_psprintf(p, "rate %s: the window is longer than "
                                    "31 days", q);
            }
            return apr_psprintf(p, "rate %s: the window %s", q, why);
        }
        if (count == 0) {
            return apr_psprintf(p, "rate %s: the window must be at least 1 "
                                "second", q);
        }
        if (!*c) {
            return apr_psprintf(p, "rate %s: the window needs a unit: s, m, "
                                "h or d (e.g. 100/10s)", q);
        }
        unit = c[1] ? 0 : unit_seconds(c, N_SUFFIXES);
        if (!unit) {
            return apr_psprintf(p, "rate %s: unknown window unit %s "
                                "(expected s, m, h or d)", q,
                                quote(p, c, strlen(c)));
        }
    }
    else {
        count = 1;
        unit = unit_seconds(c, N_UNITS);
        if (!unit) {
            return apr_psprintf(p, "rate %s: unknown unit %s (expected "
                                "second, sec, s, minute, min, m, hour, h, "
                                "day or d, or a duration such as 10s)", q,
                                quote(p, c, strlen(c)));
        }
    }
    window = count * unit;
    if (window > GK_RATE_WINDOW_MAX) {
        return apr_psprintf(p, "rate %s: the window is longer than 31 days",
                            q);
    }
    out->limit = (apr_uint32_t)limit;
    out->window = (apr_uint32_t)window;
    return NULL;
}

const char *gk_rate_text(apr_pool_t *p, const gk_rate_t *r)
{
    apr_uint32_t w = r->window;

    switch (w) {
    case 1:
        return apr_psprintf(p, "%u/second", r->limit);
    case 60:
        return apr_psprintf(p, "%u/minute", r->limit);
    case 3600:
        return apr_psprintf(p, "%u/hour", r->limit);
    case 86400:
        return apr_psprintf(p, "%u/day", r->limit);
    }
    if (w && w % 86400 == 0) {
        return apr_psprintf(p, "%u/%ud", r->limit, w / 86400);
    }
    if (w && w % 3600 == 0) {
        return apr_psprintf(p, "%u/%uh", r->limit, w / 3600);
    }
    if (w && w % 60 == 0) {
        return apr_psprintf(p, "%u/%um", r->limit, w / 60);
    }
    return apr_psprintf(p, "%u/%us", r->limit, w);
}

/* ---- windows ----------------------------------------------------------- */

apr_int64_t gk_rate_window_start(const gk_rate_t *r, apr_int64_t now_sec)
{
    apr_int64_t w = r->window ? (apr_int64_t)r->window : 1;
    apr_int64_t m = now_sec % w;

    /* the floor, also before 1970 */
    return now_sec - (m < 0 ? m + w : m);
}

apr_int64_t gk_rate_reset(const gk_rate_t *r, apr_int64_t now_sec)
{
    apr_int64_t w = r->window ? (apr_int64_t)r->window : 1;

    return gk_rate_window_start(r, now_sec) + w - now_sec;
}

apr_uint32_t gk_rate_ttl(const gk_rate_t *r, apr_int64_t now_sec)
{
    return (apr_uint32_t)gk_rate_reset(r, now_sec) + GK_RATE_TTL_MARGIN;
}

apr_int64_t gk_rate_expires(const gk_rate_t *r, apr_int64_t now_sec)
{
    return now_sec + gk_rate_reset(r, now_sec) + GK_RATE_TTL_MARGIN;
}

/* ---- key specifications ------------------------------------------------ */

/* Is c allowed in an environment variable name? */
static int is_envchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
           || (c >= '0' && c <= '9') || c == '_';
}

/* Does the alternative k (len bytes) start with the keyword w? */
static int has_prefix(const char *k, apr_size_t len, const char *w)
{
    apr_size_t n = strlen(w);
    return len >= n && !memcmp(k, w, n);
}

/* Parse one alternative k (len bytes, no '|') into *key. NULL, or why it
 * is refused. */
static const char *parse_key(apr_pool_t *p, const char *k, apr_size_t len,
                             gk_rate_key_t *key)
{
    apr_size_t i;

    key->prefix6 = 0;
    key->name = NULL;
    if (len == 2 && !memcmp(k, "ip", 2)) {
        key->kind = GK_RATE_KEY_IP;
        key->prefix6 = GK_RATE_PREFIX6_DEFAULT;
        return NULL;
    }
    if (has_prefix(k, len, "ip/")) {
        char digits[8];
        const char *c = digits, *why;
        apr_uint64_t v = 0;

        if (len - 3 >= sizeof(digits)) {
            return "the IPv6 prefix length must be 1 to 128";
        }
        memcpy(digits, k + 3, len - 3);
        digits[len - 3] = '\0';
        if ((why = read_number(&c, 128, &v))) {
            return apr_pstrcat(p, "the IPv6 prefix length ",
                               !strcmp(why, "is too large")
                                   ? "must be 1 to 128" : why, NULL);
        }
        if (*c) {
            return "the IPv6 prefix length is not a number";
        }
        if (v < 1) {
            return "the IPv6 prefix length must be 1 to 128";
        }
        key->kind = GK_RATE_KEY_IP;
        key->prefix6 = (int)v;
        return NULL;
    }
    if (len == 4 && !memcmp(k, "user", 4)) {
        key->kind = GK_RATE_KEY_USER;
        return NULL;
    }
    if (len == 6 && !memcmp(k, "global", 6)) {
        key->kind = GK_RATE_KEY_GLOBAL;
        return NULL;
    }
    if (has_prefix(k, len, "header:")) {
        if (len == 7) {
            return "header: needs a field name";
        }
        for (i = 7; i < len; i++) {
            if (!gk_http_is_tchar((unsigned char)k[i])) {
                return "the header name is not a field name (an RFC 9110 "
                       "token)";
            }
        }
        key->kind = GK_RATE_KEY_HEADER;
        key->name = apr_pstrmemdup(p, k + 7, len - 7);
        return NULL;
    }
    if (has_prefix(k, len, "env:")) {
        if (len == 4) {
            return "env: needs a variable name";
        }
        for (i = 4; i < len; i++) {
            if (!is_envchar((unsigned char)k[i])) {
                return "the variable name may only hold letters, digits "
                       "and '_'";
            }
        }
        key->kind = GK_RATE_KEY_ENV;
        key->name = apr_pstrmemdup(p, k + 4, len - 4);
        return NULL;
    }
    return "unknown key (expected ip, ip/N, user, header:NAME, env:NAME or "
           "global)";
}

/* Do two parsed alternatives key the same thing? */
static int same_key(const gk_rate_key_t *a, const gk_rate_key_t *b)
{
    if (a->kind != b->kind) {
        return 0;
    }
    if (a->kind == GK_RATE_KEY_HEADER) {
        return !strcasecmp(a->name, b->name);
    }
    if (a->kind == GK_RATE_KEY_ENV) {
        return !strcmp(a->name, b->name);
    }
    return 1;
}

const char *gk_rate_keys_parse(apr_pool_t *p, const char *s,
                               gk_rate_key_t *out, int max, int *n)
{
    const char *c = s, *q;
    int lim = max < GK_RATE_KEYS_MAX ? max : GK_RATE_KEYS_MAX, got = 0, i;

    *n = 0;
    if (!s || !*s) {
        return "empty key specification: expected KEY[|KEY...], KEY being "
               "ip, ip/N, user, header:NAME, env:NAME or global";
    }
    q = quote(p, s, strlen(s));
    if (lim < 1) {
        return apr_psprintf(p, "key specification %s: no room for a key", q);
    }
    for (;;) {
        const char *e = strchr(c, '|'), *why;
        apr_size_t len = e ? (apr_size_t)(e - c) : strlen(c);
        gk_rate_key_t key;

        if (!len) {
            return apr_psprintf(p, "key specification %s: empty alternative "
                                "(a '|' at the start, the end, or twice)", q);
        }
        if (got == lim) {
            return apr_psprintf(p, "key specification %s: more than %d "
                                "alternatives", q, lim);
        }
        if ((why = parse_key(p, c, len, &key))) {
            return apr_psprintf(p, "key specification %s: key %s: %s", q,
                                quote(p, c, len), why);
        }
        if (got && out[got - 1].kind == GK_RATE_KEY_GLOBAL) {
            return apr_psprintf(p, "key specification %s: \"global\" must be "
                                "the last alternative (%s after it would "
                                "never be used)", q, quote(p, c, len));
        }
        for (i = 0; i < got; i++) {
            if (same_key(&out[i], &key)) {
                return apr_psprintf(p, "key specification %s: key %s appears "
                                    "twice%s", q, quote(p, c, len),
                                    key.kind == GK_RATE_KEY_IP
                                        ? " (ip and ip/N are one kind)" : "");
            }
        }
        out[got++] = key;
        if (!e) {
            break;
        }
        c = e + 1;
    }
    *n = got;
    return NULL;
}

/* ---- addresses --------------------------------------------------------- */

int gk_rate_ip_group_raw(int family, const unsigned char *addr, int prefix6,
                         unsigned char out[17], apr_size_t *out_len)
{
    unsigned char a[16];
    int i;

    if (!addr || prefix6 < 1 || prefix6 > 128) {
        return 0;
    }
    if (family == 4) {
        out[0] = 4;
        memcpy(out + 1, addr, 4);
        *out_len = 5;
        return 1;
    }
    if (family != 6) {
        return 0;
    }
    if (!memcmp(addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12)) {
        /* IPv4-mapped: the IPv4 client of a dual-stack listener */
        out[0] = 4;
        memcpy(out + 1, addr + 12, 4);
        *out_len = 5;
        return 1;
    }
    memcpy(a, addr, 16);
    for (i = 0; i < 16; i++) {
        int bits = prefix6 - 8 * i;
        if (bits <= 0) {
            a[i] = 0;
        }
        else if (bits < 8) {
            a[i] &= (unsigned char)(0xff << (8 - bits));
        }
    }
    out[0] = 6;
    memcpy(out + 1, a, 16);
    *out_len = 17;
    return 1;
}

int gk_rate_ip_group(const char *ip, int prefix6, unsigned char out[17],
                     apr_size_t *out_len)
{
    /* the longest IPv6 text is 45 characters (INET6_ADDRSTRLEN - 1) */
    char buf[INET6_ADDRSTRLEN];
    unsigned char a[16];
    apr_size_t len;
    const char *pct;

    if (!ip || prefix6 < 1 || prefix6 > 128) {
        return 0;
    }
    if (inet_pton(AF_INET, ip, a) == 1) {
        return gk_rate_ip_group_raw(4, a, prefix6, out, out_len);
    }
    /* an IPv6 zone ("fe80::1%eth0", as APR writes link-local peers) is
     * not part of the address */
    pct = strchr(ip, '%');
    len = pct ? (apr_size_t)(pct - ip) : strlen(ip);
    if (len >= sizeof(buf) || (pct && (!pct[1] || !memchr(ip, ':', len)))) {
        return 0;
    }
    memcpy(buf, ip, len);
    buf[len] = '\0';
    if (inet_pton(AF_INET6, buf, a) != 1) {
        return 0;
    }
    return gk_rate_ip_group_raw(6, a, prefix6, out, out_len);
}

/* ---- counter keys ------------------------------------------------------ */

/* The version tag that starts every hashed encoding: a new encoding gets a
 * new tag, so that it never meets the counters of the old one. */
static const unsigned char enc_tag[] = {'g', 'k', 'r', 'l', 2};

/* The fixed key of the identities: they name configuration, not clients,
 * and only need to be distinct. */
static const unsigned char id_key[16] = {
    'g', 'k', '-', 'r', 'a', 't', 'e', '-', 'i', 'd', 'e', 'n', 't', 'i',
    't', 'y'
};

static void put_le64(unsigned char *p, apr_uint64_t n)
{
    int i;

    for (i = 0; i < 8; i++) {
        p[i] = (unsigned char)(n >> (8 * i));
    }
}

/* A field of an identity: presence byte, length, bytes. */
static void id_field(gk_siphash_t *st, const char *v)
{
    unsigned char head[9];
    apr_size_t n = v ? strlen(v) : 0;

    head[0] = v != NULL;
    put_le64(head + 1, n);
    gk_siphash24_update(st, head, v ? 9 : 1);
    if (v) {
        gk_siphash24_update(st, v, n);
    }
}

apr_uint64_t gk_rate_site_id(const char *site)
{
    gk_siphash_t st;

    gk_siphash24_init(&st, id_key);
    gk_siphash24_update(&st, "site", 4);
    id_field(&st, site);
    return gk_siphash24_final(&st);
}

apr_uint64_t gk_rate_limit_id(const char *name, const char *dir)
{
    gk_siphash_t st;

    gk_siphash24_init(&st, id_key);
    gk_siphash24_update(&st, "limit", 5);
    id_field(&st, name);
    id_field(&st, dir);
    return gk_siphash24_final(&st);
}

apr_uint64_t gk_rate_counter_hash(const unsigned char key16[16],
                                  apr_uint64_t site_id, apr_uint64_t limit_id,
                                  int kind, const void *value,
                                  apr_size_t value_len)
{
    /* tag, the two identities, the kind, the value's length: then the
     * value, hashed in the same call when it fits */
    unsigned char flat[sizeof(enc_tag) + 8 + 8 + 4 + 8 + 96];
    const apr_size_t head = sizeof(enc_tag) + 8 + 8 + 4 + 8;
    apr_uint32_t k = (apr_uint32_t)kind;
    gk_siphash_t st;

    if (!value) {
        value = "";
        value_len = 0;
    }
    memcpy(flat, enc_tag, sizeof(enc_tag));
    put_le64(flat + sizeof(enc_tag), site_id);
    put_le64(flat + sizeof(enc_tag) + 8, limit_id);
    flat[sizeof(enc_tag) + 16] = (unsigned char)k;
    flat[sizeof(enc_tag) + 17] = (unsigned char)(k >> 8);
    flat[sizeof(enc_tag) + 18] = (unsigned char)(k >> 16);
    flat[sizeof(enc_tag) + 19] = (unsigned char)(k >> 24);
    put_le64(flat + sizeof(enc_tag) + 20, (apr_uint64_t)value_len);
    if (value_len <= sizeof(flat) - head) {
        memcpy(flat + head, value, value_len);
        return gk_siphash24(key16, flat, head + value_len);
    }
    gk_siphash24_init(&st, key16);
    gk_siphash24_update(&st, flat, head);
    gk_siphash24_update(&st, value, value_len);
    return gk_siphash24_final(&st);
}

apr_size_t gk_rate_counter_key_ids(char *buf, apr_size_t size,
                                   const unsigned char key16[16],
                                   apr_uint64_t site_id,
                                   apr_uint64_t limit_id, int kind,
                                   const void *value, apr_size_t value_len,
                                   apr_uint64_t window_start)
{
    static const char hex[] = "0123456789abcdef";
    apr_size_t nd = 0, len, i;
    apr_uint64_t h, w = window_start;
    char digits[20];

    do {
        digits[nd++] = (char)('0' + w % 10);
        w /= 10;
    } while (w);
    len = 5 + 16 + 1 + nd;
    if (!buf || size <= len) {
        if (buf && size) {
            buf[0] = '\0';
        }
        return 0;
    }
    h = gk_rate_counter_hash(key16, site_id, limit_id, kind, value,
                             value_len);
    memcpy(buf, "gkrl:", 5);
    for (i = 0; i < 16; i++) {
        buf[5 + i] = hex[(h >> (60 - 4 * i)) & 15];
    }
    buf[21] = ':';
    for (i = 0; i < nd; i++) {
        buf[22 + i] = digits[nd - 1 - i];
    }
    buf[len] = '\0';
    return len;
}

apr_size_t gk_rate_counter_key(char *buf, apr_size_t size,
                               const unsigned char key16[16],
                               const char *site, const char *name, int kind,
                               const char *dir, const void *value,
                               apr_size_t value_len,
                               apr_uint64_t window_start)
{
    return gk_rate_counter_key_ids(buf, size, key16, gk_rate_site_id(site),
                                   gk_rate_limit_id(name, dir), kind, value,
                                   value_len, window_start);
}
