/* Interrupt remapping of I/O APIC pins (VT-d 5.1.5.1): the pin's
 * redirection entry is written in remappable format and points at an IRTE
 * that only that I/O APIC (its source-id from the DMAR's I/O APIC scope)
 * may use, so the pin can raise only the vector and CPU the hypervisor
 * chose. Used for the INTx pins of passed-through devices. */
#include "arch/x86_64/ioapic.h"
#include "drivers/vtd_priv.h"
#include "lib/log.h"
#include "lib/string.h"

#define MAX_REMAPPED_PINS 32

struct remapped_pin {
    bool used;
    uint32_t gsi;
    int handle;
    uint8_t vector;
    uint16_t sid;
};

static struct remapped_pin pins[MAX_REMAPPED_PINS];
static spinlock_t pins_lock = SPINLOCK_INIT;

int vtd_ioapic_route(uint32_t gsi, uint8_t vector, uint32_t dest, bool level, bool active_low,
                     bool masked)
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
        if (!pins[i].used)
            slot = &pins[i];
    if (slot)
        slot->used = true;
    spin_unlock(&pins_lock);
    if (!slot)
        return VTD_ERR_NOMEM;
    int h = vtd_unit_irte_install((unsigned)ui, e);
    if (h < 0) {
        slot->used = false;
        return h;
    }
    slot->gsi = gsi;
    slot->handle = h;
    slot->vector = vector;
    slot->sid = sid;
    ioapic_write_rte(
        gsi, vtd_ioapic_rte_remappable((unsigned)h & 0xffff, vector, level, active_low, masked));
    return h;
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

void vtd_ioapic_show(unsigned unit, void (*out)(const char *fmt, ...))
{
    struct remapped_pin copy[MAX_REMAPPED_PINS];
    spin_lock(&pins_lock);
    memcpy(copy, pins, sizeof(copy));
    spin_unlock(&pins_lock);
    for (unsigned i = 0; i < MAX_REMAPPED_PINS; i++)
        if (copy[i].used && (unsigned)copy[i].handle >> 16 == unit)
            out("    i/o apic pin gsi %u: remapping entry %u, vector 0x%x, source-id "
                "%02x:%02x.%u\n",
                copy[i].gsi, (unsigned)copy[i].handle & 0xffff, copy[i].vector, copy[i].sid >> 8,
                (copy[i].sid >> 3) & 0x1f, copy[i].sid & 7);
}
