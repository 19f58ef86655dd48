/* PCI configuration space access (port 0xCF8/0xCFC or ECAM from the ACPI
 * MCFG, chosen per access) and bus enumeration into a static device table. */
#ifndef DRIVERS_PCI_H
#define DRIVERS_PCI_H

#include <stdbool.h>
#include <stdint.h>

#define PCI_MAX_DEVICES 256

/* Bus/device/function packed as in VT-d source IDs and ACPI: bus 15:8,
 * device 7:3, function 2:0. */
#define PCI_BDF(b, d, f) ((uint16_t)(((b) << 8) | ((d) << 3) | (f)))
#define PCI_BUS(bdf)     ((uint8_t)((bdf) >> 8))
#define PCI_DEV(bdf)     ((uint8_t)(((bdf) >> 3) & 0x1F))
#define PCI_FN(bdf)      ((uint8_t)((bdf)&7))

/* Configuration header offsets. */
#define PCI_VENDOR_ID     0x00
#define PCI_DEVICE_ID     0x02
#define PCI_COMMAND       0x04
#define PCI_STATUS        0x06
#define PCI_CLASS_REV     0x08
#define PCI_HEADER_TYPE   0x0E
#define PCI_BAR0          0x10
#define PCI_PRIMARY_BUS   0x18 /* type 1: primary, secondary, subordinate */
#define PCI_SECONDARY_BUS 0x19
#define PCI_CAP_PTR       0x34
#define PCI_INTERRUPT     0x3C /* line (byte 0), pin (byte 1) */

#define PCI_COMMAND_IO           (1u << 0)
#define PCI_COMMAND_MEMORY       (1u << 1)
#define PCI_COMMAND_MASTER       (1u << 2)
#define PCI_COMMAND_INTX_DISABLE (1u << 10)
#define PCI_STATUS_CAP_LIST      (1u << 4) /* the function has a capability list */

/* Capability IDs (PCI 3.0 appendix H). */
#define PCI_CAP_MSI  0x05
#define PCI_CAP_MSIX 0x11

/* MSI-X message control (PCI 3.0 6.8.2.3). */
#define PCI_MSIX_CTRL_FN_MASK (1u << 14)
#define PCI_MSIX_CTRL_ENABLE  (1u << 15)

#define PCI_HEADER_MULTIFN 0x80
#define PCI_HEADER_NORMAL  0
#define PCI_HEADER_BRIDGE  1
#define PCI_HEADER_CARDBUS 2

#define PCI_CLASS_BRIDGE     0x06
#define PCI_SUBCLASS_HOST    0x00
#define PCI_SUBCLASS_PCI_PCI 0x04

/* bar_flags[] */
#define PCI_BAR_IO       (1u << 0)
#define PCI_BAR_MEM64    (1u << 1)
#define PCI_BAR_PREFETCH (1u << 2)
#define PCI_BAR_UPPER    (1u << 3) /* upper half of the 64-bit BAR before it */

struct pci_dev {
    uint16_t seg;
    uint8_t bus, dev, fn;
    uint16_t vendor, device;
    uint8_t class_code, subclass, prog_if, revision;
    uint8_t header_type;                    /* without the multi-function bit */
    uint8_t secondary_bus, subordinate_bus; /* bridges only */
    uint64_t bar[6];                        /* base address, flag bits stripped */
    uint64_t bar_size[6];                   /* 0: BAR not implemented */
    uint8_t bar_flags[6];
    uint8_t irq_line, irq_pin;
};

/* Config space accessors: off is a byte offset aligned to width (1, 2 or 4).
 * Reads of absent functions return all ones. */
struct pci_ops {
    uint32_t (*read)(void *ctx, uint16_t seg, uint16_t bdf, uint16_t off, unsigned width);
    void (*write)(void *ctx, uint16_t seg, uint16_t bdf, uint16_t off, unsigned width,
                  uint32_t val);
    void *ctx;
};

/* One root scan: a segment and its bus range. */
struct pci_root {
    uint16_t seg;
    uint8_t start_bus, end_bus;
    /* Also probe every bus in range the bridge walk did not reach (peer
     * root buses); cheap enough with ECAM. */
    bool brute_force;
};

/* Enumerates through ops (the unit tests pass a fake config space), replacing
 * the device table. Returns the number of devices recorded. */
unsigned pci_enumerate(const struct pci_ops *ops, const struct pci_root *roots, unsigned nr_roots);

/* Kernel: chooses ECAM (acpi.mcfg) or ports, installs those ops and enumerates.
 * Returns the device count, or -1 when no configuration mechanism works. */
int pci_init(void);

unsigned pci_count(void);
const struct pci_dev *pci_get(unsigned i);
const struct pci_dev *pci_find_bdf(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn);
/* Next device after *from (NULL: the first) of the given class; subclass
 * 0xFF matches any. */
const struct pci_dev *pci_find_class(const struct pci_dev *from, uint8_t class_code,
                                     uint8_t subclass);

/* Config access through the installed ops (all ones / ignored before). */
uint32_t pci_read32(uint16_t seg, uint16_t bdf, uint16_t off);
uint16_t pci_read16(uint16_t seg, uint16_t bdf, uint16_t off);
uint8_t pci_read8(uint16_t seg, uint16_t bdf, uint16_t off);
void pci_write32(uint16_t seg, uint16_t bdf, uint16_t off, uint32_t val);
void pci_write16(uint16_t seg, uint16_t bdf, uint16_t off, uint16_t val);
void pci_write8(uint16_t seg, uint16_t bdf, uint16_t off, uint8_t val);
/* Installs ops without enumerating (tests; NULL uninstalls). */
void pci_set_ops(const struct pci_ops *ops);

/* Offset (0x40..0xfc) of the function's first capability `id`, or 0 when
 * it has none. The list is device input: the walk ends after 48 entries
 * (a looped list) and never leaves 0x40..0xff. Pure (drivers/pci_cap.c). */
uint8_t pci_ops_find_cap(const struct pci_ops *ops, uint16_t seg, uint16_t bdf, uint8_t id);
/* The same through the installed ops. */
uint8_t pci_find_cap(uint16_t seg, uint16_t bdf, uint8_t id);

/* Short description, e.g. "network controller", "PCI bridge". */
const char *pci_class_name(uint8_t class_code, uint8_t subclass);

#endif
