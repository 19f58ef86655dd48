/* MMIO decoder tests: real encodings (checked against objdump) and the
 * register-merge / flag semantics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vcpu/decode.h"

#define NOREG -1
#define NOIMM 0x5a5a5a5a5a5a5a5aULL /* "no immediate expected" */
#define RIP   1
#define HI    2
#define RDST  4
#define LOCK  8
#define REP   16

struct dcase {
    const char *name;
    unsigned mode;
    const char *hex;
    enum mmio_op op;
    unsigned size, dst_size;
    int reg;
    uint64_t imm;
    unsigned len;
    unsigned flags;
    int seg;
};

static const struct dcase good[] = {
    /* 64-bit mode */
    {"mov [rdi],eax", 64, "89 07", MMIO_OP_MOV_TO_MEM, 4, 4, 0, NOIMM, 2, 0, -1},
    {"mov [rdi],rax", 64, "48 89 07", MMIO_OP_MOV_TO_MEM, 8, 8, 0, NOIMM, 3, 0, -1},
    {"mov eax,[rdi+0x10]", 64, "8b 47 10", MMIO_OP_MOV_FROM_MEM, 4, 4, 0, NOIMM, 3, 0, -1},
    {"mov dword [rax+0x300],1", 64, "c7 80 00 03 00 00 01 00 00 00", MMIO_OP_MOV_IMM_TO_MEM, 4, 4,
     NOREG, 1, 10, 0, -1},
    {"mov [rsi],ax", 64, "66 89 06", MMIO_OP_MOV_TO_MEM, 2, 2, 0, NOIMM, 3, 0, -1},
    {"mov [rsi],ah", 64, "88 26", MMIO_OP_MOV_TO_MEM, 1, 1, 0, NOIMM, 2, HI, -1},
    {"mov [rsi],spl", 64, "40 88 26", MMIO_OP_MOV_TO_MEM, 1, 1, 4, NOIMM, 3, 0, -1},
    {"mov bh,[rax]", 64, "8a 38", MMIO_OP_MOV_FROM_MEM, 1, 1, 3, NOIMM, 2, HI, -1},
    {"mov r8d,[rip+x]", 64, "44 8b 05 78 56 34 12", MMIO_OP_MOV_FROM_MEM, 4, 4, 8, NOIMM, 7, RIP,
     -1},
    {"movzx eax,byte [rdi]", 64, "0f b6 07", MMIO_OP_MOVZX, 1, 4, 0, NOIMM, 3, 0, -1},
    {"movzx rax,word [rdi+4]", 64, "48 0f b7 47 04", MMIO_OP_MOVZX, 2, 8, 0, NOIMM, 5, 0, -1},
    {"movsx ecx,byte [rdi-1]", 64, "0f be 4f ff", MMIO_OP_MOVSX, 1, 4, 1, NOIMM, 4, 0, -1},
    {"movsx ax,word [rbx]", 64, "66 0f bf 03", MMIO_OP_MOVSX, 2, 2, 0, NOIMM, 4, 0, -1},
    {"mov eax,[rsp]", 64, "8b 04 24", MMIO_OP_MOV_FROM_MEM, 4, 4, 0, NOIMM, 3, 0, -1},
    {"mov eax,[rsp+8]", 64, "8b 44 24 08", MMIO_OP_MOV_FROM_MEM, 4, 4, 0, NOIMM, 4, 0, -1},
    {"mov eax,[abs32]", 64, "8b 04 25 00 00 e0 fe", MMIO_OP_MOV_FROM_MEM, 4, 4, 0, NOIMM, 7, 0, -1},
    {"mov eax,[rsp+0x100]", 64, "8b 84 24 00 01 00 00", MMIO_OP_MOV_FROM_MEM, 4, 4, 0, NOIMM, 7, 0,
     -1},
    {"mov eax,[rcx*4+0x1000]", 64, "8b 04 8d 00 10 00 00", MMIO_OP_MOV_FROM_MEM, 4, 4, 0, NOIMM, 7,
     0, -1},
    {"mov [rsp],r15", 64, "4c 89 3c 24", MMIO_OP_MOV_TO_MEM, 8, 8, 15, NOIMM, 4, 0, -1},
    {"mov [r8],eax", 64, "41 89 00", MMIO_OP_MOV_TO_MEM, 4, 4, 0, NOIMM, 3, 0, -1},
    {"mov eax,[r13+0]", 64, "41 8b 45 00", MMIO_OP_MOV_FROM_MEM, 4, 4, 0, NOIMM, 4, 0, -1},
    {"mov eax,[r12]", 64, "41 8b 04 24", MMIO_OP_MOV_FROM_MEM, 4, 4, 0, NOIMM, 4, 0, -1},
    {"mov r9b,[r10+r11*2]", 64, "47 8a 0c 5a", MMIO_OP_MOV_FROM_MEM, 1, 1, 9, NOIMM, 4, 0, -1},
    {"mov byte [rdi],0xff", 64, "c6 07 ff", MMIO_OP_MOV_IMM_TO_MEM, 1, 1, NOREG, 0xff, 3, 0, -1},
    {"mov word [rdi],0x1234", 64, "66 c7 07 34 12", MMIO_OP_MOV_IMM_TO_MEM, 2, 2, NOREG, 0x1234, 5,
     0, -1},
    {"mov qword [rdi],-1", 64, "48 c7 07 ff ff ff ff", MMIO_OP_MOV_IMM_TO_MEM, 8, 8, NOREG,
     0xffffffffffffffffULL, 7, 0, -1},
    {"mov dword [rdi],0x80000000", 64, "c7 07 00 00 00 80", MMIO_OP_MOV_IMM_TO_MEM, 4, 4, NOREG,
     0x80000000ULL, 6, 0, -1},
    {"mov eax,[moffs64]", 64, "a1 00 00 e0 fe 00 00 00 00", MMIO_OP_MOV_FROM_MEM, 4, 4, 0, NOIMM, 9,
     0, -1},
    {"mov [moffs64],al", 64, "a2 00 00 e0 fe 00 00 00 00", MMIO_OP_MOV_TO_MEM, 1, 1, 0, NOIMM, 9, 0,
     -1},
    {"mov rax,gs:[0x28]", 64, "65 48 8b 04 25 28 00 00 00", MMIO_OP_MOV_FROM_MEM, 8, 8, 0, NOIMM, 9,
     0, MMIO_SEG_GS},
    {"ds override ignored", 64, "3e 89 07", MMIO_OP_MOV_TO_MEM, 4, 4, 0, NOIMM, 3, 0, -1},
    {"lock or dword [rax],0x100", 64, "f0 81 08 00 01 00 00", MMIO_OP_OR, 4, 4, NOREG, 0x100, 7,
     LOCK, -1},
    {"and dword [rax],-2", 64, "83 20 fe", MMIO_OP_AND, 4, 4, NOREG, 0xfffffffe, 3, 0, -1},
    {"and qword [rax],-2", 64, "48 83 20 fe", MMIO_OP_AND, 8, 8, NOREG, 0xfffffffffffffffeULL, 4, 0,
     -1},
    {"add byte [rax],0x80", 64, "80 00 80", MMIO_OP_ADD, 1, 1, NOREG, 0x80, 3, 0, -1},
    {"sub word [rax],0x1234", 64, "66 81 28 34 12", MMIO_OP_SUB, 2, 2, NOREG, 0x1234, 5, 0, -1},
    {"xor [rax],ecx", 64, "31 08", MMIO_OP_XOR, 4, 4, 1, NOIMM, 2, 0, -1},
    {"cmp dword [rdi+8],7", 64, "83 7f 08 07", MMIO_OP_CMP, 4, 4, NOREG, 7, 4, 0, -1},
    {"test [rdi],eax", 64, "85 07", MMIO_OP_TEST, 4, 4, 0, NOIMM, 2, 0, -1},
    {"test [rdi],dh", 64, "84 37", MMIO_OP_TEST, 1, 1, 2, NOIMM, 2, HI, -1},
    {"test byte [rdi],1", 64, "f6 07 01", MMIO_OP_TEST, 1, 1, NOREG, 1, 3, 0, -1},
    {"test dword [rdi],0x100", 64, "f7 07 00 01 00 00", MMIO_OP_TEST, 4, 4, NOREG, 0x100, 6, 0, -1},
    {"or eax,[rdi]", 64, "0b 07", MMIO_OP_OR, 4, 4, 0, NOIMM, 2, RDST, -1},
    {"cmp eax,[rdi+8]", 64, "3b 47 08", MMIO_OP_CMP, 4, 4, 0, NOIMM, 3, RDST, -1},
    {"add r10,[rbx]", 64, "4c 03 13", MMIO_OP_ADD, 8, 8, 10, NOIMM, 3, RDST, -1},
    {"rep stosd", 64, "f3 ab", MMIO_OP_STOS, 4, 4, 0, NOIMM, 2, REP, -1},
    {"rep movsq", 64, "f3 48 a5", MMIO_OP_MOVS, 8, 8, NOREG, NOIMM, 3, REP, -1},
    {"movsb", 64, "a4", MMIO_OP_MOVS, 1, 1, NOREG, NOIMM, 1, 0, -1},
    {"mov [edi],ax (66 67)", 64, "66 67 89 07", MMIO_OP_MOV_TO_MEM, 2, 2, 0, NOIMM, 4, 0, -1},
    {"rex then 66: rex ignored", 64, "48 66 89 07", MMIO_OP_MOV_TO_MEM, 2, 2, 0, NOIMM, 4, 0, -1},
    {"rex then 66: ah again", 64, "40 66 88 26", MMIO_OP_MOV_TO_MEM, 1, 1, 0, NOIMM, 4, HI, -1},
    /* 32-bit mode */
    {"32: mov [edi],eax", 32, "89 07", MMIO_OP_MOV_TO_MEM, 4, 4, 0, NOIMM, 2, 0, -1},
    {"32: mov [edi],ax", 32, "66 89 07", MMIO_OP_MOV_TO_MEM, 2, 2, 0, NOIMM, 3, 0, -1},
    {"32: mov eax,[abs]", 32, "8b 05 00 00 e0 fe", MMIO_OP_MOV_FROM_MEM, 4, 4, 0, NOIMM, 6, 0, -1},
    {"32: mov eax,moffs32", 32, "a1 00 00 e0 fe", MMIO_OP_MOV_FROM_MEM, 4, 4, 0, NOIMM, 5, 0, -1},
    {"32: addr16 mov eax,[0x1000]", 32, "67 8b 06 00 10", MMIO_OP_MOV_FROM_MEM, 4, 4, 0, NOIMM, 5,
     0, -1},
    {"32: mov byte [esi],ch", 32, "88 2e", MMIO_OP_MOV_TO_MEM, 1, 1, 1, NOIMM, 2, HI, -1},
    {"32: fs mov eax,[ebx]", 32, "64 8b 03", MMIO_OP_MOV_FROM_MEM, 4, 4, 0, NOIMM, 3, 0,
     MMIO_SEG_FS},
    {"32: es override noted", 32, "26 89 07", MMIO_OP_MOV_TO_MEM, 4, 4, 0, NOIMM, 3, 0,
     MMIO_SEG_ES},
    /* 16-bit mode */
    {"16: mov [bx],ax", 16, "89 07", MMIO_OP_MOV_TO_MEM, 2, 2, 0, NOIMM, 2, 0, -1},
    {"16: mov [bx],eax", 16, "66 89 07", MMIO_OP_MOV_TO_MEM, 4, 4, 0, NOIMM, 3, 0, -1},
    {"16: mov ax,[bp+2]", 16, "8b 46 02", MMIO_OP_MOV_FROM_MEM, 2, 2, 0, NOIMM, 3, 0, -1},
    {"16: mov ax,moffs16", 16, "a1 34 12", MMIO_OP_MOV_FROM_MEM, 2, 2, 0, NOIMM, 3, 0, -1},
    {"16: mov word [0x1000],0x1234", 16, "c7 06 00 10 34 12", MMIO_OP_MOV_IMM_TO_MEM, 2, 2, NOREG,
     0x1234, 6, 0, -1},
    {"16: mov dword [0x1000],imm32", 16, "66 c7 06 00 10 78 56 34 12", MMIO_OP_MOV_IMM_TO_MEM, 4, 4,
     NOREG, 0x12345678, 9, 0, -1},
    {"16: mov [esp],eax (66 67)", 16, "66 67 89 04 24", MMIO_OP_MOV_TO_MEM, 4, 4, 0, NOIMM, 5, 0,
     -1},
    {"16: mov ax,[bx+si+0x1234]", 16, "8b 80 34 12", MMIO_OP_MOV_FROM_MEM, 2, 2, 0, NOIMM, 4, 0,
     -1},
};

