/*
 * The store keys of token revocations (gk_revoke.h).
 */
#include <string.h>

#include <openssl/evp.h>

#include "gk_revoke.h"

/* The domain tag that starts every hashed message (with its NUL). */
static const unsigned char tag[] = "gk-revoke-v1";

/* SHA-256's block and output sizes. */
#define BLOCK 64
#define DIGEST 32

/* The bytes of the key kept in the key: 16 of the 32 (128 bits). */
#define KEEP 16

/* The prefix of every hashed key: "rv:" kind ":". */
#define PREFIX_LEN 5

/* One field of M: absent (NULL) or present with its length. */
typedef struct {
    const void *data;
    apr_size_t len;
} field_t;

/* Feed M (kind and fields) into ctx. */
static int feed(EVP_MD_CTX *ctx, int kind, const field_t *f, int n)
{
    unsigned char k = (unsigned char)kind, hdr[9];
    int i, j;

    if (!EVP_DigestUpdate(ctx, tag, sizeof(tag))
        || !EVP_DigestUpdate(ctx, &k, 1)) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        apr_uint64_t len = f[i].len;
        if (!f[i].data) {
            hdr[0] = 0;
            if (!EVP_DigestUpdate(ctx, hdr, 1)) {
                return 0;
            }
            continue;
        }
        hdr[0] = 1;
        for (j = 8; j >= 1; j--) {
            hdr[j] = (unsigned char)(len & 0xff);
            len >>= 8;
        }
        if (!EVP_DigestUpdate(ctx, hdr, sizeof(hdr))
            || (f[i].len && !EVP_DigestUpdate(ctx, f[i].data, f[i].len))) {
            return 0;
        }
    }
    return 1;
}

/* SHA-256(M), or HMAC-SHA-256(key16, M) (RFC 2104 over EVP digests:
 * H((K ^ opad) || H((K ^ ipad) || M)), K the key padded with zeros to a
 * block), into md. */
static int digest(const unsigned char *key16, int kind, const field_t *f,
                  int n, unsigned char md[DIGEST])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char pad[BLOCK], inner[DIGEST];
    unsigned int mdlen = 0;
    int ok, i;

    if (!ctx) {
        return 0;
    }
    if (!key16) {
        ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)
             && feed(ctx, kind, f, n) && EVP_DigestFinal_ex(ctx, md, &mdlen)
             && mdlen == DIGEST;
        EVP_MD_CTX_free(ctx);
        return ok;
    }
    memset(pad, 0x36, sizeof(pad));
    for (i = 0; i < GK_REVOKE_SECRET_LEN; i++) {
        pad[i] ^= key16[i];
    }
    ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)
         && EVP_DigestUpdate(ctx, pad, sizeof(pad)) && feed(ctx, kind, f, n)
         && EVP_DigestFinal_ex(ctx, inner, &mdlen) && mdlen == DIGEST;
    if (ok) {
        memset(pad, 0x5c, sizeof(pad));
        for (i = 0; i < GK_REVOKE_SECRET_LEN; i++) {
            pad[i] ^= key16[i];
        }
        ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)
             && EVP_DigestUpdate(ctx, pad, sizeof(pad))
             && EVP_DigestUpdate(ctx, inner, sizeof(inner))
             && EVP_DigestFinal_ex(ctx, md, &mdlen) && mdlen == DIGEST;
    }
    memset(pad, 0, sizeof(pad));
    EVP_MD_CTX_free(ctx);
    return ok;
}

/* "rv:" kind ":" and the hex of the first KEEP bytes of the digest. */
static apr_size_t make_key(char out[GK_REVOKE_KEY_SIZE],
                           const unsigned char *key16, int kind,
                           const field_t *f, int n)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[DIGEST];
    char *w = out + PREFIX_LEN;
    int i;

    if (!digest(key16, kind, f, n, md)) {
        out[0] = '\0';
        return 0;
    }
    memcpy(out, "rv:", 3);
    out[3] = (char)kind;
    out[4] = ':';
    for (i = 0; i < KEEP; i++) {
        *w++ = hex[md[i] >> 4];
        *w++ = hex[md[i] & 15];
    }
    *w = '\0';
    return GK_REVOKE_KEY_LEN;
}

/* A field from a string that may be NULL. */
static field_t str_field(const char *s)
{
    field_t f;
    f.data = s;
    f.len = s ? strlen(s) : 0;
    return f;
}

apr_size_t gk_revoke_token_key(char out[GK_REVOKE_KEY_SIZE],
                               const unsigned char *key16, const char *iss,
                               const char *jti)
{
    field_t f[2];

    f[0] = str_field(iss);
    f[1] = str_field(jti);
    return make_key(out, key16, GK_REVOKE_KIND_TOKEN, f, 2);
}

apr_size_t gk_revoke_token_key_raw(char out[GK_REVOKE_KEY_SIZE],
                                   const unsigned char *key16,
                                   const void *token, apr_size_t len)
{
    field_t f;

    /* a token is never absent: NULL with len 0 is the empty token */
    f.data = token ? token : "";
    f.len = token ? len : 0;
    return make_key(out, key16, GK_REVOKE_KIND_RAW, &f, 1);
}

apr_size_t gk_revoke_subject_key(char out[GK_REVOKE_KEY_SIZE],
                                 const unsigned char *key16, const char *iss,
                                 const char *sub)
{
    field_t f[2];

    f[0] = str_field(iss);
    f[1] = str_field(sub);
    return make_key(out, key16, GK_REVOKE_KIND_SUBJECT, f, 2);
}

apr_size_t gk_revoke_sentinel_key(char out[GK_REVOKE_KEY_SIZE])
{
    memcpy(out, GK_REVOKE_SENTINEL, GK_REVOKE_SENTINEL_LEN + 1);
    return GK_REVOKE_SENTINEL_LEN;
}

int gk_revoke_key_kind(const char *key, apr_size_t len)
{
    apr_size_t i;
    int kind;

    if (!key || len != GK_REVOKE_KEY_LEN || memcmp(key, "rv:", 3)
        || key[4] != ':') {
        return 0;
    }
    kind = key[3];
    if (kind != GK_REVOKE_KIND_TOKEN && kind != GK_REVOKE_KIND_RAW
        && kind != GK_REVOKE_KIND_SUBJECT) {
        return 0;
    }
    for (i = PREFIX_LEN; i < len; i++) {
        if (!((key[i] >= '0' && key[i] <= '9')
              || (key[i] >= 'a' && key[i] <= 'f'))) {
            return 0;
        }
    }
    return kind;
}
