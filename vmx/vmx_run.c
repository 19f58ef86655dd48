/* The VMX backend of the vCPU contract (hvm/backend.h): create, run,
 * write events, destroy. What to inject and when is the vendor-neutral
 * layer's (vcpu/inject.c); this file writes the VMCS fields. */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/spec_ctrl.h"
#include "arch/x86_64/timer.h"
#include "ept/invept.h"
#include "lib/log.h"
#include "lib/string.h"
#include "mm/pmm.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"
#include "vmx/vmx_caps.h"
#include "vmx/vmx_exit.h"

static int vmx_init(struct vcpu *v)
{
    struct vmx_vcpu *x;
    uint64_t page = pmm_alloc(1, 1, "vcpu");
    if (!page)
        return -1;
    x = (struct vmx_vcpu *)page;
    memset(x, 0, 4096);
    x->vmcs_phys = pmm_alloc(1, 1, "vmcs");
    x->msr_bitmap_phys = pmm_alloc(1, 1, "msr bitmap");
    x->io_bitmap_phys = pmm_alloc(2, 1, "io bitmaps");
    x->vapic_phys = pmm_alloc(1, 1, "virtual-apic page");
    if (!x->vmcs_phys || !x->msr_bitmap_phys || !x->io_bitmap_phys || !x->vapic_phys) {
        if (x->vapic_phys)
            pmm_free(x->vapic_phys, 1);
        if (x->vmcs_phys)
            pmm_free(x->vmcs_phys, 1);
        if (x->msr_bitmap_phys)
            pmm_free(x->msr_bitmap_phys, 1);
        if (x->io_bitmap_phys)
            pmm_free(x->io_bitmap_phys, 2);
        pmm_free(page, 1);
        return -1;
    }
    memset((void *)x->vmcs_phys, 0, 4096);
    memset((void *)x->vapic_phys, 0, 4096); /* VTPR 0: the guest's CR8 at reset */
    *(uint32_t *)x->vmcs_phys = vmx_caps.revision_id;
    x->loaded_cpu = -1;
    v->arch = x;
    spec_ctrl_probe();
    return 0;
}

static void vmx_unload(struct vcpu *v)
{
    struct vmx_vcpu *x = v->arch;
    struct vmx_cpu *vc = vmx_this_cpu();
    if (!x || x->loaded_cpu < 0)
        return;
    /* Runs on the CPU that has it loaded (the scheduler's CPU): drop the
     * translations this CPU cached for the VM before its EPT root and
     * VPID can be reused. */
    if (vmx_caps.invept_single)
        invept_single(ept_eptp(v->vm_info.ept, false));
    else if (vmx_caps.invept_all)
        invept_all();
    if (vmx_caps.invvpid)
        invvpid_single(v->vpid);
    vmcs_clear(x->vmcs_phys);
    x->loaded_cpu = -1;
    x->launched = false;
    x->host_rsp = 0;
    if (vc->current == v)
        vc->current = NULL;
}

static void vmx_destroy(struct vcpu *v)
{
    struct vmx_vcpu *x = v->arch;
    if (!x)
        return;
    pmm_free(x->vmcs_phys, 1);
    pmm_free(x->msr_bitmap_phys, 1);
    pmm_free(x->io_bitmap_phys, 2);
    pmm_free(x->vapic_phys, 1);
    pmm_free((uint64_t)x, 1);
    v->arch = NULL;
}

uint32_t vmx_event_blocking(struct vcpu *v)
{
    uint32_t intr = (uint32_t)vmcs_read(GUEST_INTERRUPTIBILITY_INFO);
    uint32_t b = 0;
    if (intr & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS))
        b |= HVM_BLOCK_SHADOW;
    if (intr & GUEST_INTR_STATE_NMI)
        b |= HVM_BLOCK_NMI;
    if (!(vmcs_read(GUEST_RFLAGS) & RFLAGS_IF))
        b |= HVM_BLOCK_IF;
    return b;
}

