/* The VMX backend of the vCPU interface: create, run, inject, destroy. */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/exc_merge.h"
#include "arch/x86_64/percpu.h"
#include "arch/x86_64/spec_ctrl.h"
#include "arch/x86_64/timer.h"
#include "ept/invept.h"
#include "vcpu/msr.h"
#include "vdev/platform.h"
#include "vdev/virq.h"
#include "vcpu/vm.h"
#include "lib/log.h"
#include "lib/string.h"
#include "mm/pmm.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"
#include "vmx/vmx_caps.h"
#include "vmx/vmx_exit.h"

struct vmx_cpu *vmx_this_cpu(void);

static const struct guest_msr_backend vmx_msr_backend;

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
    guest_msr_backend = &vmx_msr_backend;
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
        invept_single(ept_eptp(&v->vm->ept, false));
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

void vmx_queue_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
    /* A second exception while one is queued: the SDM's double-fault rules
     * (benign, contributory and page-fault classes). */
    if (v->exception_pending) {
        switch (x86_merge_exceptions(v->exception_vector, vector)) {
        case EXC_MERGE_TRIPLE_FAULT:
            vm_crash(v, "triple fault (exception %u while delivering #DF)", vector);
            return;
        case EXC_MERGE_DOUBLE_FAULT:
            vector = 8;
            has_error = true;
            error = 0;
            break;
        case EXC_MERGE_SECOND:
            break;
        }
    }
    v->exception_pending = true;
    v->exception_vector = vector;
    v->exception_has_error = has_error;
    v->exception_error = error;
}

static void vmx_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
    vmx_queue_exception(v, vector, has_error, error);
}

unsigned vmx_guest_cpl(struct vcpu *v)
{
    uint32_t ar = (uint32_t)vmcs_read(GUEST_SS_AR_BYTES);
    return (ar >> 5) & 3;
}

static unsigned vmx_cpl(struct vcpu *v)
{
    return vmx_guest_cpl(v);
}

void vmx_skip_instruction(struct vcpu *v)
{
    vmx_skip_instruction_inline();
}

static bool error_code_allowed(uint8_t vector)
{
    return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21;
}

/* One event is injected per entry: when an NMI or an interrupt waits
 * behind it, exit as soon as the guest can take it (after the injected
 * event's handler is entered), instead of at some later unrelated exit. */
static void request_windows(struct vcpu *v, struct vmx_vcpu *x, int irq)
{
    uint32_t proc = x->proc;
    if (v->nmi_pending)
        proc |= CPU_BASED_NMI_WINDOW_EXITING;
    if (irq >= 0)
        proc |= CPU_BASED_INTR_WINDOW_EXITING;
    if (proc != x->proc) {
        x->proc = proc;
        vmcs_write(CPU_BASED_VM_EXEC_CONTROL, proc);
    }
}

