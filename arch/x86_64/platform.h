/* Interrupt and timing bring-up for kernel_main, in this order:
 *   platform_init_interrupts();  BSP: 8259 off, LAPIC, IOAPICs, IPIs,
 *                                TSC calibration, per-CPU timers
 *   platform_start_aps();        SMP: every enabled MADT CPU online */
#ifndef ARCH_X86_64_PLATFORM_H
#define ARCH_X86_64_PLATFORM_H

#include "arch/x86_64/ioapic.h" /* ioapic_route_isa_irq */
#include "arch/x86_64/ipi.h"
#include "arch/x86_64/smp.h"
#include "arch/x86_64/timer.h"
#include "arch/x86_64/tsc.h" /* tsc_khz, tsc_calibration_source */

/* Needs the IDT, this CPU's percpu (GS), paging and the ACPI tables. */
void platform_init_interrupts(void);
/* Needs the page allocator too. Sets nr_cpus. */
void platform_start_aps(void);

#endif
