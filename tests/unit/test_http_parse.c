/* The HTTP request head parser (net/http_parse.c): request line, fields,
 * limits (431, 413), keep-alive, and malformed input answered with 400. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/http_parse.h"

static struct http_request req;

static int parse(const char *s)
{
    return http_parse_head(s, strlen(s), 8192, &req);
}

static void test_simple_get(void **state)
{
    const char *s = "GET /api/vms HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer abc \r\n\r\n";
    assert_int_equal(parse(s), 200);
    assert_int_equal(req.method, HTTP_GET);
    assert_int_equal(req.target_len, 8);
    assert_memory_equal(req.target, "/api/vms", 8);
    assert_int_equal(req.minor, 1);
    assert_true(req.keep_alive);
    assert_int_equal(req.content_length, 0);
    assert_int_equal(req.authorization_len, 10);
    assert_memory_equal(req.authorization, "Bearer abc", 10);
    assert_int_equal(req.head_len, strlen(s));
}

static void test_incomplete_then_complete(void **state)
{
    const char *s = "POST /api/vms/echo/start HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc";
    size_t head = strlen(s) - 3;
    for (size_t n = 0; n < head; n++)
        assert_int_equal(http_parse_head(s, n, 8192, &req), 0);
    assert_int_equal(http_parse_head(s, strlen(s), 8192, &req), 200);
    assert_int_equal(req.method, HTTP_POST);
    assert_int_equal(req.content_length, 3);
    assert_int_equal(req.head_len, head);
}

static void test_connection_and_versions(void **state)
{
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 200);
    assert_false(req.keep_alive);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: x\r\nconnection: Keep-Alive, CLOSE\r\n\r\n"),
                     200);
    assert_false(req.keep_alive);
    assert_int_equal(parse("GET / HTTP/1.0\r\n\r\n"), 200); /* 1.0 needs no Host */
    assert_false(req.keep_alive);
    assert_int_equal(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"), 200);
    assert_true(req.keep_alive);
    assert_int_equal(parse("GET / HTTP/2.0\r\nHost: x\r\n\r\n"), 505);
    assert_int_equal(parse("GET / HTTP/1.1\nHost: x\n\n"), 200); /* bare LF is accepted */
    assert_int_equal(parse("\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"), 200);
}

static void test_expect_continue(void **state)
{
    assert_int_equal(parse("PUT /a HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\n"
                           "Content-Length: 9000\r\n\r\n"),
                     413); /* the limit applies before anything is sent */
    assert_int_equal(parse("PUT /a HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                           "Content-Length: 5\r\n\r\n"),
                     200);
    assert_true(req.expect_continue);
    assert_int_equal(parse("PUT /a HTTP/1.1\r\nHost: x\r\nExpect: other\r\n\r\n"), 200);
    assert_false(req.expect_continue);
}

static void test_methods(void **state)
{
    assert_int_equal(parse("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"), 200);
    assert_int_equal(req.method, HTTP_HEAD);
    assert_int_equal(parse("PUT /a HTTP/1.1\r\nHost: x\r\n\r\n"), 200);
    assert_int_equal(req.method, HTTP_PUT);
    assert_int_equal(parse("DELETE /a HTTP/1.1\r\nHost: x\r\n\r\n"), 200);
    assert_int_equal(req.method, HTTP_DELETE);
    assert_int_equal(parse("PATCH /a HTTP/1.1\r\nHost: x\r\n\r\n"), 200);
    assert_int_equal(req.method, HTTP_OTHER);
}

static void test_malformed(void **state)
{
    static const char *const bad[] = {
        "GET  / HTTP/1.1\r\nHost: x\r\n\r\n",        /* two spaces */
        "GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n", /* absolute form */
        "GET * HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET / HTTP/1.1\r\n\r\n",                       /* no Host */
        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", /* two Hosts */
        "GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", /* obsolete folding */
        "GET / HTTP/1.1\r\nHost : x\r\n\r\n",           /* space before the colon */
        "GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n", /* bare CR */
        "GET / HTTP/1.1\r\nHost: x\r\nX: a\x01\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: \r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nAuthorization: a\r\nAuthorization: b\r\n\r\n",
        "GET /\x7f HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET / HTTP/1.1 \r\nHost: x\r\n\r\n",
        "GET / HTTP/1.x\r\nHost: x\r\n\r\n",
    };
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        print_message("case %u\n", i);
        assert_int_equal(parse(bad[i]), 400);
    }
}

