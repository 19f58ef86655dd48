/* The SVM backend of the vCPU contract (hvm/backend.h): detection, root
 * mode per CPU, vCPU create/run/destroy, guest state and events, all on
 * the VMCB. What to do with an exit or an event is the vendor-neutral
 * layer's (vcpu/). See docs/svm.md. */
#include "svm/svm_backend.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/spec_ctrl.h"
#include "arch/x86_64/timer.h"
#include "ept/ept.h"
#include "hvm/io_bitmap.h"
#include "lib/format.h"
#include "lib/log.h"
#include "lib/string.h"
#include "mm/pmm.h"
#include "svm/svm_boot.h"
#include "svm/svm_caps.h"
#include "svm/svm_check.h"
#include "svm/svm_cpu.h"
#include "svm/svm_decode.h"

#define EFER_SVME_BIT (1ULL << 12)
#define RFLAGS_IF_BIT (1ULL << 9)
/* The PAUSE filter (APM 15.14.4): KVM's defaults, as VMX's PLE window and
 * gap (vmx/vmcs_init.c): 3000 PAUSEs, each within 128 cycles of the last. */
#define SVM_PAUSE_FILTER_COUNT  3000
#define SVM_PAUSE_FILTER_THRESH 128

static bool svm_probe(const char **reason)
{
    svm_boot_init();
    *reason = svm_caps.available ? NULL : svm_caps.reason;
    return svm_caps.available;
}

static void svm_describe(char *buf, unsigned len)
{
    char full[160];
    svm_caps_banner(&svm_caps, full, sizeof(full));
    str_copy(buf, full + 5, len); /* without "svm: " */
}

static void svm_npt_page_sizes(bool *pg_2m, bool *pg_1g)
{
    *pg_2m = true;
    *pg_1g = cpuid(0x80000001).edx & (1U << 26);
}

static int svm_set_option(const char *key, const char *value)
{
    return 0;
}

static struct svm_vcpu_state *state(struct vcpu *v)
{
    return v->arch;
}

static int svm_init(struct vcpu *v)
{
    uint64_t page = pmm_alloc(1, 1, "svm vcpu");
    if (!page)
        return -1;
    struct svm_vcpu_state *s = (struct svm_vcpu_state *)page;
    memset(s, 0, sizeof(*s));
    struct svm_port_range pass[VCPU_MAX_IO_PASSTHROUGH];
    unsigned n = v->vm_info.nr_io_passthrough;
    if (n > VCPU_MAX_IO_PASSTHROUGH)
        n = VCPU_MAX_IO_PASSTHROUGH;
    for (unsigned i = 0; i < n; i++)
        pass[i] = (struct svm_port_range){v->vm_info.io_passthrough[i].base,
                                          v->vm_info.io_passthrough[i].count};
    if (svm_vcpu_alloc(&s->sv, pass, n)) {
        pmm_free(page, 1);
        return -1;
    }
    /* The vCPU switch loads XCR0 (so CR4.OSXSAVE is on) whenever XSAVE exists. */
    s->host_osxsave = cpuid(1).ecx & (1U << 26);
    v->arch = s;
    spec_ctrl_probe();
    return 0;
}

static void svm_destroy(struct vcpu *v)
{
    struct svm_vcpu_state *s = state(v);
    if (!s)
        return;
    svm_vcpu_free(&s->sv);
    pmm_free((uint64_t)s, 1);
    v->arch = NULL;
}

static void svm_unload(struct vcpu *v)
{
    /* ASIDs are never reused within a generation: forgetting this one is
     * all (the next entry anywhere takes a fresh one). */
    if (state(v))
        state(v)->sv.asid.cpu = -1;
}