struct bcase {
    const char *name;
    unsigned mode;
    const char *hex;
    unsigned max_len; /* 0: the hex length */
    int err;
};

static const struct bcase bad[] = {
    {"empty", 64, "", 0, MMIO_ERR_TRUNC},
    {"opcode only", 64, "89", 0, MMIO_ERR_TRUNC},
    {"missing sib", 64, "8b 04", 0, MMIO_ERR_TRUNC},
    {"missing disp32", 64, "8b 05 00 00 00", 0, MMIO_ERR_TRUNC},
    {"missing imm byte", 64, "c7 80 00 03 00 00 01 00 00", 0, MMIO_ERR_TRUNC},
    {"max_len shorter than buffer", 64, "8b 47 10", 2, MMIO_ERR_TRUNC},
    {"prefix only", 64, "66 f3", 0, MMIO_ERR_TRUNC},
    {"register operand", 64, "89 c0", 0, MMIO_ERR_NOTMEM},
    {"register operand movzx", 64, "0f b6 c0", 0, MMIO_ERR_NOTMEM},
    {"ud2", 64, "0f 0b", 0, MMIO_ERR_UNSUPPORTED},
    {"inc [rdi]", 64, "ff 07", 0, MMIO_ERR_UNSUPPORTED},
    {"nop", 64, "90", 0, MMIO_ERR_UNSUPPORTED},
    {"adc [rdi],eax", 64, "11 07", 0, MMIO_ERR_UNSUPPORTED},
    {"sbb via 83 /3", 64, "83 1f 01", 0, MMIO_ERR_UNSUPPORTED},
    {"not [rdi]", 64, "f7 17", 0, MMIO_ERR_UNSUPPORTED},
    {"add eax,imm (no mem)", 64, "05 01 00 00 00", 0, MMIO_ERR_UNSUPPORTED},
    {"vex", 64, "c5 f9 6e 07", 0, MMIO_ERR_UNSUPPORTED},
    {"lock mov", 64, "f0 89 07", 0, MMIO_ERR_UD},
    {"lock cmp", 64, "f0 39 07", 0, MMIO_ERR_UD},
    {"lock or reg dst", 64, "f0 0b 07", 0, MMIO_ERR_UD},
    {"c6 /1", 64, "c6 4f 00 00", 0, MMIO_ERR_UD},
    {"xabort", 64, "c6 f8 01", 0, MMIO_ERR_UNSUPPORTED},
    {"rex.w in 32-bit is dec", 32, "48 89 07", 0, MMIO_ERR_UNSUPPORTED},
    {"15 prefixes then opcode", 64, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 89 07", 16,
     MMIO_ERR_TOOLONG},
    {"16 bytes long imm form", 64, "66 66 66 66 66 66 66 66 66 c7 80 00 03 00 00 01 00", 17,
     MMIO_ERR_TOOLONG},
};

