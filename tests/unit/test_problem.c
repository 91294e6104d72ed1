/* Problem details (gk_problem) and the log sink (gk_log). */
#include <jansson.h>

#include "gk_log.h"
#include "gk_json_out.h"
#include "gk_problem.h"
#include "gk_test_core.h"

static json_t *parse_body(const char *body, apr_size_t len)
{
    json_error_t e;
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &e);
    ck_assert_msg(j != NULL, "not JSON: %s (%s)", body, e.text);
    return j;
}

START_TEST(problem_exact)
{
    apr_size_t len = 0;
    const char *b = gk_problem_json(tp, 403, "Forbidden",
                                    "Requires one of: admin, superadmin",
                                    &len);
    ck_assert_str_eq(b, "{\"type\":\"about:blank\",\"title\":\"Forbidden\","
                        "\"status\":403,\"detail\":\"Requires one of: admin, "
                        "superadmin\"}\n");
    ck_assert_uint_eq(len, strlen(b));
    ck_assert_str_eq(GK_PROBLEM_CONTENT_TYPE, "application/problem+json");
}
END_TEST

START_TEST(problem_optional_members)
{
    apr_size_t len;
    ck_assert_str_eq(gk_problem_json(tp, 401, "Unauthorized", NULL, &len),
                     "{\"type\":\"about:blank\",\"title\":\"Unauthorized\","
                     "\"status\":401}\n");
    ck_assert_str_eq(gk_problem_json(tp, 400, NULL, NULL, &len),
                     "{\"type\":\"about:blank\",\"status\":400}\n");
    ck_assert_uint_eq(len, strlen("{\"type\":\"about:blank\",\"status\":400}\n"));
}
END_TEST

START_TEST(problem_escaping)
{
    static const char *const details[] = {
        "quote \" backslash \\ slash /", "line\nbreak\r\ttab",
        "ctl \x01\x1f del \x7f", "</script><script>alert(1)</script>",
        "unicode \xc3\xa9\xe2\x82\xac\xf0\x9f\x94\x91", "",
    };
    size_t i;
    for (i = 0; i < sizeof(details) / sizeof(details[0]); i++) {
        apr_size_t len;
        const char *b = gk_problem_json(tp, 401, "Unauthorized", details[i],
                                        &len);
        json_t *j = parse_body(b, len);
        ck_assert_str_eq(json_string_value(json_object_get(j, "detail")),
                         details[i]);
        ck_assert_int_eq(json_integer_value(json_object_get(j, "status")),
                         401);
        /* one line: the only raw newline is the final one */
        ck_assert_ptr_eq(strchr(b, '\n'), b + len - 1);
        json_decref(j);
    }
}
END_TEST

START_TEST(problem_invalid_utf8)
{
    /* not UTF-8: the body stays valid JSON, each bad byte U+FFFD */
    apr_size_t len;
    const char *b = gk_problem_json(tp, 401, "Unauthorized", "bad \xff\xfe",
                                    &len);
    json_t *j = parse_body(b, len);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "status")), 401);
    ck_assert_str_eq(json_string_value(json_object_get(j, "detail")),
                     "bad \xef\xbf\xbd\xef\xbf\xbd");
    json_decref(j);
}
END_TEST

/* ---- the correlation ID ------------------------------------------------- */

START_TEST(problem_correlation_uuid)
{
    static const char id[] = "017f22e2-79b0-7cc3-98c4-dc0c0c07398f";
    gk_problem_t pb = {401, "Unauthorized", "token has expired", id, NULL, NULL, NULL, 0};
    apr_size_t len;
    const char *b = gk_problem_render(tp, &pb, &len);

    /* a UUID: instance as a URN, then the ID itself, after detail */
    ck_assert_str_eq(b, "{\"type\":\"about:blank\",\"title\":\"Unauthorized\","
                        "\"status\":401,\"detail\":\"token has expired\","
                        "\"instance\":\"urn:uuid:017f22e2-79b0-7cc3-98c4-"
                        "dc0c0c07398f\",\"correlation_id\":\"017f22e2-79b0-"
                        "7cc3-98c4-dc0c0c07398f\"}\n");
    ck_assert_uint_eq(len, strlen(b));
    /* upper-case hex is a UUID too (RFC 9562), kept as given */
    pb.correlation_id = "017F22E2-79B0-7CC3-98C4-DC0C0C07398F";
    pb.detail = NULL;
    ck_assert_str_eq(gk_problem_render(tp, &pb, &len),
                     "{\"type\":\"about:blank\",\"title\":\"Unauthorized\","
                     "\"status\":401,\"instance\":\"urn:uuid:017F22E2-79B0-"
                     "7CC3-98C4-DC0C0C07398F\",\"correlation_id\":\"017F22E2-"
                     "79B0-7CC3-98C4-DC0C0C07398F\"}\n");
}
END_TEST

