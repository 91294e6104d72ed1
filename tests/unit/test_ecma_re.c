/*
 * ECMA-262 patterns on PCRE2 (common/gk_ecma_re.c): ECMA's meaning where
 * PCRE2's differs, the refused PCRE-only constructs with their offsets,
 * the match limit, UTF-8 and NUL in subjects, threads.
 */
#include <pthread.h>

#include <jansson.h>

#include "gk_test_core.h"
#include "gk_ecma_re.h"

/* The JSON-Schema-Test-Suite's ECMA-262 file (Debian's
 * json-schema-test-suite); GK_ECMA_SUITE_FILE=PATH reads another copy,
 * such as a newer checkout's tests/draft7/optional/ecmascript-regex.json. */
#define SUITE_FILE "/usr/share/json-schema-test-suite/tests/draft7/" \
                   "optional/ecmascript-regex.json"

static gk_ecma_re_t *re_ok(const char *pat)
{
    gk_ecma_re_t *re = NULL;
    const char *err = gk_ecma_re_compile(tp, pat, strlen(pat), &re);
    ck_assert_msg(err == NULL, "/%s/ refused: %s", pat, err);
    ck_assert_ptr_nonnull(re);
    return re;
}

/* Does pat (a search) match s? */
static int m(const char *pat, const char *s)
{
    return gk_ecma_re_match(re_ok(pat), s, strlen(s));
}

#define YES(pat, s) ck_assert_msg(m(pat, s) == 1, "/%s/ on \"%s\"", pat, s)
#define NO(pat, s) ck_assert_msg(m(pat, s) == 0, "/%s/ on \"%s\"", pat, s)

/* The pattern is refused with a message holding want. */
static void refused(const char *pat, apr_size_t len, const char *want)
{
    gk_ecma_re_t *re = (gk_ecma_re_t *)(void *)&re; /* must stay untouched */
    gk_ecma_re_t *before = re;
    const char *err = gk_ecma_re_compile(tp, pat, len, &re);
    ck_assert_msg(err != NULL, "/%s/ accepted, expected \"%s\"", pat, want);
    ck_assert_msg(strstr(err, want) != NULL, "/%s/: \"%s\", expected \"%s\"",
                  pat, err, want);
    ck_assert_ptr_eq(re, before);
}

#define REFUSED(pat, want) refused(pat, strlen(pat), want)

START_TEST(anchors)
{
    YES("^[a-z0-9]+$", "abc123");
    NO("^[a-z0-9]+$", "abc\n");   /* DOLLAR_ENDONLY */
    NO("^[a-z0-9]+$", "\nabc");
    NO("^abc$", "abc\n");
    NO("abc$", "abc\ndef");       /* no multiline */
    NO("^def", "abc\ndef");
    YES("b", "abc");              /* a search, not anchored */
    YES("", "");
    YES("", "x");
    YES("^$", "");
    NO("^$", "\n");
}
END_TEST

START_TEST(ascii_classes)
{
    static const char *const uni_digits[] = {
        "\xd9\xa3",         /* U+0663 ARABIC-INDIC THREE */
        "\xe0\xa7\xaa",     /* U+09EA BENGALI FOUR */
        "\xef\xbc\x91"};    /* U+FF11 FULLWIDTH ONE */
    size_t i;

    YES("^\\d+$", "0123456789");
    for (i = 0; i < sizeof(uni_digits) / sizeof(uni_digits[0]); i++) {
        NO("\\d", uni_digits[i]);
        YES("^\\D$", uni_digits[i]);
    }
    YES("^\\w+$", "azAZ09_");
    NO("\\w", "\xc3\xa9");            /* é */
    NO("\\wcole", "\xc3\xa9" "cole");
    YES("^\\W$", "\xc3\xa9");
    YES("\\bcole", "\xc3\xa9" "cole"); /* é is not a word character */
    NO("\\Bcole", "\xc3\xa9" "cole");
    YES("^[\\w]+$", "a_1");
    NO("[\\w]", "\xc3\xa9");
    YES("^[^\\d]$", "\xd9\xa3");
}
END_TEST

