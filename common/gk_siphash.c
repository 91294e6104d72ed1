/*
 * SipHash-2-4 (gk_siphash.h), from the description in the paper:
 *
 *   init:  v0 = k0 ^ "somepseu", v1 = k1 ^ "dorandom",
 *          v2 = k0 ^ "lygenera", v3 = k1 ^ "tedbytes";
 *   each 8-byte little-endian word m: v3 ^= m, 2 SipRounds, v0 ^= m;
 *   the last word holds the 0..7 remaining bytes and, in its top byte,
 *   the message length mod 256;
 *   finish: v2 ^= 0xff, 4 SipRounds, result v0 ^ v1 ^ v2 ^ v3.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "gk_siphash.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

/* One SipRound over the state. */
static void sip_round(uint64_t *v0, uint64_t *v1, uint64_t *v2,
                      uint64_t *v3)
{
    *v0 += *v1;
    *v1 = ROTL(*v1, 13);
    *v1 ^= *v0;
    *v0 = ROTL(*v0, 32);
    *v2 += *v3;
    *v3 = ROTL(*v3, 16);
    *v3 ^= *v2;
    *v0 += *v3;
    *v3 = ROTL(*v3, 21);
    *v3 ^= *v0;
    *v2 += *v1;
    *v1 = ROTL(*v1, 17);
    *v1 ^= *v2;
    *v2 = ROTL(*v2, 32);
}

/* The 8 bytes at p as a little-endian number, whatever the host. */
static uint64_t load64_le(const unsigned char *p)
{
    return (uint64_t)p[0] | ((uint64_t)p[1] << 8) | ((uint64_t)p[2] << 16)
           | ((uint64_t)p[3] << 24) | ((uint64_t)p[4] << 32)
           | ((uint64_t)p[5] << 40) | ((uint64_t)p[6] << 48)
           | ((uint64_t)p[7] << 56);
}

/* Absorb one message word: c = 2 compression rounds. */
static void compress(gk_siphash_t *st, uint64_t m)
{
    st->v3 ^= m;
    sip_round(&st->v0, &st->v1, &st->v2, &st->v3);
    sip_round(&st->v0, &st->v1, &st->v2, &st->v3);
    st->v0 ^= m;
}

void gk_siphash24_init(gk_siphash_t *st, const unsigned char key[16])
{
    uint64_t k0 = load64_le(key), k1 = load64_le(key + 8);

    st->v0 = k0 ^ UINT64_C(0x736f6d6570736575);
    st->v1 = k1 ^ UINT64_C(0x646f72616e646f6d);
    st->v2 = k0 ^ UINT64_C(0x6c7967656e657261);
    st->v3 = k1 ^ UINT64_C(0x7465646279746573);
    st->tail = 0;
    st->ntail = 0;
    st->total = 0;
}

void gk_siphash24_update(gk_siphash_t *st, const void *data, size_t len)
{
    const unsigned char *in = data;

    st->total += (uint64_t)len;
    /* complete a partial word first */
    while (len && st->ntail) {
        st->tail |= (uint64_t)*in++ << (8 * st->ntail);
        len--;
        if (++st->ntail == 8) {
            compress(st, st->tail);
            st->tail = 0;
            st->ntail = 0;
        }
    }
    if (!len) {
        return;
    }
    for (; len >= 8; in += 8, len -= 8) {
        compress(st, load64_le(in));
    }
    while (len) {
        st->tail |= (uint64_t)*in++ << (8 * st->ntail++);
        len--;
    }
}

uint64_t gk_siphash24_final(gk_siphash_t *st)
{
    uint64_t b = st->tail | (st->total << 56);
    int i;

    compress(st, b);
    st->v2 ^= 0xff;
    for (i = 0; i < 4; i++) {
        sip_round(&st->v0, &st->v1, &st->v2, &st->v3);
    }
    return st->v0 ^ st->v1 ^ st->v2 ^ st->v3;
}

/* One SipRound on local variables: the one-shot hash below keeps the
 * state in registers (it runs on every rate-limited request). */
#define SIPROUND                                                          \
    do {                                                                  \
        v0 += v1;                                                         \
        v1 = ROTL(v1, 13);                                                \
        v1 ^= v0;                                                         \
        v0 = ROTL(v0, 32);                                                \
        v2 += v3;                                                         \
        v3 = ROTL(v3, 16);                                                \
        v3 ^= v2;                                                         \
        v0 += v3;                                                         \
        v3 = ROTL(v3, 21);                                                \
        v3 ^= v0;                                                         \
        v2 += v1;                                                         \
        v1 = ROTL(v1, 17);                                                \
        v1 ^= v2;                                                         \
        v2 = ROTL(v2, 32);                                                \
    } while (0)

uint64_t gk_siphash24(const unsigned char key[16], const void *data,
                      size_t len)
{
    const unsigned char *in = data;
    uint64_t k0 = load64_le(key), k1 = load64_le(key + 8);
    uint64_t v0 = k0 ^ UINT64_C(0x736f6d6570736575);
    uint64_t v1 = k1 ^ UINT64_C(0x646f72616e646f6d);
    uint64_t v2 = k0 ^ UINT64_C(0x6c7967656e657261);
    uint64_t v3 = k1 ^ UINT64_C(0x7465646279746573);
    uint64_t m, b = (uint64_t)len << 56;
    size_t i, rest = len & 7;

    for (i = 0; i + 8 <= len; i += 8) {
        m = load64_le(in + i);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    for (i = 0; i < rest; i++) {
        b |= (uint64_t)in[len - rest + i] << (8 * i);
    }
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

void gk_siphash_key_derive(const unsigned char *secret, size_t len,
                           unsigned char key[16])
{
    unsigned char md[SHA256_DIGEST_LENGTH];

    /* SHA256() (one shot, not deprecated in OpenSSL 3) cannot fail */
    SHA256(secret ? secret : (const unsigned char *)"", secret ? len : 0,
           md);
    memcpy(key, md, GK_SIPHASH_KEY_LEN);
    OPENSSL_cleanse(md, sizeof(md));
}
