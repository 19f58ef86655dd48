/* Exits that touch devices or memory: port I/O (with INS/OUTS and REP),
 * RDMSR/WRMSR, and EPT violations (emulated MMIO or a memory violation). */
#include "arch/x86_64/cpu.h"
#include "guest/msr.h"
#include "guest/vm.h"
#include "lib/log.h"
#include "lib/string.h"
#include "vmx/decode.h"
#include "vmx/vmcs.h"
#include "vmx/vmx.h"
#include "vmx/vmx_exit.h"

#define IO_MAX_REP_PER_EXIT 1024 /* bounded work per exit; the rest re-executes */

/* Guest linear -> guest physical through the guest's own page tables
 * (paging off, 32-bit, PAE or 4-level), every table read bounds-checked. */
int vmx_guest_linear_to_phys(struct vcpu *v, uint64_t la, bool write, uint64_t *gpa)
{
    struct vmx_vcpu *x = v->arch;
    uint64_t cr3 = vmcs_read(GUEST_CR3);

    if (!(x->cr0_shadow & CR0_PG)) {
        *gpa = la & 0xffffffffULL;
        return 0;
    }
    if (!(x->cr4_shadow & CR4_PAE)) {
        uint32_t pde, pte;
        if (vm_read_guest(v->vm, (cr3 & 0xfffff000ULL) + ((la >> 22) & 0x3ff) * 4, &pde, 4) ||
            !(pde & 1))
            return -1;
        if ((pde & 0x80) && (vmcs_read(GUEST_CR4) & CR4_PSE)) { /* PSE is not intercepted */
            *gpa = (pde & 0xffc00000ULL) | (la & 0x3fffff);
            return 0;
        }
        if (vm_read_guest(v->vm, (pde & 0xfffff000ULL) + ((la >> 12) & 0x3ff) * 4, &pte, 4) ||
            !(pte & 1))
            return -1;
        *gpa = (pte & 0xfffff000ULL) | (la & 0xfff);
        return 0;
    }
    const uint64_t addr_mask = 0x000ffffffffff000ULL;
    int levels = (x->efer & EFER_LMA) ? 4 : 3;
    uint64_t table = levels == 4 ? (cr3 & addr_mask) : (cr3 & 0xffffffe0ULL);
    for (int l = levels; l >= 1; l--) {
        unsigned shift = 12 + 9 * (l - 1);
        uint64_t idx = (la >> shift) & (l == 3 && levels == 3 ? 3 : 511);
        uint64_t e;
        if (vm_read_guest(v->vm, table + idx * 8, &e, 8) || !(e & 1))
            return -1;
        if (l < 4 && l > 1 && (e & 0x80)) {
            uint64_t page = 1ULL << shift;
            *gpa = (e & addr_mask & ~(page - 1)) | (la & (page - 1));
            return 0;
        }
        table = e & addr_mask;
    }
    *gpa = table | (la & 0xfff);
    (void)write;
    return 0;
}

static int guest_linear_copy(struct vcpu *v, uint64_t la, void *buf, unsigned len, bool write)
{
    uint8_t *p = buf;
    while (len) {
        uint64_t gpa;
        unsigned chunk = 4096 - (la & 0xfff);
        if (chunk > len)
            chunk = len;
        if (vmx_guest_linear_to_phys(v, la, write, &gpa))
            return -1;
        int r = write ? vm_write_guest(v->vm, gpa, p, chunk) : vm_read_guest(v->vm, gpa, p, chunk);
        if (r)
            return -1;
        la += chunk;
        p += chunk;
        len -= chunk;
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
        if (in) {
            vm_port_access(v, port, size, true, &val);
            if (guest_linear_copy(v, la, &val, size, true))
                goto fault;
        } else {
            if (guest_linear_copy(v, la, &val, size, false))
                goto fault;
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
    return VMX_EXIT_CONTINUE;
fault:
    vm_crash(v, "string I/O on port 0x%x with a bad buffer at linear 0x%llx", port,
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

static unsigned guest_code_mode(void)
{
    uint32_t ar = (uint32_t)vmcs_read(GUEST_CS_AR_BYTES);
    if (ar & (1U << 13))
        return 64;
    return (ar & (1U << 14)) ? 32 : 16;
}

static enum vmx_exit_action emulate_mmio(struct vcpu *v, uint64_t gpa)
{
    uint8_t bytes[15];
    struct mmio_insn in;
    uint64_t rip = vmcs_read(GUEST_RIP);
    uint64_t la = rip + vmcs_read(GUEST_CS_BASE);
    unsigned mode = guest_code_mode();
    unsigned len = (unsigned)vmcs_read(VM_EXIT_INSTRUCTION_LEN);

    if (mode != 64)
        la &= 0xffffffffULL;
    /* The instruction may end on an unmapped page: fetch what can be had. */
    if (len == 0 || len > 15)
        len = 15;
    unsigned got = len;
    while (got && guest_linear_copy(v, la, bytes, got, false))
        got--;
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