START_TEST(whitespace)
{
    static const char *const ws[] = {
        "\t", "\n", "\x0b", "\x0c", "\r", " ", "\xc2\xa0", "\xe1\x9a\x80",
        "\xe2\x80\x80", "\xe2\x80\x8a", "\xe2\x80\xa8", "\xe2\x80\xa9",
        "\xe2\x80\xaf", "\xe2\x81\x9f", "\xe3\x80\x80", "\xef\xbb\xbf"};
    static const char *const not_ws[] = {
        "a", "\x01", "\x1f", "\xc2\x85", /* U+0085 NEL: not ECMA space */
        "\xe2\x80\x8b",                  /* U+200B ZWSP */
        "\xe1\xa0\x8e",                  /* U+180E: not since Unicode 6.3 */
        "\xef\xbb\xbe", "\xf0\x9f\x98\x80", "-", "\xe3\x80\x81"};
    /* each pattern, and whether it matches a white-space character */
    static const struct {
        const char *pat;
        int on_ws;
    } cls[] = {{"^\\s$", 1},    {"^\\S$", 0},    {"^[\\s]$", 1},
               {"^[\\S]$", 0},  {"^[^\\s]$", 0}, {"^[^\\S]$", 1},
               {"^[+\\s]$", 1}, {"^[\\S-]$", 0}};
    size_t i, k;

    for (k = 0; k < sizeof(cls) / sizeof(cls[0]); k++) {
        for (i = 0; i < sizeof(ws) / sizeof(ws[0]); i++) {
            ck_assert_msg(m(cls[k].pat, ws[i]) == cls[k].on_ws,
                          "/%s/ on white space %zu", cls[k].pat, i);
        }
        for (i = 0; i < sizeof(not_ws) / sizeof(not_ws[0]); i++) {
            ck_assert_msg(m(cls[k].pat, not_ws[i]) == !cls[k].on_ws,
                          "/%s/ on %zu", cls[k].pat, i);
        }
    }
    NO("^[a\\S]$", "\xc2\xa0");
    YES("^[a\\S]$", "a");
    /* the ECMA-262 JSON Schema suite's: \S+ on a string of spaces */
    YES("^\\S(|(.|\\n)*\\S)$", "x y");
    NO("^\\S+$", "\xc2\xa0\xc2\xa0");
}
END_TEST

START_TEST(dot)
{
    YES("^.$", "a");
    YES("^.$", "\xc3\xa9");           /* one code point, not a byte */
    YES("^.$", "\xf0\x9f\x98\x80");   /* U+1F600 */
    NO("^..$", "\xc3\xa9");
    NO(".", "\n");
    NO(".", "\r");
    NO(".", "\xe2\x80\xa8");          /* U+2028 */
    NO(".", "\xe2\x80\xa9");          /* U+2029 */
    YES("^.$", "\xc2\x85");           /* U+0085: not an ECMA line end */
    YES("^.$", "\x0b");
    YES("^[.]$", ".");
    NO("^[.]$", "a");
    YES("^[^]$", "\n");               /* [^]: any code point */
    NO("[]", "a");                    /* []: nothing */
    NO("[]", "");
}
END_TEST

START_TEST(escapes)
{
    YES("^\\x41\\u0042\\u{43}\\u{0000044}$", "ABCD");
    YES("^\\uD83D\\uDE00$", "\xf0\x9f\x98\x80"); /* a surrogate pair */
    YES("^\\u{1F600}$", "\xf0\x9f\x98\x80");
    YES("^\\v$", "\x0b");
    NO("\\v", "\n");                  /* PCRE's \v would match */
    NO("\\v", "\xe2\x80\xa8");
    YES("^\\t\\n\\r\\f$", "\t\n\r\f");
    YES("^\\cJ\\cj$", "\n\n");
    YES("^[\\b]$", "\b");
    YES("^\\/\\.\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\^\\$\\\\$", "/.*+?()[]{}|^$\\");
    YES("^[\\-a]+$", "-a-");
    YES("^[a-]+$", "-a");
    YES("^[-a]+$", "-a");
    YES("^[a-c-e]+$", "abc-e");
    NO("^[a-c-e]+$", "d");
    YES("^[\\d-]+$", "1-2");
    YES("^[[]$", "[");
    YES("^[a[]+$", "[a");
    YES("^[{}()|]+$", "{}()|");
    YES("^a{2}$", "aa");
    YES("^a{2,}$", "aaaa");
    YES("^a{1,2}?$", "aa");
    NO("^a{2}$", "a");
    YES("^\\p{L}+$", "\xc3\xa9" "a");
    YES("^\\p{Letter}+$", "\xc3\xa9" "a");
    YES("^\\p{General_Category=Lu}$", "\xc3\x89");
    NO("^\\p{gc=Lu}$", "\xc3\xa9");
    YES("^\\p{Script=Greek}$", "\xce\xb1");
    YES("^\\p{sc=Greek}$", "\xce\xb1");
    NO("^\\P{Script=Greek}$", "\xce\xb1");
    YES("^[\\p{Nd}]+$", "1\xd9\xa3");
    YES("^\\p{Letter}cole", "\xc3\xa9" "cole");
    YES("^\\p{Assigned}$", "a");
    NO("^\\P{Assigned}$", "a");
    YES("^\\p{White_Space}$", "\xc2\xa0");
    YES("^\\p{Script_Extensions=Latin}$", "a");
    YES("^\\p{ASCII}+$", "az");
}
END_TEST