void vmx_inject_event(struct vcpu *v, const struct vcpu_event *e)
{
    /* enum vcpu_event_type is VMX's interruption type. */
    uint32_t info = INTR_INFO_VALID | ((uint32_t)e->type << 8) | e->vector;
    if (e->has_error) {
        info |= INTR_INFO_DELIVER_CODE;
        vmcs_write(VM_ENTRY_EXCEPTION_ERROR_CODE, e->error);
    }
    vmcs_write(VM_ENTRY_INTR_INFO_FIELD, info);
    if (e->type == EVENT_SW_INTR || e->type == EVENT_PRIV_SW_EXCEPTION ||
        e->type == EVENT_SW_EXCEPTION)
        vmcs_write(VM_ENTRY_INSTRUCTION_LEN, e->insn_len);
    /* A halted guest wakes for the interrupt. */
    if (e->type == EVENT_EXT_INTR && vmcs_read(GUEST_ACTIVITY_STATE) == GUEST_ACTIVITY_HLT)
        vmcs_write(GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_ACTIVE);
}

void vmx_set_windows(struct vcpu *v, bool nmi, bool irq)
{
    struct vmx_vcpu *x = v->arch;
    uint32_t proc = x->proc & ~(CPU_BASED_NMI_WINDOW_EXITING | CPU_BASED_INTR_WINDOW_EXITING);
    if (nmi)
        proc |= CPU_BASED_NMI_WINDOW_EXITING;
    if (irq || x->apicv_window) /* a vector held back by vmx_apicv.c */
        proc |= CPU_BASED_INTR_WINDOW_EXITING;
    if (proc != x->proc) {
        x->proc = proc;
        vmcs_write(CPU_BASED_VM_EXEC_CONTROL, proc);
    }
}

static int vmx_reset(struct vcpu *v)
{
    struct vmx_vcpu *x = v->arch;
    x->set_up = false;
    return vmx_vcpu_setup_vmcs(v);
}

static void make_current(struct vcpu *v, struct vmx_vcpu *x)
{
    struct vmx_cpu *vc = vmx_this_cpu();
    if (vc->current == v)
        return;
    if (!vmcs_load(x->vmcs_phys)) {
        vcpu_crash(v, "VMPTRLD failed");
        return;
    }
    x->loaded_cpu = (int)this_cpu_id();
    vc->current = v;
    /* Another VM ran here before: keep it from steering our predictions. */
    spec_vm_switch(v->vm_info.vm_serial);
}

/* Slices end by the VMX preemption timer, or by a host LAPIC timer whose
 * interrupt makes the guest exit (`vmx.preemption_timer=off`: for CPUs
 * whose preemption timer is missing or unreliable; vcpu_arm_slice_timer). */
bool vmx_use_preemption_timer = true;

/* Programs the preemption timer for `ticks` TSC cycles, or turns it off. */
static void set_slice(struct vmx_vcpu *x, uint64_t slice_tsc)
{
    bool want = slice_tsc && vmx_caps.preemption_timer && vmx_use_preemption_timer;
    if (!vmx_use_preemption_timer || !vmx_caps.preemption_timer)
        vcpu_arm_slice_timer(slice_tsc ? rdtsc() + slice_tsc : 0);
    if (want != x->slicing) {
        /* "Save timer value" is only valid with the timer active. */
        if (want) {
            x->pin |= PIN_BASED_VMX_PREEMPTION_TIMER;
            x->exit_ctl |= VM_EXIT_SAVE_VMX_PREEMPTION_TIMER;
        } else {
            x->pin &= ~PIN_BASED_VMX_PREEMPTION_TIMER;
            x->exit_ctl &= ~VM_EXIT_SAVE_VMX_PREEMPTION_TIMER;
        }
        vmcs_write(PIN_BASED_VM_EXEC_CONTROL, x->pin);
        vmcs_write(VM_EXIT_CONTROLS, x->exit_ctl);
        x->slicing = want;
    }
    if (want) {
        uint64_t ticks = slice_tsc >> vmx_caps.preemption_timer_shift;
        vmcs_write(VMX_PREEMPTION_TIMER_VALUE, ticks > 0xffffffffULL ? 0xffffffffU : ticks ?: 1);
    }
}

