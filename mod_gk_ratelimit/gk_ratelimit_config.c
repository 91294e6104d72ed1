/*
 * mod_gk_ratelimit configuration: GKRateLimit, GKRateLimitHeaders,
 * GKRateLimitOnStoreError, GKRateLimitStore, GKRateLimitKeySecret.
 *
 * Every argument is checked when the line is read, so `apache2 -t` sees
 * what a start sees: the rate and key grammars (common/gk_rate.c), methods,
 * and the rule that one name is one policy per virtual host (the same
 * name with another rate, window, algorithm or key kinds is refused, with
 * the file and line of the first). A GKRateLimit line in .htaccess
 * (AllowOverride Limit) counts apart from the administrator's: its
 * directory is part of its counters' identity, and it is not held to the
 * virtual host's names.
 */
#include "apr_file_io.h"
#include "apr_lib.h"
#include "apr_strings.h"
#include "http_protocol.h"

#include "gk_ap_store_conf.h"
#include "gk_file.h"
#include "gk_ratelimit_private.h"
#include "gk_siphash.h"
#include "gk_store_mc.h"

/* ---- create, merge, getters ------------------------------------------- */

void *gk_rl_create_dir_conf(apr_pool_t *p, char *dir)
{
    gk_rl_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->headers = GK_UNSET;
    return c;
}

/* The limits of a nested scope: the parent's, without those the nested
 * scope names (turned off, or replaced by its own line of that name),
 * then the nested scope's own. */
void *gk_rl_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    const gk_rl_dir_conf_t *base = basev, *add = addv;
    gk_rl_dir_conf_t *c = apr_palloc(p, sizeof(*c));
    int i, j;

    c->headers = GK_MERGE_INT(base, add, headers);
    if (!add->limits || !base->limits) {
        c->limits = add->limits ? add->limits : base->limits;
        return c;
    }
    c->limits = apr_array_make(p, base->limits->nelts + add->limits->nelts,
                               sizeof(const gk_rl_limit_t *));
    for (i = 0; i < base->limits->nelts; i++) {
        const gk_rl_limit_t *b =
            APR_ARRAY_IDX(base->limits, i, const gk_rl_limit_t *);
        int named = 0;
        for (j = 0; j < add->limits->nelts && !named; j++) {
            named = !strcmp(
                b->name,
                APR_ARRAY_IDX(add->limits, j, const gk_rl_limit_t *)->name);
        }
        if (!named) {
            APR_ARRAY_PUSH(c->limits, const gk_rl_limit_t *) = b;
        }
    }
    for (j = 0; j < add->limits->nelts; j++) {
        APR_ARRAY_PUSH(c->limits, const gk_rl_limit_t *) =
            APR_ARRAY_IDX(add->limits, j, const gk_rl_limit_t *);
    }
    return c;
}

void *gk_rl_create_srv_conf(apr_pool_t *p, server_rec *s)
{
    gk_rl_srv_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->on_error = GK_UNSET;
    return c;
}

void *gk_rl_merge_srv_conf(apr_pool_t *p, void *basev, void *addv)
{
    const gk_rl_srv_conf_t *base = basev, *add = addv;
    gk_rl_srv_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->on_error = GK_MERGE_INT(base, add, on_error);
    /* a virtual host keeps its own names: one policy per name and host */
    c->names = add->names;
    /* the store and the secret are the main server's */
    c->store_set = base->store_set;
    c->store_where = base->store_where;
    c->shm_size = base->shm_size;
    c->mc_conf = base->mc_conf;
    c->mc_timeout = base->mc_timeout;
    c->secret_key = base->secret_key;
    return c;
}

int gk_rl_conf_headers(const gk_rl_dir_conf_t *c)
{
    return GK_GET_INT(c, headers, 1);
}

int gk_rl_conf_deny_on_error(const gk_rl_srv_conf_t *c)
{
    return GK_GET_INT(c, on_error, 0) == 1;
}

static gk_rl_srv_conf_t *srv_conf(cmd_parms *cmd)
{
    return ap_get_module_config(cmd->server->module_config,
                                &gk_ratelimit_module);
}

/* Is the line being read from an .htaccess file? (The main configuration
 * reads with RSRC_CONF or ACCESS_CONF in the override mask; .htaccess with
 * the AllowOverride classes only.) */
