/*
 * Lists of strings: APR arrays of const char *, as the configuration and
 * the claims keep them. NULL is an empty list throughout.
 */
#ifndef GK_STRLIST_H
#define GK_STRLIST_H

#include "gk.h"

/* Is value in list (exact, case-sensitive)? */
int gk_strlist_has(const apr_array_header_t *list, const char *value);

/* Join a list with a separator into pool memory ("" for none). */
const char *gk_strlist_join(apr_pool_t *p, const apr_array_header_t *list,
                            const char *sep);

/* Merge a directive's list that adds to the parent scope's: base's
 * elements, then add's. Either is returned as it is when the other is
 * NULL; a new array only when both have one. Any element type works, as
 * long as both arrays have the same. */
apr_array_header_t *gk_strlist_merge(apr_pool_t *p, apr_array_header_t *base,
                                     apr_array_header_t *add);

#endif
