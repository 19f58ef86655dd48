/* A small HTTP/1.1 server (http_server.h). */
#include "net/http_server.h"

#include <stdarg.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/tsc.h"
#include "lib/format.h"
#include "lib/log.h"
#include "lib/string.h"
#include "net/net.h"
#include "net/tcp_server.h"

#define IN_MAX (HTTP_HEAD_MAX + HTTP_BODY_MAX)

enum conn_state {
    C_FREE,
    C_READ,   /* waiting for (the rest of) a request */
    C_SEND,   /* an answer goes out; input waits in lwIP meanwhile */
    C_STREAM, /* a large body goes to the stream ops as it arrives */
};

struct http_conn {
    enum conn_state st;
    struct net_conn *nc;
    bool close_after;     /* close once the answer is out */
    bool continued;       /* "100 Continue" sent for the request being read */
    uint64_t stream_left; /* C_STREAM: body bytes still to come */
    uint64_t last_ms;     /* the last progress either way */
    size_t in_len;
    char in[IN_MAX];
    char head[384];
    size_t head_len, head_sent;
    const char *body; /* the answer's body: out or a constant */
    size_t body_len, body_sent;
    char out[HTTP_OUT_MAX];
};

static struct http_conn conns[HTTP_MAX_CONNS];
static http_handler_fn handler;
static const struct http_stream_ops *stream_ops;
static struct http_conn *streaming; /* the one connection in C_STREAM */
static uint64_t idle_ms;
static bool running;
static struct http_server_stats stats;

static uint64_t now_ms(void)
{
    uint64_t khz = tsc_khz();
    return khz ? rdtsc() / khz : 0;
}

void http_resp_write(struct http_response *r, const void *data, size_t n)
{
    if (r->overflow || n > HTTP_OUT_MAX - r->len) {
        r->overflow = true;
        return;
    }
    memcpy(r->body + r->len, data, n);
    r->len += n;
}

void http_resp_printf(struct http_response *r, const char *fmt, ...)
{
    va_list ap;
    if (r->overflow)
        return;
    va_start(ap, fmt);
    size_t room = HTTP_OUT_MAX - r->len;
    int n = fmt_vsnprintf(r->body + r->len, room, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= room)
        r->overflow = true;
    else
        r->len += (size_t)n;
}

/* The answer's head; the body is r->body or r->static_body. */
static void queue_answer(struct http_conn *c, const struct http_response *r, bool head_only)
{
    const char *type = r->content_type ? r->content_type : "application/json";
    size_t len = r->static_body ? r->static_len : r->len;
    int n = fmt_snprintf(c->head, sizeof(c->head),
                         "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %llu\r\n"
                         "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
                         "%sConnection: %s\r\n\r\n",
                         r->status, http_reason(r->status), type, (unsigned long long)len,
                         r->headers, c->close_after ? "close" : "keep-alive");
    c->head_len = n > 0 && (size_t)n < sizeof(c->head) ? (size_t)n : 0;
    c->head_sent = 0;
    c->body = r->static_body ? r->static_body : c->out;
    c->body_len = head_only ? 0 : len;
    c->body_sent = 0;
    c->st = C_SEND;
    stats.requests++;
}

/* An error found before the handler runs: a JSON body, then close. */
static void answer_error(struct http_conn *c, int status, const char *msg)
{
    struct http_response r = {.status = status, .body = c->out};
    http_resp_printf(&r, "{\"error\":\"%s\"}\n", msg);
    c->close_after = true;
    queue_answer(c, &r, false);
}

static const char *parse_error_text(int status)
{
    switch (status) {
    case 413:
        return "request body too large (at most 8192 bytes)";
    case 431:
        return "request head too large (at most 8192 bytes)";
    case 501:
        return "Transfer-Encoding is not supported: send Content-Length";
    case 505:
        return "only HTTP/1.0 and HTTP/1.1 are served";
    default:
        return "malformed request";
    }
}

