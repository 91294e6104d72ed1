/*
 * ECMA-262 regular expressions on PCRE2 (see gk_ecma_re.h).
 *
 * The dialect is ECMA-262's Pattern with the "u" flag and no other flag,
 * as the JSON Schema test suite reads "pattern": the u flag makes the
 * grammar strict (a lone '{', '}' or ']' and an escape of an ordinary
 * letter are errors), so every construct that PCRE2 reads differently is
 * refused here, at startup, rather than silently given PCRE's meaning.
 *
 * A pattern is read once by a small tokenizer that knows escapes,
 * character classes, groups and quantifiers, and written out again in
 * PCRE2 syntax:
 *
 *   \s \S      ECMA's WhiteSpace and LineTerminator set as explicit ranges
 *              (PCRE's \s without UCP is ASCII only), inside and outside
 *              classes
 *   .          [^\n\r\u2028\u2029] (PCRE's '.' excludes only \n)
 *   \v         U+000B (PCRE's \v is a vertical-space class)
 *   \b in [..] U+0008
 *   \0         U+0000
 *   \N         \g{N}, after checking that group N exists
 *   \xHH \uHHHH \u{H..}   \u{H..}; a surrogate pair \uD83D\uDE00 becomes
 *              its one code point
 *   \p{gc=X} \p{sc=X} \p{scx=X}   PCRE's \p{X} \p{sc:X} \p{scx:X}
 *   [          inside a class, \[ (PCRE reads [: [. [= there)
 *
 * and compiled with PCRE2_UTF | PCRE2_DOLLAR_ENDONLY |
 * PCRE2_ALLOW_EMPTY_CLASS | PCRE2_ALT_BSUX | PCRE2_MATCH_UNSET_BACKREF
 * (ECMA: a backreference to a group that has not matched matches the
 * empty string) | PCRE2_NEVER_UCP | PCRE2_NEVER_BACKSLASH_C and
 * PCRE2_EXTRA_ALT_BSUX, never PCRE2_UCP (\d \w \b stay ASCII).
 *
 * Matching: one match context and one match data block per thread, made
 * on the thread's first match and freed when it exits (a thread-specific
 * key's destructor), so a match allocates nothing after the first: PCRE2
 * (10.41 and later) keeps its backtracking frames in the match data and
 * reuses them. The match data holds one pair only: we ask whether there
 * is a match, never where, and the size of the vector does not change
 * how PCRE2 matches. The context carries the match limit, a depth limit,
 * a heap limit and a JIT stack of up to 1 MiB (virtual memory, touched as
 * deep matches need it).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "gk_ecma_re.h"
#include "gk_http.h"

/* Backtracking depth and heap (KiB) limits of the interpreter (the JIT
 * honours only the match limit, and its stack). */
#define RE_DEPTH_LIMIT 10000
#define RE_HEAP_LIMIT 8192
#define RE_JIT_STACK_MIN (32 * 1024)
#define RE_JIT_STACK_MAX (1024 * 1024)

/* The work of one search, all start positions together: PCRE2 counts its
 * match limit afresh at each start position, so a search that is not
 * anchored gets GK_ECMA_RE_MATCH_LIMIT per position only while the
 * positions of the subject times that stay within RE_SEARCH_BUDGET, and
 * RE_SEARCH_BUDGET / positions (at least RE_POSITION_FLOOR) beyond. */
#define RE_SEARCH_BUDGET (100 * (apr_size_t)GK_ECMA_RE_MATCH_LIMIT)
#define RE_POSITION_FLOOR 100

struct gk_ecma_re_t {
    pcre2_code *code;
    int anchored;   /* PCRE2 tries one start position only */
};

/* ---- the translator ------------------------------------------------------ */

/* ECMA-262 WhiteSpace and LineTerminator, and their complement (the
 * surrogates left out: they are not UTF-8 code points), as the inside of
 * a PCRE2 class. */
static const char WS[] = "\\t-\\r \\u{a0}\\u{1680}\\u{2000}-\\u{200a}"
                         "\\u{2028}\\u{2029}\\u{202f}\\u{205f}\\u{3000}"
                         "\\u{feff}";
static const char NOT_WS[] = "\\u{0}-\\u{8}\\u{e}-\\u{1f}\\u{21}-\\u{9f}"
                             "\\u{a1}-\\u{167f}\\u{1681}-\\u{1fff}"
                             "\\u{200b}-\\u{2027}\\u{202a}-\\u{202e}"
                             "\\u{2030}-\\u{205e}\\u{2060}-\\u{2fff}"
                             "\\u{3001}-\\u{d7ff}\\u{e000}-\\u{fefe}"
                             "\\u{ff00}-\\u{10ffff}";
static const char DOT[] = "[^\\n\\r\\u{2028}\\u{2029}]";

typedef enum {
    G_PLAIN,      /* ( (?: (?<name> */
    G_LOOKAROUND  /* (?= (?! (?<= (?<! : not quantifiable under the u flag */
} group_e;

