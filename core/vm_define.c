/* Run-time `define` and `undefine` (core/vm_define.h): the section is
 * checked by core/define_check.c against the VMs defined now and the
 * machine now, then created like a VM of the boot configuration. */
#include "core/vm_define.h"

#include "core/boot_vms.h"
#include "core/define_check.h"
#include "lib/format.h"
#include "lib/log.h"
#include "lib/string.h"
#include "net/net.h"
#include "vm/vm.h"

/* Console CPU only: one definition at a time. */
static struct config scratch;
static struct vm_config existing[MAX_VMS];
static struct config_global global;

int vm_define_from_text(const char *text, size_t len, const char *expect_name, char *err,
                        size_t errlen)
{
    unsigned n = 0;
    for (unsigned i = 0; i < nr_vms && n < MAX_VMS; i++)
        if (vms[i])
            existing[n++] = vms[i]->cfg;

    const struct config_global *g = boot_vms_global();
    if (g) {
        global = *g;
    } else {
        memset(&global, 0, sizeof(global));
        global.loglevel = -1;
        config_net_defaults(&global.net);
    }
    /* The NIC the hypervisor uses now (also when net.device = auto) is never a VM's. */
    struct net_pci_id nic;
    if (net_device(&nic)) {
        global.net.enabled = 1;
        global.net.device_auto = false;
        global.net.device = (struct config_pci_dev){nic.seg, nic.bus, nic.dev, nic.fn};
    }
    struct config_machine mach;
    boot_vms_machine(&mach);
    struct define_context ctx = {existing, n, &global, &mach, VM_DEFINE_TEXT_MAX};
    struct vm_config cfg;
    if (define_check_section(text, len, expect_name, &ctx, &scratch, &cfg, err, errlen))
        return -1;

    char why[160];
    struct vm *vm = vm_create(&cfg, why, sizeof(why));
    if (!vm) {
        fmt_snprintf(err, errlen, "vm %s: not defined: %s", cfg.name, why);
        return -1;
    }
    pr_info("vm %s: defined at run time (until the next reboot)", cfg.name);
    if (cfg.autostart && vm_start(vm, why, sizeof(why))) {
        fmt_snprintf(err, errlen, "vm %s: defined, but not started: %s", cfg.name, why);
        return -1;
    }
    return 0;
}

int vm_undefine(const char *name, char *err, size_t errlen)
{
    struct vm *vm = vm_find(name);
    if (!vm) {
        fmt_snprintf(err, errlen, "no VM named '%s'", name);
        return -1;
    }
    char why[160];
    if (vm_remove(vm, why, sizeof(why))) {
        str_copy(err, why, errlen);
        return -1;
    }
    pr_info("vm %s: undefined", name);
    return 0;
}
