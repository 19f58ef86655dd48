/* The virtual local APIC of one vCPU (SDM Vol. 3A ch. 10/11): xAPIC MMIO
 * page and x2APIC MSRs, IRR/ISR/TMR, TPR/PPR, EOI, IPIs, LINT pins and the
 * timer in one-shot, periodic and TSC-deadline modes. Pure state machine:
 * time comes from ops->now(), everything leaving the APIC goes through
 * ops callbacks. The integrator serialises all calls on one vlapic;
 * callbacks are made once the state is consistent, so one may call back
 * into this vlapic (e.g. a vIOAPIC re-delivery from eoi_level) if the
 * integrator's locking allows it.
 *
 * Timer clock: the virtual APIC bus runs at the TSC frequency, one bus
 * clock per host TSC tick (before the divide configuration). Report it to
 * the guest as bus kHz = tsc_khz (CPUID 0x40000010 EBX) and as a core
 * crystal of tsc_khz with ratio 1/1 in CPUID 0x15 (Linux derives its
 * lapic_timer_period from the crystal). */
#ifndef VDEV_VLAPIC_H
#define VDEV_VLAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "vdev/virq.h"

#define VLAPIC_VERSION      0x50014u /* integrated APIC 0x14, 6 LVT entries (max LVT 5) */
#define VLAPIC_DEFAULT_BASE 0xFEE00000ull

#define VLAPIC_BASE_BSP  (1ull << 8)
#define VLAPIC_BASE_EXTD (1ull << 10) /* x2APIC mode */
#define VLAPIC_BASE_EN   (1ull << 11) /* global enable */

#define X2APIC_MSR_FIRST 0x800u
#define X2APIC_MSR_LAST  0x8FFu

/* ICR / LVT delivery modes (bits 8-10). */
#define VLAPIC_DM_FIXED   0u
#define VLAPIC_DM_LOWEST  1u
#define VLAPIC_DM_SMI     2u
#define VLAPIC_DM_NMI     4u
#define VLAPIC_DM_INIT    5u
#define VLAPIC_DM_STARTUP 6u
#define VLAPIC_DM_EXTINT  7u

/* ICR destination shorthands (bits 18-19). */
#define VLAPIC_SH_NONE    0u
#define VLAPIC_SH_SELF    1u
#define VLAPIC_SH_ALL     2u /* all including self */
#define VLAPIC_SH_ALL_BUT 3u /* all excluding self */

enum vlapic_lvt {
    VLAPIC_LVT_TIMER,
    VLAPIC_LVT_THERMAL,
    VLAPIC_LVT_PERF,
    VLAPIC_LVT_LINT0,
    VLAPIC_LVT_LINT1,
    VLAPIC_LVT_ERROR,
    VLAPIC_NR_LVT
};

struct vlapic_ops {
    void *ctx;
    uint64_t (*now)(void *ctx); /* host TSC */
    uint64_t tsc_khz;           /* bounds periodic timers (0: no bound) */
    bool tsc_deadline;          /* CPUID.1:ECX.TSC_DEADLINE shown: LVT timer mode 2 exists */
    uint8_t phys_addr_bits;     /* MAXPHYADDR for IA32_APIC_BASE checks; 0 means 52 */
    /* An IPI for the other vCPUs of the VM. dest is the ICR destination
     * field (8 bits in xAPIC mode, 32 in x2APIC mode); the integrator
     * delivers to every vCPU the destination or shorthand selects EXCEPT
     * the sender: the sender's own part (shorthand self, all-including-
     * self, or a destination it matches) was already handled locally.
     * For lowest priority it picks one target (never called when the
     * sender itself matched: it took the interrupt). */
    void (*send_ipi)(void *ctx, uint32_t dest, bool dest_logical, unsigned shorthand,
                     unsigned delivery_mode, uint8_t vector, bool level_trig);
    /* EOI of a level-triggered vector: broadcast to the vIOAPIC. */
    void (*eoi_level)(void *ctx, uint8_t vector);
    /* Something became pending (IRR, NMI, INIT, SIPI): wake/kick the vCPU. */
    void (*notify)(void *ctx);
};

struct vlapic {
    struct vlapic_ops ops; /* a copy */
    uint32_t id;           /* x2APIC ID; the xAPIC ID is its low byte */
    bool bsp;
    uint64_t apic_base;  /* IA32_APIC_BASE */
    uint64_t tsc_offset; /* guest TSC = host TSC + tsc_offset */

    uint32_t tpr, ldr, dfr, svr;
    uint32_t esr;         /* what reads return: latched by the last ESR write */
    uint32_t esr_pending; /* errors since then */
    uint32_t icr_lo, icr_hi;
    uint32_t lvt[VLAPIC_NR_LVT];
    uint32_t irr[8], isr[8], tmr[8]; /* 256 bits each, word i = vectors 32i.. */

