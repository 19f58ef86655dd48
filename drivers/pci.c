/* PCI enumeration. The walk starts at each root's first bus and follows
 * PCI-to-PCI bridges to their secondary buses (each bus scanned at most
 * once, so two bridges naming one bus, or a bridge naming its own bus,
 * cannot loop). On bus 0, a multi-function 00:00 whose functions are host
 * bridges means bus N belongs to function N. With ECAM the whole MCFG bus
 * range is also probed afterwards, which finds peer root buses that no
 * bridge leads to; through ports that would cost 8192 slow port accesses
 * for what is usually one root bus, so it is not done there. */
#include "drivers/pci.h"

#include "lib/format.h"
#include "lib/log.h"
#include "lib/string.h"

#ifndef HOST_TEST
#include "arch/x86_64/cpu.h"
#include "drivers/acpi.h"
#include "lib/spinlock.h"
#endif

#define MAX_SEGMENTS 8

static struct pci_dev devices[PCI_MAX_DEVICES];
static unsigned nr_devices;
static const struct pci_ops *cur_ops;

static uint32_t ones(unsigned width)
{
    return width >= 4 ? 0xFFFFFFFFu : (1u << (8 * width)) - 1;
}

static uint32_t cfg_read(const struct pci_ops *ops, uint16_t seg, uint16_t bdf, uint16_t off,
                         unsigned width)
{
    if (!ops || (off & (width - 1)))
        return ones(width);
    return ops->read(ops->ctx, seg, bdf, off, width) & ones(width);
}

static void cfg_write(const struct pci_ops *ops, uint16_t seg, uint16_t bdf, uint16_t off,
                      unsigned width, uint32_t val)
{
    if (ops && !(off & (width - 1)))
        ops->write(ops->ctx, seg, bdf, off, width, val & ones(width));
}

void pci_set_ops(const struct pci_ops *ops)
{
    cur_ops = ops;
}

uint8_t pci_find_cap(uint16_t seg, uint16_t bdf, uint8_t id)
{
    return cur_ops ? pci_ops_find_cap(cur_ops, seg, bdf, id) : 0;
}

uint32_t pci_read32(uint16_t seg, uint16_t bdf, uint16_t off)
{
    return cfg_read(cur_ops, seg, bdf, off, 4);
}
uint16_t pci_read16(uint16_t seg, uint16_t bdf, uint16_t off)
{
    return (uint16_t)cfg_read(cur_ops, seg, bdf, off, 2);
}
uint8_t pci_read8(uint16_t seg, uint16_t bdf, uint16_t off)
{
    return (uint8_t)cfg_read(cur_ops, seg, bdf, off, 1);
}
void pci_write32(uint16_t seg, uint16_t bdf, uint16_t off, uint32_t val)
{
    cfg_write(cur_ops, seg, bdf, off, 4, val);
}
void pci_write16(uint16_t seg, uint16_t bdf, uint16_t off, uint16_t val)
{
    cfg_write(cur_ops, seg, bdf, off, 2, val);
}
void pci_write8(uint16_t seg, uint16_t bdf, uint16_t off, uint8_t val)
{
    cfg_write(cur_ops, seg, bdf, off, 1, val);
}

/* ---- device table ---- */

unsigned pci_count(void)
{
    return nr_devices;
}

const struct pci_dev *pci_get(unsigned i)
{
    return i < nr_devices ? &devices[i] : NULL;
}

const struct pci_dev *pci_find_bdf(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn)
{
    for (unsigned i = 0; i < nr_devices; i++) {
        const struct pci_dev *d = &devices[i];
        if (d->seg == seg && d->bus == bus && d->dev == dev && d->fn == fn)
            return d;
    }
    return NULL;
}

const struct pci_dev *pci_find_class(const struct pci_dev *from, uint8_t class_code,
                                     uint8_t subclass)
{
    unsigned i = from ? (unsigned)(from - devices) + 1 : 0;
    for (; i < nr_devices; i++)
        if (devices[i].class_code == class_code &&
            (subclass == 0xFF || devices[i].subclass == subclass))
            return &devices[i];
    return NULL;
}

