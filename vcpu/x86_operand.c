/* Memory operands and segmentation for emulated instructions; see
 * x86_operand.h. */
#include "vcpu/x86_operand.h"

#include "lib/string.h"

#define X86_MAX_INSN 15

#define AR_TYPE_CODE     (1U << 3)
#define AR_TYPE_EXPDOWN  (1U << 2) /* data segments */
#define AR_TYPE_WRITABLE (1U << 1) /* data segments */
#define AR_TYPE_READABLE (1U << 1) /* code segments */
#define AR_DB            (1U << 14)
#define AR_UNUSABLE      (1U << 16)

#define GPR_SP 4
#define GPR_BP 5

struct cursor {
    const uint8_t *b;
    unsigned n, pos;
};

static bool next(struct cursor *c, uint8_t *v)
{
    if (c->pos >= c->n || c->pos >= X86_MAX_INSN)
        return false;
    *v = c->b[c->pos++];
    return true;
}

/* A little-endian signed field of 1, 2 or 4 bytes. */
static bool next_disp(struct cursor *c, unsigned size, int64_t *disp)
{
    uint64_t x = 0;
    for (unsigned i = 0; i < size; i++) {
        uint8_t b;
        if (!next(c, &b))
            return false;
        x |= (uint64_t)b << (8 * i);
    }
    uint64_t sign = 1ULL << (8 * size - 1);
    *disp = (int64_t)((x ^ sign) - sign);
    return true;
}

/* ModRM's memory forms: 16-bit (SDM vol. 2 table 2-1) and 32/64-bit with
 * SIB (tables 2-2, 2-3; RIP-relative 2.2.1.6). */
static bool decode_modrm_mem(struct cursor *c, uint8_t modrm, unsigned mode, uint8_t rex,
                             struct x86_mem_operand *op)
{
    static const int8_t base16[8] = {3, 3, 5, 5, 6, 7, 5, 3};      /* BX BX BP BP SI DI BP BX */
    static const int8_t index16[8] = {6, 7, 6, 7, -1, -1, -1, -1}; /* SI DI SI DI */
    unsigned mod = modrm >> 6, rm = modrm & 7;
    op->base = op->index = -1;
    op->scale = 1;
    op->disp = 0;
    op->rip_relative = false;
    bool ss = false;
    if (op->addr_size == 2) {
        if (mod == 0 && rm == 6) { /* disp16 alone */
            if (!next_disp(c, 2, &op->disp))
                return false;
        } else {
            op->base = base16[rm];
            op->index = index16[rm];
            ss = op->base == GPR_BP;
        }
        if (mod == 1 && !next_disp(c, 1, &op->disp))
            return false;
        if (mod == 2 && !next_disp(c, 2, &op->disp))
            return false;
    } else {
        if (rm == 4) {
            uint8_t sib;
            if (!next(c, &sib))
                return false;
            unsigned index = ((sib >> 3) & 7) | ((rex & 2) ? 8 : 0);
            if (index != GPR_SP) /* no index (R12 is one) */
                op->index = (int)index;
            op->scale = 1U << (sib >> 6);
            if (mod == 0 && (sib & 7) == 5) {
                if (!next_disp(c, 4, &op->disp)) /* no base: disp32 */
                    return false;
            } else {
                op->base = (int)((sib & 7) | ((rex & 1) ? 8 : 0));
            }
        } else if (mod == 0 && rm == 5) {
            if (!next_disp(c, 4, &op->disp))
                return false;
            op->rip_relative = mode == 64; /* an absolute disp32 elsewhere */
        } else {
            op->base = (int)(rm | ((rex & 1) ? 8 : 0));
        }
        ss = op->base == GPR_SP || op->base == GPR_BP; /* not R12/R13 */
        if (mod == 1 && !next_disp(c, 1, &op->disp))
            return false;
        if (mod == 2 && !next_disp(c, 4, &op->disp))
            return false;
    }
    if (op->seg < 0)
        op->seg = ss ? HVM_SEG_SS : HVM_SEG_DS;
    return true;
}

