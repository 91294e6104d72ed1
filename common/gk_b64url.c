#include "gk_b64url.h"

/* 1 + the value of each base64url character; 0 for every other byte. */
static const unsigned char dec[256] = {
    ['A'] = 1,  ['B'] = 2,  ['C'] = 3,  ['D'] = 4,  ['E'] = 5,  ['F'] = 6,
    ['G'] = 7,  ['H'] = 8,  ['I'] = 9,  ['J'] = 10,  ['K'] = 11, ['L'] = 12,
    ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16, ['Q'] = 17, ['R'] = 18,
    ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
    ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30,
    ['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36,
    ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42,
    ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
    ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54,
    ['2'] = 55, ['3'] = 56, ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60,
    ['8'] = 61, ['9'] = 62, ['-'] = 63, ['_'] = 64,
};

static const char enc[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The value of a base64url character, or 0xff for any other byte:
 * dec[] holds 1 + the value and 0 elsewhere, so subtracting 1 in unsigned
 * char arithmetic maps "not in the alphabet" to 0xff without a branch. */
static unsigned sextet(unsigned char c)
{
    return (unsigned char)(dec[c] - 1u);
}

long gk_b64url_decode(unsigned char *out, const char *in, apr_size_t len)
{
    const unsigned char *s = (const unsigned char *)in;
    unsigned char *o = out;
    apr_size_t i, full = len - len % 4;
    unsigned a, b, c, d, w;

    if (len % 4 == 1) {
        return -1;
    }
    for (i = 0; i < full; i += 4) {
        a = sextet(s[i]);
        b = sextet(s[i + 1]);
        c = sextet(s[i + 2]);
        d = sextet(s[i + 3]);
        if ((a | b | c | d) & 0xc0u) {
            return -1; /* a byte outside the alphabet (0xff) */
        }
        w = a << 18 | b << 12 | c << 6 | d;
        o[0] = (unsigned char)(w >> 16);
        o[1] = (unsigned char)(w >> 8);
        o[2] = (unsigned char)w;
        o += 3;
    }
    switch (len % 4) {
    case 2:
        a = sextet(s[i]);
        b = sextet(s[i + 1]);
        if (((a | b) & 0xc0u) || (b & 0x0f)) {
            return -1;
        }
        *o++ = (unsigned char)(a << 2 | b >> 4);
        break;
    case 3:
        a = sextet(s[i]);
        b = sextet(s[i + 1]);
        c = sextet(s[i + 2]);
        if (((a | b | c) & 0xc0u) || (c & 0x03)) {
            return -1;
        }
        *o++ = (unsigned char)(a << 2 | b >> 4);
        *o++ = (unsigned char)(b << 4 | c >> 2);
        break;
    default:
        break;
    }
    return (long)(o - out);
}

unsigned char *gk_b64url_decode_pool(apr_pool_t *p, const char *in,
                                     apr_size_t len, apr_size_t *outlen)
{
    unsigned char *out = apr_palloc(p, GK_B64URL_DECODED_MAX(len) + 1);
    long n = gk_b64url_decode(out, in, len);

    if (n < 0) {
        return NULL;
    }
    out[n] = '\0';
    *outlen = (apr_size_t)n;
    return out;
}

char *gk_b64url_encode(apr_pool_t *p, const unsigned char *in,
                       apr_size_t len)
{
    char *out = apr_palloc(p, (len + 2) / 3 * 4 + 1);
    char *o = out;
    apr_size_t i;

    for (i = 0; i + 3 <= len; i += 3) {
        *o++ = enc[in[i] >> 2];
        *o++ = enc[(in[i] & 0x03) << 4 | in[i + 1] >> 4];
        *o++ = enc[(in[i + 1] & 0x0f) << 2 | in[i + 2] >> 6];
        *o++ = enc[in[i + 2] & 0x3f];
    }
    if (len - i == 1) {
        *o++ = enc[in[i] >> 2];
        *o++ = enc[(in[i] & 0x03) << 4];
    }
    else if (len - i == 2) {
        *o++ = enc[in[i] >> 2];
        *o++ = enc[(in[i] & 0x03) << 4 | in[i + 1] >> 4];
        *o++ = enc[(in[i + 1] & 0x0f) << 2];
    }
    *o = '\0';
    return out;
}
