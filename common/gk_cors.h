/*
 * CORS (the Fetch standard's CORS protocol) for mod_gk_headers: origins
 * as configured and as browsers send them, their matching, and the
 * decision on a request or a preflight. No regular expressions: an
 * allowed origin is exact, or a wildcard over the subdomains of one
 * domain. Pure functions of their arguments, except gk_cors_public_suffix,
 * which reads the system's Public Suffix List (call it at startup only).
 * No httpd header; safe from any thread.
 */
#ifndef GK_CORS_H
#define GK_CORS_H

#include "gk.h"

/* An origin as a browser serialises it into the Origin header (RFC 6454
 * §6.2, the Fetch standard): "scheme://host" or "scheme://host:port", the
 * scheme and host lower-case, the host a DNS name without a trailing dot,
 * a dotted-quad IPv4 address or a bracketed RFC 5952 IPv6 address, the
 * port written only when it is not the scheme's default (80 for http, 443
 * for https), without leading zeros. Its fields point into the parsed
 * text.
 *
 * Precisely (gk_cors.c): DNS labels of [a-z0-9-] (a hyphen anywhere, as
 * browsers send such names), 1-63 bytes, 253 in all; a name whose last
 * label is a number (digits, or "0x" and hex) must be a canonical dotted
 * quad, as browsers read it as IPv4; IPv6 as the URL standard serialises
 * it (RFC 5952 compression, hex pieces only: "[::ffff:102:304]", never
 * glibc's "[::ffff:1.2.3.4]"), without a zone. */
typedef struct {
    const char *scheme;
    apr_size_t scheme_len;
    const char *host;           /* "[::1]" for IPv6 */
    apr_size_t host_len;
    int port;                   /* the written port, else the scheme's
                                 * default, 0 when the scheme has none */
} gk_cors_origin_t;

/* Is [v, v + len) exactly a serialised origin, as above (no path, no
 * trailing "/", no user information, no upper case, no default port, no
 * trailing dot, no byte outside visible ASCII)? 1 and *o filled, or 0:
 * "null", two origins joined by ", " (a repeated header), anything a
 * browser would not send. Never allocates. */
int gk_cors_origin_parse(const char *v, apr_size_t len, gk_cors_origin_t *o);

/* One allowed origin of a configuration. */
typedef struct {
    const char *text;           /* the canonical text, as configured */
    apr_size_t len;
    int wildcard;               /* "scheme://\*.DOMAIN[:PORT]" */
    gk_cors_origin_t o;         /* for a wildcard, host is DOMAIN */
} gk_cors_allowed_t;

/* Parse an origin of a configuration: a serialised origin, or a wildcard
 * "scheme://\*.DOMAIN[:PORT]" (subdomains of DOMAIN of any depth, not
 * DOMAIN itself; the port matched exactly, the scheme's default unless
 * one is written). Returns NULL and fills *out (its strings in p), or an
 * error message in p. Text that names an origin but is not written as a
 * browser sends it (upper case, the default port, a trailing dot or "/")
 * is refused too, with a message that shows the canonical form. "null",
 * "*", paths, queries, user information, non-ASCII host names (write
 * them in punycode) and wildcards anywhere but as the whole first label
 * are refused. */
const char *gk_cors_allowed_parse(apr_pool_t *p, const char *text,
                                  gk_cors_allowed_t *out);

/* Does the request's origin o match the allowed entry a? Exact entries:
 * the same origin. Wildcards: the same scheme and port, and a host that
 * ends with "." DOMAIN after at least one label. */
int gk_cors_allowed_match(const gk_cors_allowed_t *a,
                          const gk_cors_origin_t *o);

/* Is a an origin of the local machine over plain HTTP
 * (http://localhost, http://127.0.0.1, http://[::1], any port), for
 * which plain HTTP with credentials is tolerated (development)? */
int gk_cors_allowed_loopback(const gk_cors_allowed_t *a);

/* Is a over HTTPS? */
int gk_cors_allowed_https(const gk_cors_allowed_t *a);

/* Is domain (lower-case, no trailing dot) a public suffix: in the ICANN
 * or the private section of the Public Suffix List (com, co.uk,
 * github.io), or a top-level domain the list does not know? Reads the
 * newest list on the system (libpsl's psl_latest: Debian's publicsuffix
 * package), else the list built into libpsl. Startup only: it loads the
 * list on each call. NULL, "" or no list at all: 1 (fail closed). */
int gk_cors_public_suffix(const char *domain);

/* ---- the policy of a scope and the decision --------------------------- */

typedef struct {
    const gk_cors_allowed_t *origins;
    int norigins;
    int any_origin;             /* "*": every origin, answered as "*" */
    const char *const *methods; /* tokens, compared case-sensitively */
    int nmethods;
    int any_method;             /* "*" */
    const char *const *headers; /* field names, compared case-insensitively */
    int nheaders;
    int any_header;             /* "*": every name but Authorization */
    int credentials;
} gk_cors_policy_t;

typedef enum {
    GK_CORS_NO_ORIGIN = 0,      /* no Origin: not a CORS request */
    GK_CORS_ALLOWED,
    GK_CORS_BAD_ORIGIN,         /* not a serialised origin: null, repeated,
                                 * unparsable */
    GK_CORS_ORIGIN_REFUSED,     /* a valid origin not on the list */
    GK_CORS_METHOD_REFUSED,     /* preflight: the method is not allowed */
    GK_CORS_HEADER_REFUSED      /* preflight: a header is not allowed, or
                                 * Access-Control-Request-Headers is not a
                                 * list of field names */
} gk_cors_result_e;

/* The decision on a request's Origin value (NULL: none sent). */
gk_cors_result_e gk_cors_check_origin(const gk_cors_policy_t *pol,
                                      const char *origin);

/* Is the method allowed: a CORS-safelisted method (GET, HEAD, POST), on
 * the list, or any with "*"? method must be a token. */
int gk_cors_method_allowed(const gk_cors_policy_t *pol, const char *method);

/* Is the request header name [name, name + len) allowed: one a browser
 * never asks for when its value is safe (Accept, Accept-Language,
 * Content-Language), on the list (any case), or any but Authorization
 * with "*"? */
int gk_cors_header_allowed(const gk_cors_policy_t *pol, const char *name,
                           apr_size_t len);

/* The decision on a preflight: origin as gk_cors_check_origin, method
 * the Access-Control-Request-Method value, request_headers the
 * Access-Control-Request-Headers value (NULL: none), a comma-separated
 * list of field names with optional white space (empty members are
 * skipped). On GK_CORS_ALLOWED, *allow_headers is the list to answer in
 * Access-Control-Allow-Headers (in p): the requested names that were
 * allowed, lower-case, joined by ", ", each once (any case) in the order
 * first asked; with "*" in the policy, "*" (and ", authorization" when
 * Authorization was asked for and is on the list); NULL when nothing was
 * asked for (or allow_headers is NULL). A request_headers value over 8192
 * bytes or of more than 64 non-empty members (duplicates counted) is
 * GK_CORS_HEADER_REFUSED. */
gk_cors_result_e gk_cors_check_preflight(apr_pool_t *p,
                                         const gk_cors_policy_t *pol,
                                         const char *origin,
                                         const char *method,
                                         const char *request_headers,
                                         const char **allow_headers);

#endif
