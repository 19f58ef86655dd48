/* A boot-time self-test of the SVM backend: builds a VMCB, IOPM, MSRPM
 * and nested page tables with the same code the vCPUs will use, runs a
 * tiny guest through svm_enter and checks every exit. It proves on QEMU
 * (and on real AMD hardware) what the unit tests cannot: the world switch
 * and the VMCB as the CPU reads them. */
#include "svm/svm_boot.h"

#include "arch/x86_64/cpu.h"
#include "ept/ept.h"
#include "lib/log.h"
#include "lib/string.h"
#include "mm/pmm.h"
#include "svm/svm_caps.h"
#include "svm/svm_check.h"
#include "svm/svm_cpu.h"
#include "svm/svm_entry.h"
#include "svm/svm_vcpu.h"

#define GUEST_CODE_GPA 0x1000ULL
#define UNMAPPED_GPA   0x200000ULL
#define GPR_RAX        0
#define GPR_RBX        3

/* 32-bit flat code, paging off; each instruction exits once. */
static const uint8_t guest_code[] = {
    0x0f, 0xa2,                   /* cpuid */
    0xbb, 0x34, 0x12, 0x00, 0x00, /* mov ebx, 0x1234 */
    0xb8, 0x5a, 0x5a, 0x00, 0x00, /* mov eax, 0x5a5a */
    0x0f, 0x01, 0xd9,             /* vmmcall */
    0xe6, 0x80,                   /* out 0x80, al */
    0xa3, 0x00, 0x00, 0x20, 0x00, /* mov [0x200000], eax */
    0xf4,                         /* hlt */
};

/* The exits in order, with the length of the instruction to skip (the
 * self-test knows it; a vCPU without NRIPS decodes, see svm_fetch.h). */
static const struct {
    uint64_t code;
    uint64_t rip; /* guest RIP the exit must report */
    unsigned len;
} steps[] = {
    {VMEXIT_CPUID, GUEST_CODE_GPA + 0, 2}, {VMEXIT_VMMCALL, GUEST_CODE_GPA + 12, 3},
    {VMEXIT_IOIO, GUEST_CODE_GPA + 15, 2}, {VMEXIT_NPF, GUEST_CODE_GPA + 17, 5},
    {VMEXIT_HLT, GUEST_CODE_GPA + 22, 1},
};

static uint64_t st_alloc(void *ctx)
{
    uint64_t pa = pmm_alloc(1, 1, "svm self-test");
    if (pa)
        memset((void *)pa, 0, 4096);
    return pa;
}

static void st_free(void *ctx, uint64_t pa)
{
    pmm_free(pa, 1);
}

static void *st_virt(void *ctx, uint64_t pa)
{
    return (void *)pa; /* the hypervisor's identity map */
}

static const struct ept_ops st_ops = {st_alloc, st_free, st_virt, NULL};

/* One step's own checks beyond the exit code; NULL when all hold. */
static const char *check_step(const struct vmcb *v, const uint64_t *gprs, uint64_t code)
{
    const struct vmcb_control_area *c = &v->control;
    switch (code) {
    case VMEXIT_VMMCALL:
        if (gprs[GPR_RAX] != 0x5a5a)
            return "guest RAX not brought back from the VMCB";
        if (gprs[GPR_RBX] != 0x1234)
            return "guest RBX not saved by the world switch";
        return NULL;
    case VMEXIT_IOIO:
        if ((c->exit_info_1 >> SVM_IOIO_PORT_SHIFT) != 0x80 ||
            (c->exit_info_1 & SVM_IOIO_TYPE_IN) || !(c->exit_info_1 & SVM_IOIO_SZ8))
            return "EXITINFO1 is not OUT port 0x80, one byte";
        return NULL;
    case VMEXIT_NPF:
        if (c->exit_info_2 != UNMAPPED_GPA || !(c->exit_info_1 & SVM_NPF_WRITE))
            return "EXITINFO2 is not the unmapped address, or not a write";
        return NULL;
    default:
        return NULL;
    }
}

struct st_mem {
    struct svm_vcpu vcpu;
    uint64_t code;
    struct ept npt;
    bool npt_ok;
};

static void st_release(struct st_mem *m)
{
    if (m->npt_ok)
        ept_destroy(&m->npt);
    svm_vcpu_free(&m->vcpu);
    if (m->code)
        pmm_free(m->code, 1);
}

