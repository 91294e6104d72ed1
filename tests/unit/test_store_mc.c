/* The memcached store (gk_store_mc) against real memcached processes
 * started by the tests on free loopback ports: the configuration check
 * and its tokeniser, the expiry conversion, the store semantics, expiry,
 * exact counts from threads (and one round trip per incr, from
 * memcached's own stats), two servers, a frozen server (timeouts, the
 * breaker, no stale reply), a killed and restarted server, a server not
 * running at create time, an empty pool; set, groups (every key of a
 * group on one server, read there directly), set_all on every server,
 * one round trip per get_multi_in (counted by a loopback proxy), the
 * breaker of a group's frozen server, a lookup after a restart. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <apr_atomic.h>
#include <apr_thread_proc.h>

#include "gk_store_mc.h"
#include "gk_test_core.h"

#define MEMCACHED_BIN "/usr/bin/memcached"

/* ---- helpers: memcached processes --------------------------------------- */

/* A memcached process started by a test. */
typedef struct {
    pid_t pid;
    int port;
} mcd_t;

/* Milliseconds of a monotonic clock. */
static apr_int64_t mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (apr_int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A free loopback TCP port (bound once by the kernel, then released). */
static int free_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    ck_assert_int_ge(fd, 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* A connected socket to 127.0.0.1:port, or -1. */
static int dial(int port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0) {
        return -1;
    }
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Start memcached on port (0: a free one) and wait until it accepts. */
static void mcd_start(mcd_t *m, int port)
{
    char ps[16];
    apr_int64_t deadline;
    int fd;

    m->port = port ? port : free_port();
    snprintf(ps, sizeof(ps), "%d", m->port);
    m->pid = fork();
    ck_assert_int_ge(m->pid, 0);
    if (m->pid == 0) {
        if (geteuid() == 0) {
            execl(MEMCACHED_BIN, "memcached", "-l", "127.0.0.1", "-p", ps,
                  "-U", "0", "-m", "16", "-u", "nobody", (char *)NULL);
        }
        else {
            execl(MEMCACHED_BIN, "memcached", "-l", "127.0.0.1", "-p", ps,
                  "-U", "0", "-m", "16", (char *)NULL);
        }
        _exit(127);
    }
    deadline = mono() + 5000;
    while ((fd = dial(m->port)) < 0) {
        ck_assert_msg(mono() < deadline, "memcached on %d did not start",
                      m->port);
        usleep(10000);
    }
    close(fd);
}

/* Freeze memcached with SIGSTOP and wait until it is stopped (the signal
 * is delivered asynchronously: it may still answer right after kill). */
static void mcd_stop(const mcd_t *m)
{
    char path[64], buf[512];
    apr_int64_t deadline = mono() + 5000;

    ck_assert_int_eq(kill(m->pid, SIGSTOP), 0);
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)m->pid);
    for (;;) {
        FILE *f = fopen(path, "r");
        size_t n;
        const char *rp;
        ck_assert_ptr_nonnull(f);
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        rp = strrchr(buf, ')');
        if (rp && rp[1] == ' ' && rp[2] == 'T') {
            return;
        }
        ck_assert_msg(mono() < deadline, "memcached did not stop");
        usleep(1000);
    }
}

/* Kill memcached (even a stopped one) and reap it. */
static void mcd_kill(mcd_t *m)
{
    if (m->pid > 0) {
        kill(m->pid, SIGKILL);
        kill(m->pid, SIGCONT);
        waitpid(m->pid, NULL, 0);
        m->pid = 0;
    }
}

/* Pool cleanup: kill the memcached of a test. */
static apr_status_t mcd_cleanup(void *data)
{
    mcd_kill(data);
    return APR_SUCCESS;
}

/* A memcached for this test, killed at the test's end. */
static mcd_t *mcd_new(void)
{
    mcd_t *m = apr_pcalloc(tp, sizeof(*m));

    mcd_start(m, 0);
    apr_pool_cleanup_register(tp, m, mcd_cleanup, apr_pool_cleanup_null);
    return m;
}

/* Send a text-protocol command to memcached m and read its answer, up to
 * "END\r\n", into buf (NUL-terminated). */
static void mcd_command(const mcd_t *m, const char *cmd, char *buf,
                        size_t size)
{
    size_t got = 0;
    int fd = dial(m->port);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, cmd, strlen(cmd)), (ssize_t)strlen(cmd));
    buf[0] = '\0';
    while (got < size - 1) {
        ssize_t n = read(fd, buf + got, size - 1 - got);
        ck_assert_int_gt(n, 0);
        got += (size_t)n;
        buf[got] = '\0';
        if (strstr(buf, "END\r\n")) {
            break;
        }
    }
    close(fd);
}

/* memcached's `stats` counter named name (e.g. "incr_hits"). */
static apr_uint64_t mcd_stat(const mcd_t *m, const char *name)
{
    char buf[16384];
    char pat[64];
    const char *s;

    mcd_command(m, "stats\r\n", buf, sizeof(buf));
    snprintf(pat, sizeof(pat), "STAT %s ", name);
    s = strstr(buf, pat);
    ck_assert_msg(s != NULL, "no stat %s", name);
    return apr_strtoi64(s + strlen(pat), NULL, 10);
}

/* incr_hits + incr_misses of a server. memcached counts a binary incr
 * that creates its key with the initial value in neither (nor one that
 * lost the race to create it and got NOT_STORED); total_items is no help
 * either: it also grows when a counter's decimal form gets longer (the
 * item is replaced). So over a run of N incr on K fresh keys the delta is
 * N - K, and the round trips are N plus the store's retries. */
static apr_uint64_t mcd_incrs(const mcd_t *m)
{
    return mcd_stat(m, "incr_hits") + mcd_stat(m, "incr_misses");
}

/* ---- helpers: stores ---------------------------------------------------- */

/* A store over conf, asserting success. */
static gk_store_t *store_conf(const char *conf, int timeout_ms, int size)
{
    gk_store_t *s = NULL;
    const char *err = NULL;

    ck_assert_msg(gk_store_mc_create(tp, conf, timeout_ms, size, &s, &err)
                      == APR_SUCCESS,
                  "create: %s", err ? err : "?");
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(gk_store_mc_is(s), 1);
    return s;
}

/* A store over one memcached. */
static gk_store_t *store_on(const mcd_t *m, int timeout_ms, int size)
{
    return store_conf(apr_psprintf(tp, "--SERVER=127.0.0.1:%d", m->port),
                      timeout_ms, size);
}

/* Unix seconds now (memcached's relative expiry needs a real clock). */
static apr_int64_t unix_now(void)
{
    return (apr_int64_t)time(NULL);
}

/* incr of a NUL-terminated key; the result, *v set on OK. */
static gk_store_result_e incr(gk_store_t *s, const char *k, apr_uint64_t d,
                              apr_uint64_t init, apr_uint64_t *v)
{
    apr_int64_t now = unix_now();
    return gk_store_incr(s, k, strlen(k), d, init, now + 60, now, v);
}

/* got is evaluated once (it is often the call under test). */
#define ASSERT_RC(got, want)                                                 \
    do {                                                                     \
        gk_store_result_e got_ = (got), want_ = (want);                      \
        ck_assert_msg(got_ == want_, "got %s, want %s",                      \
                      gk_store_result_name(got_),                            \
                      gk_store_result_name(want_));                          \
    } while (0)

/* The event log of a store (what a module would log or audit). */
typedef struct {
    volatile apr_uint32_t failures;
    volatile apr_uint32_t opened;
    volatile apr_uint32_t probe_failed;
    volatile apr_uint32_t closed;
    volatile apr_uint32_t pool_empty;
} evlog_t;

/* The event callback: count events by kind. */
static void on_event(void *baton, const gk_store_mc_event_t *ev)
{
    evlog_t *l = baton;

    ck_assert_ptr_nonnull(ev->op);
    if (ev->pool_empty) {
        apr_atomic_inc32(&l->pool_empty);
    }
    else if (ev->result != GK_STORE_OK) {
        apr_atomic_inc32(&l->failures);
    }
    switch (ev->breaker) {
    case GK_BREAKER_EV_OPENED:
        apr_atomic_inc32(&l->opened);
        break;
    case GK_BREAKER_EV_PROBE_FAILED:
        apr_atomic_inc32(&l->probe_failed);
        break;
    case GK_BREAKER_EV_CLOSED:
        apr_atomic_inc32(&l->closed);
        break;
    default:
        break;
    }
}

