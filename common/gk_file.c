#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

#include "gk_file.h"

const char *gk_file_read(apr_pool_t *p, const char *path, char **data,
                         apr_size_t *len)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_status_t rv;
    apr_size_t n;
    char *buf;

    rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, 0, p);
    if (rv != APR_SUCCESS) {
        char ebuf[128];
        return apr_psprintf(p, "cannot open %s: %s", path,
                            apr_strerror(rv, ebuf, sizeof(ebuf)));
    }
    rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f);
    if (rv != APR_SUCCESS || fi.size > GK_FILE_MAX_SIZE) {
        apr_file_close(f);
        return apr_psprintf(p, "%s is not a regular file under 1 MiB", path);
    }
    n = (apr_size_t)fi.size;
    buf = apr_palloc(p, n + 1);
    rv = apr_file_read_full(f, buf, n, &n);
    apr_file_close(f);
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        return apr_psprintf(p, "cannot read %s", path);
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    return NULL;
}

const char *gk_secret_read(apr_pool_t *p, const char *spec, apr_size_t min,
                           const char **data, apr_size_t *len)
{
    const char *v;
    apr_size_t n;

    if (!strncmp(spec, "env:", 4) && spec[4]) {
        v = getenv(spec + 4);
        if (!v) {
            return apr_psprintf(p, "the environment variable %s is not set",
                                spec + 4);
        }
        n = strlen(v);
    }
    else if (!strncmp(spec, "file:", 5) && spec[5]) {
        char *buf;
        const char *e = gk_file_read(p, spec + 5, &buf, &n);
        if (e) {
            return e;
        }
        v = buf;
    }
    else {
        return apr_psprintf(p, "'%s' is not env:VAR or file:PATH", spec);
    }
    /* a trailing newline is not part of the secret */
    while (n && (v[n - 1] == '\n' || v[n - 1] == '\r')) {
        n--;
    }
    if (n < min) {
        return apr_psprintf(p, "the secret of %s has %lu bytes: at least %lu "
                            "are needed", spec, (unsigned long)n,
                            (unsigned long)min);
    }
    *data = v;
    *len = n;
    return NULL;
}
