/* Fault decoding, reasons and rate limiting; see vtd_fault.h. */
#include "drivers/vtd_fault.h"

#include "drivers/vtd_hw.h"
#include "lib/format.h"

void vtd_fault_decode(uint64_t lo, uint64_t hi, struct vtd_fault *f)
{
    f->sid = VTD_FRCD_SID(hi);
    f->reason = (uint8_t)VTD_FRCD_FR(hi);
    f->read = (hi & VTD_FRCD_T_READ) != 0;
    f->addr = VTD_FRCD_FI(lo);
    f->index = 0;
    if (vtd_fault_is_ir(f->reason)) {
        /* FI[63:48] holds the interrupt index; the type bit means nothing. */
        f->index = (uint16_t)(lo >> 48);
        f->addr = 0;
        f->read = false;
    }
}

bool vtd_fault_is_ir(unsigned reason)
{
    return reason >= 0x20 && reason <= 0x2f;
}

const char *vtd_fault_reason_str(unsigned reason)
{
    switch (reason) {
    case 0x01:
        return "root entry not present";
    case 0x02:
        return "context entry not present: device has no DMA access";
    case 0x03:
        return "invalid context entry";
    case 0x04:
        return "address beyond the domain's address width";
    case 0x05:
        return "write to a page without write permission";
    case 0x06:
        return "read from a page without read permission";
    case 0x07:
        return "cannot access a page-table entry";
    case 0x08:
        return "cannot access the root table";
    case 0x09:
        return "cannot access the context table";
    case 0x0a:
        return "reserved bit set in a root entry";
    case 0x0b:
        return "reserved bit set in a context entry";
    case 0x0c:
        return "reserved bit set in a page-table entry";
    case 0x0d:
        return "translated request blocked by the context entry";
    case 0x20:
        return "interrupt request with reserved fields set";
    case 0x21:
        return "interrupt index beyond the remapping table";
    case 0x22:
        return "interrupt remapping entry not present";
    case 0x23:
        return "cannot access the interrupt remapping table";
    case 0x24:
        return "reserved bit set in an interrupt remapping entry";
    case 0x25:
        return "compatibility-format interrupt blocked";
    case 0x26:
        return "interrupt blocked by source-id verification";
    case 0x27:
        return "posted interrupt blocked";
    }
    return "unknown";
}

int vtd_fault_format(const struct vtd_fault *f, char *buf, size_t len)
{
    if (vtd_fault_is_ir(f->reason))
        return fmt_snprintf(buf, len,
                            "iommu: fault %02x:%02x.%u write addr 0x0 reason 0x%02x (%s, "
                            "interrupt index %u)",
                            f->sid >> 8, (f->sid >> 3) & 0x1f, f->sid & 7, f->reason,
                            vtd_fault_reason_str(f->reason), f->index);
    return fmt_snprintf(buf, len, "iommu: fault %02x:%02x.%u %s addr 0x%llx reason 0x%02x (%s)",
                        f->sid >> 8, (f->sid >> 3) & 0x1f, f->sid & 7, f->read ? "read" : "write",
                        (unsigned long long)f->addr, f->reason, vtd_fault_reason_str(f->reason));
}

struct vtd_fault_stat *vtd_fault_stat_get(struct vtd_fault_stat *tab, unsigned n, uint16_t seg,
                                          uint16_t sid)
{
    struct vtd_fault_stat *free_slot = NULL;
    for (unsigned i = 0; i < n; i++) {
        if (tab[i].used && tab[i].seg == seg && tab[i].sid == sid)
            return &tab[i];
        if (!tab[i].used && !free_slot)
            free_slot = &tab[i];
    }
    if (!free_slot)
        return n ? &tab[n - 1] : NULL;
    free_slot->used = true;
    free_slot->seg = seg;
    free_slot->sid = sid;
    return free_slot;
}

bool vtd_fault_account(struct vtd_fault_stat *s, const struct vtd_fault *f, uint64_t now,
                       uint64_t window, uint64_t *suppressed_before)
{
    s->count++;
    s->last_addr = f->addr;
    s->last_reason = f->reason;
    if (s->count == 1 || now - s->window_start >= window) {
        s->window_start = now;
        s->in_window = 0;
    }
    if (s->in_window >= VTD_FAULT_BURST) {
        s->suppressed++;
        return false;
    }
    s->in_window++;
    *suppressed_before = s->suppressed;
    s->suppressed = 0;
    return true;
}
