#include "vmx/vmx_caps.h"

#include "arch/x86_64/cpu.h"
#include "lib/format.h"
#include "lib/string.h"

struct vmx_caps vmx_caps;

/* Pin-based, processor-based and secondary control bits the banner needs. */
#define PIN_PREEMPTION_TIMER     (1U << 6)
#define PIN_POSTED_INTERRUPTS    (1U << 7)
#define PROC_ACTIVATE_SECONDARY  (1U << 31)
#define PROC_TPR_SHADOW          (1U << 21)
#define PROC2_VIRTUALIZE_APIC    (1U << 0)
#define PROC2_VIRTUALIZE_X2APIC  (1U << 4)
#define PROC2_ENABLE_EPT         (1U << 1)
#define PROC2_ENABLE_VPID        (1U << 5)
#define PROC2_UNRESTRICTED_GUEST (1U << 7)
#define PROC2_APIC_REGISTER_VIRT (1U << 8)
#define PROC2_VIRT_INTR_DELIVERY (1U << 9)
#define PROC2_PAUSE_LOOP_EXITING (1U << 10)
#define PROC2_VMCS_SHADOWING     (1U << 14)

static struct vmx_ctl_cap split(uint64_t msr)
{
    struct vmx_ctl_cap c = {(uint32_t)msr, (uint32_t)(msr >> 32)};
    return c;
}

static bool read_cap(uint32_t msr, uint64_t *v)
{
    if (rdmsr_safe(msr, v))
        return true;
    fmt_snprintf(vmx_caps.reason, sizeof(vmx_caps.reason), "capability MSR 0x%x unreadable", msr);
    return false;
}

void vmx_caps_probe(void)
{
    struct vmx_caps *c = &vmx_caps;
    uint64_t v;

    memset(c, 0, sizeof(*c));
    struct cpuid_regs r = cpuid(1);
    if (!(r.ecx & (1U << 5))) {
        str_copy(c->reason, "cpu has no VMX", sizeof(c->reason));
        return;
    }
    uint64_t fc;
    if (!rdmsr_safe(MSR_IA32_FEATURE_CONTROL, &fc)) {
        str_copy(c->reason, "IA32_FEATURE_CONTROL unreadable", sizeof(c->reason));
        return;
    }
    if ((fc & FEATURE_CONTROL_LOCKED) && !(fc & FEATURE_CONTROL_VMXON_OUTSIDE)) {
        str_copy(c->reason, "disabled by firmware (IA32_FEATURE_CONTROL locked)",
                 sizeof(c->reason));
        return;
    }
    if (!read_cap(MSR_IA32_VMX_BASIC, &c->basic))
        return;
    c->revision_id = c->basic & 0x7fffffff;
    c->vmcs_size = (c->basic >> 32) & 0x1fff;
    c->true_ctls = c->basic & (1ULL << 55);

    if (!read_cap(c->true_ctls ? MSR_IA32_VMX_TRUE_PINBASED : MSR_IA32_VMX_PINBASED_CTLS, &v))
        return;
    c->pinbased = split(v);
    if (!read_cap(c->true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED : MSR_IA32_VMX_PROCBASED_CTLS, &v))
        return;
    c->procbased = split(v);
    if (!read_cap(c->true_ctls ? MSR_IA32_VMX_TRUE_EXIT : MSR_IA32_VMX_EXIT_CTLS, &v))
        return;
    c->exit = split(v);
    if (!read_cap(c->true_ctls ? MSR_IA32_VMX_TRUE_ENTRY : MSR_IA32_VMX_ENTRY_CTLS, &v))
        return;
    c->entry = split(v);
    if (!read_cap(MSR_IA32_VMX_MISC, &c->misc) ||
        !read_cap(MSR_IA32_VMX_CR0_FIXED0, &c->cr0_fixed0) ||
        !read_cap(MSR_IA32_VMX_CR0_FIXED1, &c->cr0_fixed1) ||
        !read_cap(MSR_IA32_VMX_CR4_FIXED0, &c->cr4_fixed0) ||
        !read_cap(MSR_IA32_VMX_CR4_FIXED1, &c->cr4_fixed1))
        return;
    if (c->procbased.may_be_1 & PROC_ACTIVATE_SECONDARY) {
        if (!read_cap(MSR_IA32_VMX_PROCBASED_CTLS2, &v))
            return;
        c->procbased2 = split(v);
    }
    uint32_t p2 = c->procbased2.may_be_1;
    if (p2 & (PROC2_ENABLE_EPT | PROC2_ENABLE_VPID)) {
        if (!read_cap(MSR_IA32_VMX_EPT_VPID_CAP, &c->ept_vpid_cap))
            return;
    }
    uint64_t ec = c->ept_vpid_cap;
    /* EPT is usable only with 4-level walks and write-back tables. */
    c->ept = (p2 & PROC2_ENABLE_EPT) && (ec & (1ULL << 6)) && (ec & (1ULL << 14));
    c->ept_2m = c->ept && (ec & (1ULL << 16));
    c->ept_1g = c->ept && (ec & (1ULL << 17));
    c->ept_ad = c->ept && (ec & (1ULL << 21));
    c->invept_single = ec & (1ULL << 25);
    c->invept_all = ec & (1ULL << 26);
    c->vpid = (p2 & PROC2_ENABLE_VPID) && (ec & (1ULL << 32));
    c->invvpid = c->vpid;
    c->unrestricted_guest = c->ept && (p2 & PROC2_UNRESTRICTED_GUEST);
    c->preemption_timer = c->pinbased.may_be_1 & PIN_PREEMPTION_TIMER;
    c->preemption_timer_shift = c->misc & 0x1f;
    c->apicv = (p2 & PROC2_VIRTUALIZE_APIC) && (p2 & PROC2_APIC_REGISTER_VIRT) &&
               (p2 & PROC2_VIRT_INTR_DELIVERY);
    c->apicv_x2apic = (c->procbased.may_be_1 & PROC_TPR_SHADOW) && (p2 & PROC2_VIRTUALIZE_X2APIC) &&
                      (p2 & PROC2_VIRT_INTR_DELIVERY);
    /* The same for xAPIC mode: accesses to an APIC-access page virtualized. */
    c->apicv_xapic = (c->procbased.may_be_1 & PROC_TPR_SHADOW) && (p2 & PROC2_VIRTUALIZE_APIC) &&
                     (p2 & PROC2_VIRT_INTR_DELIVERY);
    c->posted_interrupts = c->pinbased.may_be_1 & PIN_POSTED_INTERRUPTS;
    c->vmcs_shadowing = p2 & PROC2_VMCS_SHADOWING;
    c->pause_loop_exiting = p2 & PROC2_PAUSE_LOOP_EXITING;
    c->available = true;
}

