/* Recognises a connection request (an Ethernet frame carrying an IPv4 TCP
 * segment with SYN set and ACK, RST and FIN clear) and reads its addresses
 * and sequence number. Every length and both checksums are checked: the
 * frame comes from the network and is hostile. Pure logic, no lwIP. */
#ifndef NET_TCP_SYN_H
#define NET_TCP_SYN_H

#include <stdbool.h>
#include <stdint.h>

struct tcp_syn {
    uint32_t src_ip, dst_ip; /* host byte order */
    uint16_t src_port, dst_port;
    uint32_t seq;
};

bool tcp_syn_parse(const void *frame, unsigned len, struct tcp_syn *out);

#endif
