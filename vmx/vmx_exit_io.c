/* Exits that touch devices or memory: port I/O (with INS/OUTS and REP),
 * RDMSR/WRMSR, and EPT violations (emulated MMIO or a memory violation). */
#include "arch/x86_64/cpu.h"
#include "vcpu/msr.h"
#include "vcpu/vm.h"
#include "lib/log.h"
#include "lib/string.h"
#include "ept/gwalk.h"
#include "vcpu/decode.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"
#include "vmx/vmx_exit.h"

#define IO_MAX_REP_PER_EXIT 1024 /* bounded work per exit; the rest re-executes */

static int walk_read(void *ctx, uint64_t gpa, void *buf, unsigned len)
{
    return vm_read_guest(ctx, gpa, buf, len);
}

static int walk_cmpxchg(void *ctx, uint64_t gpa, unsigned len, uint64_t old_val, uint64_t new_val)
{
    return vm_cmpxchg_guest(ctx, gpa, len, old_val, new_val);
}

/* What the hardware walker would use: the host's physical-address width
 * and 1 GiB page support, whatever CPUID shows the guest. */
static void host_paging_caps(unsigned *maxphyaddr, bool *gbpages)
{
    static unsigned width;
    static bool gb;
    if (!width) {
        gb = cpuid(0x80000001).edx & (1U << 26);
        width = cpuid(0x80000000).eax >= 0x80000008 ? (cpuid(0x80000008).eax & 0xff) : 36;
    }
    *maxphyaddr = width;
    *gbpages = gb;
}

/* The guest's paging state as the CPU sees it: bits the guest may change
 * without an exit come from the VMCS, the others from the read shadows. */
static void guest_walk_regs(struct vcpu *v, struct gwalk_regs *r, uint64_t pdptes[4])
{
    struct vmx_vcpu *x = v->arch;
    uint64_t cr0_mask = vmcs_read(CR0_GUEST_HOST_MASK);
    uint64_t cr4_mask = vmcs_read(CR4_GUEST_HOST_MASK);

    r->cr0 = (vmcs_read(GUEST_CR0) & ~cr0_mask) | (x->cr0_shadow & cr0_mask);
    r->cr4 = (vmcs_read(GUEST_CR4) & ~cr4_mask) | (x->cr4_shadow & cr4_mask);
    r->cr3 = vmcs_read(GUEST_CR3);
    r->efer = x->efer;
    r->rflags = vmcs_read(GUEST_RFLAGS);
    r->cpl = vmx_guest_cpl(v);
    r->pdptes = NULL;
    if ((r->cr0 & CR0_PG) && (r->cr4 & CR4_PAE) && !(r->efer & EFER_LMA)) {
        /* PAE paging walks the PDPTE registers (saved at exit with EPT). */
        pdptes[0] = vmcs_read(GUEST_PDPTR0);
        pdptes[1] = vmcs_read(GUEST_PDPTR1);
        pdptes[2] = vmcs_read(GUEST_PDPTR2);
        pdptes[3] = vmcs_read(GUEST_PDPTR3);
        r->pdptes = pdptes;
    }
    host_paging_caps(&r->maxphyaddr, &r->gbpages);
}

enum walk_outcome {
    WALK_OK,
    WALK_FAULTED, /* an exception is queued for the guest */
    WALK_RETRY,   /* re-execute the instruction */
    WALK_BROKEN,  /* the guest's tables lie outside its RAM: crash it */
};

/* Guest linear -> guest physical for an emulated access, through the
 * guest's own page tables with every permission check the CPU makes. A
 * refused access queues #PF (CR2 = la) or #GP(0), as the CPU would. */
static enum walk_outcome guest_translate(struct vcpu *v, uint64_t la, enum gwalk_access acc,
                                         uint64_t *gpa, bool inject)
{
    struct gwalk_regs r;
    uint64_t pdptes[4];
    struct gwalk_result res;
    const struct gwalk_mem mem = {walk_read, walk_cmpxchg, v->vm};

    guest_walk_regs(v, &r, pdptes);
    switch (gwalk_translate(&r, &mem, la, acc, &res)) {
    case GWALK_OK:
        *gpa = res.gpa;
        return WALK_OK;
    case GWALK_PAGE_FAULT:
        if (!inject)
            return WALK_FAULTED;
        if (!(r.efer & EFER_LMA))
            la &= 0xffffffffULL;
        write_cr2(la); /* the guest's CR2 is live while its exit is handled */
        vmx_queue_exception(v, 14, true, res.error);
        return WALK_FAULTED;
    case GWALK_GP:
        if (!inject)
            return WALK_FAULTED;
        vmx_queue_exception(v, 13, true, 0);
        return WALK_FAULTED;
    case GWALK_RETRY:
        return WALK_RETRY;
    case GWALK_BAD_TABLE:
    default:
        return WALK_BROKEN;
    }
}

