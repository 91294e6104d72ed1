/*
 * mod_gk_log: what other modules may use.
 *
 * Every request gets one correlation ID (unless GKCorrelation Off): an
 * incoming one the module accepted, or one it generated. The same value is
 * the request's error-log ID (%L), the response header, the header sent to
 * backends, and the values below, for the request, its internal redirects
 * (ErrorDocument) and its subrequests.
 *
 * Subprocess environment (CGI, SSI, mod_rewrite %{ENV:..}, mod_headers
 * %{..}e, mod_log_config %{..}e):
 *   GK_CORRELATION_ID  the correlation ID
 *   GK_TRACE_ID        the W3C trace-id (32 lower-case hex digits), when
 *                      the request belongs to a trace (GKTraceparent)
 *   GK_SPAN_ID         the gateway's span (16 hex digits): the parent-id of
 *                      the traceparent sent to the backend
 *
 * Request notes (r->notes), with the same values:
 *   gk-correlation-id, gk-trace-id, gk-span-id
 * They are set on the request, on each internal redirect and on each
 * subrequest. A request that httpd refuses while reading it (an early 400)
 * has the environment variable and the note from the error response on.
 *
 * Optional function, for modules that want the ID without linking to this
 * one (retrieve it in an optional_fn_retrieve hook; NULL when mod_gk_log is
 * not loaded):
 *   gk_log_correlation_id(r)  the correlation ID of r's original request
 *                             (the same for its internal redirects and
 *                             subrequests), or NULL when correlation is off
 *                             for it. Safe to call in any phase, also from
 *                             an insert_error_filter hook of a request
 *                             refused while it was read; the string lives
 *                             as long as the original request's pool.
 */
#ifndef MOD_GK_LOG_H
#define MOD_GK_LOG_H

#include "apr_optional.h"
#include "httpd.h"

#define GK_LOG_ENV_CORRELATION_ID "GK_CORRELATION_ID"
#define GK_LOG_ENV_TRACE_ID "GK_TRACE_ID"
#define GK_LOG_ENV_SPAN_ID "GK_SPAN_ID"
#define GK_LOG_NOTE_CORRELATION_ID "gk-correlation-id"
#define GK_LOG_NOTE_TRACE_ID "gk-trace-id"
#define GK_LOG_NOTE_SPAN_ID "gk-span-id"

APR_DECLARE_OPTIONAL_FN(const char *, gk_log_correlation_id,
                        (request_rec * r));

#endif