static int svm_reset(struct vcpu *v)
{
    struct svm_vcpu_state *s = state(v);
    const struct vcpu_boot_state *b = &v->boot;
    static const enum svm_boot_mode modes[] = {
        [ENTRY_REAL_MODE] = SVM_BOOT_REAL,
        [ENTRY_PROTECTED_FLAT] = SVM_BOOT_PROTECTED_FLAT,
        [ENTRY_LONG_MODE] = SVM_BOOT_LONG,
    };
    struct svm_vmcb_params p = {
        .mode = modes[b->mode],
        .rip = b->rip,
        .rsp = b->rsp,
        .rax = b->gprs[GPR_RAX],
        .cr3 = b->cr3,
        .gdt_base = b->gdt_base,
        .gdt_limit = b->gdt_limit,
        .cs_sel = b->cs_sel,
        .ds_sel = b->ds_sel,
        .ncr3 = ept_ncr3(v->vm_info.ept),
        .tsc_offset = v->vm_info.tsc_offset,
        .cr8_exiting = vcpu_tpr_in_vlapic(v),
    };
    if (svm_caps.pause_filter && !v->vm_info.realtime) {
        p.pause_filter_count = SVM_PAUSE_FILTER_COUNT;
        if (svm_caps.features & SVM_FEAT_PAUSE_THRESH)
            p.pause_filter_thresh = SVM_PAUSE_FILTER_THRESH;
    }
    svm_vcpu_setup(&s->sv, &p);
    /* #UD too: VMCALL from guests written for VMX is the hypercall. */
    s->sv.vmcb->control.intercept_exceptions |= 1U << 6;
    memcpy(v->gprs, b->gprs, sizeof(v->gprs));
    v->gprs[GPR_RSP] = b->rsp;
    v->msr_pat = s->sv.vmcb->save.g_pat;
    s->efer_lme = s->sv.vmcb->save.efer & EFER_LME;
    s->nmi_masked = false;
    s->set_up = true;
    return 0;
}

void svm_report_vmrun_failure(struct vcpu *v)
{
    struct vmcb *vmcb = state(v)->sv.vmcb;
    /* The VM stops: its VMCB may show what VMRUN was given again. */
    svm_vmcb_restore_checked(vmcb, &state(v)->at_entry);
    struct svm_check_limits lim = {
        .maxphyaddr = cpuid(0x80000008).eax & 0xff,
        .long_mode = cpuid(0x80000001).edx & (1U << 29),
        .nested_paging = svm_caps.np,
    };
    const char *rule = svm_check_vmcb(vmcb, &lim);
    vcpu_crash(v, "VMRUN failed (VMEXIT_INVALID): %s", rule ? rule : "no listed rule broken");
}

/* --- Guest state --- */

/* The guest's EFER: SVME is the hypervisor's, LME kept aside while
 * paging is off (struct svm_vcpu_state). */
static uint64_t guest_efer(const struct svm_vcpu_state *st)
{
    uint64_t efer = st->sv.vmcb->save.efer & ~(EFER_SVME_BIT | EFER_LME);
    return efer | (st->efer_lme ? EFER_LME : 0);
}

static uint64_t svm_get_reg(struct vcpu *v, enum hvm_reg r)
{
    const struct vmcb_save_area *s = &state(v)->sv.vmcb->save;
    switch (r) {
    case HVM_REG_RIP:
        return s->rip;
    case HVM_REG_RSP:
        return v->gprs[GPR_RSP];
    case HVM_REG_RFLAGS:
        return s->rflags;
    case HVM_REG_CR0:
        return s->cr0;
    case HVM_REG_CR3:
        return s->cr3;
    case HVM_REG_CR4:
        return s->cr4;
    case HVM_REG_EFER:
        return guest_efer(state(v));
    case HVM_REG_PAT:
        return s->g_pat;
    case HVM_REG_DR6:
        return s->dr6;
    case HVM_REG_DR7:
        return s->dr7;
    }
    return 0;
}

static bool svm_set_reg(struct vcpu *v, enum hvm_reg r, uint64_t val)
{
    struct svm_vcpu_state *st = state(v);
    struct vmcb_save_area *s = &st->sv.vmcb->save;
    switch (r) {
    case HVM_REG_RIP:
        s->rip = val;
        return true;
    case HVM_REG_RSP:
        v->gprs[GPR_RSP] = val;
        return true;
    case HVM_REG_RFLAGS:
        s->rflags = val;
        return true;
    case HVM_REG_CR0: {
        uint64_t old = s->cr0;
        s->cr0 = val;
        /* The CR0 write was intercepted, so long mode turns on and off here
         * as the CPU would do it; LME reaches the VMCB with paging. */
        if ((val & CR0_PG) && !(old & CR0_PG) && st->efer_lme)
            s->efer |= EFER_LME | EFER_LMA;
        else if (!(val & CR0_PG) && (old & CR0_PG))
            s->efer &= ~(EFER_LME | EFER_LMA);
        return true;
    }
    case HVM_REG_CR3:
        s->cr3 = val;
        return true;
    case HVM_REG_CR4:
        if (val & (CR4_VMXE | CR4_SMXE | (1ULL << 15) | (1ULL << 19) | ~0xffffffULL))
            return false;
        s->cr4 = val;
        return true;
    case HVM_REG_EFER:
        st->efer_lme = val & EFER_LME;
        s->efer = (val & ~EFER_LME) | EFER_SVME_BIT;
        if (st->efer_lme && (s->cr0 & CR0_PG))
            s->efer |= EFER_LME;
        return true;
    case HVM_REG_PAT:
        s->g_pat = val;
        return true;
    case HVM_REG_DR6: /* bits 63:32 must be zero or VMRUN fails */
        s->dr6 = val & 0xffffffffULL;
        return true;
    case HVM_REG_DR7:
        s->dr7 = val & 0xffffffffULL;
        return true;
    }
    return false;
}

