/* Decoder for the instructions a guest uses to touch emulated MMIO (EPT
 * violation exits). The exit already gives the guest-physical address, so
 * only what the emulation needs is decoded: operation, access size, register
 * or immediate operand, and instruction length. Supported (Intel SDM Vol. 2):
 *   MOV 88/89/8A/8B, MOV moffs A0-A3, MOV imm C6 /0, C7 /0,
 *   MOVZX 0F B6/B7, MOVSX 0F BE/BF,
 *   ADD/OR/AND/SUB/XOR/CMP 00-3B (not ADC/SBB), 80/81/83 /0,1,4,5,6,7,
 *   TEST 84/85, F6 /0, F7 /0, MOVS A4/A5, STOS AA/AB.
 * Bytes come from the guest: every read is bounded by max_len. */
#ifndef VCPU_DECODE_H
#define VCPU_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#define MMIO_INSN_MAX 15 /* architectural instruction length limit */

#define MMIO_ERR_INVAL       (-1) /* bad arguments (mode, pointers) */
#define MMIO_ERR_TRUNC       (-2) /* instruction continues past max_len */
#define MMIO_ERR_TOOLONG     (-3) /* longer than 15 bytes (#GP on hardware) */
#define MMIO_ERR_UNSUPPORTED (-4) /* opcode not handled by the emulator */
#define MMIO_ERR_NOTMEM      (-5) /* ModRM names a register: cannot have caused the exit */
#define MMIO_ERR_UD          (-6) /* invalid encoding: the guest should get #UD */

enum mmio_op {
    MMIO_OP_MOV_TO_MEM,     /* mem <- reg */
    MMIO_OP_MOV_FROM_MEM,   /* reg <- mem */
    MMIO_OP_MOV_IMM_TO_MEM, /* mem <- imm */
    MMIO_OP_MOVZX,          /* reg(dst_size) <- zero-extend mem(size) */
    MMIO_OP_MOVSX,          /* reg(dst_size) <- sign-extend mem(size) */
    MMIO_OP_ADD,
    MMIO_OP_OR,
    MMIO_OP_AND,
    MMIO_OP_SUB,
    MMIO_OP_XOR,
    MMIO_OP_CMP,  /* flags only */
    MMIO_OP_TEST, /* flags only */
    MMIO_OP_MOVS, /* [rDI] <- [rSI]; both may be memory the caller must reach */
    MMIO_OP_STOS, /* [rDI] <- rAX */
};

/* prefixes */
#define MMIO_PFX_LOCK  (1u << 0)
#define MMIO_PFX_REP   (1u << 1) /* F3 */
#define MMIO_PFX_REPNE (1u << 2) /* F2 */
#define MMIO_PFX_OPSZ  (1u << 3) /* 66 */
#define MMIO_PFX_ADSZ  (1u << 4) /* 67 */
#define MMIO_PFX_REX   (1u << 5)

/* Segment register numbers as in the SDM (ES=0 .. GS=5); -1 = default. */
enum mmio_seg {
    MMIO_SEG_NONE = -1,
    MMIO_SEG_ES,
    MMIO_SEG_CS,
    MMIO_SEG_SS,
    MMIO_SEG_DS,
    MMIO_SEG_FS,
    MMIO_SEG_GS
};

struct mmio_insn {
    enum mmio_op op;
    unsigned size;     /* memory access size in bytes: 1, 2, 4, 8 */
    unsigned dst_size; /* register size written/read; == size except MOVZX/MOVSX */
    /* GPR index (RAX=0 .. R15=15), -1 when none (imm forms, MOVS). For
     * AH/CH/DH/BH, reg is the register holding the byte (RAX..RBX) and
     * high_byte is set. */
    int reg;
    bool high_byte;
    bool has_imm;
    bool reg_is_dst; /* ALU "op reg, mem": result goes to reg, not memory */
    bool rip_relative;
    uint64_t imm;       /* sign-extended to size, then truncated to size */
    unsigned len;       /* instruction length in bytes */
    unsigned addr_size; /* 2, 4, 8: width of rSI/rDI/rCX for string ops */
    unsigned prefixes;  /* MMIO_PFX_* */
    int seg;            /* enum mmio_seg; FS/GS matter in 64-bit mode */
};

/* GPR indices used by the string helpers. */
#define MMIO_RAX 0
#define MMIO_RCX 1
#define MMIO_RSI 6
#define MMIO_RDI 7

/* mode: 16, 32 or 64 (CS.D / CS.L of the guest). max_len <= 15 is how many
 * bytes were fetched. Returns 0 or a negative MMIO_ERR_* (then *out is
 * meaningless). */
int mmio_decode(const uint8_t *bytes, unsigned max_len, unsigned mode, struct mmio_insn *out);

/* Value to write to memory for MOV_TO_MEM, MOV_IMM_TO_MEM and STOS; for ALU
 * ops, the non-memory operand (register or immediate). Truncated to size. */
uint64_t mmio_store_value(const struct mmio_insn *in, const uint64_t gprs[16]);

/* Writes a value loaded from memory into the destination register for
 * MOV_FROM_MEM, MOVZX and MOVSX (and an ALU result when reg_is_dst), with
 * the x86 rules: 32-bit writes zero-extend to 64, 8/16-bit writes keep the
 * other bits, AH..BH are bits 15:8. No-op for other ops. */
void mmio_load_result(const struct mmio_insn *in, uint64_t gprs[16], uint64_t value);

/* True when the op reads / writes the memory operand. */
bool mmio_reads_mem(const struct mmio_insn *in);
bool mmio_writes_mem(const struct mmio_insn *in);

/* For ALU ops: computes the result from the memory operand and the other
 * operand (gprs or imm), and updates CF, PF, AF, ZF, SF, OF in *rflags.
 * Where the result goes: memory unless reg_is_dst; nowhere for CMP/TEST. */
uint64_t mmio_alu(const struct mmio_insn *in, uint64_t mem_value, const uint64_t gprs[16],
                  uint64_t *rflags);

/* After one MOVS/STOS iteration: steps rDI (and rSI for MOVS) by size,
 * backwards when RFLAGS.DF, within addr_size; with REP decrements rCX.
 * Returns true when the instruction is complete (advance RIP), false when
 * it must run again (REP with rCX != 0). */
bool mmio_string_step(const struct mmio_insn *in, uint64_t gprs[16], uint64_t rflags);

const char *mmio_strerror(int err);

/* The decoding mode (16, 32 or 64) of code running with these CS access
 * rights (VMCS format: L is bit 13, D/B bit 14): CS.L means 64-bit only
 * in IA-32e mode (EFER.LMA); outside it CS.L is ignored and CS.D decides. */
unsigned mmio_code_mode(uint32_t cs_access_rights, bool efer_lma);

#endif
