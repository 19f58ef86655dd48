/* VMCB, IOPM, MSRPM and ASID builders; see svm_vmcb.h. */
#include "svm/svm_vmcb.h"

#include "lib/string.h"

/* CR0/CR4/EFER bits (architectural; arch/ headers are not host-buildable). */
#define X_CR0_PE    (1ULL << 0)
#define X_CR0_ET    (1ULL << 4)
#define X_CR0_NE    (1ULL << 5)
#define X_CR0_PG    (1ULL << 31)
#define X_CR4_PAE   (1ULL << 5)
#define X_EFER_LME  (1ULL << 8)
#define X_EFER_LMA  (1ULL << 10)
#define X_EFER_SVME (1ULL << 12)

/* Descriptor attributes in the VMCB's compressed format (access byte in
 * 7:0, AVL/L/D/G in 11:8): the VMX AR values of vmcs_init.c, bits 15:12
 * dropped. */
#define ATTR_CODE16     0x009b
#define ATTR_DATA16     0x0093
#define ATTR_CODE32     0x0c9b /* G, D, P, S, execute/read, accessed */
#define ATTR_DATA32     0x0c93
#define ATTR_CODE64     0x0a9b /* G, L, P, S, execute/read, accessed */
#define ATTR_TSS_BUSY32 0x008b
#define ATTR_LDT        0x0082

#define RESET_PAT 0x0007040600070406ULL

static void seg(struct vmcb_seg *s, uint16_t sel, uint64_t base, uint32_t limit, uint16_t attrib)
{
    s->selector = sel;
    s->base = base;
    s->limit = limit;
    s->attrib = attrib;
}

static void setup_intercepts(struct vmcb *v, const struct svm_vmcb_params *p)
{
    struct vmcb_control_area *c = &v->control;

    /* CR0 and CR4 writes exit for the CR rules (paging, caching, PAE); CR3
     * stays the guest's under nested paging. CR8 exits only when a vLAPIC
     * owns the TPR; otherwise V_TPR keeps it (as VMX's TPR shadow). */
    c->intercept_cr = (1U << (16 + 0)) | (1U << (16 + 4));
    if (p->cr8_exiting)
        c->intercept_cr |= (1U << 8) | (1U << (16 + 8));
    /* #DB and #AC: a guest could otherwise wedge the CPU delivering them
     * (CVE-2015-8104, CVE-2015-5307). */
    c->intercept_exceptions = (1U << 1) | (1U << 17);
    c->intercept_misc1 = SVM_INTERCEPT_INTR | SVM_INTERCEPT_NMI | SVM_INTERCEPT_SMI |
                         SVM_INTERCEPT_INIT | SVM_INTERCEPT_CPUID | SVM_INTERCEPT_HLT |
                         SVM_INTERCEPT_IOIO_PROT | SVM_INTERCEPT_MSR_PROT | SVM_INTERCEPT_SHUTDOWN |
                         SVM_INTERCEPT_INVLPGA | SVM_INTERCEPT_RDPMC | SVM_INTERCEPT_INVD |
                         SVM_INTERCEPT_TASK_SWITCH;
    /* The SVM instructions: #UD to the guest, VMMCALL is the hypercall.
     * VMRUN must be intercepted or VMRUN itself fails (APM 15.5.1). */
    c->intercept_misc2 = SVM_INTERCEPT_VMRUN | SVM_INTERCEPT_VMMCALL | SVM_INTERCEPT_VMLOAD |
                         SVM_INTERCEPT_VMSAVE | SVM_INTERCEPT_STGI | SVM_INTERCEPT_CLGI |
                         SVM_INTERCEPT_SKINIT | SVM_INTERCEPT_WBINVD | SVM_INTERCEPT_MONITOR |
                         SVM_INTERCEPT_MWAIT | SVM_INTERCEPT_MWAIT_COND | SVM_INTERCEPT_XSETBV;
    /* A spin loop gives way to a sibling vCPU (vcpu/exit_pause.c); never
     * every PAUSE (no filter, no intercept: as KVM). */
    if (p->pause_filter_count) {
        c->intercept_misc1 |= SVM_INTERCEPT_PAUSE;
        c->pause_filter_count = p->pause_filter_count;
        c->pause_filter_thresh = p->pause_filter_thresh;
    }
    c->iopm_base_pa = p->iopm_pa;
    c->msrpm_base_pa = p->msrpm_pa;
    c->tsc_offset = p->tsc_offset;
    c->guest_asid = p->asid;
    c->tlb_control = TLB_CONTROL_FLUSH_ALL_ASID; /* a new VMCB: nothing cached is ours */
    /* Physical interrupts stay under the host's RFLAGS.IF; the guest's IF
     * and CR8 act on virtual interrupts only. */
    c->v_intr = V_INTR_MASKING;
    c->nested_ctl = SVM_NESTED_CTL_NP_ENABLE;
    c->nested_cr3 = p->ncr3;
}