/* Translates [la, la+len) (len <= 4096) for one access: one or two pages. */
static enum walk_outcome translate_span(struct vcpu *v, uint64_t la, unsigned len,
                                        enum gwalk_access acc, uint64_t gpa[2], unsigned *first)
{
    *first = 4096 - (la & 0xfff);
    if (*first > len)
        *first = len;
    enum walk_outcome o = guest_translate(v, la, acc, &gpa[0], true);
    if (o == WALK_OK && *first < len)
        o = guest_translate(v, la + *first, acc, &gpa[1], true);
    return o;
}

static int copy_span(struct vcpu *v, const uint64_t gpa[2], unsigned first, void *buf, unsigned len,
                     bool write)
{
    uint8_t *p = buf;
    for (unsigned i = 0; i < 2 && len; i++) {
        unsigned n = i == 0 ? first : len;
        int rc = write ? vm_write_guest(v->vm, gpa[i], p, n) : vm_read_guest(v->vm, gpa[i], p, n);
        if (rc)
            return -1;
        p += n;
        len -= n;
    }
    return 0;
}

static uint64_t addr_mask_for(unsigned addr_size)
{
    return addr_size == 2 ? 0xffffULL : addr_size == 4 ? 0xffffffffULL : ~0ULL;
}

static enum vmx_exit_action string_io(struct vcpu *v, struct vmx_exit *e, uint16_t port,
                                      unsigned size, bool in, bool rep)
{
    uint32_t info = (uint32_t)vmcs_read(VMX_INSTRUCTION_INFO);
    unsigned addr_size = 2U << ((info >> 7) & 7); /* 0: 16-bit, 1: 32, 2: 64 */
    uint64_t amask = addr_mask_for(addr_size > 8 ? 8 : addr_size);
    uint64_t la = vmcs_read(GUEST_LINEAR_ADDRESS);
    bool down = vmcs_read(GUEST_RFLAGS) & RFLAGS_DF;
    unsigned idx = in ? GPR_RDI : GPR_RSI;
    uint64_t count = rep ? (v->gprs[GPR_RCX] & amask) : 1;
    unsigned done = 0;

    while (count && done < IO_MAX_REP_PER_EXIT) {
        uint32_t val = 0;
        uint64_t gpa[2];
        unsigned first;
        /* The buffer is checked before the port is touched: a refused
         * access must not consume a device's data. */
        enum walk_outcome o =
            translate_span(v, la, size, in ? GWALK_WRITE : GWALK_READ, gpa, &first);
        if (o != WALK_OK) {
            if (o == WALK_BROKEN)
                goto bad_buffer;
            break; /* #PF/#GP queued, or re-execute: iterations done so far stay done */
        }
        if (in) {
            vm_port_access(v, port, size, true, &val);
            if (copy_span(v, gpa, first, &val, size, true))
                goto bad_buffer;
        } else {
            if (copy_span(v, gpa, first, &val, size, false))
                goto bad_buffer;
            vm_port_access(v, port, size, false, &val);
        }
        uint64_t step = down ? (uint64_t) - (int64_t)size : size;
        la += step;
        v->gprs[idx] = (v->gprs[idx] & ~amask) | ((v->gprs[idx] + step) & amask);
        count--;
        done++;
    }
    if (rep)
        v->gprs[GPR_RCX] = (v->gprs[GPR_RCX] & ~amask) | (count & amask);
    if (!count)
        vmx_skip_instruction(v);
    return v->stop_request ? VMX_EXIT_STOP : VMX_EXIT_CONTINUE;
bad_buffer:
    vm_crash(v, "string I/O on port 0x%x with a buffer at linear 0x%llx outside guest RAM", port,
             (unsigned long long)la);
    return VMX_EXIT_STOP;
}

enum vmx_exit_action vmx_exit_io(struct vcpu *v, struct vmx_exit *e)
{
    uint64_t q = e->qualification;
    unsigned size = (q & 7) + 1;
    bool in = q & 8, string = q & 16, rep = q & 32;
    uint16_t port = (uint16_t)(q >> 16);

