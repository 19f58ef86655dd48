/* The [global] net.* keys of the network console (docs/network.md) and
 * their checks against each other and the VMs. */
#include "core/config_priv.h"
#include "lib/format.h"
#include "lib/string.h"

void config_net_defaults(struct config_net *net)
{
    memset(net, 0, sizeof(*net));
    net->enabled = -1;
    net->device_auto = true;
    net->dhcp = true;
    net->console_port = CONFIG_NET_CONSOLE_PORT;
    net->login_timeout = CONFIG_NET_LOGIN_TIMEOUT;
    net->idle_timeout = CONFIG_NET_IDLE_TIMEOUT;
    net->http_port = CONFIG_NET_HTTP_PORT;
    net->http_timeout = CONFIG_NET_HTTP_TIMEOUT;
}

static struct config_net *net_of(struct parser *p)
{
    return &p->cfg->global.net;
}

void config_net_enabled(struct parser *p, const char *key, const char *v, size_t n)
{
    bool on;
    if (config_parse_bool(v, n, &on)) {
        config_perr(p, "%s: expected true or false, got '%s'", key, config_show(p, v, n));
        return;
    }
    net_of(p)->enabled = on;
    net_of(p)->line_enabled = p->line;
}

void config_net_device(struct parser *p, const char *key, const char *v, size_t n)
{
    struct config_net *net = net_of(p);
    struct config_pci_dev d;
    if (config_eq(v, n, "auto")) {
        net->device_auto = true;
        net->line_device = p->line;
        return;
    }
    if (config_parse_bdf(v, n, &d)) {
        config_perr(p, "%s: expected auto or a PCI device like 00:03.0, got '%s'", key,
                    config_show(p, v, n));
        return;
    }
    net->device = d;
    net->device_auto = false;
    net->line_device = p->line;
}

void config_net_address(struct parser *p, const char *key, const char *v, size_t n)
{
    struct config_net *net = net_of(p);
    const char *s = v, *end = v + n;
    uint32_t a;
    unsigned prefix;
    if (config_eq(v, n, "dhcp")) {
        net->dhcp = true;
        net->line_address = p->line;
        return;
    }
    if (config_parse_ipv4(&s, end, &a) || s >= end || *s++ != '/' ||
        config_parse_dec(&s, end, 2, &prefix) || s != end || prefix < 1 || prefix > 30) {
        config_perr(p,
                    "%s: expected dhcp or an address like 192.168.1.10/24 (prefix 1-30), got "
                    "'%s'",
                    key, config_show(p, v, n));
        return;
    }
    uint32_t mask = ~0u << (32 - prefix);
    if ((a & ~mask) == 0 || (a & ~mask) == ~mask || a >> 24 == 0 || a >> 24 == 127 ||
        a >> 28 >= 14) {
        config_perr(p, "%s: %s is not a host address (network, broadcast, loopback or multicast)",
                    key, config_show(p, v, n));
        return;
    }
    net->dhcp = false;
    net->address = a;
    net->prefix = prefix;
    net->line_address = p->line;
}

void config_net_gateway(struct parser *p, const char *key, const char *v, size_t n)
{
    const char *s = v;
    uint32_t a;
    if (config_parse_ipv4(&s, v + n, &a) || s != v + n || !a) {
        config_perr(p, "%s: expected an address like 192.168.1.1, got '%s'", key,
                    config_show(p, v, n));
        return;
    }
    net_of(p)->gateway = a;
    net_of(p)->line_gateway = p->line;
}

void config_net_console_port(struct parser *p, const char *key, const char *v, size_t n)
{
    uint64_t port;
    if (config_parse_num(v, n, &port) || !port || port > 65535) {
        config_perr(p, "%s: expected a TCP port 1-65535, got '%s'", key, config_show(p, v, n));
        return;
    }
    net_of(p)->console_port = (unsigned)port;
    net_of(p)->line_port = p->line;
}

void config_net_password_hash(struct parser *p, const char *key, const char *v, size_t n)
{
    struct config_net *net = net_of(p);
    struct pwhash h;
    char why[120];
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"') { /* quoting is allowed, not needed */
        v++;
        n -= 2;
    }
    if (pwhash_parse(v, n, &h, why, sizeof(why)) || n >= sizeof(net->password_hash)) {
        config_perr(p, "%s: %s", key, why);
        return;
    }
    memcpy(net->password_hash, v, n);
    net->password_hash[n] = '\0';
    net->line_password = p->line;
}

/* Whole seconds, 1 s to a week. */
static void parse_timeout(struct parser *p, const char *key, const char *v, size_t n, unsigned *out)
{
    uint64_t us;
    if (config_parse_time_us(v, n, &us) || us < 1000000 || us % 1000000 ||
        us > (uint64_t)CONFIG_NET_TIMEOUT_MAX * 1000000) {
        config_perr(p, "%s: expected whole seconds from 1s to %us, got '%s'", key,
                    CONFIG_NET_TIMEOUT_MAX, config_show(p, v, n));
        return;
    }
    *out = (unsigned)(us / 1000000);
    net_of(p)->line_timeouts = p->line;
}

void config_net_login_timeout(struct parser *p, const char *key, const char *v, size_t n)
{
    parse_timeout(p, key, v, n, &net_of(p)->login_timeout);
}

void config_net_idle_timeout(struct parser *p, const char *key, const char *v, size_t n)
{
    parse_timeout(p, key, v, n, &net_of(p)->idle_timeout);
}

