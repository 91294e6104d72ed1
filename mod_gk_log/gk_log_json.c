/*
 * mod_gk_log: the JSON logs. One ECS object per request (GKLog, or %^GJ in
 * a mod_log_config LogFormat), audit events (gk_log_audit), and a second
 * error log in JSON (GKErrorLog).
 *
 * How lines are written: files are opened in append mode and pipes
 * through httpd's reliable piped logs (ap_open_piped_log_ex), both in
 * open_logs, as root, before the children start, in the configuration
 * pool, so that a graceful restart closes the old ones and opens new ones
 * as httpd does for its own logs. Each line is built whole in a buffer of
 * GKLogMaxLine bytes (common/gk_json_out.c: valid JSON, whatever the
 * request carried) and leaves in one write(); pipe lines are at most
 * PIPE_BUF bytes, so lines of several children never interleave.
 *
 * Bytes on the wire: two connection filters, right above the core's
 * (AP_FTYPE_NETWORK - 1, below mod_ssl: TLS records are counted), add up
 * what the connection read and wrote; log_transaction takes the counts
 * and starts them again for the next request on the connection.
 */
#include "gk_log_private.h"

#include "apr_lib.h"
#include "apr_strings.h"
#include "apr_thread_mutex.h"
#include "apr_thread_proc.h"
#include "http_connection.h"
#include "http_core.h"
#include "http_protocol.h"
#include "http_ssl.h"
#include "mod_log_config.h"
#include "util_cfgtree.h"
#include "util_filter.h"

#include "gk_json_out.h"
#include "gk_redact.h"
#include "mod_gk_log.h"

/* Caps of single values (input bytes; the line's own cap comes on top).
 * Those of the access line's long values are for the default 4096-byte
 * line and grow with GKLogMaxLine. */
#define CAP_PATH 1024
#define CAP_QUERY 1024
#define CAP_UA 256
#define CAP_REFERRER 512
#define CAP_FIELD 512
#define CAP_SHORT 256
#define CAP_MESSAGE 2048

/* Room kept for the "gk" object, which comes last. */
#define GK_TAIL_RESERVE 640

/* The error log's line (on the stack: the hook allocates nothing). */
#define ERR_LINE_MAX 4096

typedef struct {
    apr_off_t in, out;
} gk_log_bytes_t;

static ap_filter_rec_t *in_filter, *out_filter;

/* GKErrorLog's destination, from the main server (set in open_logs). */
static gk_log_dest_t *error_dest;

static gk_log_bytes_t *conn_bytes(const conn_rec *c)
{
    return ap_get_module_config(c->conn_config, &gk_log_module);
}

/* ---- bytes on the wire -------------------------------------------------- */

static apr_status_t count_in(ap_filter_t *f, apr_bucket_brigade *bb,
                             ap_input_mode_t mode, apr_read_type_e block,
                             apr_off_t readbytes)
{
    apr_status_t rv = ap_get_brigade(f->next, bb, mode, block, readbytes);
    gk_log_bytes_t *b = f->ctx;
    apr_off_t n = 0;

    if (rv == APR_SUCCESS && mode != AP_MODE_SPECULATIVE
        && apr_brigade_length(bb, 0, &n) == APR_SUCCESS && n > 0) {
        b->in += n;
    }
    return rv;
}

static apr_status_t count_out(ap_filter_t *f, apr_bucket_brigade *bb)
{
    gk_log_bytes_t *b = f->ctx;
    apr_bucket *e;

    for (e = APR_BRIGADE_FIRST(bb); e != APR_BRIGADE_SENTINEL(bb);
         e = APR_BUCKET_NEXT(e)) {
        if (APR_BUCKET_IS_METADATA(e)) {
            continue;
        }
        if (e->length == (apr_size_t)-1) {
            const char *data;
            apr_size_t len;
            /* what the core would do next: read it (a pipe, a CGI) */
            if (apr_bucket_read(e, &data, &len, APR_BLOCK_READ)
                != APR_SUCCESS) {
                continue;
            }
        }
        b->out += (apr_off_t)e->length;
    }
    return ap_pass_brigade(f->next, bb);
}

/* Whether any line will want byte counts: a GKLog somewhere, or a
 * LogFormat or CustomLog that uses %^GJ. Without one, connections carry
 * no counting filters (set in open_logs, before the children start). */
static int count_bytes = 1;

static int uses_json_item(const ap_directive_t *n)
{
    for (; n; n = n->next) {
        if (n->args && strstr(n->args, "%^GJ")) {
            return 1;
        }
        if (n->first_child && uses_json_item(n->first_child)) {
            return 1;
        }
    }
    return 0;
}