    if (size != 1 && size != 2 && size != 4) {
        vm_crash(v, "I/O exit with impossible size %u", size);
        return VMX_EXIT_STOP;
    }
    if (string)
        return string_io(v, e, port, size, in, rep);
    uint32_t val = (uint32_t)v->gprs[GPR_RAX];
    vm_port_access(v, port, size, in, &val);
    if (in) {
        uint64_t mask = size == 4 ? 0xffffffffULL : (1ULL << (size * 8)) - 1;
        /* 32-bit results zero-extend into RAX; 8/16-bit keep the rest. */
        if (size == 4)
            v->gprs[GPR_RAX] = val;
        else
            v->gprs[GPR_RAX] = (v->gprs[GPR_RAX] & ~mask) | (val & mask);
    }
    vmx_skip_instruction(v);
    if (v->stop_request)
        return VMX_EXIT_STOP;
    return v->kick ? VMX_EXIT_PREEMPT : VMX_EXIT_CONTINUE;
}

enum vmx_exit_action vmx_exit_rdmsr(struct vcpu *v, struct vmx_exit *e)
{
    uint32_t msr = (uint32_t)v->gprs[GPR_RCX];
    uint64_t val;
    if (!guest_rdmsr(v, msr, &val)) {
        vmx_queue_exception(v, 13, true, 0);
        return VMX_EXIT_CONTINUE;
    }
    v->gprs[GPR_RAX] = (uint32_t)val;
    v->gprs[GPR_RDX] = val >> 32;
    vmx_skip_instruction(v);
    return VMX_EXIT_CONTINUE;
}

enum vmx_exit_action vmx_exit_wrmsr(struct vcpu *v, struct vmx_exit *e)
{
    uint32_t msr = (uint32_t)v->gprs[GPR_RCX];
    uint64_t val = (v->gprs[GPR_RDX] << 32) | (uint32_t)v->gprs[GPR_RAX];
    if (!guest_wrmsr(v, msr, val)) {
        vmx_queue_exception(v, 13, true, 0);
        return VMX_EXIT_CONTINUE;
    }
    vmx_skip_instruction(v);
    return v->stop_request ? VMX_EXIT_STOP : VMX_EXIT_CONTINUE;
}

static unsigned guest_code_mode(struct vcpu *v)
{
    struct vmx_vcpu *x = v->arch;
    return mmio_code_mode((uint32_t)vmcs_read(GUEST_CS_AR_BYTES), x->efer & EFER_LMA);
}

/* Reads the instruction at la as the CPU fetched it: through the guest's
 * page tables with execute rights checked at the current CPL. Returns the
 * number of bytes had (the instruction may end on a page that cannot be
 * fetched: then what the first page holds), 0 when an exception was
 * queued or the access must be retried, -1 when nothing is readable. */
static int fetch_instruction(struct vcpu *v, uint64_t la, uint8_t bytes[15])
{
    uint64_t gpa;
    unsigned first = 4096 - (la & 0xfff);
    if (first > 15)
        first = 15;
    enum walk_outcome o = guest_translate(v, la, GWALK_FETCH, &gpa, true);
    if (o == WALK_FAULTED || o == WALK_RETRY)
        return 0;
    if (o != WALK_OK || vm_read_guest(v->vm, gpa, bytes, first))
        return -1;
    if (first < 15 && guest_translate(v, la + first, GWALK_FETCH, &gpa, false) == WALK_OK &&
        !vm_read_guest(v->vm, gpa, bytes + first, 15 - first))
        return 15;
    return (int)first;
}

static enum vmx_exit_action emulate_mmio(struct vcpu *v, uint64_t gpa)
{
    uint8_t bytes[15];
    struct mmio_insn in;
    uint64_t rip = vmcs_read(GUEST_RIP);
    uint64_t la = rip + vmcs_read(GUEST_CS_BASE);
    unsigned mode = guest_code_mode(v);

