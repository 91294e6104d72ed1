/*
 * Fuzz target: the log redactor (gk_redact).
 *
 * Invariants checked (abort() on violation), on the input as a query and
 * as a URL:
 *  - the result is NUL-terminated and no longer than the input grown by
 *    "REDACTED" per parameter;
 *  - no value of a listed parameter survives: splitting the result at '&'
 *    and ';' (and, for a URL, '?' and '#'), every parameter whose name
 *    matches has the value REDACTED or none;
 *  - a URL's result never holds an '@' inside its authority;
 *  - redacting twice changes nothing more.
 * See replay.c for how to build it with libFuzzer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>

#include "gk_redact.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static apr_pool_t *root;

static void check_params(const char *s, size_t len,
                         const apr_array_header_t *names, const char *seps)
{
    size_t i = 0;

    while (i <= len) {
        size_t start = i, eq = (size_t)-1;
        while (i < len && !strchr(seps, s[i])) {
            if (s[i] == '=' && eq == (size_t)-1) {
                eq = i;
            }
            i++;
        }
        if (eq != (size_t)-1 && eq + 1 < i
            && gk_redact_name_in(s + start, eq - start, names)
            && (i - eq - 1 != strlen(GK_REDACTED)
                || memcmp(s + eq + 1, GK_REDACTED, i - eq - 1))) {
            abort();
        }
        i++;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    apr_array_header_t *names;
    const char *in, *out, *again;
    size_t olen;

    if (!root) {
        apr_initialize();
        apr_pool_create(&root, NULL);
    }
    apr_pool_create(&p, root);
    names = apr_array_make(p, 3, sizeof(const char *));
    APR_ARRAY_PUSH(names, const char *) = "token";
    APR_ARRAY_PUSH(names, const char *) = "access_token";
    APR_ARRAY_PUSH(names, const char *) = "a";
    in = apr_pstrmemdup(p, (const char *)data, size);

    /* as a query: the bytes up to the first NUL */
    out = gk_redact_query(p, in, strlen(in), names);
    olen = strlen(out);
    if (olen > strlen(in) + (strlen(in) / 2 + 1) * sizeof(GK_REDACTED)) {
        abort();
    }
    check_params(out, olen, names, "&;");
    again = gk_redact_query(p, out, olen, names);
    if (strcmp(again, out)) {
        abort();
    }

    /* as a URL */
    out = gk_redact_url(p, in, names);
    olen = strlen(out);
    {
        /* the query up to the first '#', then the fragment: a later '#'
         * is part of a fragment value */
        const char *q = strpbrk(out, "?#");
        const char *h = q ? strchr(q, '#') : NULL;
        if (q && *q == '?') {
            check_params(q + 1, h ? (size_t)(h - q - 1) : strlen(q + 1),
                         names, "&;");
        }
        if (h) {
            check_params(h + 1, strlen(h + 1), names, "&;");
        }
    }
    {
        const char *a = strstr(out, "://");
        const char *auth = a ? a + 3
                           : (out[0] == '/' && out[1] == '/') ? out + 2
                                                              : NULL;
        if (auth && a) {
            const char *s;
            for (s = out; s < a; s++) {
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS"
                            "TUVWXYZ0123456789+-.", *s)) {
                    auth = NULL;
                    break;
                }
            }
        }
        if (auth && (!a || a > out)) {
            size_t n = strcspn(auth, "/?#");
            if (memchr(auth, '@', n)) {
                abort();
            }
        }
    }
    again = gk_redact_url(p, out, names);
    if (strcmp(again, out)) {
        abort();
    }
    apr_pool_destroy(p);
    return 0;
}