/* Chooses the one event to deliver at this entry, in priority order. */
static void inject_pending(struct vcpu *v, struct vmx_vcpu *x)
{
    struct vmx_exit_state *es = vmx_exit_state(v);
    int irq = v->vm->platform ? vcpu_pending_interrupt(v) : -1;
    if (!(es->reinject_info | v->exception_pending | v->nmi_pending) && irq < 0) {
        if (x->proc & CPU_BASED_INTR_WINDOW_EXITING) {
            x->proc &= ~CPU_BASED_INTR_WINDOW_EXITING;
            vmcs_write(CPU_BASED_VM_EXEC_CONTROL, x->proc);
        }
        return; /* the common case: nothing to deliver */
    }
    if (es->reinject_info & INTR_INFO_VALID) {
        /* An event interrupted by the exit is delivered again first. */
        vmcs_write(VM_ENTRY_INTR_INFO_FIELD, es->reinject_info & ~INTR_INFO_NMI_UNBLOCKING);
        if (es->reinject_info & INTR_INFO_DELIVER_CODE)
            vmcs_write(VM_ENTRY_EXCEPTION_ERROR_CODE, es->reinject_error);
        vmcs_write(VM_ENTRY_INSTRUCTION_LEN, es->reinject_len);
        es->reinject_info = 0;
        request_windows(v, x, irq);
        return;
    }
    if (v->exception_pending) {
        uint32_t info = INTR_INFO_VALID | INTR_TYPE_HARD_EXCEPTION | v->exception_vector;
        bool pe = x->cr0_shadow & CR0_PE;
        if (v->exception_has_error && pe && error_code_allowed(v->exception_vector)) {
            info |= INTR_INFO_DELIVER_CODE;
            vmcs_write(VM_ENTRY_EXCEPTION_ERROR_CODE, v->exception_error);
        }
        vmcs_write(VM_ENTRY_INTR_INFO_FIELD, info);
        v->exception_pending = false;
        request_windows(v, x, irq);
        return;
    }
    uint32_t intr = (uint32_t)vmcs_read(GUEST_INTERRUPTIBILITY_INFO);
    bool shadow = intr & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS);
    if (v->nmi_pending) {
        if (!shadow && !(intr & GUEST_INTR_STATE_NMI)) {
            vmcs_write(VM_ENTRY_INTR_INFO_FIELD, INTR_INFO_VALID | INTR_TYPE_NMI | 2);
            v->nmi_pending = false;
            x->proc &= ~CPU_BASED_NMI_WINDOW_EXITING;
        } else {
            x->proc |= CPU_BASED_NMI_WINDOW_EXITING;
        }
        vmcs_write(CPU_BASED_VM_EXEC_CONTROL, x->proc);
        return;
    }
    if (irq >= 0) {
        bool if_set = vmcs_read(GUEST_RFLAGS) & RFLAGS_IF;
        if (if_set && !shadow) {
            int vec = vcpu_ack_interrupt(v, irq);
            vmcs_write(VM_ENTRY_INTR_INFO_FIELD,
                       INTR_INFO_VALID | INTR_TYPE_EXT_INTR | (uint32_t)(vec & 0xff));
            /* A halted guest wakes for the interrupt. */
            if (vmcs_read(GUEST_ACTIVITY_STATE) == GUEST_ACTIVITY_HLT)
                vmcs_write(GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_ACTIVE);
            x->proc &= ~CPU_BASED_INTR_WINDOW_EXITING;
        } else {
            /* Blocked now: exit as soon as the guest can take it. */
            x->proc |= CPU_BASED_INTR_WINDOW_EXITING;
        }
        vmcs_write(CPU_BASED_VM_EXEC_CONTROL, x->proc);
    }
}

/* INIT puts an AP into wait-for-SIPI; SIPI starts it in real mode at
 * vector * 4 KiB, as on hardware. Returns true when the vCPU must wait. */
static bool handle_init_sipi(struct vcpu *v)
{
    uint8_t vec;
    int r = platform_take_init_sipi(v, &vec);
    struct vmx_vcpu *x = v->arch;
    if (r == 1) {
        v->waiting_sipi = true;
        return true;
    }
    if (r == 2 && v->waiting_sipi) {
        v->waiting_sipi = false;
        memset(&v->boot, 0, sizeof(v->boot));
        v->boot.mode = ENTRY_REAL_MODE;
        v->boot.rip = (uint64_t)vec << 12;
        x->set_up = false;
        vmx_vcpu_setup_vmcs(v);
        return false;
    }
    return v->waiting_sipi;
}

static void make_current(struct vcpu *v, struct vmx_vcpu *x)
{
    struct vmx_cpu *vc = vmx_this_cpu();
    if (vc->current == v)
        return;
    if (!vmcs_load(x->vmcs_phys)) {
        vm_crash(v, "VMPTRLD failed");
        return;
    }
    x->loaded_cpu = (int)this_cpu_id();
    vc->current = v;
    /* Another VM ran here before: keep it from steering our predictions. */
    if (vc->last_vm != v->vm) {
        if (spec_plan.ibpb)
            wrmsr(MSR_IA32_PRED_CMD, 1);
        vc->last_vm = v->vm;
    }
}

/* Slices end by the VMX preemption timer, or by a host LAPIC timer whose
 * interrupt makes the guest exit (`vmx.preemption_timer=off`: for CPUs
 * whose preemption timer is missing or unreliable). */
bool vmx_use_preemption_timer = true;
static struct timer slice_timers[MAX_CPUS];
static uint64_t slice_timer_deadline[MAX_CPUS];

