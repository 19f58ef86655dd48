/* Console commands `define`, `undefine NAME` and `modules`
 * (docs/configuration.md "Defining VMs at run time"). */
#include "core/cmd_define.h"

#include "core/command.h"
#include "core/console.h"
#include "core/vm_define.h"
#include "lib/string.h"

static char err[VM_DEFINE_ERR_MAX];

static int cmd_define(int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        cprintf("error: usage: define (then the [vm NAME] section, ended by an empty line or "
                "'.')\n");
        return -1;
    }
    struct define_input *in = console_define_input();
    if (!in) {
        cprintf("error: define: only at a console prompt\n");
        return -1;
    }
    define_input_start(in);
    cprintf("define: type or paste one [vm NAME] section; end it with an empty line or '.' "
            "(Ctrl-C cancels)\n");
    return 0;
}
COMMAND("define", "", "define a VM: a [vm NAME] section follows, ended by an empty line or '.'",
        cmd_define);

void define_console_abort(struct define_input *in, const char *why)
{
    define_input_cancel(in);
    cprintf("error: define: %s: nothing defined\n", why);
}

void define_console_line(struct define_input *in, const char *line)
{
    enum define_feed r = define_input_feed(in, line);
    if (r == DEFINE_MORE)
        return;
    if (r == DEFINE_OVERFLOW) {
        cprintf("error: define: the section is longer than %u bytes: nothing defined\n",
                DEFINE_INPUT_MAX);
        return;
    }
    if (vm_define_from_text(in->text, in->len, NULL, err, sizeof(err))) {
        /* One message per line, each an error. */
        const char *p = err;
        while (*p) {
            const char *nl = strchr(p, '\n');
            size_t n = nl ? (size_t)(nl - p) : strlen(p);
            cprintf("error: %.*s\n", (int)n, p);
            p += n + (nl ? 1 : 0);
        }
        return;
    }
    /* The name is the section's: first [vm NAME] in the text. */
    const char *b = strchr(in->text, '[');
    const char *sp = b ? strchr(b, ' ') : NULL;
    const char *e = sp ? strchr(sp, ']') : NULL;
    if (sp && e) {
        while (*sp == ' ' || *sp == '\t')
            sp++;
        size_t n = (size_t)(e - sp);
        while (n && (sp[n - 1] == ' ' || sp[n - 1] == '\t'))
            n--;
        cprintf("define: vm %.*s defined (until the next reboot)\n", (int)n, sp);
    } else {
        cprintf("define: defined (until the next reboot)\n");
    }
}

static int cmd_undefine(int argc, char **argv)
{
    if (argc != 2) {
        cprintf("error: usage: undefine NAME\n");
        return -1;
    }
    if (vm_undefine(argv[1], err, sizeof(err))) {
        cprintf("error: undefine: %s\n", err);
        return -1;
    }
    cprintf("undefine: vm %s removed\n", argv[1]);
    return 0;
}
COMMAND("undefine", "NAME", "remove a VM that is not running (until the next reboot)",
        cmd_undefine);

static int cmd_modules(int argc, char **argv)
{
    static struct module_info list[48];
    if (argc > 1) {
        if (argc == 3 && !strcmp(argv[1], "delete")) {
            if (module_store_delete(argv[2], err, sizeof(err))) {
                cprintf("error: modules: %s\n", err);
                return -1;
            }
            cprintf("modules: %s deleted\n", argv[2]);
            return 0;
        }
        cprintf("error: usage: modules [delete NAME]\n");
        return -1;
    }
    unsigned n = module_store_list(list, 48);
    cprintf(" %-24s %12s  %-8s %s\n", "Name", "Bytes", "Source", "Used by");
    for (unsigned i = 0; i < n && i < 48; i++)
        cprintf(" %-24s %12llu  %-8s %s\n", list[i].name, (unsigned long long)list[i].size,
                list[i].uploaded ? "upload" : "boot", list[i].used_by[0] ? list[i].used_by : "-");
    cprintf("uploads: %llu of %llu bytes (modules.upload_limit)\n",
            (unsigned long long)module_store_used(), (unsigned long long)module_store_limit());
    return 0;
}
COMMAND("modules", "[delete NAME]", "list boot and uploaded modules; delete an uploaded one",
        cmd_modules);