static unsigned parse_hex(const char *s, uint8_t *out)
{
    unsigned n = 0;
    while (*s) {
        if (*s == ' ') {
            s++;
            continue;
        }
        char tmp[3] = {s[0], s[1], 0};
        out[n++] = (uint8_t)strtoul(tmp, NULL, 16);
        s += 2;
    }
    return n;
}

/* Exactly-sized heap copy: ASan reports any read past max_len. */
static int decode_exact(const uint8_t *b, unsigned n, unsigned mode, struct mmio_insn *out)
{
    uint8_t *buf = malloc(n ? n : 1);
    memcpy(buf, b, n);
    int r = mmio_decode(buf, n, mode, out);
    free(buf);
    return r;
}

static void test_good_table(void **state)
{
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        const struct dcase *c = &good[i];
        uint8_t b[32];
        unsigned n = parse_hex(c->hex, b);
        struct mmio_insn in;
        print_message("%s\n", c->name);
        assert_int_equal(decode_exact(b, n, c->mode, &in), 0);
        assert_int_equal(in.op, c->op);
        assert_int_equal(in.size, c->size);
        assert_int_equal(in.dst_size, c->dst_size);
        assert_int_equal(in.reg, c->reg);
        assert_int_equal(in.len, c->len);
        assert_int_equal(in.len, n);
        assert_int_equal(in.high_byte, !!(c->flags & HI));
        assert_int_equal(in.rip_relative, !!(c->flags & RIP));
        assert_int_equal(in.reg_is_dst, !!(c->flags & RDST));
        assert_int_equal(!!(in.prefixes & MMIO_PFX_LOCK), !!(c->flags & LOCK));
        assert_int_equal(!!(in.prefixes & MMIO_PFX_REP), !!(c->flags & REP));
        assert_int_equal(in.seg, c->seg);
        if (c->imm == NOIMM) {
            assert_false(in.has_imm);
        } else {
            assert_true(in.has_imm);
            assert_int_equal(in.imm, c->imm);
        }
        /* Every proper prefix of the encoding is truncated, never misread. */
        for (unsigned k = 0; k < n; k++)
            assert_int_equal(decode_exact(b, k, c->mode, &in), MMIO_ERR_TRUNC);
        /* Trailing bytes do not change the length. */
        uint8_t longer[32];
        memcpy(longer, b, n);
        memset(longer + n, 0x90, sizeof(longer) - n);
        assert_int_equal(mmio_decode(longer, 15, c->mode, &in), 0);
        assert_int_equal(in.len, n);
    }
}

