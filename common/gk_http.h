/*
 * HTTP grammar helpers (RFC 9110, RFC 6750) for values a module reads from
 * its configuration or a request, or writes into a header.
 */
#ifndef GK_HTTP_H
#define GK_HTTP_H

#include "gk.h"

/* Is c a control character (RFC 5234 CTL: 0x00-0x1F and DEL)? */
static inline int gk_http_is_ctl(char c)
{
    return (unsigned char)c < 0x20 || (unsigned char)c == 0x7f;
}

/* The value of a hexadecimal digit (either case), or -1. */
static inline int gk_http_hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Does s hold a control character (CR and LF included)? */
int gk_http_has_ctl(const char *s);

/* Is s a token (RFC 9110 section 5.6.2): one or more of ALPHA, DIGIT and
 * "!#$%&'*+-.^_`|~"? Header names, cookie names and auth schemes are. */
int gk_http_is_token(const char *s);

/* The same for [s, s + n); NULL or empty: no. */
int gk_http_is_token_n(const char *s, apr_size_t n);

/* Is c a token character? */
int gk_http_is_tchar(char c);

/* Is s (len bytes) a b64token (RFC 6750 section 2.1):
 * 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="? */
int gk_http_is_b64token(const char *s, apr_size_t len);

/* Quote s as the value of an HTTP auth-param (RFC 9110 quoted-string):
 * '"' and '\' escaped, control characters dropped. */
const char *gk_http_quote(apr_pool_t *p, const char *s);

/* Is name (any case) a header that no module may set from data: the
 * credentials, the message framing, the connection's own headers? */
int gk_http_header_is_reserved(const char *name);

/* Are two header names the same for a backend that folds case and reads
 * '_' as '-' (CGI/WSGI's HTTP_X_USER)? The rule every module uses to
 * remove client-sent copies of a header it sets. */
int gk_http_header_same(const char *a, const char *b);

/* s past spaces and tabs (RFC 9110 OWS). */
const char *gk_http_skip_ows(const char *s);

/* The parameters of a Content-Type value, from just after its
 * type/subtype: each "; name=value" with a token or quoted-string value
 * (RFC 9110 section 8.3.1), white space around each ';', empty parameters
 * (";;", a trailing ';') allowed, as RFC 9110's grammar does. Parameters
 * are ignored except charset, which may appear once and must then be one
 * of charsets (any case, quoted or not; a NULL-terminated list). 1 or 0:
 * another charset, a malformed parameter, a control character, or text
 * that is not a parameter ("-evil" after the subtype). */
int gk_http_media_params_ok(const char *s, const char *const *charsets);

/* Is content_type a JSON media type with UTF-8 text: application/json or
 * application/<name>+json (RFC 6839 section 3.1), type and subtype in any
 * case, with no charset parameter or charset=utf-8 (parameters as
 * gk_http_media_params_ok)? NULL, empty, text/json, application/jsonx,
 * application/+json, charset=latin1: 0. */
int gk_http_json_media_type_ok(const char *content_type);

/* Is [s, s + n) a canonical dotted quad: exactly four decimal numbers
 * 0-255 joined by '.', ASCII digits, no leading zero ("010.0.0.1" is
 * refused: inet_aton would read it in octal), no sign, no space? The
 * rule of RFC 3986's IPv4address, of JSON Schema's "ipv4" and of a
 * CORS origin's IPv4 host. */
int gk_http_is_ipv4(const char *s, apr_size_t n);

#endif
