#include "core/boot_vms.h"

#include "arch/x86_64/lapic.h"
#include "arch/x86_64/percpu.h"
#include "core/cmdline.h"
#include "core/config.h"
#include "core/vm_define.h"
#include "core/vmspec.h"
#include "drivers/acpi.h"
#include "drivers/pci_group.h"
#include "drivers/vtd.h"
#include "drivers/uart16550.h"
#include "loader/modules.h"
#include "vm/vm.h"
#include "lib/log.h"
#include "lib/string.h"
#include "mm/pmm.h"

#define CONFIG_MODULE "bulkhead.cfg"
/* Kept back for EPT tables, vCPUs and the like when checking guest RAM. */
#define HYPERVISOR_RESERVE (16ULL << 20)

static struct config config;
static bool have_config;
static const char *module_names[32];
static uint64_t module_sizes[32];
static struct config_port_range host_ports[5];

/* The host's own ACPI I/O ports (the hypervisor uses them for power-off,
 * reset and time): no VM may have them passed through. */
/* The machine's PCI functions and isolation groups, for checking `pci`. */
static void pci_facts(struct config_machine *m)
{
    static struct pci_group groups[PCI_MAX_DEVICES];
    static struct config_pci_fact facts[PCI_MAX_DEVICES];
    unsigned n = pci_groups_host(groups, PCI_MAX_DEVICES);
    for (unsigned i = 0; i < n; i++) {
        const struct pci_dev *d = pci_get(i);
        facts[i] = (struct config_pci_fact){
            d->seg, PCI_BDF(d->bus, d->dev, d->fn), groups[i].leader,
            groups[i].why[0] ? groups[i].why : NULL, d->header_type != PCI_HEADER_NORMAL};
    }
    m->pci_known = true;
    m->nr_pci = n;
    m->pci = facts;
    m->iommu = vtd_active() ? 1 : -1;
    m->x2apic = lapic_is_x2apic() ? 1 : -1;
}

static unsigned find_host_ports(void)
{
    unsigned n = 0;
    const struct {
        uint64_t port;
        unsigned len;
        const char *what;
    } c[] = {
        {acpi.pm1a_cnt_blk, 2, "the host ACPI PM1a control block"},
        {acpi.pm1b_cnt_blk, 2, "the host ACPI PM1b control block"},
        {acpi.pm_tmr_blk, 4, "the host ACPI PM timer"},
        {acpi.smi_cmd, 1, "the host ACPI SMI command port"},
        {acpi.has_reset_reg && acpi.reset_reg.space_id == 1 ? acpi.reset_reg.address : 0, 1,
         "the host ACPI reset register"},
    };
    for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++)
        if (c[i].port && c[i].port + c[i].len <= 0x10000)
            host_ports[n++] =
                (struct config_port_range){(uint16_t)c[i].port, (uint16_t)c[i].len, c[i].what};
    return n;
}

void boot_vms_machine(struct config_machine *mach)
{
    static unsigned nr_host_ports;
    static bool ports_known;
    memset(mach, 0, sizeof(*mach));
    mach->nr_cpus = nr_cpus;
    /* The RAM for guests at the first call (boot): a VM defined later is
     * checked against the machine, not against what running VMs left. */
    static uint64_t boot_free;
    if (!boot_free) {
        uint64_t free = pmm_free_pages() * 4096;
        boot_free = free > HYPERVISOR_RESERVE ? free - HYPERVISOR_RESERVE : 1;
    }
    mach->free_ram = boot_free;
    unsigned nm = guest_module_count();
    if (nm > 32)
        nm = 32;
    for (unsigned i = 0; i < nm; i++) {
        const struct guest_module *gm = guest_module_get(i);
        module_names[i] = gm->name;
        module_sizes[i] = gm->end - gm->start;
    }
    mach->nr_modules = nm;
    mach->module_names = module_names;
    mach->module_sizes = module_sizes;
    mach->check_modules = true;
    const struct uart_config *uc = uart_get_config();
    mach->console_port = uc->mmio ? CONFIG_CONSOLE_MMIO : (unsigned)uc->base;
    if (!ports_known) {
        nr_host_ports = find_host_ports();
        ports_known = true;
    }
    mach->nr_host_ports = nr_host_ports;
    mach->host_ports = host_ports;
    pci_facts(mach);
}

const struct config_global *boot_vms_global(void)
{
    return have_config ? &config.global : NULL;
}

