/* MSI and MSI-X of a passed-through device, emulated: the guest's message
 * address, data and masks live here; a vector that is enabled and
 * unmasked is routed by the caller (ops->msi_route: an interrupt
 * remapping entry) and only then programmed, with the host's message,
 * into the hardware. The MSI-X table and PBA are trapped (vpci_bar_access);
 * the guest never writes a message into the hardware itself. One MSI
 * vector is offered (multiple-message capable reads 0). */
#include "vdev/vpci_priv.h"

#include "lib/format.h"

#define MSI_CTRL_ENABLE   (1u << 0)
#define MSI_CTRL_MME      (7u << 4)
#define MSI_CTRL_64       (1u << 7)
#define MSI_CTRL_MASKABLE (1u << 8)
#define MSIX_ENTRY_MASKED 1u
#define PAGE              4096ULL

static uint32_t merge(uint32_t old, uint32_t val, uint32_t mask)
{
    return (old & ~mask) | (val & mask);
}

/* --- MSI --------------------------------------------------------------- */

static unsigned msi_data_rel(const struct vpci_msi *m)
{
    return m->is64 ? 0xc : 0x8;
}

static void msi_hw_ctrl(struct vpci_bus *b, struct vpci_dev *d, bool enable)
{
    uint16_t c = (uint16_t)b->ops->cfg_read(b->ops->ctx, d, d->msi.cap + 2u, 2);
    c = (uint16_t)((c & ~(MSI_CTRL_ENABLE | MSI_CTRL_MME)) | (enable ? MSI_CTRL_ENABLE : 0));
    b->ops->cfg_write(b->ops->ctx, d, d->msi.cap + 2u, 2, c);
}

static void msi_hw_mask(struct vpci_bus *b, struct vpci_dev *d, bool masked)
{
    if (d->msi.maskable)
        b->ops->cfg_write(b->ops->ctx, d, d->msi.cap + msi_data_rel(&d->msi) + 4u, 4,
                          masked ? 1u : 0u);
}

static void msi_update(struct vpci_bus *b, struct vpci_dev *d)
{
    struct vpci_msi *m = &d->msi;
    bool want = m->enabled && !(m->maskable && (m->mask & 1));
    if (m->routed && (!want || m->routed_addr != m->addr || m->routed_data != m->data)) {
        if (m->maskable && m->enabled)
            msi_hw_mask(b, d, true);
        else
            msi_hw_ctrl(b, d, false);
        b->ops->msi_release(b->ops->ctx, d, VPCI_MSI_SLOT);
        m->routed = false;
    }
    if (!m->enabled)
        msi_hw_ctrl(b, d, false);
    if (!want || m->routed)
        return;
    uint64_t ha;
    uint32_t hd;
    if (!b->ops->msi_route(b->ops->ctx, d, VPCI_MSI_SLOT, m->addr, m->data, &ha, &hd) ||
        (!m->is64 && (ha >> 32))) {
        vpci_refuse(b, d, "MSI message cannot be routed to the VM: vector left off");
        return;
    }
    uint16_t cap = m->cap;
    msi_hw_mask(b, d, true);
    b->ops->cfg_write(b->ops->ctx, d, cap + 4u, 4, (uint32_t)ha);
    if (m->is64)
        b->ops->cfg_write(b->ops->ctx, d, cap + 8u, 4, (uint32_t)(ha >> 32));
    b->ops->cfg_write(b->ops->ctx, d, cap + msi_data_rel(m), 2, hd & 0xffff);
    msi_hw_ctrl(b, d, true);
    msi_hw_mask(b, d, false);
    m->routed = true;
    m->routed_addr = m->addr;
    m->routed_data = m->data;
}

uint32_t vpci_msi_read(struct vpci_bus *b, struct vpci_dev *d, unsigned rel)
{
    const struct vpci_msi *m = &d->msi;
    unsigned dr = msi_data_rel(m);
    if (rel == 0) {
        uint32_t c = (m->enabled ? MSI_CTRL_ENABLE : 0) | (m->is64 ? MSI_CTRL_64 : 0) |
                     (m->maskable ? MSI_CTRL_MASKABLE : 0);
        return c << 16;
    }
    if (rel == 4)
        return (uint32_t)m->addr;
    if (rel == 8 && m->is64)
        return (uint32_t)(m->addr >> 32);
    if (rel == dr)
        return m->data;
    if (m->maskable && rel == dr + 4)
        return m->mask;
    if (m->maskable && rel == dr + 8) /* pending: the hardware's, vector 0 only */
        return b->ops->cfg_read(b->ops->ctx, d, (uint16_t)(m->cap + rel), 4) & 1u;
    return 0;
}

