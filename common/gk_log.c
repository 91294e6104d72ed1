#include <stdarg.h>
#include <stdio.h>

#include "gk_log.h"

static gk_log_print_fn *log_print;
static void *log_baton;

void gk_log_set(gk_log_print_fn *print, void *baton)
{
    log_print = print;
    log_baton = baton;
}

void gk_log(int level, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    if (!log_print) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    log_print(log_baton, level, buf);
}