/* ---- configuration ------------------------------------------------------ */

START_TEST(config_valid)
{
    static const char *const ok[] = {
        "--SERVER=127.0.0.1:11211",
        "--SERVER=10.0.0.5:11211 --SERVER=10.0.0.6:11211",
        "--server=localhost:11211",
        "--SERVER=mc1.example.com:11211/?2 --SERVER=mc2.example.com",
        "--SOCKET=\"/run/memcached/memcached.sock\"",
        "--SERVER=127.0.0.1:11211 --BINARY-PROTOCOL --TCP-NODELAY",
        "--SERVER=127.0.0.1 --TCP-KEEPALIVE --SUPPORT-CAS "
        "--SOCKET-SEND-SIZE=65536 --SOCKET-RECV-SIZE=65536",
    };
    size_t i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        const char *e = gk_store_mc_check_config(tp, ok[i]);
        ck_assert_msg(e == NULL, "%s: %s", ok[i], e);
    }
}
END_TEST

START_TEST(config_refused_options)
{
    static const char *const bad[][2] = {
        {"--NOREPLY", "exact"},
        {"--BUFFER-REQUESTS", "exact"},
        {"--USE-UDP", "exact"},
        {"--NUMBER-OF-REPLICAS=2", "spread"},
        {"--RANDOMIZE-REPLICA-READ", "spread"},
        {"--DISTRIBUTION=consistent", "spread"},
        {"--DISTRIBUTION=modula", "spread"},
        {"--HASH=MD5", "spread"},
        {"--REMOVE-FAILED-SERVERS=1", "spread"},
        {"--SORT-HOSTS", "spread"},
        {"--HASH-WITH-NAMESPACE", "prefixes"},
        {"--NAMESPACE=foo", "prefixes"},
        {"--ENCODING-KEY=secret", "exact"},
        {"--CONNECT-TIMEOUT=10", "GKRateLimitStoreTimeout"},
        {"--POLL-TIMEOUT=10", "GKRateLimitStoreTimeout"},
        {"--RCV-TIMEOUT=10", "GKRateLimitStoreTimeout"},
        {"--SND-TIMEOUT=10", "GKRateLimitStoreTimeout"},
        {"--RETRY-TIMEOUT=10", "GKRateLimitStoreTimeout"},
        {"--IO-MSG-WATERMARK=10", "bounds nothing"},
        {"--IO-BYTES-WATERMARK=10", "bounds nothing"},
        {"--IO-KEY-PREFETCH=10", "bounds nothing"},
        {"--POOL-MIN=1", "pool"},
        {"--POOL-MAX=10", "pool"},
        {"--CONFIGURE-FILE=/etc/passwd", "not allowed"},
        {"--FETCH-VERSION", "round trip"},
        {"--VERIFY-KEY", "binary"},
        {"--USER-DATA", "not allowed"},
        {"--FOO", "unknown"},
        {"--BINARY-PROTOCOL=FALSE", "takes no value"},
        {"--SOCKET-SEND-SIZE", "needs a value"},
        {"--noreply", "exact"},
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *conf = apr_pstrcat(tp, "--SERVER=127.0.0.1:11211 ",
                                       bad[i][0], NULL);
        tk_assert_err(gk_store_mc_check_config(tp, conf), bad[i][1]);
    }
}
END_TEST

START_TEST(config_garbage_and_missing_server)
{
    tk_assert_err(gk_store_mc_check_config(tp, NULL), "no configuration");
    tk_assert_err(gk_store_mc_check_config(tp, ""), "no server");
    tk_assert_err(gk_store_mc_check_config(tp, "   "), "one space");
    tk_assert_err(gk_store_mc_check_config(tp, "--TCP-NODELAY"), "no server");
    tk_assert_err(gk_store_mc_check_config(tp, "garbage"), "not an option");
    tk_assert_err(gk_store_mc_check_config(tp, "127.0.0.1:11211"),
                  "not an option");
    tk_assert_err(gk_store_mc_check_config(
                      tp, "--SERVER=127.0.0.1 INCLUDE /etc/passwd"),
                  "not an option");
    tk_assert_err(gk_store_mc_check_config(tp, "--SERVER=a RESET"),
                  "not an option");
    tk_assert_err(gk_store_mc_check_config(tp, "# --SERVER=a"),
                  "not an option");
    tk_assert_err(gk_store_mc_check_config(tp, "--SERVER=a\t--NOREPLY"),
                  "control");
    tk_assert_err(gk_store_mc_check_config(tp, "--SERVER=a\n--NOREPLY"),
                  "control");
    tk_assert_err(gk_store_mc_check_config(tp, "--SERVER=\xc3\xa9"),
                  "non-ASCII");
    tk_assert_err(gk_store_mc_check_config(tp, "--SERVER="), "empty value");
    tk_assert_err(gk_store_mc_check_config(tp, "--SERVER"), "needs a value");
    tk_assert_err(gk_store_mc_check_config(tp, "--"), "bad option name");
    tk_assert_err(gk_store_mc_check_config(tp, "--SER_VER=x"),
                  "bad option name");
    tk_assert_err(gk_store_mc_check_config(tp, "--SOCKET=\"/tmp/x"),
                  "unterminated");
    /* libmemcached's own parser refuses what our scan lets through */
    tk_assert_err(gk_store_mc_check_config(tp, "--SERVER=127.0.0.1:99999999"),
                  "libmemcached refuses");
    tk_assert_err(gk_store_mc_check_config(tp, "--SERVER=!!!"),
                  "libmemcached refuses");
    tk_assert_err(gk_store_mc_check_config(
                      tp, "--SERVER=127.0.0.1 --SOCKET-SEND-SIZE=abc"),
                  "libmemcached refuses");
}
END_TEST

START_TEST(config_scan)
{
    apr_array_header_t *o = NULL;
    gk_store_mc_opt_t *v;

    tk_assert_ok(gk_store_mc_conf_scan(
        tp, "--server=h:1 --Socket=\"/a b\\\" c\" --tcp-nodelay", &o));
    ck_assert_int_eq(o->nelts, 3);
    v = (gk_store_mc_opt_t *)o->elts;
    ck_assert_str_eq(v[0].name, "SERVER");
    ck_assert_str_eq(v[0].value, "h:1");
    ck_assert_str_eq(v[1].name, "SOCKET");
    ck_assert_str_eq(v[1].value, "\"/a b\\\" c\"");
    ck_assert_str_eq(v[2].name, "TCP-NODELAY");
    ck_assert_ptr_null(v[2].value);
    tk_assert_ok(gk_store_mc_conf_scan(tp, "", &o));
    ck_assert_int_eq(o->nelts, 0);
    /* libmemcached's grammar takes exactly one space between options */
    tk_assert_err(gk_store_mc_conf_scan(tp, " --SERVER=h", &o), "one space");
    tk_assert_err(gk_store_mc_conf_scan(tp, "--SERVER=h ", &o), "one space");
    tk_assert_err(gk_store_mc_conf_scan(tp, "--SERVER=h  --TCP-NODELAY", &o),
                  "one space");
    tk_assert_err(gk_store_mc_conf_scan(
                      tp, apr_psprintf(tp, "--SERVER=%09000d", 1), &o),
                  "longer than");
    ck_assert_ptr_null(o);
}
END_TEST

START_TEST(exptime_conversion)
{
    const apr_int64_t now = TS;

    ck_assert_int_eq(gk_store_mc_exptime(GK_STORE_NO_EXPIRY, now), 0);
    ck_assert_int_eq(gk_store_mc_exptime(now + 1, now), 1);
    ck_assert_int_eq(gk_store_mc_exptime(now + 65, now), 65);
    ck_assert_int_eq(gk_store_mc_exptime(now + 2592000, now), 2592000);
    /* beyond 30 days: memcached reads it as an absolute time */
    ck_assert_int_eq(gk_store_mc_exptime(now + 2592001, now), now + 2592001);
    ck_assert_int_eq(gk_store_mc_exptime(now + 31 * 86400 + 5, now),
                     now + 31 * 86400 + 5);
    /* refused */
    ck_assert_int_eq(gk_store_mc_exptime(now, now), -1);
    ck_assert_int_eq(gk_store_mc_exptime(now - 1, now), -1);
    ck_assert_int_eq(gk_store_mc_exptime(-5, now), -1);
    ck_assert_int_eq(gk_store_mc_exptime(0xffffffffLL, now), -1);
    ck_assert_int_eq(gk_store_mc_exptime(0xfffffffeLL, now), 0xfffffffeLL);
}
END_TEST

