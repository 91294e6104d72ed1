/* Strict base64url (gk_b64url): RFC 4648 section 5 without padding. */
#include "gk_test.h"

/* Decode s; -1 or the length, out must hold GK_B64URL_DECODED_MAX. */
static long dec(const char *s, unsigned char *out)
{
    return gk_b64url_decode(out, s, strlen(s));
}

static int decodes(const char *s)
{
    unsigned char out[256];
    return dec(s, out) >= 0;
}

/* RFC 4648 section 10 vectors (no padding) */
static const struct {
    const char *raw, *enc;
} vectors[] = {
    {"", ""},           {"f", "Zg"},         {"fo", "Zm8"},
    {"foo", "Zm9v"},    {"foob", "Zm9vYg"},  {"fooba", "Zm9vYmE"},
    {"foobar", "Zm9vYmFy"},
};

START_TEST(rfc4648_vectors)
{
    size_t i;
    for (i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        unsigned char out[64];
        long n = dec(vectors[i].enc, out);
        ck_assert_int_eq(n, (long)strlen(vectors[i].raw));
        ck_assert(memcmp(out, vectors[i].raw, (size_t)n) == 0);
        ck_assert_str_eq(gk_b64url_encode(tp, (const unsigned char *)
                                                  vectors[i].raw,
                                          strlen(vectors[i].raw)),
                         vectors[i].enc);
    }
}
END_TEST

START_TEST(url_alphabet)
{
    unsigned char out[8];
    const unsigned char raw[] = {0xfb, 0xff, 0xbf};
    /* 0xfb 0xff 0xbf is "+/+/" in standard base64 and "-_-_" here */
    ck_assert_int_eq(dec("-_-_", out), 3);
    ck_assert(memcmp(out, raw, 3) == 0);
    ck_assert_str_eq(gk_b64url_encode(tp, raw, 3), "-_-_");
    ck_assert_int_eq(dec("+/+/", out), -1);
    ck_assert_int_eq(dec("-_-/", out), -1);
    ck_assert_int_eq(dec("+_-_", out), -1);
}
END_TEST

START_TEST(padding_refused)
{
    ck_assert(!decodes("Zg=="));
    ck_assert(!decodes("Zg="));
    ck_assert(!decodes("Zm8="));
    ck_assert(!decodes("Zm9vYg=="));
    ck_assert(!decodes("===="));
    ck_assert(!decodes("="));
    ck_assert(!decodes("Zm=v"));
    ck_assert(decodes("Zg"));
    ck_assert(decodes("Zm8"));
}
END_TEST

START_TEST(whitespace_refused)
{
    ck_assert(!decodes(" Zm9v"));
    ck_assert(!decodes("Zm9v "));
    ck_assert(!decodes("Zm 9v"));
    ck_assert(!decodes("Zm9v\n"));
    ck_assert(!decodes("Zm9v\r\nYmFy"));
    ck_assert(!decodes("Zm\t9v"));
    ck_assert(!decodes("Zm9vYmFy\n"));
}
END_TEST

START_TEST(other_bytes_refused)
{
    unsigned char out[16];
    char s[5] = "Zm9v";
    int c;
    /* every byte outside the alphabet, in each of the 4 positions */
    for (c = 0; c < 256; c++) {
        int pos, ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
                      || (c >= '0' && c <= '9') || c == '-' || c == '_';
        for (pos = 0; pos < 4; pos++) {
            memcpy(s, "Zm9v", 4);
            s[pos] = (char)c;
            ck_assert_msg((gk_b64url_decode(out, s, 4) >= 0) == ok,
                          "byte 0x%02x at %d", c, pos);
        }
    }
}
END_TEST

START_TEST(nul_byte_refused)
{
    unsigned char out[16];
    ck_assert_int_eq(gk_b64url_decode(out, "Zm\0v", 4), -1);
    ck_assert_int_eq(gk_b64url_decode(out, "Zm9vY\0", 6), -1);
    ck_assert_int_eq(gk_b64url_decode(out, "\0\0", 2), -1);
}
END_TEST

