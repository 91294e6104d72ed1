#include <string.h>

#include <openssl/obj_mac.h>

#include "gk_alg.h"

static const gk_alg_info_t algs[GK_ALG_COUNT] = {
    [GK_HS256] = {"HS256", GK_KIND_HMAC, "SHA256", 32, 0, 0},
    [GK_HS384] = {"HS384", GK_KIND_HMAC, "SHA384", 48, 0, 0},
    [GK_HS512] = {"HS512", GK_KIND_HMAC, "SHA512", 64, 0, 0},
    [GK_RS256] = {"RS256", GK_KIND_RSA, "SHA256", 32, 0, 0},
    [GK_RS384] = {"RS384", GK_KIND_RSA, "SHA384", 48, 0, 0},
    [GK_RS512] = {"RS512", GK_KIND_RSA, "SHA512", 64, 0, 0},
    [GK_PS256] = {"PS256", GK_KIND_PSS, "SHA256", 32, 0, 0},
    [GK_PS384] = {"PS384", GK_KIND_PSS, "SHA384", 48, 0, 0},
    [GK_PS512] = {"PS512", GK_KIND_PSS, "SHA512", 64, 0, 0},
    [GK_ES256] = {"ES256", GK_KIND_EC, "SHA256", 32, NID_X9_62_prime256v1, 32},
    [GK_ES384] = {"ES384", GK_KIND_EC, "SHA384", 48, NID_secp384r1, 48},
    [GK_ES512] = {"ES512", GK_KIND_EC, "SHA512", 64, NID_secp521r1, 66},
    [GK_EDDSA] = {"EdDSA", GK_KIND_EDDSA, NULL, 0, 0, 0},
};

gk_alg_e gk_alg_from_name(const char *name, apr_size_t len)
{
    int i;

    for (i = 1; i < GK_ALG_COUNT; i++) {
        if (strlen(algs[i].name) == len && !memcmp(algs[i].name, name, len)) {
            return (gk_alg_e)i;
        }
    }
    return GK_ALG_UNKNOWN;
}

const gk_alg_info_t *gk_alg_info(gk_alg_e alg)
{
    return (alg > GK_ALG_UNKNOWN && alg < GK_ALG_COUNT) ? &algs[alg] : NULL;
}

const char *gk_alg_kty(gk_alg_e alg)
{
    const gk_alg_info_t *ai = gk_alg_info(alg);

    if (!ai) {
        return NULL;
    }
    switch (ai->kind) {
    case GK_KIND_HMAC:
        return "oct";
    case GK_KIND_RSA:
    case GK_KIND_PSS:
        return "RSA";
    case GK_KIND_EC:
        return "EC";
    default:
        return "OKP";
    }
}
