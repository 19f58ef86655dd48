/* Configuration checks that need every VM, or facts about the machine. Of
 * two VMs that conflict the later one is marked invalid, so the first keeps
 * running; a VM already invalid claims nothing. (PCI devices are not
 * checked: the parser refuses `pci` until passthrough exists.) */
#include "core/config.h"

#include "boot/layout.h"
#include "vdev/acpi_gen.h"
#include "lib/format.h"
#include "lib/string.h"

static void verr(struct config *cfg, unsigned i, unsigned line, const char *msg)
{
    config_add_error(cfg, line, cfg->vms[i].name, "%s", msg);
    cfg->vm_valid[i] = false;
}

/* Index of the module with this name, or -1. */
static int find_module(const struct config_machine *m, const char *name)
{
    for (unsigned i = 0; i < m->nr_modules; i++)
        if (m->module_names && m->module_names[i] && !strcmp(m->module_names[i], name))
            return (int)i;
    return -1;
}

/* kernel or initrd: loaded, and not an empty file. */
static void check_module(struct config *cfg, unsigned i, const struct config_machine *m,
                         const char *key, const char *name, unsigned line)
{
    char msg[160];
    int k = find_module(m, name);
    if (k < 0)
        fmt_snprintf(msg, sizeof(msg), "%s: module '%s' is not present", key, name);
    else if (m->module_sizes && m->module_sizes[k] == 0)
        fmt_snprintf(msg, sizeof(msg), "%s: module '%s' is empty (0 bytes)", key, name);
    else
        return;
    verr(cfg, i, line, msg);
}

static bool uses_cpu(const struct vm_config *vm, unsigned cpu)
{
    for (unsigned i = 0; i < vm->nr_vcpus && i < MAX_VCPUS; i++)
        if (vm->pcpu[i] == cpu)
            return true;
    return false;
}

/* Checks against the machine alone. */
static void check_machine(struct config *cfg, unsigned i, const struct config_machine *m)
{
    const struct vm_config *vm = &cfg->vms[i];
    const struct config_vm_lines *l = &cfg->vm_lines[i];
    char msg[160], a[24], b[24];

    if (m->check_modules) {
        if (vm->kernel[0])
            check_module(cfg, i, m, "kernel", vm->kernel, l->kernel);
        if (vm->initrd[0])
            check_module(cfg, i, m, "initrd", vm->initrd, l->initrd);
        for (unsigned k = 0; k < vm->nr_modules && k < VM_MAX_MODULES; k++)
            check_module(cfg, i, m, "modules", vm->modules[k].name, l->modules);
    }
    if (m->nr_cpus) {
        for (unsigned c = 0; c < vm->nr_vcpus && c < MAX_VCPUS; c++) {
            if (vm->pcpu[c] >= m->nr_cpus) {
                fmt_snprintf(msg, sizeof(msg), "cpus: CPU %u does not exist (the machine has %u)",
                             vm->pcpu[c], m->nr_cpus);
                verr(cfg, i, l->cpus, msg);
                break;
            }
        }
    }
    if (m->free_ram && vm->mem_size > m->free_ram) {
        config_format_size(vm->mem_size, a, sizeof(a));
        config_format_size(m->free_ram, b, sizeof(b));
        fmt_snprintf(msg, sizeof(msg), "memory: %s is more than the free RAM (%s)", a, b);
        verr(cfg, i, l->memory, msg);
    }
}

/* Ports every VM's accesses must reach the hypervisor for: it drives them
 * itself, or emulates them (the PC platform, the guests' ACPI PM block,
 * reset), or an emulator turns them into a debug line or a machine exit. */
static const struct config_port_range hv_ports[] = {
    {0x20, 2, "the PIC"},
    {0xa0, 2, "the PIC"},
    {0x40, 4, "the PIT"},
    {0x60, 1, "the keyboard controller (reset)"},
    {0x64, 1, "the keyboard controller (reset)"},
    {0x61, 1, "port 0x61 (PIT gate)"},
    {0x70, 2, "the RTC"},
    {0x92, 1, "the reset port 0x92"},
    {0xe9, 1, "the emulator debug port"},
    {0xf4, 1, "the emulator exit port"},
    {0x4d0, 2, "the PIC ELCR"},
    {ACPI_GEN_PM1A_EVT, ACPI_GEN_PM1_EVT_LEN, "the ACPI PM1a event block"},
    {ACPI_GEN_PM1A_CNT, ACPI_GEN_PM1_CNT_LEN, "the ACPI PM1a control block"},
    {ACPI_GEN_PM_TMR, ACPI_GEN_PM_TMR_LEN, "the ACPI PM timer"},
    {0xcf8, 8, "PCI configuration and reset"},
    {0x8900, 1, "the emulator shutdown port"},
};

