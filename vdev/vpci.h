/* PCI configuration mechanism #1 (ports 0xCF8-0xCFF) of a VM's bus. No
 * device is given to a VM yet, so the bus is empty: every data read
 * returns all ones (no function present), writes are dropped. */
#ifndef VDEV_VPCI_H
#define VDEV_VPCI_H

#include <stdbool.h>
#include <stdint.h>

#define VPCI_ADDR_PORT     0xcf8
#define VPCI_DATA_PORT     0xcfc
#define VPCI_ADDR_WRITABLE 0x80fffffcU /* enable, bus, device, function, register */

/* A guest access of `size` bytes (1, 2 or 4) at `port`; addr is the
 * VM's 0xCF8 latch. Returns false for ports that are not the mechanism's:
 * outside 0xCF8-0xCFF, and byte accesses to 0xCF9 (the reset control
 * register, which the caller routes to the PM model). */
bool vpci_io(uint32_t *addr, uint16_t port, unsigned size, bool in, uint32_t *val);

#endif
