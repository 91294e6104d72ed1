/*
 * The pure building blocks of mod_gk_ratelimit (GKRateLimit): the rate
 * grammar, the fixed window aligned to the clock, the key specification
 * grammar, the grouping of client addresses, and the counter key a store
 * sees. No httpd header, no state, no clock of its own (the caller passes
 * `now`), safe from any thread.
 *
 * Rate (the RATE argument):
 *
 *   RATE     = N "/" UNIT / N "/" DURATION
 *   UNIT     = "second" / "sec" / "s" / "minute" / "min" / "m"
 *            / "hour" / "h" / "day" / "d"
 *   DURATION = COUNT ( "s" / "m" / "h" / "d" )
 *
 * N and COUNT are decimal digits without sign, leading zero or white
 * space; units are lower case and singular ("5/minutes" is refused, as is
 * "5/Minute": "M" could be read as months or millions). N is 1..2^31-1;
 * the window is 1 second .. 31 days. "5/minute" = "5/1m" = "5/60s".
 *
 * Key specification (the value of key=):
 *
 *   SPEC = KEY *( "|" KEY )     at most GK_RATE_KEYS_MAX alternatives
 *   KEY  = "ip" / "ip/" PREFIX  PREFIX 1..128: the IPv6 prefix length
 *                               (default 64); IPv4 is always one address
 *        / "user"
 *        / "header:" NAME       NAME an RFC 9110 token
 *        / "env:" NAME          NAME 1*( ALPHA / DIGIT / "_" )
 *        / "global"
 *
 * Keywords are lower case. Alternatives are tried in order, the first
 * non-empty one keys the request. "global" is never empty, so it may only
 * be the last alternative; an alternative may not appear twice (header
 * names compared without case, environment names with case; "ip" and
 * "ip/N" are the same kind, so only one of them).
 */
#ifndef GK_RATE_H
#define GK_RATE_H

#include "gk.h"

/* The largest limit (N) and window (seconds). */
#define GK_RATE_LIMIT_MAX 2147483647u
#define GK_RATE_WINDOW_MAX (31u * 86400u)

/* Seconds a counter outlives its window (gk_rate_ttl): covers the time
 * between a request reading the clock and reaching the store, and a
 * small skew between the clocks of front ends sharing a store. */
#define GK_RATE_TTL_MARGIN 5

/* A parsed RATE: at most `limit` requests per fixed window of `window`
 * seconds. */
typedef struct {
    apr_uint32_t limit;  /* 1..GK_RATE_LIMIT_MAX */
    apr_uint32_t window; /* seconds, 1..GK_RATE_WINDOW_MAX */
} gk_rate_t;

/* Parse a RATE. NULL on success with *out set; otherwise an error message
 * (pool memory) that quotes s, and *out is untouched. */
const char *gk_rate_parse(apr_pool_t *p, const char *s, gk_rate_t *out);

/* The canonical text of a rate, which gk_rate_parse reads back to the same
 * struct: "N/second", "N/minute", "N/hour" or "N/day" for those windows,
 * else the largest unit that divides the window: "N/<k>d", "N/<k>h",
 * "N/<k>m" or "N/<k>s". So "5/60s" gives "5/minute" and "100/120s"
 * gives "100/2m". */
const char *gk_rate_text(apr_pool_t *p, const gk_rate_t *r);

/* The start of the window holding now_sec (Unix seconds): the largest
 * multiple of the window not after now_sec. Windows are aligned to the
 * epoch, not to the first request, so every front end agrees on them. */
apr_int64_t gk_rate_window_start(const gk_rate_t *r, apr_int64_t now_sec);

/* Seconds from now_sec until the window ends: 1..window (Retry-After and
 * the reset of the RateLimit field). */
apr_int64_t gk_rate_reset(const gk_rate_t *r, apr_int64_t now_sec);

/* The time-to-live of a counter created or incremented at now_sec, in
 * seconds from now_sec: the reset plus GK_RATE_TTL_MARGIN. Relative
 * seconds; at most 31 days + the margin, which memcached would read as an
 * absolute time (its limit is 30 days): a memcached store converts longer
 * ones with gk_rate_expires. */
apr_uint32_t gk_rate_ttl(const gk_rate_t *r, apr_int64_t now_sec);

/* The same expiry as a Unix time: the window's end plus the margin. */
apr_int64_t gk_rate_expires(const gk_rate_t *r, apr_int64_t now_sec);

/* Key kinds. The numbers are hashed into every counter key (so that the
 * user "10.0.0.1" never shares a counter with that address): never
 * renumber them, or every counter of a shared store starts afresh. */
