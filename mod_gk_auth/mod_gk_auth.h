/*
 * mod_gk_auth: what other modules may use.
 *
 * Subprocess environment set for authenticated requests (CGI, SSI,
 * mod_rewrite %{ENV:..}, mod_headers %{..}e), kept across internal
 * redirects:
 *   GK_USER         the user claim (also r->user / REMOTE_USER)
 *   GK_ROLES        roles, space-separated
 *   GK_PERMISSIONS  effective permissions, space-separated
 *   GK_CLAIMS       the verified token payload (JSON)
 *
 * Request notes (r->notes) set on every request that mod_gk_auth decides
 * (AuthType gk-bearer, or a gk-* Require line); a later Require line or a
 * <RequireAny> alternative may still change httpd's final answer:
 *   gk-auth-outcome  "success" or "failure"
 *   gk-auth-reason   the reason code of common/gk_reason.h ("ok",
 *                    "no_token", "expired", "insufficient_scope",
 *                    "preflight"...; docs/INTEROP.md lists them)
 * They are notes of the request that authenticated: after an internal
 * redirect, read them from r->prev.
 *
 * Optional function, for modules that want a claim without linking to
 * this one (retrieve it in an optional_fn_retrieve hook; NULL when
 * mod_gk_auth is not loaded):
 *   gk_auth_claim(r, "tenant")  the claim as a string (arrays joined with
 *                               ","), or NULL when the request carries no
 *                               verified token or no such claim.
 */
#ifndef MOD_GK_AUTH_H
#define MOD_GK_AUTH_H

#include "apr_optional.h"
#include "httpd.h"

#define GK_AUTH_ENV_USER "GK_USER"
#define GK_AUTH_ENV_ROLES "GK_ROLES"
#define GK_AUTH_ENV_PERMISSIONS "GK_PERMISSIONS"
#define GK_AUTH_ENV_CLAIMS "GK_CLAIMS"
#define GK_AUTH_NOTE_OUTCOME "gk-auth-outcome"
#define GK_AUTH_NOTE_REASON "gk-auth-reason"

APR_DECLARE_OPTIONAL_FN(const char *, gk_auth_claim,
                        (request_rec * r, const char *name));

#endif