START_TEST(length_mod_4)
{
    unsigned char out[16];
    /* len % 4 == 1 can never be base64 */
    ck_assert_int_eq(dec("Z", out), -1);
    ck_assert_int_eq(dec("Zm9vY", out), -1);
    ck_assert_int_eq(dec("Zm9vYmFyZ", out), -1);
    ck_assert_int_eq(dec("", out), 0);
    ck_assert_int_eq(dec("Zg", out), 1);
    ck_assert_int_eq(dec("Zm8", out), 2);
    ck_assert_int_eq(dec("Zm9v", out), 3);
}
END_TEST

START_TEST(trailing_bits)
{
    unsigned char out[16];
    /* 2 chars: the second char's low 4 bits must be 0 ('g' = 32 is fine) */
    ck_assert_int_eq(dec("Zg", out), 1);
    ck_assert_int_eq(dec("Zh", out), -1);
    ck_assert_int_eq(dec("Zj", out), -1);
    ck_assert_int_eq(dec("Zv", out), -1);
    ck_assert_int_eq(dec("ZQ", out), 1); /* Q = 16: 010000 */
    ck_assert_int_eq(dec("ZR", out), -1);
    ck_assert_int_eq(dec("AA", out), 1);
    ck_assert_int_eq(dec("AB", out), -1);
    ck_assert_int_eq(dec("A_", out), -1);
    /* 3 chars: the third char's low 2 bits must be 0 ('8' = 60) */
    ck_assert_int_eq(dec("Zm8", out), 2);
    ck_assert_int_eq(dec("Zm9", out), -1);
    ck_assert_int_eq(dec("Zm-", out), -1);
    ck_assert_int_eq(dec("Zm_", out), -1);
    ck_assert_int_eq(dec("AAE", out), 2); /* E = 4: 000100 */
    ck_assert_int_eq(dec("AAB", out), -1);
    ck_assert_int_eq(dec("AAC", out), -1);
    ck_assert_int_eq(dec("AAD", out), -1);
    /* the same at the end of a longer input */
    ck_assert_int_eq(dec("Zm9vYh", out), -1);
    ck_assert_int_eq(dec("Zm9vYmF", out), -1);
}
END_TEST

/* Every 2- and 3-character tail decodes iff re-encoding gives it back. */
START_TEST(tails_are_canonical)
{
    const char *al =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char s[4];
    unsigned char out[4];
    int a, b, c;
    for (a = 0; a < 64; a++) {
        for (b = 0; b < 64; b++) {
            long n;
            s[0] = al[a];
            s[1] = al[b];
            n = gk_b64url_decode(out, s, 2);
            if (n >= 0) {
                ck_assert_int_eq(n, 1);
                ck_assert(memcmp(gk_b64url_encode(tp, out, 1), s, 2) == 0);
            }
            ck_assert_int_eq(n >= 0, (b & 0x0f) == 0);
            for (c = 0; c < 64; c++) {
                s[2] = al[c];
                n = gk_b64url_decode(out, s, 3);
                if (n >= 0) {
                    ck_assert_int_eq(n, 2);
                    ck_assert(memcmp(gk_b64url_encode(tp, out, 2), s, 3)
                              == 0);
                }
                ck_assert_int_eq(n >= 0, (c & 0x03) == 0);
            }
        }
    }
}
END_TEST

START_TEST(decode_uses_len_not_nul)
{
    unsigned char out[16];
    /* only the first 4 characters are read */
    ck_assert_int_eq(gk_b64url_decode(out, "Zm9v====", 4), 3);
    ck_assert(memcmp(out, "foo", 3) == 0);
    ck_assert_int_eq(gk_b64url_decode(out, "Zm9vYgXX", 6), 4);
    ck_assert(memcmp(out, "foob", 4) == 0);
    ck_assert_int_eq(gk_b64url_decode(out, "", 0), 0);
    /* the tail beyond len would be invalid on its own */
    ck_assert_int_eq(gk_b64url_decode(out, "Zm9vYmFy", 6), -1);
}
END_TEST