/* A console= value's port base (already checked by the parser); 0: none. */
static unsigned console_value_port(const char *v)
{
    unsigned port = 0;
    if (!strcmp(v, "com1"))
        return 0x3f8;
    if (!strcmp(v, "com2"))
        return 0x2f8;
    if (v[0] != '0' || v[1] != 'x')
        return 0; /* mmio */
    for (v += 2; *v && port <= 0xffff; v++) {
        char c = *v;
        unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                            : 16u;
        if (d > 15)
            return 0;
        port = port * 16 + d;
    }
    return port <= 0xfff8 ? port : 0;
}

/* One range against one owned range; adds the error and returns true on overlap. */
static bool port_clash(struct config *cfg, unsigned i, unsigned b, unsigned e, unsigned ob,
                       unsigned oc, const char *what)
{
    char msg[160];
    unsigned oe = ob + oc - 1u;
    if (!oc || b > oe || ob > e)
        return false;
    fmt_snprintf(msg, sizeof(msg),
                 "ioports: 0x%x-0x%x overlaps %s (0x%x-0x%x), which the "
                 "hypervisor owns",
                 b, e, what, ob, oe);
    verr(cfg, i, cfg->vm_lines[i].ioports, msg);
    return true;
}

/* Passed-through ports must never include one the hypervisor owns. */
static void check_ports(struct config *cfg, unsigned i, const struct config_machine *m)
{
    const struct vm_config *vm = &cfg->vms[i];
    unsigned con_cfg = console_value_port(cfg->global.console);
    unsigned con_mach = m && m->console_port ? m->console_port : CONFIG_CONSOLE_DEFAULT;

    for (unsigned x = 0; x < vm->nr_ioports && x < VM_MAX_IOPORTS; x++) {
        unsigned b = vm->ioports[x].base, e = b + vm->ioports[x].count - 1u;
        bool bad = false;
        if (con_cfg)
            bad = port_clash(cfg, i, b, e, con_cfg, 8, "the console UART");
        if (!bad && con_mach != CONFIG_CONSOLE_MMIO && con_mach != con_cfg)
            bad = port_clash(cfg, i, b, e, con_mach, 8, "the console UART");
        for (unsigned k = 0; !bad && k < sizeof(hv_ports) / sizeof(hv_ports[0]); k++)
            bad = port_clash(cfg, i, b, e, hv_ports[k].base, hv_ports[k].count, hv_ports[k].what);
        for (unsigned k = 0; !bad && m && m->host_ports && k < m->nr_host_ports; k++)
            bad = port_clash(cfg, i, b, e, m->host_ports[k].base, m->host_ports[k].count,
                             m->host_ports[k].what ? m->host_ports[k].what : "a host device");
    }
}

/* Host-physical memory the hypervisor keeps on every machine (boot/layout.h,
 * which linker.ld also reads). What it allocates at run time, and where GRUB
 * puts the boot modules and information, differ per boot: vm_start finds
 * those, and the boot summary counts the VMs that failed to start. */
static const struct {
    uint64_t base, size;
    const char *what;
} hv_memory[] = {
    {HV_IMAGE_BASE, HV_IMAGE_MAX, "the hypervisor image"},
};

/* A fixed range must stay clear of the hypervisor's own memory. */
static void check_reserved(struct config *cfg, unsigned i)
{
    const struct vm_config *vm = &cfg->vms[i];
    char msg[160];

    if (!vm->mem_base)
        return;
    uint64_t b = vm->mem_base, e = b + vm->mem_size - 1;
    for (unsigned k = 0; k < sizeof(hv_memory) / sizeof(hv_memory[0]); k++) {
        uint64_t hb = hv_memory[k].base, he = hb + hv_memory[k].size - 1;
        if (b > he || hb > e)
            continue;
        fmt_snprintf(msg, sizeof(msg),
                     "memory_base: 0x%llx-0x%llx overlaps %s (0x%llx-0x%llx), which the "
                     "hypervisor keeps",
                     (unsigned long long)b, (unsigned long long)e, hv_memory[k].what,
                     (unsigned long long)hb, (unsigned long long)he);
        verr(cfg, i, cfg->vm_lines[i].memory_base, msg);
        return;
    }
}

