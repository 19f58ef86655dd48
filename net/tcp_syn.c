#include "net/tcp_syn.h"

#include <stddef.h>

#define ETH_HLEN      14
#define ETHERTYPE_IP4 0x0800
#define IP_PROTO_TCP  6
#define IP_MF         0x2000
#define IP_OFFSET     0x1FFF
#define TCP_FIN       0x01
#define TCP_SYN       0x02
#define TCP_RST       0x04
#define TCP_ACK       0x10

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The ones'-complement sum of n bytes, added to sum (not folded). */
static uint32_t sum16(const uint8_t *p, size_t n, uint32_t sum)
{
    for (; n > 1; p += 2, n -= 2)
        sum += be16(p);
    if (n)
        sum += (uint32_t)p[0] << 8;
    return sum;
}

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint16_t)sum;
}

bool tcp_syn_parse(const void *frame, unsigned len, struct tcp_syn *out)
{
    const uint8_t *f = frame;
    if (!f || len < ETH_HLEN + 20 || be16(f + 12) != ETHERTYPE_IP4)
        return false;
    const uint8_t *ip = f + ETH_HLEN;
    unsigned ip_room = len - ETH_HLEN, ihl = (ip[0] & 15u) * 4;
    unsigned total = be16(ip + 2);
    /* Version 4, a whole unfragmented datagram inside the frame (Ethernet
     * may pad after it), TCP. */
    if ((ip[0] >> 4) != 4 || ihl < 20 || total < ihl + 20 || total > ip_room ||
        (be16(ip + 6) & (IP_MF | IP_OFFSET)) || ip[9] != IP_PROTO_TCP ||
        fold(sum16(ip, ihl, 0)) != 0xFFFF)
        return false;
    const uint8_t *tcp = ip + ihl;
    unsigned tcp_len = total - ihl, doff = (tcp[12] >> 4) * 4u;
    uint8_t flags = tcp[13];
    if (doff < 20 || doff > tcp_len || (flags & (TCP_SYN | TCP_ACK | TCP_RST | TCP_FIN)) != TCP_SYN)
        return false;
    /* Pseudo header: source, destination, protocol, TCP length. */
    uint32_t sum = sum16(ip + 12, 8, IP_PROTO_TCP + tcp_len);
    if (fold(sum16(tcp, tcp_len, sum)) != 0xFFFF)
        return false;
    out->src_ip = be32(ip + 12);
    out->dst_ip = be32(ip + 16);
    out->src_port = be16(tcp);
    out->dst_port = be16(tcp + 2);
    out->seq = be32(tcp + 4);
    return true;
}
