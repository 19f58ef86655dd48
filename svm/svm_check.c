/* The VMRUN consistency checks of APM vol. 2, 15.5.1, in the order the
 * APM lists them; see svm_check.h. */
#include "svm/svm_check.h"

#include <stddef.h>

#define CR0_PE    (1ULL << 0)
#define CR0_NW    (1ULL << 29)
#define CR0_CD    (1ULL << 30)
#define CR0_PG    (1ULL << 31)
#define CR4_PAE   (1ULL << 5)
#define EFER_LME  (1ULL << 8)
#define EFER_LMA  (1ULL << 10)
#define EFER_SVME (1ULL << 12)

/* SCE, LME, LMA, NXE, SVME, LMSLE, FFXSR, TCE, MCOMMIT, INTWB, UAIE,
 * AUTOIBRS. */
#define EFER_ARCH_VALID 0x36fd01ULL
/* VME..UMIP, LA57, FSGSBASE, PCIDE, OSXSAVE, SMEP, SMAP, PKE, CET (VMXE and
 * SMXE are Intel's and reserved here). */
#define CR4_ARCH_VALID 0xf71fffULL

#define RULE(broken, text)                                                                         \
    do {                                                                                           \
        if (broken)                                                                                \
            return "15.5.1: " text;                                                                \
    } while (0)

static bool event_inj_illegal(uint64_t inj)
{
    if (!(inj & SVM_EVTINJ_VALID))
        return false;
    uint32_t type = (uint32_t)inj & SVM_EVTINJ_TYPE_MASK;
    uint32_t vec = (uint32_t)inj & SVM_EVTINJ_VEC_MASK;
    if (type != SVM_EVTINJ_TYPE_INTR && type != SVM_EVTINJ_TYPE_NMI &&
        type != SVM_EVTINJ_TYPE_EXEPT && type != SVM_EVTINJ_TYPE_SOFT)
        return true; /* types 1, 5, 6, 7 are reserved */
    /* An exception must be a vector below 32 other than NMI's. */
    return type == SVM_EVTINJ_TYPE_EXEPT && (vec == 2 || vec > 31);
}

void svm_checked_state_save(const struct vmcb *v, struct svm_checked_state *out)
{
    const struct vmcb_save_area *s = &v->save;
    *out =
        (struct svm_checked_state){s->cr0, s->cr3, s->cr4, s->dr6, s->dr7, s->efer, s->cs.attrib};
}

void svm_vmcb_restore_checked(struct vmcb *v, const struct svm_checked_state *at_entry)
{
    struct vmcb_save_area *s = &v->save;
    s->cr0 = at_entry->cr0;
    s->cr3 = at_entry->cr3;
    s->cr4 = at_entry->cr4;
    s->dr6 = at_entry->dr6;
    s->dr7 = at_entry->dr7;
    s->efer = at_entry->efer;
    s->cs.attrib = at_entry->cs_attrib;
}

const char *svm_check_vmcb(const struct vmcb *v, const struct svm_check_limits *lim)
{
    const struct vmcb_save_area *s = &v->save;
    const struct vmcb_control_area *c = &v->control;
    unsigned pa_bits = lim->maxphyaddr >= 32 && lim->maxphyaddr <= 52 ? lim->maxphyaddr : 52;
    uint64_t efer_valid = lim->efer_valid ? lim->efer_valid : EFER_ARCH_VALID;
    uint64_t cr4_valid = lim->cr4_valid ? lim->cr4_valid : CR4_ARCH_VALID;
    bool lme_pg = (s->efer & EFER_LME) && (s->cr0 & CR0_PG);

    RULE(!(s->efer & EFER_SVME), "EFER.SVME is zero");
    RULE(!(s->cr0 & CR0_CD) && (s->cr0 & CR0_NW), "CR0.NW set without CR0.CD");
    RULE(s->cr0 >> 32, "CR0[63:32] not zero");
    /* With long mode active CR3 holds a physical address up to MAXPHYADDR;
     * in legacy modes bits 63:32 must be zero. */
    RULE(lme_pg ? (s->cr3 >> pa_bits) != 0 : (s->cr3 >> 32) != 0, "CR3 has an MBZ bit set");
    RULE(s->cr4 & ~cr4_valid, "CR4 has an MBZ bit set");
    RULE(s->dr6 >> 32, "DR6[63:32] not zero");
    RULE(s->dr7 >> 32, "DR7[63:32] not zero");
    RULE(s->efer & ~efer_valid, "EFER has an MBZ bit set");
    RULE((s->efer & (EFER_LME | EFER_LMA)) && !lim->long_mode,
         "EFER.LME or EFER.LMA set but the CPU has no long mode");
    RULE(lme_pg && !(s->cr4 & CR4_PAE), "EFER.LME and CR0.PG set with CR4.PAE zero");
    RULE(lme_pg && !(s->cr0 & CR0_PE), "EFER.LME and CR0.PG set with CR0.PE zero");
    RULE(lme_pg && (s->cr4 & CR4_PAE) && (s->cs.attrib & VMCB_ATTR_L) &&
             (s->cs.attrib & VMCB_ATTR_DB),
         "EFER.LME, CR0.PG, CR4.PAE, CS.L and CS.D all set");
    RULE(!(c->intercept_misc2 & SVM_INTERCEPT_VMRUN), "the VMRUN intercept bit is clear");
    RULE((c->intercept_misc1 & SVM_INTERCEPT_MSR_PROT) &&
             (c->msrpm_base_pa + 0x2000 - 1) >> pa_bits,
         "the MSR permission map extends beyond MAXPHYADDR");
    RULE((c->intercept_misc1 & SVM_INTERCEPT_IOIO_PROT) &&
             (c->iopm_base_pa + 0x3000 - 1) >> pa_bits,
         "the I/O permission map extends beyond MAXPHYADDR");
    RULE(event_inj_illegal(c->event_inj), "illegal event injection (EVENTINJ)");
    RULE(c->guest_asid == 0, "ASID is zero");
    RULE((c->nested_ctl & SVM_NESTED_CTL_NP_ENABLE) && !lim->nested_paging,
         "nested paging enabled but not supported");
    RULE((c->nested_ctl & SVM_NESTED_CTL_NP_ENABLE) && (c->nested_cr3 >> pa_bits),
         "nCR3 beyond MAXPHYADDR");
    return NULL;
}
