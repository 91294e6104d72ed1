# mod_gk_log: what the build needs besides common/ and common/ap/.
# OpenSSL's RAND_bytes feeds gk_rand (UUIDs, trace and span IDs).
GK_LIBS_log := -lcrypto
# No other httpd module is required (mod_log_config, compiled into
# Debian's apache2, is only needed for %L in a LogFormat).
GK_DEPENDS_log :=
