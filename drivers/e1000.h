/* Intel 8254x (e1000) NIC driven by the hypervisor itself, in root mode:
 * QEMU's and Bochs' 82540EM. Legacy descriptors, one receive and one
 * transmit ring with their buffers in hypervisor memory (page allocator
 * owner "net"); under VT-d the NIC gets a DMA domain of its own that maps
 * exactly those pages. Never given to a VM.
 *
 * Receive is interrupt-announced (INTx through the I/O APIC) and polled:
 * the caller polls e1000_rx from its loop in any case, so a missing or
 * misrouted interrupt costs latency, never packets. Not thread-safe: one
 * CPU (the console CPU) drives it; the interrupt handler only counts. */
#ifndef DRIVERS_E1000_H
#define DRIVERS_E1000_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/nic_common.h"

struct pci_dev;

#define E1000_RX_DESCS  32
#define E1000_TX_DESCS  32
#define E1000_BUF_SIZE  2048
#define E1000_MTU_FRAME 1514 /* without the CRC */

struct e1000 {
    struct nic_common n; /* n.mem: rings, then buffers; n.c.missed: the NIC's MPC */
    volatile uint8_t *regs;
    volatile struct e1000_rx_desc *rx;
    volatile struct e1000_tx_desc *tx;
    uint8_t *rx_buf, *tx_buf;
    unsigned rx_next, tx_next;
};

/* True for the 8254x parts this driver knows (vendor 8086). */
bool e1000_supported(uint16_t vendor, uint16_t device);
const char *e1000_model(uint16_t device);

/* Maps BAR0, resets the NIC, sets up the rings and (under VT-d) its DMA
 * domain, enables receive and transmit. 0, or -1 with the reason in why. */
int e1000_init(struct e1000 *nic, const struct pci_dev *p, char *why, size_t whylen);
/* Routes the legacy interrupt on cpu; false when it cannot (polling then). */
bool e1000_enable_irq(struct e1000 *nic, unsigned cpu);
/* Calls deliver for up to budget received frames; returns how many. */
unsigned e1000_rx(struct e1000 *nic, void (*deliver)(void *ctx, const void *frame, unsigned len),
                  void *ctx, unsigned budget);
/* The next free transmit buffer (E1000_BUF_SIZE bytes), or NULL when the
 * ring is full (counted in tx_busy). e1000_tx_send queues len bytes of it. */
void *e1000_tx_buffer(struct e1000 *nic);
void e1000_tx_send(struct e1000 *nic, unsigned len);
/* Reads the link state; true when it changed since the last call. */
bool e1000_link_poll(struct e1000 *nic);
/* "1000 Mb/s full duplex" or "down". */
const char *e1000_link_text(const struct e1000 *nic);

#endif
