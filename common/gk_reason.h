/*
 * The suite's one reason vocabulary: why a request was let through or
 * answered with an error, as a short code (for log fields, audit events
 * and request notes) and a short text (for error_description and problem
 * details). Every module uses these codes; they never change meaning once
 * released, and new ones are only added. docs/INTEROP.md lists them.
 */
#ifndef GK_REASON_H
#define GK_REASON_H

#include "gk.h"
#include "gk_jwt.h"

typedef enum {
    GK_REASON_OK = 0,
    /* the request's credentials (mod_gk_auth) */
    GK_REASON_NO_TOKEN,
    GK_REASON_BAD_CREDENTIALS,  /* Authorization: Bearer not a b64token */
    GK_REASON_MULTIPLE_TOKENS,
    GK_REASON_MALFORMED,
    GK_REASON_TOO_LONG,
    GK_REASON_BAD_HEADER,
    GK_REASON_BAD_PAYLOAD,
    GK_REASON_BAD_ALGORITHM,
    GK_REASON_UNSUPPORTED_CRIT,
    GK_REASON_UNKNOWN_KEY,
    GK_REASON_BAD_SIGNATURE,
    GK_REASON_BAD_CLAIM_TYPE,
    GK_REASON_MISSING_EXP,
    GK_REASON_EXPIRED,
    GK_REASON_NOT_YET_VALID,
    GK_REASON_ISSUED_IN_FUTURE,
    GK_REASON_WRONG_ISSUER,
    GK_REASON_WRONG_AUDIENCE,
    GK_REASON_WRONG_TYPE,
    GK_REASON_NO_USER,
    GK_REASON_INVALID_USER,
    GK_REASON_REVOKED,
    /* authorization */
    GK_REASON_INSUFFICIENT_SCOPE,
    GK_REASON_PREFLIGHT,        /* a CORS preflight let through untested */
    /* the other modules */
    GK_REASON_RATE_LIMITED,
    GK_REASON_CORS_REFUSED,
    GK_REASON_HTTPS_REQUIRED,
    GK_REASON_INVALID_BODY,
    GK_REASON_INTERNAL_ERROR,
    /* CORS (mod_gk_headers); GK_REASON_CORS_REFUSED: an origin not on
     * the list */
    GK_REASON_CORS_ALLOWED,
    GK_REASON_CORS_PREFLIGHT,   /* a preflight answered 204 */
    GK_REASON_CORS_BAD_ORIGIN,  /* null, repeated or unparsable */
    GK_REASON_CORS_METHOD_REFUSED,
    GK_REASON_CORS_HEADER_REFUSED,
    GK_REASON_CORS_MISCONFIGURED, /* scopes combine into an unsafe policy */
    /* rate limits (mod_gk_ratelimit); GK_REASON_RATE_LIMITED: refused */
    GK_REASON_RATE_LIMIT_REPORT, /* over a limit in mode=report: let through */
    GK_REASON_STORE_ERROR,      /* the counter store failed */
    /* the token endpoint (mod_gk_auth) */
    GK_REASON_LOGIN_FAILED,     /* unknown user or wrong password */
    /* request bodies (mod_gk_validate); GK_REASON_INVALID_BODY: valid JSON
     * the schema refuses (422) */
    GK_REASON_UNSUPPORTED_MEDIA_TYPE, /* type, charset or encoding (415) */
    GK_REASON_BODY_TOO_LARGE,   /* over GKValidateMaxBody (413) */
    GK_REASON_EMPTY_BODY,       /* no body where one is validated (400) */
    GK_REASON_MALFORMED_BODY,   /* not JSON (400) */
    GK_REASON_DUPLICATE_KEY,    /* an object names a member twice (400) */
    GK_REASON_BODY_TOO_DEEP,    /* over GKValidateMaxDepth (400) */
    GK_REASON_BODY_READ_ERROR,  /* the client's body could not be read */
    GK_REASON_COUNT
} gk_reason_e;

/* The code: "expired", "insufficient_scope"...; NULL for no reason. */
const char *gk_reason_name(gk_reason_e reason);

/* The short text, safe for clients and logs: "token has expired". */
const char *gk_reason_text(gk_reason_e reason);

/* The reason a verification status stands for. */
gk_reason_e gk_reason_of_status(gk_status_e st);

/* The reason named code, or GK_REASON_COUNT when there is none. */
gk_reason_e gk_reason_from_name(const char *code);

#endif