START_TEST(create_refuses)
{
    gk_store_t *s = NULL;
    const char *err = NULL;

    ck_assert_int_eq(gk_store_mc_create(tp, "--SERVER=127.0.0.1:1", 0, 4, &s,
                                        &err),
                     APR_EINVAL);
    tk_assert_err(err, "timeout");
    ck_assert_int_eq(gk_store_mc_create(tp, "--SERVER=127.0.0.1:1", 50, 0, &s,
                                        &err),
                     APR_EINVAL);
    tk_assert_err(err, "pool size");
    ck_assert_int_eq(gk_store_mc_create(tp, "--SERVER=127.0.0.1:1 --NOREPLY",
                                        50, 4, &s, &err),
                     APR_EINVAL);
    tk_assert_err(err, "NOREPLY");
    ck_assert_ptr_null(s);
}
END_TEST

/* ---- semantics ---------------------------------------------------------- */

START_TEST(semantics)
{
    mcd_t *m = mcd_new();
    gk_store_t *s = store_on(m, 200, 4);
    apr_int64_t now = unix_now();
    apr_uint64_t v = 77;
    char longkey[GK_STORE_MC_KEY_MAX + 2];
    const void *keys[5];
    apr_size_t klens[5];
    apr_uint64_t vals[5] = {0, 0, 0, 0, 0};
    gk_store_result_e res[5];

    /* incr: absent -> initial (delta not added), present -> += delta */
    ASSERT_RC(incr(s, "gkrl:a", 5, 10, &v), GK_STORE_OK);
    ck_assert_uint_eq(v, 10);
    ASSERT_RC(incr(s, "gkrl:a", 5, 10, &v), GK_STORE_OK);
    ck_assert_uint_eq(v, 15);
    ASSERT_RC(incr(s, "gkrl:c", 1, 1, &v), GK_STORE_OK);
    ck_assert_uint_eq(v, 1);
    /* wraps modulo 2^64 */
    ASSERT_RC(incr(s, "gkrl:w", 2, APR_UINT64_MAX, &v), GK_STORE_OK);
    ASSERT_RC(incr(s, "gkrl:w", 2, 0, &v), GK_STORE_OK);
    ck_assert_uint_eq(v, 1);
    /* decr: absent -> initial; present -= delta, saturating at 0 */
    ASSERT_RC(gk_store_decr(s, "gkrl:d", 6, 3, 100, now + 60, now, &v),
              GK_STORE_OK);
    ck_assert_uint_eq(v, 100);
    ASSERT_RC(gk_store_decr(s, "gkrl:d", 6, 95, 100, now + 60, now, &v),
              GK_STORE_OK);
    ck_assert_uint_eq(v, 5);
    ASSERT_RC(gk_store_decr(s, "gkrl:d", 6, 9, 100, now + 60, now, &v),
              GK_STORE_OK);
    ck_assert_uint_eq(v, 0);
    /* a counter whose digits got shorter is still read (memcached pads) */
    ASSERT_RC(gk_store_get(s, "gkrl:d", 6, now, &v), GK_STORE_OK);
    ck_assert_uint_eq(v, 0);
    /* add */
    ASSERT_RC(gk_store_add(s, "gkrl:n", 6, 41, now + 60, now), GK_STORE_OK);
    ASSERT_RC(gk_store_add(s, "gkrl:n", 6, 7, now + 60, now),
              GK_STORE_EXISTS);
    ASSERT_RC(incr(s, "gkrl:n", 1, 0, &v), GK_STORE_OK);
    ck_assert_uint_eq(v, 42);
    /* get */
    v = 77;
    ASSERT_RC(gk_store_get(s, "gkrl:none", 9, now, &v), GK_STORE_NOT_FOUND);
    ck_assert_uint_eq(v, 77);
    ASSERT_RC(gk_store_get(s, "gkrl:a", 6, now, &v), GK_STORE_OK);
    ck_assert_uint_eq(v, 15);
    /* get_multi: found, absent, refused, a repeated key */
    memset(longkey, 'k', sizeof(longkey));
    keys[0] = "gkrl:a";
    klens[0] = 6;
    keys[1] = "gkrl:none";
    klens[1] = 9;
    keys[2] = longkey;
    klens[2] = sizeof(longkey);
    keys[3] = "gkrl:n";
    klens[3] = 6;
    keys[4] = "gkrl:a";
    klens[4] = 6;
    ASSERT_RC(gk_store_get_multi(s, keys, klens, 5, now, vals, res),
              GK_STORE_OK);
    ASSERT_RC(res[0], GK_STORE_OK);
    ck_assert_uint_eq(vals[0], 15);
    ASSERT_RC(res[1], GK_STORE_NOT_FOUND);
    ASSERT_RC(res[2], GK_STORE_ERROR);
    ASSERT_RC(res[3], GK_STORE_OK);
    ck_assert_uint_eq(vals[3], 42);
    ASSERT_RC(res[4], GK_STORE_OK);
    ck_assert_uint_eq(vals[4], 15);
    /* refused arguments: no network */
    ASSERT_RC(gk_store_incr(s, longkey, GK_STORE_MC_KEY_MAX + 1, 1, 1,
                            now + 60, now, &v),
              GK_STORE_ERROR);
    ASSERT_RC(gk_store_incr(s, "", 0, 1, 1, now + 60, now, &v),
              GK_STORE_ERROR);
    ASSERT_RC(gk_store_incr(s, "k", 1, 1, 1, now, now, &v), GK_STORE_ERROR);
    ASSERT_RC(gk_store_add(s, "k", 1, 1, now - 1, now), GK_STORE_ERROR);
    /* the longest key is accepted, and stored under the prefix */
    ASSERT_RC(gk_store_incr(s, longkey, GK_STORE_MC_KEY_MAX, 1, 3, now + 60,
                            now, &v),
              GK_STORE_OK);
    ck_assert_uint_eq(v, 3);
    {
        int fd = dial(m->port);
        char buf[256];
        ssize_t n;
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, "get gk:gkrl:a\r\n", 15), 15);
        n = read(fd, buf, sizeof(buf) - 1);
        ck_assert_int_gt(n, 0);
        buf[n] = '\0';
        ck_assert_msg(strstr(buf, "VALUE gk:gkrl:a 0 2\r\n15\r\n") != NULL,
                      "%s", buf);
        close(fd);
    }
}
END_TEST

START_TEST(expiry)
{
    mcd_t *m = mcd_new();
    gk_store_t *s = store_on(m, 200, 2);
    apr_int64_t now = unix_now();
    apr_uint64_t v = 0;

    ASSERT_RC(gk_store_incr(s, "gkrl:e", 6, 1, 1, now + 2, now, &v),
              GK_STORE_OK);
    ASSERT_RC(gk_store_incr(s, "gkrl:e", 6, 1, 1, now + 2, now, &v),
              GK_STORE_OK);
    ck_assert_uint_eq(v, 2);
    /* a long one stays */
    ASSERT_RC(gk_store_add(s, "gkrl:l", 6, 9, now + 3000000, now),
              GK_STORE_OK);
    sleep(3);
    now = unix_now();
    ASSERT_RC(gk_store_get(s, "gkrl:e", 6, now, &v), GK_STORE_NOT_FOUND);
    ASSERT_RC(gk_store_incr(s, "gkrl:e", 6, 1, 1, now + 2, now, &v),
              GK_STORE_OK);
    ck_assert_uint_eq(v, 1);
    ASSERT_RC(gk_store_get(s, "gkrl:l", 6, now, &v), GK_STORE_OK);
    ck_assert_uint_eq(v, 9);
}
END_TEST

/* ---- exactness ---------------------------------------------------------- */

#define XTHREADS 16
#define XCALLS 500

/* What the counting threads share. */
typedef struct {
    gk_store_t *s;
    const char *const *keys; /* NULL-terminated */
    volatile apr_uint32_t fails;
} count_t;

