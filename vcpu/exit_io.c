/* Port I/O (with INS/OUTS and REP) and RDMSR/WRMSR exits. */
#include "arch/x86_64/cpu.h"
#include "lib/log.h"
#include "lib/string.h"
#include "vcpu/exit_handlers.h"
#include "vcpu/gva.h"
#include "vcpu/insn_len.h"
#include "vcpu/msr.h"
#include "vcpu/vm.h"

#define IO_MAX_REP_PER_EXIT 1024 /* bounded work per exit; the rest re-executes */

/* Translates [la, la+len) (len <= 4096) for one access: one or two pages. */
static enum walk_outcome translate_span(struct vcpu *v, uint64_t la, unsigned len,
                                        enum gwalk_access acc, uint64_t gpa[2], unsigned *first)
{
    *first = 4096 - (la & 0xfff);
    if (*first > len)
        *first = len;
    enum walk_outcome o = vcpu_translate(v, la, acc, &gpa[0], true);
    if (o == WALK_OK && *first < len)
        o = vcpu_translate(v, la + *first, acc, &gpa[1], true);
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

/* The address size and memory operand's linear address when the backend
 * did not give them (SVM: QEMU reports no address size, and without
 * DecodeAssists no segment): from the prefixes of the instruction at RIP,
 * ES:rDI for INS, DS:rSI or the segment override for OUTS. 0 done, 1 an
 * exception is queued or the fetch must be retried, -1 the VM is crashed. */
static int string_operand(struct vcpu *v, const struct exit_record *e, unsigned *addr_size,
                          uint64_t *la)
{
    unsigned mode, decoded_size;
    int seg;
    uint8_t bytes[15];
    int got = vcpu_fetch_instruction(
        v, vcpu_rip_linear(v, vcpu_backend->get_reg(v, HVM_REG_RIP), &mode), bytes);
    if (got == 0)
        return 1;
    if (got < 0 || !x86_string_io_prefixes(bytes, (unsigned)got, mode, &decoded_size, &seg)) {
        /* The guest changed the instruction under the exit. */
        vm_crash(v, "string I/O exit on port 0x%x at an instruction that is not INS/OUTS",
                 e->io.port);
        return -1;
    }
    *addr_size = e->io.addr_size ? e->io.addr_size : decoded_size;
    if (e->io.in || seg < 0)
        seg = e->io.in ? HVM_SEG_ES : HVM_SEG_DS; /* INS cannot override ES */
    uint64_t off = v->gprs[e->io.in ? GPR_RDI : GPR_RSI] & addr_mask_for(*addr_size);
    struct hvm_segment sd;
    vcpu_backend->get_segment(v, (enum hvm_seg)seg, &sd);
    if (mode == 64) /* only FS and GS have a base in 64-bit mode */
        *la = off + (seg == HVM_SEG_FS || seg == HVM_SEG_GS ? sd.base : 0);
    else
        *la = (sd.base + off) & 0xffffffffULL;
    return 0;
}

static enum exit_action string_io(struct vcpu *v, struct exit_record *e)
{
    uint16_t port = e->io.port;
    unsigned size = e->io.size;
    bool in = e->io.in, rep = e->io.rep;
    unsigned addr_size = e->io.addr_size;
    uint64_t la = e->io.linear;
    if (!e->io.linear_valid || !addr_size) {
        int rc = string_operand(v, e, &addr_size, &la);
        if (rc)
            return rc > 0 ? EXIT_ACT_CONTINUE : EXIT_ACT_STOP;
    }
    uint64_t amask = addr_mask_for(addr_size > 8 ? 8 : addr_size);
    bool down = vcpu_backend->get_reg(v, HVM_REG_RFLAGS) & RFLAGS_DF;
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
    if (!count && !vcpu_complete(v, e))
        return EXIT_ACT_STOP;
    return v->stop_request ? EXIT_ACT_STOP : EXIT_ACT_CONTINUE;
bad_buffer:
    vm_crash(v, "string I/O on port 0x%x with a buffer at linear 0x%llx outside guest RAM", port,
             (unsigned long long)la);
    return EXIT_ACT_STOP;
}

enum exit_action vcpu_exit_io(struct vcpu *v, struct exit_record *e)
{
    unsigned size = e->io.size;
    bool in = e->io.in;

    if (size != 1 && size != 2 && size != 4) {
        vm_crash(v, "I/O exit with impossible size %u", size);
        return EXIT_ACT_STOP;
    }
    if (e->io.string)
        return string_io(v, e);
    uint32_t val = (uint32_t)v->gprs[GPR_RAX];
    vm_port_access(v, e->io.port, size, in, &val);
    if (in) {
        uint64_t mask = size == 4 ? 0xffffffffULL : (1ULL << (size * 8)) - 1;
        /* 32-bit results zero-extend into RAX; 8/16-bit keep the rest. */
        if (size == 4)
            v->gprs[GPR_RAX] = val;
        else
            v->gprs[GPR_RAX] = (v->gprs[GPR_RAX] & ~mask) | (val & mask);
    }
    if (!vcpu_complete(v, e))
        return EXIT_ACT_STOP;
    if (v->stop_request)
        return EXIT_ACT_STOP;
    return v->kick ? EXIT_ACT_PREEMPT : EXIT_ACT_CONTINUE;
}

enum exit_action vcpu_exit_rdmsr(struct vcpu *v, struct exit_record *e)
{
    uint64_t val;
    if (!guest_rdmsr(v, e->msr.index, &val)) {
        vcpu_queue_exception(v, 13, true, 0);
        return EXIT_ACT_CONTINUE;
    }
    v->gprs[GPR_RAX] = (uint32_t)val;
    v->gprs[GPR_RDX] = val >> 32;
    return vcpu_complete(v, e) ? EXIT_ACT_CONTINUE : EXIT_ACT_STOP;
}

enum exit_action vcpu_exit_wrmsr(struct vcpu *v, struct exit_record *e)
{
    uint64_t val = (v->gprs[GPR_RDX] << 32) | (uint32_t)v->gprs[GPR_RAX];
    if (!guest_wrmsr(v, e->msr.index, val)) {
        vcpu_queue_exception(v, 13, true, 0);
        return EXIT_ACT_CONTINUE;
    }
    if (!vcpu_complete(v, e))
        return EXIT_ACT_STOP;
    return v->stop_request ? EXIT_ACT_STOP : EXIT_ACT_CONTINUE;
}
