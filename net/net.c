#include "net/net.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/tsc.h"
#include "drivers/pci.h"
#include "lib/format.h"
#include "lib/log.h"
#include "lib/string.h"
#include "lwip/dhcp.h"
#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/memp.h"
#include "lwip/netif.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/stats.h"
#include "lwip/sys.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "net/nic.h"
#include "net/tcp_server.h"
#include "netif/ethernet.h"

#define RX_BUDGET     64 /* frames per poll: the console's other work goes on */
#define LINK_CHECK_MS 500

bool net_use_irq = true;
static struct netif netif;
static bool running, dhcp;
static uint32_t last_link_check;
static unsigned long long tx_dropped;

static err_t linkoutput(struct netif *n, struct pbuf *p)
{
    void *buf = p->tot_len <= NIC_MAX_FRAME ? nic_tx_buffer() : NULL;
    if (!buf) {
        tx_dropped++;
        return ERR_MEM;
    }
    u16_t len = pbuf_copy_partial(p, buf, p->tot_len, 0);
    nic_tx_send(len);
    return ERR_OK;
}

static void deliver(void *ctx, const void *frame, unsigned len)
{
    struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL);
    if (!p) {
        nic_counters()->rx_dropped++;
        return;
    }
    pbuf_take(p, frame, (u16_t)len);
    net_tcp_timewait_check(frame, len);
    if (netif.input(p, &netif) != ERR_OK)
        pbuf_free(p);
}

static unsigned prefix_len(const ip4_addr_t *mask)
{
    uint32_t m = lwip_ntohl(ip4_addr_get_u32(mask));
    unsigned n = 0;
    while (n < 32 && (m & (0x80000000u >> n)))
        n++;
    return n;
}

static void show_address(struct netif *n)
{
    if (ip4_addr_isany_val(*netif_ip4_addr(n)))
        return;
    char a[16], g[16];
    pr_info("net: address %s/%u%s, gateway %s", ip4addr_ntoa_r(netif_ip4_addr(n), a, sizeof(a)),
            prefix_len(netif_ip4_netmask(n)), dhcp ? " (dhcp)" : "",
            ip4addr_ntoa_r(netif_ip4_gw(n), g, sizeof(g)));
}

static void status_changed(struct netif *n)
{
    show_address(n);
}

static err_t netif_setup(struct netif *n)
{
    n->name[0] = 'e';
    n->name[1] = 'n';
    n->output = etharp_output;
    n->linkoutput = linkoutput;
    n->mtu = 1500;
    n->hwaddr_len = ETH_HWADDR_LEN;
    memcpy(n->hwaddr, nic_mac(), ETH_HWADDR_LEN);
    n->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
    netif_set_hostname(n, "bulkhead");
    return ERR_OK;
}

static bool taken_by_vm(const struct pci_dev *p, const struct net_pci_id *taken, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (taken[i].seg == p->seg && taken[i].bus == p->bus && taken[i].dev == p->dev &&
            taken[i].fn == p->fn)
            return true;
    return false;
}

static const struct pci_dev *find_nic(const struct net_config *cfg, const struct net_pci_id *taken,
                                      unsigned nr_taken)
{
    if (!cfg->device_auto) {
        const struct pci_dev *p = pci_find_bdf(cfg->seg, cfg->bus, cfg->dev, cfg->fn);
        if (!p) {
            pr_err("net: net.device %02x:%02x.%x: no such PCI device", cfg->bus, cfg->dev, cfg->fn);
        } else if (!nic_supported(p)) {
            pr_err("net: net.device %02x:%02x.%x is %04x:%04x, not a supported NIC (Intel "
                   "8254x or virtio-net)",
                   cfg->bus, cfg->dev, cfg->fn, p->vendor, p->device);
        } else if (taken_by_vm(p, taken, nr_taken)) {
            pr_err("net: net.device %02x:%02x.%x belongs to a VM", cfg->bus, cfg->dev, cfg->fn);
        } else {
            return p;
        }
        return NULL;
    }
    for (unsigned i = 0; i < pci_count(); i++) {
        const struct pci_dev *p = pci_get(i);
        if (nic_supported(p) && !taken_by_vm(p, taken, nr_taken))
            return p;
    }
    pr_warn("net: no supported NIC (Intel 8254x or virtio-net) that no VM owns: the network "
            "console is off");
    return NULL;
}

int net_start(const struct net_config *cfg, const struct net_pci_id *taken, unsigned nr_taken,
              unsigned irq_cpu)
{
    char why[120];
    const struct pci_dev *p = find_nic(cfg, taken, nr_taken);
    if (!p)
        return -1;
    if (nic_init(p, why, sizeof(why))) {
        pr_err("net: %02x:%02x.%x: %s", p->bus, p->dev, p->fn, why);
        return -1;
    }
    bool irq = net_use_irq && nic_enable_irq(irq_cpu);
    const uint8_t *mac = nic_mac();
    pr_info("net: %02x:%02x.%x %s, MAC %02x:%02x:%02x:%02x:%02x:%02x, %s", p->bus, p->dev, p->fn,
            nic_model(), mac[0], mac[1], mac[2], mac[3], mac[4], mac[5],
            irq ? "receive interrupt and polling" : "receive polled");
    lwip_init();
    ip4_addr_t addr = {0}, mask = {0}, gw = {0};
    dhcp = cfg->dhcp;
    if (!dhcp) {
        ip4_addr_set_u32(&addr, lwip_htonl(cfg->address));
        ip4_addr_set_u32(&mask, lwip_htonl(~0u << (32 - cfg->prefix)));
        ip4_addr_set_u32(&gw, lwip_htonl(cfg->gateway));
    }
    if (!netif_add(&netif, &addr, &mask, &gw, NULL, netif_setup, ethernet_input)) {
        pr_err("net: lwIP refused the interface");
        return -1;
    }
    netif_set_default(&netif);
    netif_set_status_callback(&netif, status_changed);
    netif_set_up(&netif);
    if (nic_link_up())
        netif_set_link_up(&netif);
    if (dhcp && dhcp_start(&netif) != ERR_OK) {
        pr_err("net: DHCP did not start");
        return -1;
    }
    running = true;
    return 0;
}

