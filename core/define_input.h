/* The lines of a `define` typed or pasted at a console (serial or a
 * network session; each has its own), until an empty line or ".". Pure
 * code, unit-tested on the host. */
#ifndef CORE_DEFINE_INPUT_H
#define CORE_DEFINE_INPUT_H

#include <stdbool.h>
#include <stddef.h>

#define DEFINE_INPUT_MAX 8192 /* = VM_DEFINE_TEXT_MAX */
#define DEFINE_PROMPT    "define> "

struct define_input {
    bool active;
    bool overflow; /* more than DEFINE_INPUT_MAX bytes: refused at the end */
    size_t len;
    char text[DEFINE_INPUT_MAX];
};

enum define_feed {
    DEFINE_MORE,     /* keep reading */
    DEFINE_DONE,     /* text[0..len) is the section */
    DEFINE_OVERFLOW, /* ended, but too long: nothing to define */
};

void define_input_start(struct define_input *in);
/* One line (without its end). Empty lines before the first text are
 * skipped; an empty line or "." after it, or "." at any time, ends the
 * section (inactive afterwards). */
enum define_feed define_input_feed(struct define_input *in, const char *line);
void define_input_cancel(struct define_input *in);

#endif