void vpci_msi_write(struct vpci_bus *b, struct vpci_dev *d, unsigned rel, uint32_t val,
                    uint32_t mask)
{
    struct vpci_msi *m = &d->msi;
    unsigned dr = msi_data_rel(m);
    if (rel == 0) {
        if (mask & (MSI_CTRL_ENABLE << 16))
            m->enabled = (val >> 16) & MSI_CTRL_ENABLE;
    } else if (rel == 4) {
        m->addr = (m->addr & ~0xffffffffULL) | (merge((uint32_t)m->addr, val, mask) & ~3u);
    } else if (rel == 8 && m->is64) {
        m->addr = (m->addr & 0xffffffffULL) | (uint64_t)merge((uint32_t)(m->addr >> 32), val, mask)
                                                  << 32;
    } else if (rel == dr) {
        m->data = merge(m->data, val, mask) & 0xffff;
    } else if (m->maskable && rel == dr + 4) {
        m->mask = merge(m->mask, val, mask) & 1u;
    } else {
        return; /* pending bits and reserved: read-only */
    }
    msi_update(b, d);
}

/* --- MSI-X ------------------------------------------------------------- */

static uint64_t entry_addr(const struct vpci_msix_entry *e)
{
    return (uint64_t)e->addr_hi << 32 | e->addr_lo;
}

static void hw_entry_write(struct vpci_bus *b, struct vpci_dev *d, unsigned i, unsigned dw,
                           uint32_t v)
{
    b->ops->bar_write(b->ops->ctx, d, d->msix.table_bar, d->msix.table_off + 16ULL * i + 4 * dw, 4,
                      v);
}

static void msix_update(struct vpci_bus *b, struct vpci_dev *d, unsigned i)
{
    struct vpci_msix *x = &d->msix;
    struct vpci_msix_entry *e = &x->e[i];
    bool want = x->enabled && !x->fn_mask && !(e->ctrl & MSIX_ENTRY_MASKED);
    uint64_t addr = entry_addr(e);
    if (e->routed && (!want || e->routed_addr != addr || e->routed_data != e->data)) {
        hw_entry_write(b, d, i, 3, MSIX_ENTRY_MASKED);
        b->ops->msi_release(b->ops->ctx, d, VPCI_MSIX_SLOT(i));
        e->routed = false;
    }
    if (!want || e->routed)
        return;
    uint64_t ha;
    uint32_t hd;
    if (!b->ops->msi_route(b->ops->ctx, d, VPCI_MSIX_SLOT(i), addr, e->data, &ha, &hd)) {
        vpci_refuse(b, d, "MSI-X message cannot be routed to the VM: entry left masked");
        return;
    }
    hw_entry_write(b, d, i, 3, MSIX_ENTRY_MASKED);
    hw_entry_write(b, d, i, 0, (uint32_t)ha);
    hw_entry_write(b, d, i, 1, (uint32_t)(ha >> 32));
    hw_entry_write(b, d, i, 2, hd);
    hw_entry_write(b, d, i, 3, 0);
    e->routed = true;
    e->routed_addr = addr;
    e->routed_data = e->data;
}

static void msix_hw_ctrl(struct vpci_bus *b, struct vpci_dev *d, bool enable, bool fn_mask)
{
    uint16_t at = (uint16_t)(d->msix.cap + 2u);
    uint16_t c = (uint16_t)b->ops->cfg_read(b->ops->ctx, d, at, 2);
    c &= (uint16_t) ~(PCI_MSIX_CTRL_ENABLE | PCI_MSIX_CTRL_FN_MASK);
    c |= (uint16_t)((enable ? PCI_MSIX_CTRL_ENABLE : 0) | (fn_mask ? PCI_MSIX_CTRL_FN_MASK : 0));
    b->ops->cfg_write(b->ops->ctx, d, at, 2, c);
}

