/*
 * CORS origins, their matching and the decisions on requests and
 * preflights (gk_cors.h).
 *
 * Host names: labels of lower-case letters, digits and '-' (a hyphen may
 * be anywhere in a label, first and last included: browsers send such
 * names), 1 to 63 bytes each, 253 bytes in all, no empty label. A name
 * whose last label is a number (all digits, or "0x" and hex digits) is
 * read by browsers as an IPv4 address (the URL standard's "ends in a
 * number"), so it must then be a canonical dotted quad. IPv6 addresses
 * are written as the URL standard serialises them: RFC 5952 (lower case,
 * the first longest run of two or more zero pieces compressed), always in
 * hex pieces, never with an embedded dotted quad ("[::ffff:102:304]", not
 * glibc's "[::ffff:1.2.3.4]").
 */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>

#include <libpsl.h>

#include <apr_strings.h>

#include "gk_cors.h"
#include "gk_http.h"

/* The longest Access-Control-Request-Headers value and number of members
 * a preflight may have. */
#define ACRH_MAX_LEN 8192
#define ACRH_MAX_MEMBERS 64

/* ---- characters and numbers ------------------------------------------- */


static int is_lower(char c)
{
    return c >= 'a' && c <= 'z';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_hex_lower(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f');
}

/* A character of a scheme after its first (a letter), lower-case. */
static int is_scheme_char(char c)
{
    return is_lower(c) || is_digit(c) || c == '+' || c == '-' || c == '.';
}

static char to_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* The default port of the scheme [s, s + n): 80, 443, or 0 for none. */
static int default_port(const char *s, apr_size_t n)
{
    if (n == 4 && !memcmp(s, "http", 4)) {
        return 80;
    }
    if (n == 5 && !memcmp(s, "https", 5)) {
        return 443;
    }
    return 0;
}

/* ---- hosts -------------------------------------------------------------- */

typedef enum {
    HOST_OK = 0,
    HOST_EMPTY,
    HOST_CHAR,          /* a byte other than [a-z0-9-.] */
    HOST_EMPTY_LABEL,
    HOST_LABEL_LONG,    /* a label over 63 bytes */
    HOST_LONG,          /* over 253 bytes */
    HOST_NUMERIC        /* ends in a number but is no canonical IPv4 */
} host_err_e;

/* Is the label [s, s + n) a number to the URL standard's IPv4 parser:
 * all digits, or "0x" followed by hex digits (lower case here)? */
static int is_number_label(const char *s, apr_size_t n)
{
    apr_size_t i;

    if (n >= 2 && s[0] == '0' && s[1] == 'x') {
        for (i = 2; i < n; i++) {
            if (!is_hex_lower(s[i])) {
                return 0;
            }
        }
        return 1;
    }
    for (i = 0; i < n; i++) {
        if (!is_digit(s[i])) {
            return 0;
        }
    }
    return n > 0;
}

/* Check the host name [s, s + n) (lower case, no brackets, no trailing
 * dot): a DNS name as described at the top of this file, or a canonical
 * dotted quad (*ipv4 set). */
static host_err_e check_name(const char *s, apr_size_t n, int *ipv4)
{
    apr_size_t i, label = 0, last = 0;

    *ipv4 = 0;
    if (!n) {
        return HOST_EMPTY;
    }
    for (i = 0; i < n; i++) {
        char c = s[i];
        if (c == '.') {
            if (!label) {
                return HOST_EMPTY_LABEL;
            }
            label = 0;
            last = i + 1;
            continue;
        }
        if (!is_lower(c) && !is_digit(c) && c != '-') {
            return HOST_CHAR;
        }
        if (++label > 63) {
            return HOST_LABEL_LONG;
        }
    }
    if (!label) {
        return HOST_EMPTY_LABEL;
    }
    if (n > 253) {
        return HOST_LONG;
    }
    if (is_number_label(s + last, n - last)) {
        if (!gk_http_is_ipv4(s, n)) {
            return HOST_NUMERIC;
        }
        *ipv4 = 1;
    }
    return HOST_OK;
}

/* Write the 16 bytes of an IPv6 address as the URL standard serialises
 * them (see the top of this file) into out (40 bytes or more), without
 * brackets; returns the length. */
static apr_size_t ipv6_format(const unsigned char b[16], char *out)
{
    static const char hex[] = "0123456789abcdef";
    unsigned w[8];
    int i, best = -1, bestlen = 0, cur = -1, curlen = 0, skip = 0;
    apr_size_t o = 0;

    for (i = 0; i < 8; i++) {
        w[i] = ((unsigned)b[2 * i] << 8) | b[2 * i + 1];
        if (w[i]) {
            cur = -1;
            continue;
        }
        if (cur < 0) {
            cur = i;
            curlen = 0;
        }
        if (++curlen > bestlen) {
            best = cur;
            bestlen = curlen;
        }
    }
    if (bestlen < 2) {
        best = -1;
    }
    for (i = 0; i < 8; i++) {
        int shift, started = 0;
        if (skip && !w[i]) {
            continue;
        }
        skip = 0;
        if (i == best) {
            out[o++] = ':';
            if (i == 0) {
                out[o++] = ':';
            }
            skip = 1;
            continue;
        }
        for (shift = 12; shift >= 0; shift -= 4) {
            unsigned d = (w[i] >> shift) & 0xf;
            if (d || started || shift == 0) {
                out[o++] = hex[d];
                started = 1;
            }
        }
        if (i < 7) {
            out[o++] = ':';
        }
    }
    out[o] = '\0';
    return o;
}

/* Parse the IPv6 address [s, s + n) (no brackets) in any form inet_pton
 * takes and write its canonical form into out (40 bytes or more). 0 when
 * it is not an address. */
static int ipv6_canon(const char *s, apr_size_t n, char *out)
{
    char buf[64];
    unsigned char b[16];

    if (!n || n >= sizeof(buf)) {
        return 0;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (inet_pton(AF_INET6, buf, b) != 1) {
        return 0;
    }
    ipv6_format(b, out);
    return 1;
}

/* ---- origins as browsers send them ------------------------------------ */

int gk_cors_origin_parse(const char *v, apr_size_t len, gk_cors_origin_t *o)
{
    apr_size_t i = 0, h, e;
    int def, ipv4;

    if (!v || !o || !len || !is_lower(v[0])) {
        return 0;
    }
    while (i < len && is_scheme_char(v[i])) {
        i++;
    }
    if (len - i < 3 || memcmp(v + i, "://", 3) != 0) {
        return 0;
    }
    def = default_port(v, i);
    h = i + 3;
    if (h < len && v[h] == '[') {
        char canon[48];
        const char *close = memchr(v + h, ']', len - h);
        if (!close) {
            return 0;
        }
        e = (apr_size_t)(close - v) + 1;
        if (e - h - 2 > 39 || !ipv6_canon(v + h + 1, e - h - 2, canon)
            || strlen(canon) != e - h - 2
            || memcmp(canon, v + h + 1, e - h - 2) != 0) {
            return 0;
        }
    }
    else {
        for (e = h; e < len && v[e] != ':'; e++) {
        }
        if (check_name(v + h, e - h, &ipv4) != HOST_OK) {
            return 0;
        }
    }
    o->scheme = v;
    o->scheme_len = i;
    o->host = v + h;
    o->host_len = e - h;
    o->port = def;
    if (e == len) {
        return 1;
    }
    if (v[e] != ':') {
        return 0;
    }
    /* 1 to 5 digits, no leading zero, 1-65535, not the default */
    e++;
    if (e == len || len - e > 5 || v[e] == '0') {
        return 0;
    }
    o->port = 0;
    for (; e < len; e++) {
        if (!is_digit(v[e])) {
            return 0;
        }
        o->port = o->port * 10 + (v[e] - '0');
    }
    if (o->port > 65535 || o->port == def) {
        return 0;
    }
    return 1;
}

/* ---- origins as configured -------------------------------------------- */

/* The message for a host error. */
static const char *host_error(apr_pool_t *p, const char *text,
                              const char *host, host_err_e err)
{
    switch (err) {
    case HOST_EMPTY:
        return apr_psprintf(p, "'%s' has no host", text);
    case HOST_CHAR:
        return apr_psprintf(p, "'%s': the host '%s' may only hold letters, "
                            "digits, '-' and '.'", text, host);
    case HOST_EMPTY_LABEL:
        return apr_psprintf(p, "'%s': the host '%s' has an empty label",
                            text, host);
    case HOST_LABEL_LONG:
        return apr_psprintf(p, "'%s': the host '%s' has a label longer than "
                            "63 characters", text, host);
    case HOST_LONG:
        return apr_psprintf(p, "'%s': the host '%s' is longer than 253 "
                            "characters", text, host);
    case HOST_NUMERIC:
    default:
        return apr_psprintf(p, "'%s': the host '%s' ends in a number, so "
                            "browsers read it as an IPv4 address, but it is "
                            "not one in dotted-decimal form (four numbers "
                            "from 0 to 255 without leading zeros)", text,
                            host);
    }
}

const char *gk_cors_allowed_parse(apr_pool_t *p, const char *text,
                                  gk_cors_allowed_t *out)
{
    const char *sep, *auth, *ae, *hb, *he, *pb = NULL, *pe = NULL;
    char *scheme, *host, *canon;
    apr_size_t n, i, slen, hlen;
    int wildcard = 0, def, port = 0, written = 0, ipv4 = 0;
    host_err_e herr;

    if (!text || !*text) {
        return "an empty origin";
    }
    n = strlen(text);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c >= 0x80) {
            return apr_psprintf(p, "'%s' holds a byte that is not ASCII: "
                                "write internationalised host names in "
                                "punycode (xn--...), as browsers send them",
                                text);
        }
        if (c <= 0x20 || c == 0x7f) {
            return apr_psprintf(p, "'%s' holds white space or a control "
                                "character", text);
        }
    }
    if (!strcasecmp(text, "null")) {
        return "'null' cannot be allowed: browsers send it for sandboxed "
               "documents, local files and redirects, which any site can "
               "cause";
    }
    if (!strcmp(text, "*")) {
        return "'*' is not an origin: give it alone to allow every origin";
    }
    sep = strstr(text, "://");
    if (!sep) {
        return apr_psprintf(p, "'%s' is not an origin: write "
                            "scheme://host[:port] or scheme://*.DOMAIN[:port]",
                            text);
    }
    slen = (apr_size_t)(sep - text);
    scheme = apr_pstrmemdup(p, text, slen);
    for (i = 0; i < slen; i++) {
        scheme[i] = to_lower(scheme[i]);
    }
    if (!slen || !is_lower(scheme[0])) {
        return apr_psprintf(p, "'%s': '%s' is not a URL scheme", text,
                            scheme);
    }
    for (i = 1; i < slen; i++) {
        if (!is_scheme_char(scheme[i])) {
            return apr_psprintf(p, "'%s': '%s' is not a URL scheme", text,
                                scheme);
        }
    }
    def = default_port(scheme, slen);

    /* the authority, then what follows it: nothing or a lone "/" */
    auth = sep + 3;
    ae = auth + strcspn(auth, "/?#\\");
    if (*ae) {
        if (strchr(ae, '?')) {
            return apr_psprintf(p, "'%s' has a query: an origin is only "
                                "scheme://host[:port]", text);
        }
        if (strchr(ae, '#')) {
            return apr_psprintf(p, "'%s' has a fragment: an origin is only "
                                "scheme://host[:port]", text);
        }
        if (strcmp(ae, "/") != 0) {
            return apr_psprintf(p, "'%s' has a path: an origin is only "
                                "scheme://host[:port]", text);
        }
    }
    if (memchr(auth, '@', (apr_size_t)(ae - auth))) {
        return apr_psprintf(p, "'%s' has user information ('...@'): an "
                            "origin is only scheme://host[:port]", text);
    }
    if (auth == ae) {
        return apr_psprintf(p, "'%s' has no host", text);
    }

    /* host and port */
    hb = auth;
    if (ae - auth >= 3 && auth[0] == '*' && auth[1] == '.'
        && auth[2] == '[') {
        return apr_psprintf(p, "'%s': a wildcard cannot cover an IP "
                            "address", text);
    }
    if (*auth == '[') {
        const char *close = memchr(auth, ']', (apr_size_t)(ae - auth));
        if (!close) {
            return apr_psprintf(p, "'%s': the IPv6 address has no closing "
                                "']'", text);
        }
        he = close + 1;
        if (he < ae && *he != ':') {
            return apr_psprintf(p, "'%s': text after the IPv6 address",
                                text);
        }
    }
    else {
        he = memchr(auth, ':', (apr_size_t)(ae - auth));
        if (!he) {
            he = ae;
        }
    }
    if (he < ae) {
        apr_size_t k;
        pb = he + 1;
        pe = ae;
        for (k = 0; pb + k < pe; k++) {
            if (!is_digit(pb[k])) {
                return apr_psprintf(p, "'%s': the port '%s' is not a number "
                                    "from 1 to 65535", text,
                                    apr_pstrmemdup(p, pb,
                                                   (apr_size_t)(pe - pb)));
            }
        }
        while (pb < pe - 1 && *pb == '0') {
            pb++;
        }
        /* an empty port is no port (the URL standard), dropped below */
        if (pb < pe) {
            if (pe - pb > 5) {
                port = 65536;
            }
            else {
                for (k = 0; pb + k < pe; k++) {
                    port = port * 10 + (pb[k] - '0');
                }
            }
            if (port < 1 || port > 65535) {
                return apr_psprintf(p, "'%s': the port '%s' is not a number "
                                    "from 1 to 65535", text,
                                    apr_pstrmemdup(p, he + 1,
                                                   (apr_size_t)(pe - he - 1)));
            }
            written = port != def;
        }
    }
    if (!written) {
        port = def;
    }

    hlen = (apr_size_t)(he - hb);
    host = apr_pstrmemdup(p, hb, hlen);
    if (*host == '[') {
        char buf[48];
        if (memchr(host, '%', hlen)) {
            return apr_psprintf(p, "'%s': an IPv6 address in an origin has "
                                "no zone identifier", text);
        }
        if (!ipv6_canon(host + 1, hlen - 2, buf)) {
            return apr_psprintf(p, "'%s': '%s' is not an IPv6 address", text,
                                host);
        }
        host = apr_pstrcat(p, "[", buf, "]", NULL);
    }
    else {
        char *d;
        for (i = 0; i < hlen; i++) {
            host[i] = to_lower(host[i]);
        }
        /* one trailing dot: the same host to DNS, dropped */
        if (hlen > 1 && host[hlen - 1] == '.') {
            host[--hlen] = '\0';
        }
        d = host;
        if (host[0] == '*' && host[1] == '.') {
            wildcard = 1;
            d = host + 2;
        }
        if (strchr(d, '*')) {
            return apr_psprintf(p, "'%s': a wildcard must be the whole first "
                                "label: scheme://*.DOMAIN[:port]", text);
        }
        herr = check_name(d, strlen(d), &ipv4);
        if (wildcard && (ipv4 || herr == HOST_NUMERIC)) {
            return apr_psprintf(p, "'%s': a wildcard cannot cover an IP "
                                "address", text);
        }
        if (herr != HOST_OK) {
            return host_error(p, text, d, herr);
        }
    }

    canon = written ? apr_psprintf(p, "%s://%s:%d", scheme, host, port)
                    : apr_pstrcat(p, scheme, "://", host, NULL);
    if (strcmp(canon, text) != 0) {
        return apr_psprintf(p, "'%s' is not written as browsers send it: "
                            "write '%s'", text, canon);
    }
    out->text = canon;
    out->len = strlen(canon);
    out->wildcard = wildcard;
    out->o.scheme = canon;
    out->o.scheme_len = slen;
    out->o.host = canon + slen + 3 + (wildcard ? 2 : 0);
    out->o.host_len = strlen(host) - (wildcard ? 2 : 0);
    out->o.port = port;
    return NULL;
}