START_TEST(problem_correlation_other)
{
    gk_problem_t pb = {403, "Forbidden", "Insufficient permissions",
                       "req-42.a_b:c", NULL, NULL, NULL, 0};
    const char *b;
    apr_size_t len;
    json_t *j;

    /* any other ID: correlation_id only, no instance */
    ck_assert_str_eq(gk_problem_render(tp, &pb, &len),
                     "{\"type\":\"about:blank\",\"title\":\"Forbidden\","
                     "\"status\":403,\"detail\":\"Insufficient "
                     "permissions\",\"correlation_id\":\"req-42.a_b:c\"}\n");
    /* almost a UUID */
    pb.correlation_id = "017f22e2-79b0-7cc3-98c4-dc0c0c07398";
    b = gk_problem_render(tp, &pb, &len);
    j = parse_body(b, len);
    ck_assert_ptr_null(json_object_get(j, "instance"));
    ck_assert_str_eq(json_string_value(json_object_get(j, "correlation_id")),
                     pb.correlation_id);
    json_decref(j);
    /* quotes and control characters are escaped: one line of JSON */
    pb.correlation_id = "a\"b\n";
    b = gk_problem_render(tp, &pb, &len);
    j = parse_body(b, len);
    ck_assert_str_eq(json_string_value(json_object_get(j, "correlation_id")),
                     "a\"b\n");
    json_decref(j);
}
END_TEST

START_TEST(problem_correlation_absent)
{
    gk_problem_t pb = {400, "Bad Request", "malformed Bearer credentials",
                       NULL, NULL, NULL, NULL, 0};
    apr_size_t len, len2;
    const char *b = gk_problem_render(tp, &pb, &len);

    /* no ID (or an empty one): neither member, the body of gk_problem_json */
    ck_assert_str_eq(b, gk_problem_json(tp, 400, "Bad Request",
                                        "malformed Bearer credentials",
                                        &len2));
    ck_assert_uint_eq(len, len2);
    ck_assert_ptr_null(strstr(b, "instance"));
    ck_assert_ptr_null(strstr(b, "correlation_id"));
    pb.correlation_id = "";
    ck_assert_str_eq(gk_problem_render(tp, &pb, &len), b);
    /* not UTF-8 (mod_gk_log never makes such an ID): repaired, the body
     * stays valid JSON */
    pb.correlation_id = "id-\xff";
    {
        const char *c = gk_problem_render(tp, &pb, &len);
        json_t *j = parse_body(c, len);
        ck_assert_str_eq(json_string_value(json_object_get(j,
                                                           "correlation_id")),
                         "id-\xef\xbf\xbd");
        json_decref(j);
    }
}
END_TEST

/* ---- gk_log ------------------------------------------------------------------ */

static int calls, last_level;
static char last_msg[2048];
static void *last_baton;
static const char *last_file;
static int last_line;
static int threshold = 7;

static void sink(void *baton, const char *file, int line, int level,
                 const char *msg)
{
    calls++;
    last_file = file;
    last_line = line;
    last_level = level;
    last_baton = baton;
    snprintf(last_msg, sizeof(last_msg), "%s", msg);
}

static int enabled(void *baton, int level)
{
    return level <= threshold;
}

/* The extension member: after detail, before the correlation ID, written
 * by the caller's function into the room it announced. */
static void write_errors(void *out, const char *name, const void *baton)
{
    gk_json_out_t *o = out;

    gk_json_arr_open(o, name);
    gk_json_obj_open(o, NULL);
    gk_json_cstr(o, "instanceLocation", baton, 0);
    gk_json_cstr(o, "keyword", "minLength", 0);
    gk_json_close(o);
    gk_json_close(o);
}