uint32_t vpci_msix_cap_read(struct vpci_bus *b, struct vpci_dev *d, unsigned rel)
{
    const struct vpci_msix *x = &d->msix;
    if (rel == 0)
        return ((x->nr - 1) | (x->fn_mask ? PCI_MSIX_CTRL_FN_MASK : 0) |
                (x->enabled ? PCI_MSIX_CTRL_ENABLE : 0))
               << 16;
    return vpci_snap32(d, x->cap + rel); /* table and PBA offset/BIR */
}

void vpci_msix_cap_write(struct vpci_bus *b, struct vpci_dev *d, unsigned rel, uint32_t val,
                         uint32_t mask)
{
    struct vpci_msix *x = &d->msix;
    if (rel != 0 || !(mask & 0xff000000u))
        return;
    bool was_on = x->enabled;
    x->enabled = val & (PCI_MSIX_CTRL_ENABLE << 16);
    x->fn_mask = val & (PCI_MSIX_CTRL_FN_MASK << 16);
    if (x->enabled && !was_on) {
        /* Whatever a previous owner left in the hardware table stays masked. */
        msix_hw_ctrl(b, d, false, true);
        for (unsigned i = 0; i < x->hw_nr; i++)
            if (i >= x->nr || !x->e[i].routed)
                hw_entry_write(b, d, i, 3, MSIX_ENTRY_MASKED);
    }
    for (unsigned i = 0; i < x->nr; i++)
        msix_update(b, d, i);
    msix_hw_ctrl(b, d, x->enabled, !x->enabled);
}

static bool msix_in_bar(const struct vpci_dev *d, unsigned bir, uint64_t off, uint64_t len)
{
    if (bir >= 6)
        return false;
    const struct vpci_bar *r = &d->bar[bir];
    return r->hw_size && !(r->flags & (PCI_BAR_IO | PCI_BAR_UPPER)) && off < r->hw_size &&
           len <= r->hw_size - off;
}

bool vpci_msi_init(struct vpci_bus *b, struct vpci_dev *d, char *err, size_t errlen)
{
    if (d->msi.cap) {
        uint16_t c = vpci_snap16(d, d->msi.cap + 2);
        d->msi.is64 = c & MSI_CTRL_64;
        d->msi.maskable = c & MSI_CTRL_MASKABLE;
        msi_hw_ctrl(b, d, false);
    }
    struct vpci_msix *x = &d->msix;
    if (x->cap) {
        uint32_t t = vpci_snap32(d, x->cap + 4), p = vpci_snap32(d, x->cap + 8);
        x->hw_nr = (vpci_snap16(d, x->cap + 2) & 0x7ff) + 1u;
        x->nr = x->hw_nr < VPCI_MSIX_MAX ? x->hw_nr : VPCI_MSIX_MAX;
        x->table_bar = t & 7;
        x->table_off = t & ~7u;
        x->pba_bar = p & 7;
        x->pba_off = p & ~7u;
        if (!msix_in_bar(d, x->table_bar, x->table_off, 16ULL * x->hw_nr) ||
            !msix_in_bar(d, x->pba_bar, x->pba_off, 8ULL * ((x->hw_nr + 63) / 64))) {
            fmt_snprintf(err, errlen, "its MSI-X table or PBA lies outside its memory BARs");
            return false;
        }
        for (unsigned i = 0; i < x->nr; i++)
            x->e[i].ctrl = MSIX_ENTRY_MASKED;
        msix_hw_ctrl(b, d, false, true);
    }
    return true;
}

void vpci_msi_release_all(struct vpci_bus *b, struct vpci_dev *d)
{
    if (d->msi.cap) {
        if (d->msi.routed)
            b->ops->msi_release(b->ops->ctx, d, VPCI_MSI_SLOT);
        d->msi.routed = false;
        d->msi.enabled = false;
        msi_hw_ctrl(b, d, false);
    }
    if (d->msix.cap) {
        for (unsigned i = 0; i < d->msix.nr; i++) {
            if (d->msix.e[i].routed) {
                hw_entry_write(b, d, i, 3, MSIX_ENTRY_MASKED);
                b->ops->msi_release(b->ops->ctx, d, VPCI_MSIX_SLOT(i));
            }
            d->msix.e[i].routed = false;
        }
        d->msix.enabled = false;
        msix_hw_ctrl(b, d, false, true);
    }
}

/* --- trapped pages of a BAR ------------------------------------------- */

