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

APR_DECLARE_OPTIONAL_FN(const char *, gk_auth_claim,
                        (request_rec * r, const char *name));

#endif
