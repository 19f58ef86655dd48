/* A small line editor for the serial console: insert/delete at the cursor,
 * arrows, Home/End, history on up/down, Ctrl-A/E/U/C. Pure logic: bytes in,
 * terminal output through a callback, events out. */
#ifndef CORE_LINEEDIT_H
#define CORE_LINEEDIT_H

#include <stddef.h>

#define LINEEDIT_MAX        255
#define LINEEDIT_HISTORY    16
#define LINEEDIT_PROMPT_MAX 32
/* What lineedit_hide writes (see there). */
#define LINEEDIT_HIDE "\r\x1b[K\x1b[A\n"

enum lineedit_event {
    LE_NONE,      /* keep feeding */
    LE_LINE,      /* a line is ready in lineedit_line() */
    LE_INTERRUPT, /* Ctrl-C: the line was abandoned */
    LE_TOO_LONG,  /* Enter on a line that overflowed LINEEDIT_MAX: refused, not run */
};

struct lineedit {
    char buf[LINEEDIT_MAX + 1];
    unsigned len, cursor;
    char history[LINEEDIT_HISTORY][LINEEDIT_MAX + 1];
    unsigned hist_count;          /* lines stored (at most LINEEDIT_HISTORY) */
    unsigned hist_next;           /* slot the next line goes to */
    int hist_pos;                 /* -1: editing a new line; else steps back */
    char saved[LINEEDIT_MAX + 1]; /* the new line while browsing history */
    unsigned esc;                 /* escape-sequence state */
    char esc_arg;
    char last;                   /* to fold CR LF into one Enter */
    unsigned overflow;           /* characters refused since the line filled up */
    char line[LINEEDIT_MAX + 1]; /* the finished line */
    void (*write)(void *ctx, const char *s, size_t n);
    void *ctx;
};

void lineedit_init(struct lineedit *le, void (*write)(void *, const char *, size_t), void *ctx);
enum lineedit_event lineedit_feed(struct lineedit *le, char c);
const char *lineedit_line(const struct lineedit *le);
/* Before other output while the prompt shows: erases the prompt's line so
 * the output takes its place (ESC[K, then ESC[A and a newline, so that a
 * log of the serial line still has each output line on a line of its own). */
void lineedit_hide(struct lineedit *le);
/* Redraws the prompt and the line being edited, cursor where it was (after
 * other output). */
void lineedit_redraw(struct lineedit *le, const char *prompt);

#endif