    /* The access was made by event delivery (the IDT, a stack or a TSS in
     * MMIO), not by the instruction at RIP: there is nothing to emulate. */
    if (vmx_exit_state(v)->reinject_info & INTR_INFO_VALID) {
        vm_crash(v, "event delivery (vector %u) touched MMIO 0x%llx",
                 vmx_exit_state(v)->reinject_info & INTR_INFO_VECTOR_MASK, (unsigned long long)gpa);
        return VMX_EXIT_STOP;
    }
    if (mode != 64)
        la &= 0xffffffffULL;
    int got = fetch_instruction(v, la, bytes);
    if (got == 0)
        return VMX_EXIT_CONTINUE; /* #PF queued, or fetch again */
    if (got < 0)
        got = 0;
    int r = got ? mmio_decode(bytes, got, mode, &in) : -1;
    if (r < 0) {
        vm_crash(v, "cannot decode the instruction at rip 0x%llx accessing MMIO 0x%llx (%s)",
                 (unsigned long long)rip, (unsigned long long)gpa,
                 got ? mmio_strerror(r) : "unreadable");
        return VMX_EXIT_STOP;
    }
    if (in.op == MMIO_OP_MOVS || in.op == MMIO_OP_STOS) {
        vm_crash(v, "string instruction on MMIO 0x%llx is not supported", (unsigned long long)gpa);
        return VMX_EXIT_STOP;
    }
    v->gprs[GPR_RSP] = vmcs_read(GUEST_RSP);
    uint64_t mem = 0;
    if (mmio_reads_mem(&in) && !vm_mmio_access(v, gpa, in.size, false, &mem))
        goto violation;
    if (in.op == MMIO_OP_MOV_FROM_MEM || in.op == MMIO_OP_MOVZX || in.op == MMIO_OP_MOVSX) {
        mmio_load_result(&in, v->gprs, mem);
    } else if (in.op == MMIO_OP_MOV_TO_MEM || in.op == MMIO_OP_MOV_IMM_TO_MEM) {
        uint64_t val = mmio_store_value(&in, v->gprs);
        if (!vm_mmio_access(v, gpa, in.size, true, &val))
            goto violation;
    } else {
        uint64_t rflags = vmcs_read(GUEST_RFLAGS);
        uint64_t res = mmio_alu(&in, mem, v->gprs, &rflags);
        vmcs_write(GUEST_RFLAGS, rflags);
        if (mmio_writes_mem(&in) && !vm_mmio_access(v, gpa, in.size, true, &res))
            goto violation;
        if (in.reg_is_dst)
            mmio_load_result(&in, v->gprs, res);
    }
    vmcs_write(GUEST_RSP, v->gprs[GPR_RSP]);
    vmcs_write(GUEST_RIP, rip + in.len);
    return VMX_EXIT_CONTINUE;
violation:
    vm_crash(v, "memory violation: access to unmapped guest-physical 0x%llx",
             (unsigned long long)gpa);
    return VMX_EXIT_STOP;
}

enum vmx_exit_action vmx_exit_ept_violation(struct vcpu *v, struct vmx_exit *e)
{
    uint64_t q = e->qualification;
    uint64_t gpa = vmcs_read(GUEST_PHYSICAL_ADDRESS);
    const char *kind = (q & 2) ? "write" : (q & 4) ? "instruction fetch" : "read";

    /* NMI blocking was lifted by an IRET that faulted: put it back. */
    if ((q & (1ULL << 12)) && !(vmcs_read(IDT_VECTORING_INFO_FIELD) & INTR_INFO_VALID))
        vmcs_write(GUEST_INTERRUPTIBILITY_INFO,
                   vmcs_read(GUEST_INTERRUPTIBILITY_INFO) | GUEST_INTR_STATE_NMI);

    /* Mapped but not permitted: e.g. a write to the read-only BIOS area. */
    if (q & 0x38) {
        vm_crash(v, "memory violation: %s to guest-physical 0x%llx not permitted (rip 0x%llx)",
                 kind, (unsigned long long)gpa, (unsigned long long)vmcs_read(GUEST_RIP));
        return VMX_EXIT_STOP;
    }
    if (!(q & 4) && vm_mmio_access(v, gpa, 0, false, NULL))
        return emulate_mmio(v, gpa);
    vm_crash(v,
             "memory violation: %s at guest-physical 0x%llx outside the VM's memory map "
             "(rip 0x%llx)",
             kind, (unsigned long long)gpa, (unsigned long long)vmcs_read(GUEST_RIP));
    return VMX_EXIT_STOP;
}

enum vmx_exit_action vmx_exit_ept_misconfig(struct vcpu *v, struct vmx_exit *e)
{
    vm_crash(v, "EPT misconfiguration at guest-physical 0x%llx (hypervisor bug)",
             (unsigned long long)vmcs_read(GUEST_PHYSICAL_ADDRESS));
    return VMX_EXIT_STOP;
}
