#include "core/command.h"

#include <stdarg.h>

#include "core/command_split.h"
#include "lib/format.h"
#include "lib/log.h"
#include "lib/string.h"

extern const struct command __console_cmds_start[], __console_cmds_end[];

static void (*output_fn)(void *ctx, const char *s, size_t n);
static void *output_ctx;

void command_set_output(void (*fn)(void *ctx, const char *s, size_t n), void *ctx)
{
    output_fn = fn;
    output_ctx = ctx;
}

void command_write(const char *s, size_t n)
{
    if (output_fn)
        output_fn(output_ctx, s, n);
    else
        log_sinks_write(s, n);
}

void cprintf(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    command_write(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

int command_tokenize(const char *line, char *buf, size_t buflen, char **argv, int max)
{
    size_t used = 0;
    int argc = 0;
    const char *p = line;

    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p || *p == '\n' || *p == '\r')
            break;
        if (argc >= max)
            return -1;
        argv[argc++] = buf + used;
        int quoted = 0;
        for (; *p && *p != '\n' && *p != '\r' && (quoted || (*p != ' ' && *p != '\t')); p++) {
            if (*p == '"') {
                quoted = !quoted;
                continue;
            }
            if (used + 2 > buflen)
                return -1;
            buf[used++] = *p;
        }
        if (quoted)
            return -1;
        buf[used++] = '\0';
    }
    return argc;
}

const struct command *command_find(const char *name)
{
    for (const struct command *c = __console_cmds_start; c < __console_cmds_end; c++)
        if (!strcmp(c->name, name))
            return c;
    return NULL;
}

/* "error: unknown command 'x'" with the closest command name when one is
 * close enough to be a typo, else the hint given. */
static void unknown_command(const char *name, const char *hint)
{
    struct closest_match m;
    closest_match_init(&m, name, strlen(name));
    for (const struct command *c = __console_cmds_start; c < __console_cmds_end; c++)
        closest_match_offer(&m, c->name);
    if (m.best)
        cprintf("error: unknown command '%s' (did you mean '%s'?)\n", name, m.best);
    else
        cprintf("error: unknown command '%s'%s\n", name, hint);
}

int command_run_line(const char *line)
{
    char buf[CMD_LINE_MAX];
    char *argv[CMD_MAX_ARGS];
    int argc = command_tokenize(line, buf, sizeof(buf), argv, CMD_MAX_ARGS);
    if (argc < 0) {
        cprintf("error: cannot parse command (unbalanced quote or too many words)\n");
        return -1;
    }
    if (argc == 0)
        return 0;
    const struct command *c = command_find(argv[0]);
    if (!c) {
        unknown_command(argv[0], " (try 'help')");
        return -1;
    }
    return c->fn(argc, argv);
}

void command_run_script(const char *script)
{
    char line[CMD_LINE_MAX];
    const char *p = script, *end = script + strlen(script);
    enum command_split_result r;
    while ((r = command_split_next(&p, end, line, sizeof(line))) != SPLIT_END) {
        if (r == SPLIT_TOO_LONG)
            cprintf("error: command longer than %zu bytes skipped\n", sizeof(line) - 1);
        else
            command_run_line(line);
    }
}

static int cmd_help(int argc, char **argv)
{
    if (argc > 1) {
        const struct command *c = command_find(argv[1]);
        if (!c) {
            unknown_command(argv[1], "");
            return -1;
        }
        cprintf("usage: %s %s\n  %s\n", c->name, c->usage, c->help);
        return 0;
    }
    for (const struct command *c = __console_cmds_start; c < __console_cmds_end; c++)
        cprintf("  %-10s %s\n", c->name, c->help);
    return 0;
}
COMMAND("help", "[command]", "list commands, or show one command's usage", cmd_help);
