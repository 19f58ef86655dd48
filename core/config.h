/* The VM configuration file (docs/configuration.md): parser and validation.
 * Pure code: the kernel runs it on the bulkhead.cfg module and the host
 * checker (tools/bulkhead-check.c) on a file. Input is hostile: every problem
 * becomes one error naming the line; nothing reads past `len`. */
#ifndef CORE_CONFIG_H
#define CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/sha256.h"
#include "vm/vm.h"

#define CONFIG_MAX_VMS     16
#define CONFIG_MAX_ERRORS  32
#define CONFIG_MAX_LINE    1024         /* characters, without the line end */
#define CONFIG_MAX_SIZE    (64u << 10)  /* whole file */
#define CONFIG_MAX_CPUS    256          /* largest CPU number + 1 accepted by the parser */
#define CONFIG_MAX_MEM     (1ULL << 40) /* per VM: keeps sums far from overflow */
#define CONFIG_DEFAULT_MEM (16ULL << 20)

struct config_error {
    unsigned line;        /* 0: the file as a whole */
    char vm[VM_NAME_MAX]; /* "" for file-level errors */
    char msg[160];
};

#define CONFIG_NET_CONSOLE_PORT  2323
#define CONFIG_NET_LOGIN_TIMEOUT 60  /* seconds to give the password */
#define CONFIG_NET_IDLE_TIMEOUT  900 /* seconds without input before a session closes */
#define CONFIG_NET_TIMEOUT_MAX   (7 * 86400)
#define CONFIG_NET_HTTP_PORT     8080
#define CONFIG_NET_HTTP_TIMEOUT  30 /* seconds an HTTP connection may sit without a request */
#define CONFIG_API_TOKEN_PREFIX  "sha256$"
#define CONFIG_API_TOKEN_SALT    16 /* bytes of salt bulkhead-check --hash-token makes */

struct config_pci_dev {
    uint16_t seg;
    uint8_t bus, dev, fn;
};

/* The network console (docs/network.md). Lines are 0 where a key is absent. */
struct config_net {
    int enabled;      /* -1 unset, 0 false, 1 true */
    bool device_auto; /* net.device = auto (also when unset) */
    struct config_pci_dev device;
    bool dhcp;                 /* net.address = dhcp (also when unset) */
    uint32_t address, gateway; /* host byte order; gateway 0 = none */
    unsigned prefix;
    unsigned console_port;
    char password_hash[PWHASH_MAX_LEN];   /* "" = unset */
    unsigned login_timeout, idle_timeout; /* seconds */
    unsigned line_enabled, line_device, line_address, line_gateway, line_port, line_password;
    unsigned line_timeouts;
    /* The HTTP API (docs/api.md): net.api_token = sha256$SALT$HASH, where
     * HASH = SHA-256(SALT || token); have_api_token false = unset. */
    unsigned http_port, http_timeout;
    bool have_api_token;
    uint8_t api_token_salt[32], api_token_hash[32];
    unsigned api_token_salt_len;
    unsigned line_http_port, line_api_token;
};

struct config_global {
    int loglevel;          /* LOG_ERR..LOG_TRACE, -1 = unset */
    char console[64];      /* "" = unset; else a console= value (com1, 0x2f8, mmio,0x...) */
    unsigned baud;         /* 0 = unset */
    char cmdline[512];     /* the hypervisor's command line when bulkhead.efi gets none */
    uint64_t upload_limit; /* modules.upload_limit in bytes; 0 = unset */
    struct config_net net;
};

/* Lines of the keys validation refers to (the section line when absent). */
struct config_vm_lines {
    unsigned kernel, initrd, memory, memory_base, cpus, ioports, pci, modules;
};