/* ---- matching ----------------------------------------------------------- */

int gk_cors_allowed_match(const gk_cors_allowed_t *a,
                          const gk_cors_origin_t *o)
{
    const char *tail;

    if (!a || !o || !o->scheme || !o->host) {
        return 0;
    }
    if (a->o.scheme_len != o->scheme_len || a->o.port != o->port
        || memcmp(a->o.scheme, o->scheme, o->scheme_len) != 0) {
        return 0;
    }
    if (!a->wildcard) {
        return a->o.host_len == o->host_len
               && !memcmp(a->o.host, o->host, o->host_len);
    }
    /* at least one byte of label, a dot, then DOMAIN */
    if (o->host_len < a->o.host_len + 2) {
        return 0;
    }
    tail = o->host + o->host_len - a->o.host_len;
    return tail[-1] == '.' && !memcmp(tail, a->o.host, a->o.host_len);
}

/* Is the host [h, h + n) the literal s? */
static int host_is(const char *h, apr_size_t n, const char *s)
{
    return strlen(s) == n && !memcmp(h, s, n);
}

int gk_cors_allowed_loopback(const gk_cors_allowed_t *a)
{
    if (!a || a->wildcard || a->o.scheme_len != 4
        || memcmp(a->o.scheme, "http", 4) != 0) {
        return 0;
    }
    return host_is(a->o.host, a->o.host_len, "localhost")
           || host_is(a->o.host, a->o.host_len, "127.0.0.1")
           || host_is(a->o.host, a->o.host_len, "[::1]");
}