void vmx_caps_describe(char *buf, unsigned len)
{
    static const struct {
        const char *name;
        size_t offset;
    } feats[] = {
        {"ept", __builtin_offsetof(struct vmx_caps, ept)},
        {"ept-2m", __builtin_offsetof(struct vmx_caps, ept_2m)},
        {"ept-1g", __builtin_offsetof(struct vmx_caps, ept_1g)},
        {"vpid", __builtin_offsetof(struct vmx_caps, vpid)},
        {"unrestricted-guest", __builtin_offsetof(struct vmx_caps, unrestricted_guest)},
        {"preemption-timer", __builtin_offsetof(struct vmx_caps, preemption_timer)},
        {"apicv", __builtin_offsetof(struct vmx_caps, apicv)},
        {"apicv-x2apic", __builtin_offsetof(struct vmx_caps, apicv_x2apic)},
        {"apicv-xapic", __builtin_offsetof(struct vmx_caps, apicv_xapic)},
        {"posted-interrupts", __builtin_offsetof(struct vmx_caps, posted_interrupts)},
        {"vmcs-shadowing", __builtin_offsetof(struct vmx_caps, vmcs_shadowing)},
        {"pause-loop-exiting", __builtin_offsetof(struct vmx_caps, pause_loop_exiting)},
    };
    unsigned off = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < sizeof(feats) / sizeof(feats[0]); i++) {
        if (!*((const bool *)((const char *)&vmx_caps + feats[i].offset)))
            continue;
        int n = fmt_snprintf(buf + off, len - off, "%s%s", off ? " " : "", feats[i].name);
        if (n < 0 || off + (unsigned)n >= len)
            break;
        off += (unsigned)n;
    }
    if (!off)
        str_copy(buf, "basic", len);
}

uint32_t vmx_adjust_ctls(const struct vmx_ctl_cap *cap, uint32_t want, uint32_t *out)
{
    uint32_t v = (want | cap->must_be_1) & cap->may_be_1;
    *out = v;
    return want & ~v;
}
