/*
 * Gatekeeper common library: shared declarations.
 *
 * common/ is linked statically into every module with hidden visibility.
 * It includes no httpd header: only APR, APR-util, OpenSSL, jansson,
 * libjwt and libmemcached, so that it is unit-tested on its own.
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
