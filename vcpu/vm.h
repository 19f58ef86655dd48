/* The VM's core record (vm/vm.h has its lifecycle). A VM is data: configuration, a guest-physical
 * memory map over EPT, vCPUs, emulated devices, a state. Starting and stopping never needs a
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
#ifndef VCPU_VM_H
#define VCPU_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "ept/ept.h"
#include "hvm/vcpu.h"
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
struct vuart;

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

/* The emulated PC (vdev/platform.h): vLAPICs, vIOAPIC, vPIC, vPIT, RTC,
 * PM timer, ACPI tables. Every VM has it unless `platform = none`. */
enum vm_platform_kind {
    PLATFORM_DEFAULT, /* not given: pc, whatever the protocol */
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

/* What exit handling needs from a VM's device models (vdev/platform.c
 * sets it with vm->platform): function pointers, so that this layer never
 * includes a device model. */
enum vcpu_startup {
    VCPU_STARTUP_RUN,   /* not waiting for a SIPI */
    VCPU_STARTUP_WAIT,  /* in wait-for-SIPI: must not run */
    VCPU_STARTUP_SIPI,  /* start in real mode at vector << 12 */
    VCPU_STARTUP_RESET, /* the BSP got an INIT: the VM restarts */
};

struct vm_platform_ops {
    /* The vector to inject now, or -1 (below 256: the vLAPIC's; above:
     * the vPIC's); and its acknowledgement (IRR -> ISR, or the vPIC's
     * INTA), which returns the vector to inject. */
    int (*pending_interrupt)(struct vcpu *v);
    int (*ack_interrupt)(struct vcpu *v, int pending);
    /* Runs expired device timers; the next deadline (host TSC) or UINT64_MAX. */
    uint64_t (*timers_tick)(struct vm *vm, uint64_t now_tsc);
    /* The vCPU's start-up state (INIT/SIPI, vdev/vlapic.h): VCPU_STARTUP_*;
     * taking a latched SIPI (*vector) ends the wait for it. */
    int (*take_startup)(struct vcpu *v, uint8_t *vector);
    /* MSRs the platform owns (APIC base, x2APIC, TSC deadline): false = not
     * its; *gp when the guest gets #GP. */
    bool (*rdmsr)(struct vcpu *v, uint32_t msr, uint64_t *val, bool *gp);
    bool (*wrmsr)(struct vcpu *v, uint32_t msr, uint64_t val, bool *gp);
    /* The vLAPIC's TPR as CR8, and its TSC offset (IA32_TSC writes). */
    uint64_t (*get_cr8)(struct vcpu *v);
    void (*set_cr8)(struct vcpu *v, uint64_t cr8);
    void (*set_tsc_offset)(struct vcpu *v, uint64_t offset);
    /* A port read with no side effect that needs no lock (the PM timer):
     * *val and true, or false for the full path. May be NULL. */
    bool (*port_in_fast)(struct vcpu *v, uint16_t port, unsigned size, uint32_t *val);
    /* The vLAPIC's part of a timer cycle for the fast path (vcpu_fast_apic):
     * msr 0x6e0 (IA32_TSC_DEADLINE, *deadline gets the vLAPIC's next
     * deadline in host TSC) or 0x80b (x2APIC EOI) written with val, or msr
     * 0 (an interrupt window: only the look). Then the interrupt to
     * deliver: acknowledged into *vector when can_take (APIC_FAST_INJECT),
     * else APIC_FAST_WINDOW; APIC_FAST_NONE: none; APIC_FAST_FULL: done, but
     * the full path must look (NMI, INIT/SIPI, vPIC); APIC_FAST_NO: nothing
     * done (the full path handles the exit). May be NULL. */
    int (*apic_fast)(struct vcpu *v, uint32_t msr, uint64_t val, bool can_take, int *vector,
                     uint64_t *deadline);
    /* Virtual-interrupt delivery (vcpu/apicv.c; may be NULL): the vLAPIC's
     * IRR, ISR, TMR and TPR for the backend, false when its mode does not
     * allow it (not x2APIC). */
    bool (*apicv_export)(struct vcpu *v, struct hvm_apicv_state *s);
    /* apic_fast for a vCPU with virtual-interrupt delivery (msr 0x6e0,
     * 0x80b or 0 as there): `seen` (may be NULL) applied first as apicv_import does, the
     * write, then the vLAPIC's state into *s for the backend
     * (APIC_FAST_APICV) instead of an interrupt chosen; or APIC_FAST_NO /
     * APIC_FAST_FULL as apic_fast. May be NULL. */
    int (*apicv_fast)(struct vcpu *v, uint32_t msr, uint64_t val, uint64_t *deadline,
                      const struct hvm_apicv_delta *seen, struct hvm_apicv_state *s);
    /* What the CPU did with it: vectors delivered (IRR -> ISR) and vectors
     * whose EOI it virtualized (ISR cleared; a level-triggered one also
     * reaches the vIOAPIC). */
    void (*apicv_import)(struct vcpu *v, const struct hvm_apicv_delta *d);
};

enum apic_fast_result {
    APIC_FAST_NO,
    APIC_FAST_NONE,
    APIC_FAST_INJECT,
    APIC_FAST_WINDOW,
    APIC_FAST_FULL,
    APIC_FAST_APICV, /* the vLAPIC state is in *apicv for the backend */
};

#define VM_MAX_UARTS   2
#define VM_MAX_MODULES 8  /* `modules = [...]` of a multiboot VM */
#define VM_MODULE_STR  64 /* each module's string, with its NUL */
#define VM_MAX_IOPORTS 8
#define VM_MAX_PCI     8

struct vm_config {
    char name[VM_NAME_MAX];
    char kernel[64]; /* module names */
    char initrd[64];
    char cmdline[VM_CMDLINE_MAX];
    /* Multiboot modules after the initrd: a boot module's name and the
     * string the guest sees with it (the name unless one is given). */
    unsigned nr_modules;
    struct {
        char name[64];
        char string[VM_MODULE_STR];
    } modules[VM_MAX_MODULES];
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
    bool realtime;         /* `realtime = true`: docs/realtime.md */
};

/* A VM whose RAM above 1 MiB sits at guest-physical == host-physical
 * addresses, so that its passed-through devices can DMA without an IOMMU:
 * `iommu = off-unsafe` with `pci` and a fixed `memory_base` (a Linux VM;
 * docs/passthrough.md). Its first MiB is the start of its block as usual;
 * guest-physical [1 MiB, memory_base + 1 MiB) is a hole. 0: not such a VM. */
/* Whether the VM gets the emulated PC: all but `platform = none`. */
static inline bool vm_has_platform(const struct vm_config *c)
{
    return c->platform != PLATFORM_NONE;
}

static inline uint64_t vm_identity_base(const struct vm_config *c)
{
    return c->iommu_off_unsafe && c->nr_pci && c->mem_base ? c->mem_base : 0;
}

struct vm {
    unsigned id;     /* its slot in vms[]: reused after vm_remove */
    uint64_t serial; /* 1, 2, ... in creation order: never reused */
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
    struct vuart *uarts; /* VM_MAX_UARTS of them, allocated with the VM (vm/vm.c) */
    unsigned nr_uarts;
    /* Hypercall console output: bytes for uarts[0] (set by vm/vm.c). */
    void (*console_put)(struct vm *vm, const char *bytes, unsigned len);

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
    struct vm_platform *platform;               /* PC devices, when the VM has them */
    const struct vm_platform_ops *platform_ops; /* set with platform */
    struct vpt *pt;                             /* passed-through PCI devices (vdev/vpci_pt.h) */
    uint64_t acpi_rsdp_gpa;
    uint8_t ioapic_id;
    /* Set by the device model (ACPI power button) when the VM has one. */
    void (*power_button)(struct vm *vm);
};

/* From inside an exit handler: stop this VM (the current vCPU returns to
 * the scheduler and the teardown completes there). */
void vm_crash(struct vcpu *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Stops every vCPU (by IPI where needed); the console CPU scrubs and frees
 * memory afterwards. The state becomes `final` (shut off or crashed) with
 * the reason given. */
void vm_stop(struct vm *vm, enum vm_state final, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void vm_request_stop(struct vm *vm, enum vm_state final, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Stops the VM to start it again (see enum vm_restart_kind); false when it
 * was not running or paused (another stop won). */
bool vm_request_reset(struct vm *vm, enum vm_restart_kind kind, const char *reason);
/* Where lifecycle lines go (vm/vm_output.c's vm_output_event, set at the
 * first vm_create). */
extern void (*vm_event_output)(const char *line);

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
/* Asserts that every EPT leaf points into this VM's own RAM block, or into
 * host memory also_own (may be NULL) says is the VM's (the BARs of its
 * passed-through devices: the VM layer knows them, this layer does not);
 * returns the number of leaves checked or -1 (and logs) on a violation. */
long vm_check_isolation(struct vm *vm,
                        bool (*also_own)(const struct vm *vm, uint64_t hpa, uint64_t size));

/* A rate-limited log line for absent-hardware accesses. */
void vm_log_violation(struct vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#endif
