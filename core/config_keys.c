/* Values of configuration keys: numbers, sizes, times, addresses, lists,
 * and one handler per key of [global] and [vm NAME]. A handler stores the
 * value or reports one error naming the key and what was expected. */
#include "core/config_priv.h"

#include "lib/string.h"

int config_parse_num(const char *s, size_t n, uint64_t *out)
{
    unsigned long long v;
    if (str_to_u64(s, n, &v, 0))
        return -1;
    *out = v;
    return 0;
}

/* A size that must carry a unit (K, M or G). */
static int parse_size(const char *s, size_t n, uint64_t *out)
{
    unsigned long long v;
    if (!n || !memchr("KMGkmg", s[n - 1], 6) || str_to_u64(s, n, &v, 1))
        return -1;
    *out = v;
    return 0;
}

/* An address: a number with an optional unit. */
static int parse_addr(const char *s, size_t n, uint64_t *out)
{
    unsigned long long v;
    if (str_to_u64(s, n, &v, 1))
        return -1;
    *out = v;
    return 0;
}

/* A time with a unit: us, ms or s; the result in microseconds. */
int config_parse_time_us(const char *s, size_t n, uint64_t *out)
{
    uint64_t mul, v;
    if (n > 2 && !memcmp(s + n - 2, "us", 2)) {
        mul = 1;
        n -= 2;
    } else if (n > 2 && !memcmp(s + n - 2, "ms", 2)) {
        mul = 1000;
        n -= 2;
    } else if (n > 1 && s[n - 1] == 's') {
        mul = 1000000;
        n -= 1;
    } else {
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (!config_is_digit(s[i]))
            return -1;
    if (config_parse_num(s, n, &v) || v > UINT64_MAX / mul)
        return -1;
    *out = v * mul;
    return 0;
}

int config_parse_bool(const char *s, size_t n, bool *out)
{
    if (config_eq(s, n, "true"))
        *out = true;
    else if (config_eq(s, n, "false"))
        *out = false;
    else
        return -1;
    return 0;
}

/* One decimal number of at most `digits` digits. */
int config_parse_dec(const char **s, const char *end, unsigned digits, unsigned *out)
{
    unsigned v = 0, i = 0;
    while (*s < end && config_is_digit(**s) && i < digits) {
        v = v * 10 + (unsigned)(**s - '0');
        (*s)++;
        i++;
    }
    if (!i || (*s < end && config_is_digit(**s)))
        return -1;
    *out = v;
    return 0;
}

int config_parse_ipv4(const char **s, const char *end, uint32_t *out)
{
    uint32_t a = 0;
    for (int i = 0; i < 4; i++) {
        unsigned b;
        if (i && (*s >= end || *(*s)++ != '.'))
            return -1;
        if (config_parse_dec(s, end, 3, &b) || b > 255)
            return -1;
        a = a << 8 | b;
    }
    *out = a;
    return 0;
}

static int hex_digits(const char **s, const char *end, unsigned max_digits, unsigned *out)
{
    unsigned v = 0, i = 0;
    while (*s < end && i < max_digits) {
        char c = **s;
        int d = str_hex_digit(c);
        if (d < 0)
            break;
        v = v * 16 + (unsigned)d;
        (*s)++;
        i++;
    }
    if (!i)
        return -1;
    *out = v;
    return 0;
}

/* [SSSS:]BB:DD.F, hexadecimal. */
int config_parse_bdf(const char *s, size_t n, struct config_pci_dev *d)
{
    const char *end = s + n;
    unsigned a, b, dev, fn, seg = 0;
    if (hex_digits(&s, end, 4, &a) || s >= end || *s++ != ':' || hex_digits(&s, end, 4, &b))
        return -1;
    if (s < end && *s == ':') {
        s++;
        seg = a;
        a = b;
        if (hex_digits(&s, end, 2, &b))
            return -1;
    }
    if (s >= end || *s++ != '.' || hex_digits(&s, end, 1, &fn) || s != end)
        return -1;
    dev = b;
    if (a > 0xff || dev > 0x1f || fn > 7)
        return -1;
    d->seg = (uint16_t)seg;
    d->bus = (uint8_t)a;
    d->dev = (uint8_t)dev;
    d->fn = (uint8_t)fn;
    return 0;
}

/* Splits a list `[a, b]` (or `a, b` without brackets) and calls fn on each
 * trimmed item; `[]` is an empty list. Returns -1 after reporting an error. */
static int for_each_item(struct parser *p, const char *key, const char *s, size_t n,
                         int (*fn)(struct parser *p, const char *key, const char *s, size_t n))
{
    if (n && s[0] == '[') {
        if (n < 2 || s[n - 1] != ']') {
            config_perr(p, "%s: missing ']' at the end of the list", key);
            return -1;
        }
        s++;
        n -= 2;
        config_trim(&s, &n);
        if (!n)
            return 0;
    }
    for (;;) {
        const char *comma = memchr(s, ',', n);
        size_t len = comma ? (size_t)(comma - s) : n;
        const char *item = s;
        size_t ilen = len;
        config_trim(&item, &ilen);
        if (!ilen) {
            config_perr(p, "%s: empty item in the list", key);
            return -1;
        }
        if (fn(p, key, item, ilen))
            return -1;
        if (!comma)
            return 0;
        s = comma + 1;
        n -= len + 1;
    }
}

/* A double-quoted string with \" and \\ escapes into dst[size]; dst is
 * left empty on error. */
static void parse_quoted(struct parser *p, const char *key, const char *v, size_t n, char *dst,
                         size_t size)
{
    size_t o = 0, i = 1;
    if (!n || v[0] != '"') {
        config_perr(p, "%s: expected a double-quoted string like \"name=web\"", key);
        return;
    }
    for (; i < n && v[i] != '"'; i++) {
        char c = v[i];
        if (c == '\\') {
            if (i + 1 >= n || (v[i + 1] != '"' && v[i + 1] != '\\')) {
                config_perr(p, "%s: unknown escape '\\%s' (only \\\" and \\\\)", key,
                            i + 1 < n ? config_show(p, v + i + 1, 1) : "");
                dst[0] = '\0';
                return;
            }
            c = v[++i];
        }
        if (o + 1 >= size) {
            config_perr(p, "%s: longer than %zu characters", key, size - 1);
            dst[0] = '\0';
            return;
        }
        dst[o++] = c;
    }
    dst[o] = '\0';
    if (i >= n) {
        config_perr(p, "%s: unterminated string (missing closing '\"')", key);
        dst[0] = '\0';
    } else if (i + 1 != n) {
        const char *rest = v + i + 1;
        size_t rn = n - i - 1;
        config_trim(&rest, &rn);
        config_perr(p, "%s: unexpected text after the closing '\"': '%s'", key,
                    config_show(p, rest, rn));
        dst[0] = '\0';
    }
}

/* ---- [global] keys ---- */

static void g_loglevel(struct parser *p, const char *key, const char *v, size_t n)
{
    static const char *const names[] = {"err", "warn", "info", "debug", "trace"};
    for (int i = 0; i < 5; i++) {
        if (config_eq(v, n, names[i])) {
            p->cfg->global.loglevel = i;
            return;
        }
    }
    config_perr(p, "%s: expected err, warn, info, debug or trace, got '%s'", key,
                config_show(p, v, n));
}

static void g_console(struct parser *p, const char *key, const char *v, size_t n)
{
    uint64_t a;
    bool ok = false;
    if (config_eq(v, n, "com1") || config_eq(v, n, "com2"))
        ok = true;
    else if (n > 2 && v[0] == '0' && v[1] == 'x')
        ok = !config_parse_num(v, n, &a) && a && a <= 0xfff8;
    else if (n > 5 && !memcmp(v, "mmio,", 5))
        ok = !config_parse_num(v + 5, n - 5, &a) && a;
    else if (n > 7 && !memcmp(v, "mmio32,", 7))
        ok = !config_parse_num(v + 7, n - 7, &a) && a;
    if (!ok || n >= sizeof(p->cfg->global.console)) {
        config_perr(p, "%s: expected com1, com2, an I/O port like 0x3f8 or mmio,0xADDR, got '%s'",
                    key, config_show(p, v, n));
        return;
    }
    memcpy(p->cfg->global.console, v, n);
    p->cfg->global.console[n] = '\0';
}

static void g_baud(struct parser *p, const char *key, const char *v, size_t n)
{
    uint64_t b;
    if (config_parse_num(v, n, &b) || !b || b > 115200 || 115200 % b) {
        config_perr(p, "%s: expected a rate that divides 115200 (like 9600 or 115200), got '%s'",
                    key, config_show(p, v, n));
        return;
    }
    p->cfg->global.baud = (unsigned)b;
}

static void g_cmdline(struct parser *p, const char *key, const char *v, size_t n)
{
    parse_quoted(p, key, v, n, p->cfg->global.cmdline, sizeof(p->cfg->global.cmdline));
}

const struct key_def config_global_keys[] = {
    {"loglevel", g_loglevel},
    {"console", g_console},
    {"baud", g_baud},
    {"cmdline", g_cmdline},
    {"net.enabled", config_net_enabled},
    {"net.device", config_net_device},
    {"net.address", config_net_address},
    {"net.gateway", config_net_gateway},
    {"net.console_port", config_net_console_port},
    {"net.password_hash", config_net_password_hash},
    {"net.login_timeout", config_net_login_timeout},
    {"net.idle_timeout", config_net_idle_timeout},
    {"net.http_port", config_net_http_port},
    {"net.http_timeout", config_net_http_timeout},
    {"net.api_token", config_net_api_token},
    {"modules.upload_limit", config_modules_upload_limit},
};
const unsigned config_nr_global_keys = sizeof(config_global_keys) / sizeof(config_global_keys[0]);

/* ---- [vm] keys ---- */

static void set_module(struct parser *p, const char *key, const char *v, size_t n, char *dst,
                       size_t size)
{
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
        v++;
        n -= 2;
    }
    if (!config_valid_name(v, n, size)) {
        config_perr(
            p, "%s: expected a module name (letters, digits, '.', '-', '_', at most %zu), got '%s'",
            key, size - 1, config_show(p, v, n));
        return;
    }
    memcpy(dst, v, n);
    dst[n] = '\0';
}