static void test_bad_table(void **state)
{
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const struct bcase *c = &bad[i];
        uint8_t b[32];
        unsigned n = parse_hex(c->hex, b);
        struct mmio_insn in;
        print_message("%s\n", c->name);
        unsigned max = c->max_len && c->max_len < n ? c->max_len : n;
        assert_int_equal(decode_exact(b, max, c->mode, &in), c->err);
        assert_non_null(mmio_strerror(c->err));
    }
    struct mmio_insn in;
    uint8_t b[2] = {0x89, 0x07};
    assert_int_equal(mmio_decode(b, 2, 48, &in), MMIO_ERR_INVAL);
    assert_int_equal(mmio_decode(NULL, 2, 64, &in), MMIO_ERR_INVAL);
    assert_int_equal(mmio_decode(b, 2, 64, NULL), MMIO_ERR_INVAL);
}

static struct mmio_insn dec(const char *hex, unsigned mode)
{
    uint8_t b[32];
    struct mmio_insn in;
    unsigned n = parse_hex(hex, b);
    assert_int_equal(decode_exact(b, n, mode, &in), 0);
    return in;
}

static void test_load_result_merge(void **state)
{
    uint64_t g[16];
    const uint64_t ones = 0xffffffffffffffffULL;
    struct mmio_insn in;

    in = dec("8b 07", 64); /* mov eax,[rdi]: zero-extends */
    for (int i = 0; i < 16; i++)
        g[i] = ones;
    mmio_load_result(&in, g, 0x12345678);
    assert_int_equal(g[0], 0x12345678);
    assert_int_equal(g[1], ones);

    in = dec("66 8b 07", 64); /* mov ax: keeps bits 63:16 */
    g[0] = ones;
    mmio_load_result(&in, g, 0xabcd5678);
    assert_int_equal(g[0], 0xffffffffffff5678ULL);

    in = dec("8a 07", 64); /* mov al */
    g[0] = ones;
    mmio_load_result(&in, g, 0x1234);
    assert_int_equal(g[0], 0xffffffffffffff34ULL);

    in = dec("8a 27", 64); /* mov ah */
    g[0] = 0x1111111111111111ULL;
    mmio_load_result(&in, g, 0xab);
    assert_int_equal(g[0], 0x111111111111ab11ULL);

    in = dec("40 8a 27", 64); /* mov spl */
    g[4] = 0x1111111111111111ULL;
    g[0] = 0;
    mmio_load_result(&in, g, 0xab);
    assert_int_equal(g[4], 0x11111111111111abULL);
    assert_int_equal(g[0], 0);

    in = dec("4c 8b 3f", 64); /* mov r15,[rdi] */
    mmio_load_result(&in, g, 0x8000000000000001ULL);
    assert_int_equal(g[15], 0x8000000000000001ULL);

    in = dec("0f b6 07", 64); /* movzx eax,byte */
    g[0] = ones;
    mmio_load_result(&in, g, 0xff80);
    assert_int_equal(g[0], 0x80);
    in = dec("66 0f b6 07", 64); /* movzx ax,byte: keeps 63:16 */
    g[0] = ones;
    mmio_load_result(&in, g, 0x80);
    assert_int_equal(g[0], 0xffffffffffff0080ULL);

    in = dec("0f be 07", 64); /* movsx eax,byte */
    g[0] = ones;
    mmio_load_result(&in, g, 0x80);
    assert_int_equal(g[0], 0xffffff80ULL);
    in = dec("48 0f bf 07", 64); /* movsx rax,word */
    g[0] = 0;
    mmio_load_result(&in, g, 0x8001);
    assert_int_equal(g[0], 0xffffffffffff8001ULL);
    mmio_load_result(&in, g, 0x7001);
    assert_int_equal(g[0], 0x7001);

    /* Stores and CMP never touch registers. */
    in = dec("89 07", 64);
    g[0] = 7;
    mmio_load_result(&in, g, 0x99);
    assert_int_equal(g[0], 7);
    in = dec("3b 07", 64);
    mmio_load_result(&in, g, 0x99);
    assert_int_equal(g[0], 7);
    in = dec("0b 07", 64); /* or eax,[rdi]: reg destination */
    mmio_load_result(&in, g, 0x99);
    assert_int_equal(g[0], 0x99);
}

