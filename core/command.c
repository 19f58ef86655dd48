#include "core/command.h"

#include <stdarg.h>

#include "lib/format.h"
#include "lib/log.h"
#include "lib/string.h"

extern const struct command __console_cmds_start[], __console_cmds_end[];

void cprintf(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    log_sinks_write(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
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
        cprintf("error: unknown command '%s' (try 'help')\n", argv[0]);
        return -1;
    }
    return c->fn(argc, argv);
}

void command_run_script(const char *script)
{
    char line[CMD_LINE_MAX];
    const char *p = script;
    while (*p) {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len >= sizeof(line)) {
            cprintf("error: exec command longer than %zu bytes skipped\n", sizeof(line) - 1);
        } else {
            memcpy(line, p, len);
            line[len] = '\0';
            command_run_line(line);
        }
        if (!end)
            break;
        p = end + 1;
    }
}

static int cmd_help(int argc, char **argv)
{
    if (argc > 1) {
        const struct command *c = command_find(argv[1]);
        if (!c) {
            cprintf("error: unknown command '%s'\n", argv[1]);
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
