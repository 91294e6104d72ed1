/*
 * mod_gk_ratelimit: what other modules may rely on (docs/INTEROP.md).
 *
 * Limits keyed by client address, header, environment variable or nothing
 * (global) are checked in access_checker, before authentication; limits
 * keyed by user in fixups, after mod_gk_auth's. A request refused is
 * answered through httpd's error path (ap_die) with the status returned
 * from the hook, so every module's insert_error_filter still adds its
 * headers. A request is counted once per limit, also through internal
 * redirects; an ErrorDocument's request and subrequests are never
 * counted; CORS preflights answered by mod_gk_headers (header_parser)
 * never reach the hooks. The notes are set on the client's request (the
 * first of an internal redirect chain).
 *
 * Notes, set on the request the client sent, once a limit applied:
 */
#ifndef MOD_GK_RATELIMIT_H
#define MOD_GK_RATELIMIT_H

/* "success" (every applying limit passed, or report mode), "failure"
 * (refused: over a limit, or the store failed with
 * GKRateLimitOnStoreError deny) */
#define GK_RATELIMIT_NOTE_OUTCOME "gk-ratelimit-outcome"
/* a reason code: ok, rate_limited, rate_limit_report, store_error */
#define GK_RATELIMIT_NOTE_REASON "gk-ratelimit-reason"
/* the limit that decided: the refusing one, else the one with the fewest
 * requests left */
#define GK_RATELIMIT_NOTE_NAME "gk-ratelimit-name"
/* requests left in that limit's window (decimal) */
#define GK_RATELIMIT_NOTE_REMAINING "gk-ratelimit-remaining"

/* The problem+json filter of the 429 and 503 answers. */
#define GK_RATELIMIT_FILTER_PROBLEM "GK_RATELIMIT_PROBLEM"

#endif