bool net_running(void)
{
    return running;
}

uint32_t net_address(void)
{
    return running ? lwip_ntohl(ip4_addr_get_u32(netif_ip4_addr(&netif))) : 0;
}

void net_poll(void)
{
    if (!running)
        return;
    nic_rx(deliver, NULL, RX_BUDGET);
    uint32_t now = sys_now();
    if (now - last_link_check >= LINK_CHECK_MS) {
        last_link_check = now;
        if (nic_link_poll()) {
            pr_info("net: link %s", nic_link_text());
            if (nic_link_up())
                netif_set_link_up(&netif);
            else
                netif_set_link_down(&netif);
        }
    }
    sys_check_timeouts();
    net_tcp_server_poll();
}

/* lwIP's TCP control blocks come from a fixed pool: a SYN flood can fill it
 * with half-open connections (SYN_RCVD) but never grow it. */
static void show_tcp_pcbs(void (*out)(const char *fmt, ...))
{
    unsigned half_open = 0;
    for (struct tcp_pcb *p = tcp_active_pcbs; p; p = p->next)
        if (p->state == SYN_RCVD)
            half_open++;
    const struct stats_mem *m = lwip_stats.memp[MEMP_TCP_PCB];
    out("tcp pcbs: %u of %u in use, %u half-open, peak %u, %llu allocations refused\n",
        (unsigned)m->used, (unsigned)MEMP_NUM_TCP_PCB, half_open, (unsigned)m->max,
        (unsigned long long)m->err);
    out("tcp time-wait: %llu ended early by a new connection from the same port\n",
        net_tcp_timewait_reused());
}

void net_show(void (*out)(const char *fmt, ...))
{
    if (!running) {
        out("net: off (net.enabled is not true, or no NIC)\n");
        return;
    }
    const struct nic_counters *c = nic_counters();
    const uint8_t *mac = nic_mac();
    uint16_t bdf = nic_bdf();
    out("nic:      %02x:%02x.%x %s, MAC %02x:%02x:%02x:%02x:%02x:%02x\n", PCI_BUS(bdf),
        PCI_DEV(bdf), PCI_FN(bdf), nic_model(), mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
    out("link:     %s (%llu changes)\n", nic_link_text(), (unsigned long long)c->link_changes);
    out("address:  %s/%u%s\n", ip4addr_ntoa(netif_ip4_addr(&netif)),
        prefix_len(netif_ip4_netmask(&netif)),
        dhcp ? (dhcp_supplied_address(&netif) ? " (dhcp)" : " (dhcp: waiting for a lease)")
             : " (static)");
    out("gateway:  %s\n", ip4addr_ntoa(netif_ip4_gw(&netif)));
    if (nic_irq_text())
        out("receive:  interrupt (%s, %llu interrupts) and polling\n", nic_irq_text(),
            (unsigned long long)c->irqs);
    else
        out("receive:  polling%s\n",
            net_use_irq ? " (no usable interrupt line)" : " (net.irq=off)");
    out("rx:       %llu packets, %llu bytes, %llu errors, %llu dropped, %llu missed\n",
        (unsigned long long)c->rx_packets, (unsigned long long)c->rx_bytes,
        (unsigned long long)c->rx_errors, (unsigned long long)c->rx_dropped,
        (unsigned long long)c->missed);
    out("tx:       %llu packets, %llu bytes, %llu ring full, %llu dropped\n",
        (unsigned long long)c->tx_packets, (unsigned long long)c->tx_bytes,
        (unsigned long long)c->tx_busy, tx_dropped);
    out("tcp:      %u connections open, %llu accepted since boot\n", net_conn_count(),
        net_conn_accepted());
    show_tcp_pcbs(out);
}

bool net_device(struct net_pci_id *out)
{
    if (!running)
        return false;
    uint16_t bdf = nic_bdf();
    *out = (struct net_pci_id){nic_seg(), PCI_BUS(bdf), PCI_DEV(bdf), PCI_FN(bdf)};
    return true;
}

bool net_nic_stats(struct net_nic_stats *out)
{
    if (!running)
        return false;
    const struct nic_counters *c = nic_counters();
    *out = (struct net_nic_stats){
        .rx_packets = c->rx_packets,
        .rx_bytes = c->rx_bytes,
        .rx_errors = c->rx_errors,
        .rx_dropped = c->rx_dropped,
        .rx_missed = c->missed,
        .tx_packets = c->tx_packets,
        .tx_bytes = c->tx_bytes,
        .tx_ring_full = c->tx_busy,
        .tx_dropped = tx_dropped,
        .irqs = c->irqs,
        .link_changes = c->link_changes,
        .link_up = nic_link_up(),
    };
    uint16_t bdf = nic_bdf();
    fmt_snprintf(out->name, sizeof(out->name), "%02x:%02x.%x", PCI_BUS(bdf), PCI_DEV(bdf),
                 PCI_FN(bdf));
    return true;
}
