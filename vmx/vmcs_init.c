/* Builds a vCPU's VMCS: controls adjusted against the capability MSRs,
 * host state from this CPU's GDT/TSS/IDT, guest state for the entry mode. */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/spec_guest.h"
#include "ept/ept.h"
#include "lib/log.h"
#include "lib/string.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"
#include "vmx/vmx_caps.h"

#define AR_UNUSABLE   (1U << 16)
#define AR_CODE32     0xc09b /* G, D, P, S, execute/read, accessed */
#define AR_CODE64     0xa09b /* G, L, P, S, execute/read, accessed */
#define AR_DATA32     0xc093 /* G, D/B, P, S, read/write, accessed */
#define AR_CODE16     0x009b
#define AR_DATA16     0x0093
#define AR_TSS_BUSY32 0x008b
#define AR_LDT        0x0082

/* PAUSE-loop exiting (SDM Vol. 3C 25.1.3), in TSC cycles: PAUSEs at most
 * PLE_GAP apart are one spin loop, and one that lasts longer than
 * PLE_WINDOW exits. KVM's defaults: short enough that a vCPU waiting for a
 * sibling on its CPU gives way within microseconds, long enough that a
 * lock held for a moment is taken without an exit. */
#define VMX_PLE_GAP    128
#define VMX_PLE_WINDOW 4096

static void set_segment(enum vmcs_field sel, uint16_t selector, uint64_t base, uint32_t limit,
                        uint32_t ar)
{
    /* Selector, limit, AR and base fields of one register sit at fixed
     * distances in the encoding space (SDM appendix B). */
    unsigned idx = (sel - GUEST_ES_SELECTOR) / 2;
    vmcs_write(sel, selector);
    vmcs_write((enum vmcs_field)(GUEST_ES_LIMIT + idx * 2), limit);
    vmcs_write((enum vmcs_field)(GUEST_ES_AR_BYTES + idx * 2), ar);
    vmcs_write((enum vmcs_field)(GUEST_ES_BASE + idx * 2), base);
}

static void setup_guest_state(struct vcpu *v)
{
    struct vmx_vcpu *x = v->arch;
    const struct vcpu_boot_state *b = &v->boot;
    uint64_t cr0 = CR0_ET | CR0_NE, cr4 = 0;
    enum vmcs_field data_segs[] = {GUEST_ES_SELECTOR, GUEST_SS_SELECTOR, GUEST_DS_SELECTOR,
                                   GUEST_FS_SELECTOR, GUEST_GS_SELECTOR};

    x->efer = 0;
    switch (b->mode) {
    case ENTRY_REAL_MODE:
        /* CS:IP = (rip >> 4):(rip & 0xf): a SIPI's vector VV gives
         * CS VV00h (base VV000h), IP 0, as the SDM says (9.4.4). */
        set_segment(GUEST_CS_SELECTOR, (uint16_t)(b->rip >> 4), b->rip & 0xffff0, 0xffff,
                    AR_CODE16);
        for (unsigned i = 0; i < 5; i++)
            set_segment(data_segs[i], 0, 0, 0xffff, AR_DATA16);
        vmcs_write(GUEST_RIP, b->rip & 0xf);
        break;
    case ENTRY_PROTECTED_FLAT:
        cr0 |= CR0_PE;
        set_segment(GUEST_CS_SELECTOR, b->cs_sel ? b->cs_sel : 0x08, 0, 0xffffffff, AR_CODE32);
        for (unsigned i = 0; i < 5; i++)
            set_segment(data_segs[i], b->ds_sel ? b->ds_sel : 0x10, 0, 0xffffffff, AR_DATA32);
        vmcs_write(GUEST_RIP, b->rip);
        break;
    case ENTRY_LONG_MODE:
        cr0 |= CR0_PE | CR0_PG;
        cr4 |= CR4_PAE;
        x->efer = EFER_LME | EFER_LMA;
        set_segment(GUEST_CS_SELECTOR, 0x08, 0, 0xffffffff, AR_CODE64);
        for (unsigned i = 0; i < 5; i++)
            set_segment(data_segs[i], 0x10, 0, 0xffffffff, AR_DATA32);
        vmcs_write(GUEST_RIP, b->rip);
        break;
    }
    /* A real-mode guest still needs a usable TR for the entry checks. */
    set_segment(GUEST_TR_SELECTOR, 0, 0, 0xffff, AR_TSS_BUSY32);
    set_segment(GUEST_LDTR_SELECTOR, 0, 0, 0xffff, AR_LDT);
    vmcs_write(GUEST_GDTR_BASE, b->gdt_base);
    vmcs_write(GUEST_GDTR_LIMIT, b->gdt_limit);
    vmcs_write(GUEST_IDTR_BASE, 0);
    vmcs_write(GUEST_IDTR_LIMIT, 0xffff);

    x->cr0_shadow = 0;
    x->cr4_shadow = 0;
    vmx_set_guest_cr0(v, cr0);
    vmx_set_guest_cr4(v, cr4);
    vmcs_write(GUEST_CR3, b->cr3);
    vmcs_write(GUEST_IA32_EFER, x->efer);
    vmcs_write(GUEST_IA32_PAT, 0x0007040600070406ULL); /* the reset value */
    vmcs_write(GUEST_DR7, 0x400);
    vmcs_write(GUEST_IA32_DEBUGCTL, 0);
    vmcs_write(GUEST_RSP, b->rsp);
    vmcs_write(GUEST_RFLAGS, 0x2);
    vmcs_write(GUEST_SYSENTER_CS, 0);
    vmcs_write(GUEST_SYSENTER_ESP, 0);
    vmcs_write(GUEST_SYSENTER_EIP, 0);
    vmcs_write(GUEST_INTERRUPTIBILITY_INFO, 0);
    vmcs_write(GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_ACTIVE);
    vmcs_write(GUEST_PENDING_DBG_EXCEPTIONS, 0);
    vmcs_write(VMCS_LINK_POINTER, ~0ULL);
    memcpy(v->gprs, b->gprs, sizeof(v->gprs));
    v->msr_pat = 0x0007040600070406ULL;
}