START_TEST(round_trips)
{
    unsigned char raw[300], out[GK_B64URL_DECODED_MAX(400) + 16];
    size_t len, i;
    unsigned seed = 12345;

    for (len = 0; len <= sizeof(raw); len++) {
        for (i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            raw[i] = (unsigned char)(seed >> 16);
        }
        {
            char *e = gk_b64url_encode(tp, raw, len);
            char *mine = tk_b64(tp, raw, len);
            long n;
            ck_assert_str_eq(e, mine);
            ck_assert_uint_eq(strlen(e), (len * 4 + 2) / 3);
            memset(out, 0xa5, sizeof(out));
            n = gk_b64url_decode(out, e, strlen(e));
            ck_assert_int_eq(n, (long)len);
            ck_assert(memcmp(out, raw, len) == 0);
            /* nothing written past the bound */
            for (i = GK_B64URL_DECODED_MAX(strlen(e)); i < sizeof(out); i++) {
                ck_assert_uint_eq(out[i], 0xa5);
            }
        }
    }
}
END_TEST

START_TEST(all_byte_values)
{
    unsigned char raw[256], out[GK_B64URL_DECODED_MAX(344)];
    char *e;
    int i;
    for (i = 0; i < 256; i++) {
        raw[i] = (unsigned char)i;
    }
    e = gk_b64url_encode(tp, raw, 256);
    ck_assert_str_eq(e, tk_b64(tp, raw, 256));
    ck_assert_int_eq(gk_b64url_decode(out, e, strlen(e)), 256);
    ck_assert(memcmp(out, raw, 256) == 0);
}
END_TEST

START_TEST(decoded_max_bound)
{
    unsigned char out[64];
    size_t len;
    const char *s = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlq";
    /* the decoded length never exceeds the documented bound */
    for (len = 0; len <= strlen(s); len++) {
        long n;
        memset(out, 0xa5, sizeof(out));
        n = gk_b64url_decode(out, s, len);
        if (n >= 0) {
            ck_assert_uint_le((size_t)n, GK_B64URL_DECODED_MAX(len));
            ck_assert_uint_eq((size_t)n, len * 3 / 4);
        }
        ck_assert_uint_eq(out[GK_B64URL_DECODED_MAX(len)], 0xa5);
    }
}
END_TEST

START_TEST(decode_pool)
{
    apr_size_t n = 99;
    unsigned char *o = gk_b64url_decode_pool(tp, "Zm9vYmE", 7, &n);
    ck_assert_ptr_nonnull(o);
    ck_assert_uint_eq(n, 5);
    ck_assert_str_eq((char *)o, "fooba"); /* NUL-terminated */
    o = gk_b64url_decode_pool(tp, "", 0, &n);
    ck_assert_ptr_nonnull(o);
    ck_assert_uint_eq(n, 0);
    ck_assert_str_eq((char *)o, "");
    ck_assert_ptr_null(gk_b64url_decode_pool(tp, "Zm9vYmE=", 8, &n));
    ck_assert_ptr_null(gk_b64url_decode_pool(tp, "Zm9vY", 5, &n));
    ck_assert_ptr_null(gk_b64url_decode_pool(tp, "Zh", 2, &n));
}
END_TEST

START_TEST(encode_empty)
{
    ck_assert_str_eq(gk_b64url_encode(tp, (const unsigned char *)"", 0), "");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("b64url");
    TCase *tc = tk_tcase("b64url");

    tcase_add_test(tc, rfc4648_vectors);
    tcase_add_test(tc, url_alphabet);
    tcase_add_test(tc, padding_refused);
    tcase_add_test(tc, whitespace_refused);
    tcase_add_test(tc, other_bytes_refused);
    tcase_add_test(tc, nul_byte_refused);
    tcase_add_test(tc, length_mod_4);
    tcase_add_test(tc, trailing_bits);
    tcase_add_test(tc, tails_are_canonical);
    tcase_add_test(tc, decode_uses_len_not_nul);
    tcase_add_test(tc, round_trips);
    tcase_add_test(tc, all_byte_values);
    tcase_add_test(tc, decoded_max_bound);
    tcase_add_test(tc, decode_pool);
    tcase_add_test(tc, encode_empty);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(suite)
