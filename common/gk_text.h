/*
 * Character rules for values that leave the gateway: in a request header
 * to a backend, in the CGI environment, in a log line.
 *
 * Values taken from a token are checked where they enter (roles,
 * permissions, the user name), so that no output path can forget it;
 * other claims are checked where they leave. The rules:
 *
 *  - a role or a permission is visible ASCII only (0x21-0x7E): no white
 *    space of any kind, so GK_ROLES and GK_PERMISSIONS split on the space
 *    character alone, and no byte a Latin-1 reader takes for a separator
 *    (0xA0, 0x85);
 *  - a name (the user, a claim sent as a header) is valid UTF-8 without C0
 *    or C1 control characters, DEL, or the Unicode line and paragraph
 *    separators (U+2028, U+2029): it can never break a header or a line.
 */
#ifndef GK_TEXT_H
#define GK_TEXT_H

#include <jansson.h>

#include "gk.h"

/* Is s non-empty and made of visible ASCII (0x21-0x7E) alone? */
int gk_text_is_atom(const char *s);

/* Is s (len bytes) valid UTF-8 free of C0/C1 controls, DEL, U+2028 and
 * U+2029? An empty string is a valid name here; callers that need one
 * character check for it. */
int gk_text_is_name(const char *s, apr_size_t len);

/* The JSON text of payload as one line of printable ASCII (0x20-0x7E):
 * text itself (len bytes, as signed) when it is so already, else jansson's
 * compact serialization with every non-ASCII character and DEL escaped.
 * NULL only when out of memory. */
const char *gk_text_json_line(apr_pool_t *p, const char *text,
                              apr_size_t len, json_t *payload);

#endif
