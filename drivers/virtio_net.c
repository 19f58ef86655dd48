#include "drivers/virtio_net.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/tsc.h"
#include "drivers/pci.h"
#include "lib/format.h"
#include "lib/log.h"
#include "lib/string.h"

/* Virtio 1.0, 4.1.4: vendor-specific capabilities name the structures. */
#define PCI_CAP_VENDOR 0x09
#define CAP_COMMON     1
#define CAP_NOTIFY     2
#define CAP_ISR        3
#define CAP_DEVICE     4

/* struct virtio_pci_common_cfg (4.1.4.3) */
#define COM_DFSELECT   0x00
#define COM_DF         0x04
#define COM_GFSELECT   0x08
#define COM_GF         0x0c
#define COM_MSIX       0x10
#define COM_NUMQ       0x12
#define COM_STATUS     0x14
#define COM_Q_SELECT   0x16
#define COM_Q_SIZE     0x18
#define COM_Q_MSIX     0x1a
#define COM_Q_ENABLE   0x1c
#define COM_Q_NOFF     0x1e
#define COM_Q_DESC     0x20
#define COM_Q_DRIVER   0x28
#define COM_Q_DEVICE   0x30
#define COMMON_MIN_LEN 0x38

#define ST_ACKNOWLEDGE 1
#define ST_DRIVER      2
#define ST_DRIVER_OK   4
#define ST_FEATURES_OK 8
#define ST_FAILED      128

#define F_MAC             (1ull << 5)
#define F_STATUS          (1ull << 16)
#define F_VERSION_1       (1ull << 32)
#define F_ACCESS_PLATFORM (1ull << 33)
#define NO_VECTOR         0xffff
#define NET_S_LINK_UP     1

#define DESC_F_WRITE 2

struct virtq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
};

/* The rings hold q->size entries (up to LEGACY_MAX_QUEUE with the legacy
 * transport, whose sizes the device fixes). */
struct virtq_avail {
    uint16_t flags, idx;
    uint16_t ring[];
};

struct virtq_used_elem {
    uint32_t id, len;
};

struct virtq_used {
    uint16_t flags, idx;
    struct virtq_used_elem ring[];
};

_Static_assert(sizeof(struct virtq_desc) == 16, "virtq descriptor");

/* Per queue: descriptors, then available ring, then used ring, each in a
 * page of its own (alignment 16, 2 and 4 are then given), then buffers.
 * The legacy layout (descriptors, available ring right after them, used
 * ring on the next page boundary) fits the same three pages for queues of
 * up to 256 entries. */
#define QUEUE_PAGES (3 + VIRTIO_NET_QUEUE * VIRTIO_NET_BUF / PAGE_SIZE)

/* The legacy (virtio 0.9.5) transport: registers in I/O BAR0 (virtio 1.0,
 * 4.1.4.8). With MSI-X on, two vector registers come before the device
 * configuration, which then starts at 0x18 instead of 0x14. */
#define LEG_HOST_F       0x00
#define LEG_GUEST_F      0x04
#define LEG_Q_PFN        0x08
#define LEG_Q_NUM        0x0c
#define LEG_Q_SEL        0x0e
#define LEG_Q_NOTIFY     0x10
#define LEG_STATUS       0x12
#define LEG_ISR          0x13
#define LEG_Q_VECTOR     0x16 /* with MSI-X on */
#define LEG_CFG          0x14
#define LEG_CFG_MSIX     0x18
#define LEG_IO_SIZE      0x20
#define LEGACY_MAX_QUEUE 256

bool virtio_net_supported(uint16_t vendor, uint16_t device)
{
    return vendor == 0x1af4 && (device == 0x1041 || device == 0x1000);
}

static uint8_t rd8(volatile uint8_t *b, unsigned off)
{
    return *(volatile uint8_t *)(b + off);
}
static uint16_t rd16(volatile uint8_t *b, unsigned off)
{
    return *(volatile uint16_t *)(b + off);
}
static uint32_t rd32(volatile uint8_t *b, unsigned off)
{
    return *(volatile uint32_t *)(b + off);
}
static void wr8(volatile uint8_t *b, unsigned off, uint8_t v)
{
    *(volatile uint8_t *)(b + off) = v;
}
static void wr16(volatile uint8_t *b, unsigned off, uint16_t v)
{
    *(volatile uint16_t *)(b + off) = v;
}
static void wr32(volatile uint8_t *b, unsigned off, uint32_t v)
{
    *(volatile uint32_t *)(b + off) = v;
}
static void wr64(volatile uint8_t *b, unsigned off, uint64_t v)
{
    wr32(b, off, (uint32_t)v);
    wr32(b, off + 4, (uint32_t)(v >> 32));
}

