/* The hypervisor's NIC, whichever driver runs it (e1000 or virtio-net):
 * net.c and lwIP's glue see only this. */
#ifndef NET_NIC_H
#define NET_NIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/nic_counters.h"

struct pci_dev;

#define NIC_MAX_FRAME 1514 /* without the CRC */

/* True for a PCI function one of the drivers takes. */
bool nic_supported(const struct pci_dev *p);
/* "Intel 82540EM", "virtio-net". */
const char *nic_model_of(const struct pci_dev *p);

int nic_init(const struct pci_dev *p, char *why, size_t whylen);
bool nic_enable_irq(unsigned cpu);
unsigned nic_rx(void (*deliver)(void *ctx, const void *frame, unsigned len), void *ctx,
                unsigned budget);
/* A buffer for one frame of up to NIC_MAX_FRAME bytes, or NULL (ring full). */
void *nic_tx_buffer(void);
void nic_tx_send(unsigned len);
bool nic_link_poll(void);
bool nic_link_up(void);
const char *nic_link_text(void);

const uint8_t *nic_mac(void);
const char *nic_model(void);
uint16_t nic_seg(void);
uint16_t nic_bdf(void);
struct nic_counters *nic_counters(void);
/* How the receive interrupt arrives ("GSI 11", "MSI-X vector 0x31 through
 * remapping entry 2"), or NULL when the NIC is polled only. */
const char *nic_irq_text(void);

#endif
