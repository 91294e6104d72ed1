/*
 * Fuzz target: a nonce added to a Content-Security-Policy (gk_csp), what
 * mod_gk_headers does per request to the policy an administrator wrote.
 *
 * Invariants checked (abort() on violation), for the input up to its
 * first NUL as the policy:
 *  - the result is never NULL, has no empty directive and no leading or
 *    trailing ';' or white space;
 *  - it holds the nonce source at most twice more than the input did,
 *    counting the copies of default-src's sources (thrice the input's);
 *  - it has a script-src exactly when the input had a script-src or a
 *    default-src, and the nonce then;
 *  - adding the nonce again keeps the number of directives.
 * See replay.c for how to build it with libFuzzer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "gk_csp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static apr_pool_t *root;

#define SRC "'nonce-Zm9vYmFy'"

static int count(const char *s, const char *needle)
{
    int n = 0;
    size_t l = strlen(needle);

    while ((s = strstr(s, needle))) {
        n++;
        s += l;
    }
    return n;
}

/* The number of directives and whether one is named name. */
static int directives(apr_pool_t *p, const char *policy, const char *name,
                      int *has)
{
    char *copy = apr_pstrdup(p, policy), *tok, *last;
    int n = 0;

    *has = 0;
    for (tok = apr_strtok(copy, ";", &last); tok;
         tok = apr_strtok(NULL, ";", &last)) {
        size_t k;
        while (*tok == ' ' || *tok == '\t') {
            tok++;
        }
        if (!*tok) {
            continue;
        }
        n++;
        k = strcspn(tok, " \t");
        if (k == strlen(name) && !strncasecmp(tok, name, k)) {
            *has = 1;
        }
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *in, *out, *again;
    size_t n;
    int has_script, has_default, out_script, dummy;

    if (!root) {
        apr_initialize();
        apr_pool_create(&root, NULL);
    }
    apr_pool_create(&p, root);
    in = apr_pstrmemdup(p, (const char *)data, size);
    out = gk_csp_add_nonce(p, in, "Zm9vYmFy");
    if (!out) {
        abort();
    }
    n = strlen(out);
    if (n && (out[0] == ';' || out[0] == ' ' || out[0] == '\t'
              || out[n - 1] == ';' || out[n - 1] == ' '
              || out[n - 1] == '\t')) {
        abort();
    }
    if (strstr(out, "; ;") || strstr(out, ";;")) {
        abort();
    }
    if (count(out, SRC) > 3 * count(in, SRC) + 2) {
        abort();
    }
    directives(p, in, "script-src", &has_script);
    directives(p, in, "default-src", &has_default);
    directives(p, out, "script-src", &out_script);
    if (out_script != (has_script || has_default)) {
        abort();
    }
    if (out_script && !strstr(out, SRC)) {
        abort();
    }
    again = gk_csp_add_nonce(p, out, "Zm9vYmFy");
    if (directives(p, again, "x", &dummy) != directives(p, out, "x",
                                                         &dummy)) {
        abort();
    }
    apr_pool_destroy(p);
    return 0;
}
