#include "core/lineedit.h"

#include "lib/string.h"

static void out(struct lineedit *le, const char *s, size_t n)
{
    if (le->write && n)
        le->write(le->ctx, s, n);
}

static void outs(struct lineedit *le, const char *s)
{
    out(le, s, strlen(s));
}

void lineedit_init(struct lineedit *le, void (*write)(void *, const char *, size_t), void *ctx)
{
    memset(le, 0, sizeof(*le));
    le->hist_pos = -1;
    le->write = write;
    le->ctx = ctx;
}

const char *lineedit_line(const struct lineedit *le)
{
    return le->line;
}

static void move_left(struct lineedit *le, unsigned n)
{
    while (n--)
        out(le, "\b", 1);
}

/* Rewrites from the cursor to the end, clears what was beyond, then puts
 * the cursor back where it was. */
static void refresh_tail(struct lineedit *le, unsigned erased)
{
    out(le, le->buf + le->cursor, le->len - le->cursor);
    for (unsigned i = 0; i < erased; i++)
        out(le, " ", 1);
    move_left(le, le->len - le->cursor + erased);
}

static void replace_line(struct lineedit *le, const char *text)
{
    unsigned old = le->len;
    move_left(le, le->cursor);
    le->len = (unsigned)strnlen(text, LINEEDIT_MAX);
    memcpy(le->buf, text, le->len);
    le->buf[le->len] = '\0';
    le->cursor = 0;
    refresh_tail(le, old > le->len ? old - le->len : 0);
    out(le, le->buf, le->len);
    le->cursor = le->len;
}

static void insert(struct lineedit *le, char c)
{
    if (le->len >= LINEEDIT_MAX) {
        if (!le->overflow++)
            out(le, "\a", 1); /* once: a long paste would ring on and on */
        return;
    }
    memmove(le->buf + le->cursor + 1, le->buf + le->cursor, le->len - le->cursor);
    le->buf[le->cursor] = c;
    le->len++;
    le->buf[le->len] = '\0';
    out(le, &c, 1);
    le->cursor++;
    refresh_tail(le, 0);
}

static void delete_at(struct lineedit *le, unsigned pos)
{
    memmove(le->buf + pos, le->buf + pos + 1, le->len - pos - 1);
    le->len--;
    le->buf[le->len] = '\0';
}

static void backspace(struct lineedit *le)
{
    if (!le->cursor)
        return;
    le->cursor--;
    delete_at(le, le->cursor);
    out(le, "\b", 1);
    refresh_tail(le, 1);
}

static void delete_forward(struct lineedit *le)
{
    if (le->cursor >= le->len)
        return;
    delete_at(le, le->cursor);
    refresh_tail(le, 1);
}

static void history_step(struct lineedit *le, int dir)
{
    int pos = le->hist_pos + dir; /* dir +1 = older */
    if (pos < -1 || pos >= (int)le->hist_count)
        return;
    if (le->hist_pos == -1)
        memcpy(le->saved, le->buf, le->len + 1);
    le->hist_pos = pos;
    if (pos == -1) {
        replace_line(le, le->saved);
        return;
    }
    unsigned slot = (le->hist_next + LINEEDIT_HISTORY - 1 - (unsigned)pos) % LINEEDIT_HISTORY;
    replace_line(le, le->history[slot]);
}

static void remember(struct lineedit *le)
{
    if (!le->len)
        return;
    if (le->hist_count) {
        unsigned last = (le->hist_next + LINEEDIT_HISTORY - 1) % LINEEDIT_HISTORY;
        if (!strcmp(le->history[last], le->buf))
            return; /* no duplicates in a row */
    }
    memcpy(le->history[le->hist_next], le->buf, le->len + 1);
    le->hist_next = (le->hist_next + 1) % LINEEDIT_HISTORY;
    if (le->hist_count < LINEEDIT_HISTORY)
        le->hist_count++;
}

static void reset_line(struct lineedit *le)
{
    le->overflow = 0;
    le->len = le->cursor = 0;
    le->buf[0] = '\0';
    le->hist_pos = -1;
}