static int in_htaccess(const cmd_parms *cmd)
{
    return !(cmd->override & (RSRC_CONF | ACCESS_CONF));
}

/* ---- GKRateLimit NAME RATE [options] | NAME off -------------------------- */

static const char *check_name(cmd_parms *cmd, const char *name)
{
    const char *s;

    if (!*name || strlen(name) > GK_RATELIMIT_NAME_MAX) {
        return gk_ap_cmd_error(cmd, "'%s': a name has 1 to %d characters",
                               name, GK_RATELIMIT_NAME_MAX);
    }
    for (s = name; *s; s++) {
        if (!apr_isalnum(*s) && *s != '-' && *s != '_' && *s != '.') {
            return gk_ap_cmd_error(cmd, "'%s': a name is letters, digits, "
                                   "'-', '_' and '.' (it is shown to "
                                   "clients in RateLimit-Policy)", name);
        }
    }
    return NULL;
}

static const char *parse_methods(cmd_parms *cmd, const char *arg,
                                 apr_int64_t *mask)
{
    char *copy = apr_pstrdup(cmd->temp_pool, arg), *tok, *last;

    *mask = 0;
    for (tok = apr_strtok(copy, ",", &last); tok;
         tok = apr_strtok(NULL, ",", &last)) {
        int m = ap_method_number_of(tok);
        if (m == M_INVALID) {
            return gk_ap_cmd_error(cmd, "methods=%s: '%s' is not a method "
                                   "httpd knows (methods are upper case: "
                                   "GET, POST...)", arg, tok);
        }
        *mask |= AP_METHOD_BIT << m;
    }
    if (!*mask) {
        return gk_ap_cmd_error(cmd, "methods= needs one or more methods, "
                               "separated by ','");
    }
    return NULL;
}

/* Do two lines of one name describe the same policy? */
static int same_policy(const gk_rl_limit_t *a, const gk_rl_limit_t *b)
{
    int i;

    if (a->rate.limit != b->rate.limit || a->rate.window != b->rate.window
        || a->nkeys != b->nkeys) {
        return 0;
    }
    for (i = 0; i < a->nkeys; i++) {
        if (a->keys[i].kind != b->keys[i].kind) {
            return 0;
        }
    }
    return 1;
}

static const char *keys_text(apr_pool_t *p, const gk_rl_limit_t *l)
{
    static const char *const kinds[] = {
        "?", "ip", "user", "header", "env", "global"
    };
    const char *s = "";
    int i;

    for (i = 0; i < l->nkeys; i++) {
        int k = l->keys[i].kind;
        s = apr_pstrcat(p, s, i ? "|" : "",
                        k >= 1 && k <= 5 ? kinds[k] : "?", NULL);
    }
    return s;
}

