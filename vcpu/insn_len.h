/* Lengths of the instructions a backend intercepts, for backends that do
 * not report them (SVM without NRIPS: exit records with insn_len 0). Pure
 * logic over the instruction bytes, unit-tested on the host. */
#ifndef VCPU_INSN_LEN_H
#define VCPU_INSN_LEN_H

#include <stdbool.h>
#include <stdint.h>

/* The length of the instruction in bytes[0..n) for code mode 16, 32 or
 * 64, when it is one of those that exit and complete: CPUID, HLT, IN/OUT
 * (INS/OUTS), RDMSR/WRMSR, RDPMC, INVD/WBINVD, PAUSE, CLTS, MOV to/from
 * CRn, LMSW, XSETBV, VMCALL/VMMCALL and the other 0F 01 register forms.
 * 0 for anything else or when the bytes end early. */
unsigned x86_insn_length(const uint8_t *bytes, unsigned n, unsigned mode);

/* What the prefixes of a string I/O instruction (INS/OUTS) in bytes[0..n)
 * say, for backends whose exit does not (SVM without DecodeAssists, and
 * QEMU, which reports no address size): *addr_size 2, 4 or 8 for code mode
 * 16, 32 or 64 and the 0x67 prefix; *seg the last segment override in
 * x86's segment-register order (0 ES, 1 CS, 2 SS, 3 DS, 4 FS, 5 GS; the
 * order of enum hvm_seg) or -1. False when the bytes are not INS/OUTS. */
bool x86_string_io_prefixes(const uint8_t *bytes, unsigned n, unsigned mode, unsigned *addr_size,
                            int *seg);

#endif