int gk_cors_allowed_https(const gk_cors_allowed_t *a)
{
    return a && a->o.scheme_len == 5 && !memcmp(a->o.scheme, "https", 5);
}

int gk_cors_public_suffix(const char *domain)
{
    psl_ctx_t *latest;
    const psl_ctx_t *psl;
    int r;

    if (!domain || !*domain) {
        return 1;
    }
    latest = psl_latest(NULL);
    psl = latest ? latest : psl_builtin();
    if (!psl) {
        return 1;   /* no list at all: fail closed */
    }
    r = psl_is_public_suffix2(psl, domain, PSL_TYPE_ANY) ? 1 : 0;
    if (latest) {
        psl_free(latest);
    }
    return r;
}

/* ---- decisions ------------------------------------------------------------ */

gk_cors_result_e gk_cors_check_origin(const gk_cors_policy_t *pol,
                                      const char *origin)
{
    gk_cors_origin_t o;
    apr_size_t n;
    int i;

    if (!origin) {
        return GK_CORS_NO_ORIGIN;
    }
    n = strlen(origin);
    /* an exact entry's text is a serialised origin (checked at startup):
     * the same bytes are the same, valid origin */
    for (i = 0; pol && !pol->any_origin && i < pol->norigins; i++) {
        const gk_cors_allowed_t *a = &pol->origins[i];
        if (!a->wildcard && a->len == n && !memcmp(a->text, origin, n)) {
            return GK_CORS_ALLOWED;
        }
    }
    if (!gk_cors_origin_parse(origin, n, &o)) {
        return GK_CORS_BAD_ORIGIN;
    }
    if (!pol) {
        return GK_CORS_ORIGIN_REFUSED;
    }
    if (pol->any_origin) {
        return GK_CORS_ALLOWED;
    }
    for (i = 0; i < pol->norigins; i++) {
        if (gk_cors_allowed_match(&pol->origins[i], &o)) {
            return GK_CORS_ALLOWED;
        }
    }
    return GK_CORS_ORIGIN_REFUSED;
}

