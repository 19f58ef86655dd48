/* Configuration file parser: lines, sections and keys (the values are read
 * in config_keys.c, cross-VM and machine checks live in config_validate.c).
 * The rules are in docs/configuration.md. Every value is a (pointer, length)
 * span into the input, so nothing depends on a terminator and nothing reads
 * past `len`. */
#include "core/config_priv.h"

#include <stdarg.h>

#include "lib/format.h"
#include "lib/string.h"

/* ---- errors ---- */

void config_add_error(struct config *cfg, unsigned line, const char *vm, const char *fmt, ...)
{
    if (cfg->nr_errors >= CONFIG_MAX_ERRORS) {
        /* The last slot then says that the list is cut short. */
        struct config_error *last = &cfg->errors[CONFIG_MAX_ERRORS - 1];
        if (!cfg->errors_dropped) {
            last->line = 0;
            last->vm[0] = '\0';
            fmt_snprintf(last->msg, sizeof(last->msg),
                         "too many errors; only the first %u are shown", CONFIG_MAX_ERRORS - 1);
        }
        cfg->errors_dropped = true;
        return;
    }
    struct config_error *e = &cfg->errors[cfg->nr_errors++];
    e->line = line;
    str_copy(e->vm, vm ? vm : "", sizeof(e->vm));
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
}

void config_perr(struct parser *p, const char *fmt, ...)
{
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    fmt_vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    const char *vm = "";
    if (p->sec == SEC_VM) {
        vm = p->vm->name;
        if (p->vm_idx >= 0)
            p->cfg->vm_valid[p->vm_idx] = false;
    }
    config_add_error(p->cfg, p->line, vm, "%s", msg);
}