static const struct {
    uint8_t class_code, subclass; /* subclass 0xFF: the whole class */
    const char *name;
} class_names[] = {
    {0x00, 0xFF, "unclassified device"},
    {0x01, 0x01, "IDE controller"},
    {0x01, 0x06, "SATA controller"},
    {0x01, 0x08, "NVMe controller"},
    {0x01, 0xFF, "storage controller"},
    {0x02, 0xFF, "network controller"},
    {0x03, 0x00, "VGA controller"},
    {0x03, 0xFF, "display controller"},
    {0x04, 0xFF, "multimedia controller"},
    {0x05, 0xFF, "memory controller"},
    {0x06, 0x00, "host bridge"},
    {0x06, 0x01, "ISA bridge"},
    {0x06, 0x04, "PCI bridge"},
    {0x06, 0x07, "CardBus bridge"},
    {0x06, 0xFF, "bridge"},
    {0x07, 0x00, "serial controller"},
    {0x07, 0xFF, "communication controller"},
    {0x08, 0x06, "IOMMU"},
    {0x08, 0xFF, "system peripheral"},
    {0x09, 0xFF, "input device"},
    {0x0A, 0xFF, "docking station"},
    {0x0B, 0xFF, "processor"},
    {0x0C, 0x03, "USB controller"},
    {0x0C, 0x05, "SMBus controller"},
    {0x0C, 0xFF, "serial bus controller"},
    {0x0D, 0xFF, "wireless controller"},
    {0x0E, 0xFF, "intelligent controller"},
    {0x0F, 0xFF, "satellite controller"},
    {0x10, 0xFF, "encryption controller"},
    {0x11, 0xFF, "signal processing controller"},
    {0x12, 0xFF, "processing accelerator"},
    {0x13, 0xFF, "instrumentation"},
    {0xFF, 0xFF, "unassigned class"},
};

const char *pci_class_name(uint8_t class_code, uint8_t subclass)
{
    const char *fallback = "unknown device";
    for (size_t i = 0; i < sizeof(class_names) / sizeof(class_names[0]); i++) {
        if (class_names[i].class_code != class_code)
            continue;
        if (class_names[i].subclass == subclass)
            return class_names[i].name;
        if (class_names[i].subclass == 0xFF)
            fallback = class_names[i].name;
    }
    return fallback;
}

/* ---- enumeration ---- */

struct seg_state {
    uint16_t seg;
    uint8_t visited[32]; /* bitmap of buses already queued */
};

struct scan {
    const struct pci_ops *ops;
    const struct pci_root *root;
    struct seg_state *ss;
    uint8_t queue[256];
    unsigned head, tail;
    unsigned dropped;
};

static bool bus_visited(const struct scan *s, unsigned bus)
{
    return s->ss->visited[bus / 8] & (1u << (bus % 8));
}

static bool queue_bus(struct scan *s, unsigned bus)
{
    if (bus < s->root->start_bus || bus > s->root->end_bus || bus_visited(s, bus))
        return false;
    s->ss->visited[bus / 8] |= (uint8_t)(1u << (bus % 8));
    s->queue[s->tail++ % 256] = (uint8_t)bus;
    return true;
}

static void bdf_str(char *buf, size_t len, uint16_t seg, uint16_t bdf)
{
    if (seg)
        fmt_snprintf(buf, len, "%04x:%02x:%02x.%u", seg, PCI_BUS(bdf), PCI_DEV(bdf), PCI_FN(bdf));
    else
        fmt_snprintf(buf, len, "%02x:%02x.%u", PCI_BUS(bdf), PCI_DEV(bdf), PCI_FN(bdf));
}

static uint64_t low_bit(uint64_t m)
{
    return m & (~m + 1);
}

