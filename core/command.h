/* Console commands: a table collected by the linker, a tokenizer and a
 * runner shared by the serial console and the `exec=` boot option. */
#ifndef CORE_COMMAND_H
#define CORE_COMMAND_H

#include <stddef.h>

#define CMD_MAX_ARGS 16
#define CMD_LINE_MAX 512

struct command {
    const char *name;
    const char *usage; /* arguments, e.g. "[code]" */
    const char *help;  /* one line */
    int (*fn)(int argc, char **argv);
};

#define COMMAND(cname, cusage, chelp, cfn)                                                         \
    static const struct command cmd_entry_##cfn                                                    \
        __attribute__((section(".console_cmds"), used, aligned(8))) = {cname, cusage, chelp, cfn}

/* Splits a line into words; double quotes group words. Returns argc, or -1
 * on an unterminated quote or too many words. buf receives the words. */
int command_tokenize(const char *line, char *buf, size_t buflen, char **argv, int max);
/* Runs one command line; prints one clear error line on failure. */
int command_run_line(const char *line);
/* Runs `cmd; cmd; ...` in order (`;` inside double quotes does not
 * separate; see command_split.h). */
void command_run_script(const char *script);
const struct command *command_find(const char *name);
void cprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Command output: to the console's sinks, or, while set (a network
 * session runs a command), to fn alone. NULL restores the sinks. */
void command_set_output(void (*fn)(void *ctx, const char *s, size_t n), void *ctx);
void command_write(const char *s, size_t n);

#endif
