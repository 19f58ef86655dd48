/* PCI configuration mechanism #1 on an empty bus; see vpci.h. */
#include "vdev/vpci.h"

bool vpci_io(uint32_t *addr, uint16_t port, unsigned size, bool in, uint32_t *val)
{
    if (port < VPCI_ADDR_PORT || port > VPCI_DATA_PORT + 3)
        return false;
    if (port == VPCI_ADDR_PORT + 1 && size == 1)
        return false; /* 0xCF9: reset control */
    if (port == VPCI_ADDR_PORT && size == 4) {
        /* Only dword accesses reach the address latch (PCI spec). */
        if (in)
            *val = *addr;
        else
            *addr = *val & VPCI_ADDR_WRITABLE;
    } else if (in) {
        *val = size >= 4 ? 0xffffffffU : (1U << (size * 8)) - 1;
    }
    return true;
}