static void test_store_value(void **state)
{
    uint64_t g[16] = {0};
    struct mmio_insn in;
    g[0] = 0x1122334455667788ULL;
    g[15] = 0xdeadbeefcafef00dULL;

    in = dec("89 07", 64);
    assert_int_equal(mmio_store_value(&in, g), 0x55667788);
    in = dec("48 89 07", 64);
    assert_int_equal(mmio_store_value(&in, g), 0x1122334455667788ULL);
    in = dec("66 89 07", 64);
    assert_int_equal(mmio_store_value(&in, g), 0x7788);
    in = dec("88 07", 64);
    assert_int_equal(mmio_store_value(&in, g), 0x88);
    in = dec("88 27", 64); /* ah */
    assert_int_equal(mmio_store_value(&in, g), 0x77);
    in = dec("4c 89 3f", 64);
    assert_int_equal(mmio_store_value(&in, g), 0xdeadbeefcafef00dULL);
    in = dec("c7 07 01 00 00 00", 64);
    assert_int_equal(mmio_store_value(&in, g), 1);
    in = dec("48 c7 07 00 00 00 80", 64);
    assert_int_equal(mmio_store_value(&in, g), 0xffffffff80000000ULL);
    in = dec("aa", 64); /* stosb */
    assert_int_equal(mmio_store_value(&in, g), 0x88);
    assert_true(mmio_writes_mem(&in));
    assert_false(mmio_reads_mem(&in));
    in = dec("8b 07", 64);
    assert_true(mmio_reads_mem(&in));
    assert_false(mmio_writes_mem(&in));
    in = dec("81 08 00 01 00 00", 64);
    assert_true(mmio_reads_mem(&in) && mmio_writes_mem(&in));
    in = dec("39 07", 64); /* cmp */
    assert_false(mmio_writes_mem(&in));
}

