/* Splitting a console line or an `exec=` script into commands: `;`
 * separates them, except inside double quotes. Pure logic (unit-tested). */
#ifndef CORE_COMMAND_SPLIT_H
#define CORE_COMMAND_SPLIT_H

#include <stddef.h>

enum command_split_result {
    SPLIT_END = 0,      /* nothing left */
    SPLIT_COMMAND = 1,  /* the next command is in out (it may be blank) */
    SPLIT_TOO_LONG = -1 /* the next command does not fit in out: skipped */
};

/* Takes the next command from *pos, at most `end`, into out (NUL-terminated,
 * without the `;`), and moves *pos past it and its separator. */
enum command_split_result command_split_next(const char **pos, const char *end, char *out,
                                             size_t outlen);

#endif