static void v_kernel(struct parser *p, const char *key, const char *v, size_t n)
{
    set_module(p, key, v, n, p->vm->kernel, sizeof(p->vm->kernel));
}

static void v_initrd(struct parser *p, const char *key, const char *v, size_t n)
{
    set_module(p, key, v, n, p->vm->initrd, sizeof(p->vm->initrd));
}

/* One `modules` entry: a module name, optionally followed by its string in
 * double quotes (`app.bin "mode=fast, depth=3"`). */
static int module_item(struct parser *p, const char *key, const char *s, size_t n)
{
    struct vm_config *vm = p->vm;
    size_t nl = 0;
    while (nl < n && !config_is_space(s[nl]) && s[nl] != '"')
        nl++;
    if (vm->nr_modules >= VM_MAX_MODULES) {
        config_perr(p, "%s: at most %u modules", key, VM_MAX_MODULES);
        return -1;
    }
    char *name = vm->modules[vm->nr_modules].name, *str = vm->modules[vm->nr_modules].string;
    if (!config_valid_name(s, nl, sizeof(vm->modules[0].name))) {
        config_perr(p,
                    "%s: expected a module name (letters, digits, '.', '-', '_', at most %zu) "
                    "with an optional \"string\", got '%s'",
                    key, sizeof(vm->modules[0].name) - 1, config_show(p, s, n));
        return -1;
    }
    memcpy(name, s, nl);
    name[nl] = '\0';
    const char *rest = s + nl;
    size_t rn = n - nl;
    config_trim(&rest, &rn);
    if (!rn) {
        memcpy(str, name, nl + 1 < VM_MODULE_STR ? nl + 1 : VM_MODULE_STR);
        str[VM_MODULE_STR - 1] = '\0';
    } else {
        unsigned errors = p->cfg->nr_errors;
        parse_quoted(p, key, rest, rn, str, VM_MODULE_STR);
        if (p->cfg->nr_errors != errors)
            return -1;
    }
    vm->nr_modules++;
    return 0;
}

