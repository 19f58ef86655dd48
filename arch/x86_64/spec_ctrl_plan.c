/* The mitigation decision table; see spec_ctrl.h and docs/security.md.
 * An absent IA32_ARCH_CAPABILITIES reads as zero: every "not affected"
 * bit clear, so the CPU counts as affected by everything. */
#include "arch/x86_64/spec_ctrl.h"

#include "lib/format.h"
#include "lib/string.h"

void spec_ctrl_decide(const struct spec_cpu *cpu, struct spec_plan *p)
{
    uint64_t caps = (cpu->cpuid7_edx & CPUID7_EDX_ARCH_CAPS) ? cpu->arch_caps : 0;
    bool has_spec_ctrl = cpu->cpuid7_edx & CPUID7_EDX_IBRS_IBPB;

    *p = (struct spec_plan){0};
    p->ibpb = has_spec_ctrl;

    /* Branch target injection: retpolines everywhere; enhanced IBRS on top
     * where it exists (set once, it also covers returns that fall back to
     * the BTB on an empty RSB). */
    p->eibrs = has_spec_ctrl && (caps & ARCH_CAP_IBRS_ALL);
    if (p->eibrs)
        p->spec_ctrl |= SPEC_CTRL_IBRS;

    /* What is left once no indirect jump or call exists: returns
     * predicted from the BTB when the RSB runs empty. Without eIBRS the BTB
     * is shared with the guest (RSBA: nothing cheap helps; the RSB fill
     * after each exit keeps the RSB from running empty near the exit). With
     * eIBRS its targets are root-mode ones, but guest branch history can
     * pick among them (BHI) where returns fall back to it (RRSBA). BHI_DIS_S
     * and RRSBA_DIS_S exist only on eIBRS parts. */
    if (!p->eibrs) {
        p->bhi = SPEC_BHI_NONE;
        p->rsb_underflow_exposed =
            (caps & ARCH_CAP_RSBA) || !(cpu->cpuid7_edx & CPUID7_EDX_ARCH_CAPS);
    } else if (caps & ARCH_CAP_BHI_NO) {
        p->bhi = SPEC_BHI_NONE;
    } else if (cpu->cpuid7_2_edx & CPUID7_2_EDX_BHI_CTRL) {
        p->bhi = SPEC_BHI_DIS_S;
        p->spec_ctrl |= SPEC_CTRL_BHI_DIS_S;
    } else if (!(caps & ARCH_CAP_RRSBA)) {
        p->bhi = SPEC_BHI_NONE;
    } else if (cpu->cpuid7_2_edx & CPUID7_2_EDX_RRSBA_CTRL) {
        p->bhi = SPEC_BHI_RRSBA_DIS_S;
        p->spec_ctrl |= SPEC_CTRL_RRSBA_DIS_S;
    } else {
        p->bhi = SPEC_BHI_CLEAR_LOOP;
    }
    p->spec_ctrl_write = p->spec_ctrl != 0;

    /* L1TF: affected unless RDCL_NO; the flush on entry is needed unless
     * SKIP_L1DFL_VMENTRY. MDS unless MDS_NO; TAA with TSX unless TAA_NO;
     * RFDS where the microcode makes VERW clear the register file. */
    bool l1tf = !(caps & ARCH_CAP_RDCL_NO) && !(caps & ARCH_CAP_SKIP_L1DFL_VMENTRY);
    bool mds = !(caps & ARCH_CAP_MDS_NO);
    bool taa = (cpu->cpuid7_ebx & CPUID7_EBX_RTM) && !(caps & ARCH_CAP_TAA_NO);
    bool rfds = (caps & ARCH_CAP_RFDS_CLEAR) && !(caps & ARCH_CAP_RFDS_NO);
    bool md_clear = cpu->cpuid7_edx & CPUID7_EDX_MD_CLEAR;
    bool buffers = mds || taa || rfds;

    if (l1tf && (cpu->cpuid7_edx & CPUID7_EDX_L1D_FLUSH)) {
        /* With MD_CLEAR microcode the L1D flush also clears the buffers;
         * without it VERW would not clear them either. */
        p->entry = SPEC_ENTRY_L1D;
        p->mds_unmitigated = buffers && !md_clear;
    } else {
        p->l1tf_unmitigated = l1tf;
        if (buffers && md_clear)
            p->entry = SPEC_ENTRY_VERW;
        else
            p->mds_unmitigated = buffers;
    }
}

void spec_ctrl_describe(const struct spec_plan *p, char *buf, unsigned size)
{
    static const char *const bhi[] = {"", " bhi_dis_s", " rrsba_dis_s", " bhb_clear_loop"};
    static const char *const entry[] = {"", " l1d_flush", " verw"};
    fmt_snprintf(buf, size, "retpoline rsb_fill%s%s%s%s%s%s%s", p->ibpb ? " ibpb" : "",
                 p->eibrs ? " eibrs" : "", bhi[p->bhi], entry[p->entry],
                 p->l1tf_unmitigated ? " L1TF-UNMITIGATED" : "",
                 p->mds_unmitigated ? " MDS-UNMITIGATED" : "",
                 p->rsb_underflow_exposed ? " rsb-underflow-exposed" : "");
}

int spec_ctrl_parse_force(const char *list, unsigned *mask)
{
    static const struct {
        const char *name;
        unsigned bit;
    } names[] = {{"verw", SPEC_FORCE_VERW},
                 {"bhb_clear", SPEC_FORCE_BHB_CLEAR},
                 {"l1d_flush", SPEC_FORCE_L1D_FLUSH}};
    unsigned m = 0;
    const char *p = list;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        unsigned i;
        for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            if (len == strlen(names[i].name) && !memcmp(p, names[i].name, len))
                break;
        if (i == sizeof(names) / sizeof(names[0]))
            return -1;
        m |= names[i].bit;
        if (!end)
            break;
        p = end + 1;
    }
    *mask = m;
    return 0;
}

bool spec_ctrl_apply_force(const struct spec_cpu *cpu, unsigned mask, struct spec_plan *p)
{
    bool ok = true;
    if (mask & SPEC_FORCE_BHB_CLEAR)
        p->bhi = SPEC_BHI_CLEAR_LOOP;
    if (mask & SPEC_FORCE_L1D_FLUSH) {
        if (cpu->cpuid7_edx & CPUID7_EDX_L1D_FLUSH)
            p->entry = SPEC_ENTRY_L1D;
        else
            ok = false;
    }
    /* The flush also clears the buffers: VERW only where there is none. */
    if ((mask & SPEC_FORCE_VERW) && p->entry != SPEC_ENTRY_L1D)
        p->entry = SPEC_ENTRY_VERW;
    return ok;
}
