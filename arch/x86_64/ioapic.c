#include "arch/x86_64/ioapic.h"

#include "arch/x86_64/ioapic_rte.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/irq.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/percpu.h"
#include "drivers/acpi.h"
#include "lib/log.h"
#include "lib/spinlock.h"

#define IOREGSEL 0x00
#define IOWIN    0x10

#define IOAPIC_REG_ID  0x00
#define IOAPIC_REG_VER 0x01
#define IOAPIC_REDTBL  0x10

#define RTE_MASKED ((uint32_t)IOAPIC_RTE_MASKED)

/* MPS INTI flags (MADT interrupt source override). */
#define INTI_POLARITY_MASK 0x3
#define INTI_POLARITY_HIGH 0x1
#define INTI_POLARITY_LOW  0x3
#define INTI_TRIGGER_MASK  0xc
#define INTI_TRIGGER_EDGE  0x4
#define INTI_TRIGGER_LEVEL 0xc

struct ioapic {
    volatile uint32_t *base;
    uint8_t id;
    uint32_t gsi_base;
    unsigned pins;
};

static struct ioapic ioapics[MAX_IOAPICS];
static unsigned nr_ioapics;
/* IOREGSEL/IOWIN is a two-step access: one user at a time. */
static spinlock_t ioapic_lock = SPINLOCK_INIT;
/* Set once by the IOMMU driver when it remaps interrupts. */
static ioapic_remap_fn remapper;

unsigned ioapic_count(void)
{
    return nr_ioapics;
}

static uint32_t io_read(struct ioapic *io, uint32_t reg)
{
    io->base[IOREGSEL / 4] = reg;
    return io->base[IOWIN / 4];
}

static void io_write(struct ioapic *io, uint32_t reg, uint32_t v)
{
    io->base[IOREGSEL / 4] = reg;
    io->base[IOWIN / 4] = v;
}

static struct ioapic *find_gsi(uint32_t gsi, unsigned *pin)
{
    for (unsigned i = 0; i < nr_ioapics; i++) {
        struct ioapic *io = &ioapics[i];
        if (gsi >= io->gsi_base && gsi - io->gsi_base < io->pins) {
            *pin = gsi - io->gsi_base;
            return io;
        }
    }
    return NULL;
}

static bool overlaps(uint32_t base, unsigned pins)
{
    for (unsigned i = 0; i < nr_ioapics; i++)
        if (base < ioapics[i].gsi_base + ioapics[i].pins && ioapics[i].gsi_base < base + pins)
            return true;
    return false;
}

unsigned ioapic_init(void)
{
    for (unsigned i = 0; i < acpi.nr_ioapics && i < ACPI_MAX_IOAPICS; i++) {
        const struct acpi_ioapic *a = &acpi.ioapics[i];
        if (nr_ioapics == MAX_IOAPICS) {
            pr_warn("ioapic: more than %d I/O APICs; ignoring the rest", MAX_IOAPICS);
            break;
        }
        /* Register window is 32 bytes; the spec aligns it to 1 KiB. */
        if (!a->addr || (a->addr & 0x3ff) || a->addr < 0x100000) {
            pr_warn("ioapic: MADT entry %u has implausible address 0x%x; skipped", i, a->addr);
            continue;
        }
        if (paging_map_mmio(a->addr, PAGE_SIZE)) {
            pr_warn("ioapic: cannot map 0x%x; skipped", a->addr);
            continue;
        }
        struct ioapic *io = &ioapics[nr_ioapics];
        io->base = (volatile uint32_t *)(uint64_t)a->addr;
        io->id = a->id;
        io->gsi_base = a->gsi_base;
        uint32_t ver = io_read(io, IOAPIC_REG_VER);
        if (ver == 0xffffffffu) {
            pr_warn("ioapic: nothing answers at 0x%x; skipped", a->addr);
            continue;
        }
        io->pins = ((ver >> 16) & 0xff) + 1;
        if (io->gsi_base > 0xffffff || overlaps(io->gsi_base, io->pins)) {
            pr_warn("ioapic: id %u GSI range %u+%u overlaps another or is absurd; skipped", io->id,
                    io->gsi_base, io->pins);
            continue;
        }
        for (unsigned pin = 0; pin < io->pins; pin++) {
            io_write(io, IOAPIC_REDTBL + 2 * pin, RTE_MASKED);
            io_write(io, IOAPIC_REDTBL + 2 * pin + 1, 0);
        }
        nr_ioapics++;
        pr_info("ioapic: id %u at 0x%x, version 0x%x, GSIs %u-%u, all masked", io->id, a->addr,
                ver & 0xff, io->gsi_base, io->gsi_base + io->pins - 1);
    }
    if (!nr_ioapics)
        pr_warn("ioapic: none usable; device interrupts are unavailable");
    return nr_ioapics;
}

