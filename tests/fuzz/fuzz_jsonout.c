/*
 * Fuzz target: the JSON writer of log lines (gk_json_out).
 *
 * The input is a program for the writer: its first two bytes choose the
 * line's capacity, then each op byte writes a string (length and bytes
 * from the input, with or without a cap), a number, null, opens an object
 * or an array, or closes one. Invariants checked (abort() on violation):
 *  - the line is never longer than its capacity and ends with '\n';
 *  - it always parses as JSON (jansson, NUL allowed) into an object;
 *  - the whole input written as one uncapped string parses back to the
 *    input byte for byte when the input is valid UTF-8 (jansson decides),
 *    and to valid UTF-8 in any case.
 * See replay.c for how to build it with libFuzzer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gk_json_out.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static json_t *check_line(const char *buf, apr_size_t len, apr_size_t cap)
{
    json_t *j;

    if (len > cap || len < 3 || buf[len - 1] != '\n') {
        abort();
    }
    j = json_loadb(buf, len - 1, JSON_ALLOW_NUL, NULL);
    if (!j || !json_is_object(j)) {
        abort();
    }
    return j;
}

static void program(const uint8_t *data, size_t size)
{
    static char buf[GK_JSON_MIN_CAP + 8192];
    static const char *const keys[] = {"a", "b", "url", "", "x.y"};
    gk_json_out_t o;
    apr_size_t cap;
    size_t i = 2;

    if (size < 2) {
        return;
    }
    cap = GK_JSON_MIN_CAP + ((size_t)data[0] | (size_t)data[1] << 8) % 8192;
    gk_json_begin(&o, buf, cap);
    while (i < size) {
        uint8_t op = data[i++];
        const char *key = (op & 0x80) ? NULL : keys[(op >> 3) % 5];
        size_t n;
        switch (op & 7) {
        case 0:
        case 1:
            n = i < size ? data[i++] : 0;
            n = n > size - i ? size - i : n;
            gk_json_str(&o, key, (const char *)data + i, n,
                        (op & 7) == 1 && n ? n / 2 + 1 : 0);
            i += n;
            break;
        case 2:
            gk_json_int(&o, key, (apr_int64_t)op * -123456789012LL);
            break;
        case 3:
            gk_json_null(&o, key);
            break;
        case 4:
            gk_json_obj_open(&o, key);
            break;
        case 5:
            gk_json_arr_open(&o, key);
            break;
        case 6:
            gk_json_close(&o);
            break;
        default:
            o.reserve = (apr_size_t)(op >> 3);
        }
    }
    json_decref(check_line(buf, gk_json_end(&o), cap));
}

static void round_trip(const uint8_t *data, size_t size)
{
    apr_size_t cap = 6 * size + 64, len;
    char *buf = malloc(cap);
    gk_json_out_t o;
    json_t *j, *v, *ref;

    if (!buf) {
        abort();
    }
    gk_json_begin(&o, buf, cap);
    gk_json_str(&o, "v", (const char *)data, size, 0);
    len = gk_json_end(&o);
    if (o.truncated) {
        abort();
    }
    j = check_line(buf, len, cap);
    v = json_object_get(j, "v");
    if (!json_is_string(v)) {
        abort();
    }
    ref = json_stringn((const char *)data, size);   /* NULL: not UTF-8 */
    if (ref) {
        if (json_string_length(v) != size
            || memcmp(json_string_value(v), data, size)) {
            abort();
        }
        json_decref(ref);
    }
    json_decref(j);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    program(data, size);
    round_trip(data, size);
    return 0;
}
