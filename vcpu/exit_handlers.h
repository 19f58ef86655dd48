/* The exit handlers of the vendor-neutral layer, shared by vcpu/exit*.c
 * and vcpu/mmio.c. Each takes the normalized record (hvm/exit.h), never a
 * vendor's exit information; state a backend keeps is reached through
 * vcpu_backend (hvm/backend.h). */
#ifndef VCPU_EXIT_HANDLERS_H
#define VCPU_EXIT_HANDLERS_H

#include <stdbool.h>
#include <stdint.h>

#include "hvm/backend.h"
#include "hvm/exit.h"
#include "hvm/vcpu.h"

enum exit_action vcpu_exit_io(struct vcpu *v, struct exit_record *e);
enum exit_action vcpu_exit_rdmsr(struct vcpu *v, struct exit_record *e);
enum exit_action vcpu_exit_wrmsr(struct vcpu *v, struct exit_record *e);
/* A real-time vCPU's x2APIC ICR write (rt_icr.c): sent to the hardware
 * when it stays inside the VM, refused and logged otherwise. */
struct vm;
bool vcpu_rt_icr_allowed(const struct vm *vm, uint64_t icr);
enum exit_action vcpu_rt_icr_write(struct vcpu *v, struct exit_record *e);
/* A PAUSE-loop exit (exit_pause.c): the vCPU yields to a sibling. */
enum exit_action vcpu_exit_pause(struct vcpu *v, struct exit_record *e);
enum exit_action vcpu_exit_npf(struct vcpu *v, struct exit_record *e);
enum exit_action vcpu_exit_apic_write(struct vcpu *v, struct exit_record *e);
enum exit_action vcpu_exit_cr_access(struct vcpu *v, struct exit_record *e);
/* A CR0 write the backend could not decode (exit_lmsw.c): when the
 * instruction at RIP is LMSW (from memory or a register), e becomes that
 * CR_LMSW with its source and length: 1. 0 when an exception (#GP, #SS,
 * #PF) is queued or the instruction must run again; -1 when the VM has
 * been stopped (not LMSW, or an operand outside the VM's memory map). */
int vcpu_decode_cr0_write(struct vcpu *v, struct exit_record *e);

/* Marks the exiting instruction completed: the backend advances RIP past
 * it (by e->insn_len, decoded here first when the backend did not know
 * it). False when the length cannot be had: the VM has been stopped. */
bool vcpu_complete(struct vcpu *v, struct exit_record *e);

/* A GPR as an instruction operand: RSP lives in the backend's state. */
uint64_t vcpu_read_gpr(struct vcpu *v, unsigned r);
void vcpu_write_gpr(struct vcpu *v, unsigned r, uint64_t val);

/* The length of the instruction at RIP whose exit is e (when the backend
 * gave 0), fetched through the guest's page tables and decoded
 * (vcpu/insn_len.c); 0 when it cannot be had. */
unsigned vcpu_decode_insn_len(struct vcpu *v, const struct exit_record *e);

#endif
