#include "drivers/e1000.h"

#include "arch/x86_64/paging.h"
#include "arch/x86_64/tsc.h"
#include "drivers/pci.h"
#include "lib/format.h"
#include "lib/log.h"
#include "lib/string.h"

/* Registers (Intel 8254x Software Developer's Manual, section 13). */
#define REG_CTRL   0x0000
#define REG_STATUS 0x0008
#define REG_EERD   0x0014
#define REG_ICR    0x00c0
#define REG_IMS    0x00d0
#define REG_IMC    0x00d8
#define REG_RCTL   0x0100
#define REG_TCTL   0x0400
#define REG_TIPG   0x0410
#define REG_RDBAL  0x2800
#define REG_RDBAH  0x2804
#define REG_RDLEN  0x2808
#define REG_RDH    0x2810
#define REG_RDT    0x2818
#define REG_TDBAL  0x3800
#define REG_TDBAH  0x3804
#define REG_TDLEN  0x3808
#define REG_TDH    0x3810
#define REG_TDT    0x3818
#define REG_MPC    0x4010
#define REG_MTA    0x5200
#define REG_RAL0   0x5400
#define REG_RAH0   0x5404

#define CTRL_ASDE    (1u << 5)
#define CTRL_SLU     (1u << 6)
#define CTRL_RST     (1u << 26)
#define CTRL_PHY_RST (1u << 31)
#define STATUS_FD    (1u << 0)
#define STATUS_LU    (1u << 1)
#define EERD_START   (1u << 0)
#define EERD_DONE    (1u << 4)
#define RAH_AV       (1u << 31)

#define INT_TXDW   (1u << 0)
#define INT_LSC    (1u << 2)
#define INT_RXDMT0 (1u << 4)
#define INT_RXO    (1u << 6)
#define INT_RXT0   (1u << 7)

#define RCTL_EN     (1u << 1)
#define RCTL_BAM    (1u << 15)
#define RCTL_SECRC  (1u << 26)
#define TCTL_EN     (1u << 1)
#define TCTL_PSP    (1u << 3)
#define TCTL_CT     (0x0fu << 4)
#define TCTL_COLD   (0x40u << 12)
#define TIPG_COPPER (10u | (8u << 10) | (6u << 20))

#define RX_DD       (1u << 0)
#define RX_EOP      (1u << 1)
#define TX_CMD_EOP  (1u << 0)
#define TX_CMD_IFCS (1u << 1)
#define TX_CMD_RS   (1u << 3)
#define TX_DD       (1u << 0)

#define BAR0_WINDOW 0x20000 /* 128 KiB of registers */

struct e1000_rx_desc {
    uint64_t addr;
    uint16_t length, csum;
    uint8_t status, errors;
    uint16_t special;
};

struct e1000_tx_desc {
    uint64_t addr;
    uint16_t length;
    uint8_t cso, cmd, status, css;
    uint16_t special;
};

_Static_assert(sizeof(struct e1000_rx_desc) == 16, "legacy receive descriptor");
_Static_assert(sizeof(struct e1000_tx_desc) == 16, "legacy transmit descriptor");

static const struct {
    uint16_t id;
    const char *name;
} models[] = {
    {0x100e, "82540EM"},
    {0x100f, "82545EM"},
    {0x1015, "82540EM (LOM)"},
};

bool e1000_supported(uint16_t vendor, uint16_t device)
{
    return vendor == 0x8086 && e1000_model(device);
}

const char *e1000_model(uint16_t device)
{
    for (size_t i = 0; i < sizeof(models) / sizeof(models[0]); i++)
        if (models[i].id == device)
            return models[i].name;
    return NULL;
}

static uint32_t rd(const struct e1000 *nic, unsigned reg)
{
    return *(volatile uint32_t *)(nic->regs + reg);
}

static void wr(struct e1000 *nic, unsigned reg, uint32_t v)
{
    *(volatile uint32_t *)(nic->regs + reg) = v;
}

