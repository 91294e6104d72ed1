# mod_gk_auth: what the build needs besides common/ and common/ap/.
# jansson parses tokens and JWKS; OpenSSL (libcrypto) verifies and loads
# keys. libmemcached: the revocation store (GKAuthRevocationStore
# memcached).
GK_LIBS_auth := -ljansson -lcrypto -lmemcachedutil -lmemcached
# AuthType and Require come from mod_authn_core and mod_authz_core.
GK_DEPENDS_auth := authn_core authz_core