static void test_garbage_answered_early(void **state)
{
    /* Not a request line: 400 without waiting for the end of a head. */
    assert_int_equal(http_parse_head("\x16\x03\x01\x02", 4, 8192, &req), 400); /* TLS hello */
    assert_int_equal(http_parse_head("GET/", 4, 8192, &req), 400);
    assert_int_equal(http_parse_head("GET", 3, 8192, &req), 0);
    assert_int_equal(http_parse_head("AAAAAAAAAAAAAAAAAAAAAAAAAAAA", 28, 8192, &req), 400);
}

static void test_limits(void **state)
{
    static char big[HTTP_HEAD_MAX + 100];
    const char *start = "GET / HTTP/1.1\r\nHost: x\r\nX-Long: ";
    size_t n = strlen(start);
    memcpy(big, start, n);
    memset(big + n, 'a', sizeof(big) - n);
    assert_int_equal(http_parse_head(big, HTTP_HEAD_MAX - 1, 8192, &req), 0);
    assert_int_equal(http_parse_head(big, HTTP_HEAD_MAX, 8192, &req), 431);
    assert_int_equal(http_parse_head(big, sizeof(big), 8192, &req), 431);
    /* A head that ends just past the limit is still too large. */
    memcpy(big + HTTP_HEAD_MAX - 2, "\r\n\r\n", 4);
    assert_int_equal(http_parse_head(big, HTTP_HEAD_MAX + 2, 8192, &req), 431);
    memcpy(big + HTTP_HEAD_MAX - 4, "\r\n\r\n", 4);
    assert_int_equal(http_parse_head(big, HTTP_HEAD_MAX, 8192, &req), 200);

    assert_int_equal(parse("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 8193\r\n\r\n"), 413);
    assert_int_equal(parse("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 8192\r\n\r\n"), 200);
    assert_int_equal(
        parse("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n"), 413);
    assert_int_equal(parse("PUT / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"), 501);

    /* Too many fields. */
    char many[HTTP_HEAD_MAX];
    size_t o = (size_t)sprintf(many, "GET / HTTP/1.1\r\nHost: x\r\n");
    for (unsigned i = 0; i < HTTP_MAX_HEADERS; i++)
        o += (size_t)sprintf(many + o, "X%u: y\r\n", i);
    strcpy(many + o, "\r\n");
    assert_int_equal(parse(many), 431);
}

static void test_random_bytes(void **state)
{
    static char buf[HTTP_HEAD_MAX + 512];
    srand(7);
    for (unsigned round = 0; round < 2000; round++) {
        size_t n = (size_t)rand() % sizeof(buf);
        for (size_t i = 0; i < n; i++)
            buf[i] = (char)(rand() % 4 == 0 ? "\r\n: "[rand() % 4] : rand());
        int st = http_parse_head(buf, n, 8192, &req);
        assert_true(st == 0 || st == 200 || st == 400 || st == 413 || st == 431 || st == 501 ||
                    st == 505);
        if (st == 200) {
            assert_true(req.head_len <= n && req.head_len <= HTTP_HEAD_MAX);
            assert_true(req.target >= buf && req.target + req.target_len <= buf + n);
        }
    }
}

static void test_reasons(void **state)
{
    assert_string_equal(http_reason(404), "Not Found");
    assert_string_equal(http_reason(431), "Request Header Fields Too Large");
    assert_string_equal(http_reason(999), "Unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_get),
        cmocka_unit_test(test_incomplete_then_complete),
        cmocka_unit_test(test_connection_and_versions),
        cmocka_unit_test(test_methods),
        cmocka_unit_test(test_expect_continue),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_garbage_answered_early),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_random_bytes),
        cmocka_unit_test(test_reasons),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
