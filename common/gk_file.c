#include <apr_file_info.h>
#include <apr_file_io.h>

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
