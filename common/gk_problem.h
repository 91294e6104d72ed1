/*
 * RFC 9457 problem details (application/problem+json), shared by every
 * module that answers an error with a JSON body.
 */
#ifndef GK_PROBLEM_H
#define GK_PROBLEM_H

#include "gk.h"

#define GK_PROBLEM_CONTENT_TYPE "application/problem+json"

/* jansson's value, for the extension member (no need of jansson.h here) */
struct json_t;

/* What one error body says. */
typedef struct gk_problem_t {
    int status;
    const char *title;          /* the status's reason phrase; NULL: none */
    const char *detail;         /* NULL: none */
    const char *correlation_id; /* the request's ID (mod_gk_log), or NULL */
    /* one extension member (RFC 9457 section 3.2), such as
     * mod_gk_validate's "errors" array: its name and value; NULL: none.
     * The value is only read (the caller keeps its reference). */
    const char *extra_name;
    const struct json_t *extra;
} gk_problem_t;

/* The body of a problem: one line of compact JSON and a newline, with the
 * members type ("about:blank"), title, status, detail, the extension
 * member when there is one, then, when there is a correlation ID,
 * instance ("urn:uuid:<id>", only when the ID is a UUID) and
 * correlation_id. A string that is not UTF-8 is left out. */
const char *gk_problem_render(apr_pool_t *p, const gk_problem_t *pb,
                              apr_size_t *len);

/* The body for status with its reason phrase as title; detail may be NULL.
 */
const char *gk_problem_json(apr_pool_t *p, int status, const char *title,
                            const char *detail, apr_size_t *len);

#endif
