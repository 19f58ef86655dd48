/* Configuration checks that need every VM, or facts about the machine. Of
 * two VMs that conflict the later one is marked invalid, so the first keeps
 * running; a VM already invalid claims nothing. */
#include "core/config.h"

#include "guest/acpi_gen.h"
#include "lib/format.h"
#include "lib/string.h"

static void verr(struct config *cfg, unsigned i, unsigned line, const char *msg)
{
    config_add_error(cfg, line, cfg->vms[i].name, "%s", msg);
    cfg->vm_valid[i] = false;
}

static bool pci_eq(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn,
                   const struct config_pci_dev *d)
{
    return seg == d->seg && bus == d->bus && dev == d->dev && fn == d->fn;
}

static void format_bdf(char *buf, size_t len, uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn)
{
    if (seg)
        fmt_snprintf(buf, len, "%04x:%02x:%02x.%x", seg, bus, dev, fn);
    else
        fmt_snprintf(buf, len, "%02x:%02x.%x", bus, dev, fn);
}

static bool has_module(const struct config_machine *m, const char *name)
{
    for (unsigned i = 0; i < m->nr_modules; i++)
        if (m->module_names && m->module_names[i] && !strcmp(m->module_names[i], name))
            return true;
    return false;
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
        if (vm->kernel[0] && !has_module(m, vm->kernel)) {
            fmt_snprintf(msg, sizeof(msg), "kernel: module '%s' is not present", vm->kernel);
            verr(cfg, i, l->kernel, msg);
        }
        if (vm->initrd[0] && !has_module(m, vm->initrd)) {
            fmt_snprintf(msg, sizeof(msg), "initrd: module '%s' is not present", vm->initrd);
            verr(cfg, i, l->initrd, msg);
        }
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
    if (m->check_pci) {
        for (unsigned d = 0; d < vm->nr_pci && d < VM_MAX_PCI; d++) {
            bool found = false;
            for (unsigned k = 0; k < m->nr_pci && m->pci && !found; k++)
                found = pci_eq(vm->pci[d].seg, vm->pci[d].bus, vm->pci[d].dev, vm->pci[d].fn,
                               &m->pci[k]);
            if (!found) {
                format_bdf(a, sizeof(a), vm->pci[d].seg, vm->pci[d].bus, vm->pci[d].dev,
                           vm->pci[d].fn);
                fmt_snprintf(msg, sizeof(msg), "pci: device %s is not present", a);
                verr(cfg, i, l->pci, msg);
                break;
            }
        }
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

/* Checks VM j against an earlier valid VM i; returns true on a conflict. */
static bool check_pair(struct config *cfg, unsigned i, unsigned j)
{
    const struct vm_config *a = &cfg->vms[i], *b = &cfg->vms[j];
    const struct config_vm_lines *l = &cfg->vm_lines[j];
    char msg[160], d[24];

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
    for (unsigned x = 0; x < b->nr_pci && x < VM_MAX_PCI; x++) {
        for (unsigned y = 0; y < a->nr_pci && y < VM_MAX_PCI; y++) {
            const struct config_pci_dev dev = {a->pci[y].seg, a->pci[y].bus, a->pci[y].dev,
                                               a->pci[y].fn};
            if (!pci_eq(b->pci[x].seg, b->pci[x].bus, b->pci[x].dev, b->pci[x].fn, &dev))
                continue;
            format_bdf(d, sizeof(d), dev.seg, dev.bus, dev.dev, dev.fn);
            fmt_snprintf(msg, sizeof(msg), "pci: device %s is already given to vm %s (line %u)", d,
                         a->name, cfg->vm_lines[i].pci);
            verr(cfg, j, l->pci, msg);
            return true;
        }
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

int config_validate(struct config *cfg, const struct config_machine *m)
{
    unsigned n = cfg->nr_vms < CONFIG_MAX_VMS ? cfg->nr_vms : CONFIG_MAX_VMS;

    for (unsigned i = 0; i < n; i++)
        check_ports(cfg, i, m);
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
