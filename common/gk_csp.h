/*
 * Content-Security-Policy values: a per-request nonce added to a policy
 * (mod_gk_headers, GKCSPNonce). Pure functions of their arguments:
 * no httpd header, no state, safe from any thread.
 */
#ifndef GK_CSP_H
#define GK_CSP_H

#include "gk.h"

/* policy with the source 'nonce-<nonce>' allowed for scripts and styles
 * (CSP3): appended to the first script-src and style-src directives (a
 * lone 'none' there is replaced, since 'none' cannot be combined with a
 * source); a directive that is absent is added with default-src's
 * sources and the nonce when the policy has a default-src (so that the
 * other sources keep applying), and left absent otherwise (nothing
 * restricts scripts then: adding a nonce-only list would). Empty
 * directives are dropped, the rest is kept in order and joined with "; ".
 * NULL policy: NULL. */
const char *gk_csp_add_nonce(apr_pool_t *p, const char *policy,
                             const char *nonce);

#endif
