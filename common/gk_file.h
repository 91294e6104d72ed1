/*
 * Reading the small files a configuration names: keys, secrets, JWKS.
 */
#ifndef GK_FILE_H
#define GK_FILE_H

#include "gk.h"

/* The largest file gk_file_read reads (bytes). */
#define GK_FILE_MAX_SIZE (1024 * 1024)

/* Read a whole file of at most GK_FILE_MAX_SIZE bytes into pool memory,
 * NUL-terminated (*data; *len without the NUL). NULL, or why not: the
 * message names the file. */
const char *gk_file_read(apr_pool_t *p, const char *path, char **data,
                         apr_size_t *len);

/* A secret a directive names: "env:VAR" (the variable's value) or
 * "file:PATH" (the whole file, as gk_file_read), without its trailing CR
 * and LF characters, of at least min bytes. NULL with *data and *len, or
 * why not (the message names the variable or file, never the secret). */
const char *gk_secret_read(apr_pool_t *p, const char *spec, apr_size_t min,
                           const char **data, apr_size_t *len);

#endif
