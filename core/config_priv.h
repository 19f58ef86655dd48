/* Internals shared by the configuration parser's files (config.c reads
 * lines and sections, config_keys.c reads the values of keys). */
#ifndef CORE_CONFIG_PRIV_H
#define CORE_CONFIG_PRIV_H

#include "core/config.h"

enum section { SEC_NONE, SEC_GLOBAL, SEC_VM, SEC_SKIP };

/* Keys of a [vm] section; the order matches vm_keys[]. */
enum vm_key {
    VK_KERNEL,
    VK_INITRD,
    VK_CMDLINE,
    VK_PROTOCOL,
    VK_LOAD_ADDR,
    VK_ENTRY,
    VK_MEMORY,
    VK_MEMORY_BASE,
    VK_VCPUS,
    VK_CPUS,
    VK_CPU_POLICY,
    VK_SLICE,
    VK_PRIORITY,
    VK_AUTOSTART,
    VK_ON_CRASH,
    VK_UARTS,
    VK_IOPORTS,
    VK_PCI,
    VK_PLATFORM,
    VK_IOMMU,
    VK_ON_DMA_FAULT,
    VK_MODULES,
    VK_REALTIME,
    VK_COUNT
};

#define MAX_KEYS VK_COUNT

struct parser {
    struct config *cfg;
    unsigned line;
    enum section sec;
    unsigned sec_line;
    struct vm_config *vm;        /* the VM being read: a table slot or `scratch` */
    int vm_idx;                  /* -1: scratch (duplicate name, too many VMs) */
    unsigned key_line[MAX_KEYS]; /* line of each key in this section, 0 = absent */
    unsigned nr_cpus_listed;     /* entries of `cpus` before expansion */
    unsigned global_line;
    struct vm_config scratch;
    char show[48]; /* a printable copy of input for one message */
};

struct key_def {
    const char *name;
    void (*fn)(struct parser *p, const char *key, const char *v, size_t n);
};

/* Value parsers shared by config_keys.c and config_net.c: 0, or -1 on
 * anything but a whole valid value. */
int config_parse_num(const char *s, size_t n, uint64_t *out);
int config_parse_bool(const char *s, size_t n, bool *out);
int config_parse_dec(const char **s, const char *end, unsigned digits, unsigned *out);
int config_parse_ipv4(const char **s, const char *end, uint32_t *out);
int config_parse_bdf(const char *s, size_t n, struct config_pci_dev *d);
/* A time with a unit (us, ms, s), in microseconds. */
int config_parse_time_us(const char *s, size_t n, uint64_t *out);

/* [global] net.* keys (config_net.c). */
void config_net_enabled(struct parser *p, const char *key, const char *v, size_t n);
void config_net_device(struct parser *p, const char *key, const char *v, size_t n);
void config_net_address(struct parser *p, const char *key, const char *v, size_t n);
void config_net_gateway(struct parser *p, const char *key, const char *v, size_t n);
void config_net_console_port(struct parser *p, const char *key, const char *v, size_t n);
void config_net_password_hash(struct parser *p, const char *key, const char *v, size_t n);
void config_net_login_timeout(struct parser *p, const char *key, const char *v, size_t n);
void config_net_idle_timeout(struct parser *p, const char *key, const char *v, size_t n);
void config_net_http_port(struct parser *p, const char *key, const char *v, size_t n);
void config_net_http_timeout(struct parser *p, const char *key, const char *v, size_t n);
void config_net_api_token(struct parser *p, const char *key, const char *v, size_t n);
/* [global] modules.upload_limit (config_net.c). */
void config_modules_upload_limit(struct parser *p, const char *key, const char *v, size_t n);

/* Key tables (config_keys.c). */
extern const struct key_def config_global_keys[];
extern const unsigned config_nr_global_keys;
extern const struct key_def config_vm_keys[VK_COUNT];

/* An error on the current line, charged to the current VM (which then never starts). */
void config_perr(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Input quoted in a message: printable ASCII only, cut at 40 characters. */
const char *config_show(struct parser *p, const char *s, size_t n);
void config_trim(const char **s, size_t *n);
bool config_eq(const char *s, size_t n, const char *word);
/* Module and VM names: letters, digits, '.', '-', '_', '+'; a letter or digit first. */
bool config_valid_name(const char *s, size_t n, size_t max);

static inline bool config_is_space(char c)
{
    return c == ' ' || c == '\t';
}

static inline bool config_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static inline bool config_is_alnum(char c)
{
    return config_is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

#endif
