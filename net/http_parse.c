/* The head of an HTTP/1.x request (http_parse.h). */
#include "net/http_parse.h"

#include "lib/string.h"

static bool is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static bool eq_nocase(const char *a, size_t n, const char *b)
{
    size_t i = 0;
    for (; i < n && b[i]; i++)
        if (lower(a[i]) != lower(b[i]))
            return false;
    return i == n && !b[i];
}

/* The end of the head: the index after "\r\n\r\n" (or "\n\n", which RFC 9112
 * lets a server accept), 0 when not there yet. */
static size_t head_end(const char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (buf[i] != '\n')
            continue;
        if (i + 1 < n && buf[i + 1] == '\n')
            return i + 2;
        if (i + 2 < n && buf[i + 1] == '\r' && buf[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* One line from *p (before end), without its "\r\n" or "\n"; false at the
 * end or on a bare CR. */
static bool next_line(const char **p, const char *end, const char **line, size_t *len)
{
    const char *s = *p;
    const char *nl = memchr(s, '\n', (size_t)(end - s));
    if (!nl)
        return false;
    const char *e = nl;
    if (e > s && e[-1] == '\r')
        e--;
    for (const char *q = s; q < e; q++)
        if (*q == '\r')
            return false;
    *line = s;
    *len = (size_t)(e - s);
    *p = nl + 1;
    return true;
}

static int parse_request_line(const char *s, size_t n, struct http_request *req)
{
    static const struct {
        const char *name;
        enum http_method m;
    } methods[] = {{"GET", HTTP_GET},
                   {"HEAD", HTTP_HEAD},
                   {"POST", HTTP_POST},
                   {"PUT", HTTP_PUT},
                   {"DELETE", HTTP_DELETE}};
    size_t i = 0;
    while (i < n && is_tchar((unsigned char)s[i]))
        i++;
    if (!i || i >= 16 || i >= n || s[i] != ' ')
        return 400; /* (the same 16 as for a head still arriving) */
    req->method = HTTP_OTHER;
    for (unsigned k = 0; k < sizeof(methods) / sizeof(methods[0]); k++)
        if (strlen(methods[k].name) == i && !memcmp(s, methods[k].name, i))
            req->method = methods[k].m;
    size_t t = ++i;
    while (i < n && s[i] > ' ' && s[i] < 0x7f)
        i++;
    if (i == t || i >= n || s[i] != ' ' || s[t] != '/')
        return 400; /* origin form only: no absolute URIs, no '*' */
    req->target = s + t;
    req->target_len = i - t;
    i++;
    if (n - i != 8 || memcmp(s + i, "HTTP/", 5) || s[i + 6] != '.' || s[i + 5] < '0' ||
        s[i + 5] > '9' || s[i + 7] < '0' || s[i + 7] > '9')
        return 400;
    if (s[i + 5] != '1')
        return 505;
    req->minor = (unsigned)(s[i + 7] - '0');
    req->keep_alive = req->minor >= 1;
    return 200;
}

/* The Connection field: a comma-separated list of tokens. */
static void parse_connection(const char *v, size_t n, struct http_request *req)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t t = i;
        while (i < n && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
            i++;
        if (eq_nocase(v + t, i - t, "close"))
            req->keep_alive = false;
        else if (eq_nocase(v + t, i - t, "keep-alive") && req->minor == 0)
            req->keep_alive = true;
    }
}

static int parse_content_length(const char *v, size_t n, uint64_t body_max, uint64_t *out)
{
    uint64_t x = 0;
    if (!n)
        return 400;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return 400;
        if (x > (UINT64_MAX - 9) / 10)
            return 413;
        x = x * 10 + (uint64_t)(v[i] - '0');
    }
    if (x > body_max)
        return 413;
    *out = x;
    return 200;
}

int http_parse_head(const char *buf, size_t n, uint64_t body_max, struct http_request *req)
{
    size_t end = head_end(buf, n > HTTP_HEAD_MAX ? HTTP_HEAD_MAX : n);
    if (!end) {
        /* A request line that is already bad is answered at once. */
        size_t i = 0;
        while (i < n && i < 16 && is_tchar((unsigned char)buf[i]))
            i++;
        if (i < n &&
            (i == 16 || (buf[i] != ' ' && !(i == 0 && (buf[0] == '\r' || buf[0] == '\n')))))
            return 400;
        return n >= HTTP_HEAD_MAX ? 431 : 0;
    }
    memset(req, 0, sizeof(*req));
    const char *p = buf, *e = buf + end, *line;
    size_t len;
    /* RFC 9112 2.2: ignore at least one empty line before the request line. */
    if (p < e && *p == '\n')
        p++;
    else if (p + 1 < e && p[0] == '\r' && p[1] == '\n')
        p += 2;
    if (!next_line(&p, e, &line, &len))
        return 400;
    int st = parse_request_line(line, len, req);
    if (st != 200)
        return st;
    bool have_host = false, have_length = false;
    unsigned fields = 0;
    for (;;) {
        if (!next_line(&p, e, &line, &len))
            return 400; /* a bare CR */
        if (!len)
            break;
        if (++fields > HTTP_MAX_HEADERS)
            return 431;
        size_t c = 0;
        while (c < len && is_tchar((unsigned char)line[c]))
            c++;
        if (!c || c >= len || line[c] != ':')
            return 400; /* also obsolete line folding and a space before the colon */
        const char *v = line + c + 1;
        size_t vn = len - c - 1;
        while (vn && (*v == ' ' || *v == '\t'))
            v++, vn--;
        while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
            vn--;
        for (size_t k = 0; k < vn; k++)
            if (((unsigned char)v[k] < 0x20 && v[k] != '\t') || v[k] == 0x7f)
                return 400;
        if (eq_nocase(line, c, "host")) {
            if (have_host)
                return 400;
            have_host = true;
        } else if (eq_nocase(line, c, "content-length")) {
            if (have_length)
                return 400;
            have_length = true;
            st = parse_content_length(v, vn, body_max, &req->content_length);
            if (st != 200)
                return st;
        } else if (eq_nocase(line, c, "transfer-encoding")) {
            return 501;
        } else if (eq_nocase(line, c, "connection")) {
            parse_connection(v, vn, req);
        } else if (eq_nocase(line, c, "expect")) {
            req->expect_continue = eq_nocase(v, vn, "100-continue");
        } else if (eq_nocase(line, c, "authorization")) {
            if (req->authorization)
                return 400;
            req->authorization = v;
            req->authorization_len = vn;
        }
    }
    if (req->minor >= 1 && !have_host)
        return 400; /* RFC 9112 3.2 */
    req->head_len = end;
    return 200;
}

const char *http_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 413:
        return "Content Too Large";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Unknown";
    }
}
