/* A JSON writer into a fixed buffer (RFC 8259). Strings are escaped for
 * any bytes: VM names, reasons and log lines are untrusted text, so
 * quotes, backslashes and control bytes are escaped, '<', '>' and '&' too
 * (the output is safe to embed in a page), and bytes that are not valid
 * UTF-8 become U+FFFD. Commas are placed by the writer. When the buffer is
 * full, `overflow` is set and the output must not be used. Pure code. */
#ifndef CORE_API_JSON_H
#define CORE_API_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH 16

struct json {
    char *buf;
    size_t cap, len;
    bool overflow, bad; /* bad: unbalanced nesting or a key outside an object */
    unsigned depth;
    bool first[JSON_MAX_DEPTH + 1]; /* no element written yet at this depth */
    bool after_key;
};

void json_init(struct json *j, char *buf, size_t cap);
void json_obj_begin(struct json *j);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j);
void json_arr_end(struct json *j);
/* A member name; the value follows with one of the calls below. */
void json_key(struct json *j, const char *key);
void json_str(struct json *j, const char *s);
void json_strn(struct json *j, const char *s, size_t n);
void json_u64(struct json *j, uint64_t v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);
/* Shorthands: "key": value. */
void json_kv_str(struct json *j, const char *key, const char *s);
void json_kv_u64(struct json *j, const char *key, uint64_t v);
/* True when the document is complete and fits (nothing open, no overflow). */
bool json_ok(const struct json *j);

#endif