int gk_log_pre_connection(conn_rec *c, void *csd)
{
    gk_log_bytes_t *b;

    if (!count_bytes) {
        return OK;          /* nothing logs byte counts */
    }

    /* an HTTP/2 stream's connection sees the stream's data, not the
     * frames and compressed headers on the wire: no count there (null) */
    if (c->master) {
        return OK;
    }
    b = apr_pcalloc(c->pool, sizeof(*b));

    ap_set_module_config(c->conn_config, &gk_log_module, b);
    ap_add_input_filter_handle(in_filter, b, NULL, c);
    ap_add_output_filter_handle(out_filter, b, NULL, c);
    return OK;
}

/* ---- opening ------------------------------------------------------------ */

static apr_status_t open_dest(apr_pool_t *p, server_rec *s, gk_log_dest_t *d,
                              const char *directive)
{
    apr_status_t rv;

    if (d->fd) {
        return APR_SUCCESS;         /* shared with another server */
    }
    if (d->is_pipe) {
        piped_log *pl = ap_open_piped_log_ex(p, d->path, d->cmdtype);
        if (!pl) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, s,
                         GKLOGNO(40020) "%s %s (%s): cannot start the "
                         "program", directive, d->spec, d->where);
            return APR_EGENERAL;
        }
        d->fd = ap_piped_log_write_fd(pl);
        return APR_SUCCESS;
    }
    rv = apr_file_open(&d->fd, d->path,
                       APR_FOPEN_WRITE | APR_FOPEN_APPEND | APR_FOPEN_CREATE
                           | APR_FOPEN_LARGEFILE,
                       APR_OS_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, rv, s,
                     GKLOGNO(40021) "%s %s (%s): cannot open the file",
                     directive, d->path, d->where);
        d->fd = NULL;
    }
    return rv;
}

static int check_pipe_line(server_rec *s, const gk_log_srv_conf_t *c,
                           const gk_log_dest_t *d, const char *directive)
{
    if (d->is_pipe && gk_log_conf_max_line(c) > GK_LOG_PIPE_MAX) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, s,
                     GKLOGNO(40022) "GKLogMaxLine %d is too long for the "
                     "piped log %s \"%s\" (%s): at most %d bytes leave a "
                     "pipe in one piece", gk_log_conf_max_line(c),
                     directive, d->spec, d->where, GK_LOG_PIPE_MAX);
        return 0;
    }
    return 1;
}

static apr_status_t forget_error_dest(void *data)
{
    error_dest = NULL;
    return APR_SUCCESS;
}

