/* A VM is data: configuration, a guest-physical memory map over EPT,
 * vCPUs, emulated devices, a state. Starting and stopping never needs a
 * machine reboot; guest memory is zeroed before start and scrubbed after.
 *
 * Ownership rule. A VM's objects (its vCPUs, platform, EPT, RAM block) are
 * created and freed only on the console CPU: by vm_start, and by
 * vm_lifecycle_poll once the VM has stopped. Console commands run on that
 * CPU too, so between their own checks they never see those objects freed
 * or replaced under them. Any other CPU only
 *  - requests: vm_request_stop/vm_crash/vm_request_reset, and the pause and
 *    resume flags, each under vm->lock, which also guards vm->state;
 *  - uses the objects of a VM whose vCPU it is running (exit handlers,
 *    device models, the scheduler), which stay alive until that vCPU is out;
 *  - and, for the last vCPU to leave its CPU (vm_vcpu_stopped), publishes
 *    vm->vcpus_out. From then on no other CPU touches the VM, and the
 *    console CPU frees it (vm_finish_stop), clears vm->teardown, and scrubs
 *    its RAM a chunk per turn (vm->scrubbing) before it is freed or reused.
 * Lock order: a device model's lock (platform->lock) may be held when
 * vm->lock is taken (a guest's reset or power-off request), never the
 * other way round; no VM lock is held across a call into another VM. */
#ifndef GUEST_VM_H
#define GUEST_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "ept/ept.h"
#include "guest/vcpu.h"
#include "guest/vuart.h"
#include "lib/spinlock.h"

#define MAX_VMS              16
#define MAX_VCPUS            8
#define VM_NAME_MAX          32
#define VM_CMDLINE_MAX       256
#define VM_MAX_PORT_HANDLERS 16
#define VM_MAX_MMIO_HANDLERS 8

/* The documented guest-physical map (docs/guest-memory-map.md). */
#define GPA_LOW_RAM_END   0xa0000ULL /* RAM below the VGA hole */
#define GPA_ROM_AREA      0xc0000ULL /* read-only: option ROMs (none) and BIOS */
#define GPA_BIOS_AREA     0xe0000ULL /* the BIOS part, where ACPI tables live */
#define GPA_BIOS_AREA_END 0x100000ULL
#define GPA_IOAPIC        0xfec00000ULL
#define GPA_LAPIC         0xfee00000ULL
#define GPA_MMIO_HOLE     0xc0000000ULL /* RAM above this moves above 4 GiB */
#define GPA_HIGH_RAM      0x100000000ULL
#define GPA_HIGH_RAM_MAX  (1ULL << 39) /* 512 GiB: a guest-physical width every EPT walks */

/* RAM below the 32-bit MMIO hole, and the rest, which starts at 4 GiB. */
static inline uint64_t vm_mem_low(uint64_t mem_size)
{
    return mem_size < GPA_MMIO_HOLE ? mem_size : GPA_MMIO_HOLE;
}

static inline uint64_t vm_mem_high(uint64_t mem_size)
{
    return mem_size > GPA_MMIO_HOLE ? mem_size - GPA_MMIO_HOLE : 0;
}

enum vm_state {
    VM_DEFINED,
    VM_RUNNING,
    VM_PAUSED,
    VM_SHUTOFF,
    VM_CRASHED,
};

struct vm;
struct vcpu;

/* Returns true when handled. For reads, *val receives size bytes. */
typedef bool (*port_handler_fn)(struct vcpu *v, uint16_t port, unsigned size, bool in,
                                uint32_t *val, void *ctx);
typedef bool (*mmio_handler_fn)(struct vcpu *v, uint64_t gpa, unsigned size, bool write,
                                uint64_t *val, void *ctx);

struct port_range {
    uint16_t base, count;
    port_handler_fn fn;
    void *ctx;
};

struct mmio_range {
    uint64_t base, size;
    mmio_handler_fn fn;
    void *ctx;
    const char *name;
};

enum boot_protocol {
    BOOT_MULTIBOOT, /* multiboot ELF (v2 information; v1 for a v1-only header) */
    BOOT_LINUX,     /* bzImage, Linux boot protocol */
    BOOT_RAW,       /* flat binary at load_addr, entered at entry */
};

/* The emulated PC (guest/platform.h): vLAPICs, vIOAPIC, vPIC, vPIT, RTC,
 * PM timer, ACPI tables. Linux VMs always have it; others on request. */
enum vm_platform_kind {
    PLATFORM_DEFAULT, /* pc for protocol = linux, none otherwise */
    PLATFORM_PC,
    PLATFORM_NONE,
};

/* Why a stopping VM starts again. */
enum vm_restart_kind {
    VM_RESTART_NONE,    /* the restart policy decides (crashes only) */
    VM_RESTART_CONSOLE, /* `reset` on the console: at once */
    VM_RESTART_GUEST,   /* the guest reset itself: counts toward the back-off */
};

