/*
 * RFC 9457 problem details (application/problem+json), shared by every
 * module that answers an error with a JSON body.
 */
#ifndef GK_PROBLEM_H
#define GK_PROBLEM_H

#include "gk.h"

#define GK_PROBLEM_CONTENT_TYPE "application/problem+json"

/* The body for status with its reason phrase as title; detail may be NULL.
 */
const char *gk_problem_json(apr_pool_t *p, int status, const char *title,
                            const char *detail, apr_size_t *len);

/* Quote s as the value of an HTTP auth-param (RFC 9110 quoted-string):
 * '"' and '\' escaped, control characters dropped. */
const char *gk_http_quote(apr_pool_t *p, const char *s);

#endif