START_TEST(groups)
{
    YES("^(a)\\1$", "aa");
    NO("^(a)\\1$", "ab");
    YES("^(?<x>a)\\k<x>$", "aa");
    YES("^\\1(a)$", "a");             /* forward: matches empty (ECMA) */
    YES("^(a)|\\1b$", "b");           /* unset: matches empty (ECMA) */
    YES("^(?:ab)+$", "abab");
    YES("a(?=b)", "ab");
    NO("a(?!b)", "ab");
    YES("(?<=a)b", "ab");
    NO("(?<!a)b", "ab");
    YES("^(a|b)*$", "abba");
    YES("^[\\(]$", "(");
    YES("^(?:[)]|x)$", ")");          /* ')' in a class */
    YES("^(((((((((((a)))))))))))\\11$", "aa"); /* group 11 exists */
    /* a documented difference: PCRE2 keeps the capture of an earlier
     * iteration, ECMA-262 clears it (ECMA: "ab" matches) */
    NO("^(?:(a)|b)+\\1$", "ab");
    YES("^(?:(a)|b)+\\1$", "aba");
}
END_TEST

START_TEST(refusals)
{
    static const struct {
        const char *pat, *want;
    } v[] = {
        {"[[:alpha:]]", "POSIX class '[:', '[.' or '[=' at character 1"},
        {"^a[[.a.]]", "at character 3"},
        {"[[=a=]]", "POSIX"},
        {"\\Aabc", "'\\A' at character 0"},
        {"abc\\Z", "'\\Z' at character 3"},
        {"abc\\z", "'\\z' at character 3"},
        {"a\\hb", "'\\h' at character 1"},
        {"a\\Hb", "'\\H' at character 1"},
        {"a\\R", "'\\R' at character 1"},
        {"ab\\Kc", "'\\K' at character 2"},
        {"\\Q.*\\E", "'\\Q' at character 0"},
        {"\\G", "'\\G'"},
        {"\\X", "'\\X'"},
        {"\\C", "'\\C'"},
        {"\\N", "'\\N'"},
        {"\\a\\e", "'\\a'"},
        {"\\g1", "'\\g'"},
        {"\\o{12}", "'\\o'"},
        {"\\y", "'\\y' at character 0"},
        {"\\-", "'\\-'"},
        {"[\\k]", "'\\k'"},
        {"\xc3\xa9\xc3\xa9(?i)abc", "inline flags such as (?i) and other "
                                    "PCRE group syntax are not ECMA-262"},
        {"(?i)abc", "at character 0"},
        {"a(?s:.)", "inline flags"},
        {"(?-i)a", "inline flags"},
        {"a++", "possessive quantifier at character 2"},
        {"a*+", "possessive"},
        {"a?+", "possessive"},
        {"a{1,2}+", "possessive quantifier at character 6"},
        {"(?>a+)b", "'(?>' at character 0"},
        {"(a)(?R)", "recursion"},
        {"(a)(?1)", "recursion"},
        {"(a)(?-1)", "recursion"},
        {"(a)(?+1)(b)", "recursion"},
        {"(?<n>a)(?&n)", "recursion"},
        {"(?P<n>a)", "'(?P' at character 0"},
        {"(?P>n)", "(?P"},
        {"(?'n'a)", "(?'"},
        {"(?(1)a|b)", "conditionals"},
        {"(?C1)a", "callouts"},
        {"(?#comment)a", "comments"},
        {"(?|(a)|(b))", "branch reset"},
        {"(*FAIL)", "'(*' at character 0"},
        {"(*UCP)\\d", "'(*'"},
        {"a(*SKIP)b", "at character 1"},
        {"\\p", "'\\p' at character 0"},
        {"\\P{", "'\\P{'"},
        {"\\p{}", "empty property"},
        {"\\p{Foo=Bar}", "General_Category, Script"},
        {"\\p{NoSuchProperty}", "neither a General_Category"},
        {"\\p{Greek}", "\\p{Script=Name}"},
        {"\\p{lu}", "neither"},
        {"\\p{gc=Greek}", "not a General_Category value"},
        {"a\\p{Script=NoSuchScript}", "the pattern at character 1"},
        {"a{", "lone '{' at character 1"},
        {"a{1", "lone '{'"},
        {"a{,5}", "lone '{'"},
        {"a}", "lone '}' at character 1"},
        {"a]", "lone ']' at character 1"},
        {"*a", "quantifier at character 0"},
        {"a**", "quantifier at character 2"},
        {"^*", "quantifier"},
        {"(?=a)*", "quantifier at character 5"},
        {"(?<=a)+b", "quantifier"},
        {"\\b+", "quantifier"},
        {"a|*", "quantifier"},
        {"(a", "a group is not closed"},
        {"a)", "')' at character 1"},
        {"[a", "'[' at character 0"},
        {"\\", "ends the pattern"},
        {"(a)\\2", "backreference at character 3"},
        {"(a)\\10", "backreference"}, /* PCRE would read octal \10 */
        {"[\\1]", "backreference"},
        {"\\01", "'\\0' followed by a digit"},
        {"\\x4", "'\\x' at character 0"},
        {"\\xZZ", "'\\x'"},
        {"\\u12", "'\\u' at character 0"},
        {"\\u{110000}", "'\\u{'"},
        {"\\u{}", "'\\u{'"},
        {"\\uD800", "surrogate"},
        {"\\uDC00\\uD800", "surrogate"},
        {"\\c1", "'\\c'"},
        {"[\\d-z]", "'-' after a class escape"},
        {"[a-\\d]", "class escape at character 3"},
        {"[a-\\s]", "cannot end a range"},
        {"[\\B]", "'\\B'"},
        {"[z-a]", "the pattern at character"},
        {"a{2,1}", "the pattern at character"},
        {"(?<=a+)b", "the pattern at character 0"}, /* PCRE: not fixed */
        {"\\k", "'\\k'"},
        {"\\k<a", "'\\k<'"},
        {"(?<a", "'(?<'"},
        {"\xc3\xa9\\\xc3\xa9", "non-ASCII character at character 1"},
        {"\\d\xc3\xa9\\Z", "'\\Z' at character 3"}};
    size_t i;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        REFUSED(v[i].pat, v[i].want);
    }
    /* not UTF-8: PCRE2's own message, with the character offset */
    refused("ab\xff", 3, "the pattern at character 2");
    refused("ab\xc3", 3, "the pattern at character 2");
    refused("a\0\\Z", 4, "'\\Z' at character 2");
}
END_TEST

