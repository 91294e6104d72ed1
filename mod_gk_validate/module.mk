# mod_gk_validate: what the build needs besides common/ and common/ap/.
# jansson parses bodies and schemas and renders the problem+json bodies;
# PCRE2 is the regex engine of "pattern" (common/gk_ecma_re.c); OpenSSL
# (gk_rand) comes in with the problem renderer's UUID check.
GK_LIBS_validate := -ljansson -lpcre2-8 -lcrypto
# No other httpd module is required.
GK_DEPENDS_validate :=