/* XCALLS incr of each key. */
static void *APR_THREAD_FUNC counter(apr_thread_t *t, void *data)
{
    count_t *c = data;
    int i, k;

    for (i = 0; i < XCALLS; i++) {
        for (k = 0; c->keys[k]; k++) {
            apr_uint64_t v;
            if (incr(c->s, c->keys[k], 1, 1, &v) != GK_STORE_OK) {
                apr_atomic_inc32(&c->fails);
            }
        }
    }
    /* Return rather than apr_thread_exit(): its pthread_exit() unwinds
     * in a way ASan reports as a stack-buffer-underflow */
    (void)t;
    return NULL;
}

/* Run XTHREADS counters over keys. */
static void run_counters(gk_store_t *s, const char *const *keys)
{
    apr_thread_t *th[XTHREADS];
    count_t c;
    apr_status_t rv;
    int i;

    c.s = s;
    c.keys = keys;
    c.fails = 0;
    for (i = 0; i < XTHREADS; i++) {
        ck_assert_int_eq(apr_thread_create(&th[i], NULL, counter, &c, tp),
                         APR_SUCCESS);
    }
    for (i = 0; i < XTHREADS; i++) {
        ck_assert_int_eq(apr_thread_join(&rv, th[i]), APR_SUCCESS);
    }
    ck_assert_uint_eq(c.fails, 0);
}

START_TEST(exact_under_threads)
{
    static const char *const keys[] = {"gkrl:x", NULL};
    mcd_t *m = mcd_new();
    gk_store_t *s = store_on(m, 500, XTHREADS);
    apr_uint64_t before = mcd_incrs(m), v = 0;
    gk_store_mc_stats_t st;

    run_counters(s, keys);
    ASSERT_RC(gk_store_get(s, "gkrl:x", 6, unix_now(), &v), GK_STORE_OK);
    ck_assert_uint_eq(v, XTHREADS * XCALLS);
    ck_assert_int_eq(gk_store_mc_stats(s, &st), APR_SUCCESS);
    /* one round trip per incr, plus one per loser of the race to create
     * the key (at most one per other thread) */
    ck_assert_uint_le(st.retries, XTHREADS - 1);
    ck_assert_uint_eq(mcd_incrs(m) - before, XTHREADS * XCALLS - 1);
    ck_assert_uint_eq(st.calls, XTHREADS * XCALLS + 1);
    ck_assert_uint_eq(st.pool_empty, 0);
    ck_assert_uint_eq(st.timeouts + st.down + st.errors, 0);
}
END_TEST

START_TEST(two_servers)
{
    static const char *const keys[] = {
        "gkrl:0", "gkrl:1", "gkrl:2", "gkrl:3", "gkrl:4", "gkrl:5",
        "gkrl:6", "gkrl:7", "gkrl:8", "gkrl:9", "gkrl:a", "gkrl:b",
        "gkrl:c", "gkrl:d", "gkrl:e", "gkrl:f", NULL};
    mcd_t *a = mcd_new(), *b = mcd_new();
    gk_store_t *s = store_conf(
        apr_psprintf(tp, "--SERVER=127.0.0.1:%d --SERVER=127.0.0.1:%d",
                     a->port, b->port),
        500, XTHREADS);
    apr_uint64_t ba = mcd_incrs(a), bb = mcd_incrs(b), da, db;
    gk_store_mc_stats_t st;
    int k;

    run_counters(s, keys);
    ck_assert_int_eq(gk_store_mc_stats(s, &st), APR_SUCCESS);
    ck_assert_uint_le(st.retries, 16 * (XTHREADS - 1));
    da = mcd_incrs(a) - ba;
    db = mcd_incrs(b) - bb;
    ck_assert_uint_eq(da + db, 16 * XTHREADS * XCALLS - 16);
    ck_assert_msg(da > 0 && db > 0, "not spread: %llu and %llu",
                  (unsigned long long)da, (unsigned long long)db);
    for (k = 0; keys[k]; k++) {
        apr_uint64_t v = 0;
        ASSERT_RC(gk_store_get(s, keys[k], strlen(keys[k]), unix_now(), &v),
                  GK_STORE_OK);
        ck_assert_uint_eq(v, XTHREADS * XCALLS);
    }
}
END_TEST

/* ---- failures ----------------------------------------------------------- */

/* One of two servers down: its keys fail (and its breaker opens), the
 * other server's keys go on being counted, call after call. */
START_TEST(one_of_two_down)
{
    static const char *const keys[] = {
        "gkrl:0", "gkrl:1", "gkrl:2", "gkrl:3", "gkrl:4", "gkrl:5",
        "gkrl:6", "gkrl:7", "gkrl:8", "gkrl:9", "gkrl:a", "gkrl:b",
        "gkrl:c", "gkrl:d", "gkrl:e", "gkrl:f", NULL};
    mcd_t *a = mcd_new(), *b = mcd_new();
    gk_store_t *s = store_conf(
        apr_psprintf(tp, "--SERVER=127.0.0.1:%d --SERVER=127.0.0.1:%d",
                     a->port, b->port),
        100, 4);
    int on_b[16], k, round, nb = 0;

    /* which server holds each key: b's increments move when it is asked */
    for (k = 0; keys[k]; k++) {
        apr_uint64_t before = mcd_incrs(b), v = 0;
        ASSERT_RC(incr(s, keys[k], 1, 1, &v), GK_STORE_OK);
        ASSERT_RC(incr(s, keys[k], 1, 1, &v), GK_STORE_OK);
        on_b[k] = mcd_incrs(b) != before;
        nb += on_b[k];
    }
    ck_assert_msg(nb > 0 && nb < 16, "keys not spread: %d on b", nb);
    mcd_kill(b);
    for (round = 0; round < 3; round++) {
        for (k = 0; keys[k]; k++) {
            apr_uint64_t v = 0;
            gk_store_result_e rc = incr(s, keys[k], 1, 1, &v);
            if (on_b[k]) {
                ck_assert_msg(rc == GK_STORE_DOWN || rc == GK_STORE_TIMEOUT,
                              "key %s on the dead server: %s", keys[k],
                              gk_store_result_name(rc));
            }
            else {
                /* counted exactly, whatever the dead server's breaker */
                ASSERT_RC(rc, GK_STORE_OK);
                ck_assert_uint_eq(v, (apr_uint64_t)(3 + round));
            }
        }
    }
}
END_TEST

START_TEST(frozen_server)
{
    mcd_t *m = mcd_new();
    gk_store_t *s = store_on(m, 50, 4);
    evlog_t log;
    gk_store_mc_stats_t st;
    apr_uint64_t v = 0;
    apr_int64_t t0;
    gk_store_result_e rc;
    int i, timeouts = 0;

    memset(&log, 0, sizeof(log));
    gk_store_mc_set_events(s, on_event, &log);
    ck_assert_int_eq(gk_store_mc_set_breaker(s, 300, 1200, 1), APR_SUCCESS);
    ASSERT_RC(incr(s, "gkrl:f", 1, 1, &v), GK_STORE_OK); /* connected */
    mcd_stop(m);
    /* every call returns within the coarse bound; the first times out,
     * then the breaker sheds */
    for (i = 0; i < 20; i++) {
        t0 = mono();
        rc = incr(s, "gkrl:f", 1, 1, &v);
        ck_assert_int_lt(mono() - t0, 500);
        ck_assert_msg(rc == GK_STORE_TIMEOUT || rc == GK_STORE_DOWN, "%s",
                      gk_store_result_name(rc));
        timeouts += rc == GK_STORE_TIMEOUT;
    }
    ck_assert_int_eq(timeouts, 1);
    ck_assert_int_eq(gk_store_mc_stats(s, &st), APR_SUCCESS);
    ck_assert_int_eq(st.breaker, GK_BREAKER_OPEN);
    ck_assert_uint_eq(st.shed, 19);
    ck_assert_uint_eq(st.network, 2);
    ck_assert_uint_eq(log.opened, 1);
    ck_assert_uint_eq(log.failures, 1);
    /* after the interval one probe, still frozen: fails, interval doubles */
    usleep(350000);
    t0 = mono();
    rc = incr(s, "gkrl:f", 1, 1, &v);
    ck_assert_int_lt(mono() - t0, 500);
    ck_assert_msg(rc == GK_STORE_TIMEOUT || rc == GK_STORE_DOWN, "%s",
                  gk_store_result_name(rc));
    ck_assert_uint_eq(log.probe_failed, 1);
    ck_assert_int_eq(gk_store_mc_stats(s, &st), APR_SUCCESS);
    ck_assert_uint_eq(st.backoff_ms, 600);
    ck_assert_uint_eq(st.network, 3);
    /* thaw; after the back-off the first answers are right */
    ck_assert_int_eq(kill(m->pid, SIGCONT), 0);
    usleep(650000);
    ASSERT_RC(incr(s, "gkrl:fresh1", 1, 100, &v), GK_STORE_OK);
    ck_assert_uint_eq(v, 100);
    ck_assert_uint_eq(log.closed, 1);
    for (i = 0; i < 8; i++) {
        char k[32];
        snprintf(k, sizeof(k), "gkrl:fresh-%d", i);
        ASSERT_RC(incr(s, k, 1, 1000 + (apr_uint64_t)i, &v), GK_STORE_OK);
        ck_assert_uint_eq(v, 1000 + (apr_uint64_t)i);
        ASSERT_RC(incr(s, k, 1, 7, &v), GK_STORE_OK);
        ck_assert_uint_eq(v, 1001 + (apr_uint64_t)i);
    }
}
END_TEST

