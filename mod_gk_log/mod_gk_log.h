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
 * JSON logs (GKLog, %^GJ, GKAuditLog, GKErrorLog; docs/mod_gk_log.md)
 * read the notes gk-auth-outcome and gk-auth-reason of mod_gk_auth and the
 * variable GK_ROLES; they need nothing else from other modules.
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

/* The response header that carries the correlation ID on server s's
 * responses (GKCorrelationHeader's NAME), or NULL when GKCorrelation is
 * Off there. A setting of the configuration: ask once per server, at
 * startup (post_config) or later. mod_gk_headers lists it in CORS's
 * Access-Control-Expose-Headers. */
APR_DECLARE_OPTIONAL_FN(const char *, gk_log_correlation_header,
                        (server_rec * s));

/*
 * Audit events: a module records a security decision as one JSON line
 * (ECS: event.kind "event", event.dataset "gatekeeper.audit",
 * event.category [category], event.action, event.outcome, event.reason,
 * the client, the user, the correlation ID, and fields under "labels").
 * The line goes to GKAuditLog, or, when it is unset, to the server's
 * GKLog access logs (told apart by event.dataset); with neither, nothing
 * is written. Retrieve it in optional_fn_retrieve; when mod_gk_log is not
 * loaded, log an ordinary error-log line instead.
 *
 *   category  an ECS category: "authentication", "iam", "web"...
 *   action    what was decided, lower case with '-': "token-refused"
 *   outcome   "success" or "failure"
 *   reason    a reason code of common/gk_reason.h, or NULL
 *   fields    extra string members (keys of A-Za-z0-9 _ - ., at most 64
 *             characters; others are left out), or NULL
 *
 * Values are escaped and capped like every JSON log value; never pass a
 * secret. Call it from any request phase; it allocates from r->pool.
 */
APR_DECLARE_OPTIONAL_FN(void, gk_log_audit,
                        (request_rec * r, const char *category,
                         const char *action, const char *outcome,
                         const char *reason, const apr_table_t *fields));

#endif
