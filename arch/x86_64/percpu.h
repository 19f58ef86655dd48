/* Per-CPU data, reached through GS_BASE (gs:0 holds the self pointer). */
#ifndef ARCH_X86_64_PERCPU_H
#define ARCH_X86_64_PERCPU_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86_64/gdt.h"

#define MAX_CPUS       64
#define CPU_STACK_SIZE (32 * 1024)
#define IST_STACK_SIZE (8 * 1024)

enum { IST_DF = 1, IST_NMI = 2, IST_MC = 3 };

struct percpu {
    struct percpu *self; /* must stay first: this_cpu() reads gs:0 */
    unsigned cpu_id;     /* dense index, 0 = boot CPU */
    uint32_t apic_id;
    uint64_t stack_base; /* lowest usable byte of the main stack */
    uint64_t stack_top;
    uint64_t ist_base[4]; /* [IST_*]: lowest byte of each IST stack */
    volatile bool online;
    volatile bool halted_by_panic;
    uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(16)));
    struct tss64 tss __attribute__((aligned(16)));
    void *timer;            /* arch/x86_64/timer.c */
    void *vcpu_state;       /* vmx/: this CPU's VMXON region and current VMCS */
    void *sched;            /* core scheduler run queue */
    volatile uint64_t irqs; /* interrupts handled: idle loops look for news here */
    /* The longest a guest may run here between two exits (TSC ticks; 0: no
     * bound). The console CPU sets it below the time its UART's receive FIFO
     * takes to fill: a CPU that does not turn a host interrupt into a VM
     * exit while the guest has RFLAGS.IF=0 (Bochs 2.7) must still let the
     * receive interrupt in before bytes are lost. */
    uint64_t guest_run_max_tsc;
};

extern struct percpu *cpus[MAX_CPUS];
extern unsigned nr_cpus; /* CPUs brought online */

static inline struct percpu *this_cpu(void)
{
    struct percpu *p;
    __asm__ volatile("mov %%gs:0, %0" : "=r"(p));
    return p;
}

static inline unsigned this_cpu_id(void)
{
    return this_cpu()->cpu_id;
}

/* Sets up GDT, TSS (with IST stacks) and GS_BASE for the calling CPU. */
void percpu_init_cpu(struct percpu *pc);
/* Allocates and fills a percpu block with stacks (guard page under each). */
struct percpu *percpu_alloc(unsigned cpu_id, uint32_t apic_id);
/* The boot CPU's block, usable before the allocator exists. */
struct percpu *percpu_boot_cpu(void);
/* Unmaps the guard pages under the boot CPU's IST stacks (after paging_init). */
void percpu_guard_boot_stacks(void);

#endif
