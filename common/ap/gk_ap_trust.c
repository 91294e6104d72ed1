#include <arpa/inet.h>
#include <netinet/in.h>

#include "apr_network_io.h"
#include "apr_strings.h"

#include "gk_ap.h"

struct gk_ap_trust_t {
    int all;                        /* "all": every peer */
    apr_array_header_t *nets;       /* apr_ipsubnet_t *; NULL or empty:
                                     * none */
};

static const gk_ap_trust_t trust_all = {1, NULL};
static const gk_ap_trust_t trust_none = {0, NULL};

const gk_ap_trust_t *gk_ap_trust_all(void)
{
    return &trust_all;
}

const gk_ap_trust_t *gk_ap_trust_none(void)
{
    return &trust_none;
}

static int is_address(const char *s)
{
    unsigned char buf[sizeof(struct in6_addr)];

    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

const char *gk_ap_trust_parse(cmd_parms *cmd, int argc, char *const argv[],
                              gk_ap_trust_t **out)
{
    gk_ap_trust_t *t;
    int i;

    if (argc < 1) {
        return gk_ap_cmd_error(cmd, "needs 'all', 'none', or addresses and "
                               "networks");
    }
    t = apr_pcalloc(cmd->pool, sizeof(*t));
    if (!strcasecmp(argv[0], "all") || !strcasecmp(argv[0], "none")) {
        if (argc > 1) {
            return gk_ap_cmd_error(cmd, "'%s' stands alone", argv[0]);
        }
        t->all = !strcasecmp(argv[0], "all");
        *out = t;
        return NULL;
    }
    t->nets = apr_array_make(cmd->pool, argc, sizeof(apr_ipsubnet_t *));
    for (i = 0; i < argc; i++) {
        char *ip = apr_pstrdup(cmd->temp_pool, argv[i]);
        char *mask = strchr(ip, '/');
        apr_ipsubnet_t *net;
        apr_status_t rv;

        if (!strcasecmp(ip, "all") || !strcasecmp(ip, "none")) {
            return gk_ap_cmd_error(cmd, "'%s' stands alone", argv[i]);
        }
        if (mask) {
            *mask++ = '\0';
        }
        /* apr_ipsubnet_create also takes "10" or "10.1" as network
         * prefixes: only whole addresses are accepted here */
        if (!is_address(ip)) {
            return gk_ap_cmd_error(cmd, "'%s' is not an IP address or "
                                   "network (ADDRESS[/BITS])", argv[i]);
        }
        rv = apr_ipsubnet_create(&net, ip, mask, cmd->pool);
        if (rv != APR_SUCCESS) {
            return gk_ap_cmd_error(cmd, "'%s' is not an IP address or "
                                   "network (ADDRESS[/BITS])", argv[i]);
        }
        APR_ARRAY_PUSH(t->nets, apr_ipsubnet_t *) = net;
    }
    *out = t;
    return NULL;
}

int gk_ap_trust_addr(const gk_ap_trust_t *t, apr_sockaddr_t *addr)
{
    int i;

    if (!t || !addr) {
        return 0;
    }
    if (t->all) {
        return 1;
    }
    for (i = 0; t->nets && i < t->nets->nelts; i++) {
        if (apr_ipsubnet_test(APR_ARRAY_IDX(t->nets, i, apr_ipsubnet_t *),
                              addr)) {
            return 1;
        }
    }
    return 0;
}

int gk_ap_trust_peer(const gk_ap_trust_t *t, const conn_rec *c)
{
    return gk_ap_trust_addr(t, c->client_addr);
}
