#include "core/cmdline.h"

#include "lib/format.h"
#include "lib/string.h"

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int cmdline_parse(const char *s, struct cmdline *out, char *err, size_t errlen)
{
    size_t used = 0;
    out->n = 0;
    if (!s)
        return 0;

    while (*s) {
        while (is_space(*s))
            s++;
        if (!*s)
            break;
        if (out->n >= CMDLINE_MAX_ARGS) {
            fmt_snprintf(err, errlen, "more than %d options", CMDLINE_MAX_ARGS);
            return -1;
        }
        /* Copy one token, dropping quotes and resolving \" escapes. */
        char *tok = out->pool + used;
        char *eq = NULL;
        int quoted = 0;
        for (; *s && (quoted || !is_space(*s)); s++) {
            char c = *s;
            if (c == '\\' && (s[1] == '"' || s[1] == '\\')) {
                c = *++s;
            } else if (c == '"') {
                quoted = !quoted;
                continue;
            }
            if (used + 2 >= CMDLINE_POOL) {
                fmt_snprintf(err, errlen, "command line longer than %d bytes", CMDLINE_POOL);
                return -1;
            }
            if (c == '=' && !eq)
                eq = out->pool + used;
            out->pool[used++] = c;
        }
        if (quoted) {
            fmt_snprintf(err, errlen, "unterminated quote in option '%.*s'",
                         (int)(out->pool + used - tok), tok);
            return -1;
        }
        out->pool[used++] = '\0';
        if (eq) {
            *eq = '\0';
            out->value[out->n] = eq + 1;
        } else {
            out->value[out->n] = "";
        }
        if (!*tok) {
            fmt_snprintf(err, errlen, "option with an empty name");
            return -1;
        }
        out->key[out->n++] = tok;
    }
    return 0;
}

const char *cmdline_get(const struct cmdline *c, const char *key)
{
    for (unsigned i = c->n; i-- > 0;)
        if (!strcmp(c->key[i], key))
            return c->value[i];
    return NULL;
}

unsigned cmdline_get_all(const struct cmdline *c, const char *key, const char **vals, unsigned max)
{
    unsigned k = 0;
    for (unsigned i = 0; i < c->n && k < max; i++)
        if (!strcmp(c->key[i], key))
            vals[k++] = c->value[i];
    return k;
}
