/*
 * Fuzz target: identifiers taken from requests (gk_trace, gk_uuid).
 *
 * Invariants checked (abort() on violation):
 *  - gk_corrid_is_valid agrees with a reference written the long way
 *    (1 to 128 bytes, each in a list of the allowed characters), on the
 *    input and on each of its prefixes;
 *  - gk_uuid_is_valid agrees with a reference of the canonical text
 *    (hyphens at 8, 13, 18, 23, hex digits of either case elsewhere), and a
 *    UUID it parses formats back to the input in lower case; every UUID is
 *    also a valid correlation ID.
 * Every input is handed over in a buffer of exactly its size (replay.c,
 * libFuzzer), so a read past the length is an ASan error. See replay.c for
 * how to build it with libFuzzer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gk_trace.h"
#include "gk_uuid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char corrid_chars[] = "abcdefghijklmnopqrstuvwxyz"
                                   "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "0123456789._:-";

static int reference_corrid(const uint8_t *s, size_t n)
{
    size_t i;

    if (n < 1 || n > 128) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (!memchr(corrid_chars, s[i], sizeof(corrid_chars) - 1)) {
            return 0;
        }
    }
    return 1;
}

static int reference_uuid(const uint8_t *s, size_t n)
{
    size_t i;

    if (n != 36) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') {
                return 0;
            }
        }
        else if (!memchr("0123456789abcdefABCDEF", s[i], 22)) {
            return 0;
        }
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    size_t n;

    if (gk_corrid_is_valid(s, size) != reference_corrid(data, size)) {
        abort();
    }
    for (n = 0; n < size && n <= 130; n++) {
        if (gk_corrid_is_valid(s, n) != reference_corrid(data, n)) {
            abort();
        }
    }
    if (gk_uuid_is_valid(s, size) != reference_uuid(data, size)) {
        abort();
    }
    if (gk_uuid_is_valid(s, size)) {
        unsigned char b[16];
        char text[GK_UUID_LEN + 1];
        if (!gk_uuid_parse(s, size, b)) {
            abort();
        }
        gk_uuid_format(text, b);
        for (n = 0; n < size; n++) {
            char c = s[n] >= 'A' && s[n] <= 'F' ? (char)(s[n] + 32) : s[n];
            if (text[n] != c) {
                abort();
            }
        }
        if (!gk_corrid_is_valid(text, GK_UUID_LEN)) {
            abort();
        }
    }
    return 0;
}
