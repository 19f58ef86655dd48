/* Console commands about the console itself: muting a VM's output. */
#include "core/command.h"
#include "vm/vm.h"
#include "vm/vm_output.h"
#include "lib/string.h"

static void list_muted(void)
{
    unsigned n = 0;
    cprintf("muted:");
    for (unsigned i = 0; i < nr_vms; i++) {
        if (vms[i] && vm_output_muted(vms[i])) {
            cprintf("%s %s", n ? "," : "", vms[i]->cfg.name);
            n++;
        }
    }
    cprintf("%s\n", n ? "" : " none");
}

/* mute|unmute <vm>|--all */
static int set_muted(int argc, char **argv, bool muted)
{
    if (argc != 2) {
        cprintf("error: usage: %s <vm>|--all\n", argv[0]);
        return -1;
    }
    if (!strcmp(argv[1], "--all")) {
        for (unsigned i = 0; i < nr_vms; i++)
            vm_output_set_muted(vms[i], muted);
        cprintf("console: output of every VM %s\n", muted ? "muted" : "shown");
        return 0;
    }
    struct vm *vm = vm_find(argv[1]);
    if (!vm) {
        cprintf("error: no VM named '%s' (see 'list --all')\n", argv[1]);
        return -1;
    }
    vm_output_set_muted(vm, muted);
    cprintf("console: output of %s %s\n", vm->cfg.name, muted ? "muted" : "shown");
    return 0;
}

static int cmd_mute(int argc, char **argv)
{
    if (argc == 1) {
        list_muted();
        return 0;
    }
    return set_muted(argc, argv, true);
}
COMMAND("mute", "[<vm>|--all]", "hide a VM's output lines at the prompt; alone: list muted VMs",
        cmd_mute);

static int cmd_unmute(int argc, char **argv)
{
    return set_muted(argc, argv, false);
}
COMMAND("unmute", "<vm>|--all", "show a muted VM's output lines again", cmd_unmute);
