/*
 * The memcached store: a gk_store_t (gk_store.h) on libmemcached 1.1,
 * so that several front ends share one exact count.
 *
 * Exactness in one round trip: incr and decr are memcached's binary
 * increment/decrement with an initial value and an expiry, one command
 * each (libmemcached sends them only over the binary protocol, which is
 * therefore forced). Values are kept by memcached as decimal ASCII.
 * memcached creates a missing key with an internal add, so of several
 * concurrent first increments of one key all but one are answered
 * NOT_STORED (and counted nowhere); the store then sends the command
 * again, now a plain increment (at most 3 times; counted in `retries`):
 * a second round trip only for the losers of a race to create a key.
 *
 * Keys: the caller's key prefixed with GK_STORE_MC_PREFIX ("gk:"), so a
 * gk_rate counter key "gkrl:<16 hex>:<window start>" is stored as
 * "gk:gkrl:<16 hex>:<window start>". Keys are binary-safe (the binary
 * protocol sends them as they are), 1..GK_STORE_MC_KEY_MAX bytes (so that
 * the prefixed key fits memcached's 250 bytes); longer or empty keys give
 * GK_STORE_ERROR without touching the network.
 *
 * Values are written by set as decimal ASCII, the form memcached keeps
 * for counters, so get, get_multi and incr read what set wrote.
 *
 * Groups (set_in, get_multi_in: memcached's "by key" commands): the
 * group is prefixed like a key ("gk:" + group, so 1..GK_STORE_MC_KEY_MAX
 * bytes) and chooses the server by ketama instead of each key: a key set
 * in group G is on the server of "gk:" + G, and get_multi_in of G sends
 * every key to that one server (memcached_mget_by_key: one round trip,
 * one breaker, the server's). A key set in its own group (G = the key)
 * lies where a plain set puts it. set_all writes the key once on every
 * server, each by a group found at create that ketama maps to that server
 * ("gk:all:N", the first N for each), so that a get_multi_in of any group
 * finds it; it returns GK_STORE_OK only when every server took it, else
 * the first failure (each server's own breaker decides for its set).
 *
 * Expiry: memcached reads an exptime up to 30 days (2592000 s) as
 * seconds from now and a larger one as an absolute Unix time;
 * gk_store_mc_exptime converts the interface's absolute `expires`
 * (relative when expires - now <= 30 days, else absolute). An absolute
 * exptime is read by memcached against its own clock: front ends and
 * memcached servers must keep their clocks in step (NTP).
 *
 * Several servers: keys are spread by consistent hashing (ketama,
 * weighted, MD5), forced here, so that adding a server moves few keys;
 * every front end must list the same servers (and weights). A key whose
 * server is down is not moved to another server (failed servers are
 * never removed from the ring: moving a key would restart its count);
 * its operations fail with GK_STORE_DOWN or GK_STORE_TIMEOUT. When a
 * server comes back (restarted), its counts start from zero: memcached
 * keeps nothing on disk. memcached has neither authentication nor TLS on
 * this path: a private network only, or a local memcached per front end.
 *
 * Processes and threads: make the store in each child process after
 * fork() (httpd: child_init), never before: a connection made before
 * fork() and shared by the children mixes their replies. One store holds
 * a pool of pool_size connections (libmemcachedutil), sized to the
 * threads that may run requests; an operation takes a free connection
 * WITHOUT waiting (libmemcached's timed pool waits are inaccurate below
 * one second) and gives GK_STORE_ERROR at once when there is none (an
 * event with pool_empty set, counted in the stats).
 *
 * Failures: every operation waits at most about the timeout given to
 * gk_store_mc_create (connect, poll, send and receive timeouts; an
 * operation may wait for a send and then a receive, so bound it by
 * twice the timeout). Results: libmemcached's timeouts give
 * GK_STORE_TIMEOUT; connection failures (refused, reset, closed, a
 * server libmemcached marked dead or temporarily disabled, no server)
 * give GK_STORE_DOWN; other errors GK_STORE_ERROR. After any failure the
 * connection is closed (memcached_quit on that pooled handle) before it
 * goes back to the pool, so that a late reply can never be read as the
 * answer to the next request; the next operation on it reconnects. An
 * incr, decr, set or get_multi that finds its pooled connection closed by
 * the server (a server restarted since that connection was last used) is
 * sent once more on a new connection before it counts as a failure (a
 * get_multi only when no reply was read yet).
 *
 * Circuit breakers (gk_breaker.h), one per server of a store (so per
 * server and child), fed by the operations on that server's keys (the
 * server ketama chooses for the key): a server that fails opens only its
 * own breaker, and the other servers' keys go on being counted. TIMEOUT
 * and DOWN results are failures; any answer of a
 * server (OK, NOT_FOUND, EXISTS, or an error reply such as a
 * non-numeric value) is a success. While the breaker is open every
 * operation returns GK_STORE_DOWN at once without touching the network
 * (counted in the stats as `shed`); defaults: open after 1
 * failure, back-off 1 s doubling per failed probe up to 30 s
 * (gk_store_mc_set_breaker changes them). libmemcached's own back-off
 * is reduced to its minimum (retry timeout 0: a handle whose connect
 * failed refuses that server until the end of the current second).
 *
 * Events: an optional callback (gk_store_mc_set_events) is called in
 * the thread of the operation for every failed network operation (so a
 * module can log each at debug level), for every breaker transition
 * (warn on opened and probe-failed, once per interval; audit opened and
 * closed) and for an empty pool. gk_store_mc_stats gives counters.
 */