static void mb(void)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static void notify(struct virtio_net *nic, struct virtq *q)
{
    if (nic->io)
        outw((uint16_t)(nic->io + LEG_Q_NOTIFY), q->index);
    else
        *q->notify = q->index;
}

/* The device configuration (MAC, status), through either transport. */
static uint8_t cfg8(const struct virtio_net *nic, unsigned off)
{
    if (!nic->io)
        return rd8(nic->devcfg, off);
    unsigned base = nic->n.irq_mode == NIC_IRQ_MSIX ? LEG_CFG_MSIX : LEG_CFG;
    return inb((uint16_t)(nic->io + base + off));
}

static uint16_t cfg16(const struct virtio_net *nic, unsigned off)
{
    return (uint16_t)(cfg8(nic, off) | cfg8(nic, off + 1) << 8);
}

/* A capability's window: bar + offset, length bytes, checked against the
 * BAR (the device's config space is input like any other) and mapped. */
static volatile uint8_t *map_cap(const struct pci_dev *p, uint8_t bar, uint32_t off, uint32_t len,
                                 uint32_t min_len)
{
    if (bar > 5 || !p->bar[bar] || (p->bar_flags[bar] & (PCI_BAR_IO | PCI_BAR_UPPER)) ||
        len < min_len || off > p->bar_size[bar] || len > p->bar_size[bar] - off)
        return NULL;
    uint64_t base = p->bar[bar] + off;
    uint64_t page = base & ~(uint64_t)(PAGE_SIZE - 1);
    if (paging_map_mmio(page, ((base + len + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1)) - page))
        return NULL;
    return (volatile uint8_t *)(uintptr_t)base;
}

struct caps {
    volatile uint8_t *notify_base;
    uint32_t notify_mult, notify_len;
};

static int find_caps(struct virtio_net *nic, const struct pci_dev *p, struct caps *c, char *why,
                     size_t whylen)
{
    memset(c, 0, sizeof(*c));
    if (!(pci_read16(nic->n.seg, nic->n.bdf, PCI_STATUS) & PCI_STATUS_CAP_LIST)) {
        fmt_snprintf(why, whylen, "no capability list: a legacy-only device (not supported)");
        return -1;
    }
    uint8_t at = pci_read8(nic->n.seg, nic->n.bdf, PCI_CAP_PTR) & 0xfc;
    for (unsigned guard = 0; at >= 0x40 && guard < 48; guard++) {
        uint8_t id = pci_read8(nic->n.seg, nic->n.bdf, at);
        uint8_t next = pci_read8(nic->n.seg, nic->n.bdf, (uint16_t)(at + 1)) & 0xfc;
        if (id == PCI_CAP_VENDOR && at <= 0xf0) {
            uint8_t type = pci_read8(nic->n.seg, nic->n.bdf, (uint16_t)(at + 3));
            uint8_t bar = pci_read8(nic->n.seg, nic->n.bdf, (uint16_t)(at + 4));
            uint32_t off = pci_read32(nic->n.seg, nic->n.bdf, (uint16_t)(at + 8));
            uint32_t len = pci_read32(nic->n.seg, nic->n.bdf, (uint16_t)(at + 12));
            /* The first structure of each type that the driver can use wins (4.1.4). */
            if (type == CAP_COMMON && !nic->common)
                nic->common = map_cap(p, bar, off, len, COMMON_MIN_LEN);
            else if (type == CAP_ISR && !nic->isr)
                nic->isr = map_cap(p, bar, off, len, 1);
            else if (type == CAP_DEVICE && !nic->devcfg)
                nic->devcfg = map_cap(p, bar, off, len, 8);
            else if (type == CAP_NOTIFY && !c->notify_base && at <= 0xec) {
                c->notify_mult = pci_read32(nic->n.seg, nic->n.bdf, (uint16_t)(at + 16));
                c->notify_base = map_cap(p, bar, off, len, 2);
                c->notify_len = len;
            }
        }
        at = next;
    }
    if (!nic->common || !nic->isr || !c->notify_base) {
        fmt_snprintf(why, whylen,
                     "no usable virtio 1.0 common, ISR and notify capabilities (a legacy-only "
                     "device is not supported)");
        return -1;
    }
    return 0;
}