static void barrier(void)
{
    __asm__ volatile("" ::: "memory");
}

/* Waits for mask to clear in reg; false after timeout_us. */
static bool wait_clear(struct e1000 *nic, unsigned reg, uint32_t mask, unsigned timeout_us)
{
    for (unsigned t = 0; t < timeout_us; t += 10) {
        if (!(rd(nic, reg) & mask))
            return true;
        udelay(10);
    }
    return false;
}

static bool eeprom_read(struct e1000 *nic, unsigned word, uint16_t *out)
{
    wr(nic, REG_EERD, EERD_START | (word << 8));
    for (unsigned t = 0; t < 10000; t += 10) {
        uint32_t v = rd(nic, REG_EERD);
        if (v & EERD_DONE) {
            *out = (uint16_t)(v >> 16);
            return true;
        }
        udelay(10);
    }
    return false;
}

/* The MAC the NIC loaded from its EEPROM into receive address 0; read the
 * EEPROM itself when that entry is not valid. */
static bool read_mac(struct e1000 *nic)
{
    uint32_t lo = rd(nic, REG_RAL0), hi = rd(nic, REG_RAH0);
    if (hi & RAH_AV) {
        for (int i = 0; i < 4; i++)
            nic->n.mac[i] = (uint8_t)(lo >> (8 * i));
        nic->n.mac[4] = (uint8_t)hi;
        nic->n.mac[5] = (uint8_t)(hi >> 8);
    } else {
        for (unsigned w = 0; w < 3; w++) {
            uint16_t v;
            if (!eeprom_read(nic, w, &v))
                return false;
            nic->n.mac[2 * w] = (uint8_t)v;
            nic->n.mac[2 * w + 1] = (uint8_t)(v >> 8);
        }
    }
    if (!nic_common_mac_ok(nic->n.mac))
        return false;
    /* Receive address 0 is the unicast filter: some NICs (Bochs') leave it
     * empty after a reset, and then only broadcasts arrive. */
    wr(nic, REG_RAL0,
       (uint32_t)nic->n.mac[0] | (uint32_t)nic->n.mac[1] << 8 | (uint32_t)nic->n.mac[2] << 16 |
           (uint32_t)nic->n.mac[3] << 24);
    wr(nic, REG_RAH0, (uint32_t)nic->n.mac[4] | (uint32_t)nic->n.mac[5] << 8 | RAH_AV);
    return true;
}

/* Rings and buffers in one allocation of the NIC's own pages (with its
 * VT-d domain: nic_common_alloc). */
static int setup_memory(struct e1000 *nic, char *why, size_t whylen)
{
    const uint64_t ring_bytes = (E1000_RX_DESCS + E1000_TX_DESCS) * 16;
    const uint64_t buf_bytes = (uint64_t)(E1000_RX_DESCS + E1000_TX_DESCS) * E1000_BUF_SIZE;
    if (nic_common_alloc(&nic->n, (ring_bytes + PAGE_SIZE - 1) / PAGE_SIZE + buf_bytes / PAGE_SIZE,
                         why, whylen))
        return -1;
    uint8_t *base = (uint8_t *)(uintptr_t)nic->n.mem;
    nic->rx = (volatile struct e1000_rx_desc *)base;
    nic->tx = (volatile struct e1000_tx_desc *)(base + E1000_RX_DESCS * 16);
    nic->rx_buf = base + ((ring_bytes + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1));
    nic->tx_buf = nic->rx_buf + E1000_RX_DESCS * E1000_BUF_SIZE;
    return 0;
}