#ifndef GK_STORE_MC_H
#define GK_STORE_MC_H

#include "gk_breaker.h"
#include "gk_store.h"

/* The prefix of every key in memcached. */
#define GK_STORE_MC_PREFIX "gk:"
#define GK_STORE_MC_PREFIX_LEN 3

/* The longest caller key (bytes): memcached's 250 less the prefix. */
#define GK_STORE_MC_KEY_MAX (GK_STORE_KEY_MAX - GK_STORE_MC_PREFIX_LEN)

/* memcached's bound between relative and absolute exptimes (30 days). */
#define GK_STORE_MC_RELATIVE_MAX 2592000

/* Bounds of gk_store_mc_create's arguments. */
#define GK_STORE_MC_TIMEOUT_MAX 60000 /* ms */
#define GK_STORE_MC_POOL_MAX 4096     /* connections */

/* The longest configuration string accepted (bytes). */
#define GK_STORE_MC_CONF_MAX 8192

/* One option of a configuration string, as gk_store_mc_conf_scan reads
 * it: "--NAME" or "--NAME=VALUE". */
typedef struct {
    const char *name;  /* NAME upper-cased, without "--" (pool memory) */
    const char *value; /* VALUE as written, quotes and all; NULL when the
                        * option has no "=" */
} gk_store_mc_opt_t;

/* Split a configuration string into options (the parsing under
 * gk_store_mc_check_config; no libmemcached call). The string is printable
 * ASCII (0x20-0x7E: no tab, newline or other control character, which
 * libmemcached would skip silently), at most GK_STORE_MC_CONF_MAX bytes,
 * made of options separated by exactly one space (libmemcached's grammar),
 * with none before the first or after the last. An option is "--"
 * NAME [ "=" VALUE ], NAME 1*( ALPHA / DIGIT / "-" ), VALUE non-empty,
 * where a double-quoted run (with backslash escapes, as libmemcached's
 * quoted strings) may hold spaces. Anything else (a word not starting
 * with "--", such as libmemcached's INCLUDE, RESET, END or a "#" comment)
 * is refused. NULL on success with *opts an array of gk_store_mc_opt_t
 * (possibly empty); otherwise an error message (pool memory, printable
 * ASCII) and *opts is NULL. */
const char *gk_store_mc_conf_scan(apr_pool_t *p, const char *conf,
                                  apr_array_header_t **opts);

/* Check a configuration string at startup (httpd: when the directive is
 * read): NULL when it is usable, else an error message (pool memory,
 * printable ASCII) to which the caller adds the directive's name.
 *
 * Accepted options: --SERVER=HOST[:PORT][/?WEIGHT] and --SOCKET=PATH (at
 * least one of them), --BINARY-PROTOCOL (forced anyway), --TCP-NODELAY
 * (forced anyway), --TCP-KEEPALIVE, --TCP-KEEPIDLE, --SOCKET-SEND-SIZE=N,
 * --SOCKET-RECV-SIZE=N, --SUPPORT-CAS. Refused: options that break
 * exactness (--NOREPLY, --BUFFER-REQUESTS, --USE-UDP), that spread keys
 * differently or move them (--DISTRIBUTION, --HASH, --NUMBER-OF-REPLICAS,
 * --RANDOMIZE-REPLICA-READ, --REMOVE-FAILED-SERVERS, --SORT-HOSTS), that
 * bound nothing or come from Gatekeeper's directives (every timeout:
 * --CONNECT-TIMEOUT, --POLL-TIMEOUT, --RCV-TIMEOUT, --SND-TIMEOUT,
 * --RETRY-TIMEOUT; --IO-*; --POOL-MIN, --POOL-MAX), --NAMESPACE and
 * --HASH-WITH-NAMESPACE (keys are prefixed by the store), an encoding
 * key, --CONFIGURE-FILE, and every other option. Then the string must
 * pass libmemcached_check_configuration (its message is quoted). */
