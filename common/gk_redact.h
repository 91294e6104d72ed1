/*
 * Secrets kept out of log lines (common/gk_redact.c): query parameters
 * named in a list keep their names and lose their values, URL user-info
 * goes. Pure functions over strings; the module applies them to url.query,
 * the referrer and any logged header, and drops the headers that carry
 * credentials (Authorization, Cookie...) before they get here.
 *
 * How names match: the parameter's name is percent-decoded ('+' is a
 * space) and compared without regard to ASCII case, so that
 * ?Access%5FToken=... is the access_token a backend reads. Parameters are
 * separated by '&' or ';' (some frameworks accept both).
 */
#ifndef GK_REDACT_H
#define GK_REDACT_H

#include <apr_pools.h>
#include <apr_tables.h>

#include "gk.h"

/* The value that replaces a secret. */
#define GK_REDACTED "REDACTED"

/* The parameters hidden by default, space-separated. */
#define GK_REDACT_DEFAULT_QUERY                                            \
    "access_token token id_token refresh_token code password secret "      \
    "client_secret api_key"

/* q (len bytes, without the '?') with the value of every parameter whose
 * name is in names (const char *, already lower case) replaced by
 * GK_REDACTED. Returns q itself when nothing changed, else a copy from p
 * (NUL-terminated). NULL q: NULL. */
const char *gk_redact_query(apr_pool_t *p, const char *q, apr_size_t len,
                            const apr_array_header_t *names);

/* A URL (a Referer value: absolute, scheme-relative or relative) without
 * user-info ("user:password@"), its query and fragment redacted as by
 * gk_redact_query (implicit-flow tokens travel in the fragment). Returns
 * url itself when nothing changed. */
const char *gk_redact_url(apr_pool_t *p, const char *url,
                          const apr_array_header_t *names);

/* Is a parameter name (len bytes, still percent-encoded) in names? */
int gk_redact_name_in(const char *name, apr_size_t len,
                      const apr_array_header_t *names);

#endif
