/* Second-level faults (EPT violation / NPT #NPF): emulated MMIO through
 * the instruction decoder (vcpu/decode.c), or a memory violation that
 * stops the VM. */
#include <stddef.h>

#include "arch/x86_64/cpu.h"
#include "vcpu/decode.h"
#include "vcpu/exit_handlers.h"
#include "vcpu/gva.h"
#include "vcpu/vm.h"

static enum exit_action emulate_mmio(struct vcpu *v, uint64_t gpa)
{
    const struct vcpu_backend *b = vcpu_backend;
    uint8_t bytes[15];
    struct mmio_insn in;
    unsigned mode;
    uint64_t rip = b->get_reg(v, HVM_REG_RIP);
    uint64_t la = vcpu_rip_linear(v, rip, &mode);

    /* The access was made by event delivery (the IDT, a stack or a TSS in
     * MMIO), not by the instruction at RIP: there is nothing to emulate. */
    if (v->reinject.valid) {
        vm_crash(v, "event delivery (vector %u) touched MMIO 0x%llx", v->reinject.vector,
                 (unsigned long long)gpa);
        return EXIT_ACT_STOP;
    }
    int got = vcpu_fetch_instruction(v, la, bytes);
    if (got == 0)
        return EXIT_ACT_CONTINUE; /* #PF queued, or fetch again */
    if (got < 0)
        got = 0;
    int r = got ? mmio_decode(bytes, got, mode, &in) : -1;
    if (r < 0) {
        vm_crash(v, "cannot decode the instruction at rip 0x%llx accessing MMIO 0x%llx (%s)",
                 (unsigned long long)rip, (unsigned long long)gpa,
                 got ? mmio_strerror(r) : "unreadable");
        return EXIT_ACT_STOP;
    }
    if (in.op == MMIO_OP_MOVS || in.op == MMIO_OP_STOS) {
        vm_crash(v, "string instruction on MMIO 0x%llx is not supported", (unsigned long long)gpa);
        return EXIT_ACT_STOP;
    }
    v->gprs[GPR_RSP] = b->get_reg(v, HVM_REG_RSP);
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
        uint64_t rflags = b->get_reg(v, HVM_REG_RFLAGS);
        uint64_t res = mmio_alu(&in, mem, v->gprs, &rflags);
        b->set_reg(v, HVM_REG_RFLAGS, rflags);
        if (mmio_writes_mem(&in) && !vm_mmio_access(v, gpa, in.size, true, &res))
            goto violation;
        if (in.reg_is_dst)
            mmio_load_result(&in, v->gprs, res);
    }
    b->set_reg(v, HVM_REG_RSP, v->gprs[GPR_RSP]);
    b->set_reg(v, HVM_REG_RIP, rip + in.len);
    return EXIT_ACT_CONTINUE;
violation:
    vm_crash(v, "memory violation: access to unmapped guest-physical 0x%llx",
             (unsigned long long)gpa);
    return EXIT_ACT_STOP;
}

enum exit_action vcpu_exit_npf(struct vcpu *v, struct exit_record *e)
{
    uint64_t gpa = e->npf.gpa;
    const char *kind = e->npf.write ? "write" : e->npf.fetch ? "instruction fetch" : "read";

    if (e->npf.misconfig) {
        vm_crash(v, "EPT misconfiguration at guest-physical 0x%llx (hypervisor bug)",
                 (unsigned long long)gpa);
        return EXIT_ACT_STOP;
    }
    /* Mapped but not permitted: e.g. a write to the read-only BIOS area. */
    if (e->npf.not_permitted) {
        vm_crash(v, "memory violation: %s to guest-physical 0x%llx not permitted (rip 0x%llx)",
                 kind, (unsigned long long)gpa,
                 (unsigned long long)vcpu_backend->get_reg(v, HVM_REG_RIP));
        return EXIT_ACT_STOP;
    }
    if (!e->npf.fetch && vm_mmio_access(v, gpa, 0, false, NULL))
        return emulate_mmio(v, gpa);
    vm_crash(v,
             "memory violation: %s at guest-physical 0x%llx outside the VM's memory map "
             "(rip 0x%llx)",
             kind, (unsigned long long)gpa,
             (unsigned long long)vcpu_backend->get_reg(v, HVM_REG_RIP));
    return EXIT_ACT_STOP;
}

/* A write to the APIC-access page that the CPU completed into the
 * virtual-APIC page without virtualizing it further (an ICR write that is
 * not a self-IPI: SDM Vol. 3C 30.4.3.3, APIC-write emulation): the same
 * MMIO path as an emulated write takes it. Only an aligned dword is a
 * register write for the vLAPIC; other widths it ignores, as it ignores
 * them when emulated. */
enum exit_action vcpu_exit_apic_write(struct vcpu *v, struct exit_record *e)
{
    uint64_t val = e->apic_write.value;
    if (e->apic_write.offset & 3)
        return EXIT_ACT_CONTINUE;
    if (!vm_mmio_access(v, HVM_APIC_ACCESS_GPA + (e->apic_write.offset & 0xffc), 4, true, &val)) {
        vm_crash(v, "APIC write at offset 0x%x outside the VM's xAPIC window",
                 e->apic_write.offset);
        return EXIT_ACT_STOP;
    }
    return EXIT_ACT_CONTINUE;
}
