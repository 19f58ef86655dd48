/* Application processor start-up (INIT-SIPI-SIPI) and the AP idle loop. */
#ifndef ARCH_X86_64_SMP_H
#define ARCH_X86_64_SMP_H

/* Starts every enabled MADT CPU other than the BSP, one at a time; an AP
 * that does not report in within 100 ms is logged, re-INITed and skipped.
 * Sets nr_cpus to the CPUs online. Needs the LAPIC, the TSC calibration
 * and the page allocator. */
void smp_start_aps(void);

/* Called by each AP's idle loop with interrupts off, before `sti; hlt`;
 * the scheduler sets it to take the CPU over. */
extern void (*ap_idle_hook)(void);

#endif