    /* Timer. One-shot/periodic: timer_period host ticks per full count
     * (initial count * divisor). All modes: timer_deadline is the host TSC
     * of the next expiry, VTIME_NEVER when disarmed. */
    uint32_t timer_initial, dcr;
    uint64_t timer_period;
    uint64_t timer_deadline;
    uint64_t tsc_deadline; /* IA32_TSC_DEADLINE as the guest wrote it (guest TSC) */

    /* Events for the integrator. */
    bool nmi_pending;
    /* Start-up state (vlapic_take_startup): wait_sipi from an INIT (or
     * power-up, for an AP) until the vCPU takes the SIPI latched meanwhile. */
    bool wait_sipi;
    /* An INIT reached the BSP: the VM restarts (vlapic_take_startup). */
    bool init_reset;
    bool sipi_latched;
    uint8_t sipi_vector;
    uint64_t inits; /* INITs received, for statistics and tests */

    uint64_t ignored_accesses; /* odd-width writes, writes to read-only registers */
    /* Virtual-interrupt delivery (vlapic_apicv_export/import): vectors
     * accepted while already in the IRR since the last export, and the
     * reset count at that export. */
    uint32_t irr_again[8];
    uint64_t apicv_resets;
    uint64_t resets; /* vlapic_reset calls */
};

/* Power-up state: xAPIC mode enabled at 0xFEE00000; an AP (!bsp) waits
 * for its SIPI. */
void vlapic_init(struct vlapic *a, uint32_t apic_id, bool bsp, const struct vlapic_ops *ops);
/* INIT: registers to their reset values; ID, IA32_APIC_BASE and the mode
 * are kept (an INIT leaves x2APIC mode and the disabled state alone). */
void vlapic_reset(struct vlapic *a);
void vlapic_set_tsc_offset(struct vlapic *a, uint64_t tsc_offset);

/* xAPIC page: offset 0-0xFFF, 1/2/4/8-byte accesses. Reads of any width
 * return the bytes of the registers covered; only aligned dword writes to
 * a register take effect. In x2APIC mode or when globally disabled the
 * page reads all-ones and ignores writes. False only for an offset past
 * the page or a size other than 1/2/4/8. */
bool vlapic_mmio_read(struct vlapic *a, uint32_t offset, unsigned size, uint64_t *val);
bool vlapic_mmio_write(struct vlapic *a, uint32_t offset, unsigned size, uint64_t val);
/* x2APIC MSRs 0x800-0x8FF; false means #GP. */
bool vlapic_msr_read(struct vlapic *a, uint32_t msr, uint64_t *val);
bool vlapic_msr_write(struct vlapic *a, uint32_t msr, uint64_t val);

/* IA32_APIC_BASE (0x1B); false means #GP. Disabling resets the APIC, so
 * re-enabling starts from the reset state. */
uint64_t vlapic_get_apic_base(const struct vlapic *a);
bool vlapic_set_apic_base(struct vlapic *a, uint64_t val);
bool vlapic_x2apic_mode(const struct vlapic *a);
bool vlapic_hw_enabled(const struct vlapic *a);

/* IA32_TSC_DEADLINE (0x6E0): reads 0 and ignores writes unless the LVT
 * timer is in TSC-deadline mode; 0 disarms; cleared when it fires. */
uint64_t vlapic_get_tsc_deadline(const struct vlapic *a);
void vlapic_set_tsc_deadline(struct vlapic *a, uint64_t guest_tsc);

/* CR8 is TPR[7:4]. */
uint64_t vlapic_get_cr8(const struct vlapic *a);
void vlapic_set_cr8(struct vlapic *a, uint64_t cr8);

/* Interrupt acceptance (IOAPIC, IPIs, LINT pins, timer). */
void vlapic_deliver(struct vlapic *a, uint8_t vector, bool level_trig);
void vlapic_deliver_nmi(struct vlapic *a);
/* INIT-SIPI (SDM Vol. 3A 9.4 and 10.4.7.3). An AP powers up waiting for a
 * SIPI; an INIT, also to a running vCPU, resets the APIC, drops a pending
 * NMI and puts it back in that state. While waiting, the first SIPI is
 * latched with its vector and later ones are ignored; NMIs are held
 * pending and fixed interrupts dropped (the reset APIC is software
 * disabled). INIT and SIPI back to back, before the vCPU looked, start it
 * just the same: the vCPU acts on the state, not on each signal.
 * The BSP does not wait for a SIPI after an INIT (SIPIs to it are
 * ignored): on a PC it restarts at the reset vector, in firmware, which a
 * VM does not have; the vCPU is told to reset the whole VM instead
 * (VLAPIC_STARTUP_RESET). */
