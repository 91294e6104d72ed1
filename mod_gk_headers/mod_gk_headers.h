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
 * It offers no optional function and sets no note.
 */
#ifndef MOD_GK_HEADERS_H
#define MOD_GK_HEADERS_H

#define GK_HEADERS_FILTER_SECURITY "GK_HEADERS_SECURITY"
/* GKProblemJSON's body filter (same type). */
#define GK_HEADERS_FILTER_PROBLEM "GK_HEADERS_PROBLEM"
#define GK_HEADERS_ENV_NONCE "GK_CSP_NONCE"

#endif