static void setup_rx(struct e1000 *nic)
{
    for (unsigned i = 0; i < E1000_RX_DESCS; i++) {
        nic->rx[i].addr = (uint64_t)(uintptr_t)(nic->rx_buf + i * E1000_BUF_SIZE);
        nic->rx[i].status = 0;
    }
    uint64_t ring = (uint64_t)(uintptr_t)nic->rx;
    for (unsigned i = 0; i < 128; i++)
        wr(nic, REG_MTA + 4 * i, 0);
    wr(nic, REG_RDBAL, (uint32_t)ring);
    wr(nic, REG_RDBAH, (uint32_t)(ring >> 32));
    wr(nic, REG_RDLEN, E1000_RX_DESCS * 16);
    wr(nic, REG_RDH, 0);
    wr(nic, REG_RDT, E1000_RX_DESCS - 1); /* one slot stays empty: head == tail is "full" */
    nic->rx_next = 0;
    /* Unicast to our address and broadcast (ARP, DHCP); 2 KiB buffers, CRC stripped. */
    wr(nic, REG_RCTL, RCTL_EN | RCTL_BAM | RCTL_SECRC);
}

static void setup_tx(struct e1000 *nic)
{
    for (unsigned i = 0; i < E1000_TX_DESCS; i++) {
        nic->tx[i].addr = (uint64_t)(uintptr_t)(nic->tx_buf + i * E1000_BUF_SIZE);
        nic->tx[i].status = TX_DD; /* free */
        nic->tx[i].cmd = 0;
    }
    uint64_t ring = (uint64_t)(uintptr_t)nic->tx;
    wr(nic, REG_TDBAL, (uint32_t)ring);
    wr(nic, REG_TDBAH, (uint32_t)(ring >> 32));
    wr(nic, REG_TDLEN, E1000_TX_DESCS * 16);
    wr(nic, REG_TDH, 0);
    wr(nic, REG_TDT, 0);
    nic->tx_next = 0;
    wr(nic, REG_TIPG, TIPG_COPPER);
    wr(nic, REG_TCTL, TCTL_EN | TCTL_PSP | TCTL_CT | TCTL_COLD);
}

int e1000_init(struct e1000 *nic, const struct pci_dev *p, char *why, size_t whylen)
{
    memset(nic, 0, sizeof(*nic));
    uint16_t cmd = nic_common_begin(&nic->n, p);
    if (!p->bar[0] || p->bar_size[0] < BAR0_WINDOW || (p->bar_flags[0] & PCI_BAR_IO)) {
        fmt_snprintf(why, whylen, "BAR0 is not a %u KiB memory BAR", BAR0_WINDOW >> 10);
        return -1;
    }
    if (paging_map_mmio(p->bar[0], BAR0_WINDOW)) { /* RW, NX, uncached */
        fmt_snprintf(why, whylen, "cannot map BAR0 at 0x%llx", (unsigned long long)p->bar[0]);
        return -1;
    }
    nic->regs = (volatile uint8_t *)(uintptr_t)p->bar[0];

    wr(nic, REG_IMC, 0xffffffff);
    wr(nic, REG_CTRL, rd(nic, REG_CTRL) | CTRL_RST);
    udelay(20);
    if (!wait_clear(nic, REG_CTRL, CTRL_RST, 100000)) {
        fmt_snprintf(why, whylen, "the NIC did not come out of reset");
        return -1;
    }
    wr(nic, REG_IMC, 0xffffffff);
    (void)rd(nic, REG_ICR);
    if (!read_mac(nic)) {
        fmt_snprintf(why, whylen, "no valid MAC address in the NIC's EEPROM");
        return -1;
    }
    if (setup_memory(nic, why, whylen)) {
        nic_common_free(&nic->n);
        return -1;
    }
    nic_common_start(&nic->n, cmd); /* bus mastering on, INTx masked until routed */
    wr(nic, REG_CTRL, (rd(nic, REG_CTRL) | CTRL_SLU | CTRL_ASDE) & ~CTRL_PHY_RST);
    setup_rx(nic);
    setup_tx(nic);
    (void)rd(nic, REG_MPC); /* clear on read */
    e1000_link_poll(nic);
    nic->n.c.link_changes = 0;
    return 0;
}