/* Sizes one BAR (two for a 64-bit one); returns how many slots it used. */
static unsigned size_bar(struct scan *s, struct pci_dev *d, uint16_t bdf, unsigned i,
                         unsigned nbars)
{
    const struct pci_ops *ops = s->ops;
    uint16_t seg = d->seg, off = (uint16_t)(PCI_BAR0 + 4 * i);
    uint32_t orig = cfg_read(ops, seg, bdf, off, 4);
    cfg_write(ops, seg, bdf, off, 4, 0xFFFFFFFF);
    uint32_t mask = cfg_read(ops, seg, bdf, off, 4);
    cfg_write(ops, seg, bdf, off, 4, orig);
    if (!mask || mask == 0xFFFFFFFF) /* not implemented, or the device vanished */
        return 1;
    if (orig & 1) {
        uint32_t m = mask & ~3u;
        if (!(m & 0xFFFF0000)) /* 16-bit I/O decoder */
            m |= 0xFFFF0000;
        d->bar_flags[i] = PCI_BAR_IO;
        d->bar[i] = orig & ~3u;
        d->bar_size[i] = m ? low_bit(m) : 0;
        return 1;
    }
    uint64_t m = mask & ~0xFu, base = orig & ~0xFu;
    uint8_t flags = (orig & 8) ? PCI_BAR_PREFETCH : 0;
    unsigned used = 1;
    if (((orig >> 1) & 3) == 2) {
        if (i + 1 >= nbars) {
            char name[16];
            bdf_str(name, sizeof(name), seg, bdf);
            pr_warn("pci: %s: 64-bit BAR%u has no upper half, sized as 32-bit", name, i);
        } else {
            uint16_t hoff = (uint16_t)(off + 4);
            uint32_t ohi = cfg_read(ops, seg, bdf, hoff, 4);
            cfg_write(ops, seg, bdf, hoff, 4, 0xFFFFFFFF);
            uint32_t mhi = cfg_read(ops, seg, bdf, hoff, 4);
            cfg_write(ops, seg, bdf, hoff, 4, ohi);
            m |= (uint64_t)mhi << 32;
            base |= (uint64_t)ohi << 32;
            flags |= PCI_BAR_MEM64;
            d->bar_flags[i + 1] = PCI_BAR_UPPER;
            used = 2;
        }
    } else {
        m |= 0xFFFFFFFF00000000ull; /* a 32-bit BAR decodes no upper bits */
    }
    d->bar_flags[i] = flags;
    d->bar[i] = base;
    d->bar_size[i] = (m & 0xFFFFFFFFFFFFFFF0ull) ? low_bit(m) : 0;
    return used;
}