START_TEST(limits)
{
    gk_ecma_re_t *re = re_ok("(a+)+$");
    gk_ecma_re_t *re2 = re_ok("^(\\w+\\s?)*$");
    gk_ecma_re_t *re3 = re_ok("^(a|a)*$");
    char s[4096];

    memset(s, 'a', sizeof(s) - 2);
    s[sizeof(s) - 2] = 'b';
    s[sizeof(s) - 1] = 0;
    ck_assert_int_eq(gk_ecma_re_match(re, s + sizeof(s) - 41, 40), -1);
    ck_assert_int_eq(gk_ecma_re_match(re, s, sizeof(s) - 1), -1);
    memset(s, 'a', 60);
    s[60] = '!';
    ck_assert_int_eq(gk_ecma_re_match(re2, s, 61), -1);
    ck_assert_int_eq(gk_ecma_re_match(re3, s, 61), -1);
    /* a search that is not anchored: the limit holds for all the start
     * positions together (each position costs up to 300 * 300 here) */
    {
        gk_ecma_re_t *wide = re_ok("[ab]{0,300}[ab]{0,300}$");
        memset(s, 'a', sizeof(s));
        s[49] = 'x';
        ck_assert_int_eq(gk_ecma_re_match(wide, s, 50), 1);
        s[sizeof(s) - 1] = 'x';
        ck_assert_int_eq(gk_ecma_re_match(wide, s, sizeof(s)), -1);
    }
    /* an honest long subject stays within the limit */
    memset(s, 'a', sizeof(s) - 1);
    ck_assert_int_eq(gk_ecma_re_match(re, s, sizeof(s) - 1), 1);
    ck_assert_int_eq(gk_ecma_re_match(re_ok("^[a-z]+$"), s, sizeof(s) - 1),
                     1);
    ck_assert_int_eq(gk_ecma_re_match(re_ok("^(a|b)*$"), s, sizeof(s) - 1),
                     1);
    ck_assert_int_eq(gk_ecma_re_match(re_ok("^.*$"), s, sizeof(s) - 1), 1);
    /* a deep pattern: PCRE's own nesting limit, at compile time */
    {
        char deep[1200];
        memset(deep, '(', 600);
        memset(deep + 600, ')', 600);
        refused(deep, sizeof(deep), "the pattern at character");
    }
}
END_TEST