START_TEST(problem_extra_member)
{
    gk_problem_t pb = {0};
    apr_size_t len;
    const char *b;

    pb.status = 422;
    pb.title = "Unprocessable Content";
    pb.detail = "Request body is invalid";
    pb.correlation_id = "req-1";
    pb.extra_name = "errors";
    pb.extra_fn = write_errors;
    pb.extra_baton = "/pass\"word";
    pb.extra_size = 80;
    b = gk_problem_render(tp, &pb, &len);
    ck_assert_str_eq(b, "{\"type\":\"about:blank\",\"title\":"
                        "\"Unprocessable Content\",\"status\":422,"
                        "\"detail\":\"Request body is invalid\",\"errors\":"
                        "[{\"instanceLocation\":\"/pass\\\"word\",\"keyword\":"
                        "\"minLength\"}],\"correlation_id\":\"req-1\"}\n");
    ck_assert_uint_eq(len, strlen(b));
    /* a name without a function, or none: no member */
    pb.extra_fn = NULL;
    b = gk_problem_render(tp, &pb, &len);
    ck_assert_ptr_null(strstr(b, "errors"));
}
END_TEST

/* The room is computed for the worst case: a detail of control
 * characters (six bytes each once escaped) is never cut. */
START_TEST(problem_worst_case_fits)
{
    char detail[1001];
    apr_size_t len;
    const char *b;
    json_t *j;

    memset(detail, 0x01, 1000);
    detail[1000] = '\0';
    b = gk_problem_json(tp, 400, "Bad Request", detail, &len);
    j = parse_body(b, len);
    ck_assert_str_eq(json_string_value(json_object_get(j, "detail")), detail);
    json_decref(j);
}
END_TEST

START_TEST(log_sink)
{
    int baton, line;
    char big[3000];

    gk_log_set(NULL, NULL, NULL);
    gk_log(GK_LOG_ERR, "nobody listens %d", 1); /* no sink: no crash */
    gk_log_set(sink, NULL, &baton);
    gk_log(GK_LOG_WARNING, GKLOGNO(00042) "x=%s n=%d", "y", 7);
    line = __LINE__ - 1;
    ck_assert_int_eq(calls, 1);
    /* the call site travels with the message */
    ck_assert_str_eq(last_file, __FILE__);
    ck_assert_int_eq(last_line, line);
    ck_assert_int_eq(last_level, GK_LOG_WARNING);
    ck_assert_ptr_eq(last_baton, &baton);
    ck_assert_str_eq(last_msg, "GK00042: x=y n=7");
    /* long messages are truncated, not overflowed */
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    gk_log(GK_LOG_INFO, "%s", big);
    ck_assert_uint_eq(strlen(last_msg), 1023);
    /* the level is checked before anything is formatted */
    gk_log_set(sink, enabled, &baton);
    threshold = GK_LOG_NOTICE;
    gk_log(GK_LOG_INFO, "%s", "filtered");
    ck_assert_int_eq(calls, 2);
    gk_log(GK_LOG_NOTICE, "%s", "kept");
    ck_assert_int_eq(calls, 3);
    ck_assert_str_eq(last_msg, "kept");
    gk_log_set(NULL, NULL, NULL);
    gk_log(GK_LOG_INFO, "after");
    ck_assert_int_eq(calls, 3);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("problem");
    TCase *tc = tk_tcase("problem");

    tcase_add_test(tc, problem_exact);
    tcase_add_test(tc, problem_optional_members);
    tcase_add_test(tc, problem_escaping);
    tcase_add_test(tc, problem_invalid_utf8);
    tcase_add_test(tc, problem_correlation_uuid);
    tcase_add_test(tc, problem_correlation_other);
    tcase_add_test(tc, problem_correlation_absent);
    tcase_add_test(tc, problem_extra_member);
    tcase_add_test(tc, problem_worst_case_fits);
    tcase_add_test(tc, log_sink);
    suite_add_tcase(s, tc);
    return s;
}

TK_MAIN(suite)
