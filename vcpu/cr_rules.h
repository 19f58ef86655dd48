/* The SDM's consistency rules for MOV to CR0/CR4 and WRMSR IA32_EFER, as
 * pure functions of the guest's state (SDM vol. 2 "MOV—Move to/from
 * Control Registers" and "WRMSR", vol. 3 2.5, 4.1.1, 10.8.5): a write they
 * refuse is a #GP(0) for the guest, and nothing they accept can make the
 * next VM entry fail. Also the other architectural event rules the
 * neutral layer applies: which exceptions push RFLAGS.RF = 1. */
#ifndef VCPU_CR_RULES_H
#define VCPU_CR_RULES_H

#include <stdbool.h>
#include <stdint.h>

/* The guest state a control-register write is checked against. */
struct cr_state {
    uint64_t cr0, cr3, cr4, efer;
    bool cs_l; /* CS.L: 64-bit mode when EFER.LMA is set */
};

/* The CPUID words the rules read (the guest's view, not the host's). */
struct cr_features {
    uint32_t leaf1_ecx, leaf1_edx;
    uint32_t leaf7_ebx, leaf7_ecx;
    uint32_t ext1_edx; /* 0x80000001 EDX */
};

/* CR4 bits a guest with these CPUID features may set (VMXE and SMXE never:
 * VMX and SMX are not offered). */
uint64_t cr4_allowed_bits(const struct cr_features *f);
/* EFER bits a guest may write: SCE, LME/LMA, NXE as CPUID shows them. */
uint64_t efer_allowed_bits(const struct cr_features *f);

bool cr0_write_ok(const struct cr_state *s, uint64_t val);
/* The CR0 value LMSW loads from a 16-bit source: only PE, MP, EM and TS
 * (bits 3:0) change, and PE can be set but not cleared (SDM vol. 2
 * "LMSW"). The result still goes through cr0_write_ok. */
uint64_t lmsw_cr0(uint64_t cr0, uint16_t src);
bool cr4_write_ok(const struct cr_state *s, uint64_t val, uint64_t allowed);
bool efer_write_ok(const struct cr_state *s, uint64_t val, uint64_t allowed);
/* The EFER value a WRMSR that efer_write_ok accepted loads: LMA is the
 * CPU's, a write does not change it. */
uint64_t efer_after_write(const struct cr_state *s, uint64_t val);

/* Whether the write turns PAE paging on outside IA-32e mode, which loads
 * the four PDPTEs from CR3 (SDM vol. 3 4.4.1). */
bool cr_write_loads_pdptes(const struct cr_state *s, unsigned cr, uint64_t val);
/* A present PDPTE with a reserved bit (2:1, 8:5, MAXPHYADDR and up) makes
 * that MOV a #GP; a VM entry with it would fail. */
bool pae_pdptes_ok(const uint64_t pdpte[4], unsigned maxphyaddr);

/* A fault-class exception: its delivery pushes RFLAGS.RF = 1 (SDM vol. 3
 * 6.15 / 17.3.1.1), so the restarted instruction does not hit its own
 * instruction breakpoint again. Not #DB (whose instruction-breakpoint
 * faults push RF = 0 and whose traps leave it), traps (#BP, #OF), aborts
 * (#DF, #MC) or NMI. */
#define X86_RFLAGS_RF (1ULL << 16)
bool exception_pushes_rf(uint8_t vector);

/* The current vCPU's state and CPUID words for the rules (vcpu/exit_cr.c;
 * on the vCPU's CPU with its state loaded). */
struct vcpu;
void vcpu_cr_state(struct vcpu *v, struct cr_state *s);
void vcpu_cr_features(struct vcpu *v, struct cr_features *f);

#endif