typedef struct {
    apr_pool_t *p;           /* scratch */
    const char *src;
    apr_size_t len, i;       /* the pattern, the position */
    apr_size_t tok;          /* where the token being written started */
    char *out;
    apr_size_t *map;         /* out byte -> src byte of its token */
    apr_size_t n, cap;
    unsigned ngroups;        /* capturing groups in the whole pattern */
    char *stack;             /* group kinds, one per open group */
    apr_size_t depth, stack_cap;
    const char *err;
} tr_t;

/* The character offset (code points, from 0) of byte offset b of s. */
static apr_size_t char_offset(const char *s, apr_size_t b)
{
    apr_size_t i, n = 0;

    for (i = 0; i < b; i++) {
        n += ((unsigned char)s[i] & 0xc0) != 0x80;
    }
    return n;
}

/* Refuse: "<what> at character N: <why>"; returns 0 for the callers. */
static int refuse(tr_t *t, apr_size_t at, const char *what, const char *why)
{
    if (!t->err) {
        t->err = apr_psprintf(t->p, "%s at character %" APR_SIZE_T_FMT
                              ": %s", what, char_offset(t->src, at), why);
    }
    return 0;
}

static void emit(tr_t *t, const char *s, apr_size_t n)
{
    apr_size_t k;

    if (t->n + n > t->cap) {
        apr_size_t cap = (t->cap + n) * 2;
        char *o = apr_palloc(t->p, cap);
        apr_size_t *m = apr_palloc(t->p, cap * sizeof(*m));
        memcpy(o, t->out, t->n);
        memcpy(m, t->map, t->n * sizeof(*m));
        t->out = o;
        t->map = m;
        t->cap = cap;
    }
    memcpy(t->out + t->n, s, n);
    for (k = 0; k < n; k++) {
        t->map[t->n + k] = t->tok;
    }
    t->n += n;
}

static void emits(tr_t *t, const char *s)
{
    emit(t, s, strlen(s));
}

static void emit_cp(tr_t *t, apr_uint32_t cp)
{
    char b[16];

    apr_snprintf(b, sizeof(b), "\\u{%x}", (unsigned)cp);
    emits(t, b);
}

/* Copy the one character (UTF-8 sequence) at t->i. */
static void copy_char(tr_t *t)
{
    apr_size_t n = 1;

    if ((unsigned char)t->src[t->i] >= 0xc0) {
        while (t->i + n < t->len
               && ((unsigned char)t->src[t->i + n] & 0xc0) == 0x80
               && n < 4) {
            n++;
        }
    }
    emit(t, t->src + t->i, n);
    t->i += n;
}

static int peek(const tr_t *t, apr_size_t k)
{
    return t->i + k < t->len ? (unsigned char)t->src[t->i + k] : -1;
}

