/*
 * JSON Schema "format" checks (see gk_format.h). Each function below says
 * exactly which strings it accepts. All are ASCII grammars: a byte above
 * 0x7F, a NUL or any other control character fails every format (the
 * internationalised formats idn-email, idn-hostname and iri are other
 * formats, annotations here).
 */
#include <string.h>
#include <strings.h>

#include <apr_lib.h>

#include "gk_format.h"
#include "gk_http.h"

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_hex(int c)
{
    return gk_http_hexval((unsigned char)c) >= 0;
}

/* Character classes, one bit each: RFC 3986's unreserved and sub-delims,
 * the ':' '@' '/' '?' its productions add, RFC 5322's atext. */
enum {
    C_UNRES = 1, C_SUBD = 2, C_COLON = 4, C_AT = 8, C_SLASH = 16,
    C_QMARK = 32, C_ATEXT = 64
};

static const unsigned char CT[256] = {
    ['0' ... '9'] = C_UNRES | C_ATEXT,
    ['A' ... 'Z'] = C_UNRES | C_ATEXT,
    ['a' ... 'z'] = C_UNRES | C_ATEXT,
    ['-'] = C_UNRES | C_ATEXT, ['.'] = C_UNRES, ['_'] = C_UNRES | C_ATEXT,
    ['~'] = C_UNRES | C_ATEXT,
    ['!'] = C_SUBD | C_ATEXT, ['$'] = C_SUBD | C_ATEXT,
    ['&'] = C_SUBD | C_ATEXT, ['\''] = C_SUBD | C_ATEXT, ['('] = C_SUBD,
    [')'] = C_SUBD, ['*'] = C_SUBD | C_ATEXT, ['+'] = C_SUBD | C_ATEXT,
    [','] = C_SUBD, [';'] = C_SUBD, ['='] = C_SUBD | C_ATEXT,
    [':'] = C_COLON, ['@'] = C_AT, ['/'] = C_SLASH | C_ATEXT,
    ['?'] = C_QMARK | C_ATEXT, ['#'] = C_ATEXT, ['%'] = C_ATEXT,
    ['^'] = C_ATEXT, ['`'] = C_ATEXT, ['{'] = C_ATEXT, ['|'] = C_ATEXT,
    ['}'] = C_ATEXT};

#define CT_IS(c, mask) ((CT[(unsigned char)(c)] & (mask)) != 0)

/* ---- hostname ------------------------------------------------------------ */

/*
 * An A-label (RFC 5890: "xn--" in any case, then Punycode) is valid when
 * what follows "xn--" is RFC 3492 Punycode that decodes, without
 * overflow, to a label of at most 63 code points holding at least one
 * non-ASCII code point, every one a Unicode scalar value (no surrogate,
 * at most U+10FFFF). So "xn--X" (no Punycode) and "xn--abc-" (decodes to
 * ASCII: not an A-label) fail. Punycode's variable-length integers have a
 * single spelling, so a label that decodes is the encoding of what it
 * decodes to (case aside: DNS names are case-insensitive). IDNA2008's
 * code point and context rules (RFC 5892, 5893) are not checked here:
 * they are the business of idn-hostname, an annotation.
 */
enum {
    PC_BASE = 36,
    PC_TMIN = 1,
    PC_TMAX = 26,
    PC_SKEW = 38,
    PC_DAMP = 700,
    PC_BIAS = 72,
    PC_N = 128
};

static apr_uint32_t pc_adapt(apr_uint32_t delta, apr_uint32_t npoints,
                             int first)
{
    apr_uint32_t k = 0;

    delta = first ? delta / PC_DAMP : delta / 2;
    delta += delta / npoints;
    while (delta > ((PC_BASE - PC_TMIN) * PC_TMAX) / 2) {
        delta /= PC_BASE - PC_TMIN;
        k += PC_BASE;
    }
    return k + (PC_BASE - PC_TMIN + 1) * delta / (delta + PC_SKEW);
}

static int pc_digit(unsigned char c)
{
    if (c >= 'a' && c <= 'z') {
        return c - 'a';
    }
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 26;
    }
    return PC_BASE;
}