static void handle(struct http_conn *c, const struct http_request *req)
{
    struct http_response r = {.status = 200, .body = c->out};
    c->close_after = !req->keep_alive;
    handler(req, c->in + req->head_len, (size_t)req->content_length, &r);
    if (r.overflow) {
        r = (struct http_response){.status = 500, .body = c->out};
        http_resp_printf(&r, "{\"error\":\"the answer is larger than %u bytes\"}\n", HTTP_OUT_MAX);
    }
    queue_answer(c, &r, req->method == HTTP_HEAD);
}

/* The answer of a request whose body streamed (or was refused midway). */
static void stream_answer(struct http_conn *c, struct http_response *r)
{
    if (r->overflow || !r->status)
        *r = (struct http_response){.status = 500, .body = c->out};
    if (c->stream_left)
        c->close_after = true; /* the rest of the body is not read */
    if (streaming == c)
        streaming = NULL;
    queue_answer(c, r, false);
}

static void feed_stream(struct http_conn *c, const char *p, size_t n)
{
    struct http_response r = {.status = 200, .body = c->out};
    c->stream_left -= n;
    if (stream_ops->data(p, n, &r)) {
        stream_answer(c, &r);
    } else if (!c->stream_left) {
        stream_ops->end(&r);
        stream_answer(c, &r);
    }
}

static void start_stream(struct http_conn *c, const struct http_request *req, uint64_t now)
{
    struct http_response r = {.status = 200, .body = c->out};
    c->close_after = !req->keep_alive;
    if (streaming) {
        r.status = 409;
        http_resp_printf(&r, "{\"error\":\"another upload is in progress: try again later\"}\n");
        c->stream_left = req->content_length;
        stream_answer(c, &r);
        c->close_after = true;
        return;
    }
    c->stream_left = req->content_length;
    if (stream_ops->begin(req, &r)) {
        stream_answer(c, &r);
        return;
    }
    streaming = c;
    c->st = C_STREAM;
    c->last_ms = now;
    if (req->expect_continue) {
        static const char go_on[] = "HTTP/1.1 100 Continue\r\n\r\n";
        net_conn_write(c->nc, go_on, sizeof(go_on) - 1);
    }
    size_t have = c->in_len - req->head_len;
    if (have > c->stream_left)
        have = (size_t)c->stream_left;
    size_t body_at = req->head_len, rest = c->in_len - body_at - have;
    c->in_len = 0;
    if (have)
        feed_stream(c, c->in + body_at, have);
    if (rest && c->st == C_SEND && !c->close_after) { /* a pipelined request after the body */
        memmove(c->in, c->in + body_at + have, rest);
        c->in_len = rest;
    }
}

static void step_stream(struct http_conn *c, uint64_t now)
{
    size_t want = c->stream_left < IN_MAX ? (size_t)c->stream_left : IN_MAX;
    size_t got = net_conn_read(c->nc, c->in, want);
    if (got) {
        c->last_ms = now;
        feed_stream(c, c->in, got);
    } else if (net_conn_eof(c->nc) || now - c->last_ms > idle_ms) {
        if (!net_conn_eof(c->nc))
            stats.timeouts++;
        stream_ops->abort();
        streaming = NULL;
        net_conn_close(c->nc);
        c->st = C_FREE;
    }
}

/* Pulls input and answers a complete request, if there is one. */
static void step_read(struct http_conn *c, uint64_t now)
{
    size_t got = net_conn_read(c->nc, c->in + c->in_len, IN_MAX - c->in_len);
    if (got)
        c->last_ms = now;
    c->in_len += got;
    if (!c->in_len) {
        if (net_conn_eof(c->nc) || now - c->last_ms > idle_ms) {
            if (!net_conn_eof(c->nc))
                stats.timeouts++;
            net_conn_close(c->nc);
            c->st = C_FREE;
        }
        return;
    }
    struct http_request req;
    int st = http_parse_head(c->in, c->in_len, stream_ops ? HTTP_STREAM_MAX : HTTP_BODY_MAX, &req);
    if (st == 200 && req.content_length > HTTP_BODY_MAX) {
        if (!stream_ops->wants(&req)) {
            stats.errors++;
            answer_error(c, 413, parse_error_text(413));
        } else {
            start_stream(c, &req, now);
        }
    } else if (st == 200 && c->in_len >= req.head_len + req.content_length) {
        c->continued = false;
        handle(c, &req);
        c->in_len -= req.head_len + (size_t)req.content_length; /* pipelined rest stays */
        memmove(c->in, c->in + req.head_len + req.content_length, c->in_len);
    } else if (st == 200 && req.expect_continue && !c->continued) {
        /* The client waits before sending the body (curl does for uploads). */
        static const char go_on[] = "HTTP/1.1 100 Continue\r\n\r\n";
        c->continued = net_conn_write(c->nc, go_on, sizeof(go_on) - 1) == sizeof(go_on) - 1;
    } else if (st != 200 && st != 0) {
        stats.errors++;
        answer_error(c, st, parse_error_text(st));
    } else if (net_conn_eof(c->nc)) {
        net_conn_close(c->nc); /* a request cut short: nobody reads an answer */
        c->st = C_FREE;
    } else if (now - c->last_ms > idle_ms) {
        stats.timeouts++;
        answer_error(c, 408, "request not completed in time");
    }
}

