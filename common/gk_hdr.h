/*
 * Response header fields: the character rules of names and values, and
 * the merge of comma-separated token lists (Vary), for mod_gk_headers.
 * Pure functions of their arguments: no httpd header, no state, safe from
 * any thread.
 */
#ifndef GK_HDR_H
#define GK_HDR_H

#include "gk.h"

/* Is s a field name: an RFC 9110 token (1*tchar)? NULL: no. */
int gk_hdr_is_token(const char *s);

/* Is s a field value a configuration may set: at least one character,
 * visible ASCII, spaces and tabs inside only (no leading or trailing
 * white space), no control character and no byte above 0x7E? */
int gk_hdr_is_value(const char *s);

/* A Vary value that holds every field name of have, then those of add
 * that have does not hold (case-insensitive), in order, joined with ", ".
 * Either may be NULL or empty; "*" in either gives "*". Empty members,
 * white space and duplicates are dropped; members that are not tokens are
 * dropped too, so that what a backend sent cannot corrupt the result.
 * Returns NULL when the result has no member. */
const char *gk_hdr_vary_merge(apr_pool_t *p, const char *have,
                              const char *add);

/* The Strict-Transport-Security value of a GKHSTS line (RFC 6797
 * §6.1): args are "max-age=N" (N in 0..max_age_max, digits only), then
 * optionally "includeSubDomains" and "preload", in any order and case,
 * each at most once. preload needs max-age >= 31536000 and
 * includeSubDomains (the preload list's rules). On success *value is the
 * canonical header value ("max-age=N; includeSubDomains; preload") and
 * NULL is returned; otherwise an error message (pool memory) and *value
 * is untouched. */
#define GK_HDR_HSTS_PRELOAD_MIN 31536000
const char *gk_hdr_hsts_parse(apr_pool_t *p, int argc,
                              const char *const argv[], long max_age_max,
                              const char **value);

/* Did the nearest proxy see HTTPS? From the values of the request's
 * Forwarded (RFC 7239) and X-Forwarded-Proto headers, either NULL; several
 * fields of a name arrive joined by ", ". The last element is the one the
 * proxy that talks to us wrote: Forwarded's last element decides when it
 * has a proto parameter, else X-Forwarded-Proto's last member. Returns 1
 * for https (any case), 0 for anything else or nothing. Only meaningful
 * when that proxy is trusted. */
int gk_hdr_forwarded_https(const char *forwarded, const char *xfp);

/* The path and query of a request target as the client sent it (RFC 9112
 * §3.2: origin-form "/p?q", or absolute-form "http://host/p?q", whose path
 * is "/" when empty), without a fragment; NULL for the asterisk and
 * authority forms, a target without "://" that does not start with '/', or
 * one with a byte outside 0x21-0x7E (it goes into a Location header). */
const char *gk_hdr_target_path(apr_pool_t *p, const char *target);

#endif
