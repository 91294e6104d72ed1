/*
 * Logging from common/ goes through a callback that each module wires to
 * httpd's log (common/ap/gk_ap_log.c), so the library itself needs no
 * httpd header. The call site's file and line travel with the message, and
 * the level is checked before the message is formatted.
 *
 * Each module links its own copy of common/ (hidden visibility), so each
 * installs its own sink: a message is logged under the module that ran the
 * code.
 */
#ifndef GK_LOG_H
#define GK_LOG_H

#include "gk.h"

/* Levels have httpd's (and syslog's) numbers. */
typedef enum {
    GK_LOG_ERR = 3,
    GK_LOG_WARNING = 4,
    GK_LOG_NOTICE = 5,
    GK_LOG_INFO = 6,
    GK_LOG_DEBUG = 7
} gk_log_level_e;

typedef void gk_log_print_fn(void *baton, const char *file, int line,
                             int level, const char *msg);
/* Would a message at level be written? */
typedef int gk_log_enabled_fn(void *baton, int level);

/* Install the sink (print NULL: none; enabled NULL: every level). Call
 * before threads start. */
void gk_log_set(gk_log_print_fn *print, gk_log_enabled_fn *enabled,
                void *baton);

void gk_log_at(const char *file, int line, int level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define gk_log(level, ...) gk_log_at(__FILE__, __LINE__, (level), __VA_ARGS__)

#endif