START_TEST(killed_and_restarted)
{
    mcd_t *m = mcd_new();
    gk_store_t *s = store_on(m, 50, 4);
    evlog_t log;
    gk_store_mc_stats_t st;
    apr_uint64_t v = 0;
    gk_store_result_e rc;
    apr_int64_t t0;
    int port = m->port;

    memset(&log, 0, sizeof(log));
    gk_store_mc_set_events(s, on_event, &log);
    ck_assert_int_eq(gk_store_mc_set_breaker(s, 200, 1000, 1), APR_SUCCESS);
    ASSERT_RC(incr(s, "gkrl:k", 1, 1, &v), GK_STORE_OK);
    ASSERT_RC(incr(s, "gkrl:k", 1, 1, &v), GK_STORE_OK);
    ck_assert_uint_eq(v, 2);
    mcd_kill(m);
    t0 = mono();
    rc = incr(s, "gkrl:k", 1, 1, &v);
    ck_assert_int_lt(mono() - t0, 500);
    ck_assert_msg(rc == GK_STORE_DOWN || rc == GK_STORE_ERROR, "%s",
                  gk_store_result_name(rc));
    ASSERT_RC(incr(s, "gkrl:k", 1, 1, &v), GK_STORE_DOWN); /* shed */
    ck_assert_uint_eq(log.opened, 1);
    ck_assert_int_eq(gk_store_mc_stats(s, &st), APR_SUCCESS);
    ck_assert_uint_eq(st.shed, 1);
    /* restarted on the same port: counting resumes from zero */
    mcd_start(m, port);
    usleep(1100000); /* past the back-off and libmemcached's second */
    ASSERT_RC(incr(s, "gkrl:k", 1, 1, &v), GK_STORE_OK);
    ck_assert_uint_eq(v, 1);
    ck_assert_uint_eq(log.closed, 1);
}
END_TEST

/* Restarted while the pool's connections were idle: each pooled
 * connection finds itself closed on its next use, and is reconnected
 * within the operation: nothing fails, the breaker stays closed. */
START_TEST(restarted_while_idle)
{
    static const char *const before[] = {"gkrl:b0", "gkrl:b1", NULL};
    static const char *const after[] = {"gkrl:a0", "gkrl:a1", NULL};
    mcd_t *m = mcd_new();
    gk_store_t *s = store_on(m, 200, XTHREADS);
    gk_store_mc_stats_t st;
    apr_uint64_t v = 0;
    int port = m->port;

    run_counters(s, before);        /* every pooled connection is open */
    mcd_kill(m);
    mcd_start(m, port);
    run_counters(s, after);         /* no failure (fails == 0 asserted) */
    ck_assert_int_eq(gk_store_mc_stats(s, &st), APR_SUCCESS);
    ck_assert_uint_eq(st.down + st.timeouts + st.shed, 0);
    ck_assert_uint_ge(st.reconnects, 1);
    ck_assert_int_eq(st.breaker, GK_BREAKER_CLOSED);
    ASSERT_RC(gk_store_get(s, "gkrl:a0", 7, unix_now(), &v), GK_STORE_OK);
    ck_assert_uint_eq(v, XTHREADS * XCALLS);
}
END_TEST

START_TEST(not_running_at_create)
{
    mcd_t *m = apr_pcalloc(tp, sizeof(*m));
    gk_store_t *s;
    apr_uint64_t v = 0;
    gk_store_result_e rc;
    apr_int64_t t0;
    int ok = 0, i;

    m->port = free_port();
    apr_pool_cleanup_register(tp, m, mcd_cleanup, apr_pool_cleanup_null);
    s = store_on(m, 50, 2);
    ck_assert_int_eq(gk_store_mc_set_breaker(s, 200, 400, 1), APR_SUCCESS);
    t0 = mono();
    rc = incr(s, "gkrl:u", 1, 1, &v);
    ck_assert_int_lt(mono() - t0, 500);
    ASSERT_RC(rc, GK_STORE_DOWN);
    mcd_start(m, m->port);
    /* it comes up: within a few back-offs the store answers */
    for (i = 0; i < 40 && !ok; i++) {
        usleep(100000);
        ok = incr(s, "gkrl:u", 1, 5, &v) == GK_STORE_OK;
    }
    ck_assert_msg(ok, "store never answered");
    ck_assert_uint_eq(v, 5);
}
END_TEST

/* A thread that runs one incr (held on a frozen server). */
static void *APR_THREAD_FUNC one_incr(apr_thread_t *t, void *data)
{
    apr_uint64_t v;
    (void)incr(data, "gkrl:p", 1, 1, &v);
    /* Return rather than apr_thread_exit(): its pthread_exit() unwinds
     * in a way ASan reports as a stack-buffer-underflow */
    (void)t;
    return NULL;
}

START_TEST(empty_pool_fails_at_once)
{
    mcd_t *m = mcd_new();
    gk_store_t *s = store_on(m, 1000, 1);
    evlog_t log;
    gk_store_mc_stats_t st;
    apr_thread_t *th;
    apr_status_t rv;
    apr_uint64_t v = 0;
    apr_int64_t t0;

    memset(&log, 0, sizeof(log));
    gk_store_mc_set_events(s, on_event, &log);
    ASSERT_RC(incr(s, "gkrl:p", 1, 1, &v), GK_STORE_OK);
    /* freeze the server: the only connection is held by a thread for 1 s */
    mcd_stop(m);
    ck_assert_int_eq(apr_thread_create(&th, NULL, one_incr, s, tp),
                     APR_SUCCESS);
    usleep(200000);
    t0 = mono();
    ASSERT_RC(incr(s, "gkrl:q", 1, 1, &v), GK_STORE_ERROR);
    ck_assert_int_lt(mono() - t0, 50);
    ck_assert_uint_eq(log.pool_empty, 1);
    ck_assert_int_eq(gk_store_mc_stats(s, &st), APR_SUCCESS);
    ck_assert_uint_eq(st.pool_empty, 1);
    ck_assert_int_eq(kill(m->pid, SIGCONT), 0);
    ck_assert_int_eq(apr_thread_join(&rv, th), APR_SUCCESS);
}
END_TEST

/* ---- set, groups, set_all ------------------------------------------------ */

/* What memcached holds under the full key k ("gk:..."), read directly
 * with the text protocol: the value (NUL-terminated in buf), or NULL. */
static const char *mcd_raw(const mcd_t *m, const char *k, char *buf,
                           size_t size)
{
    char *v;

    mcd_command(m, apr_psprintf(tp, "get %s\r\n", k), buf, size);
    if (strncmp(buf, "VALUE ", 6) != 0) {
        return NULL;
    }
    v = strstr(buf, "\r\n");
    ck_assert_ptr_nonnull(v);
    v += 2;
    ck_assert_ptr_nonnull(strstr(v, "\r\n"));
    *strstr(v, "\r\n") = '\0';
    return v;
}

/* Does memcached hold the caller's key k (stored as "gk:" + k)? */
static int mcd_has(const mcd_t *m, const char *k)
{
    char buf[512];
    return mcd_raw(m, apr_pstrcat(tp, GK_STORE_MC_PREFIX, k, NULL), buf,
                   sizeof(buf))
           != NULL;
}

