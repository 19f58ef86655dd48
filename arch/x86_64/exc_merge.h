/* What the CPU does when an exception arises while it delivers another
 * (Intel SDM Vol. 3A, 6.15, Table 6-5 "Conditions for Generating a Double
 * Fault"): exceptions fall into benign, contributory and page-fault
 * classes; only some pairs make a #DF, and a fault while delivering #DF
 * shuts the processor down (a triple fault). Pure: used by the hypervisor
 * for the events it injects. */
#ifndef ARCH_X86_64_EXC_MERGE_H
#define ARCH_X86_64_EXC_MERGE_H

#include <stdbool.h>
#include <stdint.h>

enum exc_class {
    EXC_CLASS_BENIGN, /* #DB, NMI, #BP, #OF, #BR, #UD, #NM, #MF, #AC, #MC, #XM, ..., interrupts */
    EXC_CLASS_CONTRIBUTORY, /* #DE, #TS, #NP, #SS, #GP */
    EXC_CLASS_PAGE_FAULT,   /* #PF (and #VE, which the SDM puts with it) */
    EXC_CLASS_DOUBLE_FAULT, /* #DF */
};

enum exc_merge {
    EXC_MERGE_SECOND,       /* deliver the second; the first is dropped (handled serially) */
    EXC_MERGE_DOUBLE_FAULT, /* deliver #DF(0) instead */
    EXC_MERGE_TRIPLE_FAULT, /* shutdown: the VM is stopped */
};

enum exc_class x86_exception_class(uint8_t vector);
/* `first` was being delivered (or is queued) when `second` arose. */
enum exc_merge x86_merge_exceptions(uint8_t first, uint8_t second);

#endif
