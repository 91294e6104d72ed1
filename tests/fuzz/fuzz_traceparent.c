/*
 * Fuzz target: W3C traceparent (gk_trace).
 *
 * Invariants checked (abort() on violation):
 *  - gk_traceparent_parse agrees with a reference written position by
 *    position from the specification (lower-case hex, '-' at 2, 35 and 52,
 *    version ff invalid, version 00 exactly 55 characters, a higher version
 *    55 characters or a '-' after them, no all-zero trace-id or parent-id);
 *  - when it parses, the fields formatted as version 00 give back the
 *    input's first 55 characters but for the version, which is the parsed
 *    one in lower-case hex;
 *  - the other way round, fields taken from the input's bytes, formatted
 *    and parsed, come back the same.
 * Every input is handed over in a buffer of exactly its size (replay.c,
 * libFuzzer), so a read past the length is an ASan error. See replay.c for
 * how to build it with libFuzzer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gk_trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int lchex(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int reference_parse(const uint8_t *s, size_t n)
{
    size_t i;
    int trace_zero = 1, parent_zero = 1;

    if (n < 55) {
        return 0;
    }
    for (i = 0; i < 55; i++) {
        if (i == 2 || i == 35 || i == 52) {
            if (s[i] != '-') {
                return 0;
            }
        }
        else if (!lchex(s[i])) {
            return 0;
        }
        if (i >= 3 && i < 35 && s[i] != '0') {
            trace_zero = 0;
        }
        if (i >= 36 && i < 52 && s[i] != '0') {
            parent_zero = 0;
        }
    }
    if (s[0] == 'f' && s[1] == 'f') {
        return 0;
    }
    if (s[0] == '0' && s[1] == '0' && n != 55) {
        return 0;
    }
    if (n > 55 && s[55] != '-') {
        return 0;
    }
    return !trace_zero && !parent_zero;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    gk_traceparent_t tp;
    char out[GK_TRACEPARENT_LEN + 1];
    int ok = gk_traceparent_parse((const char *)data, size, &tp);

    if (ok != reference_parse(data, size)) {
        abort();
    }
    if (ok) {
        gk_traceparent_format(out, tp.trace_id, tp.parent_id, tp.flags);
        if (strlen(out) != GK_TRACEPARENT_LEN || memcmp(out, "00-", 3)
            || memcmp(out + 2, data + 2, GK_TRACEPARENT_LEN - 2)
            || data[0] != hex[tp.version >> 4]
            || data[1] != hex[tp.version & 0x0f] || tp.version == 0xff) {
            abort();
        }
    }
    if (size >= 25) {
        gk_traceparent_t back;
        static const unsigned char zero[16];
        int zero_ids = !memcmp(data, zero, 16) || !memcmp(data + 16, zero, 8);

        gk_traceparent_format(out, data, data + 16, data[24]);
        ok = gk_traceparent_parse(out, GK_TRACEPARENT_LEN, &back);
        if (ok == zero_ids
            || (ok
                && (back.version != 0 || memcmp(back.trace_id, data, 16)
                    || memcmp(back.parent_id, data + 16, 8)
                    || back.flags != data[24]))) {
            abort();
        }
    }
    return 0;
}
