/*
 * Is a request secure as the client sees it? TLS between the client and
 * httpd (ap_ssl_conn_is_ssl), or a proxy in GKTrustedProxies (the
 * TCP peer, the suite's trust rule) that says its client used HTTPS
 * (Forwarded: proto=https, else X-Forwarded-Proto: https).
 */
#include "http_ssl.h"

#include "gk_hdr.h"
#include "gk_headers_private.h"

int gk_headers_is_secure(request_rec *r, const gk_headers_srv_conf_t *sc)
{
    conn_rec *c = r->connection;

    if (ap_ssl_conn_is_ssl(c->master ? c->master : c)) {
        return 1;
    }
    if (!sc->trust || !gk_ap_trust_peer(gk_headers_conf_trust(sc), c)) {
        return 0;
    }
    return gk_hdr_forwarded_https(apr_table_get(r->headers_in, "Forwarded"),
                                  apr_table_get(r->headers_in,
                                                "X-Forwarded-Proto"));
}
