/* Shared between the vPCI files (vpci_bridge.c, vpci_bar.c, vpci_cap.c,
 * vpci_msi.c); not for other users. Register accesses inside the model are
 * dword-wide with a byte-enable mask, so a narrow guest write never
 * touches the bytes it does not name. */
#ifndef VDEV_VPCI_PRIV_H
#define VDEV_VPCI_PRIV_H

#include "vdev/vpci_bridge.h"

/* Whether [a, a+size) lies inside window w (and size is not 0). */
static inline bool vpci_in_window(const struct vpci_window *w, uint64_t a, uint64_t size)
{
    return size && a >= w->base && a - w->base <= w->size && size <= w->size - (a - w->base);
}

/* Byte-enable mask (bit i = byte i) to a bit mask. */
static inline uint32_t vpci_byte_mask(unsigned be)
{
    uint32_t m = 0;
    for (unsigned i = 0; i < 4; i++)
        if (be & (1u << i))
            m |= 0xffu << (8 * i);
    return m;
}

static inline uint32_t vpci_snap32(const struct vpci_dev *d, unsigned off)
{
    return (uint32_t)d->cfg[off] | (uint32_t)d->cfg[off + 1] << 8 |
           (uint32_t)d->cfg[off + 2] << 16 | (uint32_t)d->cfg[off + 3] << 24;
}

static inline uint16_t vpci_snap16(const struct vpci_dev *d, unsigned off)
{
    return (uint16_t)(d->cfg[off] | d->cfg[off + 1] << 8);
}

void vpci_refuse(struct vpci_bus *b, struct vpci_dev *d, const char *what);

/* vpci_bar.c: BARs and the command register. */
void vpci_bars_init(struct vpci_dev *d, const struct pci_dev *hw);
uint32_t vpci_bar_read(const struct vpci_dev *d, unsigned i);
void vpci_bar_write(struct vpci_bus *b, struct vpci_dev *d, unsigned i, uint32_t val,
                    uint32_t mask);
void vpci_command_write(struct vpci_bus *b, struct vpci_dev *d, uint16_t val, uint16_t mask);
void vpci_bars_unmap(struct vpci_bus *b, struct vpci_dev *d);

/* vpci_cap.c: the capability list, power management and PCI Express. */
bool vpci_caps_scan(struct vpci_dev *d, char *err, size_t errlen);
uint32_t vpci_cap_read(struct vpci_bus *b, struct vpci_dev *d, unsigned off);
void vpci_cap_write(struct vpci_bus *b, struct vpci_dev *d, unsigned off, uint32_t val,
                    uint32_t mask);

/* vpci_msi.c: MSI and MSI-X. */
bool vpci_msi_init(struct vpci_bus *b, struct vpci_dev *d, char *err, size_t errlen);
uint32_t vpci_msi_read(struct vpci_bus *b, struct vpci_dev *d, unsigned rel);
void vpci_msi_write(struct vpci_bus *b, struct vpci_dev *d, unsigned rel, uint32_t val,
                    uint32_t mask);
uint32_t vpci_msix_cap_read(struct vpci_bus *b, struct vpci_dev *d, unsigned rel);
void vpci_msix_cap_write(struct vpci_bus *b, struct vpci_dev *d, unsigned rel, uint32_t val,
                         uint32_t mask);
void vpci_msi_release_all(struct vpci_bus *b, struct vpci_dev *d);

#endif