static bool send_part(struct http_conn *c, const char *p, size_t len, size_t *sent)
{
    while (*sent < len) {
        size_t n = net_conn_write(c->nc, p + *sent, len - *sent);
        if (!n)
            return false;
        *sent += n;
    }
    return true;
}

static void step_send(struct http_conn *c, uint64_t now)
{
    size_t before = c->head_sent + c->body_sent;
    bool done = send_part(c, c->head, c->head_len, &c->head_sent) &&
                send_part(c, c->body, c->body_len, &c->body_sent);
    if (c->head_sent + c->body_sent != before)
        c->last_ms = now;
    if (done) {
        if (c->close_after) {
            net_conn_close(c->nc);
            c->st = C_FREE;
        } else {
            c->st = C_READ;
        }
    } else if (now - c->last_ms > idle_ms) {
        stats.timeouts++; /* a client that does not read */
        net_conn_close(c->nc);
        c->st = C_FREE;
    }
}

static void *on_accept(struct net_conn *nc, uint32_t peer)
{
    static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: "
                               "application/json\r\nContent-Length: 44\r\nRetry-After: "
                               "1\r\nConnection: close\r\n\r\n"
                               "{\"error\":\"too many connections: try again\"}\n";
    for (unsigned i = 0; i < HTTP_MAX_CONNS; i++) {
        struct http_conn *c = &conns[i];
        if (c->st != C_FREE)
            continue;
        c->st = C_READ;
        c->nc = nc;
        c->in_len = 0;
        c->close_after = false;
        c->last_ms = now_ms();
        return c;
    }
    stats.refused++;
    net_conn_write(nc, busy, sizeof(busy) - 1);
    net_conn_close(nc);
    return NULL;
}

static void on_closed(void *session)
{
    struct http_conn *c = session;
    if (c == streaming) {
        stream_ops->abort();
        streaming = NULL;
    }
    c->st = C_FREE;
    c->nc = NULL;
}

static const struct net_server_ops ops = {.accept = on_accept, .closed = on_closed};

int http_server_start(uint16_t port, unsigned idle_s, http_handler_fn fn,
                      const struct http_stream_ops *stream, char *why, size_t whylen)
{
    handler = fn;
    stream_ops = stream;
    idle_ms = (uint64_t)idle_s * 1000;
    if (net_listen(port, &ops, why, whylen))
        return -1;
    running = true;
    return 0;
}

bool http_server_running(void)
{
    return running;
}

void http_server_poll(void)
{
    if (!running)
        return;
    uint64_t now = now_ms();
    bool busy = false;
    for (unsigned i = 0; i < HTTP_MAX_CONNS; i++) {
        struct http_conn *c = &conns[i];
        if (c->st == C_READ)
            step_read(c, now);
        if (c->st == C_STREAM)
            step_stream(c, now);
        if (c->st == C_SEND) {
            step_send(c, now);
            busy = true;
        }
    }
    if (busy)
        net_poll(); /* what was written goes out now */
}

void http_server_stats(struct http_server_stats *out)
{
    *out = stats;
    out->open = 0;
    for (unsigned i = 0; i < HTTP_MAX_CONNS; i++)
        out->open += conns[i].st != C_FREE;
}