static void svm_get_segment(struct vcpu *v, enum hvm_seg sg, struct hvm_segment *out)
{
    const struct vmcb_save_area *s = &state(v)->sv.vmcb->save;
    const struct vmcb_seg *segs[] = {&s->es, &s->cs, &s->ss, &s->ds, &s->fs, &s->gs};
    const struct vmcb_seg *g = segs[sg];
    out->selector = g->selector;
    out->base = g->base;
    out->limit = g->limit;
    out->attr = svm_attrib_to_ar(g->attrib);
}

static unsigned svm_cpl(struct vcpu *v)
{
    return state(v)->sv.vmcb->save.cpl;
}

static bool svm_long_mode(struct vcpu *v)
{
    return state(v)->sv.vmcb->save.efer & EFER_LMA;
}

static bool svm_get_pdptes(struct vcpu *v, uint64_t out[4])
{
    return false; /* AMD walks the PAE PDPTEs from memory */
}

static void svm_set_activity(struct vcpu *v, enum hvm_activity a)
{
    /* SVM has no wait-for-SIPI state: vcpu_wait_for_sipi keeps such a
     * vCPU out of VMRUN. */
}

static void svm_skip_instruction(struct vcpu *v, unsigned len)
{
    svm_skip(state(v)->sv.vmcb, len);
}

static void svm_set_tsc_offset(struct vcpu *v, uint64_t offset)
{
    state(v)->sv.vmcb->control.tsc_offset = offset;
}

/* --- Events --- */

static uint32_t svm_event_blocking(struct vcpu *v)
{
    const struct vmcb *vmcb = state(v)->sv.vmcb;
    uint32_t b = 0;
    if (vmcb->control.interrupt_state & SVM_INTERRUPT_SHADOW)
        b |= HVM_BLOCK_SHADOW;
    if (state(v)->nmi_masked)
        b |= HVM_BLOCK_NMI;
    if (!(vmcb->save.rflags & RFLAGS_IF_BIT))
        b |= HVM_BLOCK_IF;
    return b;
}

static void svm_inject_event(struct vcpu *v, const struct vcpu_event *e)
{
    struct vmcb *vmcb = state(v)->sv.vmcb;
    uint8_t advance;
    vmcb->control.event_inj = svm_eventinj(e->type, e->vector, e->has_error, e->error, e->insn_len,
                                           vmcb->save.cr0 & CR0_PE, &advance);
    if (advance)
        svm_skip(vmcb, advance);
    if (e->type == EVENT_NMI)
        state(v)->nmi_masked = true;
}

static void svm_set_windows(struct vcpu *v, bool nmi, bool irq)
{
    struct vmcb *vmcb = state(v)->sv.vmcb;
    svm_set_nmi_window(vmcb, nmi);
    svm_set_irq_window(vmcb, irq);
}

static void svm_snapshot(struct vcpu *v, struct vcpu_snapshot *out)
{
    const struct vmcb_save_area *s = &state(v)->sv.vmcb->save;
    memcpy(out->gprs, v->gprs, sizeof(out->gprs));
    out->rip = s->rip;
    out->rsp = v->gprs[GPR_RSP];
    out->rflags = s->rflags;
    out->cr0 = s->cr0;
    out->cr3 = s->cr3;
    out->cr4 = s->cr4;
    out->efer = guest_efer(state(v));
    out->cs = s->cs.selector;
}