int gk_log_open_logs(apr_pool_t *pconf, apr_pool_t *plog,
                     apr_pool_t *ptemp, server_rec *main_s)
{
    server_rec *s;
    int i, logs = 0;

    error_dest = NULL;
    for (s = main_s; s; s = s->next) {
        const gk_log_srv_conf_t *c = gk_log_srv_conf(s);
        logs += c->logs ? c->logs->nelts : 0;
        for (i = 0; c->logs && i < c->logs->nelts; i++) {
            gk_log_dest_t *d = APR_ARRAY_IDX(c->logs, i, gk_log_dest_t *);
            if (!check_pipe_line(s, c, d, "GKLog")
                || open_dest(pconf, s, d, "GKLog") != APR_SUCCESS) {
                return HTTP_INTERNAL_SERVER_ERROR;
            }
        }
        if (c->audit && (!check_pipe_line(s, c, c->audit, "GKAuditLog")
                         || open_dest(pconf, s, c->audit, "GKAuditLog")
                                != APR_SUCCESS)) {
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    {
        const gk_log_srv_conf_t *c = gk_log_srv_conf(main_s);
        if (c->errlog) {
            if (open_dest(pconf, main_s, c->errlog, "GKErrorLog")
                != APR_SUCCESS) {
                return HTTP_INTERNAL_SERVER_ERROR;
            }
            error_dest = c->errlog;
            /* registered after the file's own cleanup, so it runs first:
             * no line goes to a closed file during a restart */
            apr_pool_cleanup_register(pconf, NULL, forget_error_dest,
                                      apr_pool_cleanup_null);
        }
    }
    count_bytes = logs > 0 || !ap_conftree || uses_json_item(ap_conftree);
    return OK;
}

/* ---- writing, buffered or not ------------------------------------------ */

/* GKLogBuffer: whole lines kept per child and destination, written when
 * full, when the oldest is a second old (by the next line, or by the
 * child's flusher thread), and when the child exits. */
typedef struct gk_log_buf_t {
    apr_thread_mutex_t *mu;
    char *data;
    apr_size_t len, cap;
    apr_time_t first;               /* when the oldest line came */
    int is_pipe;
} gk_log_buf_t;

static apr_array_header_t *buffers;     /* gk_log_dest_t *, this child's */
static volatile int flusher_stop;
static apr_thread_t *flusher;

static void raw_write(apr_file_t *fd, const char *data, apr_size_t len)
{
    apr_size_t n = len;

    /* a failure is not logged: the line would come back here */
    (void)apr_file_write(fd, data, &n);
}

/* Write the buffer (mutex held): in one write to a file; to a pipe in
 * runs of whole lines of at most PIPE_BUF bytes, which arrive whole. */
static void flush_locked(gk_log_dest_t *d)
{
    gk_log_buf_t *b = d->buf;
    apr_size_t off = 0;

    if (!b->is_pipe) {
        raw_write(d->fd, b->data, b->len);
    }
    else {
        while (off < b->len) {
            apr_size_t end = off, next;
            /* the longest run of whole lines within PIPE_BUF */
            while (end < b->len) {
                const char *nl = memchr(b->data + end, '\n', b->len - end);
                next = nl ? (apr_size_t)(nl - b->data) + 1 : b->len;
                if (next - off > GK_LOG_PIPE_MAX && end > off) {
                    break;
                }
                end = next;
            }
            raw_write(d->fd, b->data + off, end - off);
            off = end;
        }
    }
    b->len = 0;
}

static void write_line(gk_log_dest_t *d, const char *line, apr_size_t len)
{
    gk_log_buf_t *b = d->buf;
    apr_time_t now;

    if (!d->fd) {
        return;
    }
    if (!b) {
        raw_write(d->fd, line, len);
        return;
    }
    now = apr_time_now();
    apr_thread_mutex_lock(b->mu);
    if (b->len + len > b->cap) {
        flush_locked(d);
    }
    if (len > b->cap) {
        raw_write(d->fd, line, len);
    }
    else {
        if (!b->len) {
            b->first = now;
        }
        memcpy(b->data + b->len, line, len);
        b->len += len;
        if (now - b->first >= apr_time_from_sec(1)) {
            flush_locked(d);
        }
    }
    apr_thread_mutex_unlock(b->mu);
}

static void flush_all(int due_only)
{
    apr_time_t now = apr_time_now();
    int i;

    for (i = 0; buffers && i < buffers->nelts; i++) {
        gk_log_dest_t *d = APR_ARRAY_IDX(buffers, i, gk_log_dest_t *);
        apr_thread_mutex_lock(d->buf->mu);
        if (d->buf->len && (!due_only || now - d->buf->first
                                             >= apr_time_from_msec(900))) {
            flush_locked(d);
        }
        apr_thread_mutex_unlock(d->buf->mu);
    }
}

static void *APR_THREAD_FUNC flusher_main(apr_thread_t *t, void *data)
{
    while (!flusher_stop) {
        apr_sleep(apr_time_from_msec(100));
        flush_all(1);
    }
    return NULL;
}

static apr_status_t child_exit(void *data)
{
    apr_status_t rv;

    flusher_stop = 1;
    if (flusher) {
        apr_thread_join(&rv, flusher);
        flusher = NULL;
    }
    flush_all(0);
    return APR_SUCCESS;
}

void gk_log_json_child_init(apr_pool_t *p, server_rec *main_s)
{
    int size = gk_log_srv_conf(main_s)->buffer;
    server_rec *s;
    int i;

    buffers = NULL;
    flusher = NULL;
    flusher_stop = 0;
    if (size <= 0) {
        return;
    }
    for (s = main_s; s; s = s->next) {
        const gk_log_srv_conf_t *c = gk_log_srv_conf(s);
        for (i = 0; c->logs && i < c->logs->nelts; i++) {
            gk_log_dest_t *d = APR_ARRAY_IDX(c->logs, i, gk_log_dest_t *);
            gk_log_buf_t *b;
            if (d->buf || !d->fd) {
                continue;
            }
            b = apr_pcalloc(p, sizeof(*b));
            if (apr_thread_mutex_create(&b->mu, APR_THREAD_MUTEX_DEFAULT, p)
                != APR_SUCCESS) {
                continue;
            }
            b->cap = (apr_size_t)size;
            b->data = apr_palloc(p, b->cap);
            b->is_pipe = d->is_pipe;
            d->buf = b;
            if (!buffers) {
                buffers = apr_array_make(p, 4, sizeof(gk_log_dest_t *));
            }
            APR_ARRAY_PUSH(buffers, gk_log_dest_t *) = d;
        }
    }
    if (buffers) {
        /* a pre-cleanup: runs before the thread's own pool (a subpool of
         * p) goes, so the thread is joined while it exists */
        apr_pool_pre_cleanup_register(p, NULL, child_exit);
        if (apr_thread_create(&flusher, NULL, flusher_main, NULL, p)
            != APR_SUCCESS) {
            flusher = NULL;
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, main_s,
                         GKLOGNO(40024) "GKLogBuffer: cannot start the "
                         "flusher thread; buffered lines are written when "
                         "the buffer fills or a line comes a second after "
                         "the oldest");
        }
    }
}

/* ---- common pieces -------------------------------------------------------- */

/* n as `width` decimal digits at p (n fits; every line has a timestamp,
 * so no printf here). */
static char *digits(char *p, int n, int width)
{
    int i;

    for (i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + n % 10);
        n /= 10;
    }
    return p + width;
}