static void setup_host_state(void)
{
    struct percpu *pc = this_cpu();
    struct descriptor_ptr gdtr, idtr;
    __asm__ volatile("sgdt %0; sidt %1" : "=m"(gdtr), "=m"(idtr));

    vmcs_write(HOST_CR0, read_cr0());
    vmcs_write(HOST_CR3, read_cr3());
    vmcs_write(HOST_CR4, read_cr4());
    vmcs_write(HOST_ES_SELECTOR, KERNEL_DS);
    vmcs_write(HOST_CS_SELECTOR, KERNEL_CS);
    vmcs_write(HOST_SS_SELECTOR, KERNEL_DS);
    vmcs_write(HOST_DS_SELECTOR, KERNEL_DS);
    vmcs_write(HOST_FS_SELECTOR, 0);
    vmcs_write(HOST_GS_SELECTOR, 0);
    vmcs_write(HOST_TR_SELECTOR, KERNEL_TSS);
    vmcs_write(HOST_FS_BASE, 0);
    vmcs_write(HOST_GS_BASE, (uint64_t)pc);
    vmcs_write(HOST_TR_BASE, (uint64_t)&pc->tss);
    vmcs_write(HOST_GDTR_BASE, gdtr.base);
    vmcs_write(HOST_IDTR_BASE, idtr.base);
    vmcs_write(HOST_IA32_SYSENTER_CS, 0);
    vmcs_write(HOST_IA32_SYSENTER_ESP, 0);
    vmcs_write(HOST_IA32_SYSENTER_EIP, 0);
    vmcs_write(HOST_IA32_EFER, rdmsr(MSR_IA32_EFER));
    vmcs_write(HOST_IA32_PAT, rdmsr(MSR_IA32_PAT));
    vmcs_write(HOST_RIP, (uint64_t)vmx_exit_entry);
}

static int adjust(const char *what, const struct vmx_ctl_cap *cap, uint32_t want, uint32_t required,
                  uint32_t *out)
{
    uint32_t dropped = vmx_adjust_ctls(cap, want, out);
    if (dropped & required) {
        pr_err("vmx: %s controls 0x%x required but not supported by this CPU", what,
               dropped & required);
        return -1;
    }
    return 0;
}