static const char *set_limit(cmd_parms *cmd, void *dc, int argc,
                             char *const argv[])
{
    gk_rl_dir_conf_t *c = dc;
    gk_rl_limit_t *l;
    const char *e;
    int i, have_keys = 0, have_methods = 0, have_status = 0, have_mode = 0;

    if (argc < 2) {
        return gk_ap_cmd_error(cmd, "needs NAME RATE [key=KEY[|KEY...]] "
                               "[methods=M,...] [algorithm=fixed] "
                               "[status=429] [mode=enforce|report], or "
                               "NAME off");
    }
    if ((e = check_name(cmd, argv[0]))) {
        return e;
    }
    l = apr_pcalloc(cmd->pool, sizeof(*l));
    l->name = argv[0];
    l->where = gk_ap_where(cmd);
    l->dir = in_htaccess(cmd) ? cmd->path : NULL;
    if (!strcasecmp(argv[1], "off")) {
        if (argc > 2) {
            return gk_ap_cmd_error(cmd, "%s off takes no options", argv[0]);
        }
        l->off = 1;
        goto add;
    }
    if ((e = gk_rate_parse(cmd->pool, argv[1], &l->rate))) {
        return gk_ap_cmd_error(cmd, "%s", e);
    }
    l->status = HTTP_TOO_MANY_REQUESTS;
    l->keys[0].kind = GK_RATE_KEY_IP;
    l->keys[0].prefix6 = GK_RATE_PREFIX6_DEFAULT;
    l->nkeys = 1;
    for (i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (!strncasecmp(a, "key=", 4)) {
            if (have_keys++) {
                return gk_ap_cmd_error(cmd, "key= given twice");
            }
            if ((e = gk_rate_keys_parse(cmd->pool, a + 4, l->keys,
                                        GK_RATE_KEYS_MAX, &l->nkeys))) {
                return gk_ap_cmd_error(cmd, "%s", e);
            }
        }
        else if (!strncasecmp(a, "methods=", 8)) {
            if (have_methods++) {
                return gk_ap_cmd_error(cmd, "methods= given twice");
            }
            if ((e = parse_methods(cmd, a + 8, &l->methods))) {
                return e;
            }
        }
        else if (!strncasecmp(a, "algorithm=", 10)) {
            if (strcasecmp(a + 10, "fixed")) {
                return gk_ap_cmd_error(cmd, "%s: the algorithm is fixed (a "
                                       "fixed window aligned to the clock)",
                                       a);
            }
        }
        else if (!strncasecmp(a, "status=", 7)) {
            if (have_status++) {
                return gk_ap_cmd_error(cmd, "status= given twice");
            }
            if (gk_ap_parse_int(cmd, a + 7, 400, 599, &l->status)) {
                return gk_ap_cmd_error(cmd, "%s: the status of a refusal is "
                                       "a number from 400 to 599", a);
            }
            if (atoi(ap_get_status_line(l->status)) != l->status) {
                return gk_ap_cmd_error(cmd, "%s: httpd has no status line "
                                       "for %d (it would answer 500): use "
                                       "a status it knows, such as 429 or "
                                       "503", a, l->status);
            }
        }
        else if (!strncasecmp(a, "mode=", 5)) {
            static const gk_ap_keyword_t modes[] = {
                {"enforce", GK_RL_ENFORCE}, {"report", GK_RL_REPORT},
                {NULL, 0}
            };
            if (have_mode++) {
                return gk_ap_cmd_error(cmd, "mode= given twice");
            }
            if (!gk_ap_keyword(a + 5, modes, &l->mode)) {
                return gk_ap_cmd_error(cmd, "%s: the mode is enforce or "
                                       "report", a);
            }
        }
        else {
            return gk_ap_cmd_error(cmd, "'%s' is not key=, methods=, "
                                   "algorithm=, status= or mode=", a);
        }
    }
    l->when = GK_RL_IN_ACCESS;
    for (i = 0; i < l->nkeys; i++) {
        if (l->keys[i].kind == GK_RATE_KEY_USER) {
            l->when = GK_RL_IN_FIXUPS;
        }
    }
    l->id = gk_rate_limit_id(l->name, l->dir);
    l->policy = apr_psprintf(cmd->pool, "\"%s\";q=%u;w=%u", l->name,
                             (unsigned)l->rate.limit,
                             (unsigned)l->rate.window);
    l->name_len = strlen(l->name);
    l->policy_len = strlen(l->policy);
    if (!l->dir) {
        /* one name, one policy, in a virtual host */
        gk_rl_srv_conf_t *sc = srv_conf(cmd);
        const gk_rl_limit_t *first;
        if (!sc->names) {
            sc->names = apr_hash_make(cmd->pool);
        }
        first = apr_hash_get(sc->names, l->name, APR_HASH_KEY_STRING);
        if (first && !same_policy(first, l)) {
            return gk_ap_cmd_error(
                cmd, "'%s' is already %s key=%s (%s): a name is one policy "
                "in a virtual host; give this one another name", l->name,
                gk_rate_text(cmd->temp_pool, &first->rate),
                keys_text(cmd->temp_pool, first), first->where);
        }
        if (!first) {
            apr_hash_set(sc->names, l->name, APR_HASH_KEY_STRING, l);
        }
    }
add:
    if (!c->limits) {
        c->limits = apr_array_make(cmd->pool, 2, sizeof(const gk_rl_limit_t *));
    }
    for (i = 0; i < c->limits->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(c->limits, i, const gk_rl_limit_t *)->name,
                    l->name)) {
            return gk_ap_cmd_error(cmd, "'%s' is given twice in this scope",
                                   l->name);
        }
    }
    APR_ARRAY_PUSH(c->limits, const gk_rl_limit_t *) = l;
    return NULL;
}

/* ---- the other directives ---------------------------------------------- */

static const char *set_headers(cmd_parms *cmd, void *dc, int on)
{
    ((gk_rl_dir_conf_t *)dc)->headers = on;
    return NULL;
}