/* "2026-11-29T20:41:40.123456Z" into buf (28 bytes). */
static void rfc3339(char *buf, apr_time_t t)
{
    apr_time_exp_t x;
    char *p = buf;

    apr_time_exp_gmt(&x, t);
    p = digits(p, x.tm_year + 1900, 4);
    *p++ = '-';
    p = digits(p, x.tm_mon + 1, 2);
    *p++ = '-';
    p = digits(p, x.tm_mday, 2);
    *p++ = 'T';
    p = digits(p, x.tm_hour, 2);
    *p++ = ':';
    p = digits(p, x.tm_min, 2);
    *p++ = ':';
    p = digits(p, x.tm_sec, 2);
    *p++ = '.';
    p = digits(p, x.tm_usec, 6);
    *p++ = 'Z';
    *p = '\0';
}

static void put_time(gk_json_out_t *o, apr_time_t t)
{
    char ts[28];

    rfc3339(ts, t);
    gk_json_cstr(o, "@timestamp", ts, 0);
    gk_json_obj_open(o, "ecs");
    gk_json_cstr(o, "version", GK_LOG_ECS_VERSION, 0);
    gk_json_close(o);
}

static void put_addr(gk_json_out_t *o, const char *key, const char *ip,
                     int port)
{
    gk_json_obj_open(o, key);
    gk_json_cstr(o, "address", ip, CAP_SHORT);
    gk_json_cstr(o, "ip", ip, CAP_SHORT);
    if (port > 0) {
        gk_json_int(o, "port", port);
    }
    gk_json_close(o);
}

/* A note of r, or of the requests it came from (an internal redirect's
 * notes are its own: mod_gk_auth's live on the request that
 * authenticated). */
static const char *note_back(const request_rec *r, const char *name)
{
    const char *v;

    for (; r; r = r->prev) {
        if ((v = apr_table_get(r->notes, name))) {
            return v;
        }
    }
    return NULL;
}

static const char *env_back(const request_rec *r, const char *name)
{
    const char *v;

    for (; r; r = r->prev) {
        if ((v = apr_table_get(r->subprocess_env, name))) {
            return v;
        }
    }
    return NULL;
}

static void put_roles(gk_json_out_t *o, const char *roles)
{
    const char *p = roles, *sp;

    if (!roles) {
        gk_json_null(o, "roles");
        return;
    }
    gk_json_arr_open(o, "roles");
    while (*p) {
        sp = strchr(p, ' ');
        if (!sp) {
            sp = p + strlen(p);
        }
        if (sp > p) {
            gk_json_str(o, NULL, p, (apr_size_t)(sp - p), CAP_SHORT);
        }
        p = *sp ? sp + 1 : sp;
    }
    gk_json_close(o);
}

static const char *http_version(const char *protocol)
{
    if (!protocol) {
        return NULL;
    }
    if (!strncmp(protocol, "HTTP/", 5)) {
        protocol += 5;
    }
    return !strcmp(protocol, "2.0") ? "2" : protocol;
}

static const char *correlation_id(request_rec *r)
{
    const char *id = note_back(r, GK_LOG_NOTE_CORRELATION_ID);

    return id ? id : r->log_id;
}

/* ---- the access line ------------------------------------------------------ */

/* The long values that were cut, by their field names (gk.truncated_fields):
 * a value is cut when the writer's count grew while it was written. */
#define MAX_CUTS 8

typedef struct {
    const char *names[MAX_CUTS];
    int n, seen;
} cuts_t;

static void note_cut(cuts_t *cu, const gk_json_out_t *o, const char *name)
{
    if (o->truncated != cu->seen) {
        cu->seen = o->truncated;
        if (cu->n < MAX_CUTS) {
            cu->names[cu->n++] = name;
        }
    }
}

