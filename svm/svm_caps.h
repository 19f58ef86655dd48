/* SVM capabilities: decoded once from CPUID and the VM_CR MSR (AMD64 APM
 * vol. 2, 15.4 "Enabling SVM" and CPUID Fn8000_000A) into one structure.
 * The decoding is a pure function over the raw values, so every firmware
 * and CPU combination is unit-tested (tests/unit/test_svm_caps.c). */
#ifndef SVM_SVM_CAPS_H
#define SVM_SVM_CAPS_H

#include <stdbool.h>
#include <stdint.h>

#define MSR_VM_CR       0xc0010114
#define MSR_VM_HSAVE_PA 0xc0010117
#define VM_CR_DPD       (1ULL << 0)
#define VM_CR_R_INIT    (1ULL << 1)
#define VM_CR_DIS_A20M  (1ULL << 2)
#define VM_CR_LOCK      (1ULL << 3)
#define VM_CR_SVMDIS    (1ULL << 4)
#define EFER_SVME       (1ULL << 12)

#define CPUID_80000001_ECX_SVM (1U << 2)

/* CPUID Fn8000_000A EDX. */
#define SVM_FEAT_NP             (1U << 0)
#define SVM_FEAT_LBRV           (1U << 1)
#define SVM_FEAT_SVML           (1U << 2)
#define SVM_FEAT_NRIPS          (1U << 3)
#define SVM_FEAT_TSC_RATE       (1U << 4)
#define SVM_FEAT_VMCB_CLEAN     (1U << 5)
#define SVM_FEAT_FLUSH_BY_ASID  (1U << 6)
#define SVM_FEAT_DECODE_ASSISTS (1U << 7)
#define SVM_FEAT_PAUSE_FILTER   (1U << 10)
#define SVM_FEAT_PAUSE_THRESH   (1U << 12)
#define SVM_FEAT_AVIC           (1U << 13)
#define SVM_FEAT_VMSAVE_VIRT    (1U << 15)
#define SVM_FEAT_VGIF           (1U << 16)
#define SVM_FEAT_GMET           (1U << 17)
#define SVM_FEAT_X2AVIC         (1U << 18)
#define SVM_FEAT_SPEC_CTRL      (1U << 20)
#define SVM_FEAT_VNMI           (1U << 25)

/* The raw inputs, as read from the CPU. */
struct svm_cpuid_in {
    uint32_t max_ext_leaf; /* CPUID 0x80000000 EAX */
    uint32_t ext1_ecx;     /* CPUID 0x80000001 ECX */
    uint32_t leaf_a_eax;   /* CPUID 0x8000000A: revision */
    uint32_t leaf_a_ebx;   /* number of ASIDs */
    uint32_t leaf_a_edx;   /* feature bits */
    bool vm_cr_readable;
    uint64_t vm_cr;
};

struct svm_caps {
    bool available;
    char reason[64]; /* why not, when !available */
    uint32_t revision;
    uint32_t nr_asids;    /* ASIDs 1 .. nr_asids-1 are usable by guests */
    uint32_t features;    /* SVM_FEAT_* */
    bool svmdis_to_clear; /* VM_CR.SVMDIS set but not locked: enabling clears it */
    bool np, nrips, decode_assists, vmcb_clean, flush_by_asid, tsc_rate, lbr_virt, pause_filter,
        avic, vgif, vnmi;
};

extern struct svm_caps svm_caps;

/* Fills c from in; c->available false with c->reason set when SVM cannot be
 * used: "no SVM in CPUID", "disabled by firmware (VM_CR.SVMDIS with LOCK)",
 * "no nested paging", ... */
void svm_caps_decode(struct svm_caps *c, const struct svm_cpuid_in *in);

/* "svm: npt, nrips, decode-assists, ..." or "svm: unavailable (<reason>)". */
void svm_caps_banner(const struct svm_caps *c, char *buf, unsigned len);

/* Reads CPUID and VM_CR on this CPU into svm_caps (kernel only). */
void svm_caps_probe(void);

#endif
