/* lwIP options for the hypervisor: NO_SYS with the raw API, IPv4 only,
 * driven from the console CPU's loop (net/net.c). Memory is static and
 * bounded: the heap and pools below are all lwIP ever uses, so hostile
 * traffic can exhaust them (and get refused) but never grow them. */
#ifndef NET_LWIPOPTS_H
#define NET_LWIPOPTS_H

#define NO_SYS                     1
#define SYS_LIGHTWEIGHT_PROT       0 /* one CPU runs lwIP; the IRQ only sets a flag */
#define LWIP_SOCKET                0
#define LWIP_NETCONN               0
#define LWIP_IPV4                  1
#define LWIP_IPV6                  0
#define LWIP_ARP                   1
#define LWIP_ETHERNET              1
#define LWIP_ICMP                  1
#define LWIP_UDP                   1 /* DHCP */
#define LWIP_TCP                   1
#define LWIP_DHCP                  1
#define LWIP_DHCP_DOES_ACD_CHECK   0
#define DHCP_DOES_ARP_CHECK        0
#define LWIP_DNS                   0
#define LWIP_IGMP                  0
#define LWIP_AUTOIP                0
#define LWIP_RAW                   0
#define IP_FORWARD                 0
#define IP_REASSEMBLY              0 /* the console needs no fragments: none to hold */
#define IP_FRAG                    0
#define LWIP_NETIF_STATUS_CALLBACK 1
#define LWIP_NETIF_LINK_CALLBACK   1
#define LWIP_NETIF_HOSTNAME        1
#define LWIP_SINGLE_NETIF          1
#define LWIP_STATS                 1
#define LWIP_STATS_DISPLAY         0
#define MIB2_STATS                 0
#define LWIP_TCP_KEEPALIVE         1 /* half-open peers go away */
#define LWIP_CALLBACK_API          1
#define LWIP_EVENT_API             0

#define MEM_ALIGNMENT              8
#define MEM_SIZE                   (192 * 1024)
#define MEMP_NUM_PBUF              32
#define MEMP_NUM_TCP_PCB           24 /* sessions + connections waiting for their login */
#define MEMP_NUM_TCP_PCB_LISTEN    2
#define MEMP_NUM_TCP_SEG           128
#define MEMP_NUM_UDP_PCB           2
#define MEMP_NUM_SYS_TIMEOUT       8
#define PBUF_POOL_SIZE             48
#define PBUF_POOL_BUFSIZE          1536
#define TCP_MSS                    1460
#define TCP_WND                    (4 * TCP_MSS)
#define TCP_SND_BUF                (8 * TCP_MSS)
#define TCP_SND_QUEUELEN           ((4 * TCP_SND_BUF) / TCP_MSS)
#define TCP_LISTEN_BACKLOG         1
#define TCP_DEFAULT_LISTEN_BACKLOG 16
#define TCP_OVERSIZE               TCP_MSS
#define LWIP_TCP_TIMESTAMPS        0
#define TCP_QUEUE_OOSEQ            0 /* out-of-order segments are dropped: bounded memory */

#define CHECKSUM_GEN_IP    1
#define CHECKSUM_GEN_TCP   1
#define CHECKSUM_GEN_UDP   1
#define CHECKSUM_CHECK_IP  1
#define CHECKSUM_CHECK_TCP 1
#define CHECKSUM_CHECK_UDP 1

#define LWIP_RAND() net_random()
/* Initial sequence numbers from the random source rather than lwIP's
 * default counter, which an off-path attacker could predict. */
#define LWIP_HOOK_TCP_ISN(local_ip, local_port, remote_ip, remote_port) ((u32_t)net_random())
#ifndef __ASSEMBLER__
unsigned net_random(void);
#endif

#endif
