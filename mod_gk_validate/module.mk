# mod_gk_validate: what the build needs besides common/ and common/ap/.
# jansson parses bodies and schemas and renders the problem+json bodies;
# PCRE2 is the regex engine of "pattern" (common/gk_ecma_re.c).
GK_LIBS_validate := -ljansson -lpcre2-8
# No other httpd module is required.
GK_DEPENDS_validate :=