static void e1000_irq(struct irq_frame *f, void *arg)
{
    struct e1000 *nic = arg;
    (void)rd(nic, REG_ICR); /* acknowledges: the line drops; the poll loop does the work */
    __atomic_fetch_add(&nic->n.c.irqs, 1, __ATOMIC_RELAXED);
}

bool e1000_enable_irq(struct e1000 *nic, unsigned cpu)
{
    /* The legacy line: 8254x parts have no MSI-X, and the plain MSI some
     * of them have (not QEMU's or Bochs' 82540EM) is not used. */
    if (!nic_common_route_intx(&nic->n, e1000_irq, nic, cpu))
        return false;
    wr(nic, REG_IMS, INT_RXT0 | INT_RXO | INT_RXDMT0 | INT_LSC);
    return true;
}

unsigned e1000_rx(struct e1000 *nic, void (*deliver)(void *ctx, const void *frame, unsigned len),
                  void *ctx, unsigned budget)
{
    unsigned done = 0;
    while (done < budget) {
        volatile struct e1000_rx_desc *d = &nic->rx[nic->rx_next];
        if (!(d->status & RX_DD))
            break;
        barrier();
        unsigned len = d->length;
        /* A frame that spans buffers (longer than 2 KiB: not ours to take)
         * or that the NIC flagged is dropped, never half-delivered. */
        if (!(d->status & RX_EOP) || d->errors || len < 14 || len > E1000_BUF_SIZE) {
            nic->n.c.rx_errors++;
        } else {
            nic->n.c.rx_packets++;
            nic->n.c.rx_bytes += len;
            deliver(ctx, nic->rx_buf + nic->rx_next * E1000_BUF_SIZE, len);
        }
        d->status = 0;
        barrier();
        wr(nic, REG_RDT, nic->rx_next); /* the slot goes back to the NIC */
        nic->rx_next = (nic->rx_next + 1) % E1000_RX_DESCS;
        done++;
    }
    uint32_t missed = rd(nic, REG_MPC);
    nic->n.c.missed += missed;
    return done;
}

void *e1000_tx_buffer(struct e1000 *nic)
{
    volatile struct e1000_tx_desc *d = &nic->tx[nic->tx_next];
    if (!(d->status & TX_DD)) {
        nic->n.c.tx_busy++;
        return NULL;
    }
    return nic->tx_buf + nic->tx_next * E1000_BUF_SIZE;
}

void e1000_tx_send(struct e1000 *nic, unsigned len)
{
    volatile struct e1000_tx_desc *d = &nic->tx[nic->tx_next];
    if (len > E1000_BUF_SIZE)
        len = E1000_BUF_SIZE;
    d->length = (uint16_t)len;
    d->cso = 0;
    d->css = 0;
    d->special = 0;
    d->cmd = TX_CMD_EOP | TX_CMD_IFCS | TX_CMD_RS;
    d->status = 0;
    barrier();
    nic->tx_next = (nic->tx_next + 1) % E1000_TX_DESCS;
    wr(nic, REG_TDT, nic->tx_next);
    nic->n.c.tx_packets++;
    nic->n.c.tx_bytes += len;
}

bool e1000_link_poll(struct e1000 *nic)
{
    return nic_common_set_link(&nic->n, (rd(nic, REG_STATUS) & STATUS_LU) != 0);
}

const char *e1000_link_text(const struct e1000 *nic)
{
    static const char *const speeds[] = {"10", "100", "1000", "1000"};
    static char buf[40];
    if (!nic->n.link)
        return "down";
    uint32_t st = rd(nic, REG_STATUS);
    fmt_snprintf(buf, sizeof(buf), "up, %s Mb/s %s duplex", speeds[(st >> 6) & 3],
                 (st & STATUS_FD) ? "full" : "half");
    return buf;
}
