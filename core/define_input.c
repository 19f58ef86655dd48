#include "core/define_input.h"

#include "lib/string.h"

void define_input_start(struct define_input *in)
{
    in->active = true;
    in->overflow = false;
    in->len = 0;
}

void define_input_cancel(struct define_input *in)
{
    in->active = false;
    in->len = 0;
}

/* The line without surrounding blanks: *start, and its length. */
static size_t trimmed(const char *s, const char **start)
{
    size_t len = strlen(s);
    while (len && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
        len--;
    *start = s;
    return len;
}

enum define_feed define_input_feed(struct define_input *in, const char *line)
{
    const char *t;
    size_t n = trimmed(line, &t);
    if (!in->active)
        return DEFINE_OVERFLOW;
    bool dot = n == 1 && t[0] == '.';
    if (!n && !in->len && !in->overflow)
        return DEFINE_MORE; /* blank lines before the section */
    if (!n || dot) {
        in->active = false;
        return in->overflow ? DEFINE_OVERFLOW : DEFINE_DONE;
    }
    size_t ln = strlen(line);
    if (in->overflow || ln + 1 > sizeof(in->text) - in->len) {
        in->overflow = true;
        return DEFINE_MORE;
    }
    memcpy(in->text + in->len, line, ln);
    in->len += ln;
    in->text[in->len++] = '\n';
    return DEFINE_MORE;
}
