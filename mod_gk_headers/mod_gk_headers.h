/*
 * mod_gk_headers: what other modules may rely on.
 *
 * The module registers one output filter, GK_HEADERS_SECURITY
 * (AP_FTYPE_PROTOCOL - 1), inserted on every response of a scope with a
 * GKSecurityHeaders profile from both insert_filter and
 * insert_error_filter. It leaves exactly one copy of each header it owns,
 * in r->headers_out, right before httpd's HTTP_HEADER filter; a module
 * that wants its own value of one of them to reach the client sets it
 * and the administrator chooses `GKSecurityHeaderPolicy NAME keep-backend`.
 *
 * With GKCSPNonce On, the request's nonce (base64url, 22
 * characters, the same for the request, its internal redirects and its
 * subrequests) is in the environment variable below, for CGI, SSI,
 * mod_rewrite and mod_headers, and in a request header (X-CSP-Nonce by
 * default) for proxied backends.
 *
 * It offers no optional function; its notes are below.
 */
#ifndef MOD_GK_HEADERS_H
#define MOD_GK_HEADERS_H

#define GK_HEADERS_FILTER_SECURITY "GK_HEADERS_SECURITY"
/* GKProblemJSON's body filter (same type). */
#define GK_HEADERS_FILTER_PROBLEM "GK_HEADERS_PROBLEM"
#define GK_HEADERS_ENV_NONCE "GK_CSP_NONCE"

/* The CORS decision on a request with an Origin (or a preflight) in a
 * scope with GKCORSAllowOrigin, set in header_parser on the original
 * request: "success" or "failure", and a reason code of
 * common/gk_reason.h (cors_allowed, cors_preflight, cors_refused,
 * cors_bad_origin, cors_method_refused, cors_header_refused,
 * cors_misconfigured). A preflight is answered (204 or 403) in
 * header_parser and never reaches access_checker: rate limits do not
 * count it. */
#define GK_HEADERS_NOTE_CORS_OUTCOME "gk-cors-outcome"
#define GK_HEADERS_NOTE_CORS_REASON "gk-cors-reason"

#endif