#define CF    (1ULL << 0)
#define PF    (1ULL << 2)
#define AF    (1ULL << 4)
#define ZF    (1ULL << 6)
#define SF    (1ULL << 7)
#define OF    (1ULL << 11)
#define DF    (1ULL << 10)
#define ARITH (CF | PF | AF | ZF | SF | OF)

static void test_alu(void **state)
{
    uint64_t g[16] = {0};
    uint64_t fl;
    struct mmio_insn in;

    in = dec("80 00 01", 64); /* add byte [rax],1 */
    fl = ARITH | (1u << 1) | DF;
    assert_int_equal(mmio_alu(&in, 0xff, g, &fl), 0);
    assert_int_equal(fl, CF | PF | AF | ZF | (1u << 1) | DF);
    fl = 0;
    assert_int_equal(mmio_alu(&in, 0x7f, g, &fl), 0x80);
    assert_int_equal(fl, OF | SF | AF);

    in = dec("29 07", 64); /* sub [rdi],eax */
    g[0] = 1;
    fl = 0;
    assert_int_equal(mmio_alu(&in, 0, g, &fl), 0xffffffff);
    assert_int_equal(fl, CF | SF | PF | AF);

    in = dec("2b 07", 64); /* sub eax,[rdi]: eax - mem */
    g[0] = 10;
    fl = 0;
    assert_int_equal(mmio_alu(&in, 3, g, &fl), 7);
    assert_int_equal(fl, 0);
    mmio_load_result(&in, g, 7);
    assert_int_equal(g[0], 7);

    in = dec("83 3f 05", 64); /* cmp dword [rdi],5 */
    fl = 0;
    mmio_alu(&in, 5, g, &fl);
    assert_int_equal(fl, ZF | PF);
    fl = 0;
    mmio_alu(&in, 0x80000004, g, &fl); /* positive result overflow from negative */
    assert_int_equal(fl & (OF | SF | CF), OF);

    in = dec("81 20 f0 00 00 00", 64); /* and dword [rax],0xf0 */
    fl = CF | OF;
    assert_int_equal(mmio_alu(&in, 0x12345678, g, &fl), 0x70);
    assert_int_equal(fl, 0);

    in = dec("48 83 08 ff", 64); /* or qword [rax],-1 */
    fl = 0;
    assert_int_equal(mmio_alu(&in, 0, g, &fl), 0xffffffffffffffffULL);
    assert_int_equal(fl, SF | PF);

    in = dec("f6 07 01", 64); /* test byte [rdi],1 */
    fl = 0;
    mmio_alu(&in, 0xfe, g, &fl);
    assert_int_equal(fl, ZF | PF);

    in = dec("66 31 07", 64); /* xor [rdi],ax */
    g[0] = 0xffff0001;
    fl = 0;
    assert_int_equal(mmio_alu(&in, 0x1234, g, &fl), 0x1235);
    assert_int_equal(fl, PF);
}

