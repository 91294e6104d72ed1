#include <errno.h>
#include <stdarg.h>

#include "apr_strings.h"

#include "gk_ap.h"

const char *gk_ap_cmd_error(cmd_parms *cmd, const char *fmt, ...)
{
    va_list ap;
    const char *msg;

    va_start(ap, fmt);
    msg = apr_pvsprintf(cmd->temp_pool, fmt, ap);
    va_end(ap);
    return apr_pstrcat(cmd->pool, cmd->cmd->name, ": ", msg, NULL);
}

const char *gk_ap_main_server_only(cmd_parms *cmd)
{
    if (cmd->server->is_virtual) {
        return gk_ap_cmd_error(cmd, "applies to the whole server: not in "
                               "<VirtualHost>");
    }
    return NULL;
}

int gk_ap_keyword(const char *arg, const gk_ap_keyword_t *words, int *out)
{
    for (; words->name; words++) {
        if (!strcasecmp(arg, words->name)) {
            *out = words->value;
            return 1;
        }
    }
    return 0;
}

const char *gk_ap_parse_int(cmd_parms *cmd, const char *arg, int min,
                            int max, int *out)
{
    char *end;
    apr_int64_t v;

    errno = 0;
    v = apr_strtoi64(arg, &end, 10);
    if (!*arg || *end || errno || v < min || v > max) {
        return gk_ap_cmd_error(cmd, "'%s' is not a whole number from %d to "
                               "%d", arg, min, max);
    }
    *out = (int)v;
    return NULL;
}

const char *gk_ap_set_int_slot(cmd_parms *cmd, void *conf, const char *arg)
{
    const gk_ap_int_slot_t *slot = cmd->info;

    return gk_ap_parse_int(cmd, arg, slot->min, slot->max,
                           (int *)((char *)conf + slot->offset));
}

const char *gk_ap_where(cmd_parms *cmd)
{
    const ap_directive_t *d = cmd->directive;

    if (!d || !d->filename) {
        return "(unknown)";
    }
    return apr_psprintf(cmd->pool, "%s:%d", d->filename, d->line_num);
}