/* Like for_each_item, but a comma inside a quoted string does not split. */
static void v_modules(struct parser *p, const char *key, const char *v, size_t n)
{
    p->vm->nr_modules = 0;
    if (n < 2 || v[0] != '[' || v[n - 1] != ']') {
        config_perr(p, "%s: expected a list like [app.bin, data.bin \"size=4\"], got '%s'", key,
                    config_show(p, v, n));
        return;
    }
    v++;
    n -= 2;
    config_trim(&v, &n);
    while (n) {
        size_t i = 0;
        bool quoted = false;
        for (; i < n && (quoted || v[i] != ','); i++) {
            if (v[i] == '\\' && quoted && i + 1 < n)
                i++;
            else if (v[i] == '"')
                quoted = !quoted;
        }
        const char *item = v;
        size_t ilen = i;
        config_trim(&item, &ilen);
        if (!ilen) {
            config_perr(p, "%s: empty item in the list", key);
            return;
        }
        if (module_item(p, key, item, ilen))
            return;
        if (i == n)
            return;
        v += i + 1;
        n -= i + 1;
        config_trim(&v, &n);
        if (!n) {
            config_perr(p, "%s: empty item in the list", key);
            return;
        }
    }
}

static void v_cmdline(struct parser *p, const char *key, const char *v, size_t n)
{
    parse_quoted(p, key, v, n, p->vm->cmdline, sizeof(p->vm->cmdline));
}