/* An interrupt a fast exit injected (vcpu_fast_apic) is still in the entry
 * fields when the fast re-entries end before the next entry: it goes back
 * as v->reinject, so that the full path delivers it first instead of
 * overwriting it with another event (its vector is already in service). */
static void requeue_injected(struct vcpu *v)
{
    uint32_t info = (uint32_t)vmcs_read(VM_ENTRY_INTR_INFO_FIELD);
    if (!(info & INTR_INFO_VALID))
        return;
    vmcs_write(VM_ENTRY_INTR_INFO_FIELD, 0);
    v->reinject = (struct vcpu_event){true,
                                      (uint8_t)((info & INTR_TYPE_MASK) >> 8),
                                      (uint8_t)(info & INTR_INFO_VECTOR_MASK),
                                      false,
                                      0,
                                      0};
}

/* The end of the next chunk of fast re-entries (chunk 0: no chunks). */
static inline uint64_t fast_chunk_end(uint64_t now, uint64_t limit, uint64_t chunk)
{
    return chunk && limit - now > chunk ? now + chunk : limit;
}

static enum vcpu_run_result vmx_run_loop(struct vcpu *v, uint64_t slice_tsc)
{
    struct vmx_vcpu *x = v->arch;

    make_current(v, x);
    if (!x->set_up && vmx_vcpu_setup_vmcs(v)) {
        vcpu_crash(v, "cannot build the VMCS");
        return RUN_STOPPED;
    }
    uint64_t slice_end = slice_tsc ? rdtsc() + slice_tsc : 0;
    enum vcpu_run_result r;
    for (;;) {
        if (vcpu_run_should_leave(v, &r))
            return r;
        irq_disable();
        uint64_t now = rdtsc(), until, next;
        if (!vcpu_entry_budget(v, now, slice_end, &until, &next)) {
            irq_enable();
            return RUN_PREEMPTED;
        }
        set_slice(x, until);
        /* Cleared before looking: news from now on ends the fast re-entries. */
        v->intr_news = false;
        v->deadline_moved = false;
        v->fast_deadline = UINT64_MAX;
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        vcpu_inject_pending(v);
        /* Fast re-entries go on until the end of the slice or the next
         * device deadline (whose interrupt is the full path's), in chunks of
         * 1/64 of the slice: the preemption timer counts guest time only,
         * so after each chunk of fast exits it is set again to what is
         * left, and host interrupts get a moment in. */
        uint64_t limit = slice_end ? slice_end : UINT64_MAX;
        if (next < limit)
            limit = next;
        uint64_t chunk = slice_end ? slice_tsc >> 6 : 0;
        uint64_t fast_until = fast_chunk_end(now, limit, chunk);
        /* inject_pending delivers one event per entry: with another still
         * queued, the next exit must come back here to deliver it. */
        if (v->exception_pending | v->nmi_pending)
            fast_until = 0;
        enum exit_action a;
        int launched = x->launched;
        v->root_cycles += now - v->entry_tsc; /* since the last exit */
        for (;;) {
            /* `now` is a TSC reading taken just before: close enough, and
             * it saves a RDTSC per round trip. */
            uint64_t t1; /* read by the stub right after the exit */
            int fail = vmx_enter_inline(v->gprs, launched, &x->host_rsp, &t1);
            v->guest_cycles += t1 - now;
            if (fail) {
                v->entry_tsc = t1;
                irq_enable();
                vmx_report_entry_failure(v, fail);
                return RUN_STOPPED;
            }
            if (!launched) {
                launched = 1;
                x->launched = true;
            }
            a = vmx_take_exit(v, t1, &now);
            if (a != EXIT_ACT_FAST) {
                v->entry_tsc = t1;
                break;
            }
            /* Nothing to inject and no device to tick (see vmx_take_exit), and
             * the root time up to `now` is counted: only the requests and
             * the slice need a look. Interrupts stay off; a host interrupt
             * arriving now makes the next entry exit at once, and that exit
             * takes the full path. */
            if (__builtin_expect(!(v->requests || now >= fast_until), 1))
                continue;
            /* The guest moved its TSC deadline (vcpu_fast_apic): before the
             * next device deadline, the preemption timer is set to it below,
             * as at the end of a chunk. */
            if (v->deadline_moved) {
                v->deadline_moved = false;
                if (v->fast_deadline < limit)
                    limit = v->fast_deadline;
                v->fast_deadline = UINT64_MAX;
                fast_until = 0;
            }
            if (!v->requests && now < limit) {
                /* A chunk is over: let pending host interrupts in, then
                 * give the preemption timer the rest (the root time since
                 * `now` is root time). */
                irq_enable();
                __asm__ volatile("nop"); /* STI's shadow: one instruction with IF=1 */
                irq_disable();
                uint64_t t = rdtsc();
                v->root_cycles += t - now;
                now = t;
                if (!v->requests && now < limit) {
                    set_slice(x, vcpu_fast_budget(now, limit));
                    fast_until = fast_chunk_end(now, limit, chunk);
                    continue;
                }
            }
            v->entry_tsc = now;
            requeue_injected(v);
            vmx_apicv_seen(v); /* fast exits leave it for the full path */
            a = EXIT_ACT_CONTINUE;
            break;
        }
        /* A real-time vCPU's CPU takes only its guest's interrupts (its
         * timer, its IPIs, emulated devices' by IPI: vdev/virq_rt.c): left
         * off, they wait in the local APIC for the next entry instead of
         * landing in the host's IDT during an exit. */
        if (!v->vm_info.realtime)
            irq_enable();
        if (vcpu_run_ends(a, now, slice_end, &r))
            return r;
    }
}

