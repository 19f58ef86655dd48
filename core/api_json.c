/* A JSON writer into a fixed buffer (api_json.h). */
#include "core/api_json.h"

#include "lib/string.h"

static void put(struct json *j, const char *s, size_t n)
{
    if (j->overflow || n > j->cap - j->len) {
        j->overflow = true;
        return;
    }
    memcpy(j->buf + j->len, s, n);
    j->len += n;
}

static void putc_(struct json *j, char c)
{
    put(j, &c, 1);
}

void json_init(struct json *j, char *buf, size_t cap)
{
    memset(j, 0, sizeof(*j));
    j->buf = buf;
    j->cap = cap;
    j->first[0] = true;
}

/* Before a value: the comma between elements, nothing after a key. */
static void before_value(struct json *j)
{
    if (j->after_key) {
        j->after_key = false;
        return;
    }
    if (!j->first[j->depth])
        putc_(j, ',');
    j->first[j->depth] = false;
}

static void open_(struct json *j, char c)
{
    before_value(j);
    putc_(j, c);
    if (j->depth >= JSON_MAX_DEPTH) {
        j->bad = true;
        return;
    }
    j->first[++j->depth] = true;
}

static void close_(struct json *j, char c)
{
    if (!j->depth || j->after_key) {
        j->bad = true;
        return;
    }
    j->depth--;
    putc_(j, c);
}

void json_obj_begin(struct json *j)
{
    open_(j, '{');
}

void json_obj_end(struct json *j)
{
    close_(j, '}');
}

void json_arr_begin(struct json *j)
{
    open_(j, '[');
}

void json_arr_end(struct json *j)
{
    close_(j, ']');
}

/* The length of the valid UTF-8 sequence at s (1-4), 0 when invalid
 * (overlong forms, surrogates and code points over U+10FFFF too). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t cp, min;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2, cp = c & 0x1f, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, cp = c & 0x0f, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, cp = c & 0x07, min = 0x10000;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

static void escaped(struct json *j, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    putc_(j, '"');
    for (size_t i = 0; i < n;) {
        unsigned char c = u[i];
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            put(j, e, 2);
            i++;
        } else if (c == '\n' || c == '\r' || c == '\t') {
            char e[2] = {'\\', c == '\n' ? 'n' : c == '\r' ? 'r' : 't'};
            put(j, e, 2);
            i++;
        } else if (c < 0x20 || c == 0x7f || c == '<' || c == '>' || c == '&') {
            char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            put(j, e, 6);
            i++;
        } else {
            size_t len = utf8_len(u + i, n - i);
            if (len) {
                put(j, s + i, len);
                i += len;
            } else {
                put(j, "\\ufffd", 6);
                i++;
            }
        }
    }
    putc_(j, '"');
}

void json_key(struct json *j, const char *key)
{
    if (!j->depth || j->after_key) {
        j->bad = true;
        return;
    }
    before_value(j);
    escaped(j, key, strlen(key));
    putc_(j, ':');
    j->after_key = true;
}

void json_strn(struct json *j, const char *s, size_t n)
{
    before_value(j);
    escaped(j, s, n);
}

void json_str(struct json *j, const char *s)
{
    json_strn(j, s, strlen(s));
}

void json_u64(struct json *j, uint64_t v)
{
    char d[20];
    unsigned n = 0;
    do
        d[n++] = (char)('0' + v % 10);
    while (v /= 10);
    before_value(j);
    while (n)
        putc_(j, d[--n]);
}

void json_bool(struct json *j, bool v)
{
    before_value(j);
    put(j, v ? "true" : "false", v ? 4 : 5);
}

void json_null(struct json *j)
{
    before_value(j);
    put(j, "null", 4);
}

void json_kv_str(struct json *j, const char *key, const char *s)
{
    json_key(j, key);
    json_str(j, s);
}

void json_kv_u64(struct json *j, const char *key, uint64_t v)
{
    json_key(j, key);
    json_u64(j, v);
}

bool json_ok(const struct json *j)
{
    return !j->overflow && !j->bad && !j->depth && !j->after_key && !j->first[0];
}