static void v_protocol(struct parser *p, const char *key, const char *v, size_t n)
{
    if (config_eq(v, n, "multiboot"))
        p->vm->protocol = BOOT_MULTIBOOT;
    else if (config_eq(v, n, "linux"))
        p->vm->protocol = BOOT_LINUX;
    else if (config_eq(v, n, "raw"))
        p->vm->protocol = BOOT_RAW;
    else
        config_perr(p, "%s: expected multiboot, linux or raw, got '%s'", key, config_show(p, v, n));
}

static void v_address(struct parser *p, const char *key, const char *v, size_t n, uint64_t *dst)
{
    if (parse_addr(v, n, dst))
        config_perr(p, "%s: expected a guest-physical address like 0x100000, got '%s'", key,
                    config_show(p, v, n));
}

static void v_load_addr(struct parser *p, const char *key, const char *v, size_t n)
{
    v_address(p, key, v, n, &p->vm->load_addr);
}

static void v_entry(struct parser *p, const char *key, const char *v, size_t n)
{
    v_address(p, key, v, n, &p->vm->entry);
}

static void v_memory(struct parser *p, const char *key, const char *v, size_t n)
{
    uint64_t sz;
    if (parse_size(v, n, &sz)) {
        config_perr(p, "%s: expected a size with a unit like 64M, got '%s'", key,
                    config_show(p, v, n));
        return;
    }
    if (sz < (2ULL << 20) || (sz & ((2ULL << 20) - 1)) || sz > CONFIG_MAX_MEM) {
        config_perr(p, "%s: must be a multiple of 2M between 2M and 1024G, got '%s'", key,
                    config_show(p, v, n));
        return;
    }
    p->vm->mem_size = sz;
}

static void v_memory_base(struct parser *p, const char *key, const char *v, size_t n)
{
    uint64_t base;
    if (parse_addr(v, n, &base)) {
        config_perr(p, "%s: expected a host-physical address like 0x40000000, got '%s'", key,
                    config_show(p, v, n));
        return;
    }
    if (!base || (base & ((2ULL << 20) - 1)) || base >= (1ULL << 52)) {
        config_perr(p, "%s: must be a non-zero multiple of 2M below 4P, got '%s'", key,
                    config_show(p, v, n));
        return;
    }
    p->vm->mem_base = base;
}

static void v_vcpus(struct parser *p, const char *key, const char *v, size_t n)
{
    uint64_t nr;
    if (config_parse_num(v, n, &nr) || nr < 1 || nr > MAX_VCPUS) {
        config_perr(p, "%s: expected a number from 1 to %u, got '%s'", key, MAX_VCPUS,
                    config_show(p, v, n));
        return;
    }
    p->vm->nr_vcpus = (unsigned)nr;
}