static void test_string_step(void **state)
{
    uint64_t g[16] = {0};
    struct mmio_insn in = dec("f3 ab", 64); /* rep stosd */
    g[MMIO_RDI] = 0x1000;
    g[MMIO_RCX] = 2;
    assert_false(mmio_string_step(&in, g, 0));
    assert_int_equal(g[MMIO_RDI], 0x1004);
    assert_int_equal(g[MMIO_RCX], 1);
    assert_true(mmio_string_step(&in, g, 0));
    assert_int_equal(g[MMIO_RDI], 0x1008);
    assert_int_equal(g[MMIO_RCX], 0);
    assert_true(mmio_string_step(&in, g, 0)); /* count 0: nothing to do */
    assert_int_equal(g[MMIO_RDI], 0x1008);

    in = dec("48 a5", 64); /* movsq, DF=1 */
    g[MMIO_RSI] = 0x2000;
    assert_true(mmio_string_step(&in, g, DF));
    assert_int_equal(g[MMIO_RDI], 0x1000);
    assert_int_equal(g[MMIO_RSI], 0x1ff8);

    in = dec("67 aa", 64); /* stosb, 32-bit address: EDI wraps, zero-extends */
    g[MMIO_RDI] = 0xabcdef00ffffffffULL;
    assert_true(mmio_string_step(&in, g, 0));
    assert_int_equal(g[MMIO_RDI], 0);

    in = dec("f3 a5", 16); /* rep movsw, 16-bit address: upper bits kept */
    g[MMIO_RDI] = 0x1234fffe;
    g[MMIO_RSI] = 0x5678fffe;
    g[MMIO_RCX] = 0x99990001;
    assert_true(mmio_string_step(&in, g, 0));
    assert_int_equal(g[MMIO_RDI], 0x12340000);
    assert_int_equal(g[MMIO_RSI], 0x56780000);
    assert_int_equal(g[MMIO_RCX], 0x99990000);
}

static void test_code_mode(void **state)
{
    const uint32_t L = 1U << 13, D = 1U << 14;
    assert_int_equal(mmio_code_mode(L, true), 64);
    /* CS.L outside IA-32e mode is ignored: CS.D decides. */
    assert_int_equal(mmio_code_mode(L, false), 16);
    assert_int_equal(mmio_code_mode(L | D, false), 32);
    /* Compatibility mode: IA-32e with CS.L clear. */
    assert_int_equal(mmio_code_mode(D, true), 32);
    assert_int_equal(mmio_code_mode(0, true), 16);
    assert_int_equal(mmio_code_mode(0x9b | D, false), 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_table),
        cmocka_unit_test(test_bad_table),
        cmocka_unit_test(test_load_result_merge),
        cmocka_unit_test(test_store_value),
        cmocka_unit_test(test_alu),
        cmocka_unit_test(test_string_step),
        cmocka_unit_test(test_code_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
