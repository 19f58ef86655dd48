/* The VM's PCI bus: the host bridge, the header of each passed-through
 * device, and the two ways in (0xCF8/0xCFC and ECAM). See vpci_bridge.h. */
#include "vdev/vpci_priv.h"

#include "lib/format.h"
#include "lib/string.h"

void vpci_refuse(struct vpci_bus *b, struct vpci_dev *d, const char *what)
{
    d->refused++;
    if (b->ops->refused)
        b->ops->refused(b->ops->ctx, d, what);
}

void vpci_bus_init(struct vpci_bus *b, const struct vpci_ops *ops, struct vpci_window mmio,
                   struct vpci_window io)
{
    memset(b, 0, sizeof(*b));
    b->ops = ops;
    b->mmio = mmio;
    b->io = io;
}

struct vpci_dev *vpci_add_device(struct vpci_bus *b, const struct pci_dev *hw, char *err,
                                 size_t errlen)
{
    if (b->nr >= VPCI_MAX_DEVS) {
        fmt_snprintf(err, errlen, "more than %u devices on the VM's bus", VPCI_MAX_DEVS);
        return NULL;
    }
    if (hw->header_type != PCI_HEADER_NORMAL) {
        fmt_snprintf(err, errlen, "%02x:%02x.%x is a bridge (header type %u), not a device",
                     hw->bus, hw->dev, hw->fn, hw->header_type);
        return NULL;
    }
    struct vpci_dev *d = &b->dev[b->nr];
    memset(d, 0, sizeof(*d));
    d->slot = (uint8_t)(b->nr + 1);
    d->host_seg = hw->seg;
    d->host_bdf = PCI_BDF(hw->bus, hw->dev, hw->fn);
    for (unsigned off = 0; off < VPCI_CFG_SIZE; off += 4) {
        uint32_t v = b->ops->cfg_read(b->ops->ctx, d, (uint16_t)off, 4);
        for (unsigned i = 0; i < 4; i++)
            d->cfg[off + i] = (uint8_t)(v >> (8 * i));
    }
    if (vpci_snap16(d, PCI_VENDOR_ID) != hw->vendor ||
        vpci_snap16(d, PCI_DEVICE_ID) != hw->device) {
        fmt_snprintf(err, errlen, "%02x:%02x.%x no longer answers as %04x:%04x", hw->bus, hw->dev,
                     hw->fn, hw->vendor, hw->device);
        return NULL;
    }
    vpci_bars_init(d, hw);
    if (!vpci_caps_scan(d, err, errlen) || !vpci_msi_init(b, d, err, errlen))
        return NULL;
    d->irq_line = d->cfg[PCI_INTERRUPT];
    /* The device may not master the bus before the guest asks (and its
     * domain exists); decoding of its host BARs stays as it was. */
    uint16_t cmd = (uint16_t)b->ops->cfg_read(b->ops->ctx, d, PCI_COMMAND, 2);
    b->ops->cfg_write(b->ops->ctx, d, PCI_COMMAND, 2, cmd & ~PCI_COMMAND_MASTER);
    b->nr++;
    return d;
}

static bool alloc_in(struct vpci_window *w, uint64_t *cursor, uint64_t size, uint64_t *out)
{
    uint64_t a = (*cursor + size - 1) & ~(size - 1);
    if (a < *cursor || a + size < a || a + size > w->base + w->size)
        return false;
    *out = a;
    *cursor = a + size;
    return true;
}

static uint64_t io_extent(const struct vpci_bar *bar)
{
    return bar->size < 4 ? 4 : bar->size;
}

/* Whether [a, a+size) collides with an I/O BAR placed already. */
static bool io_taken(const struct vpci_bus *b, bool placed[][6], uint64_t a, uint64_t size)
{
    for (unsigned n = 0; n < b->nr; n++)
        for (unsigned i = 0; i < 6; i++) {
            const struct vpci_bar *o = &b->dev[n].bar[i];
            if (placed[n][i] && a < o->guest + io_extent(o) && o->guest < a + size)
                return true;
        }
    return false;
}