static int cpu_item(struct parser *p, const char *key, const char *s, size_t n)
{
    const char *dash = memchr(s, '-', n);
    uint64_t lo, hi;
    size_t a = dash ? (size_t)(dash - s) : n;
    const char *t = s;
    size_t tn = a;
    config_trim(&t, &tn);
    if (config_parse_num(t, tn, &lo)) {
        config_perr(p, "%s: expected CPU numbers like [0, 1] or 1-3, got '%s'", key,
                    config_show(p, s, n));
        return -1;
    }
    hi = lo;
    if (dash) {
        t = dash + 1;
        tn = n - a - 1;
        config_trim(&t, &tn);
        if (config_parse_num(t, tn, &hi) || hi < lo) {
            config_perr(p, "%s: expected a CPU range like 1-3, got '%s'", key,
                        config_show(p, s, n));
            return -1;
        }
    }
    if (hi >= CONFIG_MAX_CPUS) {
        config_perr(p, "%s: CPU %llu is out of range (at most %u)", key, (unsigned long long)hi,
                    CONFIG_MAX_CPUS - 1);
        return -1;
    }
    for (uint64_t c = lo; c <= hi; c++) {
        if (p->nr_cpus_listed >= MAX_VCPUS) {
            config_perr(p, "%s: more than %u CPUs listed", key, MAX_VCPUS);
            return -1;
        }
        p->vm->pcpu[p->nr_cpus_listed++] = (unsigned)c;
    }
    return 0;
}

static void v_cpus(struct parser *p, const char *key, const char *v, size_t n)
{
    p->nr_cpus_listed = 0;
    if (for_each_item(p, key, v, n, cpu_item)) {
        p->nr_cpus_listed = 0; /* reported: end_vm stays quiet */
        return;
    }
    if (!p->nr_cpus_listed)
        config_perr(p, "%s: the list is empty", key);
}

static void v_cpu_policy(struct parser *p, const char *key, const char *v, size_t n)
{
    if (config_eq(v, n, "dedicated"))
        p->vm->dedicated = true;
    else if (config_eq(v, n, "shared"))
        p->vm->dedicated = false;
    else
        config_perr(p, "%s: expected dedicated or shared, got '%s'", key, config_show(p, v, n));
}

static void v_slice(struct parser *p, const char *key, const char *v, size_t n)
{
    uint64_t us;
    if (config_parse_time_us(v, n, &us)) {
        config_perr(p, "%s: expected a time with a unit like 10ms or 500us, got '%s'", key,
                    config_show(p, v, n));
        return;
    }
    if (us < 100 || us > 1000000) {
        config_perr(p, "%s: must be between 100us and 1s, got '%s'", key, config_show(p, v, n));
        return;
    }
    p->vm->slice_us = us;
}

static void v_priority(struct parser *p, const char *key, const char *v, size_t n)
{
    uint64_t prio;
    if (config_parse_num(v, n, &prio) || prio > 99) {
        config_perr(p, "%s: expected a number from 0 to 99, got '%s'", key, config_show(p, v, n));
        return;
    }
    p->vm->priority = (unsigned)prio;
}

static void v_autostart(struct parser *p, const char *key, const char *v, size_t n)
{
    if (config_parse_bool(v, n, &p->vm->autostart))
        config_perr(p, "%s: expected true or false, got '%s'", key, config_show(p, v, n));
}

static void v_realtime(struct parser *p, const char *key, const char *v, size_t n)
{
    if (config_parse_bool(v, n, &p->vm->realtime))
        config_perr(p, "%s: expected true or false, got '%s'", key, config_show(p, v, n));
}

static void v_platform(struct parser *p, const char *key, const char *v, size_t n)
{
    if (config_eq(v, n, "pc"))
        p->vm->platform = PLATFORM_PC;
    else if (config_eq(v, n, "none"))
        p->vm->platform = PLATFORM_NONE;
    else
        config_perr(p, "%s: expected pc or none, got '%s'", key, config_show(p, v, n));
}

static void v_on_crash(struct parser *p, const char *key, const char *v, size_t n)
{
    if (config_eq(v, n, "stop"))
        p->vm->on_crash = RESTART_NEVER;
    else if (config_eq(v, n, "restart"))
        p->vm->on_crash = RESTART_ON_CRASH;
    else
        config_perr(p, "%s: expected stop or restart, got '%s'", key, config_show(p, v, n));
}

