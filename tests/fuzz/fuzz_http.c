/* libFuzzer target: the HTTP request head parser (net/http_parse.c) on
 * arbitrary bytes, fed whole and in every prefix a connection could have
 * received, and the JSON writer (core/api_json.c) on the same bytes as an
 * untrusted string. Checks: the status is one the server answers with; a
 * parsed request's pointers lie inside the input and its head within
 * HTTP_HEAD_MAX; a prefix never parses as a different request (the server
 * may parse as bytes arrive); the JSON string has no raw control byte and
 * every quote in it is escaped. */
/* fuzz-srcs: net/http_parse.c core/api_json.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/api_json.h"
#include "net/http_parse.h"
#include "tests/fuzz/fuzz_input.h"

static bool known_status(int st)
{
    return st == 0 || st == 200 || st == 400 || st == 413 || st == 431 || st == 501 || st == 505;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    struct http_request req, pre;
    int st = http_parse_head(buf, size, 8192, &req);
    FUZZ_CHECK(known_status(st));
    if (st == 200) {
        FUZZ_CHECK(req.head_len <= size && req.head_len <= HTTP_HEAD_MAX);
        FUZZ_CHECK(req.target >= buf && req.target + req.target_len <= buf + req.head_len);
        FUZZ_CHECK(req.target_len >= 1 && req.target[0] == '/');
        FUZZ_CHECK(req.content_length <= 8192);
        if (req.authorization)
            FUZZ_CHECK(req.authorization >= buf &&
                       req.authorization + req.authorization_len <= buf + req.head_len);
        /* Every shorter prefix that already holds the head parses the same. */
        int again = http_parse_head(buf, req.head_len, 8192, &pre);
        FUZZ_CHECK(again == 200 && pre.head_len == req.head_len &&
                   pre.content_length == req.content_length && pre.method == req.method);
    }
    /* Byte by byte arrival: a prefix answered with an error stays an error. */
    for (size_t n = 1; n < size && n < 512; n++) {
        int p = http_parse_head(buf, n, 8192, &pre);
        FUZZ_CHECK(known_status(p));
        if (p != 0 && p != 200)
            FUZZ_CHECK(st != 200); /* a request is never refused for arriving in pieces */
    }

    static char out[6 * 4096 + 16];
    struct json j;
    size_t n = size < 4096 ? size : 4096;
    json_init(&j, out, sizeof(out));
    json_strn(&j, buf, n);
    FUZZ_CHECK(json_ok(&j));
    FUZZ_CHECK(out[0] == '"' && out[j.len - 1] == '"');
    for (size_t i = 1; i + 1 < j.len; i++) {
        unsigned char c = (unsigned char)out[i];
        FUZZ_CHECK(c >= 0x20 && c != 0x7f);
        if (c == '"' || c == '\\') {
            FUZZ_CHECK(c == '\\' || out[i - 1] == '\\');
            if (c == '\\')
                i++; /* the escaped character */
        }
    }
    return 0;
}