/* set_in of NUL-terminated strings (group NULL: none), 60 s. */
static gk_store_result_e set_in(gk_store_t *s, const char *g, const char *k,
                                apr_uint64_t v)
{
    apr_int64_t now = unix_now();
    return gk_store_set_in(s, g, g ? strlen(g) : 0, k, strlen(k), v,
                           now + 60, now);
}

/* get_multi_in of n NUL-terminated keys in group g. */
static gk_store_result_e get_in(gk_store_t *s, const char *g,
                                const char *const *k, apr_size_t n,
                                apr_uint64_t *vals, gk_store_result_e *res)
{
    const void *keys[8];
    apr_size_t klens[8], i;

    ck_assert_uint_le(n, 8);
    for (i = 0; i < n; i++) {
        keys[i] = k[i];
        klens[i] = strlen(k[i]);
    }
    return gk_store_get_multi_in(s, g, strlen(g), keys, klens, n,
                                 unix_now(), vals, res);
}

/* Two memcached servers and a store over both. */
static gk_store_t *two(mcd_t **a, mcd_t **b, int timeout_ms, int size)
{
    *a = mcd_new();
    *b = mcd_new();
    return store_conf(
        apr_psprintf(tp, "--SERVER=127.0.0.1:%d --SERVER=127.0.0.1:%d",
                     (*a)->port, (*b)->port),
        timeout_ms, size);
}

START_TEST(set_semantics)
{
    mcd_t *m = mcd_new();
    gk_store_t *s = store_on(m, 200, 2);
    apr_int64_t now = unix_now();
    apr_uint64_t v = 0;
    char buf[512], longkey[GK_STORE_MC_KEY_MAX + 1];

    /* create, then replace (value and expiry), whatever was there */
    ASSERT_RC(gk_store_set(s, "rv:a", 4, 7, now + 60, now), GK_STORE_OK);
    ASSERT_RC(gk_store_get(s, "rv:a", 4, now, &v), GK_STORE_OK);
    ck_assert_uint_eq(v, 7);
    ASSERT_RC(gk_store_set(s, "rv:a", 4, 12345678901ULL, GK_STORE_NO_EXPIRY,
                           now),
              GK_STORE_OK);
    ASSERT_RC(gk_store_get(s, "rv:a", 4, now, &v), GK_STORE_OK);
    ck_assert_uint_eq(v, 12345678901ULL);
    /* decimal ASCII under the prefix, as a counter: incr works on it */
    ck_assert_str_eq(mcd_raw(m, "gk:rv:a", buf, sizeof(buf)), "12345678901");
    ASSERT_RC(incr(s, "rv:a", 1, 0, &v), GK_STORE_OK);
    ck_assert_uint_eq(v, 12345678902ULL);
    /* set over a counter made by incr, and over an add */
    ASSERT_RC(incr(s, "rv:c", 1, 5, &v), GK_STORE_OK);
    ASSERT_RC(gk_store_set(s, "rv:c", 4, 0, now + 60, now), GK_STORE_OK);
    ASSERT_RC(gk_store_get(s, "rv:c", 4, now, &v), GK_STORE_OK);
    ck_assert_uint_eq(v, 0);
    ASSERT_RC(gk_store_add(s, "rv:d", 4, 1, now + 60, now), GK_STORE_OK);
    ASSERT_RC(gk_store_set_all(s, "rv:d", 4, 2, now + 60, now), GK_STORE_OK);
    ASSERT_RC(gk_store_get(s, "rv:d", 4, now, &v), GK_STORE_OK);
    ck_assert_uint_eq(v, 2);
    /* in a group, on one server: found by get and by get_multi_in */
    ASSERT_RC(set_in(s, "rv:s:u1", "rv:j:1", 9), GK_STORE_OK);
    ASSERT_RC(gk_store_get(s, "rv:j:1", 6, now, &v), GK_STORE_OK);
    ck_assert_uint_eq(v, 9);
    /* a short expiry is gone after it */
    ASSERT_RC(gk_store_set(s, "rv:e", 4, 1, now + 1, now), GK_STORE_OK);
    /* refused arguments: nothing sent */
    memset(longkey, 'g', sizeof(longkey));
    ASSERT_RC(gk_store_set(s, "", 0, 1, now + 60, now), GK_STORE_ERROR);
    ASSERT_RC(gk_store_set(s, "k", 1, 1, now, now), GK_STORE_ERROR);
    ASSERT_RC(gk_store_set(s, "k", 1, 1, -5, now), GK_STORE_ERROR);
    ASSERT_RC(gk_store_set_in(s, longkey, sizeof(longkey), "k", 1, 1,
                              now + 60, now),
              GK_STORE_ERROR);
    ASSERT_RC(gk_store_set_in(s, "", 0, "k", 1, 1, now + 60, now),
              GK_STORE_ERROR);
    ASSERT_RC(gk_store_set_all(s, longkey, sizeof(longkey), 1, now + 60,
                               now),
              GK_STORE_ERROR);
    ck_assert(!mcd_has(m, "k"));
    sleep(2);
    now = unix_now();
    ASSERT_RC(gk_store_get(s, "rv:e", 4, now, &v), GK_STORE_NOT_FOUND);
}
END_TEST

#define NGROUPS 16
#define PER_GROUP 5

/* Every key of a group lands on the group's server (read on each server
 * directly), groups spread over both servers, and get_multi_in of a
 * group finds its keys (a key of a group on the other server is not
 * found: the lookup goes to the group's server only). */
START_TEST(groups_on_one_server)
{
    mcd_t *a, *b;
    gk_store_t *s = two(&a, &b, 500, 2);
    int on_a[NGROUPS], g, k, na = 0;
    char gname[NGROUPS][48], kname[NGROUPS][PER_GROUP][32];

    for (g = 0; g < NGROUPS; g++) {
        snprintf(gname[g], sizeof(gname[g]), "rv:s:%032x", g * 7919);
        for (k = 0; k < PER_GROUP; k++) {
            snprintf(kname[g][k], sizeof(kname[g][k]), "rv:j:%d-%d", g, k);
            ASSERT_RC(set_in(s, gname[g], kname[g][k], 100 * g + k),
                      GK_STORE_OK);
        }
    }
    for (g = 0; g < NGROUPS; g++) {
        on_a[g] = mcd_has(a, kname[g][0]);
        na += on_a[g];
        for (k = 0; k < PER_GROUP; k++) {
            ck_assert_int_eq(mcd_has(a, kname[g][k]), on_a[g]);
            ck_assert_int_eq(mcd_has(b, kname[g][k]), !on_a[g]);
        }
    }
    ck_assert_msg(na > 0 && na < NGROUPS, "groups not spread: %d on a", na);
    for (g = 0; g < NGROUPS; g++) {
        const char *ks[PER_GROUP + 2];
        apr_uint64_t vals[PER_GROUP + 2];
        gk_store_result_e res[PER_GROUP + 2];
        int other;

        for (other = 0; on_a[other] == on_a[g]; other++) {
        }
        for (k = 0; k < PER_GROUP; k++) {
            ks[k] = kname[g][k];
        }
        ks[PER_GROUP] = "rv:j:none";
        ks[PER_GROUP + 1] = kname[other][0];
        ASSERT_RC(get_in(s, gname[g], ks, PER_GROUP + 2, vals, res),
                  GK_STORE_OK);
        for (k = 0; k < PER_GROUP; k++) {
            ASSERT_RC(res[k], GK_STORE_OK);
            ck_assert_uint_eq(vals[k], (apr_uint64_t)(100 * g + k));
        }
        ASSERT_RC(res[PER_GROUP], GK_STORE_NOT_FOUND);
        ASSERT_RC(res[PER_GROUP + 1], GK_STORE_NOT_FOUND);
    }
}
END_TEST

