/*
 * The store keys of token revocations (issue 14): what mod_gk_auth writes
 * into the store (gk_store.h) and its journal (gk_journal.h) when a token
 * or a subject is revoked, and looks up on every request. No httpd header,
 * no state, no allocation; safe from any thread.
 *
 * Every key is printable ASCII without space, a valid memcached key that
 * also fits the shm store (GK_STORE_SHM_KEY_MAX, 64 bytes). The memcached
 * store puts its own namespace "gk:" before every key it writes, so
 * memcached holds them as "gk:rv:...":
 *
 *   "rv:t:" 32 hex    a token by (iss, jti)          gk_revoke_token_key
 *   "rv:r:" 32 hex    a token without jti, by its    gk_revoke_token_key_raw
 *                        whole compact serialisation
 *   "rv:s:" 32 hex    a subject's cutoff, by         gk_revoke_subject_key
 *                        (iss, sub): "log out everywhere"
 *   "rv:sentinel"     present while the store holds  gk_revoke_sentinel_key
 *                        the replayed journal
 *
 * The 32 lower-case hex digits are the first 16 bytes of
 *
 *   HMAC-SHA-256(key16, M)   when a 16-byte key is configured, else
 *   SHA-256(M)
 *
 * over the unambiguous encoding M of the kind and its fields:
 *
 *   M     = "gk-revoke-v1" 0x00 KIND FIELD...
 *   KIND  = one byte: 't', 'r' or 's'
 *   FIELD = 0x00                                    (NULL: absent claim)
 *         / 0x01 LEN(8 bytes, big-endian) BYTES     (present, maybe empty)
 *
 * (t: iss then jti; r: the token bytes; s: iss then sub). So a kind never
 * shares a key with another, no pair of fields can be shifted into
 * another pair ("ab","c" vs "a","bc"), an absent iss differs from an
 * empty one, and no subject, jti or token reaches the store in clear.
 * Every front end derives the same keys from the same inputs (and key):
 * that is what lets front ends sharing a memcached, and a journal replayed
 * after a restart, agree.
 *
 * Keyed or not. A jti is random (the suite's own tokens draw it from the
 * system's random source) and a signed token is unguessable, so their
 * plain hashes tell a reader of the store nothing. A subject is not secret: user names and e-mail addresses are
 * guessable, and anyone who can read the store (memcached has no
 * authentication by default) could confirm "alice was logged out
 * everywhere" by hashing candidate names. A configured secret (for
 * instance the first 16 bytes of the SHA-256 of a GKAuthRevocationKeySecret
 * file, as GKRateLimitKeySecret does for rate-limit counters) closes that:
 * with key16 the hash is an HMAC nobody without the secret can compute.
 * The key is optional (NULL: plain SHA-256) so that a single front end
 * works without configuration; every front end sharing a store or a
 * journal must use the same key (or none), and changing it orphans every
 * revocation already stored or journaled (they would have to be replayed
 * under the old key; the journal stores keys, not inputs).
 */
#ifndef GK_REVOKE_H
#define GK_REVOKE_H

#include "gk.h"

/* The kinds, as in the keys and the journal. Never change them: they are
 * hashed into every key. */
#define GK_REVOKE_KIND_TOKEN 't'
#define GK_REVOKE_KIND_RAW 'r'
#define GK_REVOKE_KIND_SUBJECT 's'

/* The length of a token, raw-token or subject key ("rv:t:" + 32 hex),
 * and a buffer that holds any key of this file with its NUL. */
#define GK_REVOKE_KEY_LEN 37
#define GK_REVOKE_KEY_SIZE 48

/* The sentinel key and its length. */
#define GK_REVOKE_SENTINEL "rv:sentinel"
#define GK_REVOKE_SENTINEL_LEN 11

/* The length of the optional hashing key. */
#define GK_REVOKE_SECRET_LEN 16

/* The key of a token by its iss and jti claims (iss NULL when absent; jti
 * NULL is allowed but such a token should use the raw key). key16: NULL
 * or GK_REVOKE_SECRET_LEN bytes. Writes GK_REVOKE_KEY_LEN characters and a
 * NUL into out; returns GK_REVOKE_KEY_LEN, or 0 when OpenSSL failed (out
 * then holds ""). */
apr_size_t gk_revoke_token_key(char out[GK_REVOKE_KEY_SIZE],
                               const unsigned char *key16, const char *iss,
                               const char *jti);

/* The key of a token without jti: of its len bytes (the compact
 * serialisation as received). */
apr_size_t gk_revoke_token_key_raw(char out[GK_REVOKE_KEY_SIZE],
                                   const unsigned char *key16,
                                   const void *token, apr_size_t len);

/* The key of a subject's cutoff ("log out everywhere"), by iss and sub. */
apr_size_t gk_revoke_subject_key(char out[GK_REVOKE_KEY_SIZE],
                                 const unsigned char *key16, const char *iss,
                                 const char *sub);

/* The sentinel key (GK_REVOKE_SENTINEL); returns its length. */
apr_size_t gk_revoke_sentinel_key(char out[GK_REVOKE_KEY_SIZE]);

/* The kind of a token, raw-token or subject key: 't', 'r' or 's' when the
 * len bytes at key are exactly such a key ("rv:" kind ":" 32 lower-case
 * hex digits), else 0 (the sentinel included). */
int gk_revoke_key_kind(const char *key, apr_size_t len);

#endif
