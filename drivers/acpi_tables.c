/* Parsers for the MADT, HPET, MCFG and DMAR tables. The caller has already
 * checked the header length and checksum; these check every structure
 * inside against the table end. */
#include "drivers/acpi_internal.h"
#include "lib/log.h"

#define MADT_ENTRIES_OFF 44
#define MADT_LAPIC       0
#define MADT_IOAPIC      1
#define MADT_ISO         2
#define MADT_LAPIC_NMI   4
#define MADT_LAPIC_ADDR  5
#define MADT_X2APIC      9

#define MADT_ENABLED        (1u << 0)
#define MADT_ONLINE_CAPABLE (1u << 1)

#define HPET_MIN_LEN     56
#define MCFG_ENTRIES_OFF 44
#define MCFG_ENTRY_LEN   16
#define DMAR_ENTRIES_OFF 48
#define DMAR_DRHD        0
#define DMAR_RMRR        1
#define DMAR_DRHD_MIN    16

#define P(phys) ((unsigned long long)(phys))

/* ---- MADT ---- */

static void madt_add_cpu(struct acpi_info *o, uint32_t apic_id, uint32_t uid, uint32_t flags,
                         bool x2apic, uint64_t phys)
{
    if (!(flags & (MADT_ENABLED | MADT_ONLINE_CAPABLE)))
        return; /* neither running nor hot-pluggable: not a CPU we can use */
    for (unsigned i = 0; i < o->nr_cpus; i++) {
        if (o->cpus[i].apic_id == apic_id) {
            pr_warn("acpi: APIC at 0x%llx: APIC ID %u listed twice, ignored", P(phys), apic_id);
            return;
        }
    }
    if (o->nr_cpus >= ACPI_MAX_CPUS) {
        if (o->nr_cpus_ignored++ == 0)
            pr_warn("acpi: APIC at 0x%llx: more than %u CPUs, the rest ignored", P(phys),
                    ACPI_MAX_CPUS);
        return;
    }
    struct acpi_cpu *c = &o->cpus[o->nr_cpus++];
    c->apic_id = apic_id;
    c->uid = uid;
    c->enabled = (flags & MADT_ENABLED) != 0;
    c->x2apic = x2apic;
}

static unsigned madt_min_len(uint8_t type)
{
    switch (type) {
    case MADT_LAPIC:
        return 8;
    case MADT_IOAPIC:
        return 12;
    case MADT_ISO:
        return 10;
    case MADT_LAPIC_NMI:
        return 6;
    case MADT_LAPIC_ADDR:
        return 12;
    case MADT_X2APIC:
        return 16;
    default:
        return 2;
    }
}

static void madt_entry(struct acpi_info *o, const uint8_t *e, uint64_t phys, uint32_t off)
{
    switch (e[0]) {
    case MADT_LAPIC:
        if (e[3] == 0xFF) {
            pr_warn("acpi: APIC at 0x%llx: local APIC entry at offset %u has APIC ID 0xff, "
                    "ignored",
                    P(phys), off);
            return;
        }
        madt_add_cpu(o, e[3], e[2], acpi_rd32(e + 4), false, phys);
        break;
    case MADT_X2APIC:
        if (acpi_rd32(e + 4) == 0xFFFFFFFF)
            return;
        madt_add_cpu(o, acpi_rd32(e + 4), acpi_rd32(e + 12), acpi_rd32(e + 8), true, phys);
        break;
    case MADT_IOAPIC: {
        uint32_t addr = acpi_rd32(e + 4);
        if (!addr) {
            pr_warn("acpi: APIC at 0x%llx: I/O APIC %u at address 0, ignored", P(phys), e[2]);
            return;
        }
        if (o->nr_ioapics >= ACPI_MAX_IOAPICS) {
            pr_warn("acpi: APIC at 0x%llx: more than %u I/O APICs, 0x%x ignored", P(phys),
                    ACPI_MAX_IOAPICS, addr);
            return;
        }
        struct acpi_ioapic *io = &o->ioapics[o->nr_ioapics++];
        io->id = e[2];
        io->addr = addr;
        io->gsi_base = acpi_rd32(e + 8);
        break;
    }
    case MADT_ISO:
        if (e[2] != 0) {
            pr_warn("acpi: APIC at 0x%llx: override for bus %u (not ISA), ignored", P(phys), e[2]);
            return;
        }
        if (o->nr_overrides >= ACPI_MAX_OVERRIDES) {
            pr_warn("acpi: APIC at 0x%llx: more than %u overrides, IRQ %u ignored", P(phys),
                    ACPI_MAX_OVERRIDES, e[3]);
            return;
        }
        o->overrides[o->nr_overrides].bus_irq = e[3];
        o->overrides[o->nr_overrides].gsi = acpi_rd32(e + 4);
        o->overrides[o->nr_overrides].flags = acpi_rd16(e + 8);
        o->nr_overrides++;
        break;
    case MADT_LAPIC_ADDR:
        if (acpi_rd64(e + 4))
            o->lapic_addr = acpi_rd64(e + 4);
        break;
    default:
        break; /* NMI sources and the rest are not needed in root mode */
    }
}