int ioapic_route_gsi(uint32_t gsi, uint8_t vector, unsigned dest_cpu, bool level, bool active_low)
{
    unsigned pin;
    struct ioapic *io = find_gsi(gsi, &pin);
    if (!io) {
        pr_err("ioapic: GSI %u is not on any I/O APIC", gsi);
        return -1;
    }
    if (vector < VEC_PIC_BASE + 16 || dest_cpu >= MAX_CPUS || !cpus[dest_cpu]) {
        pr_err("ioapic: cannot route GSI %u to vector 0x%x on cpu %u", gsi, vector, dest_cpu);
        return -1;
    }
    uint32_t apic_id = cpus[dest_cpu]->apic_id;
    ioapic_remap_fn remap = __atomic_load_n(&remapper, __ATOMIC_ACQUIRE);
    if (remap) {
        enum ioapic_remap r = remap(gsi, vector, apic_id, level, active_low, false);
        if (r != IOAPIC_NOT_REMAPPED)
            return r == IOAPIC_REMAPPED ? 0 : -1;
    }
    if (apic_id > 0xff) {
        /* Needs interrupt remapping (x2APIC IDs past 255). */
        pr_err("ioapic: cpu %u (apic id %u) not addressable without remapping", dest_cpu, apic_id);
        return -1;
    }
    struct ioapic_route route = {vector, (uint8_t)apic_id, level, active_low};
    uint64_t rte = ioapic_rte_compat(&route);
    unsigned long flags = irq_save();
    spin_lock(&ioapic_lock);
    io_write(io, IOAPIC_REDTBL + 2 * pin, RTE_MASKED);
    io_write(io, IOAPIC_REDTBL + 2 * pin + 1, (uint32_t)(rte >> 32));
    io_write(io, IOAPIC_REDTBL + 2 * pin, (uint32_t)rte);
    spin_unlock(&ioapic_lock);
    irq_restore(flags);
    return 0;
}

static const struct acpi_override *find_override(unsigned isa_irq)
{
    for (unsigned i = 0; i < acpi.nr_overrides && i < ACPI_MAX_OVERRIDES; i++)
        if (acpi.overrides[i].bus_irq == isa_irq)
            return &acpi.overrides[i];
    return NULL;
}

uint32_t ioapic_isa_to_gsi(unsigned isa_irq)
{
    const struct acpi_override *o = find_override(isa_irq);
    return o ? o->gsi : isa_irq;
}

int ioapic_route_isa_irq(unsigned isa_irq, uint8_t vector, unsigned dest_cpu)
{
    if (isa_irq > 15) {
        pr_err("ioapic: ISA IRQ %u out of range", isa_irq);
        return -1;
    }
    /* ISA defaults: edge, active high ("conforms to bus" = 00). */
    bool level = false, active_low = false;
    uint32_t gsi = isa_irq;
    const struct acpi_override *o = find_override(isa_irq);
    if (o) {
        gsi = o->gsi;
        level = (o->flags & INTI_TRIGGER_MASK) == INTI_TRIGGER_LEVEL;
        active_low = (o->flags & INTI_POLARITY_MASK) == INTI_POLARITY_LOW;
    }
    return ioapic_route_gsi(gsi, vector, dest_cpu, level, active_low);
}

/* Sets or clears the mask bit of a GSI's redirection entry. */
static int set_gsi_masked(uint32_t gsi, bool masked)
{
    unsigned pin;
    struct ioapic *io = find_gsi(gsi, &pin);
    if (!io)
        return -1;
    unsigned long flags = irq_save();
    spin_lock(&ioapic_lock);
    uint32_t low = io_read(io, IOAPIC_REDTBL + 2 * pin);
    io_write(io, IOAPIC_REDTBL + 2 * pin, masked ? low | RTE_MASKED : low & ~RTE_MASKED);
    spin_unlock(&ioapic_lock);
    irq_restore(flags);
    return 0;
}

int ioapic_mask_gsi(uint32_t gsi)
{
    return set_gsi_masked(gsi, true);
}

int ioapic_unmask_gsi(uint32_t gsi)
{
    return set_gsi_masked(gsi, false);
}

int ioapic_gsi_id(uint32_t gsi)
{
    unsigned pin;
    struct ioapic *io = find_gsi(gsi, &pin);
    return io ? io->id : -1;
}

int ioapic_read_rte(uint32_t gsi, uint64_t *rte)
{
    unsigned pin;
    struct ioapic *io = find_gsi(gsi, &pin);
    if (!io)
        return -1;
    unsigned long flags = irq_save();
    spin_lock(&ioapic_lock);
    *rte = io_read(io, IOAPIC_REDTBL + 2 * pin) | (uint64_t)io_read(io, IOAPIC_REDTBL + 2 * pin + 1)
                                                      << 32;
    spin_unlock(&ioapic_lock);
    irq_restore(flags);
    return 0;
}

int ioapic_write_rte(uint32_t gsi, uint64_t rte)
{
    unsigned pin;
    struct ioapic *io = find_gsi(gsi, &pin);
    if (!io)
        return -1;
    unsigned long flags = irq_save();
    spin_lock(&ioapic_lock);
    io_write(io, IOAPIC_REDTBL + 2 * pin, RTE_MASKED);
    io_write(io, IOAPIC_REDTBL + 2 * pin + 1, (uint32_t)(rte >> 32));
    io_write(io, IOAPIC_REDTBL + 2 * pin, (uint32_t)rte);
    spin_unlock(&ioapic_lock);
    irq_restore(flags);
    return 0;
}

int ioapic_id_at(unsigned i)
{
    return i < nr_ioapics ? ioapics[i].id : -1;
}

unsigned ioapic_set_remapper(ioapic_remap_fn fn)
{
    unsigned moved = 0;
    __atomic_store_n(&remapper, fn, __ATOMIC_RELEASE);
    /* Pins routed before remapping started would be blocked from now on
     * (compatibility format): hand each to the remapper. */
    for (unsigned i = 0; i < nr_ioapics && fn; i++)
        for (unsigned pin = 0; pin < ioapics[i].pins; pin++) {
            uint32_t gsi = ioapics[i].gsi_base + pin;
            uint64_t rte;
            struct ioapic_route r;
            if (ioapic_read_rte(gsi, &rte) || !ioapic_rte_compat_route(rte, &r))
                continue;
            enum ioapic_remap res = fn(gsi, r.vector, r.dest, r.level, r.active_low, false);
            if (res == IOAPIC_REMAPPED)
                moved++;
            else if (res == IOAPIC_REMAP_FAILED)
                ioapic_mask_gsi(gsi);
        }
    return moved;
}
