/* The hypervisor command line: space-separated key=value options. GRUB
 * moves quotes (`exec="a; b"` arrives as `"exec=a; b"`) and escapes `\"`;
 * both placements are accepted. */
#ifndef CORE_CMDLINE_H
#define CORE_CMDLINE_H

#include <stddef.h>

#define CMDLINE_MAX_ARGS 64
#define CMDLINE_POOL     4096

struct cmdline {
    unsigned n;
    const char *key[CMDLINE_MAX_ARGS];
    const char *value[CMDLINE_MAX_ARGS]; /* "" for a bare flag */
    char pool[CMDLINE_POOL];
};

/* Returns 0, or -1 with a reason (unterminated quote, too long, too many). */
int cmdline_parse(const char *s, struct cmdline *out, char *err, size_t errlen);
/* The last value given for key, or NULL. */
const char *cmdline_get(const struct cmdline *c, const char *key);
/* Every value given for a repeatable key, in order; returns the count. */
unsigned cmdline_get_all(const struct cmdline *c, const char *key, const char **vals, unsigned max);

#endif