static const char *set_on_error(cmd_parms *cmd, void *dc, const char *arg)
{
    static const gk_ap_keyword_t words[] = {
        {"allow", 0}, {"deny", 1}, {NULL, 0}
    };

    if (!gk_ap_keyword(arg, words, &srv_conf(cmd)->on_error)) {
        return gk_ap_cmd_error(cmd, "'%s': allow or deny", arg);
    }
    return NULL;
}

static const char *set_store(cmd_parms *cmd, void *dc, int argc,
                             char *const argv[])
{
    gk_rl_srv_conf_t *c = srv_conf(cmd);
    const char *e = gk_ap_main_server_only(cmd);

    if (e || (e = gk_ap_store_parse(cmd, argc, argv, GK_RATELIMIT_SHM_MIN,
                                    GK_RATELIMIT_SHM_MAX, "COUNTERS",
                                    &c->mc_conf, &c->shm_size))) {
        return e;
    }
    c->store_set = 1;
    c->store_where = gk_ap_where(cmd);
    return NULL;
}

static const char *set_timeout(cmd_parms *cmd, void *dc, const char *arg)
{
    const char *e = gk_ap_main_server_only(cmd);

    if (e) {
        return e;
    }
    return gk_ap_parse_int(cmd, arg, 1, GK_STORE_MC_TIMEOUT_MAX,
                           &srv_conf(cmd)->mc_timeout);
}

int gk_rl_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                       apr_pool_t *ptemp, server_rec *s)
{
    const gk_rl_srv_conf_t *c =
        ap_get_module_config(s->module_config, &gk_ratelimit_module);

    if (c->mc_conf && !c->secret_key) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, GKLOGNO(30010)
                     "GKRateLimitStore memcached (%s) needs "
                     "GKRateLimitKeySecret: every front end must hash the "
                     "counter keys alike, and an unkeyed hash of an address "
                     "can be reversed", c->store_where);
        return !OK;
    }
    return OK;
}

static const char *set_secret(cmd_parms *cmd, void *dc, const char *arg)
{
    gk_rl_srv_conf_t *c = srv_conf(cmd);
    const char *e = gk_ap_main_server_only(cmd), *secret = NULL;
    unsigned char *key;
    apr_size_t len = 0;

    if (e) {
        return e;
    }
    if ((e = gk_secret_read(cmd->temp_pool, arg, 16, &secret, &len))) {
        return gk_ap_cmd_error(cmd, "%s", e);
    }
    /* derived once, here: every pass over the configuration reads it */
    key = apr_palloc(cmd->pool, GK_SIPHASH_KEY_LEN);
    gk_siphash_key_derive((const unsigned char *)secret, len, key);
    c->secret_key = key;
    return NULL;
}

/* ---- the table -------------------------------------------------------------- */

const command_rec gk_rl_cmds[] = {
    AP_INIT_TAKE_ARGV("GKRateLimit", set_limit, NULL,
                      RSRC_CONF | ACCESS_CONF | OR_LIMIT,
                      "A request rate limit: NAME RATE [key=KEY[|KEY...]] "
                      "[methods=M,...] [algorithm=fixed] [status=429] "
                      "[mode=enforce|report], or NAME off"),
    AP_INIT_FLAG("GKRateLimitHeaders", set_headers, NULL,
                 RSRC_CONF | ACCESS_CONF | OR_LIMIT,
                 "Send the RateLimit-Policy and RateLimit fields: On or Off"),
    AP_INIT_TAKE1("GKRateLimitOnStoreError", set_on_error, NULL, RSRC_CONF,
                  "When the counter store fails: allow (let requests "
                  "through) or deny (503)"),
    AP_INIT_TAKE_ARGV("GKRateLimitStore", set_store, NULL, RSRC_CONF,
                      "Where the counters live: shm [size=COUNTERS], or "
                      "memcached \"LIBMEMCACHED-CONFIG\""),
    AP_INIT_TAKE1("GKRateLimitStoreTimeout", set_timeout, NULL, RSRC_CONF,
                  "How long a request waits for memcached at most, in "
                  "milliseconds (connect and each reply)"),
    AP_INIT_TAKE1("GKRateLimitKeySecret", set_secret, NULL, RSRC_CONF,
                  "The secret the counter keys are hashed with, the same "
                  "on every front end: env:VAR or file:PATH"),
    {NULL}
};