static void put_fields(gk_json_out_t *o, const gk_log_srv_conf_t *c,
                       request_rec *orig, request_rec *last, cuts_t *cu)
{
    int i;

    gk_json_obj_open(o, "fields");
    for (i = 0; i < c->fields->nelts; i++) {
        const gk_log_field_t *f =
            &APR_ARRAY_IDX(c->fields, i, gk_log_field_t);
        const char *v = NULL;
        switch (f->src) {
        case GK_LOG_SRC_HEADER:
            v = apr_table_get(orig->headers_in, f->key);
            if (v && gk_log_conf_header_redacted(c, f->key)) {
                v = GK_REDACTED;
            }
            break;
        case GK_LOG_SRC_NOTE:
            v = note_back(last, f->key);
            break;
        case GK_LOG_SRC_ENV:
            v = env_back(last, f->key);
            break;
        }
        if (v && f->as_int) {
            char *end;
            apr_int64_t n;
            errno = 0;
            n = apr_strtoi64(v, &end, 10);
            if (*v && !*end && !errno) {
                gk_json_int(o, f->name, n);
            }
            else {
                gk_json_null(o, f->name);
            }
        }
        else {
            cu->seen = o->truncated;
            gk_json_cstr(o, f->name, v, CAP_FIELD);
            note_cut(cu, o, apr_pstrcat(orig->pool, "fields.", f->name,
                                        NULL));
        }
    }
    gk_json_close(o);
}

/* The access object of r into buf (cap bytes); its length with the
 * newline. orig: the request as the client sent it; last: the request
 * that answered (after internal redirects). */
