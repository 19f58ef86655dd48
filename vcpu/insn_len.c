/* Instruction lengths of the intercepted instructions (vcpu/insn_len.h). */
#include "vcpu/insn_len.h"

/* ModRM, SIB and displacement bytes of a memory operand at b[0]. */
static unsigned modrm_len(const uint8_t *b, unsigned n, bool addr16)
{
    if (!n)
        return 0;
    unsigned mod = b[0] >> 6, rm = b[0] & 7, len = 1;
    if (mod == 3)
        return 1;
    if (addr16) {
        if (mod == 1)
            len += 1;
        else if (mod == 2 || (mod == 0 && rm == 6))
            len += 2;
        return len <= n ? len : 0;
    }
    if (rm == 4) { /* SIB */
        if (n < 2)
            return 0;
        len++;
        if (mod == 0 && (b[1] & 7) == 5)
            len += 4;
    } else if (mod == 0 && rm == 5) {
        len += 4; /* disp32 (RIP-relative in 64-bit mode) */
    }
    if (mod == 1)
        len += 1;
    else if (mod == 2)
        len += 4;
    return len <= n ? len : 0;
}

unsigned x86_insn_length(const uint8_t *b, unsigned n, unsigned mode)
{
    unsigned i = 0;
    bool adsz = false;
    if (n > 15)
        n = 15;
    for (; i < n; i++) {
        uint8_t p = b[i];
        if (p == 0x67)
            adsz = true;
        else if (!(p == 0x66 || p == 0xf2 || p == 0xf3 || p == 0xf0 || p == 0x2e || p == 0x36 ||
                   p == 0x3e || p == 0x26 || p == 0x64 || p == 0x65))
            break;
    }
    if (mode == 64 && i < n && (b[i] & 0xf0) == 0x40)
        i++; /* REX */
    if (i >= n)
        return 0;
    bool addr16 = mode == 16 ? !adsz : mode == 32 ? adsz : false;
    uint8_t op = b[i++];
    if (op == 0xf4 || (op >= 0xec && op <= 0xef) || (op >= 0x6c && op <= 0x6f) || op == 0x90)
        return i; /* HLT, IN/OUT DX, INS/OUTS, PAUSE (F3 90) */
    if (op >= 0xe4 && op <= 0xe7)
        return i + 1 <= n ? i + 1 : 0; /* IN/OUT imm8 */
    if (op != 0x0f || i >= n)
        return 0;
    uint8_t op2 = b[i++];
    switch (op2) {
    case 0xa2: /* CPUID */
    case 0x30: /* WRMSR */
    case 0x32: /* RDMSR */
    case 0x33: /* RDPMC */
    case 0x08: /* INVD */
    case 0x09: /* WBINVD */
    case 0x06: /* CLTS */
        return i;
    case 0x20: /* MOV from CRn: register operand only */
    case 0x22: /* MOV to CRn */
        return i + 1 <= n ? i + 1 : 0;
    case 0x01: {
        if (i >= n)
            return 0;
        uint8_t modrm = b[i];
        if ((modrm >> 6) == 3)
            return i + 1; /* VMCALL, VMMCALL, XSETBV, MONITOR, MWAIT, SVM instructions */
        if (((modrm >> 3) & 7) != 6)
            return 0; /* only LMSW takes a memory operand among the intercepted */
        unsigned m = modrm_len(b + i, n - i, addr16);
        return m ? i + m : 0;
    }
    default:
        return 0;
    }
}

bool x86_string_io_prefixes(const uint8_t *b, unsigned n, unsigned mode, unsigned *addr_size,
                            int *seg)
{
    static const int8_t seg_of[] = {
        [0x26] = 1, [0x2e] = 2, [0x36] = 3, [0x3e] = 4, [0x64] = 5, [0x65] = 6}; /* segment + 1 */
    bool adsz = false;
    unsigned i = 0;
    *seg = -1;
    if (n > 15)
        n = 15;
    for (; i < n; i++) {
        uint8_t p = b[i];
        if (p == 0x67)
            adsz = true;
        else if (p < sizeof(seg_of) && seg_of[p])
            *seg = seg_of[p] - 1;
        else if (!(p == 0x66 || p == 0xf2 || p == 0xf3 || p == 0xf0))
            break;
    }
    if (mode == 64 && i < n && (b[i] & 0xf0) == 0x40)
        i++; /* REX */
    if (i >= n || b[i] < 0x6c || b[i] > 0x6f)
        return false;
    if (mode == 64)
        *addr_size = adsz ? 4 : 8;
    else if (mode == 32)
        *addr_size = adsz ? 2 : 4;
    else
        *addr_size = adsz ? 4 : 2;
    return true;
}
