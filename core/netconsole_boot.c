/* Starting the network console from the configuration module. The file is
 * parsed here too (not only by boot_vms.c) because the console must come up
 * on machines where no VM can run (no VMX: QEMU TCG). */
#include "core/api_http.h"
#include "core/config.h"
#include "core/netconsole.h"
#include "loader/modules.h"
#include "lib/log.h"
#include "lib/string.h"
#include "net/net.h"

#define CONFIG_MODULE "bulkhead.cfg"

static struct config cfg;

static bool is_net_error(const struct config_error *e)
{
    return !e->vm[0] && !strncmp(e->msg, "net.", 4);
}

void netconsole_boot(bool report_errors)
{
    const struct guest_module *m = guest_module_find(CONFIG_MODULE);
    char line[256];
    if (!m || m->end == m->start)
        return;
    config_parse((const char *)m->start, m->end - m->start, CONFIG_MODULE, &cfg);
    config_validate(&cfg, NULL);
    const struct config_net *net = &cfg.global.net;
    for (unsigned i = 0; report_errors && i < cfg.nr_errors; i++) {
        if (!is_net_error(&cfg.errors[i]))
            continue;
        config_format_error(&cfg.errors[i], CONFIG_MODULE, line, sizeof(line));
        pr_err("config: %s", line);
    }
    if (net->enabled != 1)
        return;
    for (unsigned i = 0; i < cfg.nr_errors; i++) {
        if (is_net_error(&cfg.errors[i])) {
            pr_err("net: the configuration's net.* keys have errors: the network console is off");
            return;
        }
    }
    struct pwhash pw;
    char why[120];
    if (pwhash_parse(net->password_hash, strlen(net->password_hash), &pw, why, sizeof(why))) {
        pr_err("net: net.password_hash: %s: the network console is off", why);
        return;
    }
    /* Devices the VMs name are never the hypervisor's NIC. */
    static struct net_pci_id taken[CONFIG_MAX_VMS * VM_MAX_PCI];
    unsigned nr_taken = 0;
    for (unsigned i = 0; i < cfg.nr_vms && i < CONFIG_MAX_VMS; i++)
        for (unsigned k = 0; k < cfg.vms[i].nr_pci; k++)
            taken[nr_taken++] = (struct net_pci_id){cfg.vms[i].pci[k].seg, cfg.vms[i].pci[k].bus,
                                                    cfg.vms[i].pci[k].dev, cfg.vms[i].pci[k].fn};
    struct net_config nc = {
        .device_auto = net->device_auto,
        .seg = net->device.seg,
        .bus = net->device.bus,
        .dev = net->device.dev,
        .fn = net->device.fn,
        .dhcp = net->dhcp,
        .address = net->address,
        .prefix = net->prefix,
        .gateway = net->gateway,
    };
    if (net_start(&nc, taken, nr_taken, 0) == 0) {
        netconsole_listen(&pw, net->console_port, net->login_timeout, net->idle_timeout);
        api_http_start(net);
    }
}
