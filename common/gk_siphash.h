/*
 * SipHash-2-4 (Jean-Philippe Aumasson and Daniel J. Bernstein, "SipHash:
 * a fast short-input PRF", 2012): a keyed 64-bit hash, cheap enough to run
 * per request, for the counter keys of mod_gk_ratelimit (an attacker who
 * does not know the key can neither predict nor collide the hashes).
 *
 * Written from the paper: two compression rounds per 8-byte message word,
 * four finalization rounds; key and message words are read little-endian
 * byte by byte, so the result does not depend on the host's byte order or
 * on the alignment of the input. The result is the 64-bit number the
 * paper names; its little-endian bytes are the reference implementation's
 * 8-byte output.
 *
 * Pure functions of their arguments: no state, safe from any thread.
 */
#ifndef GK_SIPHASH_H
#define GK_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* Size of a SipHash key (bytes). */
#define GK_SIPHASH_KEY_LEN 16

/* SipHash-2-4 of the len bytes at data (any alignment; data may be NULL
 * when len is 0) under key (k0 = its first 8 bytes, k1 = the last 8, each
 * little-endian). */
uint64_t gk_siphash24(const unsigned char key[16], const void *data,
                      size_t len);

/* An incremental SipHash-2-4: the same result as gk_siphash24 over the
 * concatenation of every piece given to gk_siphash24_update, whatever the
 * split. Lives on the caller's stack; no allocation. */
typedef struct {
    uint64_t v0, v1, v2, v3; /* the internal state */
    uint64_t tail;           /* the bytes of a partial word, little-endian */
    size_t ntail;            /* how many (0..7) */
    uint64_t total;          /* bytes absorbed so far (mod 2^64) */
} gk_siphash_t;

/* Start a hash under key. */
void gk_siphash24_init(gk_siphash_t *st, const unsigned char key[16]);

/* Absorb len bytes at data (may be NULL when len is 0). */
void gk_siphash24_update(gk_siphash_t *st, const void *data, size_t len);

/* The hash of everything absorbed; st must be initialised again before
 * another use. */
uint64_t gk_siphash24_final(gk_siphash_t *st);

/* The 128-bit SipHash key of a configured secret (len bytes, any content):
 * the first 16 bytes of SHA-256(secret). A documented, unkeyed derivation,
 * so that every front end given the same secret (GKRateLimitKeySecret)
 * derives the same key, and so the same counter keys in a shared store.
 * Needs no random state; the strength of the key is that of the secret
 * (the directive asks for at least 16 bytes). */
void gk_siphash_key_derive(const unsigned char *secret, size_t len,
                           unsigned char key[16]);

#endif