/* set_all reaches every server, so get_multi_in of any group finds it. */
START_TEST(set_all_everywhere)
{
    mcd_t *a, *b, *c;
    gk_store_t *s;
    apr_int64_t now = unix_now();
    int g;

    a = mcd_new();
    b = mcd_new();
    c = mcd_new();
    s = store_conf(apr_psprintf(tp,
                                "--SERVER=127.0.0.1:%d --SERVER=127.0.0.1:%d "
                                "--SERVER=127.0.0.1:%d",
                                a->port, b->port, c->port),
                   500, 2);
    ASSERT_RC(gk_store_set_all(s, "rv:sentinel", 11, 42, now + 600, now),
              GK_STORE_OK);
    ck_assert(mcd_has(a, "rv:sentinel"));
    ck_assert(mcd_has(b, "rv:sentinel"));
    ck_assert(mcd_has(c, "rv:sentinel"));
    for (g = 0; g < 24; g++) {
        static const char *const ks[] = {"rv:sentinel"};
        apr_uint64_t v = 0;
        gk_store_result_e r;
        char *grp = apr_psprintf(tp, "rv:s:%d", g);

        ASSERT_RC(get_in(s, grp, ks, 1, &v, &r), GK_STORE_OK);
        ASSERT_RC(r, GK_STORE_OK);
        ck_assert_uint_eq(v, 42);
    }
}
END_TEST

/* ---- a counting proxy: round trips ---------------------------------------- */

/* A loopback TCP proxy in front of one memcached that counts round
 * trips without depending on timing: it reads the binary protocol's
 * request headers from each client and counts the requests the client
 * waits for, those that are not "quiet" (memcached answers a quiet get
 * only on a hit, and a client sends a batch of them ended by one NOOP,
 * the request it waits on: an mget of n keys on one server is n GETKQ and
 * one NOOP, one round trip; a set or an incr is one). */
#define PROXY_CONNS 8
typedef struct {
    unsigned char hdr[24];  /* the header being read */
    apr_size_t have;        /* bytes of it read */
    apr_uint64_t skip;      /* body bytes still to pass over */
} reqparse_t;

typedef struct {
    int listen_fd, port, target;
    int cfd[PROXY_CONNS], sfd[PROXY_CONNS];
    reqparse_t rp[PROXY_CONNS];
    volatile apr_uint32_t trips, stop;
    apr_thread_t *th;
} proxy_t;

/* Is a binary request opcode quiet (answered only on a miss or error, or
 * on a hit for GETQ/GETKQ, never waited for)? */
static int quiet_op(unsigned char op)
{
    return op == 0x09 || op == 0x0d || (op >= 0x11 && op <= 0x1a)
           || op == 0x1e || op == 0x1f;
}

/* Count the non-quiet requests in n bytes a client sent. */
static void count_requests(proxy_t *p, reqparse_t *rp,
                           const unsigned char *b, apr_size_t n)
{
    while (n > 0) {
        if (rp->skip > 0) {
            apr_size_t k = rp->skip < n ? (apr_size_t)rp->skip : n;
            rp->skip -= k;
            b += k;
            n -= k;
            continue;
        }
        rp->hdr[rp->have++] = *b++;
        n--;
        if (rp->have == sizeof(rp->hdr)) {
            rp->have = 0;
            rp->skip = ((apr_uint64_t)rp->hdr[8] << 24)
                       | ((apr_uint64_t)rp->hdr[9] << 16)
                       | ((apr_uint64_t)rp->hdr[10] << 8) | rp->hdr[11];
            if (!quiet_op(rp->hdr[1])) {
                apr_atomic_inc32(&p->trips);
            }
        }
    }
}

/* Copy what fd `from` has to `to` (counting requests when rp is not
 * NULL); 0 when the connection ended. */
static int pump(proxy_t *p, reqparse_t *rp, int from, int to)
{
    unsigned char buf[16384];
    ssize_t n = read(from, buf, sizeof(buf)), off = 0;

    if (n <= 0) {
        return 0;
    }
    if (rp) {
        count_requests(p, rp, buf, (apr_size_t)n);
    }
    while (off < n) {
        ssize_t w = write(to, buf + off, (size_t)(n - off));
        if (w <= 0) {
            return 0;
        }
        off += w;
    }
    return 1;
}

static void *APR_THREAD_FUNC proxy_run(apr_thread_t *t, void *data)
{
    proxy_t *p = data;
    struct pollfd pf[1 + 2 * PROXY_CONNS];
    int i;

    while (!apr_atomic_read32(&p->stop)) {
        int n = 0;
        pf[n].fd = p->listen_fd;
        pf[n++].events = POLLIN;
        for (i = 0; i < PROXY_CONNS; i++) {
            pf[n].fd = p->cfd[i];
            pf[n++].events = POLLIN;
            pf[n].fd = p->sfd[i];
            pf[n++].events = POLLIN;
        }
        if (poll(pf, (nfds_t)n, 20) <= 0) {
            continue;
        }
        if (pf[0].revents & POLLIN) {
            int c = accept(p->listen_fd, NULL, NULL);
            for (i = 0; i < PROXY_CONNS && p->cfd[i] >= 0; i++) {
            }
            if (c >= 0 && i < PROXY_CONNS) {
                p->cfd[i] = c;
                p->sfd[i] = dial(p->target);
                memset(&p->rp[i], 0, sizeof(p->rp[i]));
            }
            else if (c >= 0) {
                close(c);
            }
        }
        for (i = 0; i < PROXY_CONNS; i++) {
            int ok = 1;
            if (p->cfd[i] < 0) {
                continue;
            }
            if (pf[1 + 2 * i].revents & (POLLIN | POLLHUP | POLLERR)) {
                ok = pump(p, &p->rp[i], p->cfd[i], p->sfd[i]);
            }
            if (ok && (pf[2 + 2 * i].revents & (POLLIN | POLLHUP | POLLERR))) {
                ok = pump(p, NULL, p->sfd[i], p->cfd[i]);
            }
            if (!ok) {
                close(p->cfd[i]);
                close(p->sfd[i]);
                p->cfd[i] = p->sfd[i] = -1;
            }
        }
    }
    (void)t;
    return NULL;
}

/* Stop the proxy thread and close its sockets. */
static apr_status_t proxy_cleanup(void *data)
{
    proxy_t *p = data;
    apr_status_t rv;
    int i;

    apr_atomic_set32(&p->stop, 1);
    apr_thread_join(&rv, p->th);
    close(p->listen_fd);
    for (i = 0; i < PROXY_CONNS; i++) {
        if (p->cfd[i] >= 0) {
            close(p->cfd[i]);
            close(p->sfd[i]);
        }
    }
    return APR_SUCCESS;
}

/* A counting proxy in front of memcached m, stopped at the test's end
 * (registered after m's cleanup, so it runs before it). */
static proxy_t *proxy_new(const mcd_t *m)
{
    proxy_t *p = apr_pcalloc(tp, sizeof(*p));
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int i;

    p->target = m->port;
    for (i = 0; i < PROXY_CONNS; i++) {
        p->cfd[i] = p->sfd[i] = -1;
    }
    p->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(p->listen_fd, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(p->listen_fd, (struct sockaddr *)&sa, sizeof(sa)),
                     0);
    ck_assert_int_eq(listen(p->listen_fd, 8), 0);
    ck_assert_int_eq(
        getsockname(p->listen_fd, (struct sockaddr *)&sa, &len), 0);
    p->port = ntohs(sa.sin_port);
    ck_assert_int_eq(apr_thread_create(&p->th, NULL, proxy_run, p, tp),
                     APR_SUCCESS);
    apr_pool_cleanup_register(tp, p, proxy_cleanup, apr_pool_cleanup_null);
    return p;
}

/* get_multi_in of 3 keys in a group is one round trip, to the group's
 * server only (the one holding the group's keys), for groups on either
 * server. */