START_TEST(subjects)
{
    gk_ecma_re_t *re = re_ok("^a\\0b$");
    gk_ecma_re_t *any = re_ok("^[^]*$");

    ck_assert_int_eq(gk_ecma_re_match(re, "a\0b", 3), 1);
    {
        /* a NUL in the pattern is a literal NUL */
        gk_ecma_re_t *lit = NULL;
        tk_assert_ok(gk_ecma_re_compile(tp, "^a\0b$", 5, &lit));
        ck_assert_int_eq(gk_ecma_re_match(lit, "a\0b", 3), 1);
        ck_assert_int_eq(gk_ecma_re_match(lit, "ab", 2), 0);
    }
    ck_assert_int_eq(gk_ecma_re_match(re, "a\0b", 2), 0);
    ck_assert_int_eq(gk_ecma_re_match(any, "x\0y\n", 4), 1);
    ck_assert_int_eq(gk_ecma_re_match(any, NULL, 0), 1);
    ck_assert_int_eq(gk_ecma_re_match(re_ok("^$"), NULL, 0), 1);
    /* the length is honoured */
    ck_assert_int_eq(gk_ecma_re_match(re_ok("^abc$"), "abcdef", 3), 1);
    /* not UTF-8: an error of the matcher (callers fail closed) */
    ck_assert_int_eq(gk_ecma_re_match(any, "a\xff", 2), -1);
    ck_assert_int_eq(gk_ecma_re_match(any, "\xc3", 1), -1);
    ck_assert_int_eq(gk_ecma_re_match(any, "\xed\xa0\x80", 3), -1);
    /* code points, not bytes */
    YES("^\xc3\xa9{2}$", "\xc3\xa9\xc3\xa9");
    YES("^[\xc3\xa9-\xc3\xab]$", "\xc3\xaa");
    NO("^[^\xc3\xa9]$", "\xc3\xa9");
    YES("^[^\xc3\xa9]$", "\xc3\xa8");
    YES("^\\u{1F600}+$", "\xf0\x9f\x98\x80\xf0\x9f\x98\x80");
}
END_TEST

/* The seed's patterns (issue 15). */
START_TEST(seed)
{
    YES("^[a-zA-Z0-9]+$", "alice42");
    NO("^[a-zA-Z0-9]+$", "alice_42");
    NO("^[a-zA-Z0-9]+$", "alice\n");
    NO("^[a-zA-Z0-9]+$", "");
    YES("[A-Z]", "passwordA123");
    NO("[A-Z]", "password123");
    YES("\\d", "passwordA1");
    NO("\\d", "passwordA\xd9\xa3");
    YES("^(?=.*[A-Z])(?=.*\\d).{12,}$", "CorrectHorse1");
    NO("^(?=.*[A-Z])(?=.*\\d).{12,}$", "CorrectHorse");
    NO("^(?=.*[A-Z])(?=.*\\d).{12,}$", "Short1");
}
END_TEST

/* Many threads share one expression; each keeps its own match data. */
typedef struct {
    const gk_ecma_re_t *re, *bomb;
    int bad;
} thr_arg_t;

static void *thr_main(void *data)
{
    thr_arg_t *a = data;
    char s[64];
    int i;

    memset(s, 'a', sizeof(s));
    s[sizeof(s) - 1] = 'b';
    for (i = 0; i < 200; i++) {
        if (gk_ecma_re_match(a->re, "abc123", 6) != 1
            || gk_ecma_re_match(a->re, "abc\n", 4) != 0
            || (i % 50 == 0
                && gk_ecma_re_match(a->bomb, s, sizeof(s)) != -1)) {
            a->bad++;
        }
    }
    return NULL;
}

