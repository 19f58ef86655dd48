/* Memory operands of the instructions the neutral layer emulates without
 * the hardware's help (LMSW m16 under SVM without DecodeAssists: the CR0
 * write exit names neither operand nor length). Pure logic over the
 * instruction bytes and the guest's registers, unit-tested on the host:
 * the ModRM/SIB effective address in every addressing form (16-bit forms,
 * SIB, RIP-relative, REX.B/X, segment overrides), and the segmentation
 * checks that turn an offset into a linear address (SDM vol. 3 3.4.5.1
 * types, 5.3 limits with expand-down segments, 3.3.7.1 canonical form;
 * vol. 2 "LMSW": #GP(0), or #SS(0) for an SS-based operand). */
#ifndef VCPU_X86_OPERAND_H
#define VCPU_X86_OPERAND_H

#include <stdbool.h>
#include <stdint.h>

#include "hvm/backend.h"

/* A memory operand as the instruction encodes it. */
struct x86_mem_operand {
    unsigned addr_size; /* 2, 4 or 8 */
    int seg;            /* enum hvm_seg: the override, else DS (SS for an rBP/rSP base) */
    int base, index;    /* GPR 0-15, or -1 */
    unsigned scale;     /* 1, 2, 4 or 8 */
    int64_t disp;       /* sign-extended displacement (16-bit forms: as encoded) */
    bool rip_relative;  /* 64-bit mode mod 0 rm 5: disp from the next instruction */
};

/* LMSW (0F 01 /6) as decoded from its bytes. */
struct x86_lmsw {
    bool mem;    /* LMSW m16; else LMSW r16 */
    uint8_t gpr; /* the register form's source (REX.B included) */
    struct x86_mem_operand op;
    unsigned len;
};

/* Decodes bytes[0..n) (n as fetched, at most 15 count) in code mode 16,
 * 32 or 64 as LMSW. False for any other instruction, one that ends after
 * n bytes or is longer than 15, and LOCK LMSW (#UD on the CPU). */
bool x86_decode_lmsw(const uint8_t *bytes, unsigned n, unsigned mode, struct x86_lmsw *out);

/* The effective address (the offset in its segment), truncated to the
 * address size. gprs[16] by GPR number (RSP included); next_rip is RIP
 * after the instruction, for RIP-relative operands. */
uint64_t x86_operand_offset(const struct x86_mem_operand *op, const uint64_t gprs[16],
                            uint64_t next_rip);

/* What the CPU's segmentation makes of an access. */
enum x86_seg_check {
    X86_SEG_OK,
    X86_SEG_GP, /* #GP(0) */
    X86_SEG_SS, /* #SS(0): the access used SS */
};

/* The processor mode the checks depend on. */
enum x86_cpu_mode {
    X86_MODE_REAL,      /* real mode and virtual-8086 mode: limits only */
    X86_MODE_PROTECTED, /* protected and compatibility mode: usable, type, limit */
    X86_MODE_64,        /* 64-bit mode: FS/GS base, canonical form */
};

/* The linear address of a len-byte (1-8) access at offset off through
 * segment seg (enum hvm_seg) described by s (VMX access-rights layout:
 * type 3:0, D/B 14, unusable 16), with every check the CPU makes before
 * paging. va_bits 48 or 57 (CR4.LA57) for the canonical check. */
enum x86_seg_check x86_segment_linear(const struct hvm_segment *s, int seg, enum x86_cpu_mode mode,
                                      unsigned va_bits, uint64_t off, unsigned len, bool write,
                                      uint64_t *la);

#endif
