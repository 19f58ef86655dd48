/* A small HTTP/1.1 server on lwIP's raw API (net/tcp_server.h): a fixed
 * number of connections, each with fixed buffers (a request head of at most
 * HTTP_HEAD_MAX bytes and a body of at most HTTP_BODY_MAX, an answer of at
 * most HTTP_OUT_MAX), keep-alive, an idle timeout, and a handler that
 * fills in the answer. Errors in the request (net/http_parse.h) are
 * answered here and close the connection; connections beyond
 * HTTP_MAX_CONNS get 503 at once. Console CPU only. docs/api.md. */
#ifndef NET_HTTP_SERVER_H
#define NET_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/http_parse.h"

#define HTTP_MAX_CONNS 8
#define HTTP_BODY_MAX  8192
#define HTTP_OUT_MAX   (48 * 1024)

struct http_response {
    int status;
    const char *content_type; /* NULL: application/json */
    char *body;               /* the connection's buffer, HTTP_OUT_MAX bytes */
    size_t len;
    bool overflow;           /* the handler wrote more than fits: answered with 500 */
    const char *static_body; /* instead of body: constant data (not copied) */
    size_t static_len;
    char headers[160]; /* extra fields, each ending in "\r\n" */
};

/* Called once per complete request; body is the request's body. The
 * handler sets status (default 200) and writes the answer's body. */
typedef void (*http_handler_fn)(const struct http_request *req, const char *body, size_t body_len,
                                struct http_response *resp);

/* Bodies larger than HTTP_BODY_MAX (uploads, up to HTTP_STREAM_MAX) go to
 * these in pieces as they arrive, one such request at a time on the whole
 * server. wants() picks the requests (from the head alone); begin() may
 * refuse with an answer in resp (return nonzero: the body is not read and
 * the connection closes after the answer); data() gets each piece and may
 * stop the upload the same way; end() fills the answer once every byte
 * came; abort() is called instead when the client goes away or idles. */
#define HTTP_STREAM_MAX (4ULL << 30)
struct http_stream_ops {
    bool (*wants)(const struct http_request *req);
    int (*begin)(const struct http_request *req, struct http_response *resp);
    int (*data)(const void *p, size_t n, struct http_response *resp);
    void (*end)(struct http_response *resp);
    void (*abort)(void);
};

/* Listens on port; a connection without a request for idle_s seconds is
 * closed (408 when a request had begun). stream may be NULL (every body
 * over HTTP_BODY_MAX gets 413). 0, or -1 with the reason. */
int http_server_start(uint16_t port, unsigned idle_s, http_handler_fn handler,
                      const struct http_stream_ops *stream, char *why, size_t whylen);
bool http_server_running(void);
/* The console CPU's loop: reads requests, answers, sends, closes. */
void http_server_poll(void);

/* Appends to the answer's body (sets overflow when it does not fit). */
void http_resp_write(struct http_response *r, const void *data, size_t n);
void http_resp_printf(struct http_response *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

struct http_server_stats {
    unsigned long long requests; /* answered, of any status */
    unsigned long long errors;   /* malformed or over a limit (4xx/5xx from the parser) */
    unsigned long long refused;  /* 503: no free connection */
    unsigned long long timeouts; /* closed for idling */
    unsigned open;               /* connections now */
};
void http_server_stats(struct http_server_stats *out);

#endif