enum restart_policy {
    RESTART_NEVER,    /* a crashed VM stays crashed */
    RESTART_ON_CRASH, /* restarted, with back-off */
};

#define VM_MAX_UARTS   2
#define VM_MAX_IOPORTS 8
#define VM_MAX_PCI     8

struct vm_config {
    char name[VM_NAME_MAX];
    char kernel[64]; /* module names */
    char initrd[64];
    char cmdline[VM_CMDLINE_MAX];
    enum boot_protocol protocol;
    enum vm_platform_kind platform;
    uint64_t load_addr, entry; /* raw images */
    uint64_t mem_size;
    uint64_t mem_base; /* fixed host-physical base, 0 = anywhere */
    unsigned nr_vcpus;
    unsigned pcpu[MAX_VCPUS];
    bool dedicated;    /* its CPUs run nothing else */
    uint64_t slice_us; /* time slice when sharing a CPU; 0 = default */
    unsigned priority; /* larger runs first among runnable vCPUs on a CPU */
    bool autostart;
    enum restart_policy on_crash;
    unsigned nr_uarts;
    struct {
        uint16_t port;
        uint8_t irq;
    } uarts[VM_MAX_UARTS];
    unsigned nr_ioports; /* host I/O ports passed through */
    struct {
        uint16_t base, count;
    } ioports[VM_MAX_IOPORTS];
    unsigned nr_pci; /* PCI devices to pass through (vdev/vpci_pt.h) */
    struct {
        uint16_t seg;
        uint8_t bus, dev, fn;
    } pci[VM_MAX_PCI];
    bool iommu_off_unsafe; /* `iommu = off-unsafe`: pass through without an IOMMU */
    bool dma_fault_stop;   /* `on_dma_fault = stop` (else log) */
};

/* A VM whose RAM above 1 MiB sits at guest-physical == host-physical
 * addresses, so that its passed-through devices can DMA without an IOMMU:
 * `iommu = off-unsafe` with `pci` and a fixed `memory_base` (a Linux VM;
 * docs/passthrough.md). Its first MiB is the start of its block as usual;
 * guest-physical [1 MiB, memory_base + 1 MiB) is a hole. 0: not such a VM. */
static inline uint64_t vm_identity_base(const struct vm_config *c)
{
    return c->iommu_off_unsafe && c->nr_pci && c->mem_base ? c->mem_base : 0;
}

struct vm {
    unsigned id;
    struct vm_config cfg;
    volatile enum vm_state state;
    char reason[128]; /* why it stopped or crashed */
    spinlock_t lock;

    uint64_t ram_hpa; /* one contiguous, 2 MiB aligned block */
    uint64_t ram_alloc_size;
    struct ept ept;
    bool ept_ready;

    struct vcpu *vcpus[MAX_VCPUS];
    unsigned nr_vcpus;
    unsigned vcpus_running;

    struct port_range ports[VM_MAX_PORT_HANDLERS];
    unsigned nr_ports;
    struct mmio_range mmio[VM_MAX_MMIO_HANDLERS];
    unsigned nr_mmio;
    /* One per configured `uarts` entry (nr_uarts, ports mapped); uarts[0]
     * also buffers hypercall console output, so it is set up even when
     * nr_uarts is 0. The console attaches to uarts[0]. */
    struct vuart uarts[VM_MAX_UARTS];
    unsigned nr_uarts;

    uint64_t start_tsc;
    uint64_t tsc_offset;
    int exit_code;
    bool shutdown_requested;
    unsigned long long violations_logged; /* rate limit for absent-hardware logs */
    uint64_t last_violation_log_tsc;

    /* Lifecycle (driven from the console CPU). */
    volatile bool teardown;            /* stopping: set until its memory is scrubbed */
    volatile bool vcpus_out;           /* set by the last vCPU out: the console CPU frees the VM */
    bool scrubbing;                    /* RAM being cleared, a chunk per console turn */
    uint64_t scrub_done;               /* bytes of RAM cleared so far */
    bool ram_clean;                    /* the RAM block is kept, all zero, for a restart */
    uint64_t shutdown_deadline;        /* TSC: force off after this; 0 = none */
    enum vm_restart_kind restart_kind; /* what to do once stopped (set with the stop) */
    unsigned quick_crashes;            /* consecutive crashes or guest resets soon after start */
    uint64_t restart_at;               /* TSC of a pending restart-on-crash; 0 = none */
    uint64_t stop_tsc;
    bool attached; /* the console shows its UART raw */
    struct vcpu_snapshot crash_regs;
    bool have_crash_regs;
    /* Counters that outlive the vCPUs (summed at each stop). */
    struct exit_stat exits[VCPU_EXIT_STATS];
    uint64_t total_exits, guest_cycles, root_cycles;
    unsigned starts;
    struct vm_platform *platform; /* PC devices, when the VM has them */
    struct vpt *pt;               /* passed-through PCI devices (vdev/vpci_pt.h) */
    uint64_t acpi_rsdp_gpa;
    uint8_t ioapic_id;
    /* Set by the device model (ACPI power button) when the VM has one. */
    void (*power_button)(struct vm *vm);
};

