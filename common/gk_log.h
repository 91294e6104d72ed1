/*
 * Logging from common/ goes through a callback that each module wires to
 * ap_log_error, so the library itself needs no httpd header.
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

typedef void gk_log_print_fn(void *baton, int level, const char *msg);

/* Install the sink (NULL for none). Call before threads start. */
void gk_log_set(gk_log_print_fn *print, void *baton);

void gk_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