#define GK_RATE_KEY_IP 1
#define GK_RATE_KEY_USER 2
#define GK_RATE_KEY_HEADER 3
#define GK_RATE_KEY_ENV 4
#define GK_RATE_KEY_GLOBAL 5

/* Most alternatives in a key specification. */
#define GK_RATE_KEYS_MAX 4

/* The default IPv6 prefix length of "ip". */
#define GK_RATE_PREFIX6_DEFAULT 64

/* One alternative of a key specification. */
typedef struct {
    int kind;         /* GK_RATE_KEY_* */
    int prefix6;      /* ip: the IPv6 prefix length 1..128; else 0 */
    const char *name; /* header and env: the name as written; else NULL */
} gk_rate_key_t;

/* Parse a key specification into out[0..*n-1], at most max (and at most
 * GK_RATE_KEYS_MAX) items. NULL on success; otherwise an error message
 * (pool memory) that quotes s, and *n is 0. */
const char *gk_rate_keys_parse(apr_pool_t *p, const char *s,
                               gk_rate_key_t *out, int max, int *n);

/* Group a client address for counting: ip is the text of an IPv4 or IPv6
 * address (an IPv6 zone "%eth0" is ignored); an IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d) is that IPv4 address; IPv6 keeps its first prefix6
 * (1..128) bits, the others zeroed. out receives the family byte (4 or 6)
 * then the 4 or 16 address bytes, *out_len 5 or 17. Returns 1, or 0 for
 * a NULL or bad address or a prefix6 outside 1..128 (out untouched). */
int gk_rate_ip_group(const char *ip, int prefix6, unsigned char out[17],
                     apr_size_t *out_len);

/* The same from an address already parsed: family 4 (addr: 4 bytes) or 6
 * (16 bytes), as in an apr_sockaddr_t (r->useragent_addr), so that a
 * request costs no text parsing. */
int gk_rate_ip_group_raw(int family, const unsigned char *addr, int prefix6,
                         unsigned char out[17], apr_size_t *out_len);

/* Buffer size that always holds a counter key and its NUL. */
#define GK_RATE_COUNTER_KEY_SIZE 48

/* Write into buf (size bytes) the key of one counter in a store:
 *
 *   "gkrl:" 16 lower-case hex digits ":" window_start in decimal
 *
 * (at most 42 characters, printable ASCII without space: a valid
 * memcached key). The hex digits are the SipHash-2-4 under key16 of an
 * unambiguous encoding of (site, limit, kind, value): a version tag, the
 * 64-bit identities of the site and of the limit (below), kind as 4
 * bytes, the value's length (8 bytes, little-endian) and its bytes. So no
 * raw address, user or API key reaches the store, a different kind never
 * shares a counter for the same value, and no choice of values can make
 * two different tuples encode alike (only a 64-bit hash collision, which
 * nobody without key16 can aim for). value is the key's bytes (for ip,
 * the gk_rate_ip_group output; NULL is the empty value). Counters are per kind and value, not per
 * header or variable name: alternatives of one kind share them.
 * Deterministic, no allocation. Returns the length written (NUL not
 * counted), or 0 when size is too small (buf then holds "" if size > 0). */
apr_size_t gk_rate_counter_key_ids(char *buf, apr_size_t size,
                                   const unsigned char key16[16],
                                   apr_uint64_t site_id,
                                   apr_uint64_t limit_id, int kind,
                                   const void *value, apr_size_t value_len,
                                   apr_uint64_t window_start);

/* The 64-bit hash of such a key, for a store that takes binary keys (the
 * shm store: with the window's start, 16 bytes in all). */
apr_uint64_t gk_rate_counter_hash(const unsigned char key16[16],
                                  apr_uint64_t site_id, apr_uint64_t limit_id,
                                  int kind, const void *value,
                                  apr_size_t value_len);

/* The identities of the counter keys, computed once (at startup): of a
 * site (the vhost's ServerName) and of a limit (its name and, for a line
 * of .htaccess, its directory; NULL for none, which differs from "").
 * SipHash-2-4 under a fixed key of a length-prefixed encoding: they name
 * configuration, not clients. */
apr_uint64_t gk_rate_site_id(const char *site);
apr_uint64_t gk_rate_limit_id(const char *name, const char *dir);

/* gk_rate_counter_key_ids with the identities computed from the strings
 * (site the vhost's ServerName, name the limit's, dir the .htaccess
 * directory or NULL). */
apr_size_t gk_rate_counter_key(char *buf, apr_size_t size,
                               const unsigned char key16[16],
                               const char *site, const char *name, int kind,
                               const char *dir, const void *value,
                               apr_size_t value_len,
                               apr_uint64_t window_start);

#endif
