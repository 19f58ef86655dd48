/* Building a vCPU's VMCB, its I/O and MSR permission maps and its ASID.
 * Everything here is a pure function over memory the caller provides, so
 * the same code runs in the kernel and in host unit tests
 * (tests/unit/test_svm_vmcb.c). The interception policy is the VMX
 * backend's (vmx/vmcs_init.c); docs/svm.md lists it side by side. */
#ifndef SVM_SVM_VMCB_H
#define SVM_SVM_VMCB_H

#include <stdbool.h>
#include <stdint.h>

#include "svm/vmcb.h"

#define SVM_IOPM_SIZE  0x3000 /* 12 KiB: one bit per port, plus accesses past 0xffff */
#define SVM_MSRPM_SIZE 0x2000 /* 8 KiB: two bits (read, write) per MSR, three ranges */

/* The boot states of vmx/vmcs_init.c (enum vcpu_entry_mode). */
enum svm_boot_mode {
    SVM_BOOT_REAL,           /* CS:IP from rip (segment = rip >> 4 & 0xf000) */
    SVM_BOOT_PROTECTED_FLAT, /* 32-bit flat, paging off */
    SVM_BOOT_LONG,           /* 64-bit, paging on with cr3 */
};

struct svm_vmcb_params {
    enum svm_boot_mode mode;
    uint64_t rip, rsp, rax;
    uint64_t cr3;      /* long mode: guest-physical PML4 */
    uint64_t gdt_base; /* a GDT the loader placed in guest RAM */
    uint16_t gdt_limit;
    uint16_t cs_sel, ds_sel; /* flat selectors; 0 = 0x08 and 0x10 */
    uint64_t iopm_pa, msrpm_pa;
    uint64_t ncr3; /* nested page tables (ept/ in NPT format) */
    uint64_t tsc_offset;
    uint32_t asid;
    bool cr8_exiting; /* the TPR lives in a vLAPIC: every CR8 access exits */
    /* PAUSE filter (APM 15.14.4): 0 = PAUSE does not exit; else PAUSE
     * exits after this many PAUSEs, each at most pause_filter_thresh cycles
     * after the last (0: no threshold, the CPU lacks it). */
    uint16_t pause_filter_count, pause_filter_thresh;
};

/* Fills the whole VMCB (zeroed first): intercepts, nested paging, and the
 * guest state of p->mode. */
void svm_vmcb_init(struct vmcb *v, const struct svm_vmcb_params *p);

/* --- I/O permission map (APM 15.10.1) ------------------------------------ */
struct svm_port_range {
    uint16_t base;
    uint32_t count;
};
/* Every port intercepted except the ranges given (the VM's `ioports`). */
void svm_iopm_build(uint8_t iopm[SVM_IOPM_SIZE], const struct svm_port_range *pass, unsigned n);
/* Whether an access of size bytes (1, 2 or 4) at port exits: the CPU checks
 * the bit of every port the access touches. */
bool svm_iopm_intercepts(const uint8_t iopm[SVM_IOPM_SIZE], uint32_t port, unsigned size);

/* --- MSR permission map (APM 15.11) --------------------------------------- */
/* Byte offset of msr's two bits, or -1 for an MSR outside the three mapped
 * ranges (0-0x1fff, 0xc0000000-0xc0001fff, 0xc0010000-0xc0011fff), which
 * always exits. */
long svm_msrpm_offset(uint32_t msr);
/* 0, or -1 for an MSR the map cannot describe. */
int svm_msrpm_set(uint8_t msrpm[SVM_MSRPM_SIZE], uint32_t msr, bool intercept_read,
                  bool intercept_write);
bool svm_msrpm_intercepts(const uint8_t msrpm[SVM_MSRPM_SIZE], uint32_t msr, bool write);
/* The VMX backend's policy: every MSR exits except those the VMCB or the
 * vCPU switch keeps per guest; TSC reads pass (offset by hardware). */
void svm_msrpm_build(uint8_t msrpm[SVM_MSRPM_SIZE]);

/* --- ASIDs (APM 15.16) ---------------------------------------------------- */
/* Each CPU hands out ASIDs 1 .. nr_asids-1 in generations; when they run
 * out, a new generation starts and the whole TLB is flushed once, since
 * ASIDs of the old generation are then reused. */
struct svm_asid_pool {
    uint32_t nr_asids; /* CPUID 0x8000000A EBX */
    uint32_t next;     /* 0: never used (first assignment flushes) */
    uint32_t generation;
};
struct svm_vcpu_asid {
    uint32_t asid;
    uint32_t generation;
    int cpu; /* -1: never ran */
};
/* Chooses the ASID a vCPU runs with on this CPU and returns the
 * TLB_CONTROL value for the VMRUN. flush: the vCPU's translations must go
 * (its nested page tables lost a mapping); without FlushByAsid that is done
 * by moving to a fresh ASID. */
uint8_t svm_asid_assign(struct svm_asid_pool *pool, struct svm_vcpu_asid *va, int cpu, bool flush,
                        bool flush_by_asid);

#endif