/* Checks VM j against an earlier valid VM i; returns true on a conflict. */
static bool check_pair(struct config *cfg, unsigned i, unsigned j)
{
    const struct vm_config *a = &cfg->vms[i], *b = &cfg->vms[j];
    const struct config_vm_lines *l = &cfg->vm_lines[j];
    char msg[160];

    if (a->mem_base && b->mem_base && b->mem_base < a->mem_base + a->mem_size &&
        a->mem_base < b->mem_base + b->mem_size) {
        fmt_snprintf(
            msg, sizeof(msg), "memory_base: 0x%llx-0x%llx overlaps vm %s (0x%llx-0x%llx, line %u)",
            (unsigned long long)b->mem_base, (unsigned long long)(b->mem_base + b->mem_size - 1),
            a->name, (unsigned long long)a->mem_base,
            (unsigned long long)(a->mem_base + a->mem_size - 1), cfg->vm_lines[i].memory_base);
        verr(cfg, j, l->memory_base, msg);
        return true;
    }
    for (unsigned c = 0; c < b->nr_vcpus && c < MAX_VCPUS; c++) {
        unsigned cpu = b->pcpu[c];
        if (!uses_cpu(a, cpu))
            continue;
        if (a->dedicated)
            fmt_snprintf(msg, sizeof(msg), "cpus: CPU %u is already dedicated to vm %s (line %u)",
                         cpu, a->name, cfg->vm_lines[i].cpus);
        else if (b->dedicated)
            fmt_snprintf(msg, sizeof(msg),
                         "cpus: CPU %u cannot be dedicated: vm %s also runs on it (line %u)", cpu,
                         a->name, cfg->vm_lines[i].cpus);
        else
            continue;
        verr(cfg, j, l->cpus, msg);
        return true;
    }
    for (unsigned x = 0; x < b->nr_ioports && x < VM_MAX_IOPORTS; x++) {
        unsigned bb = b->ioports[x].base, be = bb + b->ioports[x].count - 1u;
        for (unsigned y = 0; y < a->nr_ioports && y < VM_MAX_IOPORTS; y++) {
            unsigned ab = a->ioports[y].base, ae = ab + a->ioports[y].count - 1u;
            if (bb > ae || ab > be)
                continue;
            fmt_snprintf(msg, sizeof(msg),
                         "ioports: 0x%x-0x%x overlaps 0x%x-0x%x of vm %s (line %u)", bb, be, ab, ae,
                         a->name, cfg->vm_lines[i].ioports);
            verr(cfg, j, l->ioports, msg);
            return true;
        }
    }
    return false;
}

static const struct config_pci_fact *pci_fact(const struct config_machine *m, uint16_t seg,
                                              uint16_t sid)
{
    for (unsigned k = 0; k < m->nr_pci; k++)
        if (m->pci[k].seg == seg && m->pci[k].sid == sid)
            return &m->pci[k];
    return NULL;
}

static uint16_t cfg_sid(const struct vm_config *vm, unsigned x)
{
    return (uint16_t)(vm->pci[x].bus << 8 | vm->pci[x].dev << 3 | vm->pci[x].fn);
}

/* Which valid VM before `before` has seg:sid, or -1. */
static int pci_owner(const struct config *cfg, unsigned before, uint16_t seg, uint16_t sid)
{
    for (unsigned i = 0; i < before; i++)
        for (unsigned x = 0; cfg->vm_valid[i] && x < cfg->vms[i].nr_pci && x < VM_MAX_PCI; x++)
            if (cfg->vms[i].pci[x].seg == seg && cfg_sid(&cfg->vms[i], x) == sid)
                return (int)i;
    return -1;
}

/* `pci`: one VM per device; with machine facts also: the device exists, is
 * no bridge, an IOMMU exists or the VM accepts `iommu = off-unsafe`, and
 * devices that cannot be isolated from each other go to one VM. */
