/*
 * Reading claims for authorization: claim paths, roles and permissions.
 *
 * Permissions are ':'-separated segments. A held permission may use '*'
 * for one whole segment, and a trailing '*' covers one or more remaining
 * segments: "admin:*" covers "admin:users:delete", not "admin" and not
 * "administrator:x". Matching is exact and case-sensitive.
 */
#ifndef GK_CLAIMS_H
#define GK_CLAIMS_H

#include <jansson.h>

#include "gk.h"

/* A claim name, or a dotted path into nested objects, parsed once. */
typedef struct gk_claim_path_t {
    const char *name;       /* as written */
    int nsegs;
    const char **segs;
} gk_claim_path_t;

/* Is name a claim name or a dotted path: not empty, no '.' at either end,
 * no empty segment ("a..b")? Directives check with it before they make
 * a path. */
int gk_claim_path_is_valid(const char *name);

gk_claim_path_t *gk_claim_path_make(apr_pool_t *p, const char *name);

/* The claim at path: a member named exactly name wins, else the dotted
 * path is followed. NULL when absent. */
json_t *gk_claim_get(json_t *claims, const gk_claim_path_t *path);

/* Append the strings of a claim to list (const char *, borrowed from the
 * JSON): an array of strings (other members are skipped) or a space-
 * delimited string. Returns how many were added. */
int gk_claim_strings(apr_pool_t *p, json_t *v, apr_array_header_t *list);

/* Check the syntax of a permission (or a pattern, allow_wild). NULL if fine,
 * else what is wrong. */
const char *gk_perm_check(apr_pool_t *p, const char *perm, int allow_wild);

/* Does the held permission (possibly with wildcards) cover want? */
int gk_perm_covers(const char *held, const char *want);

#endif