int gk_cors_method_allowed(const gk_cors_policy_t *pol, const char *method)
{
    int i;

    if (!method || !gk_http_is_token_n(method, strlen(method))) {
        return 0;
    }
    if (!strcmp(method, "GET") || !strcmp(method, "HEAD")
        || !strcmp(method, "POST")) {
        return 1;
    }
    if (!pol) {
        return 0;
    }
    if (pol->any_method) {
        return 1;
    }
    for (i = 0; i < pol->nmethods; i++) {
        if (pol->methods[i] && !strcmp(pol->methods[i], method)) {
            return 1;
        }
    }
    return 0;
}

/* Is [name, name + len) the name s, in any case? */
static int name_is(const char *name, apr_size_t len, const char *s)
{
    return strlen(s) == len && !strncasecmp(name, s, len);
}

/* Is [name, name + len) on the policy's list of headers (any case)? */
static int header_listed(const gk_cors_policy_t *pol, const char *name,
                         apr_size_t len)
{
    int i;

    for (i = 0; i < pol->nheaders; i++) {
        if (pol->headers[i] && name_is(name, len, pol->headers[i])) {
            return 1;
        }
    }
    return 0;
}

int gk_cors_header_allowed(const gk_cors_policy_t *pol, const char *name,
                           apr_size_t len)
{
    if (!gk_http_is_token_n(name, len)) {
        return 0;
    }
    if (name_is(name, len, "accept") || name_is(name, len, "accept-language")
        || name_is(name, len, "content-language")) {
        return 1;
    }
    if (!pol) {
        return 0;
    }
    if (name_is(name, len, "authorization")) {
        return header_listed(pol, name, len);
    }
    return pol->any_header || header_listed(pol, name, len);
}

