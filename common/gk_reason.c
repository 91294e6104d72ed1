#include <string.h>

#include "gk_reason.h"

static const struct {
    const char *name, *text;
} reasons[GK_REASON_COUNT] = {
    [GK_REASON_OK] = {"ok", "token is valid"},
    [GK_REASON_NO_TOKEN] = {"no_token", "Authentication required"},
    [GK_REASON_BAD_CREDENTIALS] = {"bad_credentials",
                                   "malformed Bearer credentials"},
    [GK_REASON_MULTIPLE_TOKENS] = {"multiple_tokens",
                                   "more than one token in the request"},
    [GK_REASON_MALFORMED] = {"malformed", "token is malformed"},
    [GK_REASON_TOO_LONG] = {"too_long", "token is too long"},
    [GK_REASON_BAD_HEADER] = {"bad_header", "token header is invalid"},
    [GK_REASON_BAD_PAYLOAD] = {"bad_payload", "token payload is invalid"},
    [GK_REASON_BAD_ALGORITHM] = {"bad_algorithm",
                                 "token algorithm is not accepted"},
    [GK_REASON_UNSUPPORTED_CRIT] = {"unsupported_crit",
                                    "token has unsupported critical header "
                                    "parameters"},
    [GK_REASON_UNKNOWN_KEY] = {"unknown_key", "token key is unknown"},
    [GK_REASON_BAD_SIGNATURE] = {"bad_signature",
                                 "token signature is invalid"},
    [GK_REASON_BAD_CLAIM_TYPE] = {"bad_claim_type",
                                  "token claims have invalid types"},
    [GK_REASON_MISSING_EXP] = {"missing_exp", "token has no expiry"},
    [GK_REASON_EXPIRED] = {"expired", "token has expired"},
    [GK_REASON_NOT_YET_VALID] = {"not_yet_valid", "token is not yet valid"},
    [GK_REASON_ISSUED_IN_FUTURE] = {"issued_in_future",
                                    "token was issued in the future"},
    [GK_REASON_WRONG_ISSUER] = {"wrong_issuer",
                                "token issuer is not accepted"},
    [GK_REASON_WRONG_AUDIENCE] = {"wrong_audience",
                                  "token audience is not accepted"},
    [GK_REASON_WRONG_TYPE] = {"wrong_type", "token type is not accepted"},
    [GK_REASON_NO_USER] = {"no_user", "token has no user claim"},
    [GK_REASON_INVALID_USER] = {"invalid_user",
                                "token user claim is invalid"},
    [GK_REASON_REVOKED] = {"revoked", "token has been revoked"},
    [GK_REASON_INSUFFICIENT_SCOPE] = {"insufficient_scope",
                                      "Insufficient permissions"},
    [GK_REASON_PREFLIGHT] = {"preflight",
                             "CORS preflight passed without a token"},
    [GK_REASON_RATE_LIMITED] = {"rate_limited", "Too many requests"},
    [GK_REASON_CORS_REFUSED] = {"cors_refused",
                                "Cross-origin request not allowed"},
    [GK_REASON_HTTPS_REQUIRED] = {"https_required", "HTTPS is required"},
    [GK_REASON_INVALID_BODY] = {"invalid_body", "Request body is invalid"},
    [GK_REASON_INTERNAL_ERROR] = {"internal_error",
                                  "token could not be verified"},
    [GK_REASON_CORS_ALLOWED] = {"cors_allowed",
                                "Cross-origin request allowed"},
    [GK_REASON_CORS_PREFLIGHT] = {"cors_preflight",
                                  "CORS preflight answered"},
    [GK_REASON_CORS_BAD_ORIGIN] = {"cors_bad_origin",
                                   "Origin is not a serialised origin"},
    [GK_REASON_CORS_METHOD_REFUSED] = {"cors_method_refused",
                                       "Method not allowed for cross-origin "
                                       "requests"},
    [GK_REASON_CORS_HEADER_REFUSED] = {"cors_header_refused",
                                       "Request header not allowed for "
                                       "cross-origin requests"},
    [GK_REASON_CORS_MISCONFIGURED] = {"cors_misconfigured",
                                      "CORS is switched off here: the "
                                      "configuration is unsafe"},
    [GK_REASON_RATE_LIMIT_REPORT] = {"rate_limit_report",
                                     "Over a rate limit (reported only)"},
    [GK_REASON_STORE_ERROR] = {"store_error",
                               "Rate limit store unavailable"},
    [GK_REASON_LOGIN_FAILED] = {"login_failed",
                                "the user name or password is wrong"},
    [GK_REASON_UNSUPPORTED_MEDIA_TYPE] = {"unsupported_media_type",
                                          "Request body's media type is not "
                                          "accepted"},
    [GK_REASON_BODY_TOO_LARGE] = {"body_too_large",
                                  "Request body is too large"},
    [GK_REASON_EMPTY_BODY] = {"empty_body", "Request body is empty"},
    [GK_REASON_MALFORMED_BODY] = {"malformed_body",
                                  "Request body is not valid JSON"},
    [GK_REASON_DUPLICATE_KEY] = {"duplicate_key",
                                 "Request body repeats a member name"},
    [GK_REASON_BODY_TOO_DEEP] = {"body_too_deep",
                                 "Request body is nested too deeply"},
    [GK_REASON_BODY_READ_ERROR] = {"body_read_error",
                                   "Request body could not be read"},
};

