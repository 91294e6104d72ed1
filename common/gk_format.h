/*
 * JSON Schema "format" checks (issue 15): what mod_gk_validate asserts
 * with GKValidateFormats assert. Pure functions over bytes, any thread,
 * no allocation. Each accepts exactly the grammar documented at its
 * definition in gk_format.c (and in docs/mod_gk_validate.md, "Formats").
 */
#ifndef GK_FORMAT_H
#define GK_FORMAT_H

#include "gk.h"

typedef enum {
    GK_FORMAT_UNKNOWN = 0, /* an annotation: never fails */
    GK_FORMAT_EMAIL,       /* RFC 5321 mailbox (see gk_format.c) */
    GK_FORMAT_HOSTNAME,    /* RFC 1123 host name */
    GK_FORMAT_IPV4,        /* dotted quad, no leading zeros */
    GK_FORMAT_IPV6,        /* RFC 4291 text form */
    GK_FORMAT_DATE_TIME,   /* RFC 3339 date-time */
    GK_FORMAT_DATE,        /* RFC 3339 full-date */
    GK_FORMAT_URI          /* RFC 3986 URI (absolute, with scheme) */
} gk_format_e;

/* The format a "format" keyword's value names (exact, case-sensitive);
 * GK_FORMAT_UNKNOWN for any other. */
gk_format_e gk_format_lookup(const char *name);

/* Does the UTF-8 string of len bytes conform? 1 or 0 (GK_FORMAT_UNKNOWN:
 * always 1). */
int gk_format_check(gk_format_e f, const char *s, apr_size_t len);

/* The short message of a failure: "must be a valid email address"... */
const char *gk_format_message(gk_format_e f);

#endif
