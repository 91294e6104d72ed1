# mod_gk_ratelimit: what the build needs besides common/ and common/ap/.
# OpenSSL: the counter-key secret's derivation (SHA-256) and gk_rand (the
# random key without a secret); jansson renders the problem+json bodies;
# libmemcached is GKRateLimitStore memcached's client.
GK_LIBS_ratelimit := -ljansson -lcrypto -lmemcachedutil -lmemcached
# No other httpd module is required.
GK_DEPENDS_ratelimit :=