static int uart_item(struct parser *p, const char *key, const char *s, size_t n)
{
    const char *colon = memchr(s, ':', n);
    uint64_t port, irq;
    struct vm_config *vm = p->vm;
    if (!colon || config_parse_num(s, (size_t)(colon - s), &port) ||
        config_parse_num(colon + 1, n - (size_t)(colon - s) - 1, &irq)) {
        config_perr(p, "%s: expected PORT:IRQ like 0x3f8:4, got '%s'", key, config_show(p, s, n));
        return -1;
    }
    if (!port || port > 0xfff8 || irq > 23) {
        config_perr(p, "%s: port must be 0x1-0xfff8 and IRQ 0-23, got '%s'", key,
                    config_show(p, s, n));
        return -1;
    }
    /* Lines the VM's own PC platform drives: the PIT, the PIC cascade, the
     * RTC and the ACPI SCI. A UART there would share an edge with them. */
    if (irq == 0 || irq == 2 || irq == 8 || irq == 9) {
        config_perr(p, "%s: IRQ %llu is the virtual %s's; pick another (3, 4, 5, 7, 10-15)", key,
                    (unsigned long long)irq,
                    irq == 0   ? "PIT"
                    : irq == 2 ? "PIC cascade"
                    : irq == 8 ? "RTC"
                               : "ACPI SCI");
        return -1;
    }
    if (vm->nr_uarts >= VM_MAX_UARTS) {
        config_perr(p, "%s: more than %u UARTs", key, VM_MAX_UARTS);
        return -1;
    }
    for (unsigned i = 0; i < vm->nr_uarts; i++) {
        if (port < vm->uarts[i].port + 8u && vm->uarts[i].port < port + 8) {
            config_perr(p, "%s: UART at 0x%llx overlaps the one at 0x%x", key,
                        (unsigned long long)port, vm->uarts[i].port);
            return -1;
        }
    }
    vm->uarts[vm->nr_uarts].port = (uint16_t)port;
    vm->uarts[vm->nr_uarts].irq = (uint8_t)irq;
    vm->nr_uarts++;
    return 0;
}

static void v_uarts(struct parser *p, const char *key, const char *v, size_t n)
{
    p->vm->nr_uarts = 0;
    if (for_each_item(p, key, v, n, uart_item))
        p->vm->nr_uarts = 0;
}

static int ioport_item(struct parser *p, const char *key, const char *s, size_t n)
{
    const char *dash = memchr(s, '-', n);
    uint64_t lo, hi;
    struct vm_config *vm = p->vm;
    if (dash) {
        if (config_parse_num(s, (size_t)(dash - s), &lo) ||
            config_parse_num(dash + 1, n - (size_t)(dash - s) - 1, &hi)) {
            config_perr(p, "%s: expected a range like 0x2f8-0x2ff, got '%s'", key,
                        config_show(p, s, n));
            return -1;
        }
    } else if (config_parse_num(s, n, &lo)) {
        config_perr(p, "%s: expected a range like 0x2f8-0x2ff, got '%s'", key,
                    config_show(p, s, n));
        return -1;
    } else {
        hi = lo;
    }
    if (hi < lo || hi > 0xffff || hi - lo >= 0xffff) {
        config_perr(p, "%s: range must lie in 0x0-0xffff, low end first, got '%s'", key,
                    config_show(p, s, n));
        return -1;
    }
    /* 0xcf8-0xcff is the PCI configuration mechanism: the hypervisor's alone. */
    if (lo <= 0xcff && hi >= 0xcf8) {
        config_perr(p, "%s: 0x%llx-0x%llx includes the PCI configuration ports 0xcf8-0xcff", key,
                    (unsigned long long)lo, (unsigned long long)hi);
        return -1;
    }
    if (vm->nr_ioports >= VM_MAX_IOPORTS) {
        config_perr(p, "%s: more than %u ranges", key, VM_MAX_IOPORTS);
        return -1;
    }
    for (unsigned i = 0; i < vm->nr_ioports; i++) {
        uint64_t b = vm->ioports[i].base, e = b + vm->ioports[i].count - 1;
        if (lo <= e && b <= hi) {
            config_perr(p, "%s: 0x%llx-0x%llx overlaps 0x%llx-0x%llx", key, (unsigned long long)lo,
                        (unsigned long long)hi, (unsigned long long)b, (unsigned long long)e);
            return -1;
        }
    }
    vm->ioports[vm->nr_ioports].base = (uint16_t)lo;
    vm->ioports[vm->nr_ioports].count = (uint16_t)(hi - lo + 1);
    vm->nr_ioports++;
    return 0;
}