static void check_pci(struct config *cfg, unsigned j, const struct config_machine *m)
{
    const struct vm_config *vm = &cfg->vms[j];
    unsigned line = cfg->vm_lines[j].pci;
    char msg[160];
    for (unsigned x = 0; x < vm->nr_pci && x < VM_MAX_PCI && cfg->vm_valid[j]; x++) {
        uint16_t seg = vm->pci[x].seg, sid = cfg_sid(vm, x);
        char me[16];
        fmt_snprintf(me, sizeof(me), "%02x:%02x.%x", sid >> 8, (sid >> 3) & 0x1f, sid & 7);
        int o = pci_owner(cfg, j, seg, sid);
        if (o >= 0) {
            fmt_snprintf(msg, sizeof(msg), "pci: %s is already given to vm %s (line %u)", me,
                         cfg->vms[o].name, cfg->vm_lines[o].pci);
            verr(cfg, j, line, msg);
            return;
        }
        if (!m || !m->pci_known)
            continue;
        const struct config_pci_fact *f = pci_fact(m, seg, sid);
        if (!f || f->bridge) {
            fmt_snprintf(msg, sizeof(msg), "pci: %s %s", me,
                         f ? "is a bridge: only devices can be given to a VM"
                           : "does not exist on this machine (the `pci` console command lists "
                             "the devices)");
            verr(cfg, j, line, msg);
            return;
        }
        if (m->iommu < 0 && !vm->iommu_off_unsafe) {
            fmt_snprintf(msg, sizeof(msg),
                         "pci: this machine has no IOMMU, so %s could DMA anywhere: refused "
                         "unless the VM says `iommu = off-unsafe`",
                         me);
            verr(cfg, j, line, msg);
            return;
        }
        /* Its group: every other member goes to this VM or to none. */
        for (unsigned k = 0; k < m->nr_pci; k++) {
            const struct config_pci_fact *g = &m->pci[k];
            if (g == f || g->group != f->group || g->seg != seg)
                continue;
            int other = pci_owner(cfg, j, g->seg, g->sid);
            if (other < 0)
                continue;
            fmt_snprintf(msg, sizeof(msg),
                         "pci: %s and %02x:%02x.%x (vm %s) cannot be isolated from each other "
                         "(%s): give them to the same VM",
                         me, g->sid >> 8, (g->sid >> 3) & 0x1f, g->sid & 7, cfg->vms[other].name,
                         f->why   ? f->why
                         : g->why ? g->why
                                  : "one isolation group");
            verr(cfg, j, line, msg);
            return;
        }
    }
}

int config_validate(struct config *cfg, const struct config_machine *m)
{
    unsigned n = cfg->nr_vms < CONFIG_MAX_VMS ? cfg->nr_vms : CONFIG_MAX_VMS;

    for (unsigned i = 0; i < n; i++) {
        check_ports(cfg, i, m);
        check_reserved(cfg, i);
    }
    if (m) {
        for (unsigned i = 0; i < n; i++)
            check_machine(cfg, i, m);
    }
    for (unsigned j = 0; j < n; j++) {
        if (!cfg->vm_valid[j])
            continue;
        for (unsigned i = 0; i < j; i++)
            if (cfg->vm_valid[i] && check_pair(cfg, i, j))
                break;
    }
    for (unsigned j = 0; j < n; j++)
        if (cfg->vm_valid[j])
            check_pci(cfg, j, m);
    config_net_validate(cfg);
    /* The autostart VMs together must fit; the first ones that fit win. */
    if (m && m->free_ram) {
        uint64_t total = 0;
        for (unsigned i = 0; i < n; i++) {
            const struct vm_config *vm = &cfg->vms[i];
            if (!cfg->vm_valid[i] || !vm->autostart)
                continue;
            if (vm->mem_size > m->free_ram - total) {
                char a[24], b[24], c[24], msg[160];
                config_format_size(vm->mem_size, a, sizeof(a));
                config_format_size(m->free_ram - total, b, sizeof(b));
                config_format_size(m->free_ram, c, sizeof(c));
                fmt_snprintf(msg, sizeof(msg),
                             "memory: %s does not fit: autostart VMs before it leave %s of the "
                             "free RAM (%s)",
                             a, b, c);
                verr(cfg, i, cfg->vm_lines[i].memory, msg);
                continue;
            }
            total += vm->mem_size;
        }
    }
    return (int)cfg->nr_errors;
}