/* --- Running --- */

static enum vcpu_run_result svm_run(struct vcpu *v, uint64_t slice_tsc)
{
    struct svm_vcpu_state *s = state(v);

    if (!s->set_up && svm_reset(v)) {
        vcpu_crash(v, "cannot build the VMCB");
        return RUN_STOPPED;
    }
    /* Another VM ran here before: keep it from steering our predictions. */
    spec_vm_switch(v->vm_info.vm_serial);
    uint64_t slice_end = slice_tsc ? rdtsc() + slice_tsc : 0;
    enum vcpu_run_result r;
    for (;;) {
        if (vcpu_run_should_leave(v, &r))
            return r;
        irq_disable();
        uint64_t now = rdtsc(), until, next_device;
        if (!vcpu_entry_budget(v, now, slice_end, &until, &next_device)) {
            irq_enable();
            return RUN_PREEMPTED;
        }
        /* SVM has no preemption timer: a host timer interrupt ends the
         * slice (it exits the guest: svm_enter runs it with host
         * interrupts on). */
        vcpu_arm_slice_timer(until ? now + until : 0);
        vcpu_inject_pending(v);
        v->root_cycles += now - v->entry_tsc;
        /* The neutral layer keeps the guest's CR2 in the CPU while in root
         * mode (vcpu switch, #PF injection); VMRUN loads it from the VMCB. */
        s->sv.vmcb->save.cr2 = read_cr2();
        svm_checked_state_save(s->sv.vmcb, &s->at_entry);
        uint64_t t1 = svm_vcpu_enter(&s->sv, v->gprs, 1);
        v->guest_cycles += t1 - now;
        v->entry_tsc = t1;
        /* QEMU TCG lets XSETBV through without VMEXIT_XSETBV. */
        if (s->host_osxsave && !vcpu_xcr0_seen(v, xgetbv(0))) {
            irq_enable();
            return RUN_STOPPED;
        }
        enum exit_action a = svm_handle_exit(v, t1, &now);
        irq_enable();
        if (vcpu_run_ends(a, now, slice_end, &r))
            return r;
    }
}

/* A running VM's maps (hvm/backend.h io_intercept, flush_second_level).
 * The IOPM is memory the CPU reads at each I/O instruction; vm_sync_vcpus
 * makes every CPU of the VM leave the guest before a change counts. */
static void svm_io_intercept(struct vcpu *v, uint16_t base, uint32_t count, bool intercept)
{
    struct svm_vcpu_state *s = state(v);
    if (s && s->sv.iopm_pa)
        io_bitmap_set((uint8_t *)s->sv.iopm_pa, base, count, intercept);
}

static void svm_flush_second_level(struct vcpu *v)
{
    /* No INVEPT under SVM: the next VMRUN flushes this vCPU's ASID
     * (TLB_CONTROL, or a fresh ASID without FlushByAsid). */
    struct svm_vcpu_state *s = state(v);
    if (s)
        __atomic_store_n(&s->sv.flush_pending, true, __ATOMIC_SEQ_CST);
}

const struct vcpu_backend svm_backend = {
    .name = "svm",
    .probe = svm_probe,
    .describe = svm_describe,
    .cpu_enable = svm_cpu_enable,
    .disable_all_cpus = svm_disable_all_cpus,
    .npt_page_sizes = svm_npt_page_sizes,
    .npt_format = &ept_format_npt,
    .set_option = svm_set_option,
    .init = svm_init,
    .destroy = svm_destroy,
    .unload = svm_unload,
    .reset = svm_reset,
    .run = svm_run,
    .get_reg = svm_get_reg,
    .set_reg = svm_set_reg,
    .get_segment = svm_get_segment,
    .cpl = svm_cpl,
    .long_mode = svm_long_mode,
    .get_pdptes = svm_get_pdptes,
    .set_activity = svm_set_activity,
    .skip_instruction = svm_skip_instruction,
    .set_tsc_offset = svm_set_tsc_offset,
    .io_intercept = svm_io_intercept,
    .flush_second_level = svm_flush_second_level,
    .event_blocking = svm_event_blocking,
    .inject_event = svm_inject_event,
    .set_windows = svm_set_windows,
    .exit_reason_name = svm_exit_slot_name,
    .snapshot = svm_snapshot,
};
