/* pcitest: what a VM sees of a passed-through PCI device (Bochs' e1000,
 * 8086:100e). One line per step, then `pcitest: done`:
 *  - the bus through 0xCF8/0xCFC: the host bridge and the device, IDs as
 *    the hardware's, nothing else;
 *  - BAR0 as the hypervisor assigned it, its size by the all-ones write;
 *  - bus mastering: refused without an IOMMU domain (`iommu = off-unsafe`);
 *  - the registers behind BAR0 reached (the MAC address from the EEPROM
 *    through EERD), then again after moving BAR0, while the old address
 *    reads all ones;
 *  - INTx: the device raises its interrupt (ICS) and it arrives through the
 *    virtual IOAPIC pin the interrupt line register names, twice (the host
 *    pin is unmasked again after the guest's EOI);
 *  - the I/O BAR (iobar.c): direct at its host ports, trapped with I/O
 *    decoding off or moved, refused over the hypervisor's ports.
 * A failed step prints `pcitest: FAIL <what>`. */
#include "tests/guests/pcitest/pcitest.h"

#define LAPIC      0xfee00000u
#define IOAPIC     0xfec00000u
#define PCI_VEC    0x40
#define E1000_ICR  0xc0
#define E1000_ICS  0xc8
#define E1000_IMS  0xd0
#define E1000_EERD 0x14 /* EEPROM read: start bit 0, done bit 4, word 15:8, data 31:16 */

static volatile uint32_t *mmio(uint32_t a)
{
    return (volatile uint32_t *)(uintptr_t)a;
}

uint32_t cfg_read(unsigned dev, unsigned reg)
{
    outl(0xcf8, 0x80000000u | dev << 11 | (reg & 0xfc));
    return inl(0xcfc);
}

void cfg_write(unsigned dev, unsigned reg, uint32_t v)
{
    outl(0xcf8, 0x80000000u | dev << 11 | (reg & 0xfc));
    outl(0xcfc, v);
}

static unsigned fails;

void fail(const char *what)
{
    printf("pcitest: FAIL %s\n", what);
    fails++;
}

static uint16_t eeprom_word(uint32_t bar, unsigned word)
{
    mmio(bar)[E1000_EERD / 4] = word << 8 | 1;
    for (unsigned i = 0; i < 100000; i++) {
        uint32_t v = mmio(bar)[E1000_EERD / 4];
        if (v & (1u << 4))
            return (uint16_t)(v >> 16);
    }
    return 0xffff;
}

static volatile unsigned irqs;
static uint32_t bar0;

/* Called from the stub in irq.S with interrupts off. */
void pcitest_irq(void);
void pcitest_irq(void)
{
    (void)mmio(bar0)[E1000_ICR / 4]; /* reading ICR deasserts the line */
    irqs++;
    mmio(LAPIC)[0xb0 / 4] = 0; /* EOI */
}

extern char pcitest_isr[];

static void set_gate(unsigned vec, uint32_t handler)
{
    struct {
        uint16_t limit;
        uint32_t base;
    } __attribute__((packed)) idtr;
    __asm__ volatile("sidt %0" : "=m"(idtr));
    uint16_t *g = (uint16_t *)(uintptr_t)(idtr.base + vec * 8);
    g[0] = (uint16_t)handler;
    g[1] = SEL_KCODE;
    g[2] = 0x8e00; /* present, DPL 0, 32-bit interrupt gate */
    g[3] = (uint16_t)(handler >> 16);
}

static void ioapic_write(unsigned reg, uint32_t v)
{
    mmio(IOAPIC)[0] = reg;
    mmio(IOAPIC)[4] = v;
}

static bool wait_irqs(unsigned n)
{
    for (unsigned i = 0; i < 2000000 && irqs < n; i++)
        cpu_relax();
    return irqs >= n;
}

void guest_main(uint32_t magic, uint32_t mbi)
{
    (void)magic;
    (void)mbi;
    desc_init();
    unsigned found = 0, dev = 0;
    for (unsigned d = 0; d < 32; d++) {
        uint32_t id = cfg_read(d, 0);
        if (id == 0xffffffffu)
            continue;
        printf("pcitest: 00:%02x.0 %04x:%04x class %06x\n", d, id & 0xffff, id >> 16,
               cfg_read(d, 8) >> 8);
        found++;
        if (id == 0x100e8086u)
            dev = d;
    }
    if (!dev || found != 2) {
        fail("bus: expected the host bridge and one e1000");
        guest_exit(1);
    }
    bar0 = cfg_read(dev, 0x10) & ~0xfu;
    cfg_write(dev, 0x10, 0xffffffffu);
    uint32_t size = ~(cfg_read(dev, 0x10) & ~0xfu) + 1;
    cfg_write(dev, 0x10, bar0);
    printf("pcitest: BAR0 0x%x size 0x%x\n", bar0, size);

    cfg_write(dev, 0x04, 0x6); /* memory + bus master */
    uint32_t cmd = cfg_read(dev, 0x04) & 0xffff;
    printf("pcitest: command 0x%x: bus mastering %s\n", cmd, cmd & 4 ? "on" : "refused");

    uint16_t w0 = eeprom_word(bar0, 0), w1 = eeprom_word(bar0, 1), w2 = eeprom_word(bar0, 2);
    printf("pcitest: mac %02x:%02x:%02x:%02x:%02x:%02x\n", w0 & 0xff, w0 >> 8, w1 & 0xff, w1 >> 8,
           w2 & 0xff, w2 >> 8);

    uint32_t old = bar0;
    bar0 = old + 0x100000;
    cfg_write(dev, 0x10, bar0);
    uint16_t again = eeprom_word(bar0, 0);
    uint32_t stale = mmio(old)[E1000_EERD / 4];
    printf("pcitest: BAR0 moved to 0x%x: mac word 0x%x, old address reads 0x%x\n",
           cfg_read(dev, 0x10) & ~0xfu, again, stale);
    if (again != w0 || stale != 0xffffffffu)
        fail("BAR move");

    /* INTx: the pin the interrupt line register names, level, active low. */
    unsigned gsi = cfg_read(dev, 0x3c) & 0xff;
    mmio(LAPIC)[0xf0 / 4] = 0x1ff; /* software-enable the local APIC */
    set_gate(PCI_VEC, (uint32_t)(uintptr_t)pcitest_isr);
    ioapic_write(0x11 + 2 * gsi, 0);
    ioapic_write(0x10 + 2 * gsi, PCI_VEC | (1u << 13) | (1u << 15));
    __asm__ volatile("sti");
    mmio(bar0)[E1000_IMS / 4] = 1u << 2;
    for (unsigned n = 1; n <= 2; n++) {
        mmio(bar0)[E1000_ICS / 4] = 1u << 2;
        if (!wait_irqs(n)) {
            fail("INTx not delivered");
            break;
        }
    }
    __asm__ volatile("cli");
    printf("pcitest: INTx on GSI %u: %u interrupts\n", gsi, irqs);
    pcitest_iobar(dev, bar0);
    printf("pcitest: done, %u failures\n", fails);
    guest_exit(fails ? 1 : 0);
}
