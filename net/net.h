/* The hypervisor's own network stack: one NIC (net/nic.h: e1000 or virtio-net) under lwIP
 * (NO_SYS, raw API), driven from the console CPU's loop. Nothing here runs
 * unless net_start succeeded. docs/network.md. */
#ifndef NET_NET_H
#define NET_NET_H

#include <stdbool.h>
#include <stdint.h>

struct net_config {
    bool device_auto; /* else seg:bus:dev.fn */
    uint16_t seg;
    uint8_t bus, dev, fn;
    bool dhcp;        /* else address/prefix and gateway (0: none) */
    uint32_t address; /* host byte order */
    unsigned prefix;
    uint32_t gateway;
};

/* A PCI function the NIC may not be (a VM's device). */
struct net_pci_id {
    uint16_t seg;
    uint8_t bus, dev, fn;
};

/* false (command line `net.irq=off`): no receive interrupt, polling only.
 * Set before net_start. */
extern bool net_use_irq;

/* Finds the NIC (net.device, or the first supported one that is not in
 * taken[]), brings it up, starts lwIP and DHCP or the static address.
 * Receive interrupts go to irq_cpu. 0, or -1 with the reason logged. */
int net_start(const struct net_config *cfg, const struct net_pci_id *taken, unsigned nr_taken,
              unsigned irq_cpu);
bool net_running(void);
/* The NIC in use; false while the network is not running. */
bool net_device(struct net_pci_id *out);
/* The console CPU, as often as it can: receive, timers, link state. */
void net_poll(void);
/* Our IPv4 address (host order), 0 while there is none. */
uint32_t net_address(void);
/* The NIC's counters (for /metrics); false while the network is not running. */
struct net_nic_stats {
    char name[16]; /* its PCI address, "00:03.0" */
    uint64_t rx_packets, rx_bytes, rx_errors, rx_dropped, rx_missed;
    uint64_t tx_packets, tx_bytes, tx_ring_full, tx_dropped;
    uint64_t irqs, link_changes;
    bool link_up;
};
bool net_nic_stats(struct net_nic_stats *out);
/* The console's `net`: NIC, link, address, counters. */
void net_show(void (*out)(const char *fmt, ...));

#endif
