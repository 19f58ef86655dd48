/* The world switch (svm/svm_entry.asm). */
#ifndef SVM_SVM_ENTRY_H
#define SVM_SVM_ENTRY_H

#include <stdint.h>

/* Runs the guest of the VMCB at vmcb_pa until the next #VMEXIT. gprs holds
 * the guest's RCX, RDX, RBX, RBP, RSI, RDI, R8-R15 in x86 encoding order
 * (slots 0 and 4, RAX and RSP, live in the VMCB). Returns the TSC read
 * right after the exit; the exit code is in the VMCB. Call with interrupts
 * disabled; they are disabled on return. host_interrupts nonzero: host
 * interrupts make the guest exit (VMEXIT_INTR) and are taken once the
 * caller enables interrupts; 0: they wait until then (the boot self-test).
 * GIF is cleared around the switch and set again before the return. */
uint64_t svm_enter(uint64_t *gprs, uint64_t vmcb_pa, uint64_t host_vmcb_pa, int host_interrupts);

#endif
