/*
 * Fuzz target: the JSON Schema format checks (gk_format), every format
 * over the whole input.
 *
 * Invariants checked (abort() on violation):
 *  - every check answers 0 or 1, and 0 for an input holding a byte
 *    outside 0x20-0x7E (all formats are ASCII without controls);
 *  - ipv4 and ipv6 agree with glibc's inet_pton (which also refuses
 *    leading zeros in dotted quads);
 *  - a valid date is a real day (timegm and gmtime give it back); a valid
 *    date-time starts with a valid date, and T/t, Z/z do not matter;
 *  - a valid hostname has labels of at most 63 and 253 in all, and
 *    "user@" + it is a valid email, "http://" + it a valid URI;
 *  - a valid email has its '@', a local part of at most 64 and 254 in
 *    all; a valid URI starts with a letter and has a ':';
 *  - the unknown format accepts everything.
 * See replay.c for how to build it with libFuzzer.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "gk_format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static apr_pool_t *root;

static int check(gk_format_e f, const char *s, size_t n)
{
    int r = gk_format_check(f, s, n);

    if (r != 0 && r != 1) {
        abort();
    }
    return r;
}

static int digits(const char *s, int n)
{
    int v = 0, k;

    for (k = 0; k < n; k++) {
        v = v * 10 + (s[k] - '0');
    }
    return v;
}

static void check_date(const char *s)
{
    struct tm tm, back;
    time_t t;

    memset(&tm, 0, sizeof(tm));
    tm.tm_year = digits(s, 4) - 1900;
    tm.tm_mon = digits(s + 5, 2) - 1;
    tm.tm_mday = digits(s + 8, 2);
    tm.tm_hour = 12;
    t = timegm(&tm);
    if (!gmtime_r(&t, &back) || back.tm_year != tm.tm_year
        || back.tm_mon != tm.tm_mon || back.tm_mday != tm.tm_mday) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *s = (const char *)data;
    char *z, *w;
    unsigned char addr[16];
    size_t i;
    int ascii = 1, f, v;

    if (!root) {
        apr_initialize();
        apr_pool_create(&root, NULL);
    }
    apr_pool_create(&p, root);
    z = apr_pstrmemdup(p, s, size);
    for (i = 0; i < size; i++) {
        ascii = ascii && data[i] >= 0x20 && data[i] <= 0x7e;
    }
    for (f = GK_FORMAT_EMAIL; f <= GK_FORMAT_URI; f++) {
        if (check((gk_format_e)f, s, size) && !ascii) {
            abort();
        }
        if (gk_format_lookup(gk_format_message((gk_format_e)f)) != 0) {
            abort();
        }
    }
    if (!check(GK_FORMAT_UNKNOWN, s, size)) {
        abort();
    }

    /* inet_pton reads up to a NUL: compare on inputs without one */
    if (strlen(z) == size) {
        if (check(GK_FORMAT_IPV4, s, size) != (inet_pton(AF_INET, z, addr) == 1)
            || check(GK_FORMAT_IPV6, s, size)
                   != (inet_pton(AF_INET6, z, addr) == 1)) {
            abort();
        }
    }

    if (check(GK_FORMAT_DATE, s, size)) {
        check_date(s);
    }
    if (check(GK_FORMAT_DATE_TIME, s, size)) {
        if (!check(GK_FORMAT_DATE, s, 10)) {
            abort();
        }
        check_date(s);
        w = apr_pstrmemdup(p, s, size);
        w[10] = w[10] == 'T' ? 't' : 'T';
        if (w[size - 1] == 'Z' || w[size - 1] == 'z') {
            w[size - 1] = w[size - 1] == 'Z' ? 'z' : 'Z';
        }
        if (!check(GK_FORMAT_DATE_TIME, w, size)) {
            abort();
        }
    }

    if (check(GK_FORMAT_HOSTNAME, s, size)) {
        size_t label = 0;
        if (size > 253) {
            abort();
        }
        for (i = 0; i < size; i++) {
            label = s[i] == '.' ? 0 : label + 1;
            if (label > 63) {
                abort();
            }
        }
        w = apr_pstrcat(p, "user@", z, NULL);
        if (size <= 249 && !check(GK_FORMAT_EMAIL, w, size + 5)) {
            abort();
        }
        w = apr_pstrcat(p, "http://", z, "/", NULL);
        if (!check(GK_FORMAT_URI, w, size + 8)) {
            abort();
        }
    }

    if (check(GK_FORMAT_EMAIL, s, size)) {
        const char *at = z[0] == '"' ? strchr(z + 1, '"') : z;
        at = at ? strchr(at, '@') : NULL;
        if (size > 254 || !at || at - z > 64) {
            abort();
        }
    }

    if (check(GK_FORMAT_URI, s, size)) {
        if (!((z[0] >= 'a' && z[0] <= 'z') || (z[0] >= 'A' && z[0] <= 'Z'))
            || !memchr(s, ':', size)) {
            abort();
        }
    }
    v = check(GK_FORMAT_IPV4, s, size);
    if (v && !check(GK_FORMAT_HOSTNAME, s, size)) {
        abort(); /* a dotted quad is also a host name (all digits) */
    }
    apr_pool_destroy(p);
    return 0;
}
