/*
 * The arguments of a module's store directive (gk_ap_store_conf.h).
 */
#include "apr_strings.h"

#include "gk_ap.h"
#include "gk_ap_store_conf.h"
#include "gk_store_mc.h"

const char *gk_ap_store_parse(cmd_parms *cmd, int argc, char *const argv[],
                              int min, int max, const char *what,
                              const char **mc_conf, int *shm_size)
{
    const char *e;
    int size = 0, i;

    if (argc == 2 && !strcasecmp(argv[0], "memcached")) {
        if ((e = gk_store_mc_check_config(cmd->temp_pool, argv[1]))) {
            return gk_ap_cmd_error(cmd, "memcached \"%s\": %s", argv[1], e);
        }
        *mc_conf = argv[1];
        *shm_size = 0;
        return NULL;
    }
    if (argc < 1 || strcasecmp(argv[0], "shm")) {
        return gk_ap_cmd_error(cmd, "takes shm [size=%s] or memcached "
                               "\"LIBMEMCACHED-CONFIG\" (one quoted "
                               "string, such as \"--SERVER=10.0.0.5:11211\")",
                               what);
    }
    for (i = 1; i < argc; i++) {
        if (strncasecmp(argv[i], "size=", 5)) {
            return gk_ap_cmd_error(cmd, "'%s' is not size=N", argv[i]);
        }
        if ((e = gk_ap_parse_int(cmd, argv[i] + 5, min, max, &size))) {
            return e;
        }
    }
    *mc_conf = NULL;
    *shm_size = size;
    return NULL;
}