static void add_range(uint64_t off[2], uint64_t len[2], unsigned *n, uint64_t a, uint64_t l)
{
    uint64_t s = a & ~(PAGE - 1), e = (a + l + PAGE - 1) & ~(PAGE - 1);
    for (unsigned i = 0; i < *n; i++) {
        if (s <= off[i] + len[i] && e >= off[i]) { /* overlapping or adjacent: merge */
            uint64_t ns = s < off[i] ? s : off[i];
            uint64_t ne = e > off[i] + len[i] ? e : off[i] + len[i];
            off[i] = ns;
            len[i] = ne - ns;
            return;
        }
    }
    off[*n] = s;
    len[*n] = e - s;
    (*n)++;
}

unsigned vpci_bar_traps(const struct vpci_dev *d, unsigned bar, uint64_t off[2], uint64_t len[2])
{
    unsigned n = 0;
    if (bar >= 6)
        return 0;
    const struct vpci_bar *r = &d->bar[bar];
    if (!r->size || (r->flags & (PCI_BAR_IO | PCI_BAR_UPPER)))
        return 0;
    if (r->hw_size < PAGE) {
        off[0] = 0;
        len[0] = r->size;
        return 1;
    }
    const struct vpci_msix *x = &d->msix;
    if (x->cap && x->table_bar == bar)
        add_range(off, len, &n, x->table_off, 16ULL * x->hw_nr);
    if (x->cap && x->pba_bar == bar)
        add_range(off, len, &n, x->pba_off, 8ULL * ((x->hw_nr + 63) / 64));
    return n;
}

static void table_access(struct vpci_bus *b, struct vpci_dev *d, uint64_t rel, unsigned width,
                         bool write, uint64_t *val)
{
    struct vpci_msix *x = &d->msix;
    unsigned i = (unsigned)(rel / 16), dw = (unsigned)(rel % 16) / 4;
    if ((width != 4 && width != 8) || (rel & (width - 1))) {
        if (!write)
            *val = width >= 8 ? ~0ULL : (1ULL << (8 * width)) - 1;
        return; /* the spec allows only aligned dword and qword accesses */
    }
    if (i >= x->nr) {
        if (!write)
            *val = 0;
        return; /* beyond the entries the guest was shown */
    }
    struct vpci_msix_entry *e = &x->e[i];
    uint32_t *regs[4] = {&e->addr_lo, &e->addr_hi, &e->data, &e->ctrl};
    if (!write) {
        *val = *regs[dw];
        if (width == 8)
            *val |= (uint64_t)*regs[dw + 1] << 32;
        return;
    }
    for (unsigned k = 0; k < width / 4; k++) {
        uint32_t v = (uint32_t)(*val >> (32 * k));
        unsigned r = dw + k;
        *regs[r] = r == 0 ? v & ~3u : r == 3 ? v & MSIX_ENTRY_MASKED : v;
    }
    msix_update(b, d, i);
}

void vpci_bar_access(struct vpci_bus *b, struct vpci_dev *d, unsigned bar, uint64_t off,
                     unsigned width, bool write, uint64_t *val)
{
    const struct vpci_msix *x = &d->msix;
    uint64_t ones = width >= 8 ? ~0ULL : (1ULL << (8 * width)) - 1;
    bool sized = width == 1 || width == 2 || width == 4 || width == 8;
    if (bar >= 6 || !sized) {
        if (!write)
            *val = ones;
        return;
    }
    if (x->cap && bar == x->table_bar && off >= x->table_off &&
        off - x->table_off < 16ULL * x->hw_nr) {
        table_access(b, d, off - x->table_off, width, write, val);
        return;
    }
    if (x->cap && bar == x->pba_bar && off >= x->pba_off &&
        off - x->pba_off < 8ULL * ((x->hw_nr + 63) / 64)) {
        if (!write)
            *val = b->ops->bar_read(b->ops->ctx, d, bar, off, width);
        return; /* the PBA is read-only */
    }
    /* Other registers sharing a trapped page (or a BAR under a page):
     * the device's own, forwarded whole when they lie inside the BAR. */
    if (off >= d->bar[bar].hw_size || width > d->bar[bar].hw_size - off) {
        if (!write)
            *val = ones;
        return;
    }
    if (write)
        b->ops->bar_write(b->ops->ctx, d, bar, off, width, *val & ones);
    else
        *val = b->ops->bar_read(b->ops->ctx, d, bar, off, width) & ones;
}