START_TEST(threads)
{
    pthread_t th[8];
    thr_arg_t a[8];
    gk_ecma_re_t *re = re_ok("^[a-z0-9]+$");
    gk_ecma_re_t *bomb = re_ok("(a+)+$");
    int i;

    for (i = 0; i < 8; i++) {
        a[i].re = re;
        a[i].bomb = bomb;
        a[i].bad = 0;
        ck_assert_int_eq(pthread_create(&th[i], NULL, thr_main, &a[i]), 0);
    }
    for (i = 0; i < 8; i++) {
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
        ck_assert_int_eq(a[i].bad, 0);
    }
}
END_TEST

/* One test of the suite's file: "pattern" on a string, "patternProperties"
 * (one pattern to true, additionalProperties false) on an object's names,
 * or "format":
 * "regex" (is the string a pattern we compile?). -1: not applicable. */
static int suite_case(json_t *schema, json_t *data)
{
    json_t *pat = json_object_get(schema, "pattern");
    json_t *pp = json_object_get(schema, "patternProperties");
    const char *fmt = json_string_value(json_object_get(schema, "format"));
    gk_ecma_re_t *re = NULL;
    const char *src = NULL, *k;
    json_t *v;
    int ok = 1;

    if (fmt && !strcmp(fmt, "regex")) {
        if (!json_is_string(data)) {
            return -1;
        }
        return gk_ecma_re_compile(tp, json_string_value(data),
                                  json_string_length(data), &re) == NULL;
    }
    if (pat) {
        src = json_string_value(pat);
    }
    else if (json_object_size(pp) == 1
             && json_is_false(json_object_get(schema,
                                              "additionalProperties"))) {
        json_object_foreach(pp, k, v) {
            src = json_is_true(v) ? k : NULL;
        }
    }
    if (!src || (pat ? !json_is_string(data) : !json_is_object(data))) {
        return -1;
    }
    tk_assert_ok(gk_ecma_re_compile(tp, src, strlen(src), &re));
    if (pat) {
        return gk_ecma_re_match(re, json_string_value(data),
                                json_string_length(data)) == 1;
    }
    json_object_foreach(data, k, v) {
        ok = ok && gk_ecma_re_match(re, k, strlen(k)) == 1;
    }
    return ok;
}

START_TEST(test_suite)
{
    const char *path = getenv("GK_ECMA_SUITE_FILE");
    json_error_t je;
    json_t *doc, *g, *t;
    size_t gi, ti;
    int n = 0, bad = 0;

    path = path && *path ? path : SUITE_FILE;
    doc = json_load_file(path, JSON_ALLOW_NUL, &je);
    ck_assert_msg(doc != NULL, "%s: %s (install json-schema-test-suite)",
                  path, je.text);
    json_array_foreach(doc, gi, g) {
        json_array_foreach(json_object_get(g, "tests"), ti, t) {
            int want = json_is_true(json_object_get(t, "valid"));
            int got = suite_case(json_object_get(g, "schema"),
                                 json_object_get(t, "data"));
            if (got < 0) {
                continue;
            }
            n++;
            if (got != want) {
                fprintf(stderr, "%s: %s: expected %s\n", path,
                        json_string_value(json_object_get(t, "description")),
                        want ? "valid" : "invalid");
                bad++;
            }
        }
    }
    json_decref(doc);
    fprintf(stderr, "ecma_re: %d of %d suite cases pass\n", n - bad, n);
    ck_assert_int_gt(n, 0);
    ck_assert_int_eq(bad, 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("ecma_re");
    TCase *tc = tk_tcase("ecma_re");

    tcase_add_test(tc, anchors);
    tcase_add_test(tc, ascii_classes);
    tcase_add_test(tc, whitespace);
    tcase_add_test(tc, dot);
    tcase_add_test(tc, escapes);
    tcase_add_test(tc, groups);
    tcase_add_test(tc, refusals);
    tcase_add_test(tc, limits);
    tcase_add_test(tc, subjects);
    tcase_add_test(tc, seed);
    tcase_add_test(tc, threads);
    tcase_add_test(tc, test_suite);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(suite)