static apr_size_t access_line(request_rec *r, char *buf, apr_size_t cap,
                              const gk_log_bytes_t *bytes)
{
    const gk_log_srv_conf_t *c = gk_log_srv_conf(r->server);
    const apr_array_header_t *rq = gk_log_conf_redact_query(c);
    request_rec *orig = r, *last = r;
    conn_rec *conn = r->connection;
    gk_json_out_t o;
    const char *v, *user, *ref;
    int truncated, i;
    apr_size_t k = cap > 4096 ? cap / 4096 : 1;
    cuts_t cu = {{NULL}, 0, 0};

    while (orig->prev) {
        orig = orig->prev;
    }
    while (last->next) {
        last = last->next;
    }
    gk_json_begin(&o, buf, cap);
    o.reserve = GK_TAIL_RESERVE;
    put_time(&o, orig->request_time);

    gk_json_obj_open(&o, "event");
    gk_json_cstr(&o, "kind", "event", 0);
    gk_json_arr_open(&o, "category");
    gk_json_cstr(&o, NULL, "web", 0);
    gk_json_close(&o);
    gk_json_arr_open(&o, "type");
    gk_json_cstr(&o, NULL, "access", 0);
    gk_json_close(&o);
    gk_json_cstr(&o, "dataset", "gatekeeper.access", 0);
    gk_json_cstr(&o, "outcome", last->status >= 400 ? "failure" : "success",
                 0);
    gk_json_int(&o, "duration",
                (apr_int64_t)(apr_time_now() - orig->request_time) * 1000);
    gk_json_close(&o);

    put_addr(&o, "client", orig->useragent_ip, 0);
    put_addr(&o, "source", conn->client_ip,
             conn->client_addr ? conn->client_addr->port : 0);
    put_addr(&o, "server", conn->local_ip,
             conn->local_addr ? conn->local_addr->port : 0);

    gk_json_obj_open(&o, "http");
    gk_json_cstr(&o, "version", http_version(orig->protocol), CAP_SHORT);
    gk_json_obj_open(&o, "request");
    gk_json_cstr(&o, "method", orig->method, CAP_SHORT);
    if (bytes) {
        gk_json_int(&o, "bytes", bytes->in);
    }
    else {
        gk_json_null(&o, "bytes");
    }
    ref = apr_table_get(orig->headers_in, "Referer");
    cu.seen = o.truncated;
    gk_json_cstr(&o, "referrer", ref ? gk_redact_url(r->pool, ref, rq) : NULL,
                 CAP_REFERRER * k);
    note_cut(&cu, &o, "http.request.referrer");
    gk_json_close(&o);
    gk_json_obj_open(&o, "response");
    gk_json_int(&o, "status_code", last->status);
    if (bytes) {
        gk_json_int(&o, "bytes", bytes->out);
    }
    else {
        gk_json_null(&o, "bytes");
    }
    gk_json_obj_open(&o, "body");
    gk_json_int(&o, "bytes", last->bytes_sent);
    gk_json_close(&o);
    gk_json_close(&o);
    gk_json_close(&o);

    gk_json_obj_open(&o, "url");
    cu.seen = o.truncated;
    gk_json_cstr(&o, "path", orig->parsed_uri.path, CAP_PATH * k);
    note_cut(&cu, &o, "url.path");
    v = orig->parsed_uri.query;
    gk_json_cstr(&o, "query", v ? gk_redact_query(r->pool, v, strlen(v), rq)
                                : NULL, CAP_QUERY * k);
    note_cut(&cu, &o, "url.query");
    gk_json_cstr(&o, "domain", orig->hostname, CAP_SHORT);
    gk_json_close(&o);

    gk_json_obj_open(&o, "user_agent");
    cu.seen = o.truncated;
    gk_json_cstr(&o, "original", apr_table_get(orig->headers_in, "User-Agent"),
                 CAP_UA * k);
    note_cut(&cu, &o, "user_agent.original");
    gk_json_close(&o);

    user = last->user ? last->user : orig->user;
    gk_json_obj_open(&o, "user");
    gk_json_cstr(&o, "name", user, CAP_SHORT);
    put_roles(&o, env_back(last, "GK_ROLES"));
    gk_json_close(&o);

    {
        conn_rec *tc = conn->master ? conn->master : conn;
        if (ap_ssl_conn_is_ssl(tc)) {
            const char *proto = ap_ssl_var_lookup(r->pool, r->server, tc,
                                                  NULL, "SSL_PROTOCOL");
            gk_json_obj_open(&o, "tls");
            if (proto && !strncmp(proto, "TLSv", 4)) {
                gk_json_cstr(&o, "version", proto + 4, CAP_SHORT);
                gk_json_cstr(&o, "version_protocol", "tls", 0);
            }
            else {
                gk_json_cstr(&o, "version", proto, CAP_SHORT);
            }
            gk_json_cstr(&o, "cipher",
                         ap_ssl_var_lookup(r->pool, r->server, tc, NULL,
                                           "SSL_CIPHER"), CAP_SHORT);
            gk_json_close(&o);
        }
    }

    if ((v = note_back(orig, GK_LOG_NOTE_TRACE_ID))) {
        gk_json_obj_open(&o, "trace");
        gk_json_cstr(&o, "id", v, CAP_SHORT);
        gk_json_close(&o);
        gk_json_obj_open(&o, "span");
        gk_json_cstr(&o, "id", note_back(orig, GK_LOG_NOTE_SPAN_ID),
                     CAP_SHORT);
        gk_json_close(&o);
    }

    if (c->fields) {
        put_fields(&o, c, orig, last, &cu);
    }

    /* the gk object last, in the reserve: whatever was cut above, the
     * correlation ID and the truncation flag are there */
    truncated = o.truncated;
    o.reserve = 0;
    gk_json_obj_open(&o, "gk");
    gk_json_cstr(&o, "correlation_id", correlation_id(orig), CAP_SHORT);
    gk_json_cstr(&o, "vhost", r->server->server_hostname, CAP_SHORT);
    gk_json_cstr(&o, "handler", last->handler, CAP_SHORT);
    gk_json_obj_open(&o, "auth");
    gk_json_cstr(&o, "outcome", note_back(last, "gk-auth-outcome"),
                 CAP_SHORT);
    gk_json_cstr(&o, "reason", note_back(last, "gk-auth-reason"), CAP_SHORT);
    gk_json_close(&o);
    gk_json_obj_open(&o, "cors");
    gk_json_cstr(&o, "outcome", note_back(last, "gk-cors-outcome"),
                 CAP_SHORT);
    gk_json_cstr(&o, "reason", note_back(last, "gk-cors-reason"), CAP_SHORT);
    gk_json_close(&o);
    gk_json_obj_open(&o, "ratelimit");
    gk_json_cstr(&o, "outcome", note_back(last, "gk-ratelimit-outcome"),
                 CAP_SHORT);
    gk_json_cstr(&o, "reason", note_back(last, "gk-ratelimit-reason"),
                 CAP_SHORT);
    gk_json_cstr(&o, "name", note_back(last, "gk-ratelimit-name"), CAP_SHORT);
    if ((v = note_back(last, "gk-ratelimit-remaining")) && apr_isdigit(*v)) {
        gk_json_int(&o, "remaining", apr_atoi64(v));
    }
    else {
        gk_json_null(&o, "remaining");
    }
    gk_json_close(&o);
    gk_json_obj_open(&o, "validate");
    gk_json_cstr(&o, "outcome", note_back(last, "gk-validate-outcome"),
                 CAP_SHORT);
    gk_json_cstr(&o, "reason", note_back(last, "gk-validate-reason"),
                 CAP_SHORT);
    gk_json_cstr(&o, "keyword", note_back(last, "gk-validate-keyword"),
                 CAP_SHORT);
    gk_json_close(&o);
    gk_json_bool(&o, "truncated", truncated || o.truncated);
    if (cu.n) {
        gk_json_arr_open(&o, "truncated_fields");
        for (i = 0; i < cu.n; i++) {
            gk_json_cstr(&o, NULL, cu.names[i], 0);
        }
        gk_json_close(&o);
    }
    gk_json_close(&o);
    return gk_json_end(&o);
}

