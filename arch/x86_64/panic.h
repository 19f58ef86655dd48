/* Machine-wide panic: one report, other CPUs stopped by NMI, then the
 * `panic=halt|reboot|poweroff` policy. */
#ifndef ARCH_X86_64_PANIC_H
#define ARCH_X86_64_PANIC_H

#include <stdbool.h>

#include "arch/x86_64/irq.h"

/* `bulkhead: poweroff 3` marks a panic for test harnesses. */
#define PANIC_EXIT_CODE 3

enum panic_policy { PANIC_HALT, PANIC_REBOOT, PANIC_POWEROFF };

void panic_set_policy(enum panic_policy p);
enum panic_policy panic_get_policy(void);
bool panic_in_progress(void);
__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);
__attribute__((noreturn)) void panic_exception(struct irq_frame *f);
/* NMI path: a CPU told to stop by a panic parks here. */
void panic_nmi_check(void);

/* Filled in by higher layers (SMP, power) once they exist. */
extern void (*panic_stop_others_hook)(void);
extern void (*panic_poweroff_hook)(int code);
extern void (*panic_reboot_hook)(void);

#endif