START_TEST(get_multi_in_one_round_trip)
{
    mcd_t *a = mcd_new(), *b = mcd_new();
    proxy_t *pa = proxy_new(a), *pb = proxy_new(b);
    gk_store_t *s = store_conf(
        apr_psprintf(tp, "--SERVER=127.0.0.1:%d --SERVER=127.0.0.1:%d",
                     pa->port, pb->port),
        500, 1);
    apr_uint32_t ba, bb, ta = 0, tb = 0;
    apr_uint64_t vals[3];
    gk_store_result_e res[3];
    int g, round;

    for (g = 0; g < 12; g++) {
        char *grp = apr_psprintf(tp, "rv:s:user%d", g);
        const char *ks[3];

        ks[0] = apr_psprintf(tp, "rv:j:%d", g);
        ks[1] = "rv:j:none";
        ks[2] = apr_psprintf(tp, "rv:cut:%d", g);
        ASSERT_RC(set_in(s, grp, ks[0], 1), GK_STORE_OK);
        ASSERT_RC(set_in(s, grp, ks[2], 2), GK_STORE_OK);
        for (round = 0; round < 3; round++) {
            ba = apr_atomic_read32(&pa->trips);
            bb = apr_atomic_read32(&pb->trips);
            ASSERT_RC(get_in(s, grp, ks, 3, vals, res), GK_STORE_OK);
            ba = apr_atomic_read32(&pa->trips) - ba;
            bb = apr_atomic_read32(&pb->trips) - bb;
            ASSERT_RC(res[0], GK_STORE_OK);
            ck_assert_uint_eq(vals[0], 1);
            ASSERT_RC(res[1], GK_STORE_NOT_FOUND);
            ASSERT_RC(res[2], GK_STORE_OK);
            ck_assert_uint_eq(vals[2], 2);
            ck_assert_uint_eq(ba + bb, 1);
            /* the server it went to holds the group's keys */
            ck_assert_uint_eq(ba, (apr_uint32_t)mcd_has(a, ks[2]));
            ck_assert_uint_eq(bb, (apr_uint32_t)mcd_has(b, ks[2]));
            ta += ba;
            tb += bb;
        }
    }
    ck_assert_msg(ta > 0 && tb > 0, "groups not spread: %u and %u", ta, tb);
}
END_TEST

/* The group's server frozen: get_multi_in of its groups times out once,
 * then is shed by that server's breaker (no network), while groups of
 * the other server are answered; set_all reports the failure but the
 * live server keeps the key; thawed, the breaker closes. */
START_TEST(get_multi_in_breaker)
{
    mcd_t *a, *b;
    gk_store_t *s = two(&a, &b, 50, 2);
    evlog_t log;
    gk_store_mc_stats_t st;
    char *ga = NULL, *gb = NULL;
    static const char *const ks[] = {"rv:j:x", "rv:cut"};
    apr_uint64_t vals[2];
    gk_store_result_e res[2], rc;
    apr_int64_t t0, now = unix_now();
    int g, i;

    memset(&log, 0, sizeof(log));
    gk_store_mc_set_events(s, on_event, &log);
    ck_assert_int_eq(gk_store_mc_set_breaker(s, 300, 1200, 1), APR_SUCCESS);
    /* a group on each server */
    for (g = 0; g < 64 && (!ga || !gb); g++) {
        char *grp = apr_psprintf(tp, "rv:s:g%d", g);
        char *k = apr_psprintf(tp, "rv:probe:%d", g);
        ASSERT_RC(set_in(s, grp, k, 1), GK_STORE_OK);
        if (mcd_has(a, k)) {
            ga = ga ? ga : grp;
        }
        else {
            gb = gb ? gb : grp;
        }
    }
    ck_assert_ptr_nonnull(ga);
    ck_assert_ptr_nonnull(gb);
    ASSERT_RC(set_in(s, gb, "rv:j:x", 5), GK_STORE_OK);
    ASSERT_RC(set_in(s, ga, "rv:j:x", 6), GK_STORE_OK);
    mcd_stop(b);
    for (i = 0; i < 10; i++) {
        t0 = mono();
        rc = get_in(s, gb, ks, 2, vals, res);
        ck_assert_int_lt(mono() - t0, 500);
        ck_assert_msg(i == 0 ? rc == GK_STORE_TIMEOUT : rc == GK_STORE_DOWN,
                      "call %d: %s", i, gk_store_result_name(rc));
        ASSERT_RC(res[0], rc);
        ASSERT_RC(res[1], rc);
        /* the other server's groups are answered all along */
        ASSERT_RC(get_in(s, ga, ks, 2, vals, res), GK_STORE_OK);
        ASSERT_RC(res[0], GK_STORE_OK);
        ck_assert_uint_eq(vals[0], 6);
        ASSERT_RC(res[1], GK_STORE_NOT_FOUND);
    }
    ck_assert_uint_eq(log.opened, 1);
    ck_assert_int_eq(gk_store_mc_stats(s, &st), APR_SUCCESS);
    ck_assert_uint_eq(st.shed, 9);
    ck_assert_int_eq(st.breaker, GK_BREAKER_OPEN);
    /* set_all: b's breaker sheds, a takes it */
    rc = gk_store_set_all(s, "rv:sentinel", 11, 1, now + 600, now);
    ASSERT_RC(rc, GK_STORE_DOWN);
    ck_assert(mcd_has(a, "rv:sentinel"));
    /* thawed: after the back-off one probe succeeds and closes it */
    ck_assert_int_eq(kill(b->pid, SIGCONT), 0);
    usleep(350000);
    ASSERT_RC(get_in(s, gb, ks, 2, vals, res), GK_STORE_OK);
    ASSERT_RC(res[0], GK_STORE_OK);
    ck_assert_uint_eq(vals[0], 5);
    ck_assert_uint_eq(log.closed, 1);
    now = unix_now();
    ASSERT_RC(gk_store_set_all(s, "rv:sentinel", 11, 1, now + 600, now),
              GK_STORE_OK);
    ck_assert(mcd_has(b, "rv:sentinel"));
}
END_TEST

/* Restarted while idle: the pooled connections find themselves closed on
 * their next get_multi_in and set, are reconnected within the operation,
 * and nothing fails (a revocation lookup after a memcached restart must
 * not answer 503). */
START_TEST(restarted_lookup_reconnects)
{
    mcd_t *m = mcd_new();
    gk_store_t *s = store_on(m, 200, 1);
    static const char *const ks[] = {"rv:j:r", "rv:sentinel"};
    apr_uint64_t vals[2];
    gk_store_result_e res[2];
    gk_store_mc_stats_t st;
    int port = m->port;

    ASSERT_RC(set_in(s, "rv:s:u", "rv:j:r", 1), GK_STORE_OK);
    ASSERT_RC(get_in(s, "rv:s:u", ks, 2, vals, res), GK_STORE_OK);
    ASSERT_RC(res[0], GK_STORE_OK);
    mcd_kill(m);
    mcd_start(m, port);
    ASSERT_RC(get_in(s, "rv:s:u", ks, 2, vals, res), GK_STORE_OK);
    ASSERT_RC(res[0], GK_STORE_NOT_FOUND); /* memcached lost it */
    ASSERT_RC(res[1], GK_STORE_NOT_FOUND);
    ck_assert_int_eq(gk_store_mc_stats(s, &st), APR_SUCCESS);
    ck_assert_uint_eq(st.reconnects, 1);
    ck_assert_uint_eq(st.down + st.timeouts + st.errors + st.shed, 0);
    mcd_kill(m);
    mcd_start(m, port);
    ASSERT_RC(set_in(s, "rv:s:u", "rv:j:r", 2), GK_STORE_OK);
    ck_assert_int_eq(gk_store_mc_stats(s, &st), APR_SUCCESS);
    ck_assert_uint_eq(st.reconnects, 2);
    ck_assert_uint_eq(st.down + st.timeouts + st.errors + st.shed, 0);
    ck_assert(mcd_has(m, "rv:j:r"));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("store_mc");
    TCase *tc = tk_tcase("config");
    TCase *tn = tk_tcase("memcached");

    tcase_add_test(tc, config_valid);
    tcase_add_test(tc, config_refused_options);
    tcase_add_test(tc, config_garbage_and_missing_server);
    tcase_add_test(tc, config_scan);
    tcase_add_test(tc, exptime_conversion);
    tcase_add_test(tc, create_refuses);
    suite_add_tcase(s, tc);
    tcase_add_test(tn, semantics);
    tcase_add_test(tn, expiry);
    tcase_add_test(tn, exact_under_threads);
    tcase_add_test(tn, two_servers);
    tcase_add_test(tn, one_of_two_down);
    tcase_add_test(tn, frozen_server);
    tcase_add_test(tn, killed_and_restarted);
    tcase_add_test(tn, restarted_while_idle);
    tcase_add_test(tn, not_running_at_create);
    tcase_add_test(tn, empty_pool_fails_at_once);
    tcase_add_test(tn, set_semantics);
    tcase_add_test(tn, groups_on_one_server);
    tcase_add_test(tn, set_all_everywhere);
    tcase_add_test(tn, get_multi_in_one_round_trip);
    tcase_add_test(tn, get_multi_in_breaker);
    tcase_add_test(tn, restarted_lookup_reconnects);
    suite_add_tcase(s, tn);
    return s;
}

TK_MAIN(suite)