void config_net_http_port(struct parser *p, const char *key, const char *v, size_t n)
{
    uint64_t port;
    if (config_parse_num(v, n, &port) || !port || port > 65535) {
        config_perr(p, "%s: expected a TCP port 1-65535, got '%s'", key, config_show(p, v, n));
        return;
    }
    net_of(p)->http_port = (unsigned)port;
    net_of(p)->line_http_port = p->line;
}

void config_net_http_timeout(struct parser *p, const char *key, const char *v, size_t n)
{
    parse_timeout(p, key, v, n, &net_of(p)->http_timeout);
}

/* 2*len hex digits into out; 0 or -1. */
static int parse_hex(const char *s, size_t digits, uint8_t *out, size_t len)
{
    return digits == 2 * len ? str_unhex(s, digits, out) : -1;
}

/* sha256$SALT_HEX$HASH_HEX (bulkhead-check --hash-token): the token is 32
 * random bytes, so one salted SHA-256 is enough; no stretching needed. */
void config_net_api_token(struct parser *p, const char *key, const char *v, size_t n)
{
    struct config_net *net = net_of(p);
    const size_t plen = sizeof(CONFIG_API_TOKEN_PREFIX) - 1;
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
        v++;
        n -= 2;
    }
    const char *salt = v + plen, *end = v + n;
    const char *dollar = n > plen ? memchr(salt, '$', (size_t)(end - salt)) : NULL;
    size_t salt_digits = dollar ? (size_t)(dollar - salt) : 0;
    if (n <= plen || memcmp(v, CONFIG_API_TOKEN_PREFIX, plen) || !dollar || salt_digits % 2 ||
        salt_digits < 16 || salt_digits > 2 * sizeof(net->api_token_salt) ||
        parse_hex(salt, salt_digits, net->api_token_salt, salt_digits / 2) ||
        parse_hex(dollar + 1, (size_t)(end - dollar - 1), net->api_token_hash,
                  sizeof(net->api_token_hash))) {
        net->have_api_token = false;
        config_perr(p,
                    "%s: expected sha256$SALT$HASH (8-32 bytes of salt and a 32-byte hash in "
                    "hex; make one with bulkhead-check --hash-token)",
                    key);
        return;
    }
    net->api_token_salt_len = (unsigned)(salt_digits / 2);
    net->have_api_token = true;
    net->line_api_token = p->line;
}

static void fmt_ip(uint32_t a, char *buf, size_t n)
{
    fmt_snprintf(buf, n, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

void config_net_validate(struct config *cfg)
{
    struct config_net *net = &cfg->global.net;
    unsigned first = net->line_device      ? net->line_device
                     : net->line_address   ? net->line_address
                     : net->line_gateway   ? net->line_gateway
                     : net->line_port      ? net->line_port
                     : net->line_timeouts  ? net->line_timeouts
                     : net->line_http_port ? net->line_http_port
                     : net->line_api_token ? net->line_api_token
                                           : net->line_password;
    if (net->enabled < 0 && first)
        config_add_error(cfg, first, "",
                         "net.* keys given without net.enabled: write net.enabled = true (or "
                         "false to keep the network console off)");
    if (net->enabled == 1 && !net->password_hash[0])
        config_add_error(cfg, net->line_enabled, "",
                         "net.enabled = true needs net.password_hash (make one with "
                         "bulkhead-check --hash-password)");
    if (net->gateway && net->dhcp && net->line_gateway) {
        config_add_error(cfg, net->line_gateway, "",
                         "net.gateway: only with a static net.address (DHCP gives the gateway)");
    } else if (net->gateway && !net->dhcp) {
        uint32_t mask = ~0u << (32 - net->prefix);
        if ((net->gateway & mask) != (net->address & mask) || net->gateway == net->address) {
            char g[16], a[16];
            fmt_ip(net->gateway, g, sizeof(g));
            fmt_ip(net->address, a, sizeof(a));
            config_add_error(cfg, net->line_gateway, "",
                             "net.gateway: %s is not another host of %s/%u", g, a, net->prefix);
        }
    }
    if (net->http_port == net->console_port)
        config_add_error(cfg, net->line_http_port ? net->line_http_port : net->line_port, "",
                         "net.http_port: %u is net.console_port too: give them different ports",
                         net->http_port);
    /* The hypervisor's NIC is never a VM's. */
    if (net->enabled != 1 || net->device_auto)
        return;
    const struct config_pci_dev *d = &net->device;
    for (unsigned i = 0; i < cfg->nr_vms && i < CONFIG_MAX_VMS; i++) {
        const struct vm_config *vm = &cfg->vms[i];
        for (unsigned k = 0; k < vm->nr_pci; k++) {
            if (vm->pci[k].seg == d->seg && vm->pci[k].bus == d->bus && vm->pci[k].dev == d->dev &&
                vm->pci[k].fn == d->fn) {
                config_add_error(cfg, cfg->vm_lines[i].pci, vm->name,
                                 "pci: %02x:%02x.%x is the hypervisor's NIC (net.device): no VM "
                                 "may have it",
                                 d->bus, d->dev, d->fn);
                cfg->vm_valid[i] = false;
            }
        }
    }
}

/* modules.upload_limit (core/vm_define.h): a size with a unit, up to 4G. */
void config_modules_upload_limit(struct parser *p, const char *key, const char *v, size_t n)
{
    unsigned long long b;
    if (!n || !memchr("KMGkmg", v[n - 1], 6) || str_to_u64(v, n, &b, 1) || !b || b > (4ULL << 30)) {
        config_perr(p, "%s: expected a size from 1K to 4G like 64M, got '%s'", key,
                    config_show(p, v, n));
        return;
    }
    p->cfg->global.upload_limit = b;
}