static int is_alabel(const char *s, apr_size_t n)
{
    const apr_uint32_t max = 0xFFFFFFFFu;
    apr_uint32_t i = 0, bias = PC_BIAS, cp = PC_N, out;
    apr_size_t in, b = 0, k;

    s += 4; /* "xn--" */
    n -= 4;
    /* the basic code points: everything before the last '-' */
    for (k = 0; k < n; k++) {
        if (s[k] == '-') {
            b = k;
        }
    }
    out = (apr_uint32_t)b;
    in = b ? b + 1 : 0;
    if (in >= n) {
        return 0; /* nothing encoded: an ASCII label */
    }
    while (in < n) {
        apr_uint32_t oldi = i, w = 1, t, kk;
        for (kk = PC_BASE;; kk += PC_BASE) {
            int d;
            if (in >= n || (d = pc_digit((unsigned char)s[in++])) >= PC_BASE
                || (apr_uint32_t)d > (max - i) / w) {
                return 0;
            }
            i += (apr_uint32_t)d * w;
            t = kk <= bias ? PC_TMIN
                : kk >= bias + PC_TMAX ? PC_TMAX : kk - bias;
            if ((apr_uint32_t)d < t) {
                break;
            }
            if (w > max / (PC_BASE - t)) {
                return 0;
            }
            w *= PC_BASE - t;
        }
        out++;
        bias = pc_adapt(i - oldi, out, oldi == 0);
        if (i / out > 0x10FFFF - cp) {
            return 0;
        }
        cp += i / out;
        i %= out;
        if (out > 63 || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return 0;
        }
        i++;
    }
    return 1;
}

/*
 * hostname (RFC 1123 section 2.1, RFC 952): labels separated by '.', each
 * 1 to 63 letters, digits and hyphens, neither starting nor ending with a
 * hyphen (a label may start with a digit); at most 253 characters in all.
 * No trailing dot (that is DNS's spelling of a fully qualified name, not a
 * host name), no empty label, no underscore. A label starting "xn--" (any
 * case) must be valid Punycode (is_alabel).
 */
static int is_hostname(const char *s, apr_size_t len)
{
    apr_size_t i, start = 0;

    if (len == 0 || len > 253) {
        return 0;
    }
    for (i = 0; i <= len; i++) {
        apr_size_t n = i - start;
        unsigned char c;
        if (i < len && s[i] != '.') {
            c = (unsigned char)s[i];
            if (!(is_alpha(c) || is_digit(c) || c == '-')) {
                return 0;
            }
            continue;
        }
        /* the label s[start, i) */
        if (n == 0 || n > 63 || s[start] == '-' || s[i - 1] == '-') {
            return 0;
        }
        if (n >= 4 && !strncasecmp(s + start, "xn--", 4)
            && !is_alabel(s + start, n)) {
            return 0;
        }
        start = i + 1;
    }
    return 1;
}

/* ---- ipv4 / ipv6 ------------------------------------------------------- */

/*
 * ipv4 (RFC 2673 section 3.2 dotted-quad, as RFC 3986's IPv4address):
 * exactly four decimal numbers 0-255 separated by '.', ASCII digits, no
 * leading zero ("0" itself is fine: "010.0.0.1" fails, as inet_aton
 * would read it in octal), no sign, no spaces, no prefix length
 * (gk_http_is_ipv4, the rule CORS origins share).
 */
static int is_ipv4(const char *s, apr_size_t len)
{
    return gk_http_is_ipv4(s, len);
}

/*
 * ipv6 (RFC 4291 section 2.2): eight groups of 1 to 4 hex digits separated
 * by ':'; one "::" may stand for one or more groups of zeros; the last two
 * groups may be written as an IPv4 address as above ("::ffff:192.0.2.1").
 * No zone ("%eth0"), no prefix length ("/64"), no brackets, no spaces.
 */
static int is_ipv6(const char *s, apr_size_t len)
{
    apr_size_t i = 0;
    int groups = 0, elided = 0;

    if (len < 2) {
        return 0;
    }
    if (s[0] == ':') {
        if (s[1] != ':') {
            return 0;
        }
        elided = 1;
        i = 2;
        if (i == len) {
            return 1; /* "::" */
        }
    }
    for (;;) {
        apr_size_t start = i, k;
        /* an IPv4 tail: a '.' before the next ':' */
        for (k = i; k < len && s[k] != ':' && s[k] != '.'; k++) {
        }
        if (k < len && s[k] == '.') {
            if (!is_ipv4(s + i, len - i)) {
                return 0;
            }
            groups += 2;
            break;
        }
        while (i < len && is_hex(s[i]) && i - start < 4) {
            i++;
        }
        if (i == start) {
            return 0;
        }
        groups++;
        if (i == len) {
            break;
        }
        if (s[i] != ':' || groups >= 8) {
            return 0;
        }
        i++;
        if (i < len && s[i] == ':') {
            if (elided) {
                return 0;
            }
            elided = 1;
            i++;
            if (i == len) {
                break;
            }
        }
        else if (i == len) {
            return 0; /* a trailing single ':' */
        }
    }
    return elided ? groups <= 7 : groups == 8;
}