bool x86_decode_lmsw(const uint8_t *bytes, unsigned n, unsigned mode, struct x86_lmsw *out)
{
    struct cursor c = {bytes, n, 0};
    bool adsz = false, lock = false;
    int seg = -1;
    uint8_t b, rex = 0;
    memset(out, 0, sizeof(*out));
    if (mode != 16 && mode != 32 && mode != 64)
        return false;
    for (;;) {
        if (!next(&c, &b))
            return false;
        if (b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e)
            seg = (b >> 3) & 3; /* ES 0, CS 1, SS 2, DS 3 */
        else if (b == 0x64 || b == 0x65)
            seg = b - 0x64 + HVM_SEG_FS;
        else if (b == 0x67)
            adsz = true;
        else if (b == 0xf0)
            lock = true;
        else if (mode == 64 && (b & 0xf0) == 0x40) {
            rex = b; /* the last one counts, if nothing follows it but the opcode */
            continue;
        } else if (b != 0x66 && b != 0xf2 && b != 0xf3)
            break;
        rex = 0; /* a REX before a legacy prefix is ignored */
    }
    uint8_t op2, modrm;
    if (b != 0x0f || !next(&c, &op2) || op2 != 0x01 || !next(&c, &modrm) ||
        ((modrm >> 3) & 7) != 6 || lock)
        return false;
    if ((modrm >> 6) == 3) {
        out->gpr = (uint8_t)((modrm & 7) | ((rex & 1) ? 8 : 0));
        out->len = c.pos;
        return true;
    }
    out->mem = true;
    out->op.addr_size = mode == 64 ? (adsz ? 4 : 8) : (mode == 32) != adsz ? 4 : 2;
    /* 64-bit mode ignores ES, CS, SS and DS overrides (their base is 0)
     * but an SS override still makes a fault #SS. */
    out->op.seg = seg;
    if (!decode_modrm_mem(&c, modrm, mode, rex, &out->op))
        return false;
    out->len = c.pos;
    return true;
}

static uint64_t addr_mask(unsigned addr_size)
{
    return addr_size == 2 ? 0xffffULL : addr_size == 4 ? 0xffffffffULL : ~0ULL;
}

uint64_t x86_operand_offset(const struct x86_mem_operand *op, const uint64_t gprs[16],
                            uint64_t next_rip)
{
    uint64_t ea = (uint64_t)op->disp;
    if (op->base >= 0)
        ea += gprs[op->base];
    if (op->index >= 0)
        ea += gprs[op->index] * op->scale;
    if (op->rip_relative)
        ea += next_rip;
    return ea & addr_mask(op->addr_size);
}

static bool canonical(uint64_t la, unsigned va_bits)
{
    int64_t s = (int64_t)(la << (64 - va_bits)) >> (64 - va_bits);
    return (uint64_t)s == la;
}

enum x86_seg_check x86_segment_linear(const struct hvm_segment *s, int seg, enum x86_cpu_mode mode,
                                      unsigned va_bits, uint64_t off, unsigned len, bool write,
                                      uint64_t *la)
{
    enum x86_seg_check fault = seg == HVM_SEG_SS ? X86_SEG_SS : X86_SEG_GP;
    if (len < 1 || len > 8 || seg < HVM_SEG_ES || seg > HVM_SEG_GS)
        return X86_SEG_GP;
    if (mode == X86_MODE_64) {
        uint64_t base = seg == HVM_SEG_FS || seg == HVM_SEG_GS ? s->base : 0;
        *la = base + off;
        if (va_bits != 57)
            va_bits = 48;
        if (!canonical(*la, va_bits) || !canonical(*la + len - 1, va_bits))
            return fault;
        return X86_SEG_OK;
    }
    if (mode == X86_MODE_PROTECTED) {
        uint32_t type = s->attr & 0xf;
        if (s->attr & AR_UNUSABLE)
            return fault;
        if (write ? (type & AR_TYPE_CODE) || !(type & AR_TYPE_WRITABLE)
                  : (type & AR_TYPE_CODE) && !(type & AR_TYPE_READABLE))
            return fault;
        if (!(type & AR_TYPE_CODE) && (type & AR_TYPE_EXPDOWN)) {
            /* Expand-down: the valid offsets lie above the limit. */
            uint64_t upper = (s->attr & AR_DB) ? 0xffffffffULL : 0xffffULL;
            if (off <= s->limit || off + len - 1 > upper)
                return fault;
            *la = (s->base + off) & 0xffffffffULL;
            return X86_SEG_OK;
        }
    }
    /* Real and virtual-8086 mode check the cached limit too. */
    if (off + len - 1 > s->limit)
        return fault;
    *la = (s->base + off) & 0xffffffffULL;
    return X86_SEG_OK;
}
