/*
 * Fuzz target: the character rules of exported values (gk_text).
 *
 * Invariants checked (abort() on violation):
 *  - gk_text_is_name agrees with glibc's UTF-8 decoder (mbrtowc in the
 *    C.UTF-8 locale) plus the control-character rule, code point by code
 *    point;
 *  - gk_text_is_atom accepts exactly 0x21-0x7E;
 *  - gk_http_header_same (gk_http.c) is symmetric and equals comparing folded copies;
 *  - when the input is a JSON document, gk_text_json_line gives one line of
 *    printable ASCII that parses back to an equal document, and a name
 *    wrapped in a JSON string does too.
 * See replay.c for how to build it with libFuzzer.
 */
#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include <apr_general.h>
#include <apr_pools.h>

#include "gk_http.h"
#include "gk_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static apr_pool_t *root;
static int have_utf8_locale;

/* The reference: glibc decodes, we apply the control rule. */
static int reference_is_name(const uint8_t *s, size_t n)
{
    mbstate_t st;
    size_t i = 0;

    memset(&st, 0, sizeof(st));
    while (i < n) {
        wchar_t wc;
        size_t k;
        if (s[i] == 0) {
            return 0; /* mbrtowc stops at NUL; a NUL is C0 anyway */
        }
        k = mbrtowc(&wc, (const char *)s + i, n - i, &st);
        if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
            return 0;
        }
        if (wc < 0x20 || (wc >= 0x7f && wc <= 0x9f) || wc == 0x2028
            || wc == 0x2029 || (wc >= 0xd800 && wc <= 0xdfff)
            || wc > 0x10ffff) {
            return 0;
        }
        i += k;
    }
    return 1;
}

static int printable_line(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e) {
            return 0;
        }
    }
    return 1;
}

static void check_line(apr_pool_t *p, const char *text, size_t len,
                       json_t *j)
{
    const char *out = gk_text_json_line(p, text, len, j);
    json_t *back;

    if (!out || !printable_line(out)) {
        abort();
    }
    back = json_loads(out, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
    if (!back || !json_equal(back, j)) {
        abort();
    }
    json_decref(back);
}

static unsigned char fold(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32)
           : c == '_'           ? '-'
                                : c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    char *z;
    size_t i, half;
    int atom;
    json_t *j;

    if (!root) {
        apr_initialize();
        apr_pool_create(&root, NULL);
        have_utf8_locale = setlocale(LC_CTYPE, "C.UTF-8") != NULL;
    }
    apr_pool_create(&p, root);
    z = apr_pstrmemdup(p, (const char *)data, size);

    /* names */
    if (have_utf8_locale
        && gk_text_is_name((const char *)data, size)
               != reference_is_name(data, size)) {
        abort();
    }
    if (gk_text_is_name((const char *)data, size)) {
        j = json_stringn((const char *)data, size);
        if (!j) {
            abort(); /* jansson refuses it: not UTF-8 after all */
        }
        check_line(p, NULL, 0, j);
        json_decref(j);
    }

    /* atoms: the string up to the first NUL */
    atom = z[0] != 0;
    for (i = 0; z[i]; i++) {
        atom = atom && (unsigned char)z[i] >= 0x21
               && (unsigned char)z[i] <= 0x7e;
    }
    if (gk_text_is_atom(z) != atom) {
        abort();
    }

    /* header names: the two halves of the input */
    half = size / 2;
    {
        char *a = apr_pstrmemdup(p, (const char *)data, half);
        char *b = apr_pstrmemdup(p, (const char *)data + half, size - half);
        size_t la = strlen(a), lb = strlen(b);
        int same = la == lb;
        for (i = 0; same && i < la; i++) {
            same = fold((unsigned char)a[i]) == fold((unsigned char)b[i]);
        }
        if (gk_http_header_same(a, b) != same
            || gk_http_header_same(b, a) != same) {
            abort();
        }
    }

    /* JSON documents */
    j = json_loadb((const char *)data, size,
                   JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
    if (j) {
        check_line(p, z, size, j);
        json_decref(j);
    }
    apr_pool_destroy(p);
    return 0;
}