const char *gk_reason_name(gk_reason_e reason)
{
    return reason >= 0 && reason < GK_REASON_COUNT ? reasons[reason].name
                                                   : NULL;
}

const char *gk_reason_text(gk_reason_e reason)
{
    return reason >= 0 && reason < GK_REASON_COUNT
               ? reasons[reason].text
               : reasons[GK_REASON_INTERNAL_ERROR].text;
}

gk_reason_e gk_reason_of_status(gk_status_e st)
{
    static const gk_reason_e map[GK_ERR_COUNT] = {
        [GK_OK] = GK_REASON_OK,
        [GK_ERR_MALFORMED] = GK_REASON_MALFORMED,
        [GK_ERR_TOO_LONG] = GK_REASON_TOO_LONG,
        [GK_ERR_HEADER] = GK_REASON_BAD_HEADER,
        [GK_ERR_PAYLOAD] = GK_REASON_BAD_PAYLOAD,
        [GK_ERR_ALG] = GK_REASON_BAD_ALGORITHM,
        [GK_ERR_CRIT] = GK_REASON_UNSUPPORTED_CRIT,
        [GK_ERR_NO_KEY] = GK_REASON_UNKNOWN_KEY,
        [GK_ERR_SIGNATURE] = GK_REASON_BAD_SIGNATURE,
        [GK_ERR_CLAIM_TYPE] = GK_REASON_BAD_CLAIM_TYPE,
        [GK_ERR_EXP_MISSING] = GK_REASON_MISSING_EXP,
        [GK_ERR_EXPIRED] = GK_REASON_EXPIRED,
        [GK_ERR_NOT_YET_VALID] = GK_REASON_NOT_YET_VALID,
        [GK_ERR_IAT_FUTURE] = GK_REASON_ISSUED_IN_FUTURE,
        [GK_ERR_ISSUER] = GK_REASON_WRONG_ISSUER,
        [GK_ERR_AUDIENCE] = GK_REASON_WRONG_AUDIENCE,
        [GK_ERR_TYPE] = GK_REASON_WRONG_TYPE,
        [GK_ERR_INTERNAL] = GK_REASON_INTERNAL_ERROR,
        [GK_ERR_SYNTAX] = GK_REASON_BAD_CREDENTIALS,
    };

    return st >= 0 && st < GK_ERR_COUNT ? map[st]
                                        : GK_REASON_INTERNAL_ERROR;
}

gk_reason_e gk_reason_from_name(const char *code)
{
    int i;

    for (i = 0; code && i < GK_REASON_COUNT; i++) {
        if (!strcmp(reasons[i].name, code)) {
            return (gk_reason_e)i;
        }
    }
    return GK_REASON_COUNT;
}