static void set_status(struct virtio_net *nic, uint8_t v)
{
    if (nic->io)
        outb((uint16_t)(nic->io + LEG_STATUS), v);
    else
        wr8(nic->common, COM_STATUS, v);
}

static uint8_t get_status(struct virtio_net *nic)
{
    return nic->io ? inb((uint16_t)(nic->io + LEG_STATUS)) : rd8(nic->common, COM_STATUS);
}

static void reset(struct virtio_net *nic)
{
    set_status(nic, 0);
    for (unsigned t = 0; t < 100000 && get_status(nic); t += 10)
        udelay(10);
}

static int negotiate(struct virtio_net *nic, char *why, size_t whylen)
{
    wr32(nic->common, COM_DFSELECT, 0);
    uint64_t offered = rd32(nic->common, COM_DF);
    wr32(nic->common, COM_DFSELECT, 1);
    offered |= (uint64_t)rd32(nic->common, COM_DF) << 32;
    if (!(offered & F_VERSION_1)) {
        fmt_snprintf(why, whylen, "the device does not offer VIRTIO_F_VERSION_1");
        return -1;
    }
    /* ACCESS_PLATFORM: the device's DMA goes through the IOMMU like any
     * other device's; refusing an offered one may make it fail. */
    nic->features = offered & (F_MAC | F_STATUS | F_VERSION_1 | F_ACCESS_PLATFORM);
    wr32(nic->common, COM_GFSELECT, 0);
    wr32(nic->common, COM_GF, (uint32_t)nic->features);
    wr32(nic->common, COM_GFSELECT, 1);
    wr32(nic->common, COM_GF, (uint32_t)(nic->features >> 32));
    wr8(nic->common, COM_STATUS, ST_ACKNOWLEDGE | ST_DRIVER | ST_FEATURES_OK);
    if (!(rd8(nic->common, COM_STATUS) & ST_FEATURES_OK)) {
        fmt_snprintf(why, whylen, "the device refused the features 0x%llx",
                     (unsigned long long)nic->features);
        return -1;
    }
    return 0;
}

static int setup_memory(struct virtio_net *nic, char *why, size_t whylen)
{
    if (nic_common_alloc(&nic->n, 2 * QUEUE_PAGES, why, whylen))
        return -1;
    struct virtq *qs[2] = {&nic->rx, &nic->tx};
    for (unsigned i = 0; i < 2; i++) {
        uint8_t *b = (uint8_t *)(uintptr_t)(nic->n.mem + (uint64_t)i * QUEUE_PAGES * PAGE_SIZE);
        qs[i]->desc = (volatile struct virtq_desc *)b;
        qs[i]->avail = (volatile struct virtq_avail *)(b + PAGE_SIZE);
        qs[i]->used = (volatile struct virtq_used *)(b + 2 * PAGE_SIZE);
        qs[i]->bufs = b + 3 * PAGE_SIZE;
    }
    return 0;
}

static void release(struct virtio_net *nic)
{
    if (nic->common || nic->io)
        reset(nic);
    nic_common_free(&nic->n);
}

/* One buffer per descriptor, q->nbufs of them: receive buffers all go to
 * the device at once, transmit ones wait in the free list. */
static void fill_queue(struct virtio_net *nic, struct virtq *q)
{
    for (unsigned i = 0; i < q->nbufs; i++) {
        q->desc[i].addr = (uint64_t)(uintptr_t)(q->bufs + i * VIRTIO_NET_BUF);
        q->desc[i].len = VIRTIO_NET_BUF;
        q->desc[i].flags = q == &nic->rx ? DESC_F_WRITE : 0;
        q->desc[i].next = 0;
    }
    if (q == &nic->rx) {
        for (unsigned i = 0; i < q->nbufs; i++)
            q->avail->ring[i] = (uint16_t)i;
        q->avail_idx = (uint16_t)q->nbufs;
    } else {
        for (unsigned i = 0; i < q->nbufs; i++)
            q->free[i] = (uint16_t)(q->nbufs - 1 - i);
        q->nr_free = q->nbufs;
        q->avail_idx = 0;
    }
    mb();
    q->avail->idx = q->avail_idx;
    q->last_used = 0;
}

