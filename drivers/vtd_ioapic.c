/* Interrupt remapping of I/O APIC pins (VT-d 5.1.5.1): the pin's
 * redirection entry is written in remappable format and points at an IRTE
 * that only that I/O APIC (its source-id from the DMAR's I/O APIC scope)
 * may use, so the pin can raise only the vector and CPU the hypervisor
 * chose. Used for the hypervisor's own pins (the console UART, the NIC;
 * through the I/O APIC code's remapper hook) and for the INTx pins of
 * passed-through devices.
 *
 * With every pin in remappable format nothing legitimate needs the
 * compatibility format any more, so vtd.c blocks it (GCMD.CFI clear, and
 * extended interrupt mode where x2APIC is used): a device that writes a
 * compatibility-format MSI then raises nothing (fault reason 0x25). That
 * holds only when every I/O APIC sends through a unit that remaps
 * interrupts; vtd_ioapic_decide checks the DMAR for it. */
#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/irq.h"
#include "drivers/vtd_priv.h"
#include "lib/format.h"
#include "lib/log.h"
#include "lib/string.h"

#define MAX_REMAPPED_PINS 32

struct remapped_pin {
    bool used;
    bool host; /* routed for the hypervisor itself (ioapic_route_gsi) */
    uint32_t gsi;
    int handle;
    uint8_t vector;
    uint16_t sid;
};

static struct remapped_pin pins[MAX_REMAPPED_PINS];
/* Serializes routing (the table, the entries, the pins' redirection entries). */
static spinlock_t pins_lock = SPINLOCK_INIT;

bool vtd_compat_blocked;
char vtd_compat_why[96];

void vtd_ioapic_decide(unsigned remap_units)
{
    uint8_t ids[MAX_IOAPICS];
    unsigned n = 0;
    for (unsigned i = 0; i < ioapic_count() && n < MAX_IOAPICS; i++) {
        int id = ioapic_id_at(i);
        if (id >= 0)
            ids[n++] = (uint8_t)id;
    }
    vtd_compat_blocked = false;
    if (!remap_units) {
        str_copy(vtd_compat_why, "no unit remaps interrupts", sizeof(vtd_compat_why));
        return;
    }
    int bad = vtd_dmar_first_unremapped_ioapic(&vtd_dmar_info, ids, n, remap_units,
                                               vtd_bridge_buses, NULL);
    if (bad >= 0) {
        fmt_snprintf(vtd_compat_why, sizeof(vtd_compat_why),
                     "I/O APIC id %u is named by no unit that remaps interrupts", ids[bad]);
        return;
    }
    vtd_compat_blocked = true;
    vtd_compat_why[0] = 0;
}

static int route_pin(uint32_t gsi, uint8_t vector, uint32_t dest, bool level, bool active_low,
                     bool masked, bool host)
{
    int id = ioapic_gsi_id(gsi);
    uint16_t seg, sid;
    if (id < 0)
        return VTD_ERR_NODEV;
    int ui =
        vtd_dmar_ioapic_source(&vtd_dmar_info, (uint8_t)id, vtd_bridge_buses, NULL, &seg, &sid);
    if (ui < 0 || (unsigned)ui >= vtd_nr_units || !vtd_units[ui].ir)
        return VTD_ERR_NODEV;
    struct vtd_entry128 e;
    if (!vtd_irte_ioapic(vector, dest, vtd_units[ui].eim, sid, level, &e))
        return VTD_ERR_INVAL;
    spin_lock(&pins_lock);
    struct remapped_pin *slot = NULL;
    for (unsigned i = 0; i < MAX_REMAPPED_PINS && !slot; i++)
        if (pins[i].used && pins[i].gsi == gsi)
            slot = &pins[i];
    int h;
    if (slot) {
        /* Routed already: one pin, one entry; rewrite it in place. */
        h = slot->handle;
        ioapic_mask_gsi(gsi);
        int r = vtd_unit_irte_update((unsigned)ui, (unsigned)h & 0xffff, e);
        if (r) {
            spin_unlock(&pins_lock);
            return r;
        }
    } else {
        for (unsigned i = 0; i < MAX_REMAPPED_PINS && !slot; i++)
            if (!pins[i].used)
                slot = &pins[i];
        h = slot ? vtd_unit_irte_install((unsigned)ui, e) : VTD_ERR_NOMEM;
        if (h < 0) {
            spin_unlock(&pins_lock);
            return h;
        }
    }
    *slot = (struct remapped_pin){true, host, gsi, h, vector, sid};
    ioapic_write_rte(
        gsi, vtd_ioapic_rte_remappable((unsigned)h & 0xffff, vector, level, active_low, masked));
    spin_unlock(&pins_lock);
    return h;
}