static void v_ioports(struct parser *p, const char *key, const char *v, size_t n)
{
    p->vm->nr_ioports = 0;
    if (for_each_item(p, key, v, n, ioport_item))
        p->vm->nr_ioports = 0;
}

static int pci_item(struct parser *p, const char *key, const char *s, size_t n)
{
    struct config_pci_dev d;
    struct vm_config *vm = p->vm;
    if (config_parse_bdf(s, n, &d)) {
        config_perr(p, "%s: expected a device like 00:1f.2 or 0000:00:1f.2, got '%s'", key,
                    config_show(p, s, n));
        return -1;
    }
    if (vm->nr_pci >= VM_MAX_PCI) {
        config_perr(p, "%s: more than %u devices", key, VM_MAX_PCI);
        return -1;
    }
    for (unsigned i = 0; i < vm->nr_pci; i++) {
        if (vm->pci[i].seg == d.seg && vm->pci[i].bus == d.bus && vm->pci[i].dev == d.dev &&
            vm->pci[i].fn == d.fn) {
            config_perr(p, "%s: device '%s' listed twice", key, config_show(p, s, n));
            return -1;
        }
    }
    vm->pci[vm->nr_pci].seg = d.seg;
    vm->pci[vm->nr_pci].bus = d.bus;
    vm->pci[vm->nr_pci].dev = d.dev;
    vm->pci[vm->nr_pci].fn = d.fn;
    vm->nr_pci++;
    return 0;
}

static void v_pci(struct parser *p, const char *key, const char *v, size_t n)
{
    p->vm->nr_pci = 0;
    if (for_each_item(p, key, v, n, pci_item))
        p->vm->nr_pci = 0; /* the VM never owns part of a broken list */
}

static void v_iommu(struct parser *p, const char *key, const char *v, size_t n)
{
    if (config_eq(v, n, "on"))
        p->vm->iommu_off_unsafe = false;
    else if (config_eq(v, n, "off-unsafe"))
        p->vm->iommu_off_unsafe = true;
    else
        config_perr(p, "%s: expected on or off-unsafe, got '%s'", key, config_show(p, v, n));
}

static void v_on_dma_fault(struct parser *p, const char *key, const char *v, size_t n)
{
    if (config_eq(v, n, "log"))
        p->vm->dma_fault_stop = false;
    else if (config_eq(v, n, "stop"))
        p->vm->dma_fault_stop = true;
    else
        config_perr(p, "%s: expected log or stop, got '%s'", key, config_show(p, v, n));
}

const struct key_def config_vm_keys[VK_COUNT] = {
    [VK_KERNEL] = {"kernel", v_kernel},
    [VK_INITRD] = {"initrd", v_initrd},
    [VK_CMDLINE] = {"cmdline", v_cmdline},
    [VK_PROTOCOL] = {"protocol", v_protocol},
    [VK_LOAD_ADDR] = {"load_addr", v_load_addr},
    [VK_ENTRY] = {"entry", v_entry},
    [VK_MEMORY] = {"memory", v_memory},
    [VK_MEMORY_BASE] = {"memory_base", v_memory_base},
    [VK_VCPUS] = {"vcpus", v_vcpus},
    [VK_CPUS] = {"cpus", v_cpus},
    [VK_CPU_POLICY] = {"cpu_policy", v_cpu_policy},
    [VK_SLICE] = {"slice", v_slice},
    [VK_PRIORITY] = {"priority", v_priority},
    [VK_AUTOSTART] = {"autostart", v_autostart},
    [VK_ON_CRASH] = {"on_crash", v_on_crash},
    [VK_UARTS] = {"uarts", v_uarts},
    [VK_IOPORTS] = {"ioports", v_ioports},
    [VK_PCI] = {"pci", v_pci},
    [VK_PLATFORM] = {"platform", v_platform},
    [VK_IOMMU] = {"iommu", v_iommu},
    [VK_ON_DMA_FAULT] = {"on_dma_fault", v_on_dma_fault},
    [VK_MODULES] = {"modules", v_modules},
    [VK_REALTIME] = {"realtime", v_realtime},
};