static int setup_queue(struct virtio_net *nic, const struct caps *c, uint16_t index,
                       struct virtq *q, char *why, size_t whylen)
{
    wr16(nic->common, COM_Q_SELECT, index);
    uint16_t max = rd16(nic->common, COM_Q_SIZE);
    if (!max) {
        fmt_snprintf(why, whylen, "queue %u does not exist", index);
        return -1;
    }
    unsigned size = VIRTIO_NET_QUEUE;
    while (size > max) /* a power of two no larger than the device's */
        size /= 2;
    if (size < 2) {
        fmt_snprintf(why, whylen, "queue %u is too small (%u)", index, max);
        return -1;
    }
    q->size = size;
    uint32_t noff = rd16(nic->common, COM_Q_NOFF);
    uint64_t at = (uint64_t)noff * c->notify_mult;
    if (at + 2 > c->notify_len) {
        fmt_snprintf(why, whylen, "queue %u: notify offset 0x%llx outside its window", index,
                     (unsigned long long)at);
        return -1;
    }
    q->notify = (volatile uint16_t *)(c->notify_base + at);
    wr16(nic->common, COM_Q_SIZE, (uint16_t)size);
    wr16(nic->common, COM_Q_MSIX, NO_VECTOR);
    wr64(nic->common, COM_Q_DESC, (uint64_t)(uintptr_t)q->desc);
    wr64(nic->common, COM_Q_DRIVER, (uint64_t)(uintptr_t)q->avail);
    wr64(nic->common, COM_Q_DEVICE, (uint64_t)(uintptr_t)q->used);
    q->index = index;
    q->nbufs = size;
    fill_queue(nic, q);
    wr16(nic->common, COM_Q_ENABLE, 1);
    return 0;
}

static int legacy_queue(struct virtio_net *nic, uint16_t index, struct virtq *q, char *why,
                        size_t whylen)
{
    outw((uint16_t)(nic->io + LEG_Q_SEL), index);
    unsigned size = inw((uint16_t)(nic->io + LEG_Q_NUM));
    if (!size || size > LEGACY_MAX_QUEUE || (size & (size - 1))) {
        fmt_snprintf(why, whylen,
                     "legacy queue %u has %u entries (a power of two, at most %u, is needed)",
                     index, size, LEGACY_MAX_QUEUE);
        return -1;
    }
    uint8_t *b = (uint8_t *)q->desc; /* this queue's three pages */
    q->avail = (volatile struct virtq_avail *)(b + 16 * size);
    q->used = (volatile struct virtq_used *)(b + ((16 * size + 6 + 2 * size + PAGE_SIZE - 1) &
                                                  ~(PAGE_SIZE - 1)));
    q->size = size;
    q->index = index;
    q->nbufs = size < VIRTIO_NET_QUEUE ? size : VIRTIO_NET_QUEUE;
    fill_queue(nic, q);
    outl((uint16_t)(nic->io + LEG_Q_PFN), (uint32_t)((uintptr_t)b / PAGE_SIZE));
    return 0;
}

/* A transitional device without virtio 1.0 capabilities (QEMU's
 * disable-modern=on): the legacy transport in I/O BAR0, no feature bits
 * above 31, no FEATURES_OK step. */
