/* The head of an HTTP/1.x request (RFC 9112), parsed from a buffer that
 * holds what the client has sent so far. Pure code, no allocation: the
 * kernel's HTTP server, the unit test and the fuzz target share it. Every
 * byte comes from the network and is hostile: anything this parser does
 * not understand is an error with a status code, never a guess. */
#ifndef NET_HTTP_PARSE_H
#define NET_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_HEAD_MAX    8192 /* request line and headers, with the blank line */
#define HTTP_MAX_HEADERS 64

enum http_method {
    HTTP_GET,
    HTTP_HEAD,
    HTTP_POST,
    HTTP_PUT,
    HTTP_DELETE,
    HTTP_OTHER, /* a valid token we do not serve: 405 or 501 */
};

struct http_request {
    enum http_method method;
    const char *target; /* the request-target as sent (origin form: "/...") */
    size_t target_len;
    unsigned minor;  /* HTTP/1.minor */
    bool keep_alive; /* the connection stays open after the answer */
    uint64_t content_length;
    bool expect_continue;      /* Expect: 100-continue (the client waits for it) */
    const char *authorization; /* the field's value, NULL when absent */
    size_t authorization_len;
    size_t head_len; /* bytes up to and with the blank line */
};

/* Parses buf[0..n). Returns 0 while the head is incomplete (more bytes are
 * needed), 200 when req is filled in, or the status to answer with:
 * 400 (malformed), 413 (Content-Length over body_max), 431 (head over
 * HTTP_HEAD_MAX bytes or too many fields), 501 (Transfer-Encoding),
 * 505 (not HTTP/1.x). The pointers in req point into buf. */
int http_parse_head(const char *buf, size_t n, uint64_t body_max, struct http_request *req);

/* The standard reason phrase of a status ("Not Found"). */
const char *http_reason(int status);

#endif