bool acpi_parse_madt(struct acpi_info *o, const uint8_t *t, uint32_t len, uint64_t phys)
{
    if (len < MADT_ENTRIES_OFF) {
        pr_warn("acpi: APIC at 0x%llx: length %u too short for a MADT, skipped", P(phys), len);
        return false;
    }
    o->lapic_addr = acpi_rd32(t + 36);
    o->pcat_compat = acpi_rd32(t + 40) & 1;
    uint32_t off = MADT_ENTRIES_OFF;
    while (off < len) {
        /* A broken entry leaves no way to find the next one: stop there. */
        if (len - off < 2) {
            pr_warn("acpi: APIC at 0x%llx: stray byte at offset %u", P(phys), off);
            break;
        }
        uint8_t type = t[off], elen = t[off + 1];
        if (elen < 2) {
            pr_warn("acpi: APIC at 0x%llx: entry type %u at offset %u has length %u; "
                    "rest of the table ignored",
                    P(phys), type, off, elen);
            break;
        }
        if (elen > len - off) {
            pr_warn("acpi: APIC at 0x%llx: entry type %u at offset %u (length %u) runs past "
                    "the table end (%u); rest ignored",
                    P(phys), type, off, elen, len);
            break;
        }
        if (elen < madt_min_len(type))
            pr_warn("acpi: APIC at 0x%llx: entry type %u at offset %u too short (%u bytes), "
                    "ignored",
                    P(phys), type, off, elen);
        else
            madt_entry(o, t + off, phys, off);
        off += elen;
    }
    o->has_madt = true;
    return true;
}

/* ---- HPET ---- */

bool acpi_parse_hpet(struct acpi_info *o, const uint8_t *t, uint32_t len, uint64_t phys)
{
    if (len < HPET_MIN_LEN) {
        pr_warn("acpi: HPET at 0x%llx: length %u too short, skipped", P(phys), len);
        return false;
    }
    struct acpi_gas g;
    acpi_read_gas(t + 40, &g);
    if (g.space_id != ACPI_GAS_MEMORY || !g.address) {
        pr_warn("acpi: HPET at 0x%llx: base address space %u address 0x%llx unusable, skipped",
                P(phys), g.space_id, P(g.address));
        return false;
    }
    o->hpet_addr = g.address;
    o->has_hpet = true;
    return true;
}

/* ---- MCFG ---- */

bool acpi_parse_mcfg(struct acpi_info *o, const uint8_t *t, uint32_t len, uint64_t phys)
{
    if (len < MCFG_ENTRIES_OFF) {
        pr_warn("acpi: MCFG at 0x%llx: length %u too short, skipped", P(phys), len);
        return false;
    }
    uint32_t n = (len - MCFG_ENTRIES_OFF) / MCFG_ENTRY_LEN;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *e = t + MCFG_ENTRIES_OFF + i * MCFG_ENTRY_LEN;
        uint64_t base = acpi_rd64(e);
        uint16_t seg = acpi_rd16(e + 8);
        uint8_t start = e[10], end = e[11];
        if (!base || start > end || base > UINT64_MAX - ((uint64_t)(end + 1) << 20)) {
            pr_warn("acpi: MCFG at 0x%llx: entry %u (base 0x%llx segment %u buses %u-%u) "
                    "invalid, ignored",
                    P(phys), i, P(base), seg, start, end);
            continue;
        }
        if (o->nr_mcfg >= ACPI_MAX_MCFG) {
            pr_warn("acpi: MCFG at 0x%llx: more than %u entries, the rest ignored", P(phys),
                    ACPI_MAX_MCFG);
            break;
        }
        struct acpi_mcfg *m = &o->mcfg[o->nr_mcfg++];
        m->base = base;
        m->segment = seg;
        m->start_bus = start;
        m->end_bus = end;
    }
    return true;
}

/* ---- DMAR ---- */

bool acpi_parse_dmar(struct acpi_info *o, const uint8_t *t, uint32_t len, uint64_t phys)
{
    if (len < DMAR_ENTRIES_OFF) {
        pr_warn("acpi: DMAR at 0x%llx: length %u too short, skipped", P(phys), len);
        return false;
    }
    o->dmar_haw = (uint8_t)(t[36] + 1);
    o->dmar_flags = t[37];
    uint32_t off = DMAR_ENTRIES_OFF;
    while (off < len) {
        if (len - off < 4) {
            pr_warn("acpi: DMAR at 0x%llx: stray bytes at offset %u", P(phys), off);
            break;
        }
        uint16_t type = acpi_rd16(t + off), elen = acpi_rd16(t + off + 2);
        if (elen < 4 || elen > len - off) {
            pr_warn("acpi: DMAR at 0x%llx: structure type %u at offset %u has bad length %u; "
                    "rest ignored",
                    P(phys), type, off, elen);
            break;
        }
        const uint8_t *e = t + off;
        if (type == DMAR_DRHD) {
            uint64_t base = elen >= DMAR_DRHD_MIN ? acpi_rd64(e + 8) : 0;
            if (!base || (base & 0xFFF)) {
                pr_warn("acpi: DMAR at 0x%llx: DRHD at offset %u (length %u, base 0x%llx) "
                        "invalid, ignored",
                        P(phys), off, elen, P(base));
            } else if (o->nr_drhd >= ACPI_MAX_DRHD) {
                pr_warn("acpi: DMAR at 0x%llx: more than %u DRHDs, 0x%llx ignored", P(phys),
                        ACPI_MAX_DRHD, P(base));
            } else {
                struct acpi_drhd *d = &o->drhd[o->nr_drhd++];
                d->flags = e[4];
                d->segment = acpi_rd16(e + 6);
                d->base = base;
            }
        } else if (type == DMAR_RMRR) {
            o->nr_rmrr++;
        }
        off += elen;
    }
    o->has_dmar = true;
    return true;
}