static void setup_guest_state(struct vmcb *v, const struct svm_vmcb_params *p)
{
    struct vmcb_save_area *s = &v->save;
    struct vmcb_seg *data[] = {&s->es, &s->ss, &s->ds, &s->fs, &s->gs};
    uint64_t cr0 = X_CR0_ET | X_CR0_NE, cr4 = 0, efer = X_EFER_SVME;

    switch (p->mode) {
    case SVM_BOOT_REAL:
        seg(&s->cs, (uint16_t)((p->rip >> 4) & 0xf000), p->rip & 0xf0000, 0xffff, ATTR_CODE16);
        for (unsigned i = 0; i < 5; i++)
            seg(data[i], 0, 0, 0xffff, ATTR_DATA16);
        s->rip = p->rip & 0xffff;
        break;
    case SVM_BOOT_PROTECTED_FLAT:
        cr0 |= X_CR0_PE;
        seg(&s->cs, p->cs_sel ? p->cs_sel : 0x08, 0, 0xffffffff, ATTR_CODE32);
        for (unsigned i = 0; i < 5; i++)
            seg(data[i], p->ds_sel ? p->ds_sel : 0x10, 0, 0xffffffff, ATTR_DATA32);
        s->rip = p->rip;
        break;
    case SVM_BOOT_LONG:
        cr0 |= X_CR0_PE | X_CR0_PG;
        cr4 |= X_CR4_PAE;
        efer |= X_EFER_LME | X_EFER_LMA;
        seg(&s->cs, 0x08, 0, 0xffffffff, ATTR_CODE64);
        for (unsigned i = 0; i < 5; i++)
            seg(data[i], 0x10, 0, 0xffffffff, ATTR_DATA32);
        s->rip = p->rip;
        break;
    }
    seg(&s->tr, 0, 0, 0xffff, ATTR_TSS_BUSY32);
    seg(&s->ldtr, 0, 0, 0xffff, ATTR_LDT);
    seg(&s->gdtr, 0, p->gdt_base, p->gdt_limit, 0);
    seg(&s->idtr, 0, 0, 0xffff, 0);
    s->cpl = 0;
    s->cr0 = cr0;
    s->cr3 = p->mode == SVM_BOOT_LONG ? p->cr3 : 0;
    s->cr4 = cr4;
    /* EFER.SVME must be set in the guest's EFER for VMRUN; the guest reads
     * EFER through the (intercepted) MSR path, which hides it. */
    s->efer = efer;
    s->g_pat = RESET_PAT;
    s->dr6 = 0xffff0ff0;
    s->dr7 = 0x400;
    s->rflags = 0x2;
    s->rsp = p->rsp;
    s->rax = p->rax;
}

void svm_vmcb_init(struct vmcb *v, const struct svm_vmcb_params *p)
{
    memset(v, 0, sizeof(*v));
    setup_intercepts(v, p);
    setup_guest_state(v, p);
}

void svm_iopm_build(uint8_t iopm[SVM_IOPM_SIZE], const struct svm_port_range *pass, unsigned n)
{
    memset(iopm, 0xff, SVM_IOPM_SIZE);
    for (unsigned i = 0; i < n; i++) {
        uint32_t end = (uint32_t)pass[i].base + pass[i].count;
        for (uint32_t port = pass[i].base; port < end && port <= 0xffff; port++)
            iopm[port / 8] &= (uint8_t) ~(1U << (port % 8));
    }
}