static enum vcpu_run_result vmx_run(struct vcpu *v, uint64_t slice_tsc)
{
    if (v->vm_info.realtime && !((struct vmx_vcpu *)v->arch)->launched)
        lapic_hand_to_guest();
    enum vcpu_run_result r = vmx_run_loop(v, slice_tsc);
    /* A real-time vCPU drove this CPU's local APIC itself: take it back
     * before anything else of the host's runs here. */
    if (r == RUN_STOPPED && v->vm_info.realtime) {
        lapic_reclaim_from_guest();
        timer_resume_cpu();
    }
    return r;
}

static bool vmx_long_mode(struct vcpu *v)
{
    return ((struct vmx_vcpu *)v->arch)->efer & EFER_LMA;
}

static void vmx_set_tsc_offset(struct vcpu *v, uint64_t offset)
{
    vmcs_write(TSC_OFFSET, offset);
}

const struct vcpu_backend vmx_backend = {
    .name = "vmx",
    .realtime_lapic = true,
    .probe = vmx_probe,
    .describe = vmx_describe,
    .cpu_enable = vmx_cpu_enable,
    .disable_all_cpus = vmx_disable_all_cpus,
    .npt_page_sizes = vmx_npt_page_sizes,
    .set_option = vmx_set_option,
    .init = vmx_init,
    .destroy = vmx_destroy,
    .unload = vmx_unload,
    .reset = vmx_reset,
    .run = vmx_run,
    .get_reg = vmx_get_reg,
    .set_reg = vmx_set_reg,
    .get_segment = vmx_get_segment,
    .cpl = vmx_guest_cpl,
    .long_mode = vmx_long_mode,
    .get_pdptes = vmx_get_pdptes,
    .set_activity = vmx_set_activity,
    .skip_instruction = vmx_skip_instruction,
    .set_tsc_offset = vmx_set_tsc_offset,
    .io_intercept = vmx_io_intercept,
    .flush_second_level = vmx_flush_second_level,
    .event_blocking = vmx_event_blocking,
    .inject_event = vmx_inject_event,
    .set_windows = vmx_set_windows,
    .apicv_load = vmx_apicv_load,
    .apicv_uses_access_page = vmx_apicv_uses_access_page,
    .spec_ctrl_load = vmx_spec_ctrl_load,
    .exit_reason_name = vmx_exit_reason_name,
    .snapshot = vmx_snapshot,
};