static struct vm *define_vm(const struct vm_config *cfg)
{
    char err[160];
    struct vm *vm = vm_create(cfg, err, sizeof(err));
    if (!vm)
        pr_err("vm %s: not defined: %s", cfg->name, err);
    return vm;
}

static bool start_vm(struct vm *vm)
{
    char err[160];
    if (vm_start(vm, err, sizeof(err))) {
        pr_err("vm %s: not started: %s", vm->cfg.name, err);
        return false;
    }
    return true;
}

static void define_and_start(const struct vm_config *cfg, bool start)
{
    struct vm *vm = define_vm(cfg);
    if (vm && start)
        start_vm(vm);
}

void boot_vms_from_config(const struct cmdline *cl)
{
    const struct guest_module *m = guest_module_find(CONFIG_MODULE);
    char line[256];

    /* GRUB passes no name unless one follows the path: such a module can
     * never be found, the configuration included. */
    for (unsigned i = 0; i < guest_module_count(); i++)
        if (!guest_module_get(i)->name[0])
            pr_err("boot: module %u has no name; write it after the path in grub.cfg, "
                   "e.g. module2 /boot/%s %s",
                   i, i ? "kernel.elf" : CONFIG_MODULE, i ? "kernel.elf" : CONFIG_MODULE);
    if (!m) {
        if (cmdline_get(cl, "vm"))
            pr_info("config: no %s module; VMs come from vm= options only", CONFIG_MODULE);
        else
            pr_warn("config: no %s module and no vm= options: no VMs", CONFIG_MODULE);
        return;
    }
    if (m->end == m->start) {
        /* GRUB loads an empty (or unreadable-as-empty) file as a 0-byte module. */
        pr_err("config: module %s is empty: no VMs defined from it", CONFIG_MODULE);
        pr_info("config: 0 VMs defined, 0 autostarted, 0 failed to start, 1 errors");
        return;
    }
    config_parse((const char *)m->start, m->end - m->start, CONFIG_MODULE, &config);
    have_config = true;
    if (config.global.upload_limit)
        module_store_set_limit(config.global.upload_limit);

    struct config_machine mach;
    boot_vms_machine(&mach);
    config_validate(&config, &mach);

    for (unsigned i = 0; i < config.nr_errors; i++) {
        config_format_error(&config.errors[i], CONFIG_MODULE, line, sizeof(line));
        pr_err("config: %s", line);
    }
    const struct config_global *g = &config.global;
    if (g->loglevel >= 0 && !cmdline_get(cl, "loglevel"))
        log_set_level(g->loglevel);

    unsigned defined = 0, started = 0, failed = 0;
    struct vm *made[CONFIG_MAX_VMS] = {0};
    for (unsigned i = 0; i < config.nr_vms; i++) {
        if (!config.vm_valid[i]) {
            pr_err("config: vm %s has errors and will not start", config.vms[i].name);
            continue;
        }
        made[i] = define_vm(&config.vms[i]);
        if (made[i])
            defined++;
        else
            failed += config.vms[i].autostart;
    }
    /* Fixed ranges first, before other VMs' RAM can land on them. */
    for (unsigned pass = 0; pass < 2; pass++) {
        for (unsigned i = 0; i < config.nr_vms; i++) {
            if (!made[i] || !config.vms[i].autostart ||
                (config.vms[i].mem_base != 0) != (pass == 0))
                continue;
            if (start_vm(made[i]))
                started++;
            else
                failed++;
        }
    }
    if (!config.nr_vms && !config.nr_errors && !cmdline_get(cl, "vm"))
        pr_warn("config: %s defines no VMs", CONFIG_MODULE);
    /* Every VM that should be running and is not is counted here. */
    pr_info("config: %u VMs defined, %u autostarted, %u failed to start, %u errors", defined,
            started, failed, config.nr_errors);
}

void boot_vms_from_cmdline(const struct cmdline *cl)
{
    const char *specs[MAX_VMS];
    char err[160];
    unsigned n = cmdline_get_all(cl, "vm", specs, MAX_VMS);
    for (unsigned i = 0; i < n; i++) {
        struct vm_config cfg;
        if (vmspec_parse(specs[i], &cfg, err, sizeof(err))) {
            pr_err("%s", err);
            continue;
        }
        if (cfg.pcpu[0] >= nr_cpus) {
            pr_err("vm=%s: cpu %u does not exist (%u cpus online)", cfg.name, cfg.pcpu[0], nr_cpus);
            continue;
        }
        define_and_start(&cfg, true);
    }
}
