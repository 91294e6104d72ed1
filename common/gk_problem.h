/*
 * RFC 9457 problem details (application/problem+json), shared by every
 * module that answers an error with a JSON body.
 */
#ifndef GK_PROBLEM_H
#define GK_PROBLEM_H

#include "gk.h"

#define GK_PROBLEM_CONTENT_TYPE "application/problem+json"

/* Writes the extension member of a problem body: the member name (a
 * constant of the caller, plain ASCII) and its value, with the writer of
 * common/gk_json_out.h (gk_json_arr_open(o, name) ... gk_json_close(o)),
 * in at most the bytes the caller announced (extra_size). */
typedef void gk_problem_extra_fn(void *o, const char *name,
                                 const void *baton);

/* What one error body says. */
typedef struct gk_problem_t {
    int status;
    const char *title;          /* the status's reason phrase; NULL: none */
    const char *detail;         /* NULL: none */
    const char *correlation_id; /* the request's ID (mod_gk_log), or NULL */
    /* one extension member (RFC 9457 section 3.2), such as
     * mod_gk_validate's "errors" array: its name, the function that
     * writes it (o is a gk_json_out_t *) with its baton, and at most how
     * many bytes it writes; extra_name or extra_fn NULL: none */
    const char *extra_name;
    gk_problem_extra_fn *extra_fn;
    const void *extra_baton;
    apr_size_t extra_size;
} gk_problem_t;

/* The body of a problem: one line of compact JSON and a newline, with the
 * members type ("about:blank"), title, status, detail, the extension
 * member when there is one, then, when there is a correlation ID,
 * instance ("urn:uuid:<id>", only when the ID is a UUID) and
 * correlation_id. Written by common/gk_json_out.h's writer into one pool
 * buffer sized for the worst case (no allocation besides it, no
 * jansson): strings are escaped, and a byte that does not start valid
 * UTF-8 becomes U+FFFD, so the body is always valid JSON. */
const char *gk_problem_render(apr_pool_t *p, const gk_problem_t *pb,
                              apr_size_t *len);

/* The body for status with its reason phrase as title; detail may be NULL.
 */
const char *gk_problem_json(apr_pool_t *p, int status, const char *title,
                            const char *detail, apr_size_t *len);

#endif