const char *gk_store_mc_check_config(apr_pool_t *p, const char *conf);

/* memcached's exptime for an entry gone at `expires` (absolute Unix
 * seconds, GK_STORE_NO_EXPIRY for never) written at now: 0 for no
 * expiry; expires - now when that is at most GK_STORE_MC_RELATIVE_MAX;
 * else expires itself (memcached reads it as absolute). -1 when expires
 * is refused by the interface (negative, or not after now) or does not
 * fit memcached's 32-bit exptime. */
apr_int64_t gk_store_mc_exptime(apr_int64_t expires, apr_int64_t now);

/* What an event callback is told. */
typedef struct {
    const char *op;              /* "incr", "decr", "add", "get",
                                  * "get_multi" (also for get_multi_in),
                                  * "set" (set, set_in), "set_all" (one
                                  * per server) */
    gk_store_result_e result;    /* the operation's result */
    gk_breaker_event_e breaker;  /* the transition it caused, or NONE */
    apr_uint32_t backoff_ms;     /* the breaker's interval after it */
    int pool_empty;              /* 1: no free connection (result ERROR) */
    const char *detail;          /* libmemcached's message, or NULL; valid
                                  * during the call only */
} gk_store_mc_event_t;

/* An event callback: called in the operation's thread, so it must be
 * thread-safe and quick (log, audit, count). */
typedef void (*gk_store_mc_event_fn)(void *baton,
                                     const gk_store_mc_event_t *ev);

/* A monotonic clock in milliseconds (the breaker's). */
typedef apr_int64_t (*gk_store_mc_clock_fn)(void *baton);

/* Counters of one store (read with gk_store_mc_stats; they wrap at
 * 2^32). */
typedef struct {
    apr_uint32_t calls;      /* operations asked of the store */
    apr_uint32_t network;    /* ...that were sent to memcached */
    apr_uint32_t shed;       /* ...refused at once by the open breaker */
    apr_uint32_t pool_empty; /* ...refused: no free connection */
    apr_uint32_t timeouts;   /* network operations that timed out */
    apr_uint32_t down;       /* ...that found a server unreachable */
    apr_uint32_t errors;     /* ...that failed otherwise */
    apr_uint32_t retries;    /* incr/decr sent again after losing a race
                              * to create the key (one more round trip) */
    apr_uint32_t reconnects; /* operations sent again on a new connection
                              * after finding theirs closed by the server */
    gk_breaker_state_e breaker;  /* the breaker's state now */
    apr_uint32_t backoff_ms;     /* its interval */
} gk_store_mc_stats_t;

/* Make a memcached store in pool p for one process: conf a configuration
 * string that passed gk_store_mc_check_config, timeout_ms (1..
 * GK_STORE_MC_TIMEOUT_MAX) the connect, poll, send and receive timeout,
 * pool_size (1..GK_STORE_MC_POOL_MAX) the number of connections. Call it
 * in each child process after fork() (httpd: child_init), never before.
 * No connection is made here: a memcached that is not running yet does
 * not make this fail (operations fail until it runs). Everything is
 * freed by a cleanup of p; no operation may run then. APR_SUCCESS and
 * *out; otherwise an error status and *err (pool memory). */
apr_status_t gk_store_mc_create(apr_pool_t *p, const char *conf,
                                int timeout_ms, int pool_size,
                                gk_store_t **out, const char **err);

/* Is s a memcached store (made by gk_store_mc_create)? 1 or 0. */
int gk_store_mc_is(const gk_store_t *s);

/* Replace the breaker's parameters (gk_breaker_init) and reset it to
 * CLOSED. Call before the store is shared by threads. APR_SUCCESS or
 * APR_EINVAL (s not a memcached store, or bad parameters). */
apr_status_t gk_store_mc_set_breaker(gk_store_t *s, apr_uint32_t min_ms,
                                     apr_uint32_t max_ms,
                                     apr_uint32_t threshold);

/* Set the event callback (fn NULL: none). Call before the store is
 * shared by threads. */
void gk_store_mc_set_events(gk_store_t *s, gk_store_mc_event_fn fn,
                            void *baton);

/* Set the breaker's clock (fn NULL: CLOCK_MONOTONIC). For tests. Call
 * before the store is shared by threads. */
void gk_store_mc_set_clock(gk_store_t *s, gk_store_mc_clock_fn fn,
                           void *baton);

/* Fill *st with the store's counters (a snapshot, not atomic as a whole).
 * APR_SUCCESS, or APR_EINVAL when s is not a memcached store. */
apr_status_t gk_store_mc_stats(gk_store_t *s, gk_store_mc_stats_t *st);

#endif
