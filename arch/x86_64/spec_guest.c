/* What a guest sees of the speculation controls (arch/x86_64/spec_guest.h). */
#include "arch/x86_64/spec_guest.h"

/* IA32_ARCH_CAPABILITIES bits a guest reads as the host has them: each
 * says the CPU is not affected by something, or how a control behaves
 * (IBRS_ALL, RSBA, RRSBA, FB_CLEAR, RFDS_CLEAR). Bits that announce MSRs
 * of their own (TSX_CTRL 7, MCU_CONTROL 9, MISC_PACKAGE_CTRLS 10,
 * ENERGY_FILTERING_CTL 11, DOITM 12, FB_CLEAR_CTRL 18, OVERCLOCKING_STATUS
 * 23, ...) and bits this code does not know stay clear: no such MSR is
 * emulated. */
#define ARCH_CAPS_SHOWN                                                                            \
    (ARCH_CAP_RDCL_NO | ARCH_CAP_RSBA | (1ULL << 4) /* SSB_NO */ | ARCH_CAP_MDS_NO |               \
     (1ULL << 6) /* IF_PSCHANGE_MC_NO */ | ARCH_CAP_TAA_NO | (1ULL << 13) /* SBDR_SSDP_NO */ |     \
     (1ULL << 14) /* FBSDP_NO */ | (1ULL << 15) /* PSDP_NO */ | (1ULL << 17) /* FB_CLEAR */ |      \
     ARCH_CAP_RRSBA | ARCH_CAP_BHI_NO | (1ULL << 24) /* PBRSB_NO */ | (1ULL << 26) /* GDS_NO */ |  \
     ARCH_CAP_RFDS_NO | ARCH_CAP_RFDS_CLEAR)

void spec_guest_decide(const struct spec_cpu *host, uint32_t host_ext8_ebx, bool switched,
                       struct spec_guest *g)
{
    uint32_t edx = host->cpuid7_edx, ebx = host_ext8_ebx;
    *g = (struct spec_guest){0};

    /* Controls that take effect when written and hold nothing: the
     * barrier (IBPB), the L1D flush, VERW's buffer clearing (MD_CLEAR). */
    g->cpuid7_edx = edx & (CPUID7_EDX_MD_CLEAR | CPUID7_EDX_L1D_FLUSH);
    g->flush_cmd = edx & CPUID7_EDX_L1D_FLUSH;
    g->ext8_ebx = ebx & (EXT8_EBX_IBPB | EXT8_EBX_SSB_NO);
    g->pred_cmd = ebx & EXT8_EBX_IBPB;

    /* IA32_SPEC_CTRL holds a value for as long as the guest runs: only
     * where the backend switches it. Intel enumerates IBRS and IBPB
     * together (bit 26). */
    if (switched) {
        if (edx & CPUID7_EDX_IBRS_IBPB) {
            g->cpuid7_edx |= CPUID7_EDX_IBRS_IBPB;
            g->spec_ctrl_bits |= SPEC_CTRL_IBRS;
            g->pred_cmd = true;
        }
        if (edx & CPUID7_EDX_STIBP) {
            g->cpuid7_edx |= CPUID7_EDX_STIBP;
            g->spec_ctrl_bits |= SPEC_CTRL_STIBP;
        }
        if (edx & CPUID7_EDX_SSBD) {
            g->cpuid7_edx |= CPUID7_EDX_SSBD;
            g->spec_ctrl_bits |= SPEC_CTRL_SSBD;
        }
        g->ext8_ebx |= ebx & (EXT8_EBX_IBRS | EXT8_EBX_STIBP | EXT8_EBX_SSBD);
        if (ebx & EXT8_EBX_IBRS)
            g->spec_ctrl_bits |= SPEC_CTRL_IBRS;
        if (ebx & EXT8_EBX_STIBP)
            g->spec_ctrl_bits |= SPEC_CTRL_STIBP;
        if (ebx & EXT8_EBX_SSBD)
            g->spec_ctrl_bits |= SPEC_CTRL_SSBD;
    }

    if (edx & CPUID7_EDX_ARCH_CAPS) {
        g->cpuid7_edx |= CPUID7_EDX_ARCH_CAPS;
        g->arch_caps_msr = true;
        g->arch_caps = host->arch_caps & ARCH_CAPS_SHOWN;
        /* Enhanced IBRS means something only with IBRS to set. */
        if (g->spec_ctrl_bits & SPEC_CTRL_IBRS)
            g->arch_caps |= host->arch_caps & ARCH_CAP_IBRS_ALL;
        /* The guest has no VMX: nothing of its own to flush at entries. */
        g->arch_caps |= ARCH_CAP_SKIP_L1DFL_VMENTRY;
    }
}

#ifndef HOST_TEST
#include "lib/log.h"

struct spec_guest spec_guest_view;

void spec_guest_init(bool switched)
{
    spec_ctrl_probe();
    /* The switch loads root mode's value at every exit (on VMX a failure
     * there is a VMX abort): only if this CPU takes that value. */
    if (switched && !spec_ctrl_init_cpu()) {
        pr_warn("spec: IA32_SPEC_CTRL refuses root mode's value: guests get none of its bits");
        switched = false;
    }
    spec_guest_decide(&spec_host, spec_host_ext8_ebx, switched, &spec_guest_view);
}
#endif
