/*
 * UUIDs (RFC 9562) as canonical text: 36 lower-case characters in the
 * groups 8-4-4-4-12, e.g. "017f22e2-79b0-7cc3-98c4-dc0c0c07398f".
 *
 * Version 7 (time-ordered): 48 bits of Unix time in milliseconds, the
 * version, a 12-bit counter in rand_a, the variant and 62 random bits in
 * rand_b. The counter is RFC 9562 section 6.2's Method 1 (fixed-length
 * dedicated counter), kept per thread: at each new millisecond it is
 * seeded with 11 random bits (its top bit starts at zero, a rollover
 * guard, so a thread makes at least 2,049 IDs in one millisecond before
 * it rolls over), and it is incremented for each further ID within the
 * millisecond. So, within one thread, each ID is greater than the one
 * before:
 *
 *  - on a counter rollover the timestamp is advanced by one millisecond
 *    ahead of the clock and the counter reseeded (section 6.2 allows it);
 *  - when the clock goes backwards by up to GK_UUID7_MAX_BACKSTEP_MS, the
 *    last timestamp is kept and the counter incremented. A larger step back
 *    is a corrected clock, not jitter: the new time is taken, so IDs do not
 *    carry a timestamp that far ahead (time order across processes wins
 *    over one thread's monotonicity, once).
 *
 * Across threads and processes, IDs are ordered by their millisecond;
 * within one millisecond their order is random. Uniqueness across them
 * rests on the counter seed and rand_b (73 random bits in the first ID of
 * a millisecond, 62 in the following ones), from gk_rand.
 */
#ifndef GK_UUID_H
#define GK_UUID_H

#include <apr_errno.h>

#include "gk.h"

/* Characters of the canonical text, without the NUL. */
#define GK_UUID_LEN 36

/* A step back of the clock up to this long keeps the last timestamp. */
#define GK_UUID7_MAX_BACKSTEP_MS 10000

/* The largest timestamp a version 7 UUID holds (48 bits). */
#define GK_UUID7_MAX_MS APR_UINT64_C(0xffffffffffff)

/* A version 7 UUID for the time now_ms (milliseconds since the Unix epoch:
 * apr_time_now() / 1000) into out (NUL-terminated). APR_SUCCESS;
 * APR_EGENERAL when no random bytes could be had; APR_EINVAL when now_ms
 * exceeds GK_UUID7_MAX_MS (or the counter would carry it past). out is
 * then the empty string. */
apr_status_t gk_uuid7(char out[GK_UUID_LEN + 1], apr_uint64_t now_ms);

/* A version 4 (random) UUID into out; APR_SUCCESS or APR_EGENERAL, as
 * gk_uuid7. */
apr_status_t gk_uuid4(char out[GK_UUID_LEN + 1]);

/* The canonical text of 16 bytes (any version and variant). */
void gk_uuid_format(char out[GK_UUID_LEN + 1], const unsigned char b[16]);

/* Parse canonical text of exactly len == GK_UUID_LEN characters; hex
 * digits of either case (RFC 9562 section 4: case-insensitive on input).
 * Any version and variant. Returns 1 and fills out (when not NULL), else
 * 0. */
int gk_uuid_parse(const char *s, apr_size_t len, unsigned char out[16]);

/* Is s (len bytes) a UUID in canonical text? gk_uuid_parse's rule. */
int gk_uuid_is_valid(const char *s, apr_size_t len);

#endif