static int dest_wants(request_rec *r, const gk_log_dest_t *d)
{
    if (d->env) {
        int set = apr_table_get(r->subprocess_env, d->env) != NULL;
        return d->env_negate ? !set : set;
    }
    if (d->expr) {
        const char *err = NULL;
        int rc = ap_expr_exec(r, d->expr, &err);
        if (rc < 0) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, GKLOGNO(40023)
                          "GKLog %s (%s): the condition failed: %s",
                          d->spec, d->where, err);
            return 0;
        }
        return rc;
    }
    return 1;
}

int gk_log_json_log_transaction(request_rec *r)
{
    const gk_log_srv_conf_t *c = gk_log_srv_conf(r->server);
    gk_log_bytes_t *cb = conn_bytes(r->connection), bytes;
    char *line = NULL;
    apr_size_t len = 0;
    int i;

    /* this request's bytes; the next request on the connection starts
     * from zero */
    if (cb) {
        bytes = *cb;
        cb->in = cb->out = 0;
    }
    for (i = 0; c->logs && i < c->logs->nelts; i++) {
        gk_log_dest_t *d = APR_ARRAY_IDX(c->logs, i, gk_log_dest_t *);
        if (!dest_wants(r, d)) {
            continue;
        }
        if (!line) {
            apr_size_t cap = (apr_size_t)gk_log_conf_max_line(c);
            line = apr_palloc(r->pool, cap + 1);
            len = access_line(r, line, cap, cb ? &bytes : NULL);
        }
        write_line(d, line, len);
    }
    return DECLINED;
}

/* %^GJ in a mod_log_config LogFormat: the same object, without the
 * newline (CustomLog adds it). Byte counts are those up to now: the
 * counters are taken by our log_transaction, which runs after
 * mod_log_config's. */
static const char *log_item_gj(request_rec *r, char *arg)
{
    const gk_log_srv_conf_t *c = gk_log_srv_conf(r->server);
    apr_size_t cap = (apr_size_t)gk_log_conf_max_line(c), len;
    char *line = apr_palloc(r->pool, cap + 1);

    len = access_line(r, line, cap, conn_bytes(r->connection));
    line[len - 1] = 0;
    return line;
}

/* ---- audit events --------------------------------------------------------- */

static int plain_key(const char *k)
{
    const char *p = k;

    for (; *p; p++) {
        if (!apr_isalnum(*p) && *p != '_' && *p != '-' && *p != '.') {
            return 0;
        }
    }
    return p > k && p - k <= 64;
}

void gk_log_audit(request_rec *r, const char *category, const char *action,
                  const char *outcome, const char *reason,
                  const apr_table_t *fields)
{
    const gk_log_srv_conf_t *c;
    apr_size_t cap, len;
    gk_json_out_t o;
    request_rec *orig;
    char *line;
    int i;

    if (!r) {
        return;
    }
    c = gk_log_srv_conf(r->server);
    if (!c->audit && !c->logs) {
        return;
    }
    for (orig = r; orig->prev; orig = orig->prev) {
    }
    if (orig->main) {
        orig = orig->main;
    }
    cap = (apr_size_t)gk_log_conf_max_line(c);
    line = apr_palloc(r->pool, cap + 1);
    gk_json_begin(&o, line, cap);
    o.reserve = GK_TAIL_RESERVE;
    put_time(&o, apr_time_now());
    gk_json_obj_open(&o, "event");
    gk_json_cstr(&o, "kind", "event", 0);
    gk_json_arr_open(&o, "category");
    gk_json_cstr(&o, NULL, category, CAP_SHORT);
    gk_json_close(&o);
    gk_json_cstr(&o, "dataset", "gatekeeper.audit", 0);
    gk_json_cstr(&o, "action", action, CAP_SHORT);
    gk_json_cstr(&o, "outcome", outcome, CAP_SHORT);
    gk_json_cstr(&o, "reason", reason, CAP_SHORT);
    gk_json_close(&o);
    put_addr(&o, "client", r->useragent_ip, 0);
    put_addr(&o, "source", r->connection->client_ip,
             r->connection->client_addr ? r->connection->client_addr->port
                                        : 0);
    gk_json_obj_open(&o, "http");
    gk_json_obj_open(&o, "request");
    gk_json_cstr(&o, "method", orig->method, CAP_SHORT);
    gk_json_close(&o);
    gk_json_close(&o);
    gk_json_obj_open(&o, "url");
    gk_json_cstr(&o, "path", orig->parsed_uri.path, CAP_PATH);
    gk_json_close(&o);
    gk_json_obj_open(&o, "user");
    gk_json_cstr(&o, "name", r->user, CAP_SHORT);
    gk_json_close(&o);
    if (fields) {
        const apr_array_header_t *a = apr_table_elts(fields);
        const apr_table_entry_t *e = (const apr_table_entry_t *)a->elts;
        gk_json_obj_open(&o, "labels");
        for (i = 0; i < a->nelts; i++) {
            if (e[i].key && plain_key(e[i].key)) {
                gk_json_cstr(&o, e[i].key, e[i].val, CAP_FIELD);
            }
        }
        gk_json_close(&o);
    }
    o.reserve = 0;
    gk_json_obj_open(&o, "gk");
    gk_json_cstr(&o, "correlation_id", correlation_id(orig), CAP_SHORT);
    gk_json_cstr(&o, "vhost", r->server->server_hostname, CAP_SHORT);
    gk_json_close(&o);
    len = gk_json_end(&o);
    if (c->audit) {
        write_line(c->audit, line, len);
        return;
    }
    for (i = 0; i < c->logs->nelts; i++) {
        write_line(APR_ARRAY_IDX(c->logs, i, gk_log_dest_t *), line, len);
    }
}

