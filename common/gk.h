/*
 * Gatekeeper common library: shared declarations.
 *
 * common/ is linked statically into every module with hidden visibility.
 * It includes no httpd header: only APR, APR-util, OpenSSL, jansson,
 * libjwt and libmemcached, so that it is unit-tested on its own.
 *
 * The suite's naming conventions, written here once (and checked by
 * tests/integration/test_docs.py, which reads the two tables below):
 *
 * Log tags: GKLOGNO(nnnnn), one tag per call site, never reused, in the
 * range of the directory that holds the call:
 *
 *   00xxx  common/
 *   05xxx  common/ap/
 *   10xxx  mod_gk_auth/
 *   20xxx  mod_gk_headers/
 *   30xxx  mod_gk_ratelimit/
 *   40xxx  mod_gk_log/
 *   50xxx  mod_gk_validate/
 *
 * Directives: GK<Area><Name>, the area naming the module:
 *
 *   mod_gk_auth       GKAuth GKToken GKRevoke
 *   mod_gk_headers    GKSecurity GKCORS GKHSTS GKRequireHTTPS GKTrustedProxies
 *   mod_gk_headers    GKCSPNonce GKProblemJSON
 *   mod_gk_ratelimit  GKRateLimit
 *   mod_gk_log        GKLog GKAuditLog GKErrorLog GKCorrelation GKTraceparent
 *   mod_gk_validate   GKValidate
 *
 * Everything else a module shows the world:
 *
 *   environment variables (r->subprocess_env)  GK_*        GK_USER
 *   request notes (r->notes)          gk-<module>-* or gk-*  gk-auth-reason
 *   filters                           GK_<MODULE>_*     GK_AUTH_PROBLEM
 *   handlers, Require providers       gk-*              gk-role
 *   exported symbols                  gk_<module>_module only
 *   optional functions                gk_<module>_<what>  gk_auth_claim
 */
#ifndef GK_H
#define GK_H

#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>

#define GK_VERSION "0.1.0"

/* The log tag of one call site: GKLOGNO(00042) gives "GK00042: ". */
#define GKLOGNO(n) "GK" #n ": "

/* Largest token accepted before any parsing (bytes). */
#define GK_TOKEN_MAX_LEN 8192

#endif