int vtd_ioapic_route(uint32_t gsi, uint8_t vector, uint32_t dest, bool level, bool active_low,
                     bool masked)
{
    return route_pin(gsi, vector, dest, level, active_low, masked, false);
}

void vtd_ioapic_unroute(uint32_t gsi, int handle)
{
    if (handle < 0)
        return;
    ioapic_mask_gsi(gsi);
    spin_lock(&pins_lock);
    for (unsigned i = 0; i < MAX_REMAPPED_PINS; i++)
        if (pins[i].used && pins[i].handle == handle && pins[i].gsi == gsi)
            pins[i].used = false;
    spin_unlock(&pins_lock);
    vtd_irte_free(handle);
}

/* The I/O APIC code's remapper: every pin the hypervisor routes for itself. */
static enum ioapic_remap host_route(uint32_t gsi, uint8_t vector, uint32_t apic_id, bool level,
                                    bool active_low, bool masked)
{
    int h = route_pin(gsi, vector, apic_id, level, active_low, masked, true);
    if (h >= 0)
        return IOAPIC_REMAPPED;
    if (h == VTD_ERR_NODEV)
        return IOAPIC_NOT_REMAPPED; /* no unit remaps this I/O APIC: it passes as it is */
    pr_err("iommu: I/O APIC pin gsi %u (vector 0x%x, apic id %u): no remapping entry: %s; the pin "
           "stays masked",
           gsi, vector, apic_id, vtd_strerror(h));
    return IOAPIC_REMAP_FAILED;
}

void vtd_ioapic_start(void)
{
    unsigned moved = ioapic_set_remapper(host_route);
    if (vtd_compat_blocked)
        pr_info("iommu: the hypervisor's I/O APIC pins use interrupt remapping entries (%u "
                "re-routed); compatibility-format interrupts blocked",
                moved);
    else
        pr_warn("iommu: compatibility-format interrupts stay allowed (%s): a device can raise any "
                "vector",
                vtd_compat_why);
}

void vtd_ioapic_show(unsigned unit, void (*out)(const char *fmt, ...))
{
    struct vtd_unit *u = &vtd_units[unit];
    bool cfis = vtd_unit_cfis(unit);
    if (vtd_compat_blocked && !cfis)
        out("    compatibility-format interrupts: blocked (GSTS.CFIS 0%s)%s\n",
            u->eim ? ", and extended interrupt mode blocks them too" : "",
            u->cfi_control ? ""
                           : "; this unit ignored GCMD.CFI when probed and may pass them anyway "
                             "(QEMU's model does)");
    else
        out("    compatibility-format interrupts: allowed (GSTS.CFIS %u): %s\n", cfis,
            vtd_compat_blocked ? "the unit did not clear it" : vtd_compat_why);
    struct remapped_pin copy[MAX_REMAPPED_PINS];
    spin_lock(&pins_lock);
    memcpy(copy, pins, sizeof(copy));
    spin_unlock(&pins_lock);
    for (unsigned i = 0; i < MAX_REMAPPED_PINS; i++) {
        const struct remapped_pin *p = &copy[i];
        if (!p->used || (unsigned)p->handle >> 16 != unit)
            continue;
        /* What the pin really holds, read back from the I/O APIC. */
        uint64_t rte = 0;
        unsigned index = 0;
        bool points = !ioapic_read_rte(p->gsi, &rte) && vtd_ioapic_rte_index(rte, &index) &&
                      index == ((unsigned)p->handle & 0xffff);
        out("    i/o apic pin gsi %u (%s): remapping entry %u, vector 0x%x, source-id "
            "%02x:%02x.%u, %s, %llu interrupts\n",
            p->gsi, p->host ? "hypervisor" : "passthrough", (unsigned)p->handle & 0xffff, p->vector,
            p->sid >> 8, (p->sid >> 3) & 0x1f, p->sid & 7,
            points ? ((rte & IOAPIC_RTE_MASKED) ? "pin masked" : "pin in remappable format")
                   : "pin does not point at it",
            (unsigned long long)irq_count(p->vector));
    }
}
