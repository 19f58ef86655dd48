/* Lengths of the instructions a backend intercepts, for backends that do
 * not report them (SVM without NRIPS: exit records with insn_len 0). Pure
 * logic over the instruction bytes, unit-tested on the host. */
#ifndef VCPU_INSN_LEN_H
#define VCPU_INSN_LEN_H

#include <stdint.h>

/* The length of the instruction in bytes[0..n) for code mode 16, 32 or
 * 64, when it is one of those that exit and complete: CPUID, HLT, IN/OUT
 * (INS/OUTS), RDMSR/WRMSR, RDPMC, INVD/WBINVD, PAUSE, CLTS, MOV to/from
 * CRn, LMSW, XSETBV, VMCALL/VMMCALL and the other 0F 01 register forms.
 * 0 for anything else or when the bytes end early. */
unsigned x86_insn_length(const uint8_t *bytes, unsigned n, unsigned mode);

#endif