static int run_guest(struct st_mem *m)
{
    struct vmcb *v = m->vcpu.vmcb;
    struct svm_cpu *sc = svm_this_cpu();
    uint64_t gprs[16] = {0};
    unsigned step = 0;

    /* Physical interrupts, NMIs and SMIs may exit at any time: re-enter,
     * boundedly. */
    for (unsigned round = 0; round < 1000 && step < sizeof(steps) / sizeof(steps[0]); round++) {
        /* Interrupts stay off during boot: none may make the guest exit. */
        svm_vcpu_enter(&m->vcpu, gprs, 0);
        uint64_t code = svm_exit_code(v);
        if (code == VMEXIT_INTR || code == VMEXIT_NMI || code == VMEXIT_SMI)
            continue;
        const char *why = NULL;
        char rule[96];
        if (code == VMEXIT_INVALID) {
            const char *broken = svm_check_vmcb(v, &(struct svm_check_limits){
                                                       .maxphyaddr = 52,
                                                       .long_mode = true,
                                                       .nested_paging = true,
                                                   });
            str_copy(rule, broken ? broken : "no listed rule broken", sizeof(rule));
            why = rule;
        } else if (code != steps[step].code) {
            why = "unexpected exit";
        } else if (v->save.rip != steps[step].rip) {
            why = "wrong guest RIP";
        } else {
            why = check_step(v, gprs, code);
        }
        if (why) {
            pr_err("svm: self-test failed at step %u (%s): %s at rip 0x%llx, exitinfo1 0x%llx, "
                   "exitinfo2 0x%llx: %s",
                   step, svm_exit_name(steps[step].code), svm_exit_name(code),
                   (unsigned long long)v->save.rip, (unsigned long long)v->control.exit_info_1,
                   (unsigned long long)v->control.exit_info_2, why);
            return -1;
        }
        v->save.rip += steps[step].len;
        step++;
    }
    if (step < sizeof(steps) / sizeof(steps[0])) {
        pr_err("svm: self-test failed: interrupted 1000 times at step %u", step);
        return -1;
    }

    /* A VMRUN the CPU must refuse, and the check must name why. */
    v->control.guest_asid = 0;
    svm_enter(gprs, m->vcpu.vmcb_pa, sc->host_vmcb_pa, 0);
    const char *rule = svm_check_vmcb(v, &(struct svm_check_limits){
                                             .maxphyaddr = 52,
                                             .long_mode = true,
                                             .nested_paging = true,
                                         });
    if (svm_exit_code(v) != VMEXIT_INVALID || !rule) {
        pr_err("svm: self-test failed: VMRUN with ASID 0 gave %s (0x%llx), check: %s",
               svm_exit_name(svm_exit_code(v)), (unsigned long long)v->control.exit_code,
               rule ? rule : "nothing");
        return -1;
    }
    pr_info("svm: self-test passed: VMEXIT_CPUID, VMEXIT_VMMCALL, VMEXIT_IOIO, VMEXIT_NPF, "
            "VMEXIT_HLT; VMRUN with ASID 0: VMEXIT_INVALID (%s)",
            rule);
    return 0;
}

int svm_selftest(void)
{
    struct st_mem m;
    memset(&m, 0, sizeof(m));
    bool irqs = irq_enabled();
    irq_disable(); /* svm_enter's contract; and nothing else runs on this CPU meanwhile */
    if (svm_cpu_enable()) {
        if (irqs)
            irq_enable();
        return -1;
    }
    int r = -1;
    m.code = st_alloc(NULL);
    if (svm_vcpu_alloc(&m.vcpu, NULL, 0) || !m.code) {
        pr_err("svm: self-test: out of memory");
        goto out;
    }
    int e = ept_init_format(&m.npt, &st_ops, &ept_format_npt, false, false);
    if (e) {
        pr_err("svm: self-test: nested page tables: %s", ept_strerror(e));
        goto out;
    }
    m.npt_ok = true;
    memcpy((void *)m.code, guest_code, sizeof(guest_code));
    e = ept_map(&m.npt, GUEST_CODE_GPA, m.code, 4096, EPT_RWX, EPT_MT_WB);
    if (e) {
        pr_err("svm: self-test: mapping guest code: %s", ept_strerror(e));
        goto out;
    }
    struct svm_vmcb_params p = {
        .mode = SVM_BOOT_PROTECTED_FLAT,
        .rip = GUEST_CODE_GPA,
        .ncr3 = ept_ncr3(&m.npt),
    };
    svm_vcpu_setup(&m.vcpu, &p);
    r = run_guest(&m);
out:
    st_release(&m);
    svm_cpu_disable();
    if (irqs)
        irq_enable();
    return r;
}