bool vpci_assign_bars(struct vpci_bus *b)
{
    uint64_t mcur = b->mmio.base;
    bool placed[VPCI_MAX_DEVS][6] = {{false}};
    /* I/O BARs at their host ports where the window has them. */
    for (unsigned n = 0; n < b->nr; n++)
        for (unsigned i = 0; i < 6; i++) {
            struct vpci_bar *bar = &b->dev[n].bar[i];
            uint64_t sz = io_extent(bar);
            if (!(bar->flags & PCI_BAR_IO) || !bar->size || (bar->host & (sz - 1)) ||
                !vpci_in_window(&b->io, bar->host, sz) || io_taken(b, placed, bar->host, sz))
                continue;
            bar->guest = bar->host;
            placed[n][i] = true;
        }
    /* Largest first, so natural alignment wastes nothing. */
    for (uint64_t sz = 1ULL << 63; sz; sz >>= 1) {
        for (unsigned n = 0; n < b->nr; n++) {
            for (unsigned i = 0; i < 6; i++) {
                struct vpci_bar *bar = &b->dev[n].bar[i];
                if (bar->size != sz || placed[n][i])
                    continue;
                uint64_t a;
                if (!(bar->flags & PCI_BAR_IO)) {
                    /* MMIO: whole pages in the EPT */
                    if (!alloc_in(&b->mmio, &mcur, sz < 4096 ? 4096 : sz, &a))
                        return false;
                } else {
                    uint64_t ext = io_extent(bar);
                    a = (b->io.base + ext - 1) & ~(ext - 1);
                    while (vpci_in_window(&b->io, a, ext) && io_taken(b, placed, a, ext))
                        a += ext;
                    if (!vpci_in_window(&b->io, a, ext))
                        return false;
                    placed[n][i] = true;
                }
                bar->guest = a;
            }
        }
    }
    return true;
}

static uint32_t host_bridge_read(unsigned off)
{
    if (off == PCI_VENDOR_ID)
        return VPCI_HOST_VENDOR | (uint32_t)VPCI_HOST_DEVICE << 16;
    if (off == PCI_CLASS_REV)
        return (uint32_t)PCI_CLASS_BRIDGE << 24 | (uint32_t)PCI_SUBCLASS_HOST << 16 | 0x02;
    return 0; /* no BARs, no capabilities, nothing writable */
}

static struct vpci_dev *find_dev(struct vpci_bus *b, uint16_t bdf)
{
    if (PCI_BUS(bdf) != 0 || PCI_FN(bdf) != 0)
        return NULL;
    for (unsigned i = 0; i < b->nr; i++)
        if (b->dev[i].slot == PCI_DEV(bdf))
            return &b->dev[i];
    return NULL;
}

static uint32_t header_read(struct vpci_bus *b, struct vpci_dev *d, unsigned off)
{
    if (off == PCI_COMMAND) {
        uint16_t st = (uint16_t)b->ops->cfg_read(b->ops->ctx, d, PCI_STATUS, 2);
        st &= ~PCI_STATUS_CAP_LIST;
        if (d->first_cap)
            st |= PCI_STATUS_CAP_LIST;
        return d->command | (uint32_t)st << 16;
    }
    if (off == 0x0c) /* cache line, latency, header type (single function), BIST none */
        return d->cache_line | (uint32_t)d->latency << 8 |
               (uint32_t)(d->cfg[PCI_HEADER_TYPE] & 0x7f) << 16;
    if (off >= PCI_BAR0 && off < PCI_BAR0 + 24)
        return vpci_bar_read(d, (off - PCI_BAR0) / 4);
    if (off == PCI_CAP_PTR)
        return d->first_cap;
    if (off == PCI_INTERRUPT)
        return d->irq_line | (vpci_snap32(d, off) & 0xffffff00u);
    if (off == PCI_VENDOR_ID || off == PCI_CLASS_REV || off == 0x2c)
        return vpci_snap32(d, off); /* IDs, class, subsystem: the hardware's */
    return 0;                       /* CardBus CIS, expansion ROM (hidden), reserved */
}

/* Status bits that are write-one-to-clear error flags. */
#define PCI_STATUS_RW1C 0xf900u

static void header_write(struct vpci_bus *b, struct vpci_dev *d, unsigned off, uint32_t val,
                         uint32_t mask)
{
    if (off == PCI_COMMAND) {
        if (mask & 0xffff)
            vpci_command_write(b, d, (uint16_t)val, (uint16_t)mask);
        uint16_t clear = (uint16_t)((val & mask) >> 16) & PCI_STATUS_RW1C;
        if (clear)
            b->ops->cfg_write(b->ops->ctx, d, PCI_STATUS, 2, clear);
    } else if (off == 0x0c) {
        if (mask & 0xff)
            d->cache_line = (uint8_t)val;
        if (mask & 0xff00)
            d->latency = (uint8_t)(val >> 8);
    } else if (off >= PCI_BAR0 && off < PCI_BAR0 + 24) {
        vpci_bar_write(b, d, (off - PCI_BAR0) / 4, val, mask);
    } else if (off == PCI_INTERRUPT) {
        if (mask & 0xff)
            d->irq_line = (uint8_t)val;
    }
    /* Everything else in the header is read-only or hidden: dropped. */
}

