#include <stdarg.h>
#include <stdio.h>

#include "gk_log.h"

static gk_log_print_fn *log_print;
static gk_log_enabled_fn *log_enabled;
static void *log_baton;

void gk_log_set(gk_log_print_fn *print, gk_log_enabled_fn *enabled,
                void *baton)
{
    log_print = print;
    log_enabled = enabled;
    log_baton = baton;
}

void gk_log_at(const char *file, int line, int level, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    if (!log_print || (log_enabled && !log_enabled(log_baton, level))) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    log_print(log_baton, file, line, level, buf);
}
