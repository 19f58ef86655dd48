/* Inter-processor calls, reschedule kicks, the panic NMI stop and the
 * handler for other NMIs. */
#ifndef ARCH_X86_64_IPI_H
#define ARCH_X86_64_IPI_H

#include <stdbool.h>
#include <stdint.h>

/* Registers the IPI vectors, nmi_hook and panic_stop_others_hook. After
 * the LAPIC is up. */
void ipi_init(void);

/* Runs fn(arg) on `cpu` in interrupt context (directly if it is us). The
 * call is always handed over with a bounded wait; with `wait` we also wait
 * (bounded, 100 ms) for fn to return. 0, or -1 (logged) when the CPU is
 * not online or did not respond in time (fn then did not run, or, with
 * wait, had not finished). */
int ipi_call(unsigned cpu, void (*fn)(void *), void *arg, bool wait);
/* Runs the call waiting for this CPU, if any: for a CPU that spins with
 * interrupts off while others may call it. */
void ipi_poll(void);
/* ipi_call on every other online CPU; -1 if any of them failed. */
int ipi_call_all_others(void (*fn)(void *), void *arg, bool wait);
/* The way down (power-off, reboot): every other online CPU runs `leave`
 * (e.g. leaving VMX or SVM operation) and halts for good, since returning
 * to its scheduler would run guests again; then the calling CPU runs
 * `leave` too. The wait is bounded: a CPU that does not answer must not
 * stop the power-off. */
void ipi_park_all_others(void (*leave)(void));
/* Kicks `cpu` out of hlt (or a guest) to look at its run queue. */
void ipi_resched(unsigned cpu);
/* Also an NMI, which every VM exits on: for a guest that runs alone on
 * `cpu` with RFLAGS.IF=0, to which Bochs 2.7 gives no external-interrupt
 * exit (see ipi.c). The NMI handler counts it as ours, not unexpected. */
void ipi_resched_nmi(unsigned cpu);
/* Called on VEC_IPI_RESCHED; set by the scheduler. */
extern void (*ipi_resched_hook)(void);

/* NMIs that were not a panic stop, per CPU. */
uint64_t ipi_nmi_count(unsigned cpu);

#endif