/* Intercepts everything except the MSRs that the VMCS or the vCPU switch
 * code already keeps per guest. */
static void pass_msr(uint8_t *bm, uint32_t msr, bool read, bool write)
{
    unsigned base = msr >= 0xc0000000 ? 1024 : 0;
    unsigned bit = msr & 0x1fff;
    if (read)
        bm[base + bit / 8] &= (uint8_t) ~(1U << (bit % 8));
    if (write)
        bm[2048 + base + bit / 8] &= (uint8_t) ~(1U << (bit % 8));
}

static void setup_msr_bitmap(struct vmx_vcpu *x, bool realtime)
{
    uint8_t *bm = (uint8_t *)x->msr_bitmap_phys;
    static const uint32_t passthrough[] = {
        MSR_IA32_FS_BASE,     MSR_IA32_GS_BASE,      MSR_IA32_KERNEL_GS_BASE, MSR_IA32_STAR,
        MSR_IA32_LSTAR,       MSR_IA32_CSTAR,        MSR_IA32_FMASK,          MSR_IA32_TSC_AUX,
        MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
    };
    memset(bm, 0xff, 4096);
    for (unsigned i = 0; i < sizeof(passthrough) / sizeof(passthrough[0]); i++) {
        uint32_t msr = passthrough[i];
        unsigned base = msr >= 0xc0000000 ? 1024 : 0;
        unsigned bit = msr & 0x1fff;
        bm[base + bit / 8] &= (uint8_t) ~(1U << (bit % 8));        /* read */
        bm[2048 + base + bit / 8] &= (uint8_t) ~(1U << (bit % 8)); /* write */
    }
    /* Reads of the TSC pass (offset applied by hardware); writes exit. */
    bm[0x10 / 8] &= (uint8_t) ~(1U << (0x10 % 8));
    /* So do reads of IA32_SPEC_CTRL where the guest has it: the MSR holds
     * the guest's own value while it runs (vmx_spec.c). */
    if (spec_guest_view.spec_ctrl_bits)
        pass_msr(bm, MSR_IA32_SPEC_CTRL, true, false);
    if (!realtime)
        return;
    /* A real-time vCPU owns its local APIC: the x2APIC registers and the
     * TSC deadline reach the hardware, except ICR writes (checked so that
     * its IPIs stay inside its VM: vcpu/rt_icr.c). */
    for (uint32_t msr = 0x800; msr <= 0x8ff; msr++)
        pass_msr(bm, msr, true, msr != 0x830);
    pass_msr(bm, 0x6e0, true, true);
}

/* Every port exits except the VM's `ioports`, which reach the hardware.
 * The configuration validator has refused any the hypervisor owns. */
static void setup_io_bitmap(struct vmx_vcpu *x, const struct vcpu_vm_info *info)
{
    uint8_t *bm = (uint8_t *)x->io_bitmap_phys; /* A (0-0x7fff) then B: one bit per port */
    memset(bm, 0xff, 8192);
    for (unsigned i = 0; i < info->nr_io_passthrough && i < VCPU_MAX_IO_PASSTHROUGH; i++) {
        uint32_t end = (uint32_t)info->io_passthrough[i].base + info->io_passthrough[i].count;
        for (uint32_t port = info->io_passthrough[i].base; port < end && port <= 0xffff; port++)
            bm[port / 8] &= (uint8_t) ~(1U << (port % 8));
    }
}