static enum lineedit_event escape(struct lineedit *le, char c)
{
    if (le->esc == 1) {
        le->esc = (c == '[' || c == 'O') ? 2 : 0;
        return LE_NONE;
    }
    if (le->esc == 2 && c >= '0' && c <= '9') {
        le->esc_arg = c;
        le->esc = 3;
        return LE_NONE;
    }
    le->esc = 0;
    if (c == '~') {
        if (le->esc_arg == '3')
            delete_forward(le);
        else if (le->esc_arg == '1' || le->esc_arg == '7')
            c = 'H';
        else if (le->esc_arg == '4' || le->esc_arg == '8')
            c = 'F';
    }
    switch (c) {
    case 'A':
        history_step(le, 1);
        break;
    case 'B':
        history_step(le, -1);
        break;
    case 'C':
        if (le->cursor < le->len)
            out(le, le->buf + le->cursor++, 1);
        break;
    case 'D':
        if (le->cursor) {
            le->cursor--;
            out(le, "\b", 1);
        }
        break;
    case 'H':
        move_left(le, le->cursor);
        le->cursor = 0;
        break;
    case 'F':
        out(le, le->buf + le->cursor, le->len - le->cursor);
        le->cursor = le->len;
        break;
    default:
        break; /* unknown sequences are ignored, never inserted */
    }
    return LE_NONE;
}

enum lineedit_event lineedit_feed(struct lineedit *le, char c)
{
    char prev = le->last;
    le->last = c;
    if (le->esc) {
        if (le->esc == 3 && c != '~' && !(c >= '0' && c <= '9') && c != ';') {
            le->esc = 0; /* malformed: drop it */
            return LE_NONE;
        }
        if (le->esc == 3 && c != '~')
            return LE_NONE;
        return escape(le, c);
    }
    switch (c) {
    case '\r':
    case '\n':
        if (c == '\n' && prev == '\r')
            return LE_NONE;
        out(le, "\r\n", 2);
        if (le->overflow) {
            /* Cut short, it might do something else than typed: refuse it. */
            reset_line(le);
            le->line[0] = '\0';
            return LE_TOO_LONG;
        }
        memcpy(le->line, le->buf, le->len + 1);
        remember(le);
        reset_line(le);
        return LE_LINE;
    case 0x03: /* Ctrl-C */
        outs(le, "^C\r\n");
        reset_line(le);
        le->line[0] = '\0';
        return LE_INTERRUPT;
    case 0x1b:
        le->esc = 1;
        le->esc_arg = 0;
        return LE_NONE;
    case 0x7f:
    case 0x08:
        backspace(le);
        return LE_NONE;
    case 0x01: /* Ctrl-A */
        move_left(le, le->cursor);
        le->cursor = 0;
        return LE_NONE;
    case 0x05: /* Ctrl-E */
        out(le, le->buf + le->cursor, le->len - le->cursor);
        le->cursor = le->len;
        return LE_NONE;
    case 0x15: { /* Ctrl-U: kill the whole line */
        unsigned old = le->len;
        move_left(le, le->cursor);
        le->cursor = 0;
        le->len = 0;
        le->buf[0] = '\0';
        le->overflow = 0; /* a fresh start */
        refresh_tail(le, old);
        return LE_NONE;
    }
    default:
        if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
            insert(le, c);
        return LE_NONE; /* other control bytes are ignored */
    }
}

void lineedit_hide(struct lineedit *le)
{
    outs(le, LINEEDIT_HIDE);
}

void lineedit_redraw(struct lineedit *le, const char *prompt)
{
    /* One write: output from another CPU cannot land inside it. */
    char buf[LINEEDIT_PROMPT_MAX + 2 * LINEEDIT_MAX];
    size_t n = strnlen(prompt, LINEEDIT_PROMPT_MAX);
    memcpy(buf, prompt, n);
    memcpy(buf + n, le->buf, le->len);
    n += le->len;
    for (unsigned i = le->cursor; i < le->len; i++)
        buf[n++] = '\b';
    out(le, buf, n);
}
