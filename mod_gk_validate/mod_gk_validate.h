/*
 * mod_gk_validate: what other modules may rely on (docs/INTEROP.md).
 *
 * Request bodies are validated in fixups, after mod_gk_ratelimit's
 * (which follows mod_gk_auth's): only requests that authentication and
 * the rate limits let through are read. Once per client request: an
 * internal redirect of a request whose body was read is not read again,
 * an ErrorDocument's request and subrequests never are. A refusal is
 * answered through httpd's error path (ap_die) with a problem+json body.
 * A body that passed is handed to the handler by the replay input filter
 * GK_VALIDATE_REPLAY, framed with a Content-Length.
 *
 * Notes, set on the request the client sent (the first of an internal
 * redirect chain), in scopes with a GKValidateSchema only:
 */
#ifndef MOD_GK_VALIDATE_H
#define MOD_GK_VALIDATE_H

/* "valid", "invalid" (refused: 400, 413, 415, 422), "skipped" (a schema
 * applies but the method is not one of GKValidateMethods: the body is not
 * read) or "error" (the body could not be read: the client went away,
 * timed out, or broke httpd's own limits) */
#define GK_VALIDATE_NOTE_OUTCOME "gk-validate-outcome"
/* with "invalid" after a schema check: the first failing keyword
 * ("minLength", "required", "format"...) */
#define GK_VALIDATE_NOTE_KEYWORD "gk-validate-keyword"
/* a reason code (common/gk_reason.h): ok, invalid_body,
 * unsupported_media_type, body_too_large, empty_body, malformed_body,
 * duplicate_key, body_too_deep, body_read_error; none with "skipped" */
#define GK_VALIDATE_NOTE_REASON "gk-validate-reason"

/* The problem+json filter of the module's refusals. */
#define GK_VALIDATE_FILTER_PROBLEM "GK_VALIDATE_PROBLEM"
/* The input filter that hands the body read to the handler. */
#define GK_VALIDATE_FILTER_REPLAY "GK_VALIDATE_REPLAY"

#endif