/* The value of hex digit c (peek's -1 included: not one), or -1. */
static int hexval(int c)
{
    return c < 0 ? -1 : gk_http_hexval((unsigned char)c);
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* n hex digits at t->i + off, or -1. */
static long hex_n(const tr_t *t, apr_size_t off, int n)
{
    long v = 0;
    int k;

    for (k = 0; k < n; k++) {
        int h = hexval(peek(t, off + (apr_size_t)k));
        if (h < 0) {
            return -1;
        }
        v = v * 16 + h;
    }
    return v;
}

/* \u escapes at t->i (the backslash): \uHHHH, a surrogate pair
 * \uHHHH\uHHHH, \u{H...}. The code point, t->i past it; -1 refused. */
static long unicode_escape(tr_t *t)
{
    apr_size_t at = t->i;
    long v, lo;

    if (peek(t, 2) == '{') {
        apr_size_t k = 3;
        v = 0;
        while (hexval(peek(t, k)) >= 0 && v <= 0x10ffff) {
            v = v * 16 + hexval(peek(t, k));
            k++;
        }
        if (k == 3 || peek(t, k) != '}' || v > 0x10ffff) {
            refuse(t, at, "'\\u{'", "needs 1 or more hex digits, a value "
                   "of at most 10FFFF and a '}'");
            return -1;
        }
        t->i += k + 1;
    }
    else if ((v = hex_n(t, 2, 4)) < 0) {
        refuse(t, at, "'\\u'", "needs 4 hex digits or {hex}");
        return -1;
    }
    else {
        t->i += 6;
        if (v >= 0xd800 && v <= 0xdbff && peek(t, 0) == '\\'
            && peek(t, 1) == 'u' && (lo = hex_n(t, 2, 4)) >= 0xdc00
            && lo <= 0xdfff) {
            v = 0x10000 + ((v - 0xd800) << 10) + (lo - 0xdc00);
            t->i += 6;
        }
    }
    if (v >= 0xd800 && v <= 0xdfff) {
        refuse(t, at, "a lone surrogate escape",
               "it can match no UTF-8 text");
        return -1;
    }
    return v;
}

/* ECMA-262's General_Category values: long name, short name (PCRE2
 * 10.42 knows only the short ones). */
static const char *const GC_NAMES[][2] = {
    {"Cased_Letter", "LC"}, {"Close_Punctuation", "Pe"},
    {"Connector_Punctuation", "Pc"}, {"Control", "Cc"}, {"cntrl", "Cc"},
    {"Currency_Symbol", "Sc"}, {"Dash_Punctuation", "Pd"},
    {"Decimal_Number", "Nd"}, {"digit", "Nd"}, {"Enclosing_Mark", "Me"},
    {"Final_Punctuation", "Pf"}, {"Format", "Cf"},
    {"Initial_Punctuation", "Pi"}, {"Letter", "L"}, {"Letter_Number", "Nl"},
    {"Line_Separator", "Zl"}, {"Lowercase_Letter", "Ll"}, {"Mark", "M"},
    {"Combining_Mark", "M"}, {"Math_Symbol", "Sm"},
    {"Modifier_Letter", "Lm"}, {"Modifier_Symbol", "Sk"},
    {"Nonspacing_Mark", "Mn"}, {"Number", "N"}, {"Open_Punctuation", "Ps"},
    {"Other", "C"}, {"Other_Letter", "Lo"}, {"Other_Number", "No"},
    {"Other_Punctuation", "Po"}, {"Other_Symbol", "So"},
    {"Paragraph_Separator", "Zp"}, {"Private_Use", "Co"},
    {"Punctuation", "P"}, {"punct", "P"}, {"Separator", "Z"},
    {"Space_Separator", "Zs"}, {"Spacing_Mark", "Mc"}, {"Surrogate", "Cs"},
    {"Symbol", "S"}, {"Titlecase_Letter", "Lt"}, {"Unassigned", "Cn"},
    {"Uppercase_Letter", "Lu"}, {"C", "C"}, {"Cc", "Cc"}, {"Cf", "Cf"},
    {"Cn", "Cn"}, {"Co", "Co"}, {"Cs", "Cs"}, {"L", "L"}, {"LC", "LC"},
    {"Ll", "Ll"}, {"Lm", "Lm"}, {"Lo", "Lo"}, {"Lt", "Lt"}, {"Lu", "Lu"},
    {"M", "M"}, {"Mc", "Mc"}, {"Me", "Me"}, {"Mn", "Mn"}, {"N", "N"},
    {"Nd", "Nd"}, {"Nl", "Nl"}, {"No", "No"}, {"P", "P"}, {"Pc", "Pc"},
    {"Pd", "Pd"}, {"Pe", "Pe"}, {"Pf", "Pf"}, {"Pi", "Pi"}, {"Po", "Po"},
    {"Ps", "Ps"}, {"S", "S"}, {"Sc", "Sc"}, {"Sk", "Sk"}, {"Sm", "Sm"},
    {"So", "So"}, {"Z", "Z"}, {"Zl", "Zl"}, {"Zp", "Zp"}, {"Zs", "Zs"}};

/* ECMA-262's binary properties (names and aliases), "Assigned" aside;
 * PCRE2 refuses those it does not know. */
static const char *const BINARY_NAMES[] = {
    "ASCII", "ASCII_Hex_Digit", "AHex", "Alphabetic", "Alpha", "Any",
    "Bidi_Control", "Bidi_C", "Bidi_Mirrored", "Bidi_M", "Case_Ignorable",
    "CI", "Cased", "Changes_When_Casefolded", "CWCF",
    "Changes_When_Casemapped", "CWCM", "Changes_When_Lowercased", "CWL",
    "Changes_When_NFKC_Casefolded", "CWKCF", "Changes_When_Titlecased",
    "CWT", "Changes_When_Uppercased", "CWU", "Dash",
    "Default_Ignorable_Code_Point", "DI", "Deprecated", "Dep", "Diacritic",
    "Dia", "Emoji", "Emoji_Component", "EComp", "Emoji_Modifier", "EMod",
    "Emoji_Modifier_Base", "EBase", "Emoji_Presentation", "EPres",
    "Extended_Pictographic", "ExtPict", "Extender", "Ext", "Grapheme_Base",
    "Gr_Base", "Grapheme_Extend", "Gr_Ext", "Hex_Digit", "Hex",
    "IDS_Binary_Operator", "IDSB", "IDS_Trinary_Operator", "IDST",
    "ID_Continue", "IDC", "ID_Start", "IDS", "Ideographic", "Ideo",
    "Join_Control", "Join_C", "Logical_Order_Exception", "LOE", "Lowercase",
    "Lower", "Math", "Noncharacter_Code_Point", "NChar", "Pattern_Syntax",
    "Pat_Syn", "Pattern_White_Space", "Pat_WS", "Quotation_Mark", "QMark",
    "Radical", "Regional_Indicator", "RI", "Sentence_Terminal", "STerm",
    "Soft_Dotted", "SD", "Terminal_Punctuation", "Term",
    "Unified_Ideograph", "UIdeo", "Uppercase", "Upper", "Variation_Selector",
    "VS", "White_Space", "space", "XID_Continue", "XIDC", "XID_Start",
    "XIDS"};

static int name_is(const char *s, apr_size_t n, const char *name)
{
    return strlen(name) == n && !memcmp(s, name, n);
}

static const char *gc_short(const char *s, apr_size_t n)
{
    apr_size_t k;

    for (k = 0; k < sizeof(GC_NAMES) / sizeof(GC_NAMES[0]); k++) {
        if (name_is(s, n, GC_NAMES[k][0])) {
            return GC_NAMES[k][1];
        }
    }
    return NULL;
}

/* \p{...} / \P{...} at t->i: written in PCRE's spelling. */
static int property_escape(tr_t *t)
{
    apr_size_t at = t->i, k = 3, eq = 0, nlen, vlen;
    int neg = peek(t, 1) == 'P';
    const char *name, *val, *gc;

    if (peek(t, 2) != '{') {
        return refuse(t, at, neg ? "'\\P'" : "'\\p'",
                      "needs a {property} (ECMA-262 with the u flag)");
    }
    for (;; k++) {
        int c = peek(t, k);
        if (c == '}') {
            break;
        }
        if (c == '=' && !eq) {
            eq = k;
        }
        else if (!is_alpha(c) && !is_digit(c) && c != '_') {
            return refuse(t, at, neg ? "'\\P{'" : "'\\p{'",
                          "a property is letters, digits and '_' with at "
                          "most one '=', ending with '}'");
        }
    }
    name = t->src + t->i + 3;
    nlen = (eq ? eq : k) - 3;
    val = eq ? t->src + t->i + eq + 1 : name;
    vlen = eq ? k - eq - 1 : nlen;
    if (nlen == 0 || vlen == 0) {
        return refuse(t, at, "an empty property name", "write \\p{Name}");
    }
    if (!eq && name_is(name, nlen, "Assigned")) {
        emits(t, neg ? "\\p{Cn}" : "\\P{Cn}");
        t->i += k + 1;
        return 1;
    }
    emits(t, neg ? "\\P{" : "\\p{");
    if (!eq || name_is(name, nlen, "General_Category")
        || name_is(name, nlen, "gc")) {
        gc = gc_short(val, vlen);
        if (gc) {
            emits(t, gc);
        }
        else {
            apr_size_t b;
            for (b = 0; !eq && b < sizeof(BINARY_NAMES) / sizeof(char *);
                 b++) {
                if (name_is(name, nlen, BINARY_NAMES[b])) {
                    break;
                }
            }
            if (eq || b == sizeof(BINARY_NAMES) / sizeof(char *)) {
                return refuse(t, at, "a property",
                              eq ? "is not a General_Category value"
                                 : "is neither a General_Category value "
                                   "nor a binary property (a script is "
                                   "\\p{Script=Name})");
            }
            emit(t, name, nlen);
        }
    }
    else if (name_is(name, nlen, "Script") || name_is(name, nlen, "sc")) {
        emits(t, "sc:");
        emit(t, val, vlen);
    }
    else if (name_is(name, nlen, "Script_Extensions")
             || name_is(name, nlen, "scx")) {
        emits(t, "scx:");
        emit(t, val, vlen);
    }
    else {
        return refuse(t, at, "a property", "ECMA-262 knows only "
                      "General_Category, Script and Script_Extensions "
                      "with a value");
    }
    emits(t, "}");
    t->i += k + 1;
    return 1;
}

/* What an escape the u flag does not know is, for the message. */
static const char *pcre_only_escape(int c)
{
    switch (c) {
    case 'A': return "PCRE's start-of-subject anchor, not ECMA-262 (use ^)";
    case 'Z': case 'z':
        return "PCRE's end-of-subject anchor, not ECMA-262 (use $)";
    case 'h': case 'H': return "PCRE's horizontal-space class, not ECMA-262";
    case 'R': return "PCRE's newline-sequence class, not ECMA-262";
    case 'K': return "PCRE's match-start reset, not ECMA-262";
    case 'Q': case 'E': return "PCRE's literal quoting, not ECMA-262";
    case 'G': return "PCRE's previous-match anchor, not ECMA-262";
    case 'X': return "PCRE's grapheme cluster, not ECMA-262";
    case 'C': return "PCRE's single code unit, not ECMA-262";
    case 'N': return "PCRE's not-newline class, not ECMA-262";
    case 'a': case 'e': case 'o': case 'g':
        return "a PCRE escape, not ECMA-262";
    default:
        return "not an ECMA-262 escape (with the u flag only syntax "
               "characters may be escaped)";
    }
}

typedef enum {
    E_REFUSED = 0,
    E_ATOM,        /* one character: a range end in a class */
    E_CLASS,       /* a class escape (\d \s \p{..}): never a range end */
    E_ASSERTION    /* \b \B: not quantifiable */
} esc_e;

/* The escape at t->i (a backslash), inside a class or not. */
static esc_e escape(tr_t *t, int in_class)
{
    apr_size_t at = t->i;
    int c = peek(t, 1);
    long v;
    char what[8];

    if (c < 0) {
        refuse(t, at, "'\\'", "ends the pattern");
        return E_REFUSED;
    }
    switch (c) {
    case 'd': case 'D': case 'w': case 'W':
        emit(t, t->src + t->i, 2);
        t->i += 2;
        return E_CLASS;
    case 's': case 'S':
        if (in_class) {
            /* inside a class, \S is the complement as ranges */
            emits(t, c == 's' ? WS : NOT_WS);
        }
        else {
            emits(t, c == 's' ? "[" : "[^");
            emits(t, WS);
            emits(t, "]");
        }
        t->i += 2;
        return E_CLASS;
    case 'b':
        t->i += 2;
        if (in_class) {
            emit_cp(t, 8);
            return E_ATOM;
        }
        emits(t, "\\b");
        return E_ASSERTION;
    case 'B':
        if (in_class) {
            refuse(t, at, "'\\B'", "is not allowed in a class");
            return E_REFUSED;
        }
        emits(t, "\\B");
        t->i += 2;
        return E_ASSERTION;
    case 'f': case 'n': case 'r': case 't':
        emit(t, t->src + t->i, 2);
        t->i += 2;
        return E_ATOM;
    case 'v':
        emit_cp(t, 0x0b);
        t->i += 2;
        return E_ATOM;
    case '0':
        if (is_digit(peek(t, 2))) {
            refuse(t, at, "'\\0' followed by a digit",
                   "octal escapes are not ECMA-262 (u flag)");
            return E_REFUSED;
        }
        emit_cp(t, 0);
        t->i += 2;
        return E_ATOM;
    case 'c':
        if (!is_alpha(peek(t, 2))) {
            refuse(t, at, "'\\c'", "needs a letter A-Z or a-z");
            return E_REFUSED;
        }
        emit_cp(t, (apr_uint32_t)(peek(t, 2) % 32));
        t->i += 3;
        return E_ATOM;
    case 'x':
        if ((v = hex_n(t, 2, 2)) < 0) {
            refuse(t, at, "'\\x'", "needs 2 hex digits");
            return E_REFUSED;
        }
        emit_cp(t, (apr_uint32_t)v);
        t->i += 4;
        return E_ATOM;
    case 'u':
        if ((v = unicode_escape(t)) < 0) {
            return E_REFUSED;
        }
        emit_cp(t, (apr_uint32_t)v);
        return E_ATOM;
    case 'p': case 'P':
        return property_escape(t) ? E_CLASS : E_REFUSED;
    case 'k':
        if (in_class) {
            break;
        }
        if (peek(t, 2) != '<') {
            refuse(t, at, "'\\k'", "needs a <name>");
            return E_REFUSED;
        }
        {
            const char *gt = memchr(t->src + t->i, '>', t->len - t->i);
            apr_size_t n;
            if (!gt) {
                refuse(t, at, "'\\k<'", "has no closing '>'");
                return E_REFUSED;
            }
            n = (apr_size_t)(gt - (t->src + t->i)) + 1;
            emit(t, t->src + t->i, n);
            t->i += n;
        }
        return E_ATOM;
    case '-':
        if (!in_class) {
            break;
        }
        emits(t, "\\-");
        t->i += 2;
        return E_ATOM;
    case '^': case '$': case '\\': case '.': case '*': case '+': case '?':
    case '(': case ')': case '[': case ']': case '{': case '}': case '|':
        emit(t, t->src + t->i, 2);
        t->i += 2;
        return E_ATOM;
    case '/':
        emits(t, "/");
        t->i += 2;
        return E_ATOM;
    default:
        break;
    }
    if (is_digit(c)) {
        /* a backreference: every digit, as the u flag reads it */
        apr_size_t k = 1;
        unsigned long n = 0;
        char b[32];
        while (is_digit(peek(t, k))) {
            if (n < 100000) {
                n = n * 10 + (unsigned long)(peek(t, k) - '0');
            }
            k++;
        }
        if (in_class) {
            refuse(t, at, "a backreference", "is not allowed in a class");
            return E_REFUSED;
        }
        if (n > t->ngroups) {
            refuse(t, at, "a backreference",
                   "names a group the pattern does not have");
            return E_REFUSED;
        }
        apr_snprintf(b, sizeof(b), "\\g{%lu}", n);
        emits(t, b);
        t->i += k;
        return E_ATOM;
    }
    if (c >= 0x80) {
        refuse(t, at, "'\\' before a non-ASCII character",
               pcre_only_escape(0));
        return E_REFUSED;
    }
    apr_snprintf(what, sizeof(what), "'\\%c'", c);
    refuse(t, at, apr_pstrdup(t->p, what), pcre_only_escape(c));
    return E_REFUSED;
}

/* The class at t->i ('['), up to its ']'. */
static int char_class(tr_t *t)
{
    apr_size_t at = t->i;
    esc_e prev = E_CLASS; /* nothing yet: no range may start */
    int range = 0;        /* a '-' after an atom: the next item ends a range */

    t->i++;
    emits(t, "[");
    if (peek(t, 0) == '^') {
        emits(t, "^");
        t->i++;
    }
    for (;;) {
        int c = peek(t, 0);
        esc_e cur;

        t->tok = t->i;
        if (c < 0) {
            return refuse(t, at, "'['", "has no closing ']'");
        }
        if (c == ']') {
            if (range) {
                emits(t, "-"); /* [a-]: a literal '-' */
            }
            emits(t, "]");
            t->i++;
            return 1;
        }
        if (c == '-' && prev == E_ATOM && !range) {
            /* [a-...]: a range unless the class ends here */
            range = 1;
            t->i++;
            continue;
        }
        if (c == '\\') {
            /* write the '-' of a range before its end */
            if (range) {
                emits(t, "-");
            }
            cur = escape(t, 1);
            if (cur == E_REFUSED) {
                return 0;
            }
        }
        else if (c == '[') {
            int d = peek(t, 1);
            if (d == ':' || d == '.' || d == '=') {
                return refuse(t, t->i, "a POSIX class '[:', '[.' or '[='",
                              "is PCRE's, not ECMA-262");
            }
            if (range) {
                emits(t, "-");
            }
            emits(t, "\\[");
            t->i++;
            cur = E_ATOM;
        }
        else {
            if (range) {
                emits(t, "-");
            }
            if (c == '-') {
                emits(t, "\\-"); /* a literal '-' */
                t->i++;
            }
            else {
                copy_char(t);
            }
            cur = E_ATOM;
        }
        if (range) {
            if (cur != E_ATOM) {
                return refuse(t, t->tok, "a class escape",
                              "cannot end a range in a class");
            }
            range = 0;
            prev = E_CLASS; /* after a range, a '-' is literal */
            continue;
        }
        if (cur == E_CLASS && peek(t, 0) == '-' && peek(t, 1) != ']'
            && peek(t, 1) >= 0) {
            return refuse(t, t->i, "'-' after a class escape",
                          "a class escape cannot start a range");
        }
        prev = cur;
    }
}

/* A {n}, {n,}, {n,m} quantifier at t->i: its length, or 0. */
static apr_size_t brace_quantifier(const tr_t *t)
{
    apr_size_t k = 1;

    if (!is_digit(peek(t, k))) {
        return 0;
    }
    while (is_digit(peek(t, k))) {
        k++;
    }
    if (peek(t, k) == ',') {
        k++;
        while (is_digit(peek(t, k))) {
            k++;
        }
    }
    return peek(t, k) == '}' ? k + 1 : 0;
}

static void push_group(tr_t *t, group_e g)
{
    if (t->depth == t->stack_cap) {
        apr_size_t cap = t->stack_cap ? t->stack_cap * 2 : 16;
        char *s = apr_palloc(t->p, cap);
        if (t->depth) {
            memcpy(s, t->stack, t->depth);
        }
        t->stack = s;
        t->stack_cap = cap;
    }
    t->stack[t->depth++] = (char)g;
}

/* The group opening at t->i ('('). */
static int open_group(tr_t *t)
{
    apr_size_t at = t->i;
    int c = peek(t, 1), d = peek(t, 2), e = peek(t, 3);

    if (c == '*') {
        return refuse(t, at, "'(*'", "PCRE's backtracking verbs and "
                      "start-of-pattern options are not ECMA-262");
    }
    if (c != '?') {
        emits(t, "(");
        t->i++;
        push_group(t, G_PLAIN);
        return 1;
    }
    if (d == ':') {
        emits(t, "(?:");
        t->i += 3;
        push_group(t, G_PLAIN);
        return 1;
    }
    if (d == '=' || d == '!' || (d == '<' && (e == '=' || e == '!'))) {
        apr_size_t n = d == '<' ? 4 : 3;
        emit(t, t->src + t->i, n);
        t->i += n;
        push_group(t, G_LOOKAROUND);
        return 1;
    }
    if (d == '<') {
        /* a named group: the name as it is; PCRE checks its characters */
        const char *gt = memchr(t->src + t->i, '>', t->len - t->i);
        apr_size_t n;
        if (!gt) {
            return refuse(t, at, "'(?<'", "has no closing '>'");
        }
        n = (apr_size_t)(gt - (t->src + t->i)) + 1;
        emit(t, t->src + t->i, n);
        t->i += n;
        push_group(t, G_PLAIN);
        return 1;
    }
    switch (d) {
    case '#':
        return refuse(t, at, "'(?#'", "PCRE's comments are not ECMA-262");
    case '>':
        return refuse(t, at, "'(?>'", "atomic groups are not ECMA-262");
    case '|':
        return refuse(t, at, "'(?|'", "branch reset is not ECMA-262");
    case '(':
        return refuse(t, at, "'(?('", "conditionals are not ECMA-262");
    case 'C':
        return refuse(t, at, "'(?C'", "callouts are not ECMA-262");
    case 'R': case '&': case '+':
        return refuse(t, at, "'(?R)', '(?&name)' or '(?+N)'",
                      "recursion and subroutine calls are not ECMA-262");
    case 'P':
        return refuse(t, at, "'(?P'", "Python-style groups, references "
                      "and calls are not ECMA-262 (use (?<name>...))");
    case '\'':
        return refuse(t, at, "\"(?'\"", "use (?<name>...)");
    default:
        break;
    }
    if (is_digit(d) || (d == '-' && is_digit(e))) {
        return refuse(t, at, "'(?N)'", "recursion and subroutine calls "
                      "are not ECMA-262");
    }
    return refuse(t, at, "'(?'", "inline flags such as (?i) and other "
                  "PCRE group syntax are not ECMA-262");
}

/* Count the capturing groups: ( not followed by ?, and (?<name>. */
static unsigned count_groups(const char *s, apr_size_t len)
{
    apr_size_t i;
    unsigned n = 0;
    int in_class = 0;

    for (i = 0; i < len; i++) {
        if (s[i] == '\\') {
            i++;
        }
        else if (in_class) {
            in_class = s[i] != ']';
        }
        else if (s[i] == '[') {
            in_class = 1;
            if (i + 1 < len && s[i + 1] == '^') {
                i++;
            }
            if (i + 1 < len && s[i + 1] == ']') {
                i++;
                in_class = 0; /* [] and [^]: empty */
            }
        }
        else if (s[i] == '(') {
            if (i + 1 >= len || s[i + 1] != '?') {
                n++;
            }
            else if (i + 3 < len && s[i + 2] == '<' && s[i + 3] != '='
                     && s[i + 3] != '!') {
                n++;
            }
        }
    }
    return n;
}

static int translate(tr_t *t)
{
    int quantifiable = 0;

    while (t->i < t->len) {
        int c = peek(t, 0);
        apr_size_t q;

        t->tok = t->i;
        switch (c) {
        case '\\': {
            esc_e e = escape(t, 0);
            if (e == E_REFUSED) {
                return 0;
            }
            quantifiable = e != E_ASSERTION;
            break;
        }
        case '[':
            if (!char_class(t)) {
                return 0;
            }
            quantifiable = 1;
            break;
        case '(':
            if (!open_group(t)) {
                return 0;
            }
            quantifiable = 0;
            break;
        case ')':
            if (!t->depth) {
                return refuse(t, t->i, "')'", "closes no group");
            }
            quantifiable = t->stack[--t->depth] != G_LOOKAROUND;
            emits(t, ")");
            t->i++;
            break;
        case '|':
        case '^':
        case '$':
            emit(t, t->src + t->i, 1);
            t->i++;
            quantifiable = 0;
            break;
        case '.':
            emits(t, DOT);
            t->i++;
            quantifiable = 1;
            break;
        case '*':
        case '+':
        case '?':
        case '{':
            q = c == '{' ? brace_quantifier(t) : 1;
            if (!q) {
                return refuse(t, t->i, "a lone '{'",
                              "is an error with the u flag (write \\{)");
            }
            if (!quantifiable) {
                return refuse(t, t->i, "a quantifier",
                              "follows nothing that can be repeated");
            }
            emit(t, t->src + t->i, q);
            t->i += q;
            if (peek(t, 0) == '?') {
                emits(t, "?");
                t->i++;
            }
            if (peek(t, 0) == '+') {
                return refuse(t, t->i, "a possessive quantifier",
                              "is PCRE's, not ECMA-262");
            }
            quantifiable = 0;
            break;
        case '}':
        case ']':
            return refuse(t, t->i, c == '}' ? "a lone '}'" : "a lone ']'",
                          "is an error with the u flag (escape it)");
        default:
            copy_char(t);
            quantifiable = 1;
            break;
        }
    }
    if (t->depth) {
        return refuse(t, t->len, "the end of the pattern",
                      "a group is not closed");
    }
    return 1;
}

/* ---- compile ---------------------------------------------------------------- */

static apr_status_t re_free(void *data)
{
    gk_ecma_re_t *re = data;

    pcre2_code_free(re->code);
    re->code = NULL;
    return APR_SUCCESS;
}

const char *gk_ecma_re_compile(apr_pool_t *p, const char *pattern,
                               apr_size_t len, gk_ecma_re_t **out)
{
    apr_pool_t *tmp;
    pcre2_compile_context *cc;
    pcre2_code *code;
    gk_ecma_re_t *re;
    const char *err = NULL;
    int ec;
    PCRE2_SIZE eoff;
    uint32_t jit = 0, opts = 0;
    tr_t t;

    if (apr_pool_create(&tmp, p) != APR_SUCCESS) {
        return "out of memory";
    }
    memset(&t, 0, sizeof(t));
    t.p = tmp;
    t.src = pattern ? pattern : "";
    t.len = pattern ? len : 0;
    t.ngroups = count_groups(t.src, t.len);
    t.cap = 64 + 2 * t.len;
    t.out = apr_palloc(tmp, t.cap);
    t.map = apr_palloc(tmp, t.cap * sizeof(*t.map));
    if (!translate(&t)) {
        err = apr_pstrdup(p, t.err);
        apr_pool_destroy(tmp);
        return err;
    }
    if (!(cc = pcre2_compile_context_create(NULL))) {
        apr_pool_destroy(tmp);
        return "out of memory";
    }
    pcre2_set_compile_extra_options(cc, PCRE2_EXTRA_ALT_BSUX);
    code = pcre2_compile((PCRE2_SPTR)t.out, t.n,
                         PCRE2_UTF | PCRE2_DOLLAR_ENDONLY
                             | PCRE2_ALLOW_EMPTY_CLASS | PCRE2_ALT_BSUX
                             | PCRE2_MATCH_UNSET_BACKREF | PCRE2_NEVER_UCP
                             | PCRE2_NEVER_BACKSLASH_C,
                         &ec, &eoff, cc);
    pcre2_compile_context_free(cc);
    if (!code) {
        PCRE2_UCHAR msg[256];
        /* PCRE2's offset is just past what it refuses: the token of the
         * code unit before it */
        apr_size_t at = !eoff || !t.n ? 0 : t.map[(eoff < t.n ? eoff : t.n) - 1];
        if (ec >= PCRE2_ERROR_UTF8_ERR21 && ec <= PCRE2_ERROR_UTF8_ERR1) {
            /* not UTF-8: the offset is of the bad byte itself */
            at = eoff < t.n ? t.map[eoff] : t.len;
        }
        if (pcre2_get_error_message(ec, msg, sizeof(msg)) < 0) {
            apr_cpystrn((char *)msg, "unknown error", sizeof(msg));
        }
        err = apr_psprintf(p, "the pattern at character %" APR_SIZE_T_FMT
                           ": %s", char_offset(t.src, at), (char *)msg);
        apr_pool_destroy(tmp);
        return err;
    }
    apr_pool_destroy(tmp);
    if (pcre2_config(PCRE2_CONFIG_JIT, &jit) >= 0 && jit) {
        /* without the JIT (out of executable memory...) the interpreter
         * matches the same */
        (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    }
    re = apr_palloc(p, sizeof(*re));
    re->code = code;
    re->anchored = pcre2_pattern_info(code, PCRE2_INFO_ALLOPTIONS, &opts) == 0
                   && (opts & PCRE2_ANCHORED);
    apr_pool_cleanup_register(p, re, re_free, apr_pool_cleanup_null);
    *out = re;
    return NULL;
}

/* ---- match ------------------------------------------------------------------ */

typedef struct {
    pcre2_match_data *md;
    pcre2_match_context *mc;
    pcre2_jit_stack *js;
} matcher_t;

/* The key of each thread's matcher; key_state: 0 not made yet, 1 made,
 * -1 none (the process has no key left: every match then fails). */
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t key;
static int key_state;

static void matcher_destroy(void *data)
{
    matcher_t *m = data;

    if (m) {
        pcre2_match_data_free(m->md);
        pcre2_match_context_free(m->mc);
        pcre2_jit_stack_free(m->js);
        free(m);
    }
}

static void make_key(void)
{
    key_state = pthread_key_create(&key, matcher_destroy) ? -1 : 1;
}

/* This thread's matcher, made on its first match (freed when the thread
 * exits); NULL when out of memory. */
static matcher_t *thread_matcher(void)
{
    matcher_t *m;

    pthread_once(&key_once, make_key);
    if (key_state != 1) {
        return NULL;
    }
    if ((m = pthread_getspecific(key))) {
        return m;
    }
    if (!(m = calloc(1, sizeof(*m)))
        || !(m->mc = pcre2_match_context_create(NULL))
        || !(m->md = pcre2_match_data_create(1, NULL))
        || pthread_setspecific(key, m)) {
        matcher_destroy(m);
        return NULL;
    }
    pcre2_set_match_limit(m->mc, GK_ECMA_RE_MATCH_LIMIT);
    pcre2_set_depth_limit(m->mc, RE_DEPTH_LIMIT);
    pcre2_set_heap_limit(m->mc, RE_HEAP_LIMIT);
    /* without a JIT stack of its own the JIT uses 32 KiB of the thread's
     * stack */
    if ((m->js = pcre2_jit_stack_create(RE_JIT_STACK_MIN, RE_JIT_STACK_MAX,
                                        NULL))) {
        pcre2_jit_stack_assign(m->mc, NULL, m->js);
    }
    return m;
}

static int re_match(const gk_ecma_re_t *re, const char *subject,
                    apr_size_t len, uint32_t options)
{
    matcher_t *m = thread_matcher();
    apr_size_t limit = GK_ECMA_RE_MATCH_LIMIT;
    int rc;

    if (!m) {
        return -1;
    }
    if (!re->anchored && len + 1 > RE_SEARCH_BUDGET / limit) {
        limit = RE_SEARCH_BUDGET / (len + 1);
        limit = limit < RE_POSITION_FLOOR ? RE_POSITION_FLOOR : limit;
    }
    pcre2_set_match_limit(m->mc, (uint32_t)limit);
    rc = pcre2_match(re->code, (PCRE2_SPTR)(subject ? subject : ""),
                     subject ? len : 0, 0, options, m->md, m->mc);
    if (rc >= 0) {
        return 1; /* 0: a match, the vector too small for its groups */
    }
    return rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

int gk_ecma_re_match(const gk_ecma_re_t *re, const char *subject,
                     apr_size_t len)
{
    return re_match(re, subject, len, 0);
}

int gk_ecma_re_match_utf8(const gk_ecma_re_t *re, const char *subject,
                          apr_size_t len)
{
    /* PCRE2 would otherwise check the whole subject's UTF-8 at every
     * call: most of the cost of a pattern over a long string */
    return re_match(re, subject, len, PCRE2_NO_UTF_CHECK);
}
