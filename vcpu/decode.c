/* MMIO instruction decoder and operand semantics; see decode.h. */
#include "vcpu/decode.h"

#include "lib/string.h"

struct cursor {
    const uint8_t *b;
    unsigned max, pos;
};

static int fetch(struct cursor *c, uint8_t *v)
{
    if (c->pos >= MMIO_INSN_MAX)
        return MMIO_ERR_TOOLONG;
    if (c->pos >= c->max)
        return MMIO_ERR_TRUNC;
    *v = c->b[c->pos++];
    return 0;
}

/* Little-endian n-byte field; n == 0 just succeeds. */
static int fetch_le(struct cursor *c, unsigned n, uint64_t *v)
{
    uint64_t x = 0;
    for (unsigned i = 0; i < n; i++) {
        uint8_t b;
        int r = fetch(c, &b);
        if (r)
            return r;
        x |= (uint64_t)b << (8 * i);
    }
    *v = x;
    return 0;
}

static inline uint64_t size_mask(unsigned size)
{
    return size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

static inline uint64_t sign_extend(uint64_t v, unsigned size)
{
    if (size >= 8)
        return v;
    uint64_t sign = 1ULL << (8 * size - 1);
    v &= size_mask(size);
    return (v ^ sign) - sign;
}

/* Skips ModRM's SIB and displacement. The address itself is not needed: the
 * EPT exit reports the guest-physical address. */
static int skip_modrm_mem(struct cursor *c, uint8_t modrm, unsigned asz, unsigned mode,
                          bool *rip_rel)
{
    unsigned mod = modrm >> 6, rm = modrm & 7, disp = 0;
    uint64_t unused;
    if (mod == 3)
        return MMIO_ERR_NOTMEM;
    if (asz == 2) {
        /* 16-bit forms have no SIB; mod=0 rm=6 is a bare disp16. */
        if (mod == 1)
            disp = 1;
        else if (mod == 2 || (mod == 0 && rm == 6))
            disp = 2;
        return fetch_le(c, disp, &unused);
    }
    if (rm == 4) {
        uint8_t sib;
        int r = fetch(c, &sib);
        if (r)
            return r;
        if (mod == 0 && (sib & 7) == 5)
            disp = 4; /* no base */
    } else if (mod == 0 && rm == 5) {
        disp = 4;
        *rip_rel = mode == 64; /* absolute disp32 outside 64-bit mode */
    }
    if (mod == 1)
        disp = 1;
    else if (mod == 2)
        disp = 4;
    return fetch_le(c, disp, &unused);
}

static int fetch_imm(struct cursor *c, unsigned n, unsigned size, struct mmio_insn *out)
{
    uint64_t v;
    int r = fetch_le(c, n, &v);
    if (r)
        return r;
    out->imm = sign_extend(v, n) & size_mask(size);
    out->has_imm = true;
    return 0;
}

/* By ModRM.reg of 80/81/83 and bits 5:3 of 00-3B; -1: ADC/SBB (carry-in not emulated). */
static const int alu_ops[8] = {
    MMIO_OP_ADD, MMIO_OP_OR, -1, -1, MMIO_OP_AND, MMIO_OP_SUB, MMIO_OP_XOR, MMIO_OP_CMP,
};

static bool is_alu(enum mmio_op op)
{
    return op >= MMIO_OP_ADD && op <= MMIO_OP_TEST;
}

int mmio_decode(const uint8_t *bytes, unsigned max_len, unsigned mode, struct mmio_insn *out)
{
    if (!bytes || !out || (mode != 16 && mode != 32 && mode != 64))
        return MMIO_ERR_INVAL;
    memset(out, 0, sizeof(*out));
    out->reg = -1;
    out->seg = MMIO_SEG_NONE;

    struct cursor c = {bytes, max_len > MMIO_INSN_MAX ? MMIO_INSN_MAX : max_len, 0};
    uint8_t op, rex = 0;
    int r;
    for (;;) {
        if ((r = fetch(&c, &op)))
            return r;
        int seg = -2;
        switch (op) {
        case 0xf0:
            out->prefixes |= MMIO_PFX_LOCK;
            break;
        case 0xf2:
            out->prefixes = (out->prefixes & ~MMIO_PFX_REP) | MMIO_PFX_REPNE;
            break;
        case 0xf3:
            out->prefixes = (out->prefixes & ~MMIO_PFX_REPNE) | MMIO_PFX_REP;
            break;
        case 0x66:
            out->prefixes |= MMIO_PFX_OPSZ;
            break;
        case 0x67:
            out->prefixes |= MMIO_PFX_ADSZ;
            break;
        case 0x26:
            seg = MMIO_SEG_ES;
            break;
        case 0x2e:
            seg = MMIO_SEG_CS;
            break;
        case 0x36:
            seg = MMIO_SEG_SS;
            break;
        case 0x3e:
            seg = MMIO_SEG_DS;
            break;
        case 0x64:
            seg = MMIO_SEG_FS;
            break;
        case 0x65:
            seg = MMIO_SEG_GS;
            break;
        default:
            if (mode == 64 && (op & 0xf0) == 0x40) {
                rex = op;
                out->prefixes |= MMIO_PFX_REX;
                continue;
            }
            goto opcode;
        }
        /* In 64-bit mode only FS and GS overrides do anything. */
        if (seg != -2 && (mode != 64 || seg >= MMIO_SEG_FS))
            out->seg = seg;
        /* A REX followed by a legacy prefix is ignored. */
        rex = 0;
        out->prefixes &= ~MMIO_PFX_REX;
    }

opcode:;
    bool opsz = out->prefixes & MMIO_PFX_OPSZ, adsz = out->prefixes & MMIO_PFX_ADSZ;
    unsigned osz, asz;
    if (mode == 64) {
        osz = (rex & 8) ? 8 : opsz ? 2 : 4;
        asz = adsz ? 4 : 8;
    } else if (mode == 32) {
        osz = opsz ? 2 : 4;
        asz = adsz ? 2 : 4;
    } else {
        osz = opsz ? 4 : 2;
        asz = adsz ? 4 : 2;
    }
    out->addr_size = asz;

    /* Set per opcode below. */
    bool modrm_reg = false; /* ModRM.reg is a GPR operand */
    bool byte_reg = false;  /* ... of byte size (AH..BH possible) */
    int group = -1;         /* ModRM.reg is an opcode extension for this opcode */
    unsigned imm_len = 0;
    unsigned size = osz;

    if (op == 0x0f) {
        if ((r = fetch(&c, &op)))
            return r;
        switch (op) {
        case 0xb6:
        case 0xb7:
        case 0xbe:
        case 0xbf:
            out->op = op < 0xbe ? MMIO_OP_MOVZX : MMIO_OP_MOVSX;
            size = (op & 1) ? 2 : 1;
            modrm_reg = true;
            break;
        default:
            return MMIO_ERR_UNSUPPORTED;
        }
        out->dst_size = osz;
    } else if (op < 0x40 && (op & 7) < 4) {
        /* ALU r/m,r (bit 1 clear) and r,r/m (bit 1 set); bit 0 selects width. */
        if (alu_ops[op >> 3] < 0)
            return MMIO_ERR_UNSUPPORTED;
        out->op = (enum mmio_op)alu_ops[op >> 3];
        out->reg_is_dst = op & 2;
        size = (op & 1) ? osz : 1;
        modrm_reg = true;
        byte_reg = !(op & 1);
    } else {
        switch (op) {
        case 0x80:
        case 0x81:
        case 0x83:
            group = op;
            size = op == 0x80 ? 1 : osz;
            imm_len = op == 0x81 ? (osz == 2 ? 2 : 4) : 1;
            break;
        case 0x84:
        case 0x85:
            out->op = MMIO_OP_TEST;
            size = op == 0x84 ? 1 : osz;
            modrm_reg = true;
            byte_reg = op == 0x84;
            break;
        case 0x88:
        case 0x89:
        case 0x8a:
        case 0x8b:
            out->op = (op & 2) ? MMIO_OP_MOV_FROM_MEM : MMIO_OP_MOV_TO_MEM;
            size = (op & 1) ? osz : 1;
            modrm_reg = true;
            byte_reg = !(op & 1);
            break;
        case 0xa0:
        case 0xa1:
        case 0xa2:
        case 0xa3: {
            /* MOV AL/rAX <-> moffs: the offset is address-size wide, no ModRM. */
            uint64_t moffs;
            out->op = (op & 2) ? MMIO_OP_MOV_TO_MEM : MMIO_OP_MOV_FROM_MEM;
            out->size = out->dst_size = (op & 1) ? osz : 1;
            out->reg = MMIO_RAX;
            if ((r = fetch_le(&c, asz, &moffs)))
                return r;
            goto done;
        }
        case 0xa4:
        case 0xa5:
        case 0xaa:
        case 0xab:
            out->op = op < 0xaa ? MMIO_OP_MOVS : MMIO_OP_STOS;
            out->size = out->dst_size = (op & 1) ? osz : 1;
            out->reg = op < 0xaa ? -1 : MMIO_RAX;
            goto done;
        case 0xc6:
        case 0xc7:
            group = op;
            size = op == 0xc6 ? 1 : osz;
            imm_len = op == 0xc6 ? 1 : (osz == 2 ? 2 : 4);
            break;
        case 0xf6:
        case 0xf7:
            group = op;
            size = op == 0xf6 ? 1 : osz;
            imm_len = op == 0xf6 ? 1 : (osz == 2 ? 2 : 4);
            break;
        default:
            return MMIO_ERR_UNSUPPORTED;
        }
    }

    uint8_t modrm;
    if ((r = fetch(&c, &modrm)))
        return r;
    unsigned regf = (modrm >> 3) & 7;
    if (group >= 0) {
        switch (group) {
        case 0x80:
        case 0x81:
        case 0x83:
            if (alu_ops[regf] < 0)
                return MMIO_ERR_UNSUPPORTED;
            out->op = (enum mmio_op)alu_ops[regf];
            break;
        case 0xc6:
        case 0xc7:
            /* /7 with mod=3 is XABORT/XBEGIN; other /n are undefined. */
            if (regf != 0)
                return (modrm >> 6) == 3 && regf == 7 ? MMIO_ERR_UNSUPPORTED : MMIO_ERR_UD;
            out->op = MMIO_OP_MOV_IMM_TO_MEM;
            break;
        default: /* F6/F7: only TEST; NOT/NEG/MUL/DIV are not MMIO patterns */
            if (regf != 0)
                return MMIO_ERR_UNSUPPORTED;
            out->op = MMIO_OP_TEST;
            break;
        }
    }
    if ((r = skip_modrm_mem(&c, modrm, asz, mode, &out->rip_relative)))
        return r;
    if (imm_len && (r = fetch_imm(&c, imm_len, size, out)))
        return r;

    out->size = size;
    if (!out->dst_size)
        out->dst_size = size;
    if (modrm_reg) {
        out->reg = (int)(regf | ((rex & 4) ? 8 : 0));
        /* Without REX, byte registers 4-7 are AH, CH, DH, BH. */
        if (byte_reg && !(out->prefixes & MMIO_PFX_REX) && out->reg >= 4) {
            out->reg -= 4;
            out->high_byte = true;
        }
    }

done:
    /* LOCK is only legal on read-modify-write of memory. */
    if ((out->prefixes & MMIO_PFX_LOCK) && !(is_alu(out->op) && mmio_writes_mem(out)))
        return MMIO_ERR_UD;
    out->len = c.pos;
    return 0;
}

static uint64_t reg_value(const struct mmio_insn *in, const uint64_t gprs[16], unsigned size)
{
    if (in->reg < 0 || in->reg > 15)
        return 0;
    if (in->high_byte)
        return (gprs[in->reg] >> 8) & 0xff;
    return gprs[in->reg] & size_mask(size);
}

static void write_reg(uint64_t gprs[16], int reg, bool high, unsigned size, uint64_t v)
{
    if (reg < 0 || reg > 15)
        return;
    uint64_t *g = &gprs[reg];
    switch (size) {
    case 1:
        if (high)
            *g = (*g & ~0xff00ULL) | ((v & 0xff) << 8);
        else
            *g = (*g & ~0xffULL) | (v & 0xff);
        break;
    case 2:
        *g = (*g & ~0xffffULL) | (v & 0xffff);
        break;
    case 4: /* 32-bit destinations zero-extend */
        *g = v & 0xffffffffULL;
        break;
    default:
        *g = v;
        break;
    }
}

uint64_t mmio_store_value(const struct mmio_insn *in, const uint64_t gprs[16])
{
    if (in->op == MMIO_OP_MOV_IMM_TO_MEM || in->has_imm)
        return in->imm & size_mask(in->size);
    return reg_value(in, gprs, in->size);
}

void mmio_load_result(const struct mmio_insn *in, uint64_t gprs[16], uint64_t value)
{
    switch (in->op) {
    case MMIO_OP_MOV_FROM_MEM:
        write_reg(gprs, in->reg, in->high_byte, in->size, value);
        break;
    case MMIO_OP_MOVZX:
        write_reg(gprs, in->reg, false, in->dst_size, value & size_mask(in->size));
        break;
    case MMIO_OP_MOVSX:
        write_reg(gprs, in->reg, false, in->dst_size, sign_extend(value, in->size));
        break;
    case MMIO_OP_ADD:
    case MMIO_OP_OR:
    case MMIO_OP_AND:
    case MMIO_OP_SUB:
    case MMIO_OP_XOR:
        if (in->reg_is_dst)
            write_reg(gprs, in->reg, in->high_byte, in->size, value);
        break;
    default:
        break;
    }
}

bool mmio_reads_mem(const struct mmio_insn *in)
{
    return in->op != MMIO_OP_MOV_TO_MEM && in->op != MMIO_OP_MOV_IMM_TO_MEM &&
           in->op != MMIO_OP_STOS;
}

bool mmio_writes_mem(const struct mmio_insn *in)
{
    switch (in->op) {
    case MMIO_OP_MOV_TO_MEM:
    case MMIO_OP_MOV_IMM_TO_MEM:
    case MMIO_OP_MOVS:
    case MMIO_OP_STOS:
        return true;
    case MMIO_OP_ADD:
    case MMIO_OP_OR:
    case MMIO_OP_AND:
    case MMIO_OP_SUB:
    case MMIO_OP_XOR:
        return !in->reg_is_dst;
    default:
        return false;
    }
}

#define FL_CF (1ULL << 0)
#define FL_PF (1ULL << 2)
#define FL_AF (1ULL << 4)
#define FL_ZF (1ULL << 6)
#define FL_SF (1ULL << 7)
#define FL_OF (1ULL << 11)
#define FL_DF (1ULL << 10)

uint64_t mmio_alu(const struct mmio_insn *in, uint64_t mem_value, const uint64_t gprs[16],
                  uint64_t *rflags)
{
    if (in->size != 1 && in->size != 2 && in->size != 4 && in->size != 8)
        return mem_value;
    uint64_t m = size_mask(in->size), sign = 1ULL << (8 * in->size - 1);
    uint64_t other = mmio_store_value(in, gprs);
    uint64_t dst = (in->reg_is_dst ? other : mem_value) & m;
    uint64_t src = (in->reg_is_dst ? mem_value : other) & m;
    uint64_t res, fl = 0;

    switch (in->op) {
    case MMIO_OP_ADD:
        res = (dst + src) & m;
        fl |= res < dst ? FL_CF : 0;
        fl |= ((dst ^ res) & (src ^ res) & sign) ? FL_OF : 0;
        fl |= (dst ^ src ^ res) & 0x10 ? FL_AF : 0;
        break;
    case MMIO_OP_SUB:
    case MMIO_OP_CMP:
        res = (dst - src) & m;
        fl |= dst < src ? FL_CF : 0;
        fl |= ((dst ^ src) & (dst ^ res) & sign) ? FL_OF : 0;
        fl |= (dst ^ src ^ res) & 0x10 ? FL_AF : 0;
        break;
    case MMIO_OP_AND:
    case MMIO_OP_TEST:
        res = dst & src;
        break;
    case MMIO_OP_OR:
        res = dst | src;
        break;
    case MMIO_OP_XOR:
        res = dst ^ src;
        break;
    default:
        return mem_value;
    }
    fl |= res == 0 ? FL_ZF : 0;
    fl |= (res & sign) ? FL_SF : 0;
    uint8_t par = (uint8_t)res; /* PF: even number of ones in the low byte */
    par ^= par >> 4;
    par ^= par >> 2;
    par ^= par >> 1;
    fl |= (par & 1) ? 0 : FL_PF;
    if (rflags)
        *rflags = (*rflags & ~(FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)) | fl;
    return res;
}

/* Address-size-wide register update: 16-bit keeps the upper bits, 32-bit
 * zero-extends, as a write of that width would. */
static void step_reg(uint64_t gprs[16], int reg, unsigned asz, uint64_t delta)
{
    uint64_t v = (gprs[reg] + delta) & size_mask(asz);
    write_reg(gprs, reg, false, asz, v);
}

bool mmio_string_step(const struct mmio_insn *in, uint64_t gprs[16], uint64_t rflags)
{
    if (in->op != MMIO_OP_MOVS && in->op != MMIO_OP_STOS)
        return true;
    bool rep = in->prefixes & (MMIO_PFX_REP | MMIO_PFX_REPNE);
    unsigned asz = in->addr_size ? in->addr_size : 8;
    if (rep && !(gprs[MMIO_RCX] & size_mask(asz)))
        return true;
    uint64_t delta = (rflags & FL_DF) ? 0 - (uint64_t)in->size : in->size;
    step_reg(gprs, MMIO_RDI, asz, delta);
    if (in->op == MMIO_OP_MOVS)
        step_reg(gprs, MMIO_RSI, asz, delta);
    if (!rep)
        return true;
    step_reg(gprs, MMIO_RCX, asz, ~0ULL);
    return !(gprs[MMIO_RCX] & size_mask(asz));
}

const char *mmio_strerror(int err)
{
    switch (err) {
    case 0:
        return "ok";
    case MMIO_ERR_INVAL:
        return "invalid decoder arguments";
    case MMIO_ERR_TRUNC:
        return "instruction truncated";
    case MMIO_ERR_TOOLONG:
        return "instruction longer than 15 bytes";
    case MMIO_ERR_UNSUPPORTED:
        return "unsupported instruction for MMIO emulation";
    case MMIO_ERR_NOTMEM:
        return "instruction has no memory operand";
    case MMIO_ERR_UD:
        return "invalid encoding";
    default:
        return "unknown decoder error";
    }
}

unsigned mmio_code_mode(uint32_t cs_access_rights, bool efer_lma)
{
    if ((cs_access_rights & (1U << 13)) && efer_lma)
        return 64;
    return (cs_access_rights & (1U << 14)) ? 32 : 16;
}
