/* Virtual interrupt plumbing of one VM (its virtual platform).
 *
 *   device models --(GSI level/edge)--> vioapic (24 pins) --> vlapic of a vCPU
 *                             \--(ISA IRQ 0-15)--> vpic (8259 pair) --> ExtINT
 *
 * Device models never touch VMX: they change line levels; the vLAPIC keeps
 * IRR/ISR; at every VM entry the backend asks for the highest deliverable
 * vector and acknowledges it once injected. Time: models expose their next
 * deadline (in host TSC) and are ticked before each entry and when a
 * blocked vCPU's CPU wakes, so missed periodic ticks coalesce naturally.
 * All of it is pure logic over small structs, unit-tested on the host with a
 * fake clock. */
#ifndef VDEV_VIRQ_H
#define VDEV_VIRQ_H

#include <stdbool.h>
#include <stdint.h>

#define VIRQ_NR_GSIS 24
#define VTIME_NEVER  UINT64_MAX

struct vm;
struct vcpu;

/* Set by guest/virq.c for a VM: route a line change to the vIOAPIC pin and,
 * for GSIs 0-15 (IRQ 0 arrives at vIOAPIC pin 2, per the MADT override),
 * to the vPIC. */
void vm_irq_set_level(struct vm *vm, unsigned gsi, bool high);
void vm_irq_pulse(struct vm *vm, unsigned gsi);

/* Asked by the backend before each entry: the vector to inject now, or -1.
 * ExtINT from the vPIC counts when the vLAPIC's LINT0 is in ExtINT mode (or
 * the vLAPIC is globally disabled). */
int vcpu_pending_interrupt(struct vcpu *v);
/* A halted vCPU has something to wake for (an interrupt or NMI it can
 * take, or, in wait-for-SIPI, a latched SIPI). Takes nothing. */
bool vcpu_wakeup_pending(struct vcpu *v);
/* Injecting `pending` now: IRR -> ISR (or the vPIC acknowledge, which
 * yields the vector). Returns the vector to inject. */
int vcpu_ack_interrupt(struct vcpu *v, int pending);
/* Something for this vCPU may have become pending (wake it if halted). */
void vcpu_interrupt_notify(struct vcpu *v);

/* Before each entry and on wake-up: run every expired device timer of the
 * VM, return the earliest next deadline (host TSC) or VTIME_NEVER. */
uint64_t vm_timers_tick(struct vm *vm, uint64_t now_tsc);

/* Callbacks the device models are given (guest/platform.c). */
void virq_ioapic_deliver(void *ctx, uint32_t dest, bool logical, unsigned mode, uint8_t vector,
                         bool level);
void virq_send_ipi(void *ctx, uint32_t dest, bool logical, unsigned shorthand, unsigned mode,
                   uint8_t vector, bool level);
void virq_eoi_level(void *ctx, uint8_t vector);
void virq_notify(void *ctx);

#endif