void vlapic_init_signal(struct vlapic *a);
void vlapic_sipi(struct vlapic *a, uint8_t vector);
bool vlapic_waiting_sipi(const struct vlapic *a);
enum vlapic_startup {
    VLAPIC_STARTUP_RUN,   /* not waiting: the vCPU runs its code */
    VLAPIC_STARTUP_WAIT,  /* waiting for a SIPI: the vCPU must not run */
    VLAPIC_STARTUP_SIPI,  /* SIPI taken: start in real mode at *vector << 12 */
    VLAPIC_STARTUP_RESET, /* the BSP got an INIT: the VM restarts */
};
/* What the vCPU does before its next entry; taking the SIPI ends the wait. */
enum vlapic_startup vlapic_take_startup(struct vlapic *a, uint8_t *vector);
/* A halted or waiting vCPU must wake: a latched SIPI while waiting for
 * one; otherwise an NMI or an interrupt above the PPR. */
bool vlapic_wakeup_pending(const struct vlapic *a);
/* A LINT pin fired (pin 0 or 1): fixed or NMI per its LVT entry. ExtINT
 * is the vPIC's business (vlapic_lint0_extint); masked pins do nothing. */
void vlapic_lint_pulse(struct vlapic *a, unsigned pin);
/* The vPIC drives INTR: LINT0 unmasked in ExtINT mode, or the APIC
 * globally or software disabled. */
bool vlapic_lint0_extint(const struct vlapic *a);
/* The integrator's half of an IPI another vLAPIC sent (ops->send_ipi):
 * whether `target` is selected (a shorthand to all, or the destination;
 * a globally disabled APIC takes nothing), and the delivery to it by mode
 * (fixed and lowest priority, NMI, INIT, SIPI; SMI is not modelled). */
bool vlapic_ipi_selects(const struct vlapic *target, uint32_t dest, bool logical,
                        unsigned shorthand);
void vlapic_ipi_receive(struct vlapic *target, unsigned mode, uint8_t vector, bool level);
/* Physical: ID match or broadcast (0xFF xAPIC, 0xFFFFFFFF x2APIC).
 * Logical: flat/cluster per DFR in xAPIC, cluster in x2APIC. A globally
 * disabled APIC matches nothing. An 8-bit IOAPIC broadcast (0xFF) meant
 * for x2APIC-mode targets must be widened by the integrator. */
bool vlapic_match_dest(const struct vlapic *a, uint32_t dest, bool logical);

/* Injection at VM entry. */
int vlapic_pending_vector(const struct vlapic *a); /* -1: none */
void vlapic_ack(struct vlapic *a, uint8_t vector); /* IRR -> ISR */
bool vlapic_take_nmi(struct vlapic *a);
unsigned vlapic_ppr(const struct vlapic *a);

/* Virtual-interrupt delivery (vdev/vlapic_apicv.c): the state a CPU with
 * virtual-interrupt delivery works on (IRR only while the APIC is enabled,
 * ISR, TMR, TPR), and the steps it took since: vectors delivered (IRR ->
 * ISR) and EOIs it virtualized (ISR cleared; a level-triggered vector also
 * goes to ops->eoi_level). An import after an INIT or a reset since the
 * export is dropped (the reset state wins). A vector accepted again while
 * exported stays in the IRR even if the CPU delivered it meanwhile: one
 * interrupt too many, never one lost. `words`: bit i set when word i of
 * delivered/eoied holds anything (the others are not read). */
void vlapic_apicv_export(struct vlapic *a, uint32_t irr[8], uint32_t isr[8], uint32_t tmr[8],
                         uint8_t *tpr);
void vlapic_apicv_import(struct vlapic *a, unsigned words, const uint32_t delivered[8],
                         const uint32_t eoied[8]);
/* In xAPIC mode, after vlapic_apicv_import: the TPR the guest wrote (-1:
 * none) and the vectors the CPU raised itself (fixed self-IPIs written to
 * the ICR), which the vLAPIC accepts as edge-triggered. Dropped after a
 * reset, as vlapic_apicv_import. */
void vlapic_apicv_import_xapic(struct vlapic *a, unsigned words, const uint32_t raised[8], int tpr);

/* Time. */
uint64_t vlapic_next_deadline(const struct vlapic *a); /* host TSC or VTIME_NEVER */
void vlapic_tick(struct vlapic *a, uint64_t now);
/* The same for the integrator that runs this vLAPIC's vCPU now and looks
 * at its IRR itself: no ops->notify for the timer's interrupt. */
void vlapic_tick_running(struct vlapic *a, uint64_t now);

#endif