struct config {
    struct config_global global;
    unsigned nr_vms;
    struct vm_config vms[CONFIG_MAX_VMS];
    bool vm_valid[CONFIG_MAX_VMS];    /* false: never start it */
    unsigned vm_line[CONFIG_MAX_VMS]; /* its [vm NAME] line */
    struct config_vm_lines vm_lines[CONFIG_MAX_VMS];
    unsigned nr_errors; /* at most CONFIG_MAX_ERRORS; the last says when more were dropped */
    bool errors_dropped;
    struct config_error errors[CONFIG_MAX_ERRORS];
};

/* Parses text[0..len) (no terminator needed; NUL bytes are errors). Fills
 * *out entirely. Returns the number of errors stored; a VM with an error is
 * marked invalid, the others stay valid. */
int config_parse(const char *text, size_t len, const char *filename, struct config *out);

/* I/O ports the hypervisor drives itself, named for messages. */
struct config_port_range {
    uint16_t base, count;
    const char *what;
};

#define CONFIG_CONSOLE_DEFAULT 0x3f8   /* COM1: the console when nothing says otherwise */
#define CONFIG_CONSOLE_MMIO    0x10000 /* console_port of an MMIO console: no ports */

/* Facts about the machine, from the kernel or the checker's options. */
/* A PCI function of the machine, for checking `pci` (drivers/pci_group.h
 * computes the groups). */
struct config_pci_fact {
    uint16_t seg, sid; /* sid: bus 15:8, device 7:3, function 2:0 */
    uint16_t group;    /* functions with the same group cannot be isolated from each other */
    const char *why;   /* why they share it; NULL for a function alone in its group */
    bool bridge;       /* a bridge: never given to a VM */
};

struct config_machine {
    unsigned nr_cpus;  /* 0 = unknown: not checked */
    uint64_t free_ram; /* bytes for guests; 0 = unknown: not checked */
    unsigned nr_modules;
    const char *const *module_names;
    const uint64_t *module_sizes; /* bytes of each module; NULL = unknown */
    bool check_modules;
    /* The console UART's port base; 0 = unknown (COM1 is assumed), or
     * CONFIG_CONSOLE_MMIO. */
    unsigned console_port;
    unsigned nr_host_ports; /* more ports the hypervisor drives here (ACPI) */
    const struct config_port_range *host_ports;
    bool pci_known; /* the machine's PCI functions are listed below */
    unsigned nr_pci;
    const struct config_pci_fact *pci;
    int iommu;  /* 1: an IOMMU translates DMA; -1: none; 0: unknown */
    int x2apic; /* 1: the local APICs run in x2APIC mode; -1: not; 0: unknown */
};

/* Checks ioports against the ports the hypervisor owns or emulates for
 * every VM (its console, PC platform, reset and emulator exit ports), then
 * across VMs (overlapping fixed memory, CPUs and I/O ports given twice) and,
 * with m (may be NULL), against the machine (CPUs, RAM, modules). Appends errors, marks the VMs
 * invalid, and returns the total number of errors. Earlier VMs win: of two that conflict, the later
 * one is marked invalid. */
int config_validate(struct config *cfg, const struct config_machine *m);

/* The net.* defaults (switched off, auto device, DHCP, port 2323). */
void config_net_defaults(struct config_net *net);
/* The net.* keys together (a password when enabled, a gateway only with a
 * static address inside its subnet) and against the VMs: a VM whose `pci`
 * names the hypervisor's NIC is refused. Called by config_validate. */
void config_net_validate(struct config *cfg);

/* "demo.cfg:12: vm web: memory: expected a size like 64M" (file-level errors
 * leave out "vm NAME: "; line 0 leaves out the line). */
void config_format_error(const struct config_error *e, const char *filename, char *buf, size_t len);

/* Appends an error (used by validation and by callers with their own checks). */
void config_add_error(struct config *cfg, unsigned line, const char *vm, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* "64M", "1G", "4K" or "12345" bytes. */
void config_format_size(uint64_t v, char *buf, size_t len);

/* Index of the VM with this name, or -1. */
int config_find_vm(const struct config *cfg, const char *name);

#endif
