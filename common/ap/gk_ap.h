/*
 * Gatekeeper's httpd-side layer (common/ap/, libgkap.a): what every module
 * needs of httpd and would otherwise copy. Linked statically into each
 * module with hidden visibility, like common/: each module has its own
 * copy of any state here, so nothing in it is shared between modules, and
 * every name it registers with httpd carries the module's name.
 *
 *   gk_ap_log.c      common/'s log callback wired to ap_log_error
 *   gk_ap_config.c   UNSET values, merging, directive errors and numbers,
 *                    bounded number slots, where a directive was read
 *   gk_ap_headers.c  client-sent copies of the headers a module sets,
 *                    removed
 *   gk_ap_trust.c    the CIDR lists of the suite's one trust rule
 *   gk_ap_problem.c  problem+json error bodies (gk_ap_problem.h)
 *   gk_ap_store.c    a module's store in httpd: the shm segment and its
 *                    mutex kept across restarts, the per-child memcached
 *                    store (gk_ap_store.h)
 *
 * Log tags of this layer are GK05xxx (common/gk.h).
 */
#ifndef GK_AP_H
#define GK_AP_H

#include "httpd.h"
#include "http_config.h"
#include "http_log.h"

#include "gk.h"
#include "gk_strlist.h"

/* ---- logging ------------------------------------------------------------- */

/* Send common/'s messages to httpd's error log under the calling module
 * (pass APLOG_MODULE_INDEX), with the call site's file and line, checking
 * the module's LogLevel first. Call in register_hooks or pre_config. */
void gk_ap_log_init(int module_index);

/* Has interval seconds passed since the last time this returned 1 for
 * *last (0 at first: yes)? Lock-free, for any thread: of callers racing
 * in one second, one gets 1. For what is said, or checked, at most once
 * an interval per process. */
int gk_ap_once_per(volatile apr_uint32_t *last, apr_uint32_t interval);

/* ---- configuration ------------------------------------------------------- */

/* An int setting not given in this scope. Defaults are applied when a
 * value is read (a getter per field), never at merge, so that a nested
 * scope never masks its parent's value with a default. */
#define GK_UNSET (-1)

/* The value of an int field, or dflt when no scope set it: the body of a
 * getter. */
#define GK_GET_INT(c, f, dflt) ((c)->f != GK_UNSET ? (c)->f : (dflt))

/* Merge one field: the nested scope's value when it has one. */
#define GK_MERGE_PTR(base, add, f) ((add)->f ? (add)->f : (base)->f)
#define GK_MERGE_INT(base, add, f)                                        \
    ((add)->f != GK_UNSET ? (add)->f : (base)->f)

/* A list that adds to the parent's: common/gk_strlist.h's merge, under the
 * name this layer first gave it. */
#define gk_ap_merge_list(p, base, add) gk_strlist_merge((p), (base), (add))

/* A configuration error, prefixed with the directive's name. */
const char *gk_ap_cmd_error(cmd_parms *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* NULL in the main server's configuration; in a <VirtualHost>, the error
 * of a directive that applies to the whole server. */
const char *gk_ap_main_server_only(cmd_parms *cmd);

/* A whole number within [min, max], or an error naming the directive. */
/* One keyword a directive takes and the value it stands for; a list of
 * them ends with a NULL name. */
typedef struct {
    const char *name;
    int value;
} gk_ap_keyword_t;

/* Is arg one of the keywords (any case)? Then *out is its value. The
 * caller words the error, which names the choices. */
int gk_ap_keyword(const char *arg, const gk_ap_keyword_t *words, int *out);

const char *gk_ap_parse_int(cmd_parms *cmd, const char *arg, int min,
                            int max, int *out);

/* A bounded int field of a configuration struct, as cmd->info of a TAKE1
 * directive handled by gk_ap_set_int_slot:
 *     static const gk_ap_int_slot_t leeway_slot =
 *         GK_AP_INT_SLOT(my_dir_conf_t, leeway, 0, 86400);
 *     AP_INIT_TAKE1("GKMyLeeway", gk_ap_set_int_slot, (void *)&leeway_slot,
 *                   ...) */
typedef struct {
    apr_size_t offset;
    int min, max;
} gk_ap_int_slot_t;

#define GK_AP_INT_SLOT(type, field, min, max)                               \
    {APR_OFFSETOF(type, field), (min), (max)}

/* httpd's ap_set_int_slot with bounds and gk_ap_parse_int's message: the
 * field at the slot's offset in conf (the directive's per-directory
 * configuration; a server-wide directive's handler passes its server
 * configuration instead). */
const char *gk_ap_set_int_slot(cmd_parms *cmd, void *conf, const char *arg);

/* "FILE:LINE" of the directive being read (for refusals made later, in
 * check_config or post_config, which must still say where). */
const char *gk_ap_where(cmd_parms *cmd);

/* ---- request headers --------------------------------------------------- */

/* Remove from r->headers_in every header a backend could take for one of
 * names (const char *): any case, and '_' for '-' (CGI and WSGI read both
 * X-User and X_User as HTTP_X_USER; gk_http_header_same). A module calls it
 * in an early hook for the headers it sets for backends, so that a client
 * can never supply them. The entry whose value is the string keep (the same
 * pointer, from apr_table_get) stays: a value the module decided to keep.
 * NULL or empty names: nothing. */
void gk_ap_scrub_headers(request_rec *r, const apr_array_header_t *names,
                         const char *keep);

/* ---- trust lists ------------------------------------------------------------ */

/*
 * The suite's one trust rule: decisions that believe something a client
 * sent on behalf of another (an incoming correlation ID, X-Forwarded-Proto)
 * compare the TCP peer, c->client_addr, never r->useragent_ip, against a
 * list written the same way in every module: "all", "none", or one or more
 * addresses and networks (192.0.2.1, 10.0.0.0/8, 2001:db8::/32,
 * 10.0.0.0/255.0.0.0).
 */
typedef struct gk_ap_trust_t gk_ap_trust_t;

/* Parse a directive's arguments into a list; an error names the
 * directive and the bad argument. */
const char *gk_ap_trust_parse(cmd_parms *cmd, int argc, char *const argv[],
                              gk_ap_trust_t **out);

/* The lists "all" and "none", for defaults. */
const gk_ap_trust_t *gk_ap_trust_all(void);
const gk_ap_trust_t *gk_ap_trust_none(void);

/* Does the list trust the connection's TCP peer? */
int gk_ap_trust_peer(const gk_ap_trust_t *t, const conn_rec *c);

/* Does the list trust this address? */
int gk_ap_trust_addr(const gk_ap_trust_t *t, apr_sockaddr_t *addr);

#endif