extern struct vm *vms[MAX_VMS];
extern unsigned nr_vms;

const char *vm_state_name(enum vm_state s);
/* Lifecycle (see docs/console.md): each returns 0 or -1 with a reason. */
int vm_pause(struct vm *vm, char *err, unsigned errlen);
int vm_resume(struct vm *vm, char *err, unsigned errlen);
int vm_destroy(struct vm *vm, char *err, unsigned errlen);
/* Graceful: the guest sees the request (hypercall, ACPI power button when it
 * has one) and is forced off after timeout_ms. */
int vm_shutdown(struct vm *vm, uint64_t timeout_ms, char *err, unsigned errlen);
/* Stop (scrubbing memory) and start again from the pristine image. */
int vm_reset(struct vm *vm, char *err, unsigned errlen);
/* Console CPU housekeeping: forced shutdowns, restarts with back-off. */
void vm_lifecycle_poll(void);
/* Per-VM totals including the running vCPUs. */
void vm_exit_totals(const struct vm *vm, struct exit_stat *out, uint64_t *guest, uint64_t *root);
bool vm_is_stopping(const struct vm *vm);
/* Internal: the VM is fully stopped and scrubbed; decides on a restart. */
void vm_lifecycle_stopped(struct vm *vm);
struct vm *vm_find(const char *name);
/* Creates a VM in the defined state; returns NULL with a reason. */
struct vm *vm_create(const struct vm_config *cfg, char *err, unsigned errlen);
/* Allocates and zeroes memory, loads the kernel, builds EPT and vCPUs, and
 * queues the vCPUs on their CPUs. */
int vm_start(struct vm *vm, char *err, unsigned errlen);
/* Stops every vCPU (by IPI where needed), scrubs and frees memory. The
 * state becomes `final` (shut off or crashed) with the reason given. */
void vm_stop(struct vm *vm, enum vm_state final, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* From inside an exit handler: stop this VM (the current vCPU returns to
 * the scheduler and the teardown completes there). */
void vm_crash(struct vcpu *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vm_request_stop(struct vm *vm, enum vm_state final, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Stops the VM to start it again (see enum vm_restart_kind); false when it
 * was not running or paused (another stop won). */
bool vm_request_reset(struct vm *vm, enum vm_restart_kind kind, const char *reason);
/* Console CPU, once vm->vcpus_out: frees the vCPUs, devices and EPT and
 * starts the RAM scrub (vm_lifecycle_poll). */
void vm_finish_stop(struct vm *vm);
/* Returns the RAM block to the allocator (it must be scrubbed already). */
void vm_free_ram(struct vm *vm);
/* Completes a pending RAM scrub at once (console CPU). */
void vm_scrub_finish(struct vm *vm);

int vm_register_ports(struct vm *vm, uint16_t base, uint16_t count, port_handler_fn fn, void *ctx);
int vm_register_mmio(struct vm *vm, uint64_t base, uint64_t size, mmio_handler_fn fn, void *ctx,
                     const char *name);
/* Port and MMIO dispatch; unclaimed accesses behave as absent hardware. */
void vm_port_access(struct vcpu *v, uint16_t port, unsigned size, bool in, uint32_t *val);
/* Returns false when the address is outside the VM's map: a violation. */
bool vm_mmio_access(struct vcpu *v, uint64_t gpa, unsigned size, bool write, uint64_t *val);

/* Every hypervisor access to guest memory goes through these (bounds-checked). */
int vm_read_guest(struct vm *vm, uint64_t gpa, void *buf, uint64_t len);
int vm_write_guest(struct vm *vm, uint64_t gpa, const void *buf, uint64_t len);
/* Atomically replaces the aligned 4- or 8-byte value at gpa with new_val if
 * it still holds old_val (for the accessed/dirty bits of guest page
 * tables): 0 done, 1 it changed, -1 not writable guest RAM. */
int vm_cmpxchg_guest(struct vm *vm, uint64_t gpa, unsigned len, uint64_t old_val, uint64_t new_val);
/* Asserts that every EPT leaf points into this VM's own RAM block; returns
 * the number of leaves checked or -1 (and logs) on a violation. */
long vm_check_isolation(struct vm *vm);

/* A rate-limited log line for absent-hardware accesses. */
void vm_log_violation(struct vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Console input for the VM's first serial port (raises its IRQ when it has one). */
bool vm_uart_input(struct vm *vm, uint8_t byte);
/* Drives every vUART's IRQ line (the OR of the vUARTs sharing it). */
void vm_uart_update_irq(struct vm *vm);
/* Guest output, a whole line at a time, prefixed with the VM name:
 * "[NAME] text" for the first vUART, "[NAME:ttySn] text" for vUART n > 0. */
void vm_console_output(struct vm *vm, const char *line, unsigned len);
void vm_console_output_tty(struct vm *vm, unsigned tty, const char *line, unsigned len);

#endif