const char *config_show(struct parser *p, const char *s, size_t n)
{
    size_t o = 0, max = 40;
    for (size_t i = 0; i < n && o < sizeof(p->show) - 4; i++) {
        if (i == max) {
            memcpy(p->show + o, "...", 3);
            o += 3;
            break;
        }
        unsigned char c = (unsigned char)s[i];
        p->show[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    p->show[o] = '\0';
    return p->show;
}

void config_format_size(uint64_t v, char *buf, size_t len)
{
    if (v && !(v & ((1ULL << 30) - 1)))
        fmt_snprintf(buf, len, "%lluG", (unsigned long long)(v >> 30));
    else if (v && !(v & ((1ULL << 20) - 1)))
        fmt_snprintf(buf, len, "%lluM", (unsigned long long)(v >> 20));
    else if (v && !(v & ((1ULL << 10) - 1)))
        fmt_snprintf(buf, len, "%lluK", (unsigned long long)(v >> 10));
    else
        fmt_snprintf(buf, len, "%llu", (unsigned long long)v);
}

void config_format_error(const struct config_error *e, const char *filename, char *buf, size_t len)
{
    char where[24] = "";
    if (e->line)
        fmt_snprintf(where, sizeof(where), "%u:", e->line);
    if (e->vm[0])
        fmt_snprintf(buf, len, "%s:%s vm %s: %s", filename, where, e->vm, e->msg);
    else
        fmt_snprintf(buf, len, "%s:%s %s", filename, where, e->msg);
}

int config_find_vm(const struct config *cfg, const char *name)
{
    for (unsigned i = 0; i < cfg->nr_vms; i++)
        if (!strcmp(cfg->vms[i].name, name))
            return (int)i;
    return -1;
}

/* ---- lexical helpers ---- */

void config_trim(const char **s, size_t *n)
{
    while (*n && config_is_space(**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n && config_is_space((*s)[*n - 1]))
        (*n)--;
}

bool config_eq(const char *s, size_t n, const char *word)
{
    size_t w = strlen(word);
    return n == w && !memcmp(s, word, n);
}

/* Cuts a `# comment` that is outside double quotes. */
static size_t strip_comment(const char *s, size_t n)
{
    bool quoted = false;
    for (size_t i = 0; i < n; i++) {
        if (quoted && s[i] == '\\')
            i++;
        else if (s[i] == '"')
            quoted = !quoted;
        else if (!quoted && s[i] == '#')
            return i;
    }
    return n;
}

bool config_valid_name(const char *s, size_t n, size_t max)
{
    if (!n || n >= max || !config_is_alnum(s[0]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!config_is_alnum(s[i]) && s[i] != '.' && s[i] != '-' && s[i] != '_' && s[i] != '+')
            return false;
    return true;
}

/* ---- sections ---- */

static void vm_defaults(struct vm_config *vm)
{
    memset(vm, 0, sizeof(*vm));
    vm->protocol = BOOT_MULTIBOOT;
    vm->mem_size = CONFIG_DEFAULT_MEM;
    vm->nr_vcpus = 1;
    vm->on_crash = RESTART_NEVER;
    vm->nr_uarts = 1;
    vm->uarts[0].port = 0x3f8;
    vm->uarts[0].irq = 4;
}

/* Errors at the end of a section point at the key's line, or the section's. */
static void at_key(struct parser *p, enum vm_key k)
{
    p->line = p->key_line[k] ? p->key_line[k] : p->sec_line;
}

/* Checks that need the whole [vm] section. */
static void end_vm(struct parser *p)
{
    struct vm_config *vm = p->vm;
    unsigned saved = p->line;

    if (!p->key_line[VK_KERNEL]) {
        p->line = p->sec_line;
        config_perr(p, "missing required key 'kernel'");
    }
    if (vm->protocol == BOOT_RAW) {
        if (!p->key_line[VK_LOAD_ADDR] || !p->key_line[VK_ENTRY]) {
            at_key(p, VK_PROTOCOL);
            config_perr(p, "protocol: raw needs both load_addr and entry");
        }
        if (p->key_line[VK_INITRD]) {
            at_key(p, VK_INITRD);
            config_perr(p, "initrd: not used with protocol = raw");
        }
        if (p->key_line[VK_MODULES]) {
            at_key(p, VK_MODULES);
            config_perr(p, "modules: not used with protocol = raw");
        }
    } else {
        if (p->key_line[VK_LOAD_ADDR]) {
            at_key(p, VK_LOAD_ADDR);
            config_perr(p, "load_addr: only used with protocol = raw");
        }
        if (p->key_line[VK_ENTRY]) {
            at_key(p, VK_ENTRY);
            config_perr(p, "entry: only used with protocol = raw");
        }
    }
    if (vm->protocol == BOOT_LINUX && p->key_line[VK_MODULES]) {
        at_key(p, VK_MODULES);
        config_perr(p, "modules: multiboot only; a Linux VM takes one initrd");
    }
    if (vm->protocol == BOOT_LINUX && vm->platform == PLATFORM_NONE) {
        at_key(p, VK_PLATFORM);
        config_perr(p, "platform: protocol = linux needs the PC platform");
    } else if (vm->platform == PLATFORM_NONE && vm->nr_vcpus > 1) {
        /* Without a local APIC nothing can send the APs INIT-SIPI. */
        at_key(p, VK_PLATFORM);
        config_perr(p,
                    "platform: none leaves %u of the %u vCPUs unstartable (no local APIC for "
                    "INIT-SIPI); use platform = pc or vcpus = 1",
                    vm->nr_vcpus - 1, vm->nr_vcpus);
    }
    /* Passed-through devices live on the PC platform's PCI bus; their INTx
     * goes through its IOAPIC. */
    if (vm->nr_pci && !vm_has_platform(vm)) {
        at_key(p, VK_PCI);
        config_perr(p, "pci: passed-through devices need `platform = pc`");
    }
    /* Identity-mapped RAM (vm_identity_base): the Linux loader places the
     * kernel there, and it must stay below the 32-bit PCI hole. */
    if (vm_identity_base(vm) && vm->protocol != BOOT_LINUX) {
        at_key(p, VK_MEMORY_BASE);
        config_perr(p, "memory_base: identity-mapped RAM (iommu = off-unsafe with pci) needs "
                       "protocol = linux");
    } else if (vm_identity_base(vm) &&
               (vm->mem_base >= GPA_MMIO_HOLE || vm->mem_size > GPA_MMIO_HOLE - vm->mem_base)) {
        at_key(p, VK_MEMORY_BASE);
        config_perr(p, "memory_base: identity-mapped RAM (iommu = off-unsafe with pci) must end "
                       "below 3 GiB");
    }
    char size[24];
    config_format_size(vm->mem_size, size, sizeof(size));
    if (p->key_line[VK_LOAD_ADDR] && vm->load_addr >= vm->mem_size) {
        at_key(p, VK_LOAD_ADDR);
        config_perr(p, "load_addr: 0x%llx is outside the VM's %s of memory",
                    (unsigned long long)vm->load_addr, size);
    }
    if (p->key_line[VK_ENTRY] && vm->entry >= vm->mem_size) {
        at_key(p, VK_ENTRY);
        config_perr(p, "entry: 0x%llx is outside the VM's %s of memory",
                    (unsigned long long)vm->entry, size);
    }
    if (vm->mem_base && vm->mem_base > (1ULL << 52) - vm->mem_size) {
        at_key(p, VK_MEMORY_BASE);
        config_perr(p, "memory_base: 0x%llx + %s ends above the 4P physical address limit",
                    (unsigned long long)vm->mem_base, size);
    }

    /* cpus: one per vCPU, or one shared by all (the default is CPU 0). */
    unsigned listed = p->key_line[VK_CPUS] ? p->nr_cpus_listed : 1;
    if (listed == 1) {
        for (unsigned i = 1; i < MAX_VCPUS; i++)
            vm->pcpu[i] = vm->pcpu[0];
    } else if (listed && listed != vm->nr_vcpus) {
        at_key(p, VK_CPUS);
        config_perr(p, "cpus: %u CPUs listed for %u vCPU%s (list one per vCPU, or one for all)",
                    listed, vm->nr_vcpus, vm->nr_vcpus == 1 ? "" : "s");
    }
    if (vm->dedicated) {
        unsigned n = listed == 1 ? 1 : vm->nr_vcpus < listed ? vm->nr_vcpus : listed;
        at_key(p, VK_CPUS);
        if (!p->key_line[VK_CPUS]) {
            at_key(p, VK_CPU_POLICY);
            config_perr(p, "cpu_policy: dedicated needs the CPUs given with cpus");
        } else if (listed == 1 && vm->nr_vcpus > 1) {
            config_perr(p, "cpus: a dedicated VM needs one CPU per vCPU");
        } else {
            for (unsigned i = 0; i < n; i++) {
                bool twice = false;
                for (unsigned j = 0; j < i; j++)
                    twice |= vm->pcpu[j] == vm->pcpu[i];
                if (vm->pcpu[i] == 0) {
                    config_perr(p, "cpus: CPU 0 runs the console and cannot be dedicated");
                    break;
                }
                if (twice) {
                    config_perr(p, "cpus: CPU %u listed twice for a dedicated VM", vm->pcpu[i]);
                    break;
                }
            }
        }
    }

    /* Passed-through ports must not hide the VM's own virtual UARTs. */
    for (unsigned i = 0; i < vm->nr_ioports; i++) {
        unsigned b = vm->ioports[i].base, e = b + vm->ioports[i].count - 1u;
        for (unsigned u = 0; u < vm->nr_uarts; u++) {
            if (b <= vm->uarts[u].port + 7u && vm->uarts[u].port <= e) {
                at_key(p, VK_IOPORTS);
                config_perr(p, "ioports: 0x%x-0x%x overlaps the VM's virtual UART at 0x%x", b, e,
                            vm->uarts[u].port);
            }
        }
    }

    if (p->vm_idx >= 0) {
        struct config_vm_lines *l = &p->cfg->vm_lines[p->vm_idx];
        unsigned s = p->sec_line;
        l->kernel = p->key_line[VK_KERNEL] ? p->key_line[VK_KERNEL] : s;
        l->initrd = p->key_line[VK_INITRD] ? p->key_line[VK_INITRD] : s;
        l->memory = p->key_line[VK_MEMORY] ? p->key_line[VK_MEMORY] : s;
        l->memory_base = p->key_line[VK_MEMORY_BASE] ? p->key_line[VK_MEMORY_BASE] : s;
        l->cpus = p->key_line[VK_CPUS] ? p->key_line[VK_CPUS] : s;
        l->ioports = p->key_line[VK_IOPORTS] ? p->key_line[VK_IOPORTS] : s;
        l->pci = p->key_line[VK_PCI] ? p->key_line[VK_PCI] : s;
        l->modules = p->key_line[VK_MODULES] ? p->key_line[VK_MODULES] : s;
    }
    p->line = saved;
}

static void end_section(struct parser *p)
{
    if (p->sec == SEC_VM)
        end_vm(p);
    p->sec = SEC_NONE;
}

static void open_vm(struct parser *p, const char *name, size_t n)
{
    struct config *cfg = p->cfg;
    p->sec = SEC_VM;
    p->sec_line = p->line;
    p->nr_cpus_listed = 0;
    memset(p->key_line, 0, sizeof(p->key_line));
    /* A VM that cannot take a slot is still read, into scratch, for its errors. */
    p->vm = &p->scratch;
    p->vm_idx = -1;
    vm_defaults(p->vm);
    memcpy(p->vm->name, name, n);
    p->vm->name[n] = '\0';

    int dup = config_find_vm(cfg, p->vm->name);
    if (dup >= 0) {
        config_perr(p, "duplicate VM name '%s' (first defined on line %u)", p->vm->name,
                    cfg->vm_line[dup]);
        return;
    }
    if (cfg->nr_vms >= CONFIG_MAX_VMS) {
        config_perr(p, "too many VMs (at most %u)", CONFIG_MAX_VMS);
        return;
    }
    p->vm_idx = (int)cfg->nr_vms++;
    p->vm = &cfg->vms[p->vm_idx];
    *p->vm = p->scratch;
    cfg->vm_valid[p->vm_idx] = true;
    cfg->vm_line[p->vm_idx] = p->line;
}

static void section_header(struct parser *p, const char *s, size_t n)
{
    const char *close = memchr(s, ']', n);
    end_section(p);
    p->sec = SEC_SKIP; /* keys under a broken header are ignored */
    if (!close) {
        config_perr(p, "missing ']' in section header");
        return;
    }
    const char *rest = close + 1;
    size_t rn = strip_comment(rest, n - (size_t)(rest - s));
    config_trim(&rest, &rn);
    if (rn) {
        config_perr(p, "unexpected text after ']': '%s'", config_show(p, rest, rn));
        return;
    }
    const char *in = s + 1;
    size_t in_n = (size_t)(close - in);
    config_trim(&in, &in_n);
    if (config_eq(in, in_n, "global")) {
        if (p->global_line)
            config_perr(p, "[global] given twice (first on line %u)", p->global_line);
        else
            p->global_line = p->line;
        p->sec = SEC_GLOBAL;
        p->sec_line = p->line;
        memset(p->key_line, 0, sizeof(p->key_line));
        return;
    }
    if (in_n >= 2 && !memcmp(in, "vm", 2) && (in_n == 2 || config_is_space(in[2]))) {
        const char *name = in + 2;
        size_t nn = in_n - 2;
        config_trim(&name, &nn);
        if (!nn)
            config_perr(p, "missing VM name: expected [vm NAME]");
        else if (!config_valid_name(name, nn, VM_NAME_MAX))
            config_perr(p, "invalid VM name '%s' (letters, digits, '.', '-', '_'; at most %u)",
                        config_show(p, name, nn), VM_NAME_MAX - 1);
        else
            open_vm(p, name, nn);
        return;
    }
    /* A mistyped "global" or "vm" (only the first word counts). */
    static const char *const sections[] = {"global", "vm"};
    size_t word = 0;
    while (word < in_n && !config_is_space(in[word]))
        word++;
    struct closest_match m;
    closest_match_init(&m, in, word);
    for (size_t k = 0; k < 2; k++)
        closest_match_offer(&m, sections[k]);
    if (m.best == sections[0] && word == in_n)
        config_perr(p, "unknown section '[%s]' (did you mean [global]?)", config_show(p, in, in_n));
    else if (m.best == sections[1] && word < in_n) {
        char rest[sizeof(p->show)]; /* config_show has one buffer */
        str_copy(rest, config_show(p, in + word, in_n - word), sizeof(rest));
        config_perr(p, "unknown section '[%s]' (did you mean [vm%s]?)", config_show(p, in, in_n),
                    rest);
    } else
        config_perr(p, "unknown section '[%s]' (expected [global] or [vm NAME])",
                    config_show(p, in, in_n));
}

/* "unknown key 'memroy' (did you mean 'memory'?)", or the section a key
 * of the other kind belongs in. */
static void unknown_key(struct parser *p, const char *key, size_t kn)
{
    bool vm = p->sec == SEC_VM;
    const struct key_def *own = vm ? config_vm_keys : config_global_keys;
    const struct key_def *other = vm ? config_global_keys : config_vm_keys;
    size_t nr_own = vm ? VK_COUNT : config_nr_global_keys;
    size_t nr_other = vm ? config_nr_global_keys : VK_COUNT;
    const char *where = vm ? "" : " in [global]";
    struct closest_match m;

    for (size_t k = 0; k < nr_other; k++) {
        if (config_eq(key, kn, other[k].name)) {
            config_perr(p, "key '%s' belongs in %s, not in %s", other[k].name,
                        vm ? "[global]" : "a [vm NAME] section",
                        vm ? "a VM's section" : "[global]");
            return;
        }
    }
    closest_match_init(&m, key, kn);
    for (size_t k = 0; k < nr_own; k++)
        closest_match_offer(&m, own[k].name);
    if (m.best)
        config_perr(p, "unknown key '%s'%s (did you mean '%s'?)", config_show(p, key, kn), where,
                    m.best);
    else
        config_perr(p, "unknown key '%s'%s", config_show(p, key, kn), where);
}

static void key_value(struct parser *p, const char *s, size_t n)
{
    const char *eqs = memchr(s, '=', n);
    if (!eqs) {
        config_perr(p, "expected 'key = value', got '%s'", config_show(p, s, n));
        return;
    }
    const char *key = s, *v = eqs + 1;
    size_t kn = (size_t)(eqs - s), vn = n - kn - 1;
    config_trim(&key, &kn);
    vn = strip_comment(v, vn);
    config_trim(&v, &vn);
    if (!kn) {
        config_perr(p, "expected 'key = value': missing key before '='");
        return;
    }
    if (p->sec == SEC_SKIP)
        return;
    if (p->sec == SEC_NONE) {
        config_perr(p, "key '%s' outside a section (start with [global] or [vm NAME])",
                    config_show(p, key, kn));
        return;
    }
    const struct key_def *keys = p->sec == SEC_VM ? config_vm_keys : config_global_keys;
    size_t nr = p->sec == SEC_VM ? VK_COUNT : config_nr_global_keys;
    size_t k;
    for (k = 0; k < nr; k++)
        if (config_eq(key, kn, keys[k].name))
            break;
    if (k == nr) {
        unknown_key(p, key, kn);
        return;
    }
    if (p->key_line[k]) {
        config_perr(p, "%s: duplicate key (first given on line %u)", keys[k].name, p->key_line[k]);
        return;
    }
    p->key_line[k] = p->line;
    if (!vn) {
        config_perr(p, "%s: missing value", keys[k].name);
        return;
    }
    keys[k].fn(p, keys[k].name, v, vn);
}

static void parse_line(struct parser *p, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == 0) {
            config_perr(p, "NUL byte in line (column %zu)", i + 1);
            return;
        }
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            config_perr(p, "control character 0x%02x in line (column %zu)", c, i + 1);
            return;
        }
    }
    config_trim(&s, &n);
    if (!n || s[0] == '#')
        return;
    if (s[0] == '[')
        section_header(p, s, n);
    else
        key_value(p, s, n);
}

int config_parse(const char *text, size_t len, const char *filename, struct config *out)
{
    struct parser parser; /* under 1 KiB */
    struct parser *p = &parser;
    (void)filename; /* errors carry lines; the caller formats with the name */

    memset(out, 0, sizeof(*out));
    out->global.loglevel = -1;
    config_net_defaults(&out->global.net);
    memset(p, 0, sizeof(*p));
    p->cfg = out;
    p->sec = SEC_NONE;
    p->vm_idx = -1;

    if (len > CONFIG_MAX_SIZE) {
        config_add_error(out, 0, "", "file is larger than the %u KiB limit", CONFIG_MAX_SIZE >> 10);
        return (int)out->nr_errors;
    }
    const char *s = text, *end = text + len;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
        const char *next = nl ? nl + 1 : end;
        p->line++;
        if (n && s[n - 1] == '\r')
            n--;
        if (n > CONFIG_MAX_LINE) {
            config_perr(p, "line is longer than %u characters", CONFIG_MAX_LINE);
        } else {
            parse_line(p, s, n);
        }
        s = next;
    }
    end_section(p);
    return (int)out->nr_errors;
}