/* ---- email ------------------------------------------------------------------- */

/*
 * email: RFC 5321 section 4.1.2 Mailbox, ASCII only:
 *
 *   Mailbox        = Local-part "@" ( Domain / address-literal )
 *   Local-part     = Dot-string / Quoted-string
 *   Dot-string     = Atom *("." Atom)         Atom = 1*atext
 *   Quoted-string  = DQUOTE *( %d32-33 / %d35-91 / %d93-126
 *                              / "\" %d32-126 ) DQUOTE
 *   Domain         = a hostname as above (so "user@localhost" is valid)
 *   address-literal = "[" IPv4 "]" / "[IPv6:" IPv6 "]"  (the tag in any
 *                     case; IPv4 and IPv6 as the formats above)
 *
 * with RFC 5321's length limits: the local part at most 64 octets (its
 * quotes included), the whole address at most 254 (RFC 3696 erratum
 * 1690: a 256-octet path less its angle brackets). Refused: comments and
 * folding white space (RFC 5322's obs- and CFWS forms, not part of an
 * SMTP mailbox), a display name ("Joe <joe@x>"), non-ASCII (RFC 6531
 * addresses are "idn-email"), General-address-literals ("[tag:...]":
 * no tag but IPv6 is registered). An empty quoted string is a valid
 * local part (""@example.com), as RFC 5321 has it.
 *
 * Compared with Pydantic's EmailStr (the email-validator package), this
 * accepts, as RFC 5321 does, quoted local parts ("john doe"@example.com),
 * address literals (user@[192.0.2.1], user@[IPv6:2001:db8::1]),
 * single-label domains (user@localhost), special-use domains
 * (user@printer.local) and numeric top labels (user@192.0.2.1), which
 * EmailStr refuses; and
 * refuses internationalised addresses, which EmailStr accepts. Neither
 * looks the domain up.
 */
static int is_email(const char *s, apr_size_t len)
{
    apr_size_t i = 0, at;
    const char *d;
    apr_size_t dlen;

    if (len == 0 || len > 254) {
        return 0;
    }
    if (s[0] == '"') {
        for (i = 1; i < len && s[i] != '"'; i++) {
            unsigned char c = (unsigned char)s[i];
            if (c == '\\') {
                if (++i >= len || (unsigned char)s[i] < 32
                    || (unsigned char)s[i] > 126) {
                    return 0;
                }
            }
            else if (c < 32 || c > 126) {
                return 0;
            }
        }
        if (i >= len) {
            return 0;
        }
        i++; /* the closing quote */
    }
    else {
        for (; i < len && s[i] != '@'; i++) {
            if (s[i] == '.') {
                if (i == 0 || s[i - 1] == '.') {
                    return 0;
                }
            }
            else if (!CT_IS(s[i], C_ATEXT)) {
                return 0;
            }
        }
        if (i == 0 || s[i - 1] == '.') {
            return 0;
        }
    }
    if (i > 64 || i >= len || s[i] != '@') {
        return 0;
    }
    at = i;
    d = s + at + 1;
    dlen = len - at - 1;
    if (dlen >= 2 && d[0] == '[' && d[dlen - 1] == ']') {
        if (dlen > 7 && !strncasecmp(d + 1, "IPv6:", 5)) {
            return is_ipv6(d + 6, dlen - 7);
        }
        return is_ipv4(d + 1, dlen - 2);
    }
    return is_hostname(d, dlen);
}

/* ---- date / date-time ------------------------------------------------------- */

/* n ASCII digits at s as a number, or -1. */
static int digits(const char *s, int n)
{
    int v = 0, k;

    for (k = 0; k < n; k++) {
        if (!is_digit(s[k])) {
            return -1;
        }
        v = v * 10 + (s[k] - '0');
    }
    return v;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
                               31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : days[m - 1];
}

/* RFC 3339 full-date = YYYY "-" MM "-" DD, a real day of the proleptic
 * Gregorian calendar (years 0000-9999; 29 February in leap years only). */
