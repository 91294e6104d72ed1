/*
 * Request bodies of HTML forms (application/x-www-form-urlencoded), as
 * the token endpoint receives them (RFC 6749 §4.3.2 and appendix B).
 *
 * Stricter than the WHATWG URL Standard's parser and than httpd's
 * ap_parse_form_data, because what is parsed here is a login:
 *
 *  - the media type must be exactly application/x-www-form-urlencoded,
 *    not a string that merely starts with it;
 *  - a malformed percent sequence ('%' not followed by two hex digits) is
 *    an error, not copied through as WHATWG does: two parsers that
 *    disagree on "%4" or "%G1" must not both be able to read the body;
 *  - decoded names and values must be valid UTF-8 (RFC 3629: no overlong
 *    form, no surrogate, nothing above U+10FFFF) without NUL, so that a
 *    C string is the whole value;
 *  - a repeated name is an error (RFC 6749 §3.1: parameters "MUST NOT be
 *    included more than once").
 *
 * Pure functions of their arguments: no httpd header, no state, safe from
 * any thread.
 */
#ifndef GK_FORM_H
#define GK_FORM_H

#include "gk.h"

/* Is content_type (a Content-Type field value) the media type
 * application/x-www-form-urlencoded (RFC 9110 §8.3.1)? Type and subtype
 * in any case, white space (space, tab) allowed around the whole value and
 * around each ';', parameters name=token or name="quoted-string" allowed
 * and ignored except charset, which must then be UTF-8 or US-ASCII (any
 * case, quoted or not) and appear at most once. Empty parameters (";;",
 * a trailing ';') are allowed, as RFC 9110's grammar does. Returns 1 or 0;
 * NULL, empty, another type, "application/x-www-form-urlencoded-evil",
 * another charset, a malformed parameter or a control character: 0. */
int gk_form_media_type_ok(const char *content_type);

/* Parse a urlencoded body of len bytes (not NUL-terminated; NULL allowed
 * when len is 0) into *out, a new table of decoded names and values
 * (pool p), in body order:
 *
 *  - the body splits on '&'; empty pairs ("", "&&", a trailing '&') are
 *    skipped; a pair is name[=value], split on its first '=' ("a=b=c" is
 *    a with value "b=c"; "a" alone is a with value "");
 *  - in names and values '+' is a space and %XX (XX two hex digits, any
 *    case) the byte 0xXX; any other '%' is an error;
 *  - every decoded name and value must be valid UTF-8 without NUL, and a
 *    name not empty ("=x" is an error); a raw NUL byte is an error too;
 *  - a name met twice is an error: *dup (when dup is not NULL) is then the
 *    decoded name. Names are compared ignoring ASCII case, since the
 *    table's lookups do: "Username=a&username=b" is a repeat. Use
 *    gk_form_get for an exact lookup;
 *  - more than max_fields non-empty pairs is an error (found before the
 *    rest of the body is decoded).
 *
 * Returns NULL on success. On failure returns an error message (printable
 * ASCII, static or in p, naming the byte offset in the body where it
 * applies; never a part of the body, which may hold a password) and sets
 * *out to NULL. *dup is NULL unless the error is a repeated name.
 *
 * Work is O(len + fields^2) for the repeat checks (fields <= max_fields),
 * no recursion; memory is one buffer of len + 1 bytes plus the table. The
 * caller bounds len (GKTokenMaxBody) and max_fields beforehand. */
const char *gk_form_parse(apr_pool_t *p, const char *body, apr_size_t len,
                          apr_size_t max_fields, apr_table_t **out,
                          const char **dup);

/* The value of the field named exactly name (case-sensitive, unlike
 * apr_table_get) in a table made by gk_form_parse; NULL when absent or
 * when form or name is NULL. A value may be "" (RFC 6749 §3.1: a
 * parameter sent without a value is treated as omitted; that is the
 * caller's decision). */
const char *gk_form_get(const apr_table_t *form, const char *name);

#endif