static void size_bars(struct scan *s, struct pci_dev *d, uint16_t bdf)
{
    unsigned nbars = d->header_type == PCI_HEADER_NORMAL   ? 6
                     : d->header_type == PCI_HEADER_BRIDGE ? 2
                                                           : 0;
    if (!nbars)
        return;
    /* Decode off while a BAR holds all ones, or it may claim anything. Host
     * bridges stay on (as in Linux): turning them off can cut off RAM. */
    bool host = d->class_code == PCI_CLASS_BRIDGE && d->subclass == PCI_SUBCLASS_HOST;
    uint16_t cmd = (uint16_t)cfg_read(s->ops, d->seg, bdf, PCI_COMMAND, 2);
    if (!host && (cmd & (PCI_COMMAND_IO | PCI_COMMAND_MEMORY)))
        cfg_write(s->ops, d->seg, bdf, PCI_COMMAND, 2,
                  cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
    for (unsigned i = 0; i < nbars;)
        i += size_bar(s, d, bdf, i, nbars);
    if (!host && (cmd & (PCI_COMMAND_IO | PCI_COMMAND_MEMORY)))
        cfg_write(s->ops, d->seg, bdf, PCI_COMMAND, 2, cmd);
}

static void scan_function(struct scan *s, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t vendor)
{
    uint16_t seg = s->root->seg, bdf = PCI_BDF(bus, dev, fn);
    char name[16];
    bdf_str(name, sizeof(name), seg, bdf);
    struct pci_dev tmp, *d = &tmp;
    bool keep = nr_devices < PCI_MAX_DEVICES && !pci_find_bdf(seg, bus, dev, fn);
    if (keep)
        d = &devices[nr_devices];
    else if (nr_devices >= PCI_MAX_DEVICES && s->dropped++ == 0)
        pr_warn("pci: more than %u functions, %s and later not recorded", PCI_MAX_DEVICES, name);
    memset(d, 0, sizeof(*d));
    d->seg = seg;
    d->bus = bus;
    d->dev = dev;
    d->fn = fn;
    d->vendor = vendor;
    d->device = (uint16_t)cfg_read(s->ops, seg, bdf, PCI_DEVICE_ID, 2);
    uint32_t cr = cfg_read(s->ops, seg, bdf, PCI_CLASS_REV, 4);
    d->revision = (uint8_t)cr;
    d->prog_if = (uint8_t)(cr >> 8);
    d->subclass = (uint8_t)(cr >> 16);
    d->class_code = (uint8_t)(cr >> 24);
    d->header_type = (uint8_t)cfg_read(s->ops, seg, bdf, PCI_HEADER_TYPE, 1) & 0x7F;
    uint16_t irq = (uint16_t)cfg_read(s->ops, seg, bdf, PCI_INTERRUPT, 2);
    d->irq_line = (uint8_t)irq;
    d->irq_pin = (uint8_t)(irq >> 8);
    if (keep) {
        size_bars(s, d, bdf);
        nr_devices++;
        pr_debug("pci: %s %04x:%04x %s", name, d->vendor, d->device,
                 pci_class_name(d->class_code, d->subclass));
    }

    if (d->header_type == PCI_HEADER_BRIDGE) {
        uint32_t busreg = cfg_read(s->ops, seg, bdf, PCI_PRIMARY_BUS, 4);
        uint8_t sec = (uint8_t)(busreg >> 8), sub = (uint8_t)(busreg >> 16);
        d->secondary_bus = sec;
        d->subordinate_bus = sub;
        if (!sec)
            pr_debug("pci: %s: bridge without a secondary bus number", name);
        else if (sec <= bus)
            pr_warn("pci: %s: bridge secondary bus %02x is not above its own bus %02x, "
                    "not followed",
                    name, sec, bus);
        else if (!queue_bus(s, sec))
            pr_warn("pci: %s: bridge secondary bus %02x already scanned or outside %02x-%02x, "
                    "not followed",
                    name, sec, s->root->start_bus, s->root->end_bus);
    } else if (bus == 0 && dev == 0 && fn > 0 && d->class_code == PCI_CLASS_BRIDGE &&
               d->subclass == PCI_SUBCLASS_HOST) {
        queue_bus(s, fn); /* another host bridge: its root bus is its function number */
    }
}

static void scan_bus(struct scan *s, uint8_t bus)
{
    uint16_t seg = s->root->seg;
    for (uint8_t dev = 0; dev < 32; dev++) {
        uint16_t vendor = (uint16_t)cfg_read(s->ops, seg, PCI_BDF(bus, dev, 0), PCI_VENDOR_ID, 2);
        if (vendor == 0xFFFF || vendor == 0)
            continue;
        uint8_t hdr = (uint8_t)cfg_read(s->ops, seg, PCI_BDF(bus, dev, 0), PCI_HEADER_TYPE, 1);
        uint8_t nfn = (hdr & PCI_HEADER_MULTIFN) ? 8 : 1;
        for (uint8_t fn = 0; fn < nfn; fn++) {
            if (fn) {
                vendor = (uint16_t)cfg_read(s->ops, seg, PCI_BDF(bus, dev, fn), PCI_VENDOR_ID, 2);
                if (vendor == 0xFFFF || vendor == 0)
                    continue;
            }
            scan_function(s, bus, dev, fn, vendor);
        }
    }
}

static void drain(struct scan *s)
{
    while (s->head != s->tail)
        scan_bus(s, s->queue[s->head++ % 256]);
}

unsigned pci_enumerate(const struct pci_ops *ops, const struct pci_root *roots, unsigned nr_roots)
{
    struct seg_state segs[MAX_SEGMENTS];
    unsigned nr_segs = 0;
    unsigned dropped = 0;
    nr_devices = 0;
    for (unsigned r = 0; r < nr_roots; r++) {
        const struct pci_root *root = &roots[r];
        if (root->start_bus > root->end_bus) {
            pr_warn("pci: segment %u: bus range %02x-%02x is empty, skipped", root->seg,
                    root->start_bus, root->end_bus);
            continue;
        }
        /* Overlapping roots of one segment share which buses were seen. */
        struct seg_state *ss = NULL;
        for (unsigned i = 0; i < nr_segs; i++)
            if (segs[i].seg == root->seg)
                ss = &segs[i];
        if (!ss) {
            if (nr_segs >= MAX_SEGMENTS) {
                pr_warn("pci: more than %u segments, segment %u skipped", MAX_SEGMENTS, root->seg);
                continue;
            }
            ss = &segs[nr_segs++];
            memset(ss, 0, sizeof(*ss));
            ss->seg = root->seg;
        }
        struct scan s = {.ops = ops, .root = root, .ss = ss, .dropped = dropped};
        queue_bus(&s, root->start_bus);
        drain(&s);
        if (root->brute_force) {
            for (unsigned bus = root->start_bus; bus <= root->end_bus; bus++)
                if (queue_bus(&s, bus))
                    drain(&s);
        }
        dropped = s.dropped;
    }
    return nr_devices;
}

/* ---- kernel access methods ---- */
#ifndef HOST_TEST

#define PCI_CONF_ADDR 0xCF8
#define PCI_CONF_DATA 0xCFC

struct ecam_window {
    uint64_t base;
    uint16_t seg;
    uint8_t start_bus, end_bus;
};

static struct ecam_window ecam[ACPI_MAX_MCFG];
static unsigned nr_ecam;
static bool have_ports;
static spinlock_t cf8_lock = SPINLOCK_INIT;

static volatile void *ecam_ptr(uint16_t seg, uint16_t bdf, uint16_t off)
{
    if (off >= 4096)
        return NULL;
    for (unsigned i = 0; i < nr_ecam; i++) {
        const struct ecam_window *w = &ecam[i];
        if (w->seg == seg && PCI_BUS(bdf) >= w->start_bus && PCI_BUS(bdf) <= w->end_bus)
            return (volatile void *)(uintptr_t)(w->base + ((uint64_t)bdf << 12) + off);
    }
    return NULL;
}

static uint32_t hw_read(void *ctx, uint16_t seg, uint16_t bdf, uint16_t off, unsigned width)
{
    volatile void *p = ecam_ptr(seg, bdf, off);
    if (p) {
        if (width == 1)
            return *(volatile uint8_t *)p;
        if (width == 2)
            return *(volatile uint16_t *)p;
        return *(volatile uint32_t *)p;
    }
    if (!have_ports || seg || off >= 256)
        return ones(width);
    uint32_t v;
    unsigned long flags = irq_save();
    spin_lock(&cf8_lock);
    /* The address latch takes only dword writes; data may be any width. */
    outl(PCI_CONF_ADDR, 0x80000000u | (uint32_t)bdf << 8 | (off & 0xFC));
    uint16_t port = (uint16_t)(PCI_CONF_DATA + (off & 3));
    v = width == 1 ? inb(port) : width == 2 ? inw(port) : inl(port);
    spin_unlock(&cf8_lock);
    irq_restore(flags);
    return v;
}

static void hw_write(void *ctx, uint16_t seg, uint16_t bdf, uint16_t off, unsigned width,
                     uint32_t val)
{
    volatile void *p = ecam_ptr(seg, bdf, off);
    if (p) {
        if (width == 1)
            *(volatile uint8_t *)p = (uint8_t)val;
        else if (width == 2)
            *(volatile uint16_t *)p = (uint16_t)val;
        else
            *(volatile uint32_t *)p = val;
        return;
    }
    if (!have_ports || seg || off >= 256)
        return;
    unsigned long flags = irq_save();
    spin_lock(&cf8_lock);
    outl(PCI_CONF_ADDR, 0x80000000u | (uint32_t)bdf << 8 | (off & 0xFC));
    uint16_t port = (uint16_t)(PCI_CONF_DATA + (off & 3));
    if (width == 1)
        outb(port, (uint8_t)val);
    else if (width == 2)
        outw(port, (uint16_t)val);
    else
        outl(port, val);
    spin_unlock(&cf8_lock);
    irq_restore(flags);
}

static const struct pci_ops hw_ops = {.read = hw_read, .write = hw_write};

/* Mechanism #1 is there when the address latch reads back what was written. */
static bool ports_probe(void)
{
    uint32_t saved = inl(PCI_CONF_ADDR);
    outl(PCI_CONF_ADDR, 0x80000000u);
    uint32_t v = inl(PCI_CONF_ADDR);
    outl(PCI_CONF_ADDR, saved);
    return v == 0x80000000u;
}

int pci_init(void)
{
    struct pci_root roots[ACPI_MAX_MCFG + 1];
    unsigned nr_roots = 0;
    bool seg0_bus0 = false;

    nr_ecam = 0;
    for (unsigned i = 0; i < acpi.nr_mcfg && i < ACPI_MAX_MCFG; i++) {
        const struct acpi_mcfg *m = &acpi.mcfg[i];
        /* Only low MMIO is known to be identity-mapped. */
        uint64_t end = m->base + ((uint64_t)(m->end_bus + 1) << 20);
        if (end > (1ull << 32)) {
            pr_warn("pci: ECAM for segment %u at 0x%llx lies above 4 GiB, not used", m->segment,
                    (unsigned long long)m->base);
            continue;
        }
        ecam[nr_ecam++] = (struct ecam_window){m->base, m->segment, m->start_bus, m->end_bus};
        roots[nr_roots++] = (struct pci_root){m->segment, m->start_bus, m->end_bus, true};
        if (m->segment == 0 && m->start_bus == 0)
            seg0_bus0 = true;
    }
    have_ports = ports_probe();
    if (have_ports && !seg0_bus0)
        roots[nr_roots++] = (struct pci_root){0, 0, 255, false};
    if (!nr_roots) {
        pr_warn("pci: no configuration mechanism (no usable MCFG, 0xCF8 does not latch)");
        return -1;
    }
    pci_set_ops(&hw_ops);
    unsigned n = pci_enumerate(&hw_ops, roots, nr_roots);
    pr_info("pci: %u functions (%s%s)", n, nr_ecam ? "ECAM" : "",
            have_ports ? (nr_ecam ? "+ports" : "ports") : "");
    return (int)n;
}

#endif
