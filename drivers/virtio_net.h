/* virtio-net driven by the hypervisor itself, in root mode (QEMU's and
 * QEMU/KVM's usual NIC): the modern virtio 1.0 PCI transport found through
 * its vendor capabilities (common, notify, ISR and device configuration),
 * VIRTIO_F_VERSION_1, one receive and one transmit split virtqueue, link
 * status when the device offers VIRTIO_NET_F_STATUS. A transitional
 * device without the virtio 1.0 capabilities is driven through the legacy
 * transport (I/O BAR0, the queue sizes the device fixes, up to 256).
 * Rings and buffers are one allocation of hypervisor pages (owner "net");
 * under VT-d the NIC gets a DMA domain of its own that maps exactly those
 * pages, as the e1000 does.
 *
 * Receive is interrupt-announced (MSI-X entry 0, through VT-d interrupt
 * remapping when it is on; else INTx, acknowledged through the ISR
 * register) and polled: a lost interrupt costs latency, never packets.
 * Not thread-safe: the console CPU drives it. */
#ifndef DRIVERS_VIRTIO_NET_H
#define DRIVERS_VIRTIO_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/nic_common.h"

struct pci_dev;

#define VIRTIO_NET_QUEUE      32   /* descriptors per virtqueue (less if the device says so) */
#define VIRTIO_NET_BUF        2048 /* per descriptor: the 12-byte header and a frame */
#define VIRTIO_NET_HDR        12   /* struct virtio_net_hdr with VERSION_1 */
#define VIRTIO_NET_HDR_LEGACY 10   /* the same without num_buffers (legacy transport) */
#define VIRTIO_NET_MAX_FRAME  1514

struct virtq {
    unsigned size;
    volatile struct virtq_desc *desc;
    volatile struct virtq_avail *avail;
    volatile struct virtq_used *used;
    uint8_t *bufs;
    uint16_t last_used; /* used entries seen so far */
    uint16_t avail_idx; /* our copy of avail->idx */
    volatile uint16_t *notify;
    uint16_t free[VIRTIO_NET_QUEUE]; /* transmit: descriptors not in flight */
    unsigned nr_free;
    unsigned nbufs; /* descriptors with a buffer: ids 0..nbufs-1 (at most size) */
    uint16_t index; /* the queue's number (what a notification names) */
};

struct virtio_net {
    struct nic_common n;
    volatile uint8_t *common, *isr, *devcfg; /* virtio 1.0 */
    uint16_t io;                             /* legacy transport: BAR0 I/O base, else 0 */
    unsigned hdr;                            /* bytes of virtio-net header before a frame */
    uint64_t features;                       /* negotiated */
    struct virtq rx, tx;
};

/* Vendor 1af4: 1041 (modern) or 1000 (transitional network device). */
bool virtio_net_supported(uint16_t vendor, uint16_t device);

/* Finds the capabilities, resets the device, negotiates features, sets up
 * both queues (and the DMA domain under VT-d) and sets DRIVER_OK.
 * 0, or -1 with the reason in why (the device is left reset). */
int virtio_net_init(struct virtio_net *nic, const struct pci_dev *p, char *why, size_t whylen);
/* Routes the legacy interrupt on cpu; false when it cannot (polling then). */
bool virtio_net_enable_irq(struct virtio_net *nic, unsigned cpu);
/* Calls deliver for up to budget received frames (without the header). */
unsigned virtio_net_rx(struct virtio_net *nic,
                       void (*deliver)(void *ctx, const void *frame, unsigned len), void *ctx,
                       unsigned budget);
/* A free transmit buffer for one frame (VIRTIO_NET_MAX_FRAME bytes), or
 * NULL when all are in flight (counted in tx_busy); virtio_net_tx_send
 * queues len bytes of it. */
void *virtio_net_tx_buffer(struct virtio_net *nic);
void virtio_net_tx_send(struct virtio_net *nic, unsigned len);
/* Reads the link state; true when it changed since the last call. */
bool virtio_net_link_poll(struct virtio_net *nic);
const char *virtio_net_link_text(const struct virtio_net *nic);

#endif
