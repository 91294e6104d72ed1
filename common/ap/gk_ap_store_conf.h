/*
 * The arguments of a module's store directive (GKRateLimitStore,
 * GKAuthRevocationStore): the same grammar for every store a module
 * keeps (common/ap/gk_ap_store.h runs their lives).
 *
 *   shm [size=N]                     the host's shared-memory table of N
 *                                    slots (min..max)
 *   memcached "LIBMEMCACHED-CONFIG"  memcached (gk_store_mc_check_config)
 */
#ifndef GK_AP_STORE_CONF_H
#define GK_AP_STORE_CONF_H

#include "httpd.h"
#include "http_config.h"

/* Parse a store directive's argv: NULL with *mc_conf (NULL for shm) and
 * *shm_size (0: the module's default; memcached: 0) set, or an error
 * naming the directive (nothing set then). `what` names the slots in the
 * messages ("COUNTERS", "ENTRIES"). */
const char *gk_ap_store_parse(cmd_parms *cmd, int argc, char *const argv[],
                              int min, int max, const char *what,
                              const char **mc_conf, int *shm_size);

#endif