static int is_date(const char *s, apr_size_t len)
{
    int y, m, d;

    if (len != 10 || s[4] != '-' || s[7] != '-') {
        return 0;
    }
    y = digits(s, 4);
    m = digits(s + 5, 2);
    d = digits(s + 8, 2);
    return y >= 0 && m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
}

/*
 * RFC 3339 date-time = full-date "T" full-time, where
 *   full-time    = HH ":" MM ":" SS [ "." 1*DIGIT ] time-offset
 *   time-offset  = "Z" / ( "+" / "-" ) HH ":" MM
 * "T" and "Z" in either case (RFC 3339 section 5.6's note), no space
 * instead of "T"; hours 00-23, minutes 00-59, offsets up to 23:59. The
 * second is 00-59, or 60 for a leap second, which is only at 23:59:60
 * UTC: the time less its offset must be 23:59 (the date is not checked
 * against the list of leap seconds actually inserted).
 */
static int is_date_time(const char *s, apr_size_t len)
{
    int hh, mm, ss, oh = 0, om = 0, sign = 0;
    apr_size_t i;

    if (len < 20 || !is_date(s, 10) || (s[10] != 'T' && s[10] != 't')
        || s[13] != ':' || s[16] != ':') {
        return 0;
    }
    hh = digits(s + 11, 2);
    mm = digits(s + 14, 2);
    ss = digits(s + 17, 2);
    if (hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 60) {
        return 0;
    }
    i = 19;
    if (s[i] == '.') {
        apr_size_t start = ++i;
        while (i < len && is_digit(s[i])) {
            i++;
        }
        if (i == start) {
            return 0;
        }
    }
    if (i + 1 == len && (s[i] == 'Z' || s[i] == 'z')) {
        /* UTC */
    }
    else if (i + 6 == len && (s[i] == '+' || s[i] == '-')
             && s[i + 3] == ':') {
        sign = s[i] == '+' ? 1 : -1;
        oh = digits(s + i + 1, 2);
        om = digits(s + i + 4, 2);
        if (oh < 0 || oh > 23 || om < 0 || om > 59) {
            return 0;
        }
    }
    else {
        return 0;
    }
    if (ss == 60) {
        int utc = ((hh * 60 + mm - sign * (oh * 60 + om)) % 1440 + 1440)
                  % 1440;
        return utc == 23 * 60 + 59;
    }
    return 1;
}

/* ---- uri ---------------------------------------------------------------------- */

/* Characters of s[*i..end) while each is unreserved, a sub-delim, one
 * of the classes in extra, or a valid %HH; stops at the first other; 0
 * on a bad '%'. */
static int span(const char *s, apr_size_t *i, apr_size_t end, int extra)
{
    while (*i < end) {
        if (s[*i] == '%') {
            if (*i + 2 >= end || !is_hex(s[*i + 1]) || !is_hex(s[*i + 2])) {
                return 0;
            }
            *i += 3;
        }
        else if (CT_IS(s[*i], C_UNRES | C_SUBD | extra)) {
            (*i)++;
        }
        else {
            break;
        }
    }
    return 1;
}

/* host = "[" IPv6 / IPvFuture "]" / reg-name (which covers IPv4address) */
static int is_uri_host(const char *s, apr_size_t len)
{
    apr_size_t i = 0;

    if (len && s[0] == '[') {
        if (len < 2 || s[len - 1] != ']') {
            return 0;
        }
        if (len > 2 && (s[1] == 'v' || s[1] == 'V')) {
            /* IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims /
             * ":" ) */
            apr_size_t k = 2, end = len - 1;
            while (k < end && is_hex(s[k])) {
                k++;
            }
            if (k == 2 || k >= end || s[k] != '.' || ++k >= end) {
                return 0;
            }
            while (k < end && CT_IS(s[k], C_UNRES | C_SUBD | C_COLON)) {
                k++;
            }
            return k == end;
        }
        return is_ipv6(s + 1, len - 2);
    }
    return span(s, &i, len, 0) && i == len;
}

/*
 * uri: RFC 3986 section 3's URI (absolute, with a scheme; a fragment is
 * allowed), ASCII only:
 *
 *   URI       = scheme ":" hier-part [ "?" query ] [ "#" fragment ]
 *   scheme    = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
 *   hier-part = "//" authority path-abempty / path-absolute
 *             / path-rootless / path-empty
 *   authority = [ userinfo "@" ] host [ ":" *DIGIT ]
 *
 * every character of userinfo, host, path, query and fragment being one
 * RFC 3986 allows there, '%' only as %HH. Refused: relative references
 * ("/abc", "//host/x"), spaces, '\', non-ASCII (that is "iri"), an
 * unbracketed IPv6 address as a host, a port that is not digits.
 */
