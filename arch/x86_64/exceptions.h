/* CPU exceptions: fixups for expected faults, a full report for the rest. */
#ifndef ARCH_X86_64_EXCEPTIONS_H
#define ARCH_X86_64_EXCEPTIONS_H

#include "arch/x86_64/irq.h"

void exception_handle(struct irq_frame *f);
const char *exception_name(unsigned vector);
/* Returns the fixup address for a faulting RIP, or 0. */
uint64_t exception_fixup_lookup(uint64_t rip);

#endif