static void slice_timer_fired(struct timer *t, void *arg)
{
    slice_timer_deadline[(uintptr_t)arg] = 0;
}

static void arm_host_slice_timer(uint64_t deadline)
{
    unsigned c = this_cpu_id();
    if (slice_timer_deadline[c] == deadline)
        return;
    if (!slice_timers[c].fn)
        timer_setup(&slice_timers[c], slice_timer_fired, (void *)(uintptr_t)c);
    slice_timer_deadline[c] = deadline;
    if (deadline)
        timer_add(&slice_timers[c], deadline);
    else
        timer_cancel(&slice_timers[c]);
}

/* Programs the preemption timer for `ticks` TSC cycles, or turns it off. */
static void set_slice(struct vmx_vcpu *x, uint64_t slice_tsc)
{
    bool want = slice_tsc && vmx_caps.preemption_timer && vmx_use_preemption_timer;
    if (!vmx_use_preemption_timer || !vmx_caps.preemption_timer)
        arm_host_slice_timer(slice_tsc ? rdtsc() + slice_tsc : 0);
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

static enum vcpu_run_result vmx_run(struct vcpu *v, uint64_t slice_tsc)
{
    struct vmx_vcpu *x = v->arch;

    make_current(v, x);
    if (!x->set_up && vmx_vcpu_setup_vmcs(v)) {
        vm_crash(v, "cannot build the VMCS");
        return RUN_STOPPED;
    }
    uint64_t slice_end = slice_tsc ? rdtsc() + slice_tsc : 0;
    for (;;) {
        if (v->stop_request)
            return RUN_STOPPED;
        if (v->pause_request || v->kick) {
            v->kick = false;
            return RUN_PREEMPTED;
        }
        if (v->vm->platform && handle_init_sipi(v))
            return RUN_HALTED;
        irq_disable();
        uint64_t now = rdtsc();
        if (slice_end && now >= slice_end) {
            irq_enable();
            return RUN_PREEMPTED;
        }
        /* The next of: the end of the slice, a device deadline. */
        uint64_t until = slice_end ? slice_end - now : 0;
        if (v->vm->platform) {
            uint64_t next = vm_timers_tick(v->vm, now);
            if (next != VTIME_NEVER) {
                uint64_t d = next > now ? next - now : 1;
                if (!until || d < until)
                    until = d;
            }
        }
        /* Bounded where the CPU asks for it (the console CPU: see percpu.h). */
        uint64_t run_max = this_cpu()->guest_run_max_tsc;
        if (run_max && (!until || until > run_max))
            until = run_max;
        set_slice(x, until);
        inject_pending(v, x);
        /* Fast re-entries go on until the end of the slice, or until
         * 1/64 of the slice has passed: the preemption timer counts guest
         * time only, so root time spent in fast exits makes the slice
         * overrun by at most that much before the timer is set again. */
        uint64_t fast_until = UINT64_MAX;
        if (slice_end)
            fast_until = slice_end - now > (slice_tsc >> 6) ? now + (slice_tsc >> 6) : slice_end;
        /* inject_pending delivers one event per entry: with another still
         * queued, the next exit must come back here to deliver it. */
        if (v->exception_pending | v->nmi_pending)
            fast_until = 0;
        enum vmx_exit_action a;
        v->root_cycles += now - v->entry_tsc; /* since the last exit */
        for (;;) {
            /* `now` is a TSC reading taken just before: close enough, and
             * it saves a RDTSC per round trip. */
            uint64_t t1; /* read by the stub right after the exit */
            int fail = vmx_enter_inline(v->gprs, x->launched, &x->host_rsp, &t1);
            v->guest_cycles += t1 - now;
            if (fail) {
                v->entry_tsc = t1;
                irq_enable();
                vmx_report_entry_failure(v, fail);
                return RUN_STOPPED;
            }
            x->launched = true;
            a = vmx_take_exit(v, t1, &now);
            if (a != VMX_EXIT_FAST) {
                v->entry_tsc = t1;
                break;
            }
            /* Nothing to inject and no device to tick (see vmx_take_exit), and
             * the root time up to `now` is counted: only the requests and
             * the slice need a look. Interrupts stay off; a host interrupt
             * arriving now makes the next entry exit at once, and that exit
             * takes the full path. */
            if ((v->stop_request | v->pause_request | v->kick) || now >= fast_until) {
                v->entry_tsc = now;
                a = VMX_EXIT_CONTINUE;
                break;
            }
        }
        irq_enable();
        switch (a) {
        case VMX_EXIT_CONTINUE:
        case VMX_EXIT_FAST:
            break;
        case VMX_EXIT_PREEMPT:
            if (!slice_end || now < slice_end)
                break; /* a device deadline, not the slice: tick and go on */
            return RUN_PREEMPTED;
        case VMX_EXIT_HALT:
            return RUN_HALTED;
        case VMX_EXIT_YIELD:
            return RUN_YIELDED;
        case VMX_EXIT_STOP:
            return RUN_STOPPED;
        }
        if (slice_end && now >= slice_end)
            return RUN_PREEMPTED;
    }
}

static bool vmx_long_mode(struct vcpu *v)
{
    return ((struct vmx_vcpu *)v->arch)->efer & EFER_LMA;
}

static uint64_t msr_get_efer(struct vcpu *v)
{
    return ((struct vmx_vcpu *)v->arch)->efer;
}

static bool msr_set_efer(struct vcpu *v, uint64_t val)
{
    struct vmx_vcpu *x = v->arch;
    uint64_t allowed = EFER_SCE | EFER_LME | EFER_LMA;
    if (cpuid(0x80000001).edx & (1U << 20))
        allowed |= EFER_NXE;
    if (val & ~allowed)
        return false;
    /* LME cannot change while paging is on; LMA is the CPU's to set. */
    if ((x->cr0_shadow & CR0_PG) && ((val ^ x->efer) & EFER_LME))
        return false;
    x->efer = (val & ~EFER_LMA) | (x->efer & EFER_LMA);
    vmcs_write(GUEST_IA32_EFER, x->efer);
    return true;
}

static uint64_t msr_get_pat(struct vcpu *v)
{
    return vmcs_read(GUEST_IA32_PAT);
}

static void msr_set_pat(struct vcpu *v, uint64_t val)
{
    vmcs_write(GUEST_IA32_PAT, val);
    v->msr_pat = val;
}

static void msr_set_tsc_offset(struct vcpu *v, uint64_t offset)
{
    vmcs_write(TSC_OFFSET, offset);
}

static void vmx_snapshot(struct vcpu *v, struct vcpu_snapshot *out)
{
    struct vmx_vcpu *x = v->arch;
    memcpy(out->gprs, v->gprs, sizeof(out->gprs));
    out->gprs[GPR_RSP] = vmcs_read(GUEST_RSP);
    out->rip = vmcs_read(GUEST_RIP);
    out->rsp = out->gprs[GPR_RSP];
    out->rflags = vmcs_read(GUEST_RFLAGS);
    /* Bits outside the guest/host masks change without exits: merge. */
    out->cr0 = (vmcs_read(GUEST_CR0) & ~vmcs_read(CR0_GUEST_HOST_MASK)) |
               (x->cr0_shadow & vmcs_read(CR0_GUEST_HOST_MASK));
    out->cr3 = vmcs_read(GUEST_CR3);
    out->cr4 = (vmcs_read(GUEST_CR4) & ~vmcs_read(CR4_GUEST_HOST_MASK)) |
               (x->cr4_shadow & vmcs_read(CR4_GUEST_HOST_MASK));
    out->efer = x->efer;
    out->cs = (uint16_t)vmcs_read(GUEST_CS_SELECTOR);
}

static const struct guest_msr_backend vmx_msr_backend = {
    msr_get_efer, msr_set_efer, msr_get_pat, msr_set_pat, msr_set_tsc_offset,
};

static const struct vcpu_backend vmx_backend = {
    .name = "vmx",
    .init = vmx_init,
    .destroy = vmx_destroy,
    .run = vmx_run,
    .inject_exception = vmx_inject_exception,
    .cpl = vmx_cpl,
    .long_mode = vmx_long_mode,
    .snapshot = vmx_snapshot,
    .unload = vmx_unload,
    .exit_reason_name = vmx_exit_reason_name,
};

const struct vcpu_backend *vcpu_backend = &vmx_backend;