int vmx_vcpu_setup_vmcs(struct vcpu *v)
{
    struct vmx_vcpu *x = v->arch;
    const struct vmx_caps *c = &vmx_caps;

    /* A real-time vCPU (docs/realtime.md) owns its CPU's interrupts: they
     * reach its IDT without an exit; NMIs still exit (they take the CPU
     * back). Nor do HLT and CR8 exit: CR8 is the physical TPR. */
    bool rt = v->vm_info.realtime;
    uint32_t ext = rt ? 0 : PIN_BASED_EXT_INTR_MASK;
    if (adjust("pin-based", &c->pinbased, ext | PIN_BASED_NMI_EXITING | PIN_BASED_VIRTUAL_NMIS,
               ext | PIN_BASED_NMI_EXITING, &x->pin))
        return -1;
    uint32_t hlt = rt ? 0 : CPU_BASED_HLT_EXITING;
    uint32_t proc = hlt | CPU_BASED_USE_TSC_OFFSETTING | CPU_BASED_USE_IO_BITMAPS |
                    CPU_BASED_USE_MSR_BITMAPS | CPU_BASED_MWAIT_EXITING |
                    CPU_BASED_MONITOR_EXITING | CPU_BASED_RDPMC_EXITING |
                    CPU_BASED_ACTIVATE_SECONDARY_CONTROLS;
    /* CR8 never reaches the physical TPR: the TPR shadow keeps it in the
     * virtual-APIC page without exits; a vLAPIC (which must see every TPR
     * change) or a CPU without the shadow gets CR8-load/store exiting. */
    uint32_t cr8_ctl = CPU_BASED_CR8_LOAD_EXITING | CPU_BASED_CR8_STORE_EXITING;
    x->cr8_exiting =
        !rt && (vcpu_tpr_in_vlapic(v) || !(c->procbased.may_be_1 & CPU_BASED_TPR_SHADOW));
    uint32_t tpr_ctl = rt ? 0 : x->cr8_exiting ? cr8_ctl : CPU_BASED_TPR_SHADOW;
    /* Virtual-interrupt delivery (vmx_apicv.c) for a vLAPIC's vCPU: it
     * needs the TPR shadow, with CR8 still exiting to the vLAPIC. Its own
     * controls are turned on while the vLAPIC is in x2APIC mode. */
    x->apicv_usable =
        !rt && vmx_use_apicv && (c->apicv_x2apic || c->apicv_xapic) && vcpu_tpr_in_vlapic(v);
    x->apicv_x2apic_ok = x->apicv_usable && c->apicv_x2apic;
    x->apicv_xapic_ok = x->apicv_usable && c->apicv_xapic;
    x->apicv_on = x->apicv_window = x->apicv_fast = false;
    v->apicv_possible = x->apicv_usable;
    v->apicv_xapic_possible = x->apicv_xapic_ok;
    if (x->apicv_usable)
        tpr_ctl |= CPU_BASED_TPR_SHADOW;
    proc |= tpr_ctl;
    if (adjust("processor-based", &c->procbased, proc,
               hlt | CPU_BASED_USE_IO_BITMAPS | CPU_BASED_USE_MSR_BITMAPS |
                   CPU_BASED_ACTIVATE_SECONDARY_CONTROLS | tpr_ctl,
               &x->proc))
        return -1;
    uint32_t proc2 = SECONDARY_EXEC_ENABLE_EPT | SECONDARY_EXEC_UNRESTRICTED_GUEST |
                     SECONDARY_EXEC_WBINVD_EXITING | SECONDARY_EXEC_ENABLE_RDTSCP |
                     SECONDARY_EXEC_ENABLE_INVPCID;
    if (c->vpid)
        proc2 |= SECONDARY_EXEC_ENABLE_VPID;
    /* A vCPU spinning for another one that shares its CPU (a lock holder,
     * an AP in Linux's TSC check) gives way to it (vcpu/exit_pause.c). Not
     * for real-time vCPUs: their PAUSE never exits. Without PLE, plain PAUSE
     * exiting is not used: every PAUSE of every spin-wait would exit (as
     * KVM, which also uses PLE only). */
    if (!rt)
        proc2 |= SECONDARY_EXEC_PAUSE_LOOP_EXITING;
    if (adjust("secondary", &c->procbased2, proc2,
               SECONDARY_EXEC_ENABLE_EPT | SECONDARY_EXEC_UNRESTRICTED_GUEST, &x->proc2))
        return -1;
    uint32_t exit_ctl = VM_EXIT_HOST_ADDR_SPACE_SIZE | VM_EXIT_SAVE_IA32_PAT |
                        VM_EXIT_LOAD_IA32_PAT | VM_EXIT_SAVE_IA32_EFER | VM_EXIT_LOAD_IA32_EFER |
                        VM_EXIT_SAVE_DEBUG_CONTROLS;
    if (adjust("vm-exit", &c->exit, exit_ctl,
               VM_EXIT_HOST_ADDR_SPACE_SIZE | VM_EXIT_LOAD_IA32_EFER | VM_EXIT_SAVE_IA32_EFER,
               &x->exit_ctl))
        return -1;
    uint32_t entry =
        VM_ENTRY_LOAD_IA32_PAT | VM_ENTRY_LOAD_IA32_EFER | VM_ENTRY_LOAD_DEBUG_CONTROLS;
    if (v->boot.mode == ENTRY_LONG_MODE)
        entry |= VM_ENTRY_IA32E_MODE;
    if (adjust("vm-entry", &c->entry, entry, VM_ENTRY_LOAD_IA32_EFER, &x->entry_ctl))
        return -1;

    vmcs_write(PIN_BASED_VM_EXEC_CONTROL, x->pin);
    vmcs_write(CPU_BASED_VM_EXEC_CONTROL, x->proc);
    vmcs_write(SECONDARY_VM_EXEC_CONTROL, x->proc2);
    vmcs_write(VM_EXIT_CONTROLS, x->exit_ctl);
    vmcs_write(VM_ENTRY_CONTROLS, x->entry_ctl);
    /* #AC and #DB always exit: a guest could otherwise wedge the CPU in a
     * microcode loop delivering them (CVE-2015-5307, CVE-2015-8104). */
    vmcs_write(EXCEPTION_BITMAP, (1U << 1) | (1U << 17));
    vmcs_write(PAGE_FAULT_ERROR_CODE_MASK, 0);
    vmcs_write(PAGE_FAULT_ERROR_CODE_MATCH, 0);
    vmcs_write(CR3_TARGET_COUNT, 0);
    vmcs_write(VM_EXIT_MSR_STORE_COUNT, 0);
    vmx_spec_ctrl_load(v); /* the MSR-load lists */
    vmcs_write(VM_ENTRY_INTR_INFO_FIELD, 0);
    /* Threshold 0: lowering the shadowed TPR never exits (nothing to
     * deliver without a vLAPIC). */
    vmcs_write(TPR_THRESHOLD, 0);
    if (x->proc2 & SECONDARY_EXEC_PAUSE_LOOP_EXITING) {
        vmcs_write(PLE_GAP, VMX_PLE_GAP);
        vmcs_write(PLE_WINDOW, VMX_PLE_WINDOW);
    }
    if (x->proc & CPU_BASED_TPR_SHADOW)
        vmcs_write(VIRTUAL_APIC_PAGE_ADDR, x->vapic_phys);
    /* The guest owns no CR0 bit that affects VMX or long-mode entry state.
     * It owns only the CR4 bits every guest CPUID shows when the CPU has
     * them (a bit the CPU lacks faults by itself): any other write exits,
     * so vcpu/exit_cr.c applies the SDM's rules (PAE, PCIDE, LA57) and
     * refuses features the guest's CPUID hides (VMXE, MCE, PKE, ...). */
    vmcs_write(CR0_GUEST_HOST_MASK, CR0_PE | CR0_PG | CR0_NE | CR0_CD | CR0_NW);
    vmcs_write(CR4_GUEST_HOST_MASK,
               ~(uint64_t)(CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_PGE | CR4_PCE |
                           CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_UMIP | CR4_FSGSBASE | CR4_OSXSAVE |
                           CR4_SMEP | CR4_SMAP));
    setup_msr_bitmap(x, rt);
    vmcs_write(MSR_BITMAP, x->msr_bitmap_phys);
    setup_io_bitmap(x, &v->vm_info);
    vmcs_write(IO_BITMAP_A, x->io_bitmap_phys);
    vmcs_write(IO_BITMAP_B, x->io_bitmap_phys + 4096);
    vmcs_write(EPT_POINTER, ept_eptp(v->vm_info.ept, false));
    if (x->proc2 & SECONDARY_EXEC_ENABLE_VPID)
        vmcs_write(VIRTUAL_PROCESSOR_ID, v->vpid);
    vmcs_write(TSC_OFFSET, v->vm_info.tsc_offset);

    setup_host_state();
    setup_guest_state(v);
    x->set_up = true;
    return 0;
}
