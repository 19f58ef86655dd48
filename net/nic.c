/* One NIC at a time: the driver chosen by the device found. */
#include "net/nic.h"

#include "drivers/e1000.h"
#include "drivers/pci.h"
#include "drivers/virtio_net.h"
#include "lib/format.h"

static enum { NONE, E1000, VIRTIO } kind;
static struct e1000 e1000;
static struct virtio_net virtio;
static struct nic_common *common; /* the state both drivers keep */

bool nic_supported(const struct pci_dev *p)
{
    return e1000_supported(p->vendor, p->device) || virtio_net_supported(p->vendor, p->device);
}

const char *nic_model_of(const struct pci_dev *p)
{
    static char buf[40];
    if (e1000_supported(p->vendor, p->device)) {
        fmt_snprintf(buf, sizeof(buf), "Intel %s", e1000_model(p->device));
        return buf;
    }
    if (virtio_net_supported(p->vendor, p->device))
        return p->device == 0x1041 ? "virtio-net" : "virtio-net (transitional)";
    return "?";
}

int nic_init(const struct pci_dev *p, char *why, size_t whylen)
{
    kind = NONE;
    common = NULL;
    if (e1000_supported(p->vendor, p->device)) {
        if (e1000_init(&e1000, p, why, whylen))
            return -1;
        kind = E1000;
        common = &e1000.n;
        return 0;
    }
    if (virtio_net_supported(p->vendor, p->device)) {
        if (virtio_net_init(&virtio, p, why, whylen))
            return -1;
        kind = VIRTIO;
        common = &virtio.n;
        return 0;
    }
    fmt_snprintf(why, whylen, "not a supported NIC");
    return -1;
}

bool nic_enable_irq(unsigned cpu)
{
    return kind == E1000 ? e1000_enable_irq(&e1000, cpu) : virtio_net_enable_irq(&virtio, cpu);
}

unsigned nic_rx(void (*deliver)(void *ctx, const void *frame, unsigned len), void *ctx,
                unsigned budget)
{
    return kind == E1000 ? e1000_rx(&e1000, deliver, ctx, budget)
                         : virtio_net_rx(&virtio, deliver, ctx, budget);
}

void *nic_tx_buffer(void)
{
    return kind == E1000 ? e1000_tx_buffer(&e1000) : virtio_net_tx_buffer(&virtio);
}

void nic_tx_send(unsigned len)
{
    if (kind == E1000)
        e1000_tx_send(&e1000, len < 60 ? 60 : len); /* the minimum frame; the pad is zero or
                                                      stale bytes of our own buffer */
    else
        virtio_net_tx_send(&virtio, len); /* (the device pads) */
}

bool nic_link_poll(void)
{
    return kind == E1000 ? e1000_link_poll(&e1000) : virtio_net_link_poll(&virtio);
}

bool nic_link_up(void)
{
    return common->link;
}

const char *nic_link_text(void)
{
    return kind == E1000 ? e1000_link_text(&e1000) : virtio_net_link_text(&virtio);
}

const uint8_t *nic_mac(void)
{
    return common->mac;
}

const char *nic_model(void)
{
    static char buf[40];
    if (kind == E1000) {
        fmt_snprintf(buf, sizeof(buf), "Intel %s", e1000_model(common->device_id));
        return buf;
    }
    if (virtio.io)
        return "virtio-net (legacy transport)";
    return common->device_id == 0x1041 ? "virtio-net" : "virtio-net (transitional)";
}

uint16_t nic_seg(void)
{
    return common->seg;
}

uint16_t nic_bdf(void)
{
    return common->bdf;
}

struct nic_counters *nic_counters(void)
{
    return &common->c;
}

const char *nic_irq_text(void)
{
    return nic_common_irq_text(common);
}