static int legacy_init(struct virtio_net *nic, const struct pci_dev *p, uint16_t cmd, char *why,
                       size_t whylen)
{
    if (!p->bar[0] || p->bar_size[0] < LEG_IO_SIZE || p->bar[0] > 0x10000 - LEG_IO_SIZE) {
        fmt_snprintf(why, whylen, "no virtio 1.0 capabilities and no legacy I/O BAR0");
        return -1;
    }
    nic->common = nic->isr = nic->devcfg = NULL;
    nic->io = (uint16_t)p->bar[0];
    nic->hdr = VIRTIO_NET_HDR_LEGACY; /* no num_buffers without VERSION_1 or MRG_RXBUF */
    cmd = (uint16_t)(cmd | PCI_COMMAND_IO);
    pci_write16(nic->n.seg, nic->n.bdf, PCI_COMMAND, cmd);
    reset(nic);
    set_status(nic, ST_ACKNOWLEDGE);
    set_status(nic, ST_ACKNOWLEDGE | ST_DRIVER);
    nic->features = inl((uint16_t)(nic->io + LEG_HOST_F)) & (F_MAC | F_STATUS);
    outl((uint16_t)(nic->io + LEG_GUEST_F), (uint32_t)nic->features);
    if (!(nic->features & F_MAC)) {
        fmt_snprintf(why, whylen, "the device gives no MAC address (VIRTIO_NET_F_MAC)");
        goto fail;
    }
    for (unsigned i = 0; i < 6; i++)
        nic->n.mac[i] = cfg8(nic, i);
    if (!nic_common_mac_ok(nic->n.mac)) {
        fmt_snprintf(why, whylen, "the device's MAC address is not a unicast address");
        goto fail;
    }
    if (setup_memory(nic, why, whylen) || legacy_queue(nic, 0, &nic->rx, why, whylen) ||
        legacy_queue(nic, 1, &nic->tx, why, whylen))
        goto fail;
    nic_common_start(&nic->n, cmd);
    set_status(nic, ST_ACKNOWLEDGE | ST_DRIVER | ST_DRIVER_OK);
    mb();
    notify(nic, &nic->rx);
    virtio_net_link_poll(nic);
    nic->n.c.link_changes = 0;
    return 0;
fail:
    set_status(nic, ST_FAILED);
    release(nic);
    return -1;
}

int virtio_net_init(struct virtio_net *nic, const struct pci_dev *p, char *why, size_t whylen)
{
    struct caps c;
    memset(nic, 0, sizeof(*nic));
    nic->hdr = VIRTIO_NET_HDR;
    uint16_t cmd = nic_common_begin(&nic->n, p);
    if (find_caps(nic, p, &c, why, whylen))
        return p->device == 0x1000 && (p->bar_flags[0] & PCI_BAR_IO)
                   ? legacy_init(nic, p, cmd, why, whylen)
                   : -1;
    reset(nic);
    wr8(nic->common, COM_STATUS, ST_ACKNOWLEDGE);
    wr8(nic->common, COM_STATUS, ST_ACKNOWLEDGE | ST_DRIVER);
    if (negotiate(nic, why, whylen))
        goto fail;
    if (!(nic->features & F_MAC) || !nic->devcfg) {
        fmt_snprintf(why, whylen, "the device gives no MAC address (VIRTIO_NET_F_MAC)");
        goto fail;
    }
    for (unsigned i = 0; i < 6; i++)
        nic->n.mac[i] = rd8(nic->devcfg, i);
    if (!nic_common_mac_ok(nic->n.mac)) {
        fmt_snprintf(why, whylen, "the device's MAC address is not a unicast address");
        goto fail;
    }
    if (rd16(nic->common, COM_NUMQ) < 2) {
        fmt_snprintf(why, whylen, "fewer than 2 virtqueues");
        goto fail;
    }
    wr16(nic->common, COM_MSIX, NO_VECTOR);
    if (setup_memory(nic, why, whylen) || setup_queue(nic, &c, 0, &nic->rx, why, whylen) ||
        setup_queue(nic, &c, 1, &nic->tx, why, whylen))
        goto fail;
    nic_common_start(&nic->n, cmd); /* bus mastering on, INTx masked until routed */
    wr8(nic->common, COM_STATUS, ST_ACKNOWLEDGE | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK);
    mb();
    notify(nic, &nic->rx); /* receive buffers are there */
    virtio_net_link_poll(nic);
    nic->n.c.link_changes = 0;
    return 0;
fail:
    wr8(nic->common, COM_STATUS, ST_FAILED);
    release(nic);
    return -1;
}

static void virtio_net_irq(struct irq_frame *f, void *arg)
{
    (void)f;
    struct virtio_net *nic = arg;
    /* Reading acknowledges: the line drops; the poll loop does the work. */
    (void)(nic->io ? inb((uint16_t)(nic->io + LEG_ISR)) : rd8(nic->isr, 0));
    __atomic_fetch_add(&nic->n.c.irqs, 1, __ATOMIC_RELAXED);
}

/* MSI-X where the device has it (QEMU's does): the receive queue raises
 * table entry 0; configuration changes (the link) stay polled. A device
 * that does not take the entry for its queue gets the legacy line. */