/* ---- the JSON error log ------------------------------------------------- */

static const char *const level_names[] = {
    "emerg", "alert", "crit", "error", "warn", "notice", "info", "debug",
    "trace1", "trace2", "trace3", "trace4", "trace5", "trace6", "trace7",
    "trace8"
};

/* "AH01234" or "GK40001" at the start of a message: its length, else 0. */
static apr_size_t msg_tag(const char *m)
{
    int i;

    if (!((m[0] == 'A' && m[1] == 'H') || (m[0] == 'G' && m[1] == 'K'))) {
        return 0;
    }
    for (i = 2; i < 7; i++) {
        if (!apr_isdigit(m[i])) {
            return 0;
        }
    }
    return m[7] == ':' ? 7 : 0;
}

/* Called for every line httpd writes to its error log (after its level
 * check). Allocates nothing: the line is built on the stack. */
void gk_log_error_log(const ap_errorlog_info *info, const char *errstr)
{
    char buf[ERR_LINE_MAX];
    gk_json_out_t o;
    const char *id = NULL, *client = NULL, *mod;
    int level = info->level & APLOG_LEVELMASK;
    apr_size_t tag, len;

    if (!error_dest || !error_dest->fd || !errstr) {
        return;
    }
    gk_json_begin(&o, buf, sizeof(buf));
    o.reserve = 128;
    put_time(&o, apr_time_now());
    gk_json_obj_open(&o, "event");
    gk_json_cstr(&o, "kind", "event", 0);
    gk_json_cstr(&o, "dataset", "gatekeeper.error", 0);
    gk_json_close(&o);
    gk_json_obj_open(&o, "log");
    gk_json_cstr(&o, "level", level < 16 ? level_names[level] : NULL, 0);
    mod = info->module_index >= 0
              ? ap_find_module_short_name(info->module_index)
              : NULL;
    gk_json_cstr(&o, "logger", mod, CAP_SHORT);
    gk_json_close(&o);
    tag = msg_tag(errstr);
    gk_json_obj_open(&o, "error");
    if (tag) {
        gk_json_str(&o, "code", errstr, tag, 0);
        errstr += tag + 1;
        while (*errstr == ' ') {
            errstr++;
        }
    }
    else {
        gk_json_null(&o, "code");
    }
    gk_json_close(&o);
    if (info->r) {
        client = info->r->useragent_ip;
        id = apr_table_get(info->r->notes, GK_LOG_NOTE_CORRELATION_ID);
        if (!id) {
            id = info->r->log_id;
        }
    }
    else if (info->c) {
        client = info->c->client_ip;
        id = info->c->log_id;
    }
    if (client) {
        gk_json_obj_open(&o, "client");
        gk_json_cstr(&o, "address", client, CAP_SHORT);
        gk_json_close(&o);
    }
    gk_json_cstr(&o, "message", errstr, CAP_MESSAGE);
    o.reserve = 0;
    gk_json_obj_open(&o, "gk");
    gk_json_cstr(&o, "correlation_id", id, CAP_SHORT);
    gk_json_close(&o);
    len = gk_json_end(&o);
    write_line(error_dest, buf, len);
}

/* ---- registration --------------------------------------------------------- */

int gk_log_json_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                           apr_pool_t *ptemp)
{
    APR_OPTIONAL_FN_TYPE(ap_register_log_handler) *reg =
        APR_RETRIEVE_OPTIONAL_FN(ap_register_log_handler);

    if (reg) {
        reg(pconf, "^GJ", log_item_gj, 0);
    }
    error_dest = NULL;              /* until open_logs opened one */
    return OK;
}

void gk_log_json_register_filters(void)
{
    in_filter = ap_register_input_filter("GK_LOG_BYTES_IN", count_in,
                                         NULL, AP_FTYPE_NETWORK - 1);
    out_filter = ap_register_output_filter("GK_LOG_BYTES_OUT",
                                           count_out, NULL,
                                           AP_FTYPE_NETWORK - 1);
}
