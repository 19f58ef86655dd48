/* Counters every root-mode NIC driver keeps (e1000, virtio-net), shown by
 * the console's `net`. */
#ifndef DRIVERS_NIC_COUNTERS_H
#define DRIVERS_NIC_COUNTERS_H

#include <stdint.h>

struct nic_counters {
    uint64_t rx_packets, rx_bytes, rx_errors, rx_dropped;
    uint64_t tx_packets, tx_bytes, tx_busy; /* tx_busy: refused, ring full */
    uint64_t missed;                        /* frames the NIC had no buffer for */
    uint64_t irqs, link_changes;
};

#endif