bool virtio_net_enable_irq(struct virtio_net *nic, unsigned cpu)
{
    if (nic_common_route_msix(&nic->n, virtio_net_irq, nic, cpu)) {
        uint16_t got;
        if (nic->io) {
            outw((uint16_t)(nic->io + LEG_Q_SEL), 0);
            outw((uint16_t)(nic->io + LEG_Q_VECTOR), 0);
            got = inw((uint16_t)(nic->io + LEG_Q_VECTOR));
        } else {
            wr16(nic->common, COM_Q_SELECT, 0);
            wr16(nic->common, COM_Q_MSIX, 0);
            got = rd16(nic->common, COM_Q_MSIX);
        }
        if (got == 0)
            return true;
        nic_common_msix_off(&nic->n);
    }
    return nic_common_route_intx(&nic->n, virtio_net_irq, nic, cpu);
}

unsigned virtio_net_rx(struct virtio_net *nic,
                       void (*deliver)(void *ctx, const void *frame, unsigned len), void *ctx,
                       unsigned budget)
{
    struct virtq *q = &nic->rx;
    unsigned done = 0;
    while (done < budget && q->last_used != q->used->idx) {
        mb();
        volatile struct virtq_used_elem *e = &q->used->ring[q->last_used % q->size];
        uint32_t id = e->id, len = e->len;
        q->last_used++;
        done++;
        /* The device's word is input too: an id we never gave is dropped. */
        if (id >= q->nbufs) {
            nic->n.c.rx_errors++;
            continue;
        }
        if (len < nic->hdr + 14 || len > VIRTIO_NET_BUF) {
            nic->n.c.rx_errors++;
        } else {
            nic->n.c.rx_packets++;
            nic->n.c.rx_bytes += len - nic->hdr;
            deliver(ctx, q->bufs + id * VIRTIO_NET_BUF + nic->hdr, len - nic->hdr);
        }
        q->avail->ring[q->avail_idx % q->size] = (uint16_t)id; /* back to the device */
        q->avail_idx++;
    }
    if (done) {
        mb();
        q->avail->idx = q->avail_idx;
        mb();
        notify(nic, q);
    }
    return done;
}

/* Transmitted buffers back to the free list. */
static void tx_reclaim(struct virtio_net *nic)
{
    struct virtq *q = &nic->tx;
    while (q->last_used != q->used->idx) {
        mb();
        uint32_t id = q->used->ring[q->last_used % q->size].id;
        q->last_used++;
        if (id < q->nbufs && q->nr_free < q->nbufs)
            q->free[q->nr_free++] = (uint16_t)id;
    }
}

void *virtio_net_tx_buffer(struct virtio_net *nic)
{
    struct virtq *q = &nic->tx;
    tx_reclaim(nic);
    if (!q->nr_free) {
        nic->n.c.tx_busy++;
        return NULL;
    }
    uint8_t *b = q->bufs + q->free[q->nr_free - 1] * VIRTIO_NET_BUF;
    memset(b, 0, nic->hdr); /* no checksum offload, no segmentation */
    return b + nic->hdr;
}

void virtio_net_tx_send(struct virtio_net *nic, unsigned len)
{
    struct virtq *q = &nic->tx;
    if (!q->nr_free)
        return;
    if (len > VIRTIO_NET_BUF - nic->hdr)
        len = VIRTIO_NET_BUF - nic->hdr;
    uint16_t id = q->free[--q->nr_free];
    q->desc[id].len = nic->hdr + len;
    q->desc[id].flags = 0;
    q->avail->ring[q->avail_idx % q->size] = id;
    q->avail_idx++;
    mb();
    q->avail->idx = q->avail_idx;
    mb();
    notify(nic, q);
    nic->n.c.tx_packets++;
    nic->n.c.tx_bytes += len;
}

bool virtio_net_link_poll(struct virtio_net *nic)
{
    return nic_common_set_link(&nic->n,
                               !(nic->features & F_STATUS) || (cfg16(nic, 6) & NET_S_LINK_UP));
}

const char *virtio_net_link_text(const struct virtio_net *nic)
{
    if (!nic->n.link)
        return "down";
    return nic->features & F_STATUS ? "up" : "up (the device reports no link state)";
}
