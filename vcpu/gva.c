/* Guest linear -> guest physical for emulated accesses (vcpu/gva.h). */
#include "vcpu/gva.h"

#include <stddef.h>

#include "arch/x86_64/cpu.h"
#include "hvm/backend.h"
#include "hvm/exit.h"
#include "vcpu/decode.h"
#include "vcpu/exit_handlers.h"
#include "vcpu/insn_len.h"
#include "vcpu/vm.h"

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

/* The guest's paging state as the CPU sees it. */
static void guest_walk_regs(struct vcpu *v, struct gwalk_regs *r, uint64_t pdptes[4])
{
    const struct vcpu_backend *b = vcpu_backend;
    r->cr0 = b->get_reg(v, HVM_REG_CR0);
    r->cr4 = b->get_reg(v, HVM_REG_CR4);
    r->cr3 = b->get_reg(v, HVM_REG_CR3);
    r->efer = b->get_reg(v, HVM_REG_EFER);
    r->rflags = b->get_reg(v, HVM_REG_RFLAGS);
    r->cpl = b->cpl(v);
    r->pdptes = NULL;
    /* PAE paging walks the PDPTE registers where the CPU keeps them. */
    if ((r->cr0 & CR0_PG) && (r->cr4 & CR4_PAE) && !(r->efer & EFER_LMA) &&
        b->get_pdptes(v, pdptes))
        r->pdptes = pdptes;
    host_paging_caps(&r->maxphyaddr, &r->gbpages);
}

enum walk_outcome vcpu_translate(struct vcpu *v, uint64_t la, enum gwalk_access acc, uint64_t *gpa,
                                 bool inject)
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
        vcpu_queue_exception(v, 14, true, res.error);
        return WALK_FAULTED;
    case GWALK_GP:
        if (!inject)
            return WALK_FAULTED;
        vcpu_queue_exception(v, 13, true, 0);
        return WALK_FAULTED;
    case GWALK_RETRY:
        return WALK_RETRY;
    case GWALK_BAD_TABLE:
    default:
        return WALK_BROKEN;
    }
}

int vcpu_fetch_instruction(struct vcpu *v, uint64_t la, uint8_t bytes[15])
{
    uint64_t gpa;
    unsigned first = 4096 - (la & 0xfff);
    if (first > 15)
        first = 15;
    enum walk_outcome o = vcpu_translate(v, la, GWALK_FETCH, &gpa, true);
    if (o == WALK_FAULTED || o == WALK_RETRY)
        return 0;
    if (o != WALK_OK || vm_read_guest(v->vm, gpa, bytes, first))
        return -1;
    if (first < 15 && vcpu_translate(v, la + first, GWALK_FETCH, &gpa, false) == WALK_OK &&
        !vm_read_guest(v->vm, gpa, bytes + first, 15 - first))
        return 15;
    return (int)first;
}

uint64_t vcpu_rip_linear(struct vcpu *v, uint64_t rip, unsigned *mode)
{
    struct hvm_segment cs;
    vcpu_backend->get_segment(v, HVM_SEG_CS, &cs);
    *mode = mmio_code_mode(cs.attr, vcpu_backend->long_mode(v));
    uint64_t la = rip + cs.base;
    return *mode == 64 ? la : la & 0xffffffffULL;
}

unsigned vcpu_decode_insn_len(struct vcpu *v, const struct exit_record *e)
{
    uint8_t bytes[15];
    unsigned mode;
    uint64_t la = vcpu_rip_linear(v, vcpu_backend->get_reg(v, HVM_REG_RIP), &mode);
    /* The CPU has just fetched it: a fault here means the guest changed its
     * tables under itself (the caller stops the VM). */
    int got = vcpu_fetch_instruction(v, la, bytes);
    if (got <= 0)
        return 0;
    return x86_insn_length(bytes, (unsigned)got, mode);
}
