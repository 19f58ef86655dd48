/* The capability list walk; see pci.h. Pure (host unit tests link it). */
#include "drivers/pci.h"

/* 48 four-byte-aligned slots fit in 0x40..0xff: a longer walk is a loop. */
#define CAP_WALK_MAX 48

uint8_t pci_ops_find_cap(const struct pci_ops *o, uint16_t seg, uint16_t bdf, uint8_t id)
{
    if (!(o->read(o->ctx, seg, bdf, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST))
        return 0;
    uint8_t at = (uint8_t)(o->read(o->ctx, seg, bdf, PCI_CAP_PTR, 1) & 0xfc);
    for (unsigned n = 0; n < CAP_WALK_MAX && at >= 0x40; n++) {
        if ((uint8_t)o->read(o->ctx, seg, bdf, at, 1) == id)
            return at;
        at = (uint8_t)(o->read(o->ctx, seg, bdf, (uint16_t)(at + 1), 1) & 0xfc);
    }
    return 0;
}
