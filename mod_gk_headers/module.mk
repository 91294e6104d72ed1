# mod_gk_headers: what the build needs besides common/ and common/ap/.
# OpenSSL's RAND_bytes feeds gk_rand (CSP nonces); jansson renders the
# problem+json bodies (gk_problem); libpsl checks CORS wildcards against
# the Public Suffix List (gk_cors).
GK_LIBS_headers := -ljansson -lcrypto -lpsl
# No other httpd module is required (mod_ssl only for HTTPS listeners).
GK_DEPENDS_headers :=
