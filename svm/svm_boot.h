/* SVM at boot: detection and a self-test of the backend on the boot CPU,
 * until the backend is plugged into the vendor-neutral vCPU layer
 * (hvm/backend.h; docs/svm.md "What remains"). */
#ifndef SVM_SVM_BOOT_H
#define SVM_SVM_BOOT_H

/* Probes SVM (svm_caps), logs `svm: npt, ...` or `svm: unavailable
 * (<reason>)` when the CPU is an AMD one, and when SVM is usable runs a
 * tiny guest through the world switch once (svm_selftest). */
void svm_boot_init(void);

/* Runs a five-instruction guest under nested paging on this CPU and checks
 * each exit (CPUID, VMMCALL with the guest's registers, IOIO through the
 * IOPM, NPF for an unmapped page, HLT), then a VMRUN that must fail
 * (ASID 0) and svm_check_vmcb's name for it. Leaves SVM off again.
 * 0 when everything was as expected; -1 with a log line naming the step. */
int svm_selftest(void);

#endif