static int is_uri(const char *s, apr_size_t len)
{
    apr_size_t i = 0, end;

    if (len == 0 || !is_alpha(s[0])) {
        return 0;
    }
    while (i < len && (is_alpha(s[i]) || is_digit(s[i]) || s[i] == '+'
                       || s[i] == '-' || s[i] == '.')) {
        i++;
    }
    if (i >= len || s[i] != ':') {
        return 0;
    }
    i++;
    if (i + 1 < len && s[i] == '/' && s[i + 1] == '/') {
        apr_size_t a, at, host_end, k;
        i += 2;
        a = i;
        for (end = i; end < len && s[end] != '/' && s[end] != '?'
                      && s[end] != '#';
             end++) {
        }
        at = a;
        for (k = a; k < end; k++) {
            if (s[k] == '@') {
                at = k + 1;
                break;
            }
        }
        if (at > a) {
            k = a;
            if (!span(s, &k, at - 1, C_COLON) || k != at - 1) {
                return 0;
            }
        }
        /* the host ends at ':' (the port) unless it is bracketed */
        host_end = at;
        if (host_end < end && s[host_end] == '[') {
            while (host_end < end && s[host_end] != ']') {
                host_end++;
            }
            host_end += host_end < end;
        }
        else {
            while (host_end < end && s[host_end] != ':') {
                host_end++;
            }
        }
        if (!is_uri_host(s + at, host_end - at)) {
            return 0;
        }
        if (host_end < end) {
            if (s[host_end] != ':') {
                return 0;
            }
            for (k = host_end + 1; k < end; k++) {
                if (!is_digit(s[k])) {
                    return 0;
                }
            }
        }
        i = end;
    }
    /* the path: pchar and '/' */
    if (!span(s, &i, len, C_COLON | C_AT | C_SLASH)) {
        return 0;
    }
    if (i < len && s[i] == '?') {
        i++;
        if (!span(s, &i, len, C_COLON | C_AT | C_SLASH | C_QMARK)) {
            return 0;
        }
    }
    if (i < len && s[i] == '#') {
        i++;
        if (!span(s, &i, len, C_COLON | C_AT | C_SLASH | C_QMARK)) {
            return 0;
        }
    }
    return i == len;
}

/* ---- the table ------------------------------------------------------------- */

static const struct {
    const char *name;
    int (*check)(const char *s, apr_size_t len);
    const char *message;
} FORMATS[] = {
    [GK_FORMAT_UNKNOWN] = {NULL, NULL, "must be valid"},
    [GK_FORMAT_EMAIL] = {"email", is_email, "must be a valid email address"},
    [GK_FORMAT_HOSTNAME] = {"hostname", is_hostname,
                            "must be a valid host name"},
    [GK_FORMAT_IPV4] = {"ipv4", is_ipv4, "must be a valid IPv4 address"},
    [GK_FORMAT_IPV6] = {"ipv6", is_ipv6, "must be a valid IPv6 address"},
    [GK_FORMAT_DATE_TIME] = {"date-time", is_date_time,
                             "must be a valid RFC 3339 date-time"},
    [GK_FORMAT_DATE] = {"date", is_date, "must be a valid RFC 3339 date"},
    [GK_FORMAT_URI] = {"uri", is_uri, "must be a valid URI"},
};

#define N_FORMATS (sizeof(FORMATS) / sizeof(FORMATS[0]))

gk_format_e gk_format_lookup(const char *name)
{
    apr_size_t k;

    for (k = 1; name && k < N_FORMATS; k++) {
        if (!strcmp(name, FORMATS[k].name)) {
            return (gk_format_e)k;
        }
    }
    return GK_FORMAT_UNKNOWN;
}

int gk_format_check(gk_format_e f, const char *s, apr_size_t len)
{
    if ((unsigned)f == GK_FORMAT_UNKNOWN || (unsigned)f >= N_FORMATS) {
        return 1;
    }
    return FORMATS[f].check(s ? s : "", s ? len : 0);
}

const char *gk_format_message(gk_format_e f)
{
    return (unsigned)f < N_FORMATS ? FORMATS[f].message
                                   : FORMATS[GK_FORMAT_UNKNOWN].message;
}