/* One member of Access-Control-Request-Headers. */
typedef struct {
    const char *name;
    apr_size_t len;
} member_t;

gk_cors_result_e gk_cors_check_preflight(apr_pool_t *p,
                                         const gk_cors_policy_t *pol,
                                         const char *origin,
                                         const char *method,
                                         const char *request_headers,
                                         const char **allow_headers)
{
    member_t m[ACRH_MAX_MEMBERS];
    gk_cors_result_e r;
    const char *s;
    apr_size_t total = 0;
    int n = 0, count = 0, i, j, auth = 0;
    char *res, *w;

    if (allow_headers) {
        *allow_headers = NULL;
    }
    r = gk_cors_check_origin(pol, origin);
    if (r != GK_CORS_ALLOWED) {
        return r;
    }
    if (!method || !*method || !gk_cors_method_allowed(pol, method)) {
        return GK_CORS_METHOD_REFUSED;
    }
    if (!request_headers) {
        return GK_CORS_ALLOWED;
    }
    if (strnlen(request_headers, ACRH_MAX_LEN + 1) > ACRH_MAX_LEN) {
        return GK_CORS_HEADER_REFUSED;
    }
    /* the members, each allowed, duplicates (any case) kept once */
    for (s = request_headers; *s;) {
        const char *b, *e;
        int dup = 0;

        while (*s == ' ' || *s == '\t') {
            s++;
        }
        b = s;
        while (*s && *s != ',') {
            s++;
        }
        e = s;
        if (*s == ',') {
            s++;
        }
        while (e > b && (e[-1] == ' ' || e[-1] == '\t')) {
            e--;
        }
        if (e == b) {
            continue;
        }
        if (++count > ACRH_MAX_MEMBERS
            || !gk_cors_header_allowed(pol, b, (apr_size_t)(e - b))) {
            return GK_CORS_HEADER_REFUSED;
        }
        for (j = 0; j < n && !dup; j++) {
            dup = m[j].len == (apr_size_t)(e - b)
                  && !strncasecmp(m[j].name, b, m[j].len);
        }
        if (dup) {
            continue;
        }
        if (name_is(b, (apr_size_t)(e - b), "authorization")) {
            auth = 1;
        }
        m[n].name = b;
        m[n].len = (apr_size_t)(e - b);
        total += m[n].len + 2;
        n++;
    }
    if (!n || !allow_headers) {
        return GK_CORS_ALLOWED;
    }
    if (pol->any_header) {
        *allow_headers = auth ? "*, authorization" : "*";
        return GK_CORS_ALLOWED;
    }
    res = w = apr_palloc(p, total + 1);
    for (i = 0; i < n; i++) {
        apr_size_t k;
        if (i) {
            *w++ = ',';
            *w++ = ' ';
        }
        for (k = 0; k < m[i].len; k++) {
            *w++ = to_lower(m[i].name[k]);
        }
    }
    *w = '\0';
    *allow_headers = res;
    return GK_CORS_ALLOWED;
}