static uint32_t read32(struct vpci_bus *b, uint16_t bdf, unsigned off)
{
    if (bdf == 0)
        return off < VPCI_CFG_SIZE ? host_bridge_read(off) : 0;
    struct vpci_dev *d = find_dev(b, bdf);
    if (!d)
        return 0xffffffffu;
    if (off < 0x40)
        return header_read(b, d, off);
    if (off < VPCI_CFG_SIZE)
        return vpci_cap_read(b, d, off);
    return 0; /* extended space: no extended capabilities shown */
}

static void write32(struct vpci_bus *b, uint16_t bdf, unsigned off, uint32_t val, uint32_t mask)
{
    struct vpci_dev *d = find_dev(b, bdf);
    if (!d)
        return;
    if (off < 0x40)
        header_write(b, d, off, val, mask);
    else if (off < VPCI_CFG_SIZE)
        vpci_cap_write(b, d, off, val, mask);
}

static bool access_ok(uint16_t reg, unsigned width)
{
    return (width == 1 || width == 2 || width == 4) && !(reg & (width - 1)) && reg < 0x1000;
}

uint32_t vpci_cfg_read(struct vpci_bus *b, uint16_t bdf, uint16_t reg, unsigned width)
{
    uint32_t ones = width >= 4 ? 0xffffffffu : (1u << (8 * width)) - 1;
    if (!access_ok(reg, width))
        return ones;
    return (read32(b, bdf, reg & ~3u) >> (8 * (reg & 3))) & ones;
}

void vpci_cfg_write(struct vpci_bus *b, uint16_t bdf, uint16_t reg, unsigned width, uint32_t val)
{
    if (!access_ok(reg, width))
        return;
    unsigned sh = 8 * (reg & 3);
    uint32_t mask = vpci_byte_mask(((1u << width) - 1) << (reg & 3));
    write32(b, bdf, reg & ~3u, (uint32_t)((uint64_t)val << sh), mask);
}

bool vpci_bus_io(struct vpci_bus *b, uint16_t port, unsigned size, bool in, uint32_t *val)
{
    if (port < 0xcf8 || port > 0xcff)
        return false;
    if (port == 0xcf9 && size == 1)
        return false; /* reset control */
    if (size != 1 && size != 2 && size != 4) {
        if (in)
            *val = 0xffffffffu;
        return true;
    }
    uint32_t ones = size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
    if (port < 0xcfc) {
        /* Only dword accesses reach the address latch (PCI spec). */
        if (port == 0xcf8 && size == 4) {
            if (in)
                *val = b->cf8;
            else
                b->cf8 = *val & 0x80fffffcU;
        } else if (in) {
            *val = ones;
        }
        return true;
    }
    unsigned byte = port & 3;
    bool on = b->cf8 & VPCI_ADDR_ENABLE;
    uint16_t bdf = (uint16_t)(b->cf8 >> 8);
    uint16_t reg = (uint16_t)((b->cf8 & 0xfc) + byte);
    if (!on || byte + size > 4 || (byte & (size - 1))) {
        if (in)
            *val = ones;
        return true;
    }
    if (in)
        *val = vpci_cfg_read(b, bdf, reg, size);
    else
        vpci_cfg_write(b, bdf, reg, size, *val & ones);
    return true;
}

void vpci_ecam_access(struct vpci_bus *b, uint64_t off, unsigned size, bool write, uint64_t *val)
{
    uint16_t reg = (uint16_t)(off & 0xfff);
    uint64_t bdf = off >> 12;
    if (off >= VPCI_ECAM_SIZE || size > 4) {
        /* 8-byte config accesses are not defined: all ones, dropped. */
        if (!write)
            *val = size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
        return;
    }
    if (write)
        vpci_cfg_write(b, (uint16_t)bdf, reg, size, (uint32_t)*val);
    else
        *val = vpci_cfg_read(b, (uint16_t)bdf, reg, size);
}

struct vpci_dev *vpci_find_bar(struct vpci_bus *b, uint64_t gpa, bool io, unsigned *bar,
                               uint64_t *off)
{
    for (unsigned n = 0; n < b->nr; n++) {
        struct vpci_dev *d = &b->dev[n];
        for (unsigned i = 0; i < 6; i++) {
            const struct vpci_bar *r = &d->bar[i];
            if (!r->mapped || !r->size || !!(r->flags & PCI_BAR_IO) != io)
                continue;
            if (gpa >= r->mapped_at && gpa - r->mapped_at < r->size) {
                *bar = i;
                *off = gpa - r->mapped_at;
                return d;
            }
        }
    }
    return NULL;
}

void vpci_bus_release(struct vpci_bus *b)
{
    for (unsigned n = 0; n < b->nr; n++) {
        vpci_bars_unmap(b, &b->dev[n]);
        vpci_msi_release_all(b, &b->dev[n]);
    }
}