bool svm_iopm_intercepts(const uint8_t iopm[SVM_IOPM_SIZE], uint32_t port, unsigned size)
{
    if (port > 0xffff || !size || size > 4)
        return true;
    for (uint32_t p = port; p < port + size; p++)
        if (iopm[p / 8] & (1U << (p % 8)))
            return true;
    return false;
}

long svm_msrpm_offset(uint32_t msr)
{
    static const struct {
        uint32_t first;
        long offset;
    } ranges[] = {{0x00000000, 0x0000}, {0xc0000000, 0x0800}, {0xc0010000, 0x1000}};
    for (unsigned i = 0; i < 3; i++)
        if (msr - ranges[i].first < 0x2000)
            return ranges[i].offset + (long)((msr - ranges[i].first) / 4);
    return -1;
}

int svm_msrpm_set(uint8_t msrpm[SVM_MSRPM_SIZE], uint32_t msr, bool intercept_read,
                  bool intercept_write)
{
    long off = svm_msrpm_offset(msr);
    if (off < 0)
        return -1;
    unsigned shift = (msr % 4) * 2; /* even bit: read, odd bit: write */
    uint8_t b = (uint8_t)(msrpm[off] & ~(3U << shift));
    b |= (uint8_t)(((intercept_read ? 1U : 0U) | (intercept_write ? 2U : 0U)) << shift);
    msrpm[off] = b;
    return 0;
}

bool svm_msrpm_intercepts(const uint8_t msrpm[SVM_MSRPM_SIZE], uint32_t msr, bool write)
{
    long off = svm_msrpm_offset(msr);
    if (off < 0)
        return true;
    return msrpm[off] & (1U << ((msr % 4) * 2 + (write ? 1 : 0)));
}

void svm_msrpm_build(uint8_t msrpm[SVM_MSRPM_SIZE])
{
    /* The same list as vmx/vmcs_init.c setup_msr_bitmap: FS/GS/KernelGS
     * bases, the syscall and sysenter MSRs live in the VMCB (VMLOAD/VMSAVE),
     * TSC_AUX is switched with the vCPU. */
    static const uint32_t passthrough[] = {
        0xc0000100, /* FS_BASE */ 0xc0000101, /* GS_BASE */ 0xc0000102, /* KERNEL_GS_BASE */
        0xc0000081, /* STAR */ 0xc0000082,    /* LSTAR */ 0xc0000083,   /* CSTAR */
        0xc0000084, /* SFMASK */ 0xc0000103,  /* TSC_AUX */ 0x174,      /* SYSENTER_CS */
        0x175,      /* SYSENTER_ESP */ 0x176,                           /* SYSENTER_EIP */
    };
    memset(msrpm, 0xff, SVM_MSRPM_SIZE);
    for (unsigned i = 0; i < sizeof(passthrough) / sizeof(passthrough[0]); i++)
        svm_msrpm_set(msrpm, passthrough[i], false, false);
    svm_msrpm_set(msrpm, 0x10, false, true); /* TSC: reads pass (offset), writes exit */
}

uint8_t svm_asid_assign(struct svm_asid_pool *pool, struct svm_vcpu_asid *va, int cpu, bool flush,
                        bool flush_by_asid)
{
    if (va->cpu == cpu && va->generation == pool->generation && va->asid) {
        if (!flush)
            return TLB_CONTROL_DO_NOTHING;
        if (flush_by_asid)
            return TLB_CONTROL_FLUSH_ASID;
        /* Without FlushByAsid a fresh ASID is the cheap flush. */
    }
    uint8_t tlb = TLB_CONTROL_DO_NOTHING;
    if (pool->next == 0 || pool->next >= pool->nr_asids) {
        /* First use, or every ASID handed out: whatever the TLB holds for
         * the ASIDs about to be reused must go. */
        pool->generation++;
        pool->next = 1;
        tlb = TLB_CONTROL_FLUSH_ALL_ASID;
    }
    va->asid = pool->next++;
    va->generation = pool->generation;
    va->cpu = cpu;
    return tlb;
}
